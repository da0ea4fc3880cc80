#include "webhooks/webhook_service.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>

#include "core/crypto.hpp"
#include "jobs/runner.hpp"
#include "outbound/http_client.hpp"
#include "tenancy/audit_log.hpp"
#include "webhooks/signature.hpp"

namespace parley::webhooks {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxUrl = 2000;
constexpr std::size_t kMaxDescription = 500;
constexpr std::size_t kExcerptBytes = 1024;
constexpr TimeMs kCacheMs = 2000;  // endpoints another node changed are seen this late at most
constexpr const char* kDeliverKind = "webhook.deliver";

bool is_2xx(int status) { return status >= 200 && status < 300; }

// The webhook body for a realtime frame {"type":"event","event":E,"channel_id":C,"seq":S,"data":D}:
// {"type":E,"timestamp":T,"app_id":A,"data":D plus channel_id and seq}.
std::string payload_of(const std::string& app_id, std::string_view type, const std::string& frame, TimeMs now) {
  boost::system::error_code ec;
  auto v = json::parse(frame, ec);
  json::object data;
  if (!ec && v.is_object()) {
    auto& f = v.as_object();
    if (auto* d = f.if_contains("data"); d && d->is_object()) data = std::move(d->as_object());
    for (const char* key : {"channel_id", "seq"})
      if (auto* x = f.if_contains(key); x && !data.contains(key)) data[key] = *x;
  }
  json::object body{{"type", type}, {"timestamp", format_time(now)}, {"app_id", app_id}, {"data", std::move(data)}};
  return json::serialize(body);
}

std::string excerpt(const std::string& body) {
  std::string out = body.substr(0, kExcerptBytes);
  // Keep the excerpt valid UTF-8: drop a trailing partial sequence.
  std::size_t i = out.size();
  std::size_t back = 0;
  while (i > 0 && back < 4 && (static_cast<unsigned char>(out[i - 1]) & 0xC0) == 0x80) --i, ++back;
  if (i > 0 && static_cast<unsigned char>(out[i - 1]) >= 0xC0) {
    const auto lead = static_cast<unsigned char>(out[i - 1]);
    const std::size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
    if (back < need) out.resize(i - 1);
  }
  return out;
}

}  // namespace

Result<std::vector<TimeMs>> parse_retry_schedule(std::string_view text) {
  std::vector<TimeMs> out;
  if (text.empty()) return out;
  for (bool more = true; more;) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    more = comma != std::string_view::npos;
    if (more) text.remove_prefix(comma + 1);
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    std::string_view unit(end, static_cast<std::size_t>(item.data() + item.size() - end));
    TimeMs scale = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60'000 : unit == "h" ? 3'600'000 : 0;
    if (ec != std::errc() || end == item.data() || scale == 0 || n < 0 || n > 1'000'000)
      return Error{Errc::invalid_request, "retry schedule: '" + std::string(item) + "' is not a delay like 5s"};
    out.push_back(n * scale);
  }
  if (out.size() > static_cast<std::size_t>(jobs::kMaxAttemptsLimit - 1))
    return Error{Errc::invalid_request, "retry schedule: too many retries"};
  return out;
}

const std::vector<std::string>& subscribable_events() {
  static const std::vector<std::string> names = [] {
    using bus::EventType;
    std::vector<std::string> out;
    for (auto t :
         {EventType::channel_created, EventType::channel_updated, EventType::channel_deleted, EventType::member_added,
          EventType::member_removed, EventType::member_updated, EventType::message_new, EventType::message_updated,
          EventType::message_deleted, EventType::thread_reply, EventType::reaction_added, EventType::reaction_removed,
          EventType::user_updated, EventType::user_deactivated, EventType::user_reactivated})
      out.emplace_back(bus::event_name(t));
    return out;
  }();
  return names;
}

WebhookService::WebhookService(store::sql::Database& db, tenancy::AuditLog& audit, const outbound::HttpClient& http,
                               WebhookOptions opts)
    : store_(db), audit_(audit), http_(http), opts_(std::move(opts)) {}

WebhookService::~WebhookService() { stop(); }

