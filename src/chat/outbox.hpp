#pragma once
// The transactional outbox of sends (docs/jobs.md, "Outbox"). A committed message always
// reaches its durable consumers (webhook deliveries, link preview jobs), also when its node dies
// between the commit and the moment those consumers stored what the message causes:
//  - a send batch writes an outbox row per channel (store::outbox_rows) in its transaction for
//    the messages `wants()` says have durable consumers;
//  - the batch's events carry the row's receipt (bus/receipt.hpp); once every consumer let go
//    of it, the cleaner thread deletes the row (batched, one transaction per flush);
//  - rows older than `replay_after_ms` that no receipt of this process holds belong to a node
//    that died (or a consumer that failed): ChatService::replay_outbox() publishes their
//    messages' events again, to the durable consumers only, and the row goes as above.
// Consumers may so see an event twice (at least once): webhook deliveries of a message keep
// their webhook-id for receivers to deduplicate, link previews their job's unique key.
// Thread-safe.
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bus/receipt.hpp"
#include "core/thread_annotations.hpp"
#include "store/chat_store.hpp"
#include "tenancy/tenancy_service.hpp"

namespace parley::chat {

struct OutboxOptions {
  TimeMs replay_after_ms = 60'000;  // a row this old that nobody here holds is replayed
  int flush_ms = 50;                // settled rows are deleted this often, at most
  std::size_t flush_max = 512;      // or as soon as this many are waiting
};

/// Whether a new message has durable consumers; runs on a committer thread for every send, so
/// it must be cheap and must not block.
using OutboxFilter = std::function<bool(const tenancy::App& app, std::string_view text)>;

class Outbox {
 public:
  Outbox(store::ChatStore& chat, OutboxOptions options);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  /// Set once before serving; without one no message is written to the outbox.
  void set_filter(OutboxFilter f) { filter_ = std::move(f); }
  bool wants(const tenancy::App& app, std::string_view text) const { return filter_ && filter_(app, text); }

  /// The receipt of a row that is written (or being replayed): when it settles well the row is
  /// deleted; when a holder failed, the row stays for a later replay.
  std::shared_ptr<bus::Receipt> receipt(store::OutboxRow row);
  /// The rows to replay: older than replay_after_ms and held by no receipt of this process.
  Result<std::vector<store::OutboxRow>> stale(TimeMs now, int limit);
  /// Receipts alive (rows written or replayed, not yet settled).
  std::size_t pending() const;

  void start();
  /// Deletes the rows settled so far, then ends the cleaner; idempotent.
  void stop();

 private:
  static std::string key(const store::OutboxRow& r);
  void settled(const store::OutboxRow& row, bool ok);
  void clean_loop();

  store::ChatStore& chat_;
  const OutboxOptions opts_;
  OutboxFilter filter_;  // set before serving
  mutable Mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> live_ GUARDED_BY(mu_);          // keys of the rows with a receipt alive
  std::vector<store::OutboxRow> done_ GUARDED_BY(mu_);  // settled well: to delete
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread cleaner_;
};

}  // namespace parley::chat
