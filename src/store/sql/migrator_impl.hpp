#pragma once
// schema_history bookkeeping over one database driver; the rules (apply, baseline, repair) are
// HistoryMigrator's (store/migrations.hpp). Db::begin_migration opens each transaction with the
// lock that keeps other processes out (SQLite's write lock, PostgreSQL's advisory lock), so two
// processes starting at once apply every script exactly once. Include only in a backend's
// migrator .cpp.
#include <stdexcept>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "store/migrations.hpp"
#include "store/sql/db.hpp"

namespace parley::store::sql {

template <class Db>
class SqlMigrator final : public HistoryMigrator {
 public:
  /// `target` is what the driver's Connection opens (a file path, a connection URL).
  SqlMigrator(const std::string& target, const std::vector<MigrationSource>& sources)
      : HistoryMigrator(load_migrations(sources)), conn_(target) {
    begin();
    conn_.exec(
        "CREATE TABLE IF NOT EXISTS schema_history ("
        " version INTEGER PRIMARY KEY, description TEXT NOT NULL, script TEXT NOT NULL,"
        " checksum TEXT NOT NULL, installed_at BIGINT NOT NULL, execution_ms BIGINT NOT NULL)");
    commit();
  }

 private:
  void begin() override { Db::begin_migration(conn_); }
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
    } catch (const DbError& e) {
      throw std::runtime_error("migration " + m.file + " failed: " + e.what());
    }
  }

  void record(const Migration& m, std::int64_t execution_ms) override {
    auto st = conn_.prepare(
        "INSERT INTO schema_history(version, description, script, checksum, installed_at, execution_ms) "
        "VALUES($1, $2, $3, $4, $5, $6)");
    st.bind(1, m.version).bind(2, m.description).bind(3, m.file).bind(4, m.checksum).bind(5, now_ms());
    st.bind(6, execution_ms).run();
  }

  void rerecord_checksum(const Migration& m) override {
    auto st = conn_.prepare("UPDATE schema_history SET checksum = $1, description = $2 WHERE version = $3");
    st.bind(1, m.checksum).bind(2, m.description).bind(3, m.version).run();
  }

  typename Db::Connection conn_;
};

/// Opens a migrator, turning a driver failure into std::runtime_error (what the CLI reports).
template <class Db>
std::unique_ptr<Migrator> open_sql_migrator(const std::string& target, const std::vector<MigrationSource>& sources) {
  try {
    return std::make_unique<SqlMigrator<Db>>(target, sources);
  } catch (const DbError& e) {
    throw std::runtime_error(e.what());
  }
}

}  // namespace parley::store::sql
