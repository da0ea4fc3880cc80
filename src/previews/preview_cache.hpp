#pragma once
// The link preview cache: what each URL's page said, once per app and URL, until it expires (a
// page with nothing to show, or that could not be fetched, is kept too, for a shorter time, so a
// popular dead link is not fetched again for every message). Over the shared SQL layer; both
// stores. Thread-safe; calls block on the database.
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/time.hpp"

namespace parley::store::sql {
class Database;
}

namespace parley::previews {

struct CachedPreview {
  std::string preview_json;  // "" when the page had no preview
  TimeMs fetched_at = 0;
  TimeMs expires_at = 0;
};

class PreviewCache {
 public:
  explicit PreviewCache(store::sql::Database& db) : db_(db) {}

  /// The entry of `url` in `app_id`'s cache, if one has not expired by `now`.
  Result<std::optional<CachedPreview>> get(const std::string& app_id, const std::string& url, TimeMs now);
  Status put(const std::string& app_id, const std::string& url, const CachedPreview& entry);
  /// Deletes the entries that expired before `now`; returns how many.
  Result<std::int64_t> prune(TimeMs now);

 private:
  store::sql::Database& db_;
};

}  // namespace parley::previews
