-- The idempotency index leads with client_msg_id after app_id, so that time-ordered client ids
-- (UUIDv7 and the like, as the web SDK makes them) land at the right edge of the index, where a
-- commit of many senders' messages dirties a page or two, instead of in one leaf per sender.
-- Lookups name all four columns, so the order does not change what the index finds.
DROP INDEX messages_client_id;
CREATE UNIQUE INDEX messages_client_id ON messages(app_id, client_msg_id, channel_id, user_id)
  WHERE client_msg_id IS NOT NULL;
