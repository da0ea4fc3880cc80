// Migrations for the embedded store: schema_history bookkeeping on SQLite. The rules (apply,
// baseline, repair) are HistoryMigrator's; this file only speaks SQLite. BEGIN IMMEDIATE takes
// the write lock, so two processes starting at once apply every script exactly once.
#include <stdexcept>

#include "store/migrations.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_migrator.hpp"

namespace parley::store::sqlite {

namespace {

class SqliteMigrator final : public HistoryMigrator {
 public:
  explicit SqliteMigrator(const std::string& path)
      : HistoryMigrator(load_migrations(sqlite_migrations())), conn_(path) {
    conn_.exec(
        "CREATE TABLE IF NOT EXISTS schema_history ("
        " version INTEGER PRIMARY KEY, description TEXT NOT NULL, script TEXT NOT NULL,"
        " checksum TEXT NOT NULL, installed_at INTEGER NOT NULL, execution_ms INTEGER NOT NULL)");
  }

 private:
  void begin() override { conn_.exec("BEGIN IMMEDIATE"); }
  void commit() override { conn_.exec("COMMIT"); }
  void rollback() override { conn_.exec("ROLLBACK"); }

  std::vector<AppliedMigration> applied() override {
    std::vector<AppliedMigration> out;
    auto st = conn_.prepare(
        "SELECT version, description, checksum, installed_at, execution_ms FROM schema_history ORDER BY version");
    while (st.step()) {
      out.push_back({static_cast<int>(st.int64(0)), st.text(1), st.text(2), st.int64(3), st.int64(4)});
    }
    return out;
  }

  void run(const Migration& m) override {
    try {
      conn_.exec(m.sql);
    } catch (const SqliteError& e) {
      throw std::runtime_error("migration " + m.file + " failed: " + e.what());
    }
  }

  void record(const Migration& m, std::int64_t execution_ms) override {
    auto st = conn_.prepare(
        "INSERT INTO schema_history(version, description, script, checksum, installed_at, execution_ms) "
        "VALUES(?, ?, ?, ?, ?, ?)");
    st.bind(1, m.version).bind(2, m.description).bind(3, m.file).bind(4, m.checksum).bind(5, now_ms());
    st.bind(6, execution_ms).run();
  }

  void rerecord_checksum(const Migration& m) override {
    auto st = conn_.prepare("UPDATE schema_history SET checksum = ?, description = ? WHERE version = ?");
    st.bind(1, m.checksum).bind(2, m.description).bind(3, m.version).run();
  }

  Connection conn_;
};

}  // namespace

std::unique_ptr<Migrator> open_sqlite_migrator(const std::string& path) {
  try {
    return std::make_unique<SqliteMigrator>(path);
  } catch (const SqliteError& e) {
    throw std::runtime_error(e.what());
  }
}

}  // namespace parley::store::sqlite
