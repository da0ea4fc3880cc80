// Migrations for the embedded store: schema_history bookkeeping on SQLite.
#include <chrono>
#include <stdexcept>

#include "store/migrations.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_migrator.hpp"

namespace parley::store::sqlite {

namespace {

class SqliteMigrator final : public Migrator {
 public:
  explicit SqliteMigrator(const std::string& path) : conn_(path), known_(load_migrations(sqlite_migrations())) {
    conn_.exec(
        "CREATE TABLE IF NOT EXISTS schema_history ("
        " version INTEGER PRIMARY KEY, description TEXT NOT NULL, script TEXT NOT NULL,"
        " checksum TEXT NOT NULL, installed_at INTEGER NOT NULL, execution_ms INTEGER NOT NULL)");
  }

  std::vector<MigrationStatus> status() override { return compare_migrations(known_, applied()); }

  int apply() override {
    int count = 0;
    for (const auto& m : known_) {
      Transaction tx(conn_);
      auto done = applied();  // re-read under the write lock: another process may have migrated
      validate_applied(known_, done);
      bool present = false;
      for (const auto& a : done) present = present || a.version == m.version;
      if (present) continue;
      auto start = std::chrono::steady_clock::now();
      try {
        conn_.exec(m.sql);
      } catch (const SqliteError& e) {
        throw std::runtime_error("migration " + m.file + " failed: " + e.what());
      }
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      auto st = conn_.prepare(
          "INSERT INTO schema_history(version, description, script, checksum, installed_at, execution_ms) "
          "VALUES(?, ?, ?, ?, ?, ?)");
      st.bind(1, m.version).bind(2, m.description).bind(3, m.file).bind(4, m.checksum).bind(5, now_ms());
      st.bind(6, static_cast<std::int64_t>(ms.count())).run();
      tx.commit();
      ++count;
    }
    return count;
  }

  int baseline(int version) override {
    Transaction tx(conn_);

    if (!applied().empty()) throw std::runtime_error("baseline needs a database without migration history");
    int count = 0;
    for (const auto& m : known_) {
      if (m.version > version) break;
      auto st = conn_.prepare(
          "INSERT INTO schema_history(version, description, script, checksum, installed_at, execution_ms) "
          "VALUES(?, ?, ?, ?, ?, 0)");
      st.bind(1, m.version).bind(2, m.description).bind(3, m.file).bind(4, m.checksum).bind(5, now_ms()).run();
      ++count;
    }
    tx.commit();
    return count;
  }

  int repair() override {
    Transaction tx(conn_);

    int count = 0;
    for (const auto& a : applied()) {
      for (const auto& m : known_) {
        if (m.version != a.version || m.checksum == a.checksum) continue;
        auto st = conn_.prepare("UPDATE schema_history SET checksum = ?, description = ? WHERE version = ?");
        st.bind(1, m.checksum).bind(2, m.description).bind(3, m.version).run();
        ++count;
      }
    }
    tx.commit();
    return count;
  }

 private:
  std::vector<AppliedMigration> applied() {
    std::vector<AppliedMigration> out;
    auto st = conn_.prepare(
        "SELECT version, description, checksum, installed_at, execution_ms FROM schema_history ORDER BY version");
    while (st.step()) {
      out.push_back({static_cast<int>(st.int64(0)), st.text(1), st.text(2), st.int64(3), st.int64(4)});
    }
    return out;
  }

  Connection conn_;
  std::vector<Migration> known_;
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
