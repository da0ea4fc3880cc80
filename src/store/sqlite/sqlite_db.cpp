#include "store/sqlite/sqlite_db.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include "store/sqlite/sqlite_checkpointer.hpp"
#include "store/sqlite/sqlite_dialect.hpp"
#include "store/sqlite/wal_write_vfs.hpp"

namespace parley::store::sqlite {

namespace {
// Before SQLite initialises (at program start): no memory statistics, so allocating takes no
// global mutex. Parley reads none of them. Fails harmlessly if SQLite is already initialised.
[[maybe_unused]] const int kNoMemoryStatistics = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view context) {
  std::string msg = std::string(context) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  throw SqliteError(rc, msg);
}
}  // namespace

Error SqliteError::to_error() const {
  const SqliteError& e = *this;
  if (e.busy()) return Error{Errc::unavailable, "database is busy; retry"};
  if (e.constraint()) return Error{Errc::conflict, "conflicts with existing data"};
  spdlog::error("sqlite: {}", e.what());
  return Error{Errc::internal, "database error"};
}

bool SqliteError::busy() const { return (code_ & 0xff) == SQLITE_BUSY || (code_ & 0xff) == SQLITE_LOCKED; }
bool SqliteError::constraint() const { return (code_ & 0xff) == SQLITE_CONSTRAINT; }

Stmt::~Stmt() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

Stmt& Stmt::bind(int idx, std::int64_t v) {
  if (int rc = sqlite3_bind_int64(st_, idx, v); rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

Stmt& Stmt::bind(int idx, std::string_view v) {
  if (int rc = sqlite3_bind_text(st_, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); rc != SQLITE_OK) {
    fail(db_, rc, "bind");
  }
  return *this;
}

Stmt& Stmt::bind_static(int idx, std::string_view v) {
  if (int rc = sqlite3_bind_text(st_, idx, v.data(), static_cast<int>(v.size()), SQLITE_STATIC); rc != SQLITE_OK) {
    fail(db_, rc, "bind");
  }
  return *this;
}

Stmt& Stmt::bind_blob(int idx, std::string_view v) {
  if (int rc = sqlite3_bind_blob(st_, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); rc != SQLITE_OK) {
    fail(db_, rc, "bind");
  }
  return *this;
}

Stmt& Stmt::bind_null(int idx) {
  if (int rc = sqlite3_bind_null(st_, idx); rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, rc, "step");
}

void Stmt::run() {
  while (step()) {
  }
}

bool Stmt::is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
std::int64_t Stmt::int64(int col) const { return sqlite3_column_int64(st_, col); }

std::string Stmt::text(int col) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col))) : std::string();
}

std::string Stmt::blob(int col) const {
  auto p = static_cast<const char*>(sqlite3_column_blob(st_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col))) : std::string();
}

std::optional<std::int64_t> Stmt::opt_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

std::optional<std::string> Stmt::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}

Connection::Connection(const std::string& path) {
  // Through the WAL write VFS: a transaction's WAL frames reach the file in one write.
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           wal_write_vfs());
  if (rc != SQLITE_OK) {
    std::string msg = "cannot open SQLite database " + path + ": " + sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqliteError(rc, msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  // A connection outside a Pool (migrations, tools) checkpoints itself every 10,000 WAL pages
  // (~40 MB); a Pool's connections leave it to the pool's Checkpointer. A 64 MiB page cache
  // (SQLite's default is 2 MiB) keeps the pages a send batch touches (its channels' newest
  // messages and index leaves) in memory instead of re-reading them from the WAL.
  exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
      "PRAGMA wal_autocheckpoint=10000; PRAGMA cache_size=-65536;");
}

Connection::~Connection() {
  for (auto& [sql, st] : cache_) sqlite3_finalize(st);
  sqlite3_close(db_);
}

void Connection::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw SqliteError(rc, "exec: " + msg);
  }
}

Stmt Connection::prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* st = nullptr;
    std::string text = from_postgres_dialect(sql);
    int rc =
        sqlite3_prepare_v3(db_, text.data(), static_cast<int>(text.size()), SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    if (rc != SQLITE_OK) fail(db_, rc, "prepare");
    it = cache_.emplace(std::string(sql), st).first;
  }
  return Stmt(db_, it->second);
}

Stmt Connection::prepare_literal(const char* sql) {
  auto it = literals_.find(sql);
  if (it == literals_.end()) {
    Stmt st = prepare(sql);
    it = literals_.emplace(sql, st.handle()).first;
  }
  return Stmt(db_, it->second);
}

std::int64_t Connection::changes() const { return sqlite3_changes64(db_); }

Transaction::Transaction(Connection& c, Kind kind) : c_(c) {
  c_.prepare_literal(kind == Kind::write ? "BEGIN IMMEDIATE" : "BEGIN").run();
}

Transaction::~Transaction() {
  if (!done_) {
    try {
      c_.exec("ROLLBACK");
    } catch (...) {  // NOLINT(bugprone-empty-catch): the connection reports the original error
    }
  }
}

void Transaction::commit() {
  c_.prepare_literal("COMMIT").run();
  done_ = true;
}

Pool::Pool(const std::string& path, int size)
    : path_(path),
      checkpointer_(std::make_unique<Checkpointer>(path, kPassiveCheckpointFrames, kRestartCheckpointFrames)) {
  for (int i = 0; i < size; ++i) checkpointer_->watch(conns_.add(std::make_unique<Connection>(path)));
}

Pool::~Pool() = default;  // the connections close before the checkpointer (declaration order)

std::unique_ptr<Connection> Pool::open_dedicated() {
  auto c = std::make_unique<Connection>(path_);
  checkpointer_->watch(*c);
  return c;
}

}  // namespace parley::store::sqlite
