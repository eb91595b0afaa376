-- The share vault (PostgreSQL): the same table as the SQLite one. sealed = nonce (12) ‖
-- AES-256-GCM ciphertext; the AAD binds wallet id, key version and identifier; key_id names
-- the vault key that sealed it (never the key itself). rowid stands in for SQLite's implicit
-- one, so both run the same queries.
CREATE TABLE shares (
    rowid        BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    wallet_id    TEXT NOT NULL,
    key_version  BIGINT NOT NULL,
    wallet_type  TEXT NOT NULL,
    pregen_kind  TEXT NOT NULL,
    pregen_value TEXT NOT NULL,
    address      TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    sealed       BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (wallet_id, key_version)
);
