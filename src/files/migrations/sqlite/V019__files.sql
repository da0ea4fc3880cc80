-- Files (docs/files.md): one row per uploaded file; the bytes are in the file storage under
-- <app_id>/<id> (and <app_id>/<id>.<variant> for thumbnails).
CREATE TABLE files (
  app_id        TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  id            TEXT NOT NULL,
  purpose       TEXT NOT NULL,             -- attachment, avatar, channel_image
  uploader_id   TEXT NOT NULL,
  name          TEXT NOT NULL,
  content_type  TEXT NOT NULL DEFAULT '',  -- sniffed from the bytes; '' while pending
  declared_type TEXT NOT NULL DEFAULT '',  -- what the client said (kept for the presigned PUT)
  size          INTEGER NOT NULL,
  sha256        TEXT NOT NULL DEFAULT '',
  state         TEXT NOT NULL,             -- pending, ready
  stored_bytes  INTEGER NOT NULL DEFAULT 0, -- the original and its thumbnails (quota)
  image         TEXT,                      -- {"width","height","blurhash"} or NULL
  variants      TEXT NOT NULL DEFAULT '[]',
  channel_id    TEXT,                      -- the channel of the message that references it
  message_seq   INTEGER,
  created_at    INTEGER NOT NULL,
  attached_at   INTEGER,
  PRIMARY KEY (app_id, id)
) WITHOUT ROWID;
CREATE INDEX files_by_message ON files(app_id, channel_id, message_seq);
CREATE INDEX files_unattached ON files(created_at) WHERE attached_at IS NULL;
