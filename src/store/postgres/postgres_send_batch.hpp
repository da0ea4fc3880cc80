#pragma once
// Group commit on PostgreSQL: the body of PostgresChatStore::send_batch (see store/chat_store.hpp).
#include <vector>

#include "store/chat_store.hpp"

namespace parley::store::postgres {

class Pool;

/// Stores a batch of sends in one transaction with a fixed number of round trips whatever its
/// size: lock the channel rows, fetch members and earlier copies, decide every send (a refused
/// send never reaches a write), then one statement moves each channel's last_seq with
/// UPDATE … RETURNING past the seqs handed out (checked), inserts the rows from array
/// parameters and moves the senders' read positions. Retries a deadlock or serialization
/// failure twice. Blocking.
void send_batch(Pool& pool, std::vector<QueuedSend>& batch, const SendRule& rule);

}  // namespace parley::store::postgres
