#pragma once
// PostgreSQL as the shared SQL layer (store/sql/) sees it: the queries are written in its
// dialect, so it differs only where its writers run side by side (row locks) and in the few
// statements below.
#include <cstdint>
#include <string>

#include "store/postgres/pg_db.hpp"

namespace parley::store::postgres {

struct PostgresDialect {
  using Connection = postgres::Connection;
  using Stmt = postgres::Stmt;
  using Transaction = postgres::Transaction;
  using Pool = postgres::Pool;

  /// Writers run side by side at READ COMMITTED: a read that decides a write locks its row.
  static constexpr bool kRowLocks = true;

  /// Sets a message's reactions column to {"type":count,…} ordered by type, as SQLite's
  /// json_group_object writes it ($1 app, $2 channel, $3 seq).
  static constexpr const char* kRecountReactions =
      "UPDATE messages SET reactions = coalesce((SELECT '{' || string_agg(to_json(r.type)::text || ':' || r.n, "
      "',' ORDER BY r.type) || '}' FROM (SELECT type, count(*) AS n FROM reactions WHERE app_id = $1 "
      "AND channel_id = $2 AND seq = $3 GROUP BY type) r), '{}') "
      "WHERE app_id = $1 AND channel_id = $2 AND seq = $3";

  [[noreturn]] static void fail(const std::string& what) { throw PgError("", false, what); }

  /// Opens the transaction a migration runs in, holding a transaction-level advisory lock that
  /// every Parley process migrating this database takes.
  static void begin_migration(Connection& c) {
    constexpr std::int64_t kMigrationLock = 0x7061726c6579;  // "parley"
    c.exec("BEGIN");
    auto st = c.prepare("SELECT pg_advisory_xact_lock($1)");
    st.bind(1, kMigrationLock).run();
  }
};

}  // namespace parley::store::postgres
