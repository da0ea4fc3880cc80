-- Link previews (src/previews/, docs/link-previews.md): what a URL's page said, fetched once per
-- app and URL and kept until expires_at. preview is the JSON object attached to messages, or ''
-- when the page had nothing to show or could not be fetched (kept for a shorter time).
CREATE TABLE link_preview_cache (
  app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  url         TEXT NOT NULL,
  preview     TEXT NOT NULL,
  fetched_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (app_id, url)
);
CREATE INDEX link_preview_cache_expiry ON link_preview_cache(expires_at);
