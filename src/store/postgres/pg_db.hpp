#pragma once
// Thin RAII layer over libpq, shaped like the SQLite one (sqlite_db.hpp) so both stores read
// alike: a connection with a cache of prepared statements (PQprepare once per connection and
// SQL text, then PQexecPrepared with text parameters, binary for bytea), borrowed statements,
// transactions, and a bounded connection pool whose connections are used by one thread at a
// time. A connection that broke (server restart, network) is reset when it is next leased.
// Failures throw PgError; the store converts them to Error values at its boundary.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "store/sql/db.hpp"
#include "store/sql/pool.hpp"

struct pg_conn;
struct pg_result;

namespace parley::store::postgres {

class PgError : public sql::DbError {
 public:
  /// `sqlstate` is the five-character SQLSTATE, empty when the server sent none.
  PgError(std::string sqlstate, bool connection_lost, const std::string& what)
      : sql::DbError(what), sqlstate_(std::move(sqlstate)), connection_lost_(connection_lost) {}
  const std::string& sqlstate() const { return sqlstate_; }
  /// The connection is gone (or could not be made): the database is unreachable for now.
  bool connection_lost() const { return connection_lost_; }
  /// Integrity constraint violations (class 23: unique, foreign key, check, not null).
  bool constraint() const override { return sqlstate_.starts_with("23"); }
  /// Serialization failure or deadlock: the same call may succeed when retried.
  bool retryable() const { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }
  /// The server cannot serve now: connection failures, timeouts, shutdown, resource limits.
  bool unavailable() const;
  /// Constraint violations -> conflict; deadlock, serialization failure, timeouts and lost
  /// connections -> unavailable (retryable); text the database cannot store (a NUL character)
  /// -> validation_failed; anything else -> internal (logged with the server's message).
  Error to_error() const override;

 private:
  std::string sqlstate_;
  bool connection_lost_;
};

class Connection;

/// A one-dimensional text[] or bigint[] parameter in PostgreSQL's binary array format, built
/// element by element and bound with Stmt::bind_array: the server reads each element's length
/// instead of parsing and unquoting an array literal. The statement must cast the parameter to
/// the same element type ($1::text[], $2::bigint[]).
class ArrayParam {
 public:
  enum class Type { text, int8 };
  explicit ArrayParam(Type type);

  /// A text element; throws PgError (22021) for a NUL character, as Stmt::bind does.
  ArrayParam& add(std::string_view v);
  ArrayParam& add(std::int64_t v);
  ArrayParam& add_null();
  template <class T>
  ArrayParam& add(const std::optional<T>& v) {
    return v ? add(*v) : add_null();
  }
  int size() const { return count_; }

 private:
  friend class Stmt;
  /// The array's bytes; the builder is empty afterwards.
  std::string take();
  /// Appends an element's length word and room for `bytes` bytes; returns where they go.
  char* element(std::int32_t length, std::size_t bytes);

  Type type_;
  std::string out_;  // the header (its count and null flag filled in by take()), then the elements
  int count_ = 0;
  bool nulls_ = false;
};

/// A prepared statement borrowed from a connection's cache, with its parameters and, once
/// executed, its result. Parameters are numbered from 1 like $1, $2, ….
class Stmt {
 public:
  Stmt(Connection& c, std::string name) : conn_(c), name_(std::move(name)) {}
  Stmt(Stmt&& o) noexcept
      : conn_(o.conn_),
        name_(std::move(o.name_)),
        values_(std::move(o.values_)),
        formats_(std::move(o.formats_)),
        res_(std::exchange(o.res_, nullptr)),
        rows_(o.rows_),
        row_(o.row_) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Stmt& bind(int idx, std::int64_t v);
  Stmt& bind(int idx, int v) { return bind(idx, static_cast<std::int64_t>(v)); }
  Stmt& bind(int idx, std::string_view v);
  Stmt& bind(int idx, const std::string& v) { return bind(idx, std::string_view(v)); }
  Stmt& bind(int idx, const char* v) { return bind(idx, std::string_view(v)); }
  Stmt& bind_bool(int idx, bool v);
  /// Raw bytes for a bytea parameter (sent in binary format).
  Stmt& bind_blob(int idx, std::string_view v);
  Stmt& bind_null(int idx);
  /// An array parameter, sent in binary format (the builder is emptied).
  Stmt& bind_array(int idx, ArrayParam& a);
  template <class T>
  Stmt& bind(int idx, const std::optional<T>& v) {
    return v ? bind(idx, *v) : bind_null(idx);
  }

