#pragma once
// Group commit on SQLite: the body of SqliteChatStore::send_batch (see store/chat_store.hpp).
#include <vector>

#include "store/chat_store.hpp"

namespace parley::store::sqlite {

class Pool;

/// Stores a batch of sends in one BEGIN IMMEDIATE transaction. Every check of a send (rule,
/// parent) runs before its first write, so a refused send writes nothing; an earlier copy (same
/// client_msg_id, stored before or earlier in the batch) is found by the insert itself, which
/// then writes nothing (`ON CONFLICT DO NOTHING`), and read back. The seqs of a channel continue
/// its last_seq as read under the writer lock, and one UPDATE … RETURNING per channel at the
/// end moves last_seq past them. Takes the accepted sends' strings into their results. Blocking.
void send_batch(Pool& pool, std::vector<QueuedSend>& batch, const SendRule& rule);

}  // namespace parley::store::sqlite
