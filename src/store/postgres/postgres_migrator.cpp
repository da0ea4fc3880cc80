// Migrations for the PostgreSQL store: schema_history bookkeeping, with the same meaning as on
// SQLite. Each pending script runs in its own transaction holding a transaction-level advisory
// lock, so two processes starting at once apply every script exactly once.
#include "store/postgres/postgres_migrator.hpp"

#include <chrono>
#include <stdexcept>

#include "store/postgres/pg_db.hpp"

namespace parley::store::postgres {

namespace {

// pg_advisory_xact_lock key shared by every Parley process migrating this database.
constexpr std::int64_t kMigrationLock = 0x7061726c6579;  // "parley"

class PostgresMigrator final : public Migrator {
 public:
  explicit PostgresMigrator(const std::string& url) : conn_(url), known_(load_migrations(postgres_migrations())) {
    Transaction tx(conn_);
    lock();
    conn_.exec(
        "CREATE TABLE IF NOT EXISTS schema_history ("
        " version INTEGER PRIMARY KEY, description TEXT NOT NULL, script TEXT NOT NULL,"
        " checksum TEXT NOT NULL, installed_at BIGINT NOT NULL, execution_ms BIGINT NOT NULL)");
    tx.commit();
  }

  std::vector<MigrationStatus> status() override { return compare_migrations(known_, applied()); }

  int apply() override {
    int count = 0;
    for (const auto& m : known_) {
      Transaction tx(conn_);
      lock();
      auto done = applied();  // re-read under the lock: another process may have migrated
      validate_applied(known_, done);
      bool present = false;
      for (const auto& a : done) present = present || a.version == m.version;
      if (present) continue;
      auto start = std::chrono::steady_clock::now();
      try {
        conn_.exec(m.sql);
      } catch (const PgError& e) {
        throw std::runtime_error("migration " + m.file + " failed: " + e.what());
      }
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      auto st = conn_.prepare(
          "INSERT INTO schema_history(version, description, script, checksum, installed_at, execution_ms) "
          "VALUES($1, $2, $3, $4, $5, $6)");
      st.bind(1, m.version).bind(2, m.description).bind(3, m.file).bind(4, m.checksum).bind(5, now_ms());
      st.bind(6, static_cast<std::int64_t>(ms.count())).run();
      tx.commit();
      ++count;
    }
    return count;
  }

  int baseline(int version) override {
    Transaction tx(conn_);
    lock();
    if (!applied().empty()) throw std::runtime_error("baseline needs a database without migration history");
    int count = 0;
    for (const auto& m : known_) {
      if (m.version > version) break;
      auto st = conn_.prepare(
          "INSERT INTO schema_history(version, description, script, checksum, installed_at, execution_ms) "
          "VALUES($1, $2, $3, $4, $5, 0)");
      st.bind(1, m.version).bind(2, m.description).bind(3, m.file).bind(4, m.checksum).bind(5, now_ms()).run();
      ++count;
    }
    tx.commit();
    return count;
  }

  int repair() override {
    Transaction tx(conn_);
    lock();
    int count = 0;
    for (const auto& a : applied()) {
      for (const auto& m : known_) {
        if (m.version != a.version || m.checksum == a.checksum) continue;
        auto st = conn_.prepare("UPDATE schema_history SET checksum = $1, description = $2 WHERE version = $3");
        st.bind(1, m.checksum).bind(2, m.description).bind(3, m.version).run();
        ++count;
      }
    }
    tx.commit();
    return count;
  }

 private:
  void lock() {
    auto st = conn_.prepare("SELECT pg_advisory_xact_lock($1)");
    st.bind(1, kMigrationLock).run();
  }

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

std::unique_ptr<Migrator> open_postgres_migrator(const std::string& url) {
  try {
    return std::make_unique<PostgresMigrator>(url);
  } catch (const PgError& e) {
    throw std::runtime_error(e.what());
  }
}

}  // namespace parley::store::postgres
