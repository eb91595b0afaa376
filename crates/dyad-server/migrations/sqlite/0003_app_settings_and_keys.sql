-- Issue 6: per-app settings, revocable API keys, and how each data key is wrapped.
-- Independent of the other migrations of that issue: it only adds columns.

-- sign-raw signs an arbitrary 32-byte digest (anything's hash): off unless an operator turns it
-- on for the app (`dyad app update --allow-raw-signing true`).
ALTER TABLE apps ADD COLUMN allow_raw_signing INTEGER NOT NULL DEFAULT 0;

-- A revoked key is refused at once (keys are looked up on every request, never cached).
ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;

-- What a data key is wrapped with. Rows that exist before this migration were wrapped by the
-- master key itself ('master-key'); new ones by a subkey derived from it with HKDF-SHA256
-- (seal::WRAPPING). The server refuses the old form with a clear error instead of guessing.
ALTER TABLE data_keys ADD COLUMN wrapped_with TEXT NOT NULL DEFAULT 'master-key';
