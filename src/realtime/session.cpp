#include "realtime/session.hpp"

#include <mutex>

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "chat/chat_json.hpp"
#include "core/error_json.hpp"
#include "core/json_reader.hpp"
#include "realtime/hub.hpp"
#include "services/message_fields.hpp"
#include "services/message_files.hpp"
#include "services/on_db.hpp"
#include "services/send_message.hpp"

namespace parley::realtime {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {
constexpr int kMaxRateStrikes = 10;

// A reader over a command's own fields: the envelope fields (type, id) are already known.
ObjectReader command_fields(const json::object& cmd) {
  ObjectReader r(cmd);
  r.skip("type");
  r.skip("id");
  return r;
}
constexpr std::size_t kMaxPresenceWatch = 200;
constexpr std::size_t kMaxResumeChannels = 500;
}  // namespace

Session::Session(services::Services& services, Hub& hub, std::shared_ptr<net::WsPeer> peer,
                 std::optional<auth::Principal> principal, bool resume_pending, std::int64_t auth_deadline_ms)
    : peer_(std::move(peer)),
      holding_(resume_pending),
      s_(services),
      hub_(hub),
      auth_deadline_ms_(auth_deadline_ms),
      tokens_(services.cfg.ws_rate_burst),
      bucket_ms_(steady_ms()) {
  if (principal) {
    app_ = principal->app;
    app_id_ = app_->id;
    user_id_ = principal->user.id;
    token_exp_s_ = principal->claims.exp;
  }
}

void Session::send_json(const json::object& frame) {
  peer_->send(std::make_shared<const std::string>(json::serialize(frame)));
}

void Session::ack(const std::string& id, json::object data) {
  send_json({{"type", "ack"}, {"id", id}, {"data", std::move(data)}});
}

void Session::error(const std::string& id, const Error& e) {
  send_json({{"type", "error"}, {"id", id}, {"error", error_object(e)}});
}

bool Session::valid(ObjectReader& r, const std::string& id) {
  auto st = r.finish();
  if (!st) error(id, st.error());
  return st.ok();
}

void Session::hello() {
  send_json({{"type", "hello"},
             {"protocol", 1},
             {"connection_id", "conn_" + std::to_string(peer_->id())},
             {"app_id", app_id_},
             {"user_id", user_id_},
             {"server_time", format_time(now_ms())},
             {"heartbeat_ms", s_.cfg.ws_heartbeat_ms},
             {"resume_pending", holding_.load()}});
}

awaitable<void> Session::start() {
  if (token_exp_s_.load() == 0) {  // waits for an auth frame; the hub's sweeper enforces the deadline
    hub_.track(shared_from_this());
    attached_ = true;
    co_return;
  }
  auto channels = co_await services::on_db(s_, [&] {
    return s_.chat.member_channel_ids(chat::Caller{app_, user_id_});
  });
  if (!channels) {
    error("", channels.error());
    peer_->close(net::ws_close::going_away, "cannot load channels; reconnect");
    co_return;
  }
  hello();
  hub_.attach(shared_from_this(), *channels);
  attached_ = true;
}

void Session::push(const bus::Envelope& e) {
  if (!holding_.load(std::memory_order_acquire) && !has_floors_.load(std::memory_order_acquire)) {
    peer_->send(e.frame);
    return;
  }
  // Holding, or just after a resume: decided under the lock, so that held events, events the
  // replay already sent and later live events keep their order and are sent once.
  MutexLock lock(hold_mu_);
  const bool message_new = e.type == bus::EventType::message_new;
  if (holding_.load()) {
    held_.push_back(Held{e.frame, e.channel_id, e.seq, message_new});
    return;
  }
  if (message_new && replayed_already(e.channel_id, e.seq)) return;
  peer_->send(e.frame);
}

bool Session::replayed_already(const std::string& channel_id, std::int64_t seq) {
  auto it = floors_.find(channel_id);
  if (it == floors_.end()) return false;
  if (seq <= it->second) return true;
  // A later seq arrived live: a channel publishes in commit order, so nothing at or below the
  // floor can follow.
  floors_.erase(it);
  if (floors_.empty()) has_floors_.store(false, std::memory_order_release);
  return false;
}

void Session::tick(std::int64_t now) {
  if (token_exp_s_.load() == 0) {
    if (now >= auth_deadline_ms_.load()) peer_->close(net::ws_close::unauthorized, "no auth frame in time");
    return;
  }
  if (token_exp_s_.load() <= now_ms() / 1000) {
    peer_->close(net::ws_close::token_expired, "access token expired; reconnect with a fresh token");
    return;
  }
  // A client that announced a resume but never sent one still gets its events.
  if (holding_.load() && now >= auth_deadline_ms_.load()) {
    boost::asio::post(peer_->executor(), [self = shared_from_this()] {
      // A resume in progress releases the held events itself, after its replay.
      if (self->holding_.load() && !self->resuming_) self->go_live({});
    });
  }
}

void Session::on_close() {
  closed_ = true;
  if (attached_) hub_.detach(*this);
  attached_ = false;
}

bool Session::rate_ok() {
  std::int64_t now = steady_ms();
  tokens_ = std::min<double>(s_.cfg.ws_rate_burst,
                             tokens_ + static_cast<double>(now - bucket_ms_) / 1000.0 * s_.cfg.ws_rate_per_sec);
  bucket_ms_ = now;
  if (tokens_ >= 1) {
    tokens_ -= 1;
    rate_strikes_ = 0;
    return true;
  }
  return false;
}

awaitable<void> Session::on_text(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    error("", Error{Errc::invalid_json, "frames must be JSON objects"});
    co_return;
  }
  const json::object& cmd = v.as_object();
  std::string id;
  if (auto* p = cmd.if_contains("id")) {
    if (!p->is_string() || p->as_string().size() > 64) {
      error("", invalid("id", "expected a string of at most 64 characters"));
      co_return;
    }
    id = p->as_string();
  }
  if (!rate_ok()) {
    Error e{Errc::rate_limited, "too many commands; slow down"};
    error(id, e);
    if (++rate_strikes_ >= kMaxRateStrikes) peer_->close(net::ws_close::rate_limited, "rate limited");
    co_return;
  }
  co_await handle(cmd, id);
}