Status WebhookService::check(const EndpointInput& in, bool creating) const {
  if (creating && !in.url) return invalid("url", "is required");
  if (in.url) {
    if (in.url->size() > kMaxUrl) return invalid("url", "is longer than 2000 characters");
    if (auto ok = outbound::check_url(*in.url); !ok) return invalid("url", ok.error().message);
  }
  if (in.description && in.description->size() > kMaxDescription)
    return invalid("description", "is longer than 500 characters");
  if (in.bot_user_id && !creating) return invalid("bot_user_id", "cannot be changed: create another endpoint");
  if (creating && !in.event_types) return invalid("event_types", "is required");
  if (in.event_types) {
    if (in.event_types->empty()) return invalid("event_types", "must name at least one event type, or \"*\"");
    const auto& known = subscribable_events();
    for (const auto& t : *in.event_types) {
      if (t != "*" && std::find(known.begin(), known.end(), t) == known.end())
        return invalid("event_types", "unknown event type '" + t + "'");
    }
  }
  return ok_status();
}

Result<Endpoint> WebhookService::create(const std::string& app_id, const EndpointInput& in) {
  PARLEY_TRY(check(in, true));
  if (in.bot_user_id) {
    if (!directory_.is_bot) return Error{Errc::internal, "bot endpoints are not wired"};
    auto bot = directory_.is_bot(app_id, *in.bot_user_id);
    if (!bot && bot.error().code != Errc::not_found) return std::move(bot).error();
    if (!bot || !*bot) return violates("bot_user_id", "'" + *in.bot_user_id + "' is not a bot user of this app");
  }
  PARLEY_ASSIGN_OR_RETURN(auto n, store_.count(app_id));
  if (n >= opts_.max_endpoints)
    return Error{Errc::validation_failed, "an app has at most " + std::to_string(opts_.max_endpoints) + " endpoints"};
  Endpoint e;
  e.id = crypto::random_id("whe_", 20);
  e.app_id = app_id;
  e.url = *in.url;
  e.description = in.description.value_or("");
  e.event_types = *in.event_types;
  e.secret = new_secret();
  e.enabled = in.enabled.value_or(true);
  e.bot_user_id = in.bot_user_id;
  e.ordered = in.ordered.value_or(false);
  e.created_at = e.updated_at = now_ms();
  PARLEY_TRY(store_.create(e));
  endpoints_changed(app_id);
  return e;
}

Result<Endpoint> WebhookService::get(const std::string& app_id, const std::string& id) {
  return store_.get(app_id, id);
}

Result<std::vector<Endpoint>> WebhookService::list(const std::string& app_id) { return store_.list(app_id); }

Result<Endpoint> WebhookService::update(const std::string& app_id, const std::string& id, const EndpointInput& in) {
  PARLEY_TRY(check(in, false));
  PARLEY_ASSIGN_OR_RETURN(auto e, store_.get(app_id, id));
  if (in.url) e.url = *in.url;
  if (in.description) e.description = *in.description;
  if (in.event_types) e.event_types = *in.event_types;
  if (in.ordered) e.ordered = *in.ordered;
  if (in.enabled) {
    if (*in.enabled && !e.enabled) {
      e.failures_in_a_row = 0;
      e.disabled_reason.reset();
    }
    if (!*in.enabled && e.enabled) e.disabled_reason = "disabled by the app";
    e.enabled = *in.enabled;
  }
  e.updated_at = now_ms();
  PARLEY_TRY(store_.update(e));
  endpoints_changed(app_id);
  return e;
}

Status WebhookService::remove(const std::string& app_id, const std::string& id) {
  PARLEY_TRY(store_.remove(app_id, id));
  endpoints_changed(app_id);
  return ok_status();
}

Result<Endpoint> WebhookService::rotate_secret(const std::string& app_id, const std::string& id, TimeMs overlap_ms) {
  PARLEY_ASSIGN_OR_RETURN(auto e, store_.get(app_id, id));
  const TimeMs now = now_ms();
  if (overlap_ms > 0) {
    e.previous_secret = e.secret;
    e.previous_secret_until = now + overlap_ms;
  } else {
    e.previous_secret.reset();
    e.previous_secret_until.reset();
  }
  e.secret = new_secret();
  e.updated_at = now;
  PARLEY_TRY(store_.update(e));
  return e;
}

