-- Issue 7: people. Accounts, the identifiers they verified, sessions, one-time codes, the
-- outbox the default notifier writes to, and what a claim changes on a wallet.

-- A person, made at their first verified login. Accounts live in one environment: a BETA
-- login never meets a PROD wallet.
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Identifiers a person proved they own. One owner per identifier and environment. Custom ids
-- are the vouching app's own namespace (app_id set); every other kind is global (app_id '').
CREATE TABLE user_identifiers (
    environment TEXT NOT NULL,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    app_id      TEXT NOT NULL DEFAULT '',
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    verified_at INTEGER NOT NULL,
    PRIMARY KEY (environment, kind, value, app_id)
);
CREATE INDEX user_identifiers_by_user ON user_identifiers (user_id);

-- Sessions: only SHA-256 of the bearer token is kept, so a database reader cannot act as anyone.
CREATE TABLE auth_sessions (
    token_hash  BLOB PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    app_id      TEXT NOT NULL REFERENCES apps(id),
    environment TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

-- One-time codes. The code is kept as an HMAC under a key derived from the master key (a
-- database reader cannot try the million codes offline). A new code for an identifier
-- replaces the open one (consumed_at set).
CREATE TABLE otp_challenges (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(id),
    environment TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('email', 'phone')),
    value       TEXT NOT NULL,
    code_mac    BLOB NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    client_ip   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER
);
CREATE INDEX otp_by_identifier ON otp_challenges (environment, kind, value, created_at);
CREATE INDEX otp_by_ip ON otp_challenges (client_ip, created_at);

-- What the default notifier "sends": the message as it would go out. Holds one-time codes in
-- clear by design (a developer reads them locally); production deployments configure SMTP
-- and an SMS webhook instead, and then nothing is written here.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    channel     TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    body        TEXT NOT NULL
);

-- A claim in progress holds the wallet until then (one claim at a time); a claimed wallet has
-- an owner and the Argon2id hash of the recovery secret the claim gave them.
ALTER TABLE wallets ADD COLUMN claiming_until INTEGER;
ALTER TABLE wallets ADD COLUMN owner_user_id TEXT REFERENCES users(id);
ALTER TABLE wallets ADD COLUMN recovery_hash TEXT;

-- Which person a ceremony acts for (NULL: the app, by its API key).
ALTER TABLE ceremonies ADD COLUMN user_id TEXT;
