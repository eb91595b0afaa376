-- At most one ceremony per share pair at a time, across every process sharing this database.
-- DKLs signing reuses the OT correlation of key generation, and a peer caught cheating must be
-- banned (locked_at) before the next session with it starts; so a ceremony holds this lease from
-- before its first protocol message until its outcome (a signature, a failure, a lock) is
-- written. lease_until lets the lease of a process that died expire on its own.
ALTER TABLE wallets ADD COLUMN lease_token BLOB;
ALTER TABLE wallets ADD COLUMN lease_until INTEGER;