awaitable<void> Session::handle(const json::object& cmd, const std::string& id) {
  auto* type = cmd.if_contains("type");
  if (!type || !type->is_string()) {
    error(id, invalid("type", "is required and must be a string"));
    co_return;
  }
  std::string_view t = type->as_string();
  if (t == "auth") co_return co_await authenticate(cmd, id);
  if (token_exp_s_.load() == 0) {
    error(id, Error{Errc::unauthorized, "send an auth frame first"});
    peer_->close(net::ws_close::unauthorized, "not authenticated");
    co_return;
  }
  if (t == "ping") {
    send_json({{"type", "pong"}, {"id", id}, {"server_time", format_time(now_ms())}});
  } else if (t == "message.send") {
    co_await send_message(cmd, id);
  } else if (t == "read.mark") {
    co_await mark_read(cmd, id);
  } else if (t == "typing.start" || t == "typing.stop") {
    co_await typing(cmd, id, t == "typing.start");
  } else if (t == "channel.watch" || t == "channel.unwatch") {
    co_await watch(cmd, id, t == "channel.watch");
  } else if (t == "presence.watch") {
    co_await watch_presence(cmd, id);
  } else if (t == "resume") {
    co_await resume(cmd, id);
  } else {
    Error e{Errc::invalid_request, "unknown command type '" + std::string(t) + "'"};
    error(id, e.with("field", "type"));
  }
}

awaitable<void> Session::authenticate(const json::object& cmd, const std::string& id) {
  auto r = command_fields(cmd);
  auto token = r.string("token", true, 1, 4096);
  if (!valid(r, id)) co_return;
  auto p = co_await services::on_db(s_, [&] { return s_.tokens.authenticate(*token); });
  if (!p) {
    error(id, p.error());
    if (token_exp_s_.load() == 0) peer_->close(net::ws_close::unauthorized, p.error().message);
    co_return;
  }
  if (token_exp_s_.load() != 0) {  // a refresh: same app and user only
    if (p->app->id != app_id_ || p->user.id != user_id_) {
      error(id, Error{Errc::forbidden, "a refreshed token must be for the same user"});
      co_return;
    }
    token_exp_s_ = p->claims.exp;
    ack(id, {{"expires_at", format_time(p->claims.exp * 1000)}});
    co_return;
  }
  app_ = p->app;
  app_id_ = app_->id;
  user_id_ = p->user.id;
  token_exp_s_ = p->claims.exp;
  auth_deadline_ms_ = steady_ms() + s_.cfg.ws_auth_timeout_ms;  // bounds a pending resume now
  co_await start();
  ack(id, {{"user_id", user_id_}, {"expires_at", format_time(p->claims.exp * 1000)}});
}

