#pragma once
// Outgoing webhooks (docs/webhooks.md): an app's endpoints (URL, event-type filter, a Standard
// Webhooks secret, rotatable with an overlap), the events that reach them, and their delivery.
// Events come from the bus after their change committed; a dispatcher thread writes one delivery
// per subscribed endpoint together with its job (webhook.deliver), and the job runner sends it:
// signed, at least once, retried on the configured schedule, logged per attempt. An endpoint
// whose deliveries keep failing for good is disabled, with an entry in the audit log.
// Thread-safe. The CRUD calls block on the database (call them from a database thread);
// on_event() never blocks.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bus/bus.hpp"
#include "core/thread_annotations.hpp"
#include "webhooks/webhook_store.hpp"

namespace parley::tenancy {
class AuditLog;
}
namespace parley::outbound {
class HttpClient;
}
namespace parley::jobs {
class Runner;
struct Job;
struct JobResult;
}  // namespace parley::jobs

namespace parley::webhooks {

struct WebhookOptions {
  std::vector<TimeMs> retry_delays_ms{5'000, 30'000, 120'000, 600'000, 1'800'000, 3'600'000, 10'800'000, 21'600'000};
  int disable_after = 20;  // deliveries in a row failed for good disable the endpoint
  int max_endpoints = 20;  // per app
  int timeout_ms = 10'000;
  std::size_t max_queued_events = 100'000;  // events waiting for the dispatcher, at most
  bool hold_events = false;                 // tests only (--test-hold-events): keep every event, dispatch none
};

/// "5s,30s,2m,1h": the delays before the 2nd, 3rd, … attempts (units ms, s, m, h).
Result<std::vector<TimeMs>> parse_retry_schedule(std::string_view text);
/// The event types an endpoint may subscribe to (server-side events; not typing or presence).
const std::vector<std::string>& subscribable_events();

/// A create or a partial update; absent fields are kept.
struct EndpointInput {
  std::optional<std::string> url;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> event_types;
  std::optional<bool> enabled;
  std::optional<std::string> bot_user_id;  // create only: the bot the endpoint acts for
  std::optional<bool> ordered;
};

/// What the webhooks need to know about users and channels, from the chat model (the server
/// wires it; this layer does not include chat). Both block on the database.
struct Directory {
  /// Whether `user_id` is a bot user of the app (not_found when no such user).
  std::function<Result<bool>(const std::string& app_id, const std::string& user_id)> is_bot;
  /// Whether `user_id` is a member of the channel now.
  std::function<Result<bool>(const std::string& app_id, const std::string& channel_id, const std::string& user_id)>
      is_member;
};

class WebhookService {
 public:
  WebhookService(store::sql::Database& db, tenancy::AuditLog& audit, const outbound::HttpClient& http,
                 WebhookOptions opts);
  ~WebhookService();
  WebhookService(const WebhookService&) = delete;
  WebhookService& operator=(const WebhookService&) = delete;

  Result<Endpoint> create(const std::string& app_id, const EndpointInput& in);
  Result<Endpoint> get(const std::string& app_id, const std::string& id);
  Result<std::vector<Endpoint>> list(const std::string& app_id);
  /// Re-enabling clears the failure count and the reason.
  Result<Endpoint> update(const std::string& app_id, const std::string& id, const EndpointInput& in);
  Status remove(const std::string& app_id, const std::string& id);
  /// A new secret; the old one keeps signing (as a second signature) for `overlap_ms`.
  Result<Endpoint> rotate_secret(const std::string& app_id, const std::string& id, TimeMs overlap_ms);
  /// Queues a "webhook.test" event to the endpoint (also when its filter would not match).
  Result<Delivery> send_test(const std::string& app_id, const std::string& id);
  Result<std::vector<Delivery>> deliveries(const std::string& app_id, const std::string& id, std::int64_t before_id,
                                           int limit);

  /// Set once at start-up, before start(); without it endpoints cannot act for bots.
  void set_directory(Directory d) { directory_ = std::move(d); }
  /// Whether the app may have an enabled endpoint (cheap, any thread; refreshed every 2 s).
  bool may_want(const std::string& /*app_id*/) const { return maybe_endpoints_.load(std::memory_order_relaxed); }
  /// The bus subscriber: queues the event for the dispatcher when any endpoint may want it.
  void on_event(const bus::Envelope& e);
  /// Registers the webhook.deliver job kind.
  void register_jobs(jobs::Runner& runner);
  /// Starts the dispatcher; `enqueued` is called after it queued deliveries (wakes the runner).
  void start(std::function<void()> enqueued);
  /// Dispatches what is queued, then stops the dispatcher; idempotent.
  void stop();

  /// Runs one delivery attempt (the webhook.deliver handler).
  jobs::JobResult deliver(const jobs::Job& job);
  /// A webhook.deliver job that died by lease expiry: its delivery failed for good.
  void expired(const jobs::Job& job);

 private:
  struct Event {
    std::string app_id;
    bus::EventType type;
    std::string channel_id;          // empty: a user event
    std::vector<std::string> users;  // a user event's recipients
    std::shared_ptr<const std::string> frame;
    std::int64_t seq = 0;
    std::shared_ptr<bus::Receipt> receipt;  // an outbox row's: let go once the deliveries are stored
  };
  struct CachedMembership {
    TimeMs loaded_at = 0;
    bool member = false;
  };
  struct CachedEndpoints {
    TimeMs loaded_at = 0;
    std::vector<Endpoint> endpoints;
  };

  void dispatch_loop();
  void dispatch(std::vector<Event>& batch);
  const std::vector<Endpoint>& endpoints_of(const std::string& app_id, TimeMs now);  // dispatcher thread
  bool reaches(const Endpoint& e, const Event& ev, TimeMs now);                      // dispatcher thread
  static std::optional<std::string> message_id_of(const Endpoint& e, const Event& ev);
  static std::optional<std::int64_t> delivery_id_of(const jobs::Job& job);
  void endpoints_changed(const std::string& app_id);
  Status check(const EndpointInput& in, bool creating) const;
  void disable(const Endpoint& e, int failures, TimeMs now);
  Result<Delivery> queue_one(const Endpoint& e, const std::string& type, const std::string& payload);

  WebhookStore store_;
  tenancy::AuditLog& audit_;
  const outbound::HttpClient& http_;
  const WebhookOptions opts_;
  std::function<void()> enqueued_;  // set by start(), before the dispatcher runs

  std::atomic<bool> maybe_endpoints_{true};  // false: no app has an enabled endpoint (refreshed)
  Mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_ GUARDED_BY(mu_);
  std::vector<std::string> changed_apps_ GUARDED_BY(mu_);  // endpoints changed: reload their cache
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::vector<std::shared_ptr<bus::Receipt>> held_ GUARDED_BY(mu_);  // hold_events only
  std::map<std::string, CachedEndpoints> cache_;                     // dispatcher thread only
  std::map<std::string, CachedMembership> members_;                  // dispatcher thread only; app/channel/user
  Directory directory_;                                              // set before start
  std::thread dispatcher_;
};

}  // namespace parley::webhooks
