-- Message search (src/search/, docs/search.md). The indexer fills the index after the sends
-- commit (a trigger on the send path cost more than half of the send throughput), from each
-- channel's messages after search_progress.indexed_seq. Edits and hard deletes are queued in
-- search_dirty by triggers, with the text the index holds, so the indexer can take it out.
CREATE TABLE search_docs (
  docid       INTEGER PRIMARY KEY,  -- the FTS5 rowid; grows in indexing order
  app_id      TEXT NOT NULL,
  channel_id  TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  user_id     TEXT NOT NULL,        -- the author, for the filter and for taking the row out
  UNIQUE (app_id, channel_id, seq)
);
-- Contentless: the text stays in messages only; snippets are made from it (search/query.cpp).
-- `scope` holds a token for the channel and one for the author (search::scope_token), so that a
-- channel or author filter is an intersection inside FTS5 instead of a scan of every match.
-- A prefix index of 3 letters keeps search as you type fast (prefixes are 3 letters or more).
CREATE VIRTUAL TABLE search_fts USING fts5(text, scope, content = '', prefix = '3',
  tokenize = 'unicode61 remove_diacritics 2');

CREATE TABLE search_progress (
  app_id       TEXT NOT NULL,
  channel_id   TEXT NOT NULL,
  indexed_seq  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (app_id, channel_id)
) WITHOUT ROWID;

CREATE TABLE search_dirty (
  app_id      TEXT NOT NULL,
  channel_id  TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  old_text    TEXT NOT NULL,  -- the text before the first change since the indexer last looked
  PRIMARY KEY (app_id, channel_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER search_edited AFTER UPDATE OF text ON messages WHEN old.text <> new.text BEGIN
  INSERT OR IGNORE INTO search_dirty(app_id, channel_id, seq, old_text)
    VALUES (old.app_id, old.channel_id, old.seq, old.text);
END;
CREATE TRIGGER search_removed AFTER DELETE ON messages BEGIN
  INSERT OR IGNORE INTO search_dirty(app_id, channel_id, seq, old_text)
    VALUES (old.app_id, old.channel_id, old.seq, old.text);
END;

-- A user's recent queries, for the search box's suggestions.
CREATE TABLE search_recent (
  app_id   TEXT NOT NULL,
  user_id  TEXT NOT NULL,
  query    TEXT NOT NULL,
  at       INTEGER NOT NULL,
  PRIMARY KEY (app_id, user_id, query)
) WITHOUT ROWID;
CREATE INDEX search_recent_by_time ON search_recent(app_id, user_id, at);
