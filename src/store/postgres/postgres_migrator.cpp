// Migrations for the PostgreSQL store: schema_history bookkeeping, with the same meaning as on
// SQLite (the rules are HistoryMigrator's; this file only speaks PostgreSQL). Each transaction
// holds a transaction-level advisory lock, so two processes starting at once apply every script
// exactly once.
#include "store/postgres/postgres_migrator.hpp"

#include <stdexcept>

#include "store/postgres/pg_db.hpp"

namespace parley::store::postgres {

namespace {

// pg_advisory_xact_lock key shared by every Parley process migrating this database.
constexpr std::int64_t kMigrationLock = 0x7061726c6579;  // "parley"

class PostgresMigrator final : public HistoryMigrator {
 public:
  explicit PostgresMigrator(const std::string& url)
      : HistoryMigrator(load_migrations(postgres_migrations())), conn_(url) {
    Transaction tx(conn_);
    lock();
    conn_.exec(
        "CREATE TABLE IF NOT EXISTS schema_history ("
        " version INTEGER PRIMARY KEY, description TEXT NOT NULL, script TEXT NOT NULL,"
        " checksum TEXT NOT NULL, installed_at BIGINT NOT NULL, execution_ms BIGINT NOT NULL)");
    tx.commit();
  }

 private:
  void begin() override {
    conn_.exec("BEGIN");
    lock();
  }
  void commit() override { conn_.exec("COMMIT"); }
  void rollback() override { conn_.exec("ROLLBACK"); }

  void lock() {
    auto st = conn_.prepare("SELECT pg_advisory_xact_lock($1)");
    st.bind(1, kMigrationLock).run();
  }

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
    } catch (const PgError& e) {
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

  Connection conn_;
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
