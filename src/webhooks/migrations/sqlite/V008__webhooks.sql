-- Outgoing webhooks (src/webhooks/, docs/webhooks.md): an app's endpoints and the log of what
-- was delivered to them. A delivery row is written before its job is queued; the job
-- (webhook.deliver) sends it and records each attempt's outcome here.
CREATE TABLE webhook_endpoints (
  id                     TEXT PRIMARY KEY,
  app_id                 TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  url                    TEXT NOT NULL,
  description            TEXT NOT NULL DEFAULT '',
  event_types            TEXT NOT NULL,            -- space-separated event names, or '*'
  secret                 TEXT NOT NULL,            -- whsec_<base64>
  previous_secret        TEXT,                     -- still signs until previous_secret_until
  previous_secret_until  INTEGER,
  state                  TEXT NOT NULL DEFAULT 'enabled',  -- enabled | disabled
  disabled_reason        TEXT,
  failures_in_a_row      INTEGER NOT NULL DEFAULT 0,       -- deliveries that failed for good since the last success
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_by_app ON webhook_endpoints(app_id, created_at);

CREATE TABLE webhook_deliveries (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  app_id            TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  endpoint_id       TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  message_id        TEXT NOT NULL,                -- the webhook-id header: the same on every attempt
  event_type        TEXT NOT NULL,
  payload           TEXT NOT NULL,
  state             TEXT NOT NULL DEFAULT 'pending',  -- pending | succeeded | failed
  attempts          INTEGER NOT NULL DEFAULT 0,
  status_code       INTEGER,
  latency_ms        INTEGER,
  error             TEXT,
  response_excerpt  TEXT,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(endpoint_id, id);
