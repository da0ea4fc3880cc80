-- The durable job queue (src/jobs/). A job is a row from enqueue to success (then deleted) or to
-- its dead letter. Workers claim queued rows with FOR UPDATE SKIP LOCKED and hold a lease
-- (lease_owner, lease_until); a lease that runs out puts the job back (or to the dead letters).
CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  app_id        TEXT REFERENCES apps(id) ON DELETE CASCADE,
  kind          TEXT NOT NULL,
  payload       TEXT NOT NULL DEFAULT '{}',
  state         TEXT NOT NULL DEFAULT 'queued',
  unique_key    TEXT,
  run_at        INTEGER NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  max_attempts  INTEGER NOT NULL,
  lease_owner   TEXT,
  lease_until   INTEGER,
  last_error    TEXT,
  created_at    INTEGER NOT NULL,
  started_at    INTEGER,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX jobs_queued ON jobs(run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_running ON jobs(lease_until) WHERE state = 'running';
CREATE INDEX jobs_by_owner ON jobs(lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX jobs_by_state ON jobs(state, id);
CREATE UNIQUE INDEX jobs_unique ON jobs(kind, unique_key) WHERE unique_key IS NOT NULL;

-- Cron schedules: each enqueues one job per due time, on exactly one node.
CREATE TABLE job_schedules (
  name         TEXT PRIMARY KEY,
  cron         TEXT NOT NULL,
  kind         TEXT NOT NULL,
  payload      TEXT NOT NULL DEFAULT '{}',
  next_run_at  INTEGER NOT NULL,
  last_run_at  INTEGER,
  last_job_id  INTEGER,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
