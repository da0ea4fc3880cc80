#include "previews/preview_cache.hpp"

#include "store/sql/database.hpp"

namespace parley::previews {

using store::sql::Connection;

Result<std::optional<CachedPreview>> PreviewCache::get(const std::string& app_id, const std::string& url, TimeMs now) {
  return db_.with_conn([&](Connection& c) -> Result<std::optional<CachedPreview>> {
    auto st = c.prepare(
        "SELECT preview, fetched_at, expires_at FROM link_preview_cache WHERE app_id = $1 AND url = $2 "
        "AND expires_at > $3");
    st->bind(1, app_id).bind(2, url).bind(3, now);
    if (!st->step()) return std::optional<CachedPreview>{};
    return std::optional<CachedPreview>{CachedPreview{st->text(0), st->int64(1), st->int64(2)}};
  });
}

Status PreviewCache::put(const std::string& app_id, const std::string& url, const CachedPreview& entry) {
  return db_.with_conn([&](Connection& c) -> Status {
    auto st = c.prepare(
        "INSERT INTO link_preview_cache(app_id, url, preview, fetched_at, expires_at) VALUES($1, $2, $3, $4, $5) "
        "ON CONFLICT (app_id, url) DO UPDATE SET preview = excluded.preview, fetched_at = excluded.fetched_at, "
        "expires_at = excluded.expires_at");
    st->bind(1, app_id).bind(2, url).bind(3, entry.preview_json).bind(4, entry.fetched_at).bind(5, entry.expires_at);
    st->run();
    return ok_status();
  });
}

Result<std::int64_t> PreviewCache::prune(TimeMs now) {
  return db_.with_conn([&](Connection& c) -> Result<std::int64_t> {
    auto st = c.prepare("DELETE FROM link_preview_cache WHERE expires_at <= $1");
    st->bind(1, now).run();
    return c.changes();
  });
}

}  // namespace parley::previews
