#pragma once
// Group commit on SQLite: the body of SqliteChatStore::send_batch (see store/chat_store.hpp).
#include <vector>

#include "store/chat_store.hpp"

namespace parley::store::sqlite {

class Pool;

/// Stores a batch of sends in one BEGIN IMMEDIATE transaction, each inside its own savepoint
/// so a send that fails (rule, bad parent, constraint) is rolled back alone. Blocking.
void send_batch(Pool& pool, std::vector<QueuedSend>& batch, const SendRule& rule);

}  // namespace parley::store::sqlite