awaitable<void> Session::send_message(const json::object& cmd, const std::string& id) {
  auto r = command_fields(cmd);
  auto channel = r.string("channel_id", true, 1, 64);
  chat::OutgoingMessage msg;
  services::read_outgoing_message(r, cmd, msg);
  if (!valid(r, id)) co_return;
  chat::Caller who{app_, user_id_};
  if (services::names_files(msg.attachments_json)) {
    // Its files are resolved before and attached after the commit: not pipelined.
    auto sent = co_await services::send_with_files(s_, who, *channel, std::move(msg));
    answer_send(id, sent);
    co_return;
  }
  if (sends_in_flight_ >= kMaxSendsInFlight) {
    // Enough of this connection's sends wait for their commit: this one waits too before the
    // next command is read (back-pressure on a client that outruns the database).
    auto sent = co_await services::send_message(s_.chat, who, *channel, std::move(msg));
    answer_send(id, sent);
    co_return;
  }
  // Pipelined: the next command is read while this send waits for its commit. The committer
  // takes sends in submission order, so a connection's messages to a channel keep their order,
  // and the answers are posted to the strand in commit order.
  ++sends_in_flight_;
  auto ex = co_await boost::asio::this_coro::executor;
  s_.chat.send_async(who, *channel, std::move(msg),
                     // `id` is a const reference: an init-capture makes a string the inner lambda can move.
                     [self = shared_from_this(), ex, id = std::string(id)](Result<store::SendResult> sent) mutable {
                       boost::asio::post(ex, [self = std::move(self), id = std::move(id), sent = std::move(sent)] {
                         --self->sends_in_flight_;
                         self->answer_send(id, sent);
                       });
                     });
}

void Session::answer_send(const std::string& id, const Result<store::SendResult>& sent) {
  if (!sent) {
    error(id, sent.error());
    return;
  }
  ack(id, {{"message", chat::to_json(sent->message, {}, false)}, {"duplicate", sent->duplicate}});
}

awaitable<void> Session::mark_read(const json::object& cmd, const std::string& id) {
  auto r = command_fields(cmd);
  auto channel = r.string("channel_id", true, 1, 64);
  auto seq = r.integer("seq", false, 0, INT64_MAX / 2);
  if (!valid(r, id)) co_return;
  chat::Caller who{app_, user_id_};
  auto res = co_await services::on_db(s_, [&] { return s_.chat.mark_read(who, *channel, seq); });
  if (!res) {
    error(id, res.error());
    co_return;
  }
  ack(id, {{"channel_id", *channel}, {"last_read_seq", res->first}, {"unread_count", res->second}});
}

awaitable<void> Session::typing(const json::object& cmd, const std::string& id, bool start) {
  auto r = command_fields(cmd);
  auto channel = r.string("channel_id", true, 1, 64);
  if (!valid(r, id)) co_return;
  auto member = co_await services::on_db(s_, [&] {
    return s_.chat.membership(chat::Caller{app_, user_id_}, *channel);
  });
  if (!member || !*member) {
    error(id, member ? not_found("channel") : member.error());
    co_return;
  }
  hub_.typing(app_id_, *channel, user_id_, start);
  if (!id.empty()) ack(id, {});
}

awaitable<void> Session::watch(const json::object& cmd, const std::string& id, bool on) {
  auto r = command_fields(cmd);
  auto channel = r.string("channel_id", true, 1, 64);
  if (!valid(r, id)) co_return;
  if (on) {
    chat::Caller who{app_, user_id_};
    auto view = co_await services::on_db(s_, [&] { return s_.chat.get_channel(who, *channel); });
    if (!view) {
      error(id, view.error());
      co_return;
    }
    hub_.watch(*this, *channel, true);
    ack(id, {{"channel_id", *channel}, {"last_seq", view->channel.last_seq}});
    co_return;
  }
  auto member = co_await services::on_db(s_, [&] {
    return s_.chat.membership(chat::Caller{app_, user_id_}, *channel);
  });
  if (member && !*member) hub_.watch(*this, *channel, false);  // members keep hearing their channels
  ack(id, {{"channel_id", *channel}});
}

