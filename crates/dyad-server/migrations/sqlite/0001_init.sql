-- Dyad schema v1 (SQLite). Times are unix seconds.
CREATE TABLE apps (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    environment TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- API keys are stored as key id + SHA-256 of the secret part; the full key is shown once.
CREATE TABLE api_keys (
    key_id      TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    secret_hash BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Data keys, wrapped by the master key (which never enters the database).
CREATE TABLE data_keys (
    id         INTEGER PRIMARY KEY,
    wrapped    BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE wallets (
    id           TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL REFERENCES apps(id),
    environment  TEXT NOT NULL,
    wallet_type  TEXT NOT NULL,
    scheme       TEXT NOT NULL,
    public_key   BLOB,
    address      TEXT,
    pregen_kind  TEXT NOT NULL,
    pregen_value TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'pregen', 'claimed')),
    key_version  INTEGER NOT NULL,
    -- Set when the peer was caught cheating in a DKLs signature (BanCounterparty): this share
    -- pair must never sign again; only a refresh can make the wallet usable.
    locked_at    INTEGER,
    -- When the key generation's WebSocket connected (pending wallets only): a pending wallet
    -- whose ceremony never started is abandoned once its ticket expires.
    started_at   INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX wallets_by_pregen_id
    ON wallets (app_id, environment, wallet_type, pregen_kind, pregen_value);

-- Cloud shares, sealed (AES-256-GCM, AAD = wallet id and key version).
CREATE TABLE cloud_shares (
    wallet_id   TEXT NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
    key_version INTEGER NOT NULL,
    data_key_id INTEGER NOT NULL REFERENCES data_keys(id),
    sealed      BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (wallet_id, key_version)
);

-- Started ceremonies. Only the SHA-256 of the ceremony id is kept, so a database reader cannot
-- run one. consumed_at makes each id single-use.
CREATE TABLE ceremonies (
    id_hash     BLOB PRIMARY KEY,
    app_id      TEXT NOT NULL,
    environment TEXT NOT NULL,
    wallet_id   TEXT NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    payload     BLOB NOT NULL,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER
);

-- Append-only audit log.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    app_id      TEXT NOT NULL,
    environment TEXT NOT NULL,
    wallet_id   TEXT,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_by_app ON audit_log (app_id, environment, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
