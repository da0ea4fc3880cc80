// The chat store on SQLite: the shared queries (store/sql/chat_store_impl.hpp) over the
// embedded store's pool, with SQLite's own send batch writer (sqlite_send_batch.cpp).
#include "store/sqlite/sqlite_chat_store.hpp"

#include "store/sql/chat_store_impl.hpp"
#include "store/sqlite/sqlite_dialect.hpp"
#include "store/sqlite/sqlite_send_batch.hpp"

namespace parley::store::sqlite {

std::unique_ptr<ChatStore> make_sqlite_chat_store(Pool& pool) {
  return std::make_unique<sql::SqlChatStore<SqliteDialect, SendWriter>>(pool);
}

}  // namespace parley::store::sqlite