Result<Delivery> WebhookService::queue_one(const Endpoint& e, const std::string& type, const std::string& payload) {
  PARLEY_ASSIGN_OR_RETURN(auto ds, store_.enqueue(e.app_id, {{e.id, type, payload}},
                                                  static_cast<int>(opts_.retry_delays_ms.size()) + 1, now_ms()));
  if (enqueued_) enqueued_();
  return std::move(ds.front());
}

Result<Delivery> WebhookService::send_test(const std::string& app_id, const std::string& id) {
  PARLEY_ASSIGN_OR_RETURN(auto e, store_.get(app_id, id));
  if (!e.enabled) return Error{Errc::conflict, "webhook endpoint '" + id + "' is disabled"};
  const TimeMs now = now_ms();
  json::object body{{"type", "webhook.test"},
                    {"timestamp", format_time(now)},
                    {"app_id", app_id},
                    {"data", json::object{{"endpoint_id", id}}}};
  return queue_one(e, "webhook.test", json::serialize(body));
}

Result<std::vector<Delivery>> WebhookService::deliveries(const std::string& app_id, const std::string& id,
                                                         std::int64_t before_id, int limit) {
  PARLEY_TRY(store_.get(app_id, id));
  return store_.deliveries(app_id, id, before_id, limit);
}

void WebhookService::endpoints_changed(const std::string& app_id) {
  maybe_endpoints_ = true;
  MutexLock lock(mu_);
  changed_apps_.push_back(app_id);
}

void WebhookService::on_event(const bus::Envelope& e) {
  if (!maybe_endpoints_.load(std::memory_order_relaxed) || !e.frame) return;
  const auto name = bus::event_name(e.type);
  const auto& known = subscribable_events();
  if (std::find(known.begin(), known.end(), name) == known.end()) return;
  {
    MutexLock lock(mu_);
    if (opts_.hold_events) {
      if (e.receipt) held_.push_back(e.receipt);
      return;
    }
    if (stopping_ || queue_.size() >= opts_.max_queued_events) {
      if (e.receipt) e.receipt->fail();  // its outbox row stays: the event is replayed
      if (!stopping_ && dropped_.fetch_add(1) % 1000 == 0)
        spdlog::error("webhooks: {} events dropped, the dispatcher is behind (max {} queued)", dropped_.load(),
                      opts_.max_queued_events);
      return;
    }
    queue_.push_back({e.app_id, e.type, e.channel_id, e.channel_id.empty() ? e.users : std::vector<std::string>{},
                      e.frame, e.seq, e.receipt});
  }
  cv_.notify_one();
}

void WebhookService::register_jobs(jobs::Runner& runner) {
  runner.handle(kDeliverKind, [this](const jobs::Job& job, const jobs::JobContext&) { return deliver(job); });
  runner.on_expired(kDeliverKind, [this](const jobs::Job& job) { expired(job); });
}

// A delivery whose last attempt never finished (its worker died or hung past the lease) failed
// for good: the log says so, and it counts towards disabling the endpoint.
void WebhookService::expired(const jobs::Job& job) {
  auto id = delivery_id_of(job);
  if (!id) return;
  auto d = store_.delivery(*id);
  if (!d || d->state == DeliveryState::succeeded) return;
  Attempt a;
  a.state = DeliveryState::failed;
  a.error = job.last_error.value_or("lease expired");
  auto failures = store_.record(d->id, a, now_ms());
  if (!failures) {
    spdlog::error("webhooks: recording the expired delivery {} failed: {}", d->id, failures.error().message);
    return;
  }
  if (*failures >= opts_.disable_after) {
    if (auto ep = store_.get(d->app_id, d->endpoint_id); ep && ep->enabled) disable(*ep, *failures, now_ms());
  }
}

std::optional<std::int64_t> WebhookService::delivery_id_of(const jobs::Job& job) {
  boost::system::error_code ec;
  auto v = json::parse(job.payload, ec);
  const json::value* id = !ec && v.is_object() ? v.as_object().if_contains("delivery_id") : nullptr;
  if (!id || !id->is_int64()) return std::nullopt;
  return id->as_int64();
}

void WebhookService::start(std::function<void()> enqueued) {
  enqueued_ = std::move(enqueued);
  dispatcher_ = std::thread([this] { dispatch_loop(); });
}

void WebhookService::stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
}

