-- Issue 7: a person lets another app use their wallets. A grant belongs to one account and one
-- app (in the account's environment); it names wallets or wallet types and the operations
-- allowed (JSON arrays). Revoked grants stay, for the record.
CREATE TABLE grants (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    app_id       TEXT NOT NULL REFERENCES apps(id),
    environment  TEXT NOT NULL,
    wallets      TEXT NOT NULL,
    wallet_types TEXT NOT NULL,
    operations   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX grants_by_user_app ON grants (user_id, app_id);
