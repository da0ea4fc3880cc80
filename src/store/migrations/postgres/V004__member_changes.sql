-- Sync: a membership's own changes (role, mute, star, hide) get an app change version, so that
-- "changes since a cursor" lists the channel as updated.
ALTER TABLE members ADD COLUMN changed_version BIGINT NOT NULL DEFAULT 0;
