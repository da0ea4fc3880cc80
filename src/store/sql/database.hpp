#pragma once
// The shared SQL layer as a capability module sees it: one Database (whichever driver the store
// runs on) handing out connections, statements and transactions behind small interfaces, so a
// module writes its queries once, in PostgreSQL's dialect (the SQLite driver translates them),
// and compiles them once — no template, no per-backend file. Statement has the same bind/step/
// column calls as the drivers' own statements, so the row readers of store/ work on it too.
// Each call costs a virtual dispatch and each prepare a small allocation: right for a module's
// queries; the hot paths (the send batch, the chat store) stay on the drivers directly.
// How a capability adds its storage: docs/architecture.md, "How to add a capability".
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "core/error.hpp"

namespace parley::store::sql {

/// A prepared statement on one connection; reset when destroyed. Parameters are numbered from 1
/// ($1 …), columns from 0. Failures throw DbError (store/sql/db.hpp), which Database::with_conn
/// turns into an Error.
class Statement {
 public:
  virtual ~Statement() = default;

  virtual Statement& bind(int idx, std::int64_t v) = 0;
  virtual Statement& bind(int idx, std::string_view v) = 0;
  virtual Statement& bind_bool(int idx, bool v) = 0;
  virtual Statement& bind_blob(int idx, std::string_view v) = 0;
  virtual Statement& bind_null(int idx) = 0;
  Statement& bind(int idx, int v) { return bind(idx, static_cast<std::int64_t>(v)); }
  Statement& bind(int idx, const std::string& v) { return bind(idx, std::string_view(v)); }
  Statement& bind(int idx, const char* v) { return bind(idx, std::string_view(v)); }
  template <class T>
  Statement& bind(int idx, const std::optional<T>& v) {
    return v ? bind(idx, *v) : bind_null(idx);
  }

  /// Steps once: true when a row is available, false when done.
  virtual bool step() = 0;
  /// Steps to completion (for statements without rows).
  virtual void run() = 0;

  virtual bool is_null(int col) const = 0;
  virtual std::int64_t int64(int col) const = 0;
  virtual bool boolean(int col) const = 0;
  virtual std::string text(int col) const = 0;
  virtual std::string blob(int col) const = 0;
  virtual std::optional<std::int64_t> opt_int64(int col) const = 0;
  virtual std::optional<std::string> opt_text(int col) const = 0;
};

/// One pooled connection, leased to one caller at a time.
class Connection {
 public:
  virtual ~Connection() = default;
  /// A prepared statement for `sql` (cached by the driver after the first use).
  virtual std::unique_ptr<Statement> prepare(std::string_view sql) = 0;
  /// Runs SQL text with no parameters.
  virtual void exec(const std::string& sql) = 0;
  /// Rows changed by the last statement.
  virtual std::int64_t changes() const = 0;

 private:
  friend class Transaction;
  // A write transaction takes SQLite's write lock at once (BEGIN IMMEDIATE); on PostgreSQL,
  // where writers run side by side, a read that decides a write locks its row (FOR UPDATE).
  virtual void begin(bool write) = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
};

/// A transaction on a connection: rolled back unless commit() was called.
class Transaction {
 public:
  enum class Kind { write, read_snapshot };
  explicit Transaction(Connection& c, Kind kind = Kind::write) : c_(c) { c_.begin(kind == Kind::write); }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (!done_) c_.rollback();
  }
  void commit() {
    c_.commit();
    done_ = true;
  }

 private:
  Connection& c_;
  bool done_ = false;
};

/// The store's database: "sqlite" or "postgres", and a pool of connections. Thread-safe.
class Database {
 public:
  virtual ~Database() = default;
  virtual std::string driver() const = 0;

  /// Runs `fn(Connection&)` on a pooled connection and returns what it returns (a Result or a
  /// Status); a database failure inside becomes its Error (conflict, unavailable, internal).
  template <class Fn>
  auto with_conn(Fn&& fn) -> std::invoke_result_t<Fn&, Connection&> {
    std::optional<std::invoke_result_t<Fn&, Connection&>> out;
    Status ran = lease([&](Connection& c) { out.emplace(fn(c)); });
    if (!ran) return std::move(ran).error();
    return std::move(*out);
  }

 protected:
  /// A function called with a leased connection.
  class Body {
   public:
    Body() = default;
    Body(const Body&) = delete;
    Body& operator=(const Body&) = delete;
    virtual ~Body() = default;
    virtual void operator()(Connection& c) = 0;
  };

 private:
  template <class F>
  class BodyOf final : public Body {
   public:
    explicit BodyOf(F& f) : f_(f) {}
    void operator()(Connection& c) override { f_(c); }

   private:
    F& f_;
  };
  template <class F>
  Status lease(F&& f) {
    BodyOf<std::remove_reference_t<F>> body(f);
    return run(body);
  }
  /// Leases a connection, runs `body` with it, and turns a DbError into its Error.
  virtual Status run(Body& body) = 0;
};

}  // namespace parley::store::sql
