-- The claim (WHERE state = 'queued' AND run_at <= now ORDER BY run_at, id LIMIT n) must walk
-- jobs_queued. SQLite, without table statistics, preferred jobs_by_state (equality on state) and
-- then sorted the whole backlog for every claim, under the writer lock (docs/benchmarks.md,
-- "Webhooks and durable sends"). jobs_by_state now leaves queued jobs to jobs_queued.
DROP INDEX jobs_by_state;
CREATE INDEX jobs_by_state ON jobs(state, id) WHERE state <> 'queued';
