-- Presence: when a user's last connection closed.
ALTER TABLE users ADD COLUMN last_seen_at INTEGER;
