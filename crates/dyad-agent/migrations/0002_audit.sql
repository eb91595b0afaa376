-- What the agent did that an operator must be able to look back on: every user share it handed
-- over (never the share itself).
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    action     TEXT NOT NULL,
    wallet_id  TEXT NOT NULL,
    key_version INTEGER NOT NULL
);
