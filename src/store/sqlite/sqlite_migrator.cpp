// Migrations for the embedded store: the shared migrator (store/sql/migrator_impl.hpp) on SQLite.
#include "store/sqlite/sqlite_migrator.hpp"

#include "store/sql/migrator_impl.hpp"
#include "store/sqlite/sqlite_dialect.hpp"

namespace parley::store::sqlite {

std::unique_ptr<Migrator> open_sqlite_migrator(const std::string& path) {
  return sql::open_sql_migrator<SqliteDialect>(path, sqlite_migrations());
}

}  // namespace parley::store::sqlite
