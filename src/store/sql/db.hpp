#pragma once
// The seam between the shared SQL layer (store/sql/) and a database driver (store/sqlite/,
// store/postgres/). A driver provides a Connection with prepare()/exec()/changes(), a Stmt with
// bind…()/step()/run() and typed column reads, a Transaction, a Pool of connections
// (sql::ConnectionPool), and an exception type derived from DbError. Queries are written once,
// in PostgreSQL's dialect; the SQLite driver translates them when it prepares them
// (sqlite_dialect.hpp). What the two databases really do differently is a member of the
// driver's dialect struct (see SqliteDialect, PostgresDialect): row locks, a few statements.
#include <stdexcept>
#include <string>
#include <utility>

#include "core/error.hpp"

namespace parley::store::sql {

/// A failure reported by a database driver. Throw it inside a with_conn() call; with_conn turns
/// it into an Error value at the store's boundary.
class DbError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  /// Integrity constraint violated (unique, foreign key, check, not null).
  virtual bool constraint() const = 0;
  /// The Error value callers see: conflict, unavailable (retry), validation or internal (logged).
  virtual Error to_error() const = 0;
};

/// Runs `fn` with a pooled connection and turns database failures into Error values.
template <class Pool, class Fn>
auto with_conn(Pool& pool, Fn&& fn) -> decltype(fn(std::declval<typename Pool::Connection&>())) {
  try {
    auto lease = pool.acquire();
    return fn(*lease);
  } catch (const DbError& e) {
    return e.to_error();
  }
}

}  // namespace parley::store::sql
