#pragma once
// The before-send hook (docs/bots.md, "Before-send hook"): an app may name one URL that Parley
// calls, synchronously, with every message before it is stored — signed like its webhooks
// (Standard Webhooks) — and that answers allow, reject (with a reason the sender sees) or
// rewrite (new text). It must answer within its timeout (default 500 ms); a timeout, an error
// status or an answer that is not one of those counts as a failure, which the app chose to
// treat as allow (fail open, the default) or reject (fail closed).
//
// Calls run on a pool of hook threads, never on a network thread. One sender's messages are
// judged one at a time, in the order they came, so they keep their order; different senders'
// run in parallel. Each node keeps every app's hook in memory (reloaded every 2 s, at once after
// a change on this node), so a send of an app without a hook costs one map lookup.
// Thread-safe.
#include <boost/asio/thread_pool.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "core/thread_annotations.hpp"
#include "core/time.hpp"

namespace parley::store::sql {
class Database;
}
namespace parley::outbound {
class HttpClient;
}

namespace parley::webhooks {

inline constexpr int kDefaultHookTimeoutMs = 500;
inline constexpr int kMaxHookTimeoutMs = 5000;

struct BeforeSendHook {
  std::string app_id;
  std::string url;
  std::string secret;  // whsec_…
  int timeout_ms = kDefaultHookTimeoutMs;
  bool fail_open = true;  // a failed call allows the message (true) or rejects it
  TimeMs created_at = 0;
  TimeMs updated_at = 0;
};

/// A create or a partial update of an app's hook.
struct HookInput {
  std::optional<std::string> url;
  std::optional<int> timeout_ms;
  std::optional<bool> fail_open;
};

/// The message a hook judges.
struct PendingMessage {
  std::string app_id;
  std::string user_id;
  std::string channel_id;
  std::string text;
  std::string attachments_json = "[]";
  std::optional<std::int64_t> parent_seq;
  std::optional<std::string> client_msg_id;
};

/// What became of a message: nullopt to send it as it is, a text to send instead; an error
/// (forbidden: rejected, with details reason; unavailable: the hook failed and fails closed)
/// to refuse it.
using HookOutcome = Result<std::optional<std::string>>;

class BeforeSendHooks {
 public:
  BeforeSendHooks(store::sql::Database& db, const outbound::HttpClient& http, int threads = 8);
  ~BeforeSendHooks();
  BeforeSendHooks(const BeforeSendHooks&) = delete;
  BeforeSendHooks& operator=(const BeforeSendHooks&) = delete;

  /// Creates the app's hook (url required; a new secret) or changes the given fields.
  Result<BeforeSendHook> put(const std::string& app_id, const HookInput& in);
  Result<BeforeSendHook> get(const std::string& app_id);
  Status remove(const std::string& app_id);
  /// A new secret (the old one stops signing at once).
  Result<BeforeSendHook> rotate_secret(const std::string& app_id);

  /// Loads every hook and starts the reloader; before serving.
  void start();
  /// Fails what waits with unavailable, waits for running calls, stops; idempotent.
  void stop();

  /// Whether the app has a hook (as of the last reload). Never blocks.
  bool applies(const std::string& app_id) const;
  /// Judges `m` on a hook thread; `done` runs there with the outcome. Never blocks.
  void check(PendingMessage m, std::function<void(HookOutcome)> done);

 private:
  struct Waiting {
    PendingMessage message;
    std::function<void(HookOutcome)> done;
  };
  void reload();
  void reload_loop();
  void drain(const std::string& sender);
  HookOutcome call(const BeforeSendHook& hook, const PendingMessage& m) const;
  std::optional<BeforeSendHook> hook_of(const std::string& app_id) const;

  store::sql::Database& db_;
  const outbound::HttpClient& http_;
  boost::asio::thread_pool pool_;

  mutable Mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, BeforeSendHook> hooks_ GUARDED_BY(mu_);  // by app
  // Per sender (app and user): the messages waiting, the front one being judged.
  std::map<std::string, std::deque<Waiting>> senders_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread reloader_;
};

}  // namespace parley::webhooks
