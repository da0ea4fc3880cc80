-- Files (docs/files.md): one row per uploaded file; the bytes are in the file storage under
-- <app_id>/<id> (and <app_id>/<id>.<variant> for thumbnails).
CREATE TABLE files (
  app_id        TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  id            TEXT NOT NULL,
  purpose       TEXT NOT NULL,
  uploader_id   TEXT NOT NULL,
  name          TEXT NOT NULL,
  content_type  TEXT NOT NULL DEFAULT '',
  declared_type TEXT NOT NULL DEFAULT '',
  size          BIGINT NOT NULL,
  sha256        TEXT NOT NULL DEFAULT '',
  state         TEXT NOT NULL,
  stored_bytes  BIGINT NOT NULL DEFAULT 0,
  image         TEXT,
  variants      TEXT NOT NULL DEFAULT '[]',
  channel_id    TEXT,
  message_seq   BIGINT,
  created_at    BIGINT NOT NULL,
  attached_at   BIGINT,
  PRIMARY KEY (app_id, id)
);
CREATE INDEX files_by_message ON files(app_id, channel_id, message_seq);
CREATE INDEX files_unattached ON files(created_at) WHERE attached_at IS NULL;
