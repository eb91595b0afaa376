-- Shares that must not sign again: the SDK caught the server cheating in a ceremony of this
-- wallet and key version (SERVER_MISBEHAVED). Kept apart from the sealed records, so rekeying
-- and exporting them is unchanged; a refresh (a new key version) is not retired.
CREATE TABLE retired (
    wallet_id   TEXT NOT NULL,
    key_version BIGINT NOT NULL,
    retired_at  BIGINT NOT NULL,
    PRIMARY KEY (wallet_id, key_version)
);
