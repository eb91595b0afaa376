-- The agent's answers to POSTs sent with an Idempotency-Key, kept 24 hours: a repeat of the
-- same request gets the first answer without running again.
-- fingerprint = sha256(method, path, body) of the first request; state 'running' until its
-- answer is stored (a record still running when the agent starts is from a killed process and
-- is dropped then).
CREATE TABLE idempotency (
    key         TEXT PRIMARY KEY,
    fingerprint BLOB NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('running', 'done')),
    status      INTEGER,
    body        BLOB,
    created_at  INTEGER NOT NULL
);
-- Expired answers are purged at every new key: by this index, not a scan.
CREATE INDEX idempotency_by_age ON idempotency (created_at);
