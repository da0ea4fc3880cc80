#include "webhooks/before_send.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/crypto.hpp"
#include "outbound/http_client.hpp"
#include "store/sql/database.hpp"
#include "webhooks/signature.hpp"

namespace parley::webhooks {

namespace json = boost::json;
using store::sql::Connection;

namespace {

constexpr TimeMs kReloadMs = 2000;
constexpr std::size_t kMaxAnswerBytes = 64 << 10;
constexpr std::size_t kMaxUrl = 2000;
constexpr std::size_t kMaxReason = 500;
constexpr const char* kColumns = "app_id, url, secret, timeout_ms, on_failure, created_at, updated_at";

BeforeSendHook read_hook(const store::sql::Statement& st) {
  BeforeSendHook h;
  h.app_id = st.text(0);
  h.url = st.text(1);
  h.secret = st.text(2);
  h.timeout_ms = static_cast<int>(st.int64(3));
  h.fail_open = st.text(4) != "reject";
  h.created_at = st.int64(5);
  h.updated_at = st.int64(6);
  return h;
}

Error no_hook() { return not_found("before-send hook"); }

// What a failed call means for the message, as the app chose.
HookOutcome failed(const BeforeSendHook& h, const std::string& why) {
  spdlog::warn("before-send hook of app {} failed ({}): the message is {}", h.app_id, why,
               h.fail_open ? "allowed" : "refused");
  if (h.fail_open) return std::optional<std::string>{};
  return Error{Errc::unavailable, "the app's before-send hook did not answer in time or properly; retry"}.with("hook",
                                                                                                               why);
}

}  // namespace

BeforeSendHooks::BeforeSendHooks(store::sql::Database& db, const outbound::HttpClient& http, int threads)
    : db_(db), http_(http), pool_(static_cast<std::size_t>(std::max(1, threads))) {}

BeforeSendHooks::~BeforeSendHooks() { stop(); }

Result<BeforeSendHook> BeforeSendHooks::put(const std::string& app_id, const HookInput& in) {
  if (in.url) {
    if (in.url->size() > kMaxUrl) return invalid("url", "is longer than 2000 characters");
    if (auto ok = outbound::check_url(*in.url); !ok) return invalid("url", ok.error().message);
  }
  auto existing = get(app_id);
  if (!existing && existing.error().code != Errc::not_found) return std::move(existing).error();
  const TimeMs now = now_ms();
  BeforeSendHook h;
  if (existing) {
    h = std::move(*existing);
  } else {
    if (!in.url) return invalid("url", "is required");
    h.app_id = app_id;
    h.secret = new_secret();
    h.created_at = now;
  }
  if (in.url) h.url = *in.url;
  if (in.timeout_ms) h.timeout_ms = *in.timeout_ms;
  if (in.fail_open) h.fail_open = *in.fail_open;
  h.updated_at = now;
  PARLEY_TRY(db_.with_conn([&](Connection& c) -> Status {
    auto st = c.prepare(std::string("INSERT INTO before_send_hooks(") + kColumns +
                        ") VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (app_id) DO UPDATE SET url = excluded.url, "
                        "secret = excluded.secret, timeout_ms = excluded.timeout_ms, on_failure = excluded.on_failure, "
                        "updated_at = excluded.updated_at");
    st->bind(1, h.app_id).bind(2, h.url).bind(3, h.secret).bind(4, h.timeout_ms);
    st->bind(5, h.fail_open ? "allow" : "reject").bind(6, h.created_at).bind(7, h.updated_at).run();
    return ok_status();
  }));
  MutexLock lock(mu_);
  hooks_[app_id] = h;
  return h;
}

Result<BeforeSendHook> BeforeSendHooks::get(const std::string& app_id) {
  return db_.with_conn([&](Connection& c) -> Result<BeforeSendHook> {
    auto st = c.prepare(std::string("SELECT ") + kColumns + " FROM before_send_hooks WHERE app_id = $1");
    st->bind(1, app_id);
    if (!st->step()) return no_hook();
    return read_hook(*st);
  });
}

Status BeforeSendHooks::remove(const std::string& app_id) {
  PARLEY_TRY(db_.with_conn([&](Connection& c) -> Status {
    auto st = c.prepare("DELETE FROM before_send_hooks WHERE app_id = $1");
    st->bind(1, app_id).run();
    if (c.changes() == 0) return no_hook();
    return ok_status();
  }));
  MutexLock lock(mu_);
  hooks_.erase(app_id);
  return ok_status();
}

Result<BeforeSendHook> BeforeSendHooks::rotate_secret(const std::string& app_id) {
  PARLEY_ASSIGN_OR_RETURN(auto h, get(app_id));
  h.secret = new_secret();
  h.updated_at = now_ms();
  PARLEY_TRY(db_.with_conn([&](Connection& c) -> Status {
    auto st = c.prepare("UPDATE before_send_hooks SET secret = $2, updated_at = $3 WHERE app_id = $1");
    st->bind(1, app_id).bind(2, h.secret).bind(3, h.updated_at).run();
    return ok_status();
  }));
  MutexLock lock(mu_);
  hooks_[app_id] = h;
  return h;
}

void BeforeSendHooks::start() {
  reload();
  reloader_ = std::thread([this] { reload_loop(); });
}

void BeforeSendHooks::stop() {
  std::map<std::string, std::deque<Waiting>> waiting;
  {
    MutexLock lock(mu_);
    if (stopping_ && !reloader_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (reloader_.joinable()) reloader_.join();
  pool_.join();  // running calls finish (each within its timeout); drains see stopping_ and fail the rest
  {
    MutexLock lock(mu_);
    waiting.swap(senders_);
  }
  for (auto& [sender, queue] : waiting) {
    for (auto& w : queue) w.done(Error{Errc::unavailable, "the server is shutting down; retry"});
  }
}

// Every app's hook: another node's change is seen within kReloadMs.
void BeforeSendHooks::reload() {
  auto all = db_.with_conn([&](Connection& c) -> Result<std::map<std::string, BeforeSendHook>> {
    auto st = c.prepare(std::string("SELECT ") + kColumns + " FROM before_send_hooks");
    std::map<std::string, BeforeSendHook> out;
    while (st->step()) {
      auto h = read_hook(*st);
      out.emplace(h.app_id, std::move(h));
    }
    return out;
  });
  if (!all) {
    spdlog::error("before-send hooks: reloading failed: {}", all.error().message);
    return;
  }
  MutexLock lock(mu_);
  hooks_ = std::move(*all);
}

void BeforeSendHooks::reload_loop() {
  for (;;) {
    {
      MutexLock lock(mu_);
      if (!stopping_) lock.wait_for(cv_, std::chrono::milliseconds(kReloadMs));
      if (stopping_) return;
    }
    reload();
  }
}

bool BeforeSendHooks::applies(const std::string& app_id) const {
  MutexLock lock(mu_);
  return hooks_.count(app_id) > 0;
}

std::optional<BeforeSendHook> BeforeSendHooks::hook_of(const std::string& app_id) const {
  MutexLock lock(mu_);
  auto it = hooks_.find(app_id);
  if (it == hooks_.end()) return std::nullopt;
  return it->second;
}

void BeforeSendHooks::check(PendingMessage m, std::function<void(HookOutcome)> done) {
  std::string sender = m.app_id + '\n' + m.user_id;
  {
    MutexLock lock(mu_);
    if (stopping_) {
      lock.unlock();
      done(Error{Errc::unavailable, "the server is shutting down; retry"});
      return;
    }
    auto& queue = senders_[sender];
    queue.push_back({std::move(m), std::move(done)});
    if (queue.size() > 1) return;  // the sender's drain takes it after the ones before
  }
  boost::asio::post(pool_, [this, sender = std::move(sender)] { drain(sender); });
}

// Judges a sender's messages one after the other until none waits.
void BeforeSendHooks::drain(const std::string& sender) {
  for (;;) {
    PendingMessage m;
    std::function<void(HookOutcome)> done;
    bool stopping = false;
    {
      MutexLock lock(mu_);
      auto& front = senders_[sender].front();
      m = front.message;
      done = front.done;
      stopping = stopping_;
    }
    HookOutcome out = Error{Errc::unavailable, "the server is shutting down; retry"};
    if (!stopping) {
      auto hook = hook_of(m.app_id);
      out = hook ? call(*hook, m) : HookOutcome{std::optional<std::string>{}};  // removed meanwhile
    }
    done(std::move(out));
    MutexLock lock(mu_);
    auto it = senders_.find(sender);
    it->second.pop_front();
    if (it->second.empty()) {
      senders_.erase(it);
      return;
    }
  }
}

HookOutcome BeforeSendHooks::call(const BeforeSendHook& hook, const PendingMessage& m) const {
  json::object message{{"text", m.text}, {"channel_id", m.channel_id}, {"user_id", m.user_id}};
  boost::system::error_code ec;
  auto attachments = json::parse(m.attachments_json, ec);
  message["attachments"] = ec ? json::value(json::array{}) : attachments;
  message["parent_seq"] = m.parent_seq ? json::value(*m.parent_seq) : json::value(nullptr);
  message["client_msg_id"] = m.client_msg_id ? json::value(*m.client_msg_id) : json::value(nullptr);
  const TimeMs now = now_ms();
  const std::string body = json::serialize(json::object{{"type", "message.before_send"},
                                                        {"timestamp", format_time(now)},
                                                        {"app_id", m.app_id},
                                                        {"data", {{"message", std::move(message)}}}});
  const std::string id = crypto::random_id("bsh_", 20);
  const std::int64_t ts = now / 1000;
  outbound::Request req;
  req.method = "POST";
  req.url = hook.url;
  req.body = body;
  req.timeout = std::chrono::milliseconds(hook.timeout_ms);
  req.connect_timeout = std::chrono::milliseconds(hook.timeout_ms);
  req.max_response_bytes = kMaxAnswerBytes;
  req.headers = {{"Content-Type", "application/json"},
                 {"webhook-id", id},
                 {"webhook-timestamp", std::to_string(ts)},
                 {"webhook-signature", signature_header({hook.secret}, id, ts, body)}};
  auto r = http_.send(req);
  if (!r) return failed(hook, r.error().message);
  if (r->status == 204) return std::optional<std::string>{};
  if (r->status < 200 || r->status >= 300) return failed(hook, "status " + std::to_string(r->status));
  if (r->truncated) return failed(hook, "answer longer than 64 KiB");
  auto v = json::parse(r->body, ec);
  if (ec || !v.is_object()) return failed(hook, "answer is not a JSON object");
  const auto& a = v.as_object();
  const auto* action = a.if_contains("action");
  const std::string_view what = action && action->is_string() ? std::string_view(action->as_string()) : "";
  if (what == "allow") return std::optional<std::string>{};
  if (what == "reject") {
    std::string reason = "rejected by the app";
    if (const auto* p = a.if_contains("reason"); p && p->is_string() && !p->as_string().empty()) {
      reason = std::string(p->as_string()).substr(0, kMaxReason);
    }
    return Error{Errc::forbidden, "the message was rejected: " + reason}.with("reason", reason);
  }
  if (what == "rewrite") {
    const auto* text = a.if_contains("text");
    if (!text || !text->is_string()) return failed(hook, "rewrite without a text");
    return std::optional<std::string>{std::string(text->as_string())};
  }
  return failed(hook, "unknown action");
}

}  // namespace parley::webhooks
