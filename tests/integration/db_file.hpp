#pragma once
// Direct access to a server's SQLite file, for what the API cannot do on purpose: reading an
// app's signing key to forge tokens, or ageing and tampering rows (expiry, migration checksums).
// When the suite runs against PostgreSQL (PARLEY_TEST_PG_URL), the path of a data folder's
// parley.db stands for that folder's database, and the same SQL runs there (`?` parameters
// become $1, $2, …; bytea values come back as raw bytes).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;
struct pg_conn;

namespace parley::test {

class DbFile {
 public:
  explicit DbFile(const std::filesystem::path& path);
  ~DbFile();
  DbFile(const DbFile&) = delete;
  DbFile& operator=(const DbFile&) = delete;

  /// Runs SQL with `?` parameters bound as text, in order; throws on failure.
  void exec(const std::string& sql, const std::vector<std::string>& params = {});
  /// The first column of the first row as bytes (text or blob); nullopt when there is no row.
  std::optional<std::string> value(const std::string& sql, const std::vector<std::string>& params = {});
  /// Rows changed by the last exec.
  std::int64_t changes() const;
  /// True when this is a PostgreSQL database rather than a SQLite file.
  bool postgres() const { return pg_ != nullptr; }

 private:
  sqlite3* db_ = nullptr;
  pg_conn* pg_ = nullptr;
  std::int64_t pg_changes_ = 0;
};

/// The raw HS256 key an app signs its access tokens with (apps.jwt_secret).
std::string app_jwt_secret(const std::filesystem::path& db_path, const std::string& app_id);

}  // namespace parley::test
