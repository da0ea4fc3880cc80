// The embedded store: the shared queries (store/sql/store_impl.hpp) on SQLite.
#include "store/sqlite/sqlite_store.hpp"

#include <stdexcept>

#include "store/sql/store_impl.hpp"
#include "store/sqlite/sqlite_chat_store.hpp"
#include "store/sqlite/sqlite_dialect.hpp"

namespace parley::store::sqlite {

std::unique_ptr<Store> open_sqlite_store(const std::string& path, int connections) {
  try {
    return std::make_unique<sql::SqlStore<SqliteDialect>>("sqlite", path, connections, &make_sqlite_chat_store);
  } catch (const SqliteError& e) {
    throw std::runtime_error(e.what());
  }
}

}  // namespace parley::store::sqlite
