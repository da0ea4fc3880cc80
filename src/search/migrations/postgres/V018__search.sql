-- Message search (src/search/, docs/search.md). The indexer fills search_docs after the sends
-- commit, from each channel's messages after search_progress.indexed_seq, with a tsvector of the
-- folded text (search/query.cpp folds case and diacritics as on SQLite) in the app's text search
-- configuration ('simple' unless the app's search_language says otherwise). Edits and hard
-- deletes are queued in search_dirty by triggers.
CREATE TABLE search_docs (
  docid       BIGSERIAL PRIMARY KEY,  -- grows in indexing order
  app_id      TEXT COLLATE "C" NOT NULL,
  channel_id  TEXT COLLATE "C" NOT NULL,
  seq         BIGINT NOT NULL,
  user_id     TEXT COLLATE "C" NOT NULL,  -- the author, for the filter
  tsv         tsvector NOT NULL,
  UNIQUE (app_id, channel_id, seq)
);
CREATE INDEX search_docs_tsv ON search_docs USING gin (tsv);
-- An author filter walks the author's documents, newest first (parley-search-bench: 284 ms at
-- p50 for a common word from one of 100 authors in 1M messages without it).
CREATE INDEX search_docs_by_author ON search_docs(app_id, user_id, docid);

CREATE TABLE search_progress (
  app_id       TEXT COLLATE "C" NOT NULL,
  channel_id   TEXT COLLATE "C" NOT NULL,
  indexed_seq  BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (app_id, channel_id)
);

CREATE TABLE search_dirty (
  app_id      TEXT COLLATE "C" NOT NULL,
  channel_id  TEXT COLLATE "C" NOT NULL,
  seq         BIGINT NOT NULL,
  old_text    TEXT NOT NULL,
  PRIMARY KEY (app_id, channel_id, seq)
);
CREATE FUNCTION search_mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO search_dirty(app_id, channel_id, seq, old_text)
    VALUES (OLD.app_id, OLD.channel_id, OLD.seq, OLD.text) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER search_edited AFTER UPDATE OF text ON messages
  FOR EACH ROW WHEN (OLD.text IS DISTINCT FROM NEW.text) EXECUTE FUNCTION search_mark_dirty();
CREATE TRIGGER search_removed AFTER DELETE ON messages
  FOR EACH ROW EXECUTE FUNCTION search_mark_dirty();

CREATE TABLE search_recent (
  app_id   TEXT COLLATE "C" NOT NULL,
  user_id  TEXT COLLATE "C" NOT NULL,
  query    TEXT NOT NULL,
  at       BIGINT NOT NULL,
  PRIMARY KEY (app_id, user_id, query)
);
CREATE INDEX search_recent_by_time ON search_recent(app_id, user_id, at);
