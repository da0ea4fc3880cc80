#pragma once
// The search indexer: puts each channel's new messages into the search index after their sends
// committed, and re-indexes edited, deleted and purged ones (docs/search.md, "Consistency").
// Sends tell it which channels changed (on_event, from the bus); a sweep over every channel at
// start and every sweep_interval_ms finds what no event announced (a crash between commit and
// indexing, another node's sends). A channel's progress is a row (search_progress) read with a
// lock, so several nodes on one PostgreSQL database index side by side without doubling a
// message. One thread; on_event and wake are callable from any thread.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/thread_annotations.hpp"

namespace parley::bus {
struct Envelope;
}
namespace parley::store::sql {
class Database;
class Connection;
}  // namespace parley::store::sql

namespace parley::search {

struct IndexerOptions {
  int delay_ms = 100;             // after a change, wait this long to index several together
  int sweep_interval_ms = 30000;  // look at every channel this often
  int max_per_transaction = 500;  // messages indexed per write transaction
};

struct IndexerStats {
  std::int64_t indexed = 0;    // messages put into the index
  std::int64_t reindexed = 0;  // edited, deleted or removed messages handled
  std::int64_t passes = 0;
};

class Indexer {
 public:
  /// `language(app_id)`: the app's text search configuration (PostgreSQL; "simple" by default).
  Indexer(store::sql::Database& db, IndexerOptions opts, std::function<std::string(const std::string&)> language);
  ~Indexer();
  Indexer(const Indexer&) = delete;
  Indexer& operator=(const Indexer&) = delete;

  void start();
  /// Finishes the pass under way and joins the thread.
  void stop();

  /// A bus event: a new message marks its channel, an edit or delete asks for the dirty queue.
  void on_event(const bus::Envelope& e);

  /// Looks at every channel in the next pass instead of at the next sweep (an app's index was
  /// dropped to be built again). Any thread.
  void sweep_soon();

  /// Indexes everything pending now, on the caller's thread (tests and benchmarks; the thread
  /// must not be running). Returns the messages indexed and re-indexed.
  Result<std::int64_t> catch_up();

  IndexerStats stats() const;

 private:
  using ChannelKey = std::pair<std::string, std::string>;  // app, channel
  void loop();
  // One write transaction: the dirty queue, then the channels' new messages, up to the budget.
  // Channels with more left are put back into `todo`. Returns messages handled.
  Result<std::int64_t> pass(std::set<ChannelKey>& todo);
  Result<std::set<ChannelKey>> behind();  // channels whose newest seq is past their progress
  // A message a pass is to index.
  struct NewDoc {
    std::string app_id, channel_id;
    std::int64_t seq = 0;
    std::int64_t created_at = 0;
    std::string user_id, text;
  };
  // Moves the channel's progress past up to `budget` messages and adds those with text to `out`.
  std::int64_t index_channel(store::sql::Connection& c, const ChannelKey& ch, std::int64_t budget, bool& more,
                             std::vector<NewDoc>& out);
  std::int64_t reindex_dirty(store::sql::Connection& c, std::int64_t budget, bool& more);
  void add_doc(store::sql::Connection& c, const std::string& app_id, const std::string& channel_id, std::int64_t seq,
               const std::string& user_id, const std::string& text);

  store::sql::Database& db_;
  IndexerOptions opts_;
  std::function<std::string(const std::string&)> language_;
  bool postgres_;

  mutable Mutex mu_;
  std::condition_variable cv_;
  std::set<ChannelKey> pending_ GUARDED_BY(mu_);
  bool dirty_ GUARDED_BY(mu_) = true;  // look at the dirty queue
  bool stopping_ GUARDED_BY(mu_) = false;
  bool sweep_now_ GUARDED_BY(mu_) = false;
  IndexerStats stats_ GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace parley::search
