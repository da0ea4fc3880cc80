#pragma once
// The chat model on SQLite, sharing the embedded store's connection pool. Thread-safe.
#include <memory>

#include "store/chat_store.hpp"

namespace parley::store::sqlite {

class Pool;

std::unique_ptr<ChatStore> make_sqlite_chat_store(Pool& pool);

}  // namespace parley::store::sqlite
