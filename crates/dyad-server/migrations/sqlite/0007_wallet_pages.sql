-- Issue 11: listing an app's wallets page by page (`GET /v1/wallets?cursor=…&limit=…`) walks this
-- index, so a page costs the same at 100 000 wallets as at 100.
-- (SQLite ends every index with the rowid, which orders wallets created in the same second.)
CREATE INDEX wallets_by_app_created ON wallets (app_id, environment, created_at);
