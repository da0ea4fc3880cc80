#pragma once
// Link previews (docs/link-previews.md): the http(s) URLs in a message's text are fetched by a
// job (preview.message) through the SSRF-safe outbound client, their pages' OpenGraph,
// Twitter-card and oEmbed data are read (page_meta.hpp) and cached per app and URL
// (preview_cache.hpp), and the previews are attached to the message, which its channel hears as
// message.updated. An edit that changes the URLs runs the job again. Bounded: at most
// max_per_message URLs, max_bytes read per page, a timeout, a few redirects, only http(s) to
// addresses the outbound policy allows; per app on or off (setting link_previews).
//
// Events come from the bus after their message committed; a dispatcher thread turns the ones
// with URLs into jobs (one transaction per batch). Thread-safe: on_event() never blocks; the
// job handler blocks on the database and the network (it runs on a job worker).
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "bus/bus.hpp"
#include "core/thread_annotations.hpp"
#include "previews/page_meta.hpp"
#include "previews/preview_cache.hpp"
#include "store/chat_types.hpp"

namespace parley::store {
class ChatStore;
}
namespace parley::outbound {
class HttpClient;
}
namespace parley::jobs {
class JobQueue;
class Runner;
struct Job;
struct JobResult;
}  // namespace parley::jobs

namespace parley::previews {

struct PreviewOptions {
  std::size_t max_per_message = 3;               // URLs previewed per message, the first ones
  std::size_t max_bytes = std::size_t{1} << 20;  // of a page read at most; the rest is not fetched
  int timeout_ms = 5000;                         // per fetch, redirects included
  int max_redirects = 3;
  TimeMs ttl_ms = TimeMs{24} * 3600 * 1000;     // a preview is fetched again after this
  TimeMs failure_ttl_ms = TimeMs{3600} * 1000;  // a page without one (or unreachable) after this
  std::size_t max_queued_events = 100'000;      // events waiting for the dispatcher, at most
  bool hold_events = false;                     // tests only (--test-hold-events): keep every event, dispatch none
};

/// The job kinds.
inline constexpr const char* kPreviewKind = "preview.message";
inline constexpr const char* kPruneKind = "preview.prune";

class PreviewService {
 public:
  /// Whether an app has link previews on (its setting).
  using Enabled = std::function<bool(const std::string& app_id)>;
  /// Stores `previews_json` on the message as read (`m`) and announces it (ChatService).
  using Attach = std::function<Status(const store::MessageRecord& m, const std::string& previews_json)>;

  PreviewService(store::sql::Database& db, store::ChatStore& chat, const outbound::HttpClient& http,
                 PreviewOptions opts);
  ~PreviewService();
  PreviewService(const PreviewService&) = delete;
  PreviewService& operator=(const PreviewService&) = delete;

  /// Set once at start-up, before start().
  void set_hooks(Enabled enabled, Attach attach);
  /// The bus subscriber: queues message.new and message.updated events whose frame has a URL.
  void on_event(const bus::Envelope& e);
  /// Registers the job kinds and schedules the hourly cache prune.
  void register_jobs(jobs::Runner& runner, jobs::JobQueue& queue);
  /// Starts the dispatcher; `enqueued` is called after it queued jobs (wakes the runner).
  void start(std::function<void()> enqueued);
  /// Dispatches what is queued, then stops the dispatcher; idempotent.
  void stop();

  /// The preview.message handler: previews the message's URLs and attaches them.
  jobs::JobResult run(const jobs::Job& job);
  /// The preview of `url` for `app_id`: from the cache, else fetched and cached. nullopt when
  /// the page has nothing to show or cannot be fetched; an error only from the database.
  Result<std::optional<LinkPreview>> preview(const std::string& app_id, const std::string& url, TimeMs now);

 private:
  struct Event {
    std::string app_id;
    std::shared_ptr<const std::string> frame;
    std::shared_ptr<bus::Receipt> receipt;  // an outbox row's: let go once the jobs are queued
  };
  void dispatch_loop();
  void dispatch(std::vector<Event>& batch);
  std::optional<LinkPreview> fetch(const std::string& url) const;

  store::sql::Database& db_;
  store::ChatStore& chat_;
  const outbound::HttpClient& http_;
  PreviewCache cache_;
  const PreviewOptions opts_;
  Enabled enabled_;                 // set before start
  Attach attach_;                   // set before start
  std::function<void()> enqueued_;  // set by start(), before the dispatcher runs

  Mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::vector<std::shared_ptr<bus::Receipt>> held_ GUARDED_BY(mu_);  // hold_events only
  std::thread dispatcher_;
};

}  // namespace parley::previews
