#pragma once
// Group commit on SQLite: the body of SqliteChatStore::send_batch (see store/chat_store.hpp).
#include <memory>
#include <vector>

#include "core/thread_annotations.hpp"
#include "store/chat_store.hpp"

namespace parley::store::sqlite {

class Connection;
class Pool;
struct SendCache;

/// Stores batches of sends, each in one BEGIN IMMEDIATE transaction, on a connection of its own.
/// Every check of a send (rule, parent) runs before its first write, so a refused send writes
/// nothing; an earlier copy (same client_msg_id, stored before or earlier in the batch) is found
/// by the insert itself, which then writes nothing (`ON CONFLICT DO NOTHING`), and read back. The
/// seqs of a channel continue its last_seq as read under the writer lock, and one UPDATE per
/// channel at the end moves last_seq past them. Takes the accepted sends' strings into their
/// results. Blocking; one batch at a time (SQLite has one writer anyway). Thread-safe.
///
/// What makes it cheaper than a pooled connection:
///  - the channel and member rows the rules read stay cached from batch to batch, as long as no
///    other connection (in this process or another) committed anything since: `PRAGMA
///    data_version`, read under the writer lock at the start of each batch, tells. The batches
///    keep the cached rows up to date with what they write themselves (last_seq, read and
///    mention positions);
///  - its foreign keys are off: the batch reads each channel row under the writer lock before
///    writing anything that references it, which is the check the constraint would make again
///    for every row. Deletes, and with them the cascades, run on the pool's connections.
class SendWriter {
 public:
  explicit SendWriter(Pool& pool);
  SendWriter(const SendWriter&) = delete;
  SendWriter& operator=(const SendWriter&) = delete;
  ~SendWriter();

  void send_batch(std::vector<QueuedSend>& batch, const SendRule& rule);

 private:
  Mutex mu_;
  std::unique_ptr<Connection> conn_ GUARDED_BY(mu_);
  std::unique_ptr<SendCache> cache_ GUARDED_BY(mu_);
};

}  // namespace parley::store::sqlite
