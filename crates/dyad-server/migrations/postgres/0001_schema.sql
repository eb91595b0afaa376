-- Dyad schema (PostgreSQL): the same tables, columns and constraints as the SQLite migrations
-- 0001 to 0007 together, so both stores run the same SQL. Times are unix seconds (BIGINT);
-- flags are 0/1 integers, as in SQLite; byte strings are BYTEA. Tables that queries order by
-- insertion have a `rowid` column, standing in for SQLite's implicit one.
-- Later schema changes come as new files, numbered after this one, beside their SQLite twin.

CREATE TABLE apps (
    rowid             BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    environment       TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    -- sign-raw signs an arbitrary 32-byte digest: off unless an operator turns it on.
    allow_raw_signing BIGINT NOT NULL DEFAULT 0
);

-- API keys are stored as key id + SHA-256 of the secret part; the full key is shown once.
CREATE TABLE api_keys (
    rowid       BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    key_id      TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    secret_hash BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- Data keys, wrapped by a subkey of the master key (which never enters the database).
CREATE TABLE data_keys (
    id           BIGINT PRIMARY KEY,
    wrapped      BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    wrapped_with TEXT NOT NULL DEFAULT 'master-key'
);

-- People, made at their first verified login; one environment each.
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Identifiers a person proved they own. Custom ids are the vouching app's namespace (app_id
-- set); every other kind is global (app_id '').
CREATE TABLE user_identifiers (
    rowid       BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    environment TEXT NOT NULL,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    app_id      TEXT NOT NULL DEFAULT '',
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    verified_at BIGINT NOT NULL,
    PRIMARY KEY (environment, kind, value, app_id)
);
CREATE INDEX user_identifiers_by_user ON user_identifiers (user_id);

CREATE TABLE wallets (
    rowid          BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id             TEXT PRIMARY KEY,
    app_id         TEXT NOT NULL REFERENCES apps(id),
    environment    TEXT NOT NULL,
    wallet_type    TEXT NOT NULL,
    scheme         TEXT NOT NULL,
    public_key     BYTEA,
    address        TEXT,
    pregen_kind    TEXT NOT NULL,
    pregen_value   TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'pregen', 'claimed')),
    key_version    BIGINT NOT NULL,
    -- The peer was caught cheating: this share pair must never sign again.
    locked_at      BIGINT,
    -- When the key generation's WebSocket connected (pending wallets only).
    started_at     BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    -- At most one ceremony per share pair at a time, across every replica.
    lease_token    BYTEA,
    lease_until    BIGINT,
    -- A claim in progress holds the wallet until then; a claimed wallet has an owner and the
    -- Argon2id hash of its recovery secret.
    claiming_until BIGINT,
    owner_user_id  TEXT REFERENCES users(id),
    recovery_hash  TEXT
);
CREATE UNIQUE INDEX wallets_by_pregen_id
    ON wallets (app_id, environment, wallet_type, pregen_kind, pregen_value);
CREATE INDEX wallets_by_app_created ON wallets (app_id, environment, created_at, rowid);
CREATE INDEX wallets_by_owner ON wallets (owner_user_id) WHERE owner_user_id IS NOT NULL;

-- Cloud shares, sealed (AES-256-GCM, AAD = wallet id and key version).
CREATE TABLE cloud_shares (
    wallet_id   TEXT NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
    key_version BIGINT NOT NULL,
    data_key_id BIGINT NOT NULL REFERENCES data_keys(id),
    sealed      BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (wallet_id, key_version)
);

-- Started ceremonies: only the SHA-256 of the id is kept; consumed_at makes each single-use.
CREATE TABLE ceremonies (
    id_hash     BYTEA PRIMARY KEY,
    app_id      TEXT NOT NULL,
    environment TEXT NOT NULL,
    wallet_id   TEXT NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    payload     BYTEA NOT NULL,
    expires_at  BIGINT NOT NULL,
    consumed_at BIGINT,
    -- Which person a ceremony acts for (NULL: the app, by its API key).
    user_id     TEXT
);

-- Append-only audit log.
CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    app_id      TEXT NOT NULL,
    environment TEXT NOT NULL,
    wallet_id   TEXT,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_by_app ON audit_log (app_id, environment, id);

CREATE FUNCTION dyad_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION dyad_audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION dyad_audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION dyad_audit_log_append_only();

-- Sessions: only SHA-256 of the bearer token is kept.
CREATE TABLE auth_sessions (
    token_hash  BYTEA PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    app_id      TEXT NOT NULL REFERENCES apps(id),
    environment TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- One-time codes, kept as an HMAC under a key derived from the master key.
CREATE TABLE otp_challenges (
    rowid       BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(id),
    environment TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('email', 'phone')),
    value       TEXT NOT NULL,
    code_mac    BYTEA NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    client_ip   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    consumed_at BIGINT
);
CREATE INDEX otp_by_identifier ON otp_challenges (environment, kind, value, created_at);
CREATE INDEX otp_by_ip ON otp_challenges (client_ip, created_at);

-- What the default notifier "sends" (codes in clear by design; production configures SMTP and
-- an SMS webhook, and then nothing is written here).
CREATE TABLE outbox (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        BIGINT NOT NULL,
    channel   TEXT NOT NULL,
    recipient TEXT NOT NULL,
    body      TEXT NOT NULL
);

-- A person lets another app use their wallets (JSON arrays of wallets, types, operations).
CREATE TABLE grants (
    rowid        BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    app_id       TEXT NOT NULL REFERENCES apps(id),
    environment  TEXT NOT NULL,
    wallets      TEXT NOT NULL,
    wallet_types TEXT NOT NULL,
    operations   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX grants_by_user_app ON grants (user_id, app_id);

-- Login proofs waiting for their second half (OAuth states, Farcaster nonces).
CREATE TABLE oauth_states (
    state_hash   BYTEA PRIMARY KEY,
    app_id       TEXT NOT NULL REFERENCES apps(id),
    environment  TEXT NOT NULL,
    provider     TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    consumed_at  BIGINT
);

CREATE TABLE login_nonces (
    nonce       TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(id),
    environment TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    consumed_at BIGINT
);
