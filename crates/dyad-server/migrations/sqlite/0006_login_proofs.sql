-- Login proofs waiting for their second half: OAuth 2.0 logins between their start and the
-- provider's redirect, and Sign In With Farcaster nonces between their issue and the signed
-- message. Both single use (consumed_at set once, by one UPDATE) and short-lived (expires_at);
-- the reaper deletes used and expired rows. Another app's row is never used.

-- Only SHA-256 of the state is kept: the state travels in the person's redirect, and the PKCE
-- verifier is derived from it with a key of the master key, so no row here redeems a code.
CREATE TABLE oauth_states (
    state_hash   BLOB PRIMARY KEY,
    app_id       TEXT NOT NULL REFERENCES apps(id),
    environment  TEXT NOT NULL,
    provider     TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    consumed_at  INTEGER
);

-- Nonces are not secret (they are in the signed message); the row proves this server issued
-- one, for which app, and that it has not been used.
CREATE TABLE login_nonces (
    nonce       TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(id),
    environment TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER
);
