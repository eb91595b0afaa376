-- The share vault (SQLite): one sealed user share per wallet and key version.
-- sealed = nonce (12) ‖ AES-256-GCM ciphertext; the AAD binds wallet id, key version and
-- identifier, so a row moved to another wallet, version or person does not open.
-- key_id names the vault key that sealed it (never the key itself).
CREATE TABLE shares (
    wallet_id    TEXT NOT NULL,
    key_version  INTEGER NOT NULL,
    wallet_type  TEXT NOT NULL,
    pregen_kind  TEXT NOT NULL,
    pregen_value TEXT NOT NULL,
    address      TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    sealed       BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (wallet_id, key_version)
);
