// The SQLite driver's reading of PostgreSQL-dialect SQL (store/sqlite/sqlite_dialect.hpp): what
// it rewrites, what it leaves alone, and that the result runs on a real SQLite database.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/crypto.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_dialect.hpp"

namespace parley::store::sqlite {
namespace {

TEST(SqliteDialect, NumberedParametersBecomeQuestionMarksWithTheSameNumbers) {
  EXPECT_EQ(from_postgres_dialect("SELECT a FROM t WHERE x = $1 AND y = $12 OR z = $1"),
            "SELECT a FROM t WHERE x = ?1 AND y = ?12 OR z = ?1");
}

TEST(SqliteDialect, CastsCollationsAndRowLocksAreDropped) {
  EXPECT_EQ(from_postgres_dialect("SELECT coalesce(sum(u), 0)::bigint FROM t WHERE ($3::text IS NULL OR a = $3)"),
            "SELECT coalesce(sum(u), 0) FROM t WHERE (?3 IS NULL OR a = ?3)");
  EXPECT_EQ(from_postgres_dialect("SELECT lower($4::text COLLATE \"C\"), b::text[] FROM t"),
            "SELECT lower(?4), b FROM t");
  EXPECT_EQ(from_postgres_dialect("SELECT 1 FROM t WHERE id = $1 FOR NO KEY UPDATE"), "SELECT 1 FROM t WHERE id = ?1");
  EXPECT_EQ(from_postgres_dialect("WHERE id IN (SELECT id FROM t LIMIT $2 FOR UPDATE  SKIP LOCKED) RETURNING id"),
            "WHERE id IN (SELECT id FROM t LIMIT ?2) RETURNING id");
  EXPECT_EQ(from_postgres_dialect("SELECT a FROM t WHERE id = $1 for   update"), "SELECT a FROM t WHERE id = ?1");
}

TEST(SqliteDialect, GreatestAndLeastBecomeScalarMaxAndMin) {
  EXPECT_EQ(from_postgres_dialect("SET x = GREATEST(x, LEAST($4::bigint, y))"), "SET x = max(x, min(?4, y))");
  // Only the functions: a column that merely ends in the name is untouched.
  EXPECT_EQ(from_postgres_dialect("SELECT not_greatest(a), leastwise FROM t"),
            "SELECT not_greatest(a), leastwise FROM t");
}

TEST(SqliteDialect, StringLiteralsAreLeftAsTheyAre) {
  EXPECT_EQ(from_postgres_dialect("SELECT '$1::text FOR UPDATE', 'it''s $2' FROM t WHERE a LIKE $1 ESCAPE '\\'"),
            "SELECT '$1::text FOR UPDATE', 'it''s $2' FROM t WHERE a LIKE ?1 ESCAPE '\\'");
}

TEST(SqliteDialect, SqliteStyleSqlPassesThroughUnchanged) {
  const std::string sql = "INSERT INTO t(a, b) VALUES(?, ?) ON CONFLICT(a) DO UPDATE SET b = excluded.b";
  EXPECT_EQ(from_postgres_dialect(sql), sql);
}

TEST(SqliteDialect, TranslatedStatementsRunOnSqlite) {
  auto path = std::filesystem::temp_directory_path() / ("parley-dialect-" + crypto::random_id("", 12) + ".db");
  {
    Connection c(path.string());
    c.exec("CREATE TABLE t(id TEXT PRIMARY KEY, n INTEGER NOT NULL, name TEXT)");
    c.prepare("INSERT INTO t(id, n, name) VALUES($1, $2::bigint, lower($3::text COLLATE \"C\"))")
        .bind(1, "a")
        .bind(2, 5)
        .bind(3, "MiXeD")
        .run();
    auto up = c.prepare("UPDATE t SET n = GREATEST(n, LEAST($2::bigint, 9)) WHERE id = $1 RETURNING n");
    up.bind(1, "a").bind(2, 20);
    ASSERT_TRUE(up.step());
    EXPECT_EQ(up.int64(0), 9);
    up.run();
    auto sel = c.prepare("SELECT name, n FROM t WHERE ($1::text IS NULL OR id = $1) FOR UPDATE");
    sel.bind_null(1);
    ASSERT_TRUE(sel.step());
    EXPECT_EQ(sel.text(0), "mixed");
    EXPECT_EQ(sel.int64(1), 9);
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

}  // namespace
}  // namespace parley::store::sqlite
