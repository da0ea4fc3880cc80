#pragma once
// A fresh, migrated database for one test on either store: a SQLite file in a temporary folder,
// or, for "postgres" when PARLEY_TEST_PG_URL names a maintenance database, a new PostgreSQL
// database. Removed (dropped) on destruction. Header-only; the test links parley_store.
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
  /// On PostgreSQL without PARLEY_TEST_PG_URL nothing is made and available() is false.
  ScratchDatabase(const std::string& kind, const std::string& prefix) {
    if (kind == "postgres") {
      if (!pg_url()) return;
      db_name_ = "parley_" + prefix + "_" + crypto::random_id("", 12);
      for (char& c : db_name_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      store::postgres::Connection(*pg_url()).exec("CREATE DATABASE \"" + db_name_ + "\"");
      url_ = store::postgres::url_with_database(*pg_url(), db_name_);
    } else {
      dir_ = std::filesystem::temp_directory_path() / ("parley-" + prefix + "-" + crypto::random_id("", 8));
      std::filesystem::create_directories(dir_);
      url_ = "sqlite:" + (dir_ / "t.db").string();
    }
    store::open_migrator(url_)->apply();
  }
  ~ScratchDatabase() {
    if (!db_name_.empty())
      store::postgres::Connection(*pg_url()).exec("DROP DATABASE \"" + db_name_ + "\" WITH (FORCE)");
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  bool available() const { return !url_.empty(); }
  const std::string& url() const { return url_; }

 private:
  std::filesystem::path dir_;
  std::string db_name_;
  std::string url_;
};

}  // namespace parley::test
