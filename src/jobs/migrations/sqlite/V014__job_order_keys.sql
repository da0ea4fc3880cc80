-- Ordered jobs (docs/jobs.md, "Ordering"): jobs with the same order_key run one at a time, in
-- the order they were enqueued (by id); a queued or running earlier one holds the later ones back.
ALTER TABLE jobs ADD COLUMN order_key TEXT;
CREATE INDEX jobs_by_order_key ON jobs(order_key, id) WHERE order_key IS NOT NULL;