  /// Executes on the first call (or takes the result Pipeline::receive gave it); then moves to
  /// the next row: true when a row is available.
  bool step();
  /// Executes (if not yet done); for statements whose rows are not needed.
  void run();

  bool is_null(int col) const;
  std::int64_t int64(int col) const;
  bool boolean(int col) const;
  std::string text(int col) const;
  /// A bytea column as raw bytes.
  std::string blob(int col) const;
  std::optional<std::int64_t> opt_int64(int col) const;
  std::optional<std::string> opt_text(int col) const;

 private:
  friend class Pipeline;
  void set(int idx, std::optional<std::string> value, int format);
  void execute();
  /// Queues the statement on a connection in pipeline mode.
  void send();
  /// Takes the statement's result (a PGRES_COMMAND_OK or PGRES_TUPLES_OK result).
  void take(pg_result* res);
  const char* cell(int col) const;

  Connection& conn_;
  std::string name_;
  std::vector<std::optional<std::string>> values_;
  std::vector<int> formats_;
  pg_result* res_ = nullptr;
  int rows_ = 0;
  int row_ = -1;
};

class Connection {
 public:
  /// Connects to `url` (a libpq URI: postgres://user:pass@host:port/db?…) with a connect
  /// timeout and a statement timeout, unless the URL sets its own. Throws PgError.
  explicit Connection(const std::string& url);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Runs SQL text with no parameters (schema scripts, transaction control). Throws PgError.
  void exec(const std::string& sql);
  /// A cached prepared statement for `sql` (prepared on this connection on first use).
  Stmt prepare(std::string_view sql);
  /// Rows changed (or returned) by the last statement executed through prepare().
  std::int64_t changes() const { return changes_; }

  /// Makes the connection usable before a lease: reconnects when it broke, and rolls back a
  /// transaction a failed caller may have left open. Throws PgError when it cannot.
  void ready();

 private:
  friend class Stmt;
  friend class Pipeline;
  [[noreturn]] void fail(pg_result* res, std::string_view context);

  pg_conn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> cache_;  // SQL text -> statement name
  std::int64_t changes_ = 0;
  int next_name_ = 0;
};

/// One flight of statements in libpq's pipeline mode: send() queues them, sync() sends them all
/// at once, and receive() takes their results in the order sent, so the flight costs one round
/// trip however many statements it holds. Statements are prepared (Connection::prepare) before
/// the pipeline starts: preparing is a round trip of its own. When a statement fails, receive()
/// throws its PgError; the server skips the rest of the flight, and the destructor reads what is
/// left and leaves pipeline mode, so the connection can run a ROLLBACK. One thread; the
/// connection runs nothing else while the pipeline lives.
class Pipeline {
 public:
  explicit Pipeline(Connection& c);
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  ~Pipeline();

  /// Queues a prepared statement with its parameters.
  void send(Stmt& st);
  /// Queues a statement without parameters or rows (BEGIN, COMMIT, …).
  void send(const char* sql);
  /// Sends everything queued.
  void sync();
  /// The next result, for `st` (its rows are then read with step()).
  void receive(Stmt& st);
  /// The next result, for a statement queued by send(const char*); a COMMIT that answers
  /// ROLLBACK (its transaction had failed) throws like Connection::exec.
  void receive(const char* sql);

 private:
  pg_result* next(std::string_view context);
  void drain();

  Connection& c_;
  bool synced_ = false;
  bool drained_ = false;
};

/// BEGIN on construction; ROLLBACK unless commit() was called. READ COMMITTED by default: the
/// stores take the row locks they need (UPDATE … RETURNING, SELECT … FOR UPDATE) explicitly.
class Transaction {
 public:
  enum class Kind { write, read_snapshot };
  explicit Transaction(Connection& c, Kind kind = Kind::write);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& c_;
  bool done_ = false;
};

/// A fixed set of connections handed out one caller at a time; a connection that broke is
/// reconnected when it is next leased (Connection::ready). Thread-safe.
class Pool : public sql::ConnectionPool<Connection> {
 public:
  /// Opens `size` connections; throws PgError when the first cannot be made.
  Pool(const std::string& url, int size) {
    for (int i = 0; i < size; ++i) add(std::make_unique<Connection>(url));
  }
};

using sql::with_conn;

}  // namespace parley::store::postgres
