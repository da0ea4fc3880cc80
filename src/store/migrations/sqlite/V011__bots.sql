-- Bots (docs/bots.md): users the app marks as bots when it mints their token. Clients show them
-- as such; a webhook endpoint can act for one (webhook_endpoints.user_id).
ALTER TABLE users ADD COLUMN bot INTEGER NOT NULL DEFAULT 0;
