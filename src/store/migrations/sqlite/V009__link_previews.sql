-- Link previews (src/previews/, docs/link-previews.md): the previews attached to a message, a JSON
-- array of {url, title, description, site_name, image_url}, written by the preview.message job.
ALTER TABLE messages ADD COLUMN link_previews TEXT NOT NULL DEFAULT '[]';