void WebhookService::dispatch_loop() {
  TimeMs next_refresh = 0;
  for (;;) {
    std::vector<Event> batch;
    std::vector<std::string> changed;
    bool stopping = false;
    {
      MutexLock lock(mu_);
      if (queue_.empty() && !stopping_) lock.wait_for(cv_, std::chrono::milliseconds(kCacheMs));
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
      changed.swap(changed_apps_);
      stopping = stopping_;
    }
    for (const auto& app : changed) cache_.erase(app);
    const TimeMs now = now_ms();
    if (now >= next_refresh) {
      // Another node may have added the first endpoint: look again every kCacheMs.
      if (auto any = store_.any_enabled()) maybe_endpoints_ = *any;
      next_refresh = now + kCacheMs;
    }
    if (!batch.empty()) dispatch(batch);
    if (stopping) return;
  }
}

const std::vector<Endpoint>& WebhookService::endpoints_of(const std::string& app_id, TimeMs now) {
  auto& c = cache_[app_id];
  if (c.loaded_at == 0 || now - c.loaded_at >= kCacheMs) {
    auto eps = store_.list(app_id);
    if (eps) {
      c.endpoints.clear();
      for (auto& e : *eps)
        if (e.enabled) c.endpoints.push_back(std::move(e));
      c.loaded_at = now;
    } else {
      spdlog::error("webhooks: loading the endpoints of app {} failed: {}", app_id, eps.error().message);
    }
  }
  return c.endpoints;
}

void WebhookService::dispatch(std::vector<Event>& batch) {
  const TimeMs now = now_ms();
  // Per app, in the order the events were published, one transaction each.
  std::map<std::string, std::vector<NewDelivery>> by_app;
  for (const auto& ev : batch) {
    const auto& eps = endpoints_of(ev.app_id, now);
    if (eps.empty()) continue;
    const auto name = bus::event_name(ev.type);
    std::string payload;
    for (const auto& ep : eps) {
      if (!ep.wants(name) || !reaches(ep, ev, now)) continue;
      if (payload.empty()) payload = payload_of(ev.app_id, name, *ev.frame, now);
      std::optional<std::string> order_key;
      if (ep.ordered && !ev.channel_id.empty()) order_key = ep.id + "/" + ev.channel_id;
      by_app[ev.app_id].push_back({ep.id, std::string(name), payload, std::move(order_key), message_id_of(ep, ev)});
    }
  }
  const int attempts = static_cast<int>(opts_.retry_delays_ms.size()) + 1;
  bool any = false;
  for (auto& [app, deliveries] : by_app) {
    auto r = store_.enqueue(app, deliveries, attempts, now);
    if (!r) {
      // Events of an outbox row are replayed later; the others are lost.
      spdlog::error("webhooks: recording {} deliveries of app {} failed: {}", deliveries.size(), app,
                    r.error().message);
      for (auto& ev : batch) {
        if (ev.app_id == app && ev.receipt) ev.receipt->fail();
      }
      continue;
    }
    any = true;
  }
  if (any && enqueued_) enqueued_();
}

// The webhook-id of a delivery: a new message's is derived from the endpoint and the message, so
// that a replay from the outbox (chat/outbox.hpp) repeats it and receivers can drop the copy.
std::optional<std::string> WebhookService::message_id_of(const Endpoint& e, const Event& ev) {
  if (ev.type != bus::EventType::message_new || ev.channel_id.empty() || ev.seq <= 0) return std::nullopt;
  const std::string digest =
      crypto::sha256_hex(e.id + '\n' + ev.app_id + '\n' + ev.channel_id + '\n' + std::to_string(ev.seq));
  return "msg_" + digest.substr(0, 32);
}

