-- The before-send hook (src/webhooks/before_send.hpp, docs/bots.md): at most one per app, called
-- with each message before it is stored; it allows, rejects or rewrites it.
CREATE TABLE before_send_hooks (
  app_id      TEXT COLLATE "C" PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
  url         TEXT NOT NULL,
  secret      TEXT NOT NULL,            -- whsec_<base64>, signs each call (Standard Webhooks)
  timeout_ms  BIGINT NOT NULL,
  on_failure  TEXT NOT NULL,            -- allow | reject: what a timeout or a bad answer means
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);
