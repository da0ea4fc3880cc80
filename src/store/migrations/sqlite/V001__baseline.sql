-- Parley baseline schema (SQLite). Times are Unix milliseconds. Every tenant table carries
-- app_id and is deleted with its app.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE apps (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  settings      TEXT NOT NULL DEFAULT '{}',
  jwt_secret    BLOB NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_keys (
  key          TEXT PRIMARY KEY,
  app_id       TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  secret_hash  BLOB NOT NULL,
  created_at   INTEGER NOT NULL,
  revoked_at   INTEGER
) WITHOUT ROWID;
CREATE INDEX api_keys_by_app ON api_keys(app_id);

CREATE TABLE key_rotations (
  token_hash  BLOB PRIMARY KEY,
  app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  key         TEXT NOT NULL REFERENCES api_keys(key) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
) WITHOUT ROWID;
CREATE INDEX key_rotations_by_app ON key_rotations(app_id);
CREATE INDEX key_rotations_by_key ON key_rotations(key);

CREATE TABLE users (
  app_id          TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  id              TEXT NOT NULL,
  name            TEXT NOT NULL DEFAULT '',
  name_lower      TEXT NOT NULL DEFAULT '',
  image_url       TEXT NOT NULL DEFAULT '',
  custom          TEXT NOT NULL DEFAULT '{}',
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  deactivated_at  INTEGER,
  token_gen       INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (app_id, id)
) WITHOUT ROWID;
CREATE INDEX users_by_name ON users(app_id, name_lower);

CREATE TABLE sessions (
  id          TEXT PRIMARY KEY,
  app_id      TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  revoked_at  INTEGER,
  FOREIGN KEY (app_id, user_id) REFERENCES users(app_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions(app_id, user_id);

CREATE TABLE refresh_tokens (
  token_hash  BLOB PRIMARY KEY,
  session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  used_at     INTEGER
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_by_session ON refresh_tokens(session_id);

-- Audit entries outlive their app on purpose (no foreign key): the log says who deleted it.
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  app_id      TEXT,
  target      TEXT,
  details     TEXT NOT NULL DEFAULT '{}',
  request_id  TEXT
);
CREATE INDEX audit_log_by_app ON audit_log(app_id, id);
