-- messages loses its foreign key to channels; a trigger on channels keeps its ON DELETE CASCADE.
-- The key cost every inserted message a check of its channel row (SELECT … FOR KEY SHARE, run
-- by a trigger per row), and the channel rows are the hottest rows there are: each send batch
-- updates them, so every check walked a chain of their dead versions. Sends measured ~20 %
-- faster without it (docs/benchmarks.md, "Durable sends").
-- What the key guaranteed still holds: messages are inserted only by a send batch
-- (postgres_send_batch.cpp), which first locks its channels' rows (FOR NO KEY UPDATE) and
-- inserts only into channels that lock found. Deleting a channel row needs a stronger lock, so
-- it waits for the batch to commit and then deletes the batch's messages with the rest; a batch
-- that waits for a deletion to commit finds no channel and refuses its sends. Channels are only
-- deleted with their app (a channel's own deletion sets deleted_at).
ALTER TABLE messages DROP CONSTRAINT messages_app_id_channel_id_fkey;

CREATE FUNCTION delete_channel_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM messages WHERE app_id = OLD.app_id AND channel_id = OLD.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER channels_delete_messages AFTER DELETE ON channels
  FOR EACH ROW EXECUTE FUNCTION delete_channel_messages();
