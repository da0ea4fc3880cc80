-- Bots (docs/bots.md): an endpoint may act for a bot user of its app, and then gets only the
-- events of the channels that bot is a member of (and the bot's own user events).
ALTER TABLE webhook_endpoints ADD COLUMN bot_user_id TEXT;
