// The PostgreSQL store: the shared queries (store/sql/store_impl.hpp) on PostgreSQL.
#include "store/postgres/postgres_store.hpp"

#include <stdexcept>

#include "store/postgres/postgres_chat_store.hpp"
#include "store/postgres/postgres_dialect.hpp"
#include "store/sql/store_impl.hpp"

namespace parley::store::postgres {

std::unique_ptr<Store> open_postgres_store(const std::string& url, int connections) {
  try {
    return std::make_unique<sql::SqlStore<PostgresDialect>>("postgres", url, connections, &make_postgres_chat_store);
  } catch (const PgError& e) {
    throw std::runtime_error(e.what());
  }
}

}  // namespace parley::store::postgres
