#pragma once
// PostgreSQL connection URLs (libpq URIs: postgres://user:pass@host:port/db?options).
// Header-only: the test harness and the benchmarks use it without linking the store.
#include <algorithm>
#include <string>

namespace parley::store::postgres {

/// `url` with its database replaced: scheme://authority/<db>?query (options kept).
inline std::string url_with_database(const std::string& url, const std::string& db) {
  auto scheme = url.find("://");
  auto start = scheme == std::string::npos ? 0 : scheme + 3;
  auto query = url.find('?', start);
  auto authority_end = std::min(url.find('/', start), query);
  std::string out = url.substr(0, authority_end == std::string::npos ? url.size() : authority_end) + "/" + db;
  if (query != std::string::npos) out += url.substr(query);
  return out;
}

}  // namespace parley::store::postgres
