#pragma once
// Thin RAII layer over the SQLite C API: a connection with a cache of prepared statements,
// borrowed statements that reset themselves, transactions, and a bounded connection pool.
// A connection is used by one thread at a time (the pool hands it out exclusively).
// Failures throw SqliteError; the store converts them to Error values at its boundary.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace parley::store::sqlite {

class Checkpointer;

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }
  bool busy() const;
  bool constraint() const;

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
  /// A cached prepared statement for `sql` (prepared on first use).
  Stmt prepare(std::string_view sql);
  /// The same for SQL in a string literal, found by its address rather than by hashing and
  /// comparing its text (for hot paths). `sql` must have static storage duration.
  Stmt prepare_literal(const char* sql);
  /// Rows changed by the last statement.
  std::int64_t changes() const;
  sqlite3* handle() const { return db_; }

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

/// BEGIN IMMEDIATE on construction; ROLLBACK unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Connection& c);
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

  Pool(const std::string& path, int size);
  ~Pool();

  class Lease {
   public:
    Lease(Pool& p, Connection* c) : pool_(p), conn_(c) {}
    Lease(const Lease&) = delete;
    ~Lease() { pool_.release(conn_); }
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_; }

   private:
    Pool& pool_;
    Connection* conn_;
  };

  Lease acquire();
  const Checkpointer& checkpointer() const { return *checkpointer_; }
  /// A connection of its own for one writer, outside the pool; the checkpointer watches it as
  /// it watches the pool's. Destroy it before the pool.
  std::unique_ptr<Connection> open_dedicated();

 private:
  void release(Connection* c);

  std::string path_;
  std::unique_ptr<Checkpointer> checkpointer_;  // outlives the connections it watches
  std::vector<std::unique_ptr<Connection>> all_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Connection*> free_;  // guarded by mu_
};

/// Maps a SQLite failure to an Error value: busy -> unavailable, constraint -> conflict,
/// anything else -> internal (logged).
Error to_error(const SqliteError& e);

/// Runs `fn` with a pooled connection and turns SQLite failures into Error values.
template <class Fn>
auto with_conn(Pool& pool, Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
  try {
    auto lease = pool.acquire();
    return fn(*lease);
  } catch (const SqliteError& e) {
    return to_error(e);
  }
}

}  // namespace parley::store::sqlite
