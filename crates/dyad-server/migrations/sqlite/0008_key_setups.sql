-- Issue 9, part 2: the warm setup pool. Each row is the cloud's half of one DKLs multiplication
-- setup made ahead of time with one app, for one future key: sealed like a cloud share
-- (AES-256-GCM, AAD = setup id, app and environment). A create request that names it reserves it
-- (`taken_by`, in the transaction that stores the pending wallet); the key generation deletes it
-- as it begins, so one setup serves at most one key. A reserved setup goes with its pending
-- wallet; an unreserved one is reaped after its time to live.
CREATE TABLE key_setups (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL,
    environment TEXT NOT NULL,
    data_key_id INTEGER NOT NULL REFERENCES data_keys(id),
    sealed      BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    taken_by    TEXT UNIQUE REFERENCES wallets(id) ON DELETE CASCADE
);
CREATE INDEX key_setups_by_age ON key_setups (created_at);
