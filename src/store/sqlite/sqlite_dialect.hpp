#pragma once
// The shared store queries (store/sql/) are written once, in PostgreSQL's dialect. SQLite
// understands nearly all of it; this rewrites the rest when a statement is first prepared on a
// connection (the result is cached with the statement, so it costs nothing per query):
//   $1, $2 …             -> ?1, ?2 …   (numbered parameters; ?N may repeat, as $N does)
//   expr::type            -> expr       (casts PostgreSQL needs to type a parameter)
//   … COLLATE "C"          -> …          (SQLite's lower() and comparisons are bytewise already)
//   GREATEST( / LEAST(    -> max( / min(  (SQLite's scalar two-argument forms)
//   FOR UPDATE [SKIP LOCKED], FOR NO KEY UPDATE -> removed (SQLite's single writer already
//                         serialises)
// Text inside '…' literals is left alone. SQL with none of these passes through unchanged.
#include <string>
#include <string_view>

#include "store/sqlite/sqlite_db.hpp"

namespace parley::store::sqlite {

std::string from_postgres_dialect(std::string_view sql);

/// SQLite as the shared SQL layer (store/sql/) sees it.
struct SqliteDialect {
  using Connection = sqlite::Connection;
  using Stmt = sqlite::Stmt;
  using Transaction = sqlite::Transaction;
  using Pool = sqlite::Pool;

  /// One writer at a time (BEGIN IMMEDIATE): a read that decides a write needs no row lock.
  static constexpr bool kRowLocks = false;

  /// Sets a message's reactions column to {"type":count,…} ordered by type ($1 app, $2
  /// channel, $3 seq).
  static constexpr const char* kRecountReactions =
      "UPDATE messages SET reactions = coalesce((SELECT json_group_object(type, n) FROM "
      "(SELECT type, count(*) AS n FROM reactions WHERE app_id = $1 AND channel_id = $2 AND seq = $3 "
      "GROUP BY type ORDER BY type)), '{}') WHERE app_id = $1 AND channel_id = $2 AND seq = $3";

  /// A database state the store cannot continue from (a row that must exist is gone).
  [[noreturn]] static void fail(const std::string& what) { throw SqliteError(0, what); }

  /// Opens the transaction a migration runs in: BEGIN IMMEDIATE keeps other processes out.
  static void begin_migration(Connection& c) { c.exec("BEGIN IMMEDIATE"); }
};

}  // namespace parley::store::sqlite
