#pragma once
// Thin RAII layer over the SQLite C API: a connection with a cache of prepared statements,
// borrowed statements that reset themselves, transactions, and a bounded connection pool.
// A connection is used by one thread at a time (the pool hands it out exclusively).
// Failures throw SqliteError; the store converts them to Error values at its boundary.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "store/sql/db.hpp"
#include "store/sql/pool.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace parley::store::sqlite {

class Checkpointer;

class SqliteError : public sql::DbError {
 public:
  SqliteError(int code, const std::string& what) : sql::DbError(what), code_(code) {}
  int code() const { return code_; }
  bool busy() const;
  bool constraint() const override;
  Error to_error() const override;

 private:
  int code_;
};

/// A prepared statement borrowed from a connection's cache; reset and unbound on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Stmt& bind(int idx, std::int64_t v);
  Stmt& bind(int idx, int v) { return bind(idx, static_cast<std::int64_t>(v)); }
  Stmt& bind(int idx, std::string_view v);
  Stmt& bind(int idx, const std::string& v) { return bind(idx, std::string_view(v)); }
  Stmt& bind(int idx, const char* v) { return bind(idx, std::string_view(v)); }
  Stmt& bind_bool(int idx, bool v) { return bind(idx, static_cast<std::int64_t>(v ? 1 : 0)); }
  /// Binds text without copying it: `v` must stay unchanged until this Stmt is destroyed.
  Stmt& bind_static(int idx, std::string_view v);
  Stmt& bind_static(int idx, const std::string& v) { return bind_static(idx, std::string_view(v)); }
  Stmt& bind_static(int idx, const std::optional<std::string>& v) { return v ? bind_static(idx, *v) : bind_null(idx); }
  Stmt& bind_static(int idx, std::string&& v) = delete;  // a temporary would be gone before the step
  Stmt& bind_blob(int idx, std::string_view v);
  Stmt& bind_null(int idx);
  template <class T>
  Stmt& bind(int idx, const std::optional<T>& v) {
    return v ? bind(idx, *v) : bind_null(idx);
  }

  /// Steps once: true when a row is available, false when done.
  bool step();
  /// Steps to completion (for statements without rows).
  void run();

  bool is_null(int col) const;
  std::int64_t int64(int col) const;
  bool boolean(int col) const { return int64(col) != 0; }
  std::string text(int col) const;
  std::string blob(int col) const;
  std::optional<std::int64_t> opt_int64(int col) const;
  std::optional<std::string> opt_text(int col) const;
  sqlite3_stmt* handle() const { return st_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_;
};

class Connection {
 public:
  /// Opens (creating) the file in WAL mode with foreign keys on and a busy timeout.
  explicit Connection(const std::string& path);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Runs SQL text with no parameters (schema scripts, pragmas, transaction control).
  void exec(const std::string& sql);
  /// A cached prepared statement for `sql` (prepared on first use). `sql` may be written in
  /// PostgreSQL's dialect ($1 parameters, ::type casts, …): see sqlite_dialect.hpp.
  Stmt prepare(std::string_view sql);
  /// The same for SQL in a string literal, found by its address rather than by hashing and
  /// comparing its text (for hot paths). `sql` must have static storage duration.
  Stmt prepare_literal(const char* sql);
  /// Rows changed by the last statement.
  std::int64_t changes() const;
  sqlite3* handle() const { return db_; }
  /// Called before each pool lease; a SQLite connection is always ready.
  void ready() {}

 private:
  // Looked up by string_view: a cache hit allocates nothing.
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> cache_;
  std::unordered_map<const char*, sqlite3_stmt*> literals_;  // statements of cache_, by literal
};

/// BEGIN IMMEDIATE (takes the write lock) on construction, or BEGIN for a read snapshot;
/// ROLLBACK unless commit() was called.
class Transaction {
 public:
  enum class Kind { write, read_snapshot };
  explicit Transaction(Connection& c, Kind kind = Kind::write);
  ~Transaction();
  void commit();

 private:
  Connection& c_;
  bool done_ = false;
};

/// A fixed set of connections handed out one caller at a time, and the checkpointer that keeps
/// their WAL short (their commits never checkpoint). Thread-safe.
class Pool {
 public:
  /// WAL lengths, in pages, at which the checkpointer copies the WAL back (PASSIVE) and at
  /// which it makes the next writer start the WAL over (RESTART); see sqlite_checkpointer.hpp.
  static constexpr int kPassiveCheckpointFrames = 2000;
  static constexpr int kRestartCheckpointFrames = 40000;

  using Connection = sqlite::Connection;
  using Lease = sql::ConnectionPool<Connection>::Lease;

  Pool(const std::string& path, int size);
  ~Pool();

  Lease acquire() { return conns_.acquire(); }
  const Checkpointer& checkpointer() const { return *checkpointer_; }
  /// A connection of its own for one writer, outside the pool; the checkpointer watches it as
  /// it watches the pool's. Destroy it before the pool.
  std::unique_ptr<Connection> open_dedicated();

 private:
  std::string path_;
  std::unique_ptr<Checkpointer> checkpointer_;  // outlives the connections it watches
  sql::ConnectionPool<Connection> conns_;
};

using sql::with_conn;

}  // namespace parley::store::sqlite
