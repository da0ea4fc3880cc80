#pragma once
// A fresh, migrated database for one test or benchmark run on either store: a SQLite file in a
// temporary folder, or, for "postgres" given a maintenance database URL (PARLEY_TEST_PG_URL by
// default), a new PostgreSQL database beside it. Removed (dropped) on destruction. Header-only;
// link parley_scratch_database (tests/support/CMakeLists.txt).
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "core/crypto.hpp"
#include "store/migrations.hpp"
#include "store/postgres/pg_db.hpp"
#include "store/postgres/pg_url.hpp"

namespace parley::test {

class ScratchDatabase {
 public:
  /// The maintenance database URL from PARLEY_TEST_PG_URL, if set.
  static std::optional<std::string> pg_url() {
    const char* v = std::getenv("PARLEY_TEST_PG_URL");
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  }

  /// `kind` is "sqlite" or "postgres"; `prefix` names the folder or database (e.g. "jobs").
  /// On PostgreSQL without a maintenance URL nothing is made and available() is false.
  /// `keep_dir` (SQLite): make the file <prefix>.db in that folder and leave it there afterwards.
  ScratchDatabase(const std::string& kind, const std::string& prefix,
                  std::optional<std::string> maintenance_url = pg_url(), std::filesystem::path keep_dir = {}) {
    if (kind == "postgres") {
      if (!maintenance_url || maintenance_url->empty()) return;
      maintenance_url_ = std::move(*maintenance_url);
      db_name_ = "parley_" + prefix + "_" + crypto::random_id("", 12);
      for (char& c : db_name_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      store::postgres::Connection(maintenance_url_).exec("CREATE DATABASE \"" + db_name_ + "\"");
      url_ = store::postgres::url_with_database(maintenance_url_, db_name_);
    } else {
      std::filesystem::path dir = keep_dir;
      if (dir.empty()) {
        dir = std::filesystem::temp_directory_path() / ("parley-" + prefix + "-" + crypto::random_id("", 8));
        dir_ = dir;
      }
      std::filesystem::create_directories(dir);
      url_ = "sqlite:" + (dir / (prefix + ".db")).string();
    }
    store::open_migrator(url_)->apply();
  }
  ~ScratchDatabase() {
    if (!db_name_.empty())
      store::postgres::Connection(maintenance_url_).exec("DROP DATABASE IF EXISTS \"" + db_name_ + "\" WITH (FORCE)");
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  bool available() const { return !url_.empty(); }
  const std::string& url() const { return url_; }
  bool is_postgres() const { return !db_name_.empty(); }

 private:
  std::filesystem::path dir_;  // the temporary folder to remove; empty for a kept one
  std::string maintenance_url_;
  std::string db_name_;
  std::string url_;
};

}  // namespace parley::test
