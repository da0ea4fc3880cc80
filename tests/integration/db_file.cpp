#include "db_file.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace parley::test {

namespace {
struct Stmt {
  sqlite3_stmt* st = nullptr;
  ~Stmt() { sqlite3_finalize(st); }
};

void prepare(sqlite3* db, const std::string& sql, const std::vector<std::string>& params, Stmt& out) {
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &out.st, nullptr) != SQLITE_OK) {
    throw std::runtime_error("sqlite prepare '" + sql + "': " + sqlite3_errmsg(db));
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    sqlite3_bind_text(out.st, static_cast<int>(i + 1), params[i].data(), static_cast<int>(params[i].size()),
                      SQLITE_TRANSIENT);
  }
}
}  // namespace

DbFile::DbFile(const std::filesystem::path& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open " + path.string() + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
}

DbFile::~DbFile() { sqlite3_close(db_); }

void DbFile::exec(const std::string& sql, const std::vector<std::string>& params) {
  Stmt st;
  prepare(db_, sql, params, st);
  int rc;
  while ((rc = sqlite3_step(st.st)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) throw std::runtime_error("sqlite '" + sql + "': " + sqlite3_errmsg(db_));
}

std::optional<std::string> DbFile::value(const std::string& sql, const std::vector<std::string>& params) {
  Stmt st;
  prepare(db_, sql, params, st);
  int rc = sqlite3_step(st.st);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) throw std::runtime_error("sqlite '" + sql + "': " + sqlite3_errmsg(db_));
  auto p = static_cast<const char*>(sqlite3_column_blob(st.st, 0));
  return std::string(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(st.st, 0)));
}

std::int64_t DbFile::changes() const { return sqlite3_changes64(db_); }

std::string app_jwt_secret(const std::filesystem::path& db_path, const std::string& app_id) {
  DbFile db(db_path);
  auto key = db.value("SELECT jwt_secret FROM apps WHERE id = ?", {app_id});
  if (!key) throw std::runtime_error("no app " + app_id + " in " + db_path.string());
  return *key;
}

}  // namespace parley::test
