-- Nothing changes on SQLite; this version keeps both stores' migration versions the same.
-- PostgreSQL's V006 drops messages' foreign key to channels, whose check walked the channel
-- row's chain of dead versions per inserted message. SQLite updates rows in place and checks
-- the key with one lookup of a page in its cache: sends measured no faster with foreign keys
-- off (docs/benchmarks.md, "Durable sends"), so the key stays.
SELECT 1;
