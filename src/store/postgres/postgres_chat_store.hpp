#pragma once
// The chat model on PostgreSQL, sharing the store's connection pool. Thread-safe.
#include <memory>

#include "store/chat_store.hpp"

namespace parley::store::postgres {

class Pool;

std::unique_ptr<ChatStore> make_postgres_chat_store(Pool& pool);

}  // namespace parley::store::postgres
