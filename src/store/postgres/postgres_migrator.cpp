// Migrations for the PostgreSQL store: the shared migrator (store/sql/migrator_impl.hpp) on
// PostgreSQL.
#include "store/postgres/postgres_migrator.hpp"

#include "store/postgres/postgres_dialect.hpp"
#include "store/sql/migrator_impl.hpp"

namespace parley::store::postgres {

std::unique_ptr<Migrator> open_postgres_migrator(const std::string& url) {
  return sql::open_sql_migrator<PostgresDialect>(url, postgres_migrations());
}

}  // namespace parley::store::postgres