// An app's endpoint hears all of its events; a bot's only those of channels the bot is a member
// of (as of up to kCacheMs ago) and the user events addressed to the bot.
bool WebhookService::reaches(const Endpoint& e, const Event& ev, TimeMs now) {
  if (!e.bot_user_id) return true;
  const std::string& bot = *e.bot_user_id;
  if (ev.channel_id.empty()) return std::find(ev.users.begin(), ev.users.end(), bot) != ev.users.end();
  if (!directory_.is_member) return false;
  if (members_.size() > 10'000) members_.clear();
  auto& m = members_[ev.app_id + '\n' + ev.channel_id + '\n' + bot];
  if (m.loaded_at == 0 || now - m.loaded_at >= kCacheMs) {
    auto r = directory_.is_member(ev.app_id, ev.channel_id, bot);
    if (!r) {
      spdlog::error("webhooks: checking bot {}'s membership of {} failed: {}", bot, ev.channel_id, r.error().message);
      return false;
    }
    m.member = *r;
    m.loaded_at = now;
  }
  return m.member;
}

void WebhookService::disable(const Endpoint& e, int failures, TimeMs now) {
  Endpoint d = e;
  d.enabled = false;
  d.disabled_reason = std::to_string(failures) + " deliveries in a row failed";
  d.failures_in_a_row = failures;
  d.updated_at = now;
  if (auto ok = store_.update(d); !ok) {
    spdlog::error("webhooks: disabling endpoint {} failed: {}", e.id, ok.error().message);
    return;
  }
  endpoints_changed(e.app_id);
  tenancy::AuditEntry a;
  a.at = now;
  a.actor = "system";
  a.action = "webhook.endpoint.disabled";
  a.app_id = e.app_id;
  a.target = e.id;
  a.details_json = json::serialize(json::object{{"url", e.url}, {"reason", *d.disabled_reason}});
  if (auto ok = audit_.append(a); !ok) spdlog::error("webhooks: audit log: {}", ok.error().message);
  spdlog::warn("webhooks: endpoint {} of app {} disabled: {}", e.id, e.app_id, *d.disabled_reason);
}

jobs::JobResult WebhookService::deliver(const jobs::Job& job) {
  using jobs::JobResult;
  auto id = delivery_id_of(job);
  if (!id) return JobResult::fail("webhook.deliver: payload without a delivery_id");
  auto d = store_.delivery(*id);
  if (!d) return d.error().code == Errc::not_found ? JobResult::done() : JobResult::retry(d.error().message);
  if (d->state == DeliveryState::succeeded) return JobResult::done();
  auto ep = store_.get(d->app_id, d->endpoint_id);
  if (!ep) return ep.error().code == Errc::not_found ? JobResult::done() : JobResult::retry(ep.error().message);

  const TimeMs now = now_ms();
  const bool last = job.attempts >= job.max_attempts;
  Attempt a;
  std::string error;
  if (!ep->enabled) {
    error = "the endpoint is disabled";
    a.state = DeliveryState::failed;
    a.error = error;
    if (auto ok = store_.record(d->id, a, now); !ok) return JobResult::retry(ok.error().message);
    return JobResult::fail(error);
  }
  outbound::Request req;
  req.method = "POST";
  req.url = ep->url;
  req.body = d->payload;
  req.timeout = std::chrono::milliseconds(opts_.timeout_ms);
  req.max_response_bytes = kExcerptBytes;
  const std::int64_t ts = now / 1000;
  req.headers = {{"Content-Type", "application/json"},
                 {"webhook-id", d->message_id},
                 {"webhook-timestamp", std::to_string(ts)},
                 {"webhook-signature", signature_header(ep->signing_secrets(now), d->message_id, ts, d->payload)}};
  auto res = http_.send(req);
  if (res) {
    a.status_code = res->status;
    a.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(res->elapsed).count();
    a.response_excerpt = excerpt(res->body);
    if (!is_2xx(res->status)) error = "HTTP " + std::to_string(res->status);
  } else {
    error = res.error().message;
  }
  if (!error.empty()) a.error = error;
  a.state = error.empty() ? DeliveryState::succeeded : last ? DeliveryState::failed : DeliveryState::pending;
  auto failures = store_.record(d->id, a, now_ms());
  if (!failures) return JobResult::retry(failures.error().message);
  if (a.state == DeliveryState::succeeded) return JobResult::done();
  if (a.state == DeliveryState::failed) {
    if (*failures >= opts_.disable_after) disable(*ep, *failures, now_ms());
    return JobResult::fail(error);
  }
  const auto i = static_cast<std::size_t>(std::max(0, job.attempts - 1));
  const TimeMs delay =
      opts_.retry_delays_ms.empty() ? 0 : opts_.retry_delays_ms[std::min(i, opts_.retry_delays_ms.size() - 1)];
  return JobResult::retry(error, delay);
}

}  // namespace parley::webhooks
