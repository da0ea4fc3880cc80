-- The transactional outbox of sends (src/chat/outbox.hpp, docs/jobs.md "Outbox"): a send batch
-- writes one row per channel whose new messages have durable consumers (webhooks, link
-- previews), in the batch's transaction. The row is deleted once those consumers stored what the
-- messages cause; a row left over (its node died first) is replayed from the messages themselves.
CREATE TABLE event_outbox (
  app_id      TEXT NOT NULL,
  channel_id  TEXT NOT NULL,
  first_seq   INTEGER NOT NULL,
  last_seq    INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (app_id, channel_id, first_seq)
) WITHOUT ROWID;
