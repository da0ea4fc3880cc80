#pragma once
// Group commit on PostgreSQL: the body of PostgresChatStore::send_batch (see store/chat_store.hpp).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "store/chat_store.hpp"

namespace parley::store::postgres {

class Pool;

/// Whether a batch looks for earlier copies of its sends (same client_msg_id: a client's retry)
/// before it writes. Retries are rare, and the lookup is one index probe per send on the server,
/// so batches skip it and let the idempotency index find a copy: the batch's insert then fails
/// (unique violation, 23505), rolls back, and runs again with the lookup — and so do the
/// batches of the next `window`, since retries come in bursts (a client resending what was
/// unacknowledged when its connection dropped). Thread-safe.
class CopyLookups {
 public:
  explicit CopyLookups(std::chrono::milliseconds window = std::chrono::seconds(10)) : window_(window) {}
  bool wanted() const;
  void conflict_seen();

 private:
  const std::chrono::milliseconds window_;
  std::atomic<std::int64_t> until_{0};  // steady-clock milliseconds
};

/// Stores a batch of sends in one transaction with a fixed number of round trips whatever its
/// size: lock the channel rows, fetch members (and earlier copies, see CopyLookups), decide
/// every send (a refused send never reaches a write), then one statement moves each channel's
/// last_seq with UPDATE … RETURNING past the seqs handed out (checked), inserts the rows from
/// array parameters and moves the senders' read positions. Retries a deadlock or serialization
/// failure twice. Blocking.
void send_batch(Pool& pool, std::vector<QueuedSend>& batch, const SendRule& rule, CopyLookups& lookups);

}  // namespace parley::store::postgres
