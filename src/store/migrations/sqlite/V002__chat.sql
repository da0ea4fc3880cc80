-- Chat: channels, members, messages with per-channel sequence numbers, reactions, sparse
-- per-user message flags, pins, blocks, and the change log that sync reads.

-- An app-wide counter stamped on every channel-list change (sync cursors compare against it).
ALTER TABLE apps ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE channels (
  app_id           TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  id               TEXT NOT NULL,
  type             TEXT NOT NULL CHECK (type IN ('dm', 'group', 'public')),
  name             TEXT NOT NULL DEFAULT '',
  name_lower       TEXT NOT NULL DEFAULT '',
  topic            TEXT NOT NULL DEFAULT '',
  image_url        TEXT NOT NULL DEFAULT '',
  custom           TEXT NOT NULL DEFAULT '{}',
  dm_key           TEXT,             -- the two user ids, sorted, for DMs
  created_by       TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  archived_at      INTEGER,
  deleted_at       INTEGER,
  last_seq         INTEGER NOT NULL DEFAULT 0,   -- the seq of the newest message
  last_message_at  INTEGER,
  activity_at      INTEGER NOT NULL,             -- last message, or creation
  member_count     INTEGER NOT NULL DEFAULT 0,
  deleted_count    INTEGER NOT NULL DEFAULT 0,   -- deleted messages (lets unread skip a lookup)
  version          INTEGER NOT NULL DEFAULT 0,   -- apps.change_seq at the last change
  PRIMARY KEY (app_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX channels_dm ON channels(app_id, dm_key) WHERE dm_key IS NOT NULL;
CREATE INDEX channels_public ON channels(app_id, name_lower, id) WHERE type = 'public' AND deleted_at IS NULL;

CREATE TABLE members (
  app_id             TEXT NOT NULL,
  channel_id         TEXT NOT NULL,
  user_id            TEXT NOT NULL,
  role               TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'moderator', 'member')),
  joined_at          INTEGER NOT NULL,
  last_read_seq      INTEGER NOT NULL DEFAULT 0,
  last_mention_seq   INTEGER NOT NULL DEFAULT 0,  -- newest seq that mentions this member
  muted              INTEGER NOT NULL DEFAULT 0,
  starred            INTEGER NOT NULL DEFAULT 0,
  hidden             INTEGER NOT NULL DEFAULT 0,
  version            INTEGER NOT NULL DEFAULT 0,  -- apps.change_seq when the member joined
  PRIMARY KEY (app_id, channel_id, user_id),
  FOREIGN KEY (app_id, channel_id) REFERENCES channels(app_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX members_by_user ON members(app_id, user_id, channel_id);

-- Channels a user left or was removed from (or that were deleted), for sync.
CREATE TABLE departures (
  app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL,
  version     INTEGER NOT NULL,
  channel_id  TEXT NOT NULL,
  PRIMARY KEY (app_id, user_id, version, channel_id)
) WITHOUT ROWID;

CREATE TABLE messages (
  app_id               TEXT NOT NULL,
  channel_id           TEXT NOT NULL,
  seq                  INTEGER NOT NULL,
  user_id              TEXT NOT NULL,
  text                 TEXT NOT NULL DEFAULT '',
  attachments          TEXT NOT NULL DEFAULT '[]',
  mentions             TEXT NOT NULL DEFAULT '[]',
  parent_seq           INTEGER,
  client_msg_id        TEXT,
  created_at           INTEGER NOT NULL,
  edited_at            INTEGER,
  deleted_at           INTEGER,
  reply_count          INTEGER NOT NULL DEFAULT 0,
  last_reply_at        INTEGER,
  thread_participants  TEXT NOT NULL DEFAULT '[]',
  reactions            TEXT NOT NULL DEFAULT '{}',
  pinned_at            INTEGER,
  PRIMARY KEY (app_id, channel_id, seq),
  FOREIGN KEY (app_id, channel_id) REFERENCES channels(app_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_client_id ON messages(app_id, channel_id, user_id, client_msg_id)
  WHERE client_msg_id IS NOT NULL;
CREATE INDEX messages_replies ON messages(app_id, channel_id, parent_seq, seq) WHERE parent_seq IS NOT NULL;
CREATE INDEX messages_deleted ON messages(app_id, channel_id, seq) WHERE deleted_at IS NOT NULL;
CREATE INDEX messages_pinned ON messages(app_id, channel_id, pinned_at) WHERE pinned_at IS NOT NULL;

CREATE TABLE reactions (
  app_id      TEXT NOT NULL,
  channel_id  TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  user_id     TEXT NOT NULL,
  type        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (app_id, channel_id, seq, user_id, type),
  FOREIGN KEY (app_id, channel_id) REFERENCES channels(app_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX reactions_by_user ON reactions(app_id, channel_id, user_id, seq);

-- Sparse per-user flags (Zulip-style): a row exists only where a flag is set.
-- Bits: 1 = mentioned, 2 = saved (starred).
CREATE TABLE message_flags (
  app_id      TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  channel_id  TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  flags       INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (app_id, user_id, channel_id, seq),
  FOREIGN KEY (app_id, channel_id) REFERENCES channels(app_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX message_flags_recent ON message_flags(app_id, user_id, created_at);

CREATE TABLE blocks (
  app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  blocker     TEXT NOT NULL,
  blocked     TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (app_id, blocker, blocked)
) WITHOUT ROWID;