awaitable<void> Session::watch_presence(const json::object& cmd, const std::string& id) {
  auto* ids = cmd.if_contains("user_ids");
  if (!ids || !ids->is_array() || ids->as_array().size() > kMaxPresenceWatch) {
    error(id, invalid("user_ids", "expected an array of at most 200 user ids"));
    co_return;
  }
  std::vector<std::string> users;
  for (const auto& u : ids->as_array()) {
    if (!u.is_string() || !valid_external_id(u.as_string())) {
      error(id, invalid("user_ids", "expected an array of user ids"));
      co_return;
    }
    users.emplace_back(u.as_string());
  }
  hub_.watch_presence(*this, users);
  json::array states;
  for (const auto& u : users) states.push_back(json::object{{"user_id", u}, {"online", hub_.online(app_id_, u)}});
  ack(id, {{"presence", std::move(states)}});
}

awaitable<void> Session::resume(const json::object& cmd, const std::string& id) {
  auto* chans = cmd.if_contains("channels");
  if (!chans || !chans->is_object() || chans->as_object().size() > kMaxResumeChannels) {
    error(id, invalid("channels", "expected an object of channel id -> last seq (at most 500)"));
    co_return;
  }
  std::map<std::string, std::int64_t> want;
  for (const auto& kv : chans->as_object()) {
    if (!kv.value().is_int64() || kv.value().as_int64() < 0) {
      error(id, invalid("channels", "maps channel ids to the last seq the client has (an integer >= 0)"));
      co_return;
    }
    want.emplace(std::string(kv.key()), kv.value().as_int64());
  }
  chat::Caller who{app_, user_id_};
  {
    MutexLock lock(hold_mu_);
    holding_.store(true);  // events arriving while we replay wait behind it
  }
  resuming_ = true;
  int max = s_.cfg.resume_max_messages;
  std::map<std::string, std::int64_t> replayed;  // channel -> highest seq the client now has
  for (const auto& entry : want) {
    // (Not a structured binding: clang 14 cannot capture one in the lambdas below.)
    const std::string& channel = entry.first;
    const std::int64_t last = entry.second;
    auto page = co_await services::on_db(s_, [&] { return s_.chat.history(who, channel, last, std::nullopt, max); });
    if (!page) {
      error(id, Error(page.error()).with("channel_id", channel));
      continue;
    }
    std::int64_t top = last;
    for (const auto& m : page->items) {
      send_json({{"type", "event"},
                 {"event", bus::event_name(bus::EventType::message_new)},
                 {"channel_id", channel},
                 {"seq", m.seq},
                 {"replay", true},
                 {"data", json::object{{"message", chat::to_json(m, {}, false)}}}});
      top = m.seq;
    }
    if (page->has_more) {
      // Too far behind: the client pages the rest over REST; live events resume after it.
      auto view = co_await services::on_db(s_, [&] { return s_.chat.get_channel(who, channel); });
      std::int64_t until = view ? view->channel.last_seq : top;
      send_json({{"type", "resume.too_far"}, {"channel_id", channel}, {"from_seq", top}, {"until_seq", until}});
      top = until;
    }
    replayed[channel] = top;
  }
  json::object done;
  for (const auto& [c, seq] : replayed) done[c] = seq;
  resuming_ = false;
  go_live(replayed);
  ack(id, {{"channels", std::move(done)}});
}

void Session::go_live(const std::map<std::string, std::int64_t>& replayed) {
  MutexLock lock(hold_mu_);
  // A message can commit before the replay reads it and be published after: its live event
  // arrives held, or even after this, and must not be sent a second time.
  floors_.clear();
  for (const auto& [channel, seq] : replayed) {
    if (seq > 0) floors_[channel] = seq;
  }
  has_floors_.store(!floors_.empty(), std::memory_order_release);
  for (auto& h : held_) {
    if (h.message_new && replayed_already(h.channel_id, h.seq)) continue;
    peer_->send(std::move(h.frame));
  }
  std::vector<Held>().swap(held_);
  holding_.store(false, std::memory_order_release);
}

}  // namespace parley::realtime
