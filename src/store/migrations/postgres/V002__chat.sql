-- Chat: channels, members, messages with per-channel sequence numbers, reactions, sparse
-- per-user message flags, pins, blocks, and the change log that sync reads.

-- An app-wide counter stamped on every channel-list change (sync cursors compare against it).
ALTER TABLE apps ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE channels (
  app_id           TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  id               TEXT COLLATE "C" NOT NULL,
  type             TEXT COLLATE "C" NOT NULL CHECK (type IN ('dm', 'group', 'public')),
  name             TEXT NOT NULL DEFAULT '',
  name_lower       TEXT COLLATE "C" NOT NULL DEFAULT '',
  topic            TEXT NOT NULL DEFAULT '',
  image_url        TEXT NOT NULL DEFAULT '',
  custom           TEXT NOT NULL DEFAULT '{}',
  dm_key           TEXT COLLATE "C",             -- the two user ids, sorted, for DMs
  created_by       TEXT COLLATE "C" NOT NULL,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  archived_at      BIGINT,
  deleted_at       BIGINT,
  last_seq         BIGINT NOT NULL DEFAULT 0,   -- the seq of the newest message
  last_message_at  BIGINT,
  activity_at      BIGINT NOT NULL,             -- last message, or creation
  member_count     BIGINT NOT NULL DEFAULT 0,
  deleted_count    BIGINT NOT NULL DEFAULT 0,   -- deleted messages (lets unread skip a lookup)
  version          BIGINT NOT NULL DEFAULT 0,   -- apps.change_seq at the last change
  PRIMARY KEY (app_id, id)
);
CREATE UNIQUE INDEX channels_dm ON channels(app_id, dm_key) WHERE dm_key IS NOT NULL;
CREATE INDEX channels_public ON channels(app_id, name_lower, id) WHERE type = 'public' AND deleted_at IS NULL;

CREATE TABLE members (
  app_id             TEXT COLLATE "C" NOT NULL,
  channel_id         TEXT COLLATE "C" NOT NULL,
  user_id            TEXT COLLATE "C" NOT NULL,
  role               TEXT COLLATE "C" NOT NULL CHECK (role IN ('owner', 'admin', 'moderator', 'member')),
  joined_at          BIGINT NOT NULL,
  last_read_seq      BIGINT NOT NULL DEFAULT 0,
  last_mention_seq   BIGINT NOT NULL DEFAULT 0,  -- newest seq that mentions this member
  muted              BOOLEAN NOT NULL DEFAULT false,
  starred            BOOLEAN NOT NULL DEFAULT false,
  hidden             BOOLEAN NOT NULL DEFAULT false,
  version            BIGINT NOT NULL DEFAULT 0,  -- apps.change_seq when the member joined
  PRIMARY KEY (app_id, channel_id, user_id),
  FOREIGN KEY (app_id, channel_id) REFERENCES channels(app_id, id) ON DELETE CASCADE
);
-- A user's channels (channel list, unread totals, sync).
CREATE INDEX members_by_user ON members(app_id, user_id, channel_id);

-- Channels a user left or was removed from (or that were deleted), for sync.
CREATE TABLE departures (
  app_id      TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  user_id     TEXT COLLATE "C" NOT NULL,
  version     BIGINT NOT NULL,
  channel_id  TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (app_id, user_id, version, channel_id)
);

CREATE TABLE messages (
  app_id               TEXT COLLATE "C" NOT NULL,
  channel_id           TEXT COLLATE "C" NOT NULL,
  seq                  BIGINT NOT NULL,
  user_id              TEXT COLLATE "C" NOT NULL,
  text                 TEXT NOT NULL DEFAULT '',
  attachments          TEXT NOT NULL DEFAULT '[]',
  mentions             TEXT NOT NULL DEFAULT '[]',
  parent_seq           BIGINT,
  client_msg_id        TEXT COLLATE "C",
  created_at           BIGINT NOT NULL,
  edited_at            BIGINT,
  deleted_at           BIGINT,
  reply_count          BIGINT NOT NULL DEFAULT 0,
  last_reply_at        BIGINT,
  thread_participants  TEXT NOT NULL DEFAULT '[]',
  reactions            TEXT NOT NULL DEFAULT '{}',
  pinned_at            BIGINT,
  PRIMARY KEY (app_id, channel_id, seq),        -- history pages
  FOREIGN KEY (app_id, channel_id) REFERENCES channels(app_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX messages_client_id ON messages(app_id, channel_id, user_id, client_msg_id)
  WHERE client_msg_id IS NOT NULL;
CREATE INDEX messages_replies ON messages(app_id, channel_id, parent_seq, seq) WHERE parent_seq IS NOT NULL;
-- Unread counts subtract deleted messages after the read seq.
CREATE INDEX messages_deleted ON messages(app_id, channel_id, seq) WHERE deleted_at IS NOT NULL;
CREATE INDEX messages_pinned ON messages(app_id, channel_id, pinned_at) WHERE pinned_at IS NOT NULL;

CREATE TABLE reactions (
  app_id      TEXT COLLATE "C" NOT NULL,
  channel_id  TEXT COLLATE "C" NOT NULL,
  seq         BIGINT NOT NULL,
  user_id     TEXT COLLATE "C" NOT NULL,
  type        TEXT COLLATE "C" NOT NULL,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (app_id, channel_id, seq, user_id, type),
  FOREIGN KEY (app_id, channel_id) REFERENCES channels(app_id, id) ON DELETE CASCADE
);
CREATE INDEX reactions_by_user ON reactions(app_id, channel_id, user_id, seq);

-- Sparse per-user flags (Zulip-style): a row exists only where a flag is set.
-- Bits: 1 = mentioned, 2 = saved (starred).
CREATE TABLE message_flags (
  app_id      TEXT COLLATE "C" NOT NULL,
  user_id     TEXT COLLATE "C" NOT NULL,
  channel_id  TEXT COLLATE "C" NOT NULL,
  seq         BIGINT NOT NULL,
  flags       INTEGER NOT NULL,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (app_id, user_id, channel_id, seq),  -- unread mentions of a member
  FOREIGN KEY (app_id, channel_id) REFERENCES channels(app_id, id) ON DELETE CASCADE
);
CREATE INDEX message_flags_recent ON message_flags(app_id, user_id, created_at);
-- A message's flags (purging a message; deleting a channel cascades through it).
CREATE INDEX message_flags_by_message ON message_flags(app_id, channel_id, seq);

CREATE TABLE blocks (
  app_id      TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  blocker     TEXT COLLATE "C" NOT NULL,
  blocked     TEXT COLLATE "C" NOT NULL,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (app_id, blocker, blocked)
);
