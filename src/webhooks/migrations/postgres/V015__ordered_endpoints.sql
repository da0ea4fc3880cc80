-- Ordered endpoints (docs/webhooks.md, "Ordering"): an endpoint's deliveries of one channel are
-- sent one at a time in the order of the events (jobs with an order_key).
ALTER TABLE webhook_endpoints ADD COLUMN ordered BOOLEAN NOT NULL DEFAULT false;
