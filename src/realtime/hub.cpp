#include "realtime/hub.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <mutex>

#include "realtime/session.hpp"

namespace parley::realtime {

namespace json = boost::json;

std::int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

namespace {
std::string key(const std::string& a, const std::string& b) { return a + '\x1f' + b; }
}  // namespace

Hub::Hub(boost::asio::any_io_executor exec, bus::Bus& bus, HubOptions opts,
         std::function<void(const std::string&, const std::string&, TimeMs)> on_offline)
    : exec_(std::move(exec)), bus_(bus), opts_(opts), on_offline_(std::move(on_offline)), timer_(exec_) {}

Hub::~Hub() = default;

void Hub::start() {
  timer_.expires_after(std::chrono::milliseconds(opts_.tick_ms));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    tick();
    start();
  });
}

void Hub::stop() {
  boost::asio::post(exec_, [this] {
    stopped_ = true;
    timer_.cancel();
  });
}

void Hub::attach(const std::shared_ptr<Session>& s, const std::vector<std::string>& channels) {
  bool came_online = false;
  {
    WriterLock lock(mu_);
    all_[s.get()] = s;
    for (const auto& c : channels) {
      by_channel_[key(s->app_id(), c)].insert(s.get());
      s->channels.insert(c);
    }
    auto ukey = key(s->app_id(), s->user_id());
    auto& set = by_user_[ukey];
    if (set.empty()) came_online = going_offline_.erase(ukey) == 0;
    set.insert(s.get());
  }
  if (came_online) publish_presence(s->app_id(), s->user_id(), true, now_ms());
}

void Hub::track(const std::shared_ptr<Session>& s) {
  WriterLock lock(mu_);
  all_[s.get()] = s;
}

void Hub::detach(Session& s) {
  WriterLock lock(mu_);
  if (all_.erase(&s) == 0) return;
  for (const auto& c : s.channels) {
    auto it = by_channel_.find(key(s.app_id(), c));
    if (it == by_channel_.end()) continue;
    it->second.erase(&s);
    if (it->second.empty()) by_channel_.erase(it);
  }
  s.channels.clear();
  for (const auto& u : s.presence_watch) {
    auto it = presence_watchers_.find(key(s.app_id(), u));
    if (it == presence_watchers_.end()) continue;
    it->second.erase(&s);
    if (it->second.empty()) presence_watchers_.erase(it);
  }
  auto ukey = key(s.app_id(), s.user_id());
  auto it = by_user_.find(ukey);
  if (it != by_user_.end()) {
    it->second.erase(&s);
    if (it->second.empty()) {
      by_user_.erase(it);
      going_offline_[ukey] = steady_ms() + opts_.presence_grace_ms;
    }
  }
}

void Hub::watch(Session& s, const std::string& channel_id, bool on) {
  WriterLock lock(mu_);
  auto ck = key(s.app_id(), channel_id);
  if (on) {
    by_channel_[ck].insert(&s);
    s.channels.insert(channel_id);
  } else if (s.channels.erase(channel_id)) {
    auto it = by_channel_.find(ck);
    if (it != by_channel_.end()) {
      it->second.erase(&s);
      if (it->second.empty()) by_channel_.erase(it);
    }
  }
}

void Hub::watch_presence(Session& s, const std::vector<std::string>& user_ids) {
  WriterLock lock(mu_);
  for (const auto& u : user_ids) {
    presence_watchers_[key(s.app_id(), u)].insert(&s);
    s.presence_watch.insert(u);
  }
}

bool Hub::online(const std::string& app_id, const std::string& user_id) const {
  ReaderLock lock(mu_);
  auto k = key(app_id, user_id);
  return by_user_.contains(k) || going_offline_.contains(k);
}

std::size_t Hub::sessions() const {
  ReaderLock lock(mu_);
  return all_.size();
}

void Hub::close_user(const std::string& app_id, const std::string& user_id, std::uint16_t code,
                     const std::string& reason) {
  ReaderLock lock(mu_);
  if (auto it = by_user_.find(key(app_id, user_id)); it != by_user_.end()) {
    for (Session* s : it->second) s->kick(code, reason);
  }
}

bool SessionSet::insert(Session* s) {
  if (!index_.try_emplace(s, static_cast<std::uint32_t>(list_.size())).second) return false;
  list_.push_back(s);
  return true;
}

bool SessionSet::erase(Session* s) {
  auto it = index_.find(s);
  if (it == index_.end()) return false;
  const std::uint32_t at = it->second;
  index_.erase(it);
  if (at + 1 != list_.size()) {
    list_[at] = list_.back();
    index_[list_[at]] = at;
  }
  list_.pop_back();
  return true;
}

namespace {

// A fan-out is bound by memory latency, not instructions: each push reads the session and
// then its connection, two cache misses that would otherwise be taken one after the other.
// Prefetching the session a few steps ahead, and its connection a little later, overlaps them.
constexpr std::size_t kSessionAhead = 8;
constexpr std::size_t kPeerAhead = 4;

}  // namespace

void Hub::push_all(const SessionSet& set, const bus::Envelope& e) {
  const std::size_t n = set.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kSessionAhead < n) set[i + kSessionAhead]->prefetch();
    if (i + kPeerAhead < n) set[i + kPeerAhead]->prefetch_peer();
    Session* s = set[i];
    if (e.exclude_user.empty() || s->user_id() != e.exclude_user) s->push(e);
  }
}

void Hub::deliver(const bus::Envelope& e) {
  using bus::EventType;
  const bool subscribe = e.type == EventType::channel_created || e.type == EventType::member_added;
  const bool unsubscribe = e.type == EventType::member_removed || e.type == EventType::channel_deleted;
  const std::string ck = e.channel_id.empty() ? std::string() : key(e.app_id, e.channel_id);
  if (subscribe && !ck.empty()) {
    WriterLock lock(mu_);
    for (const auto& u : e.users) {
      auto it = by_user_.find(key(e.app_id, u));
      if (it == by_user_.end()) continue;
      for (Session* s : it->second) {
        by_channel_[ck].insert(s);
        s->channels.insert(e.channel_id);
      }
    }
  }
  {
    ReaderLock lock(mu_);
    if (e.type == EventType::presence_changed) {
      for (const auto& u : e.users) {
        if (auto it = presence_watchers_.find(key(e.app_id, u)); it != presence_watchers_.end()) {
          for (Session* s : it->second) s->push(e);
        }
      }
    } else {
      const SessionSet* subscribers = nullptr;
      if (!e.users_only && !ck.empty()) {
        if (auto it = by_channel_.find(ck); it != by_channel_.end()) {
          subscribers = &it->second;
          push_all(it->second, e);
        }
      }
      for (const auto& u : e.users) {
        auto it = by_user_.find(key(e.app_id, u));
        if (it == by_user_.end()) continue;
        for (Session* s : it->second) {
          if (!subscribers || !subscribers->contains(s)) s->push(e);
        }
      }
    }
  }
  if (unsubscribe && !ck.empty()) {
    WriterLock lock(mu_);
    if (e.type == EventType::channel_deleted) {
      if (auto it = by_channel_.find(ck); it != by_channel_.end()) {
        for (Session* s : it->second) s->channels.erase(e.channel_id);
        by_channel_.erase(it);
      }
    } else {
      auto it = by_channel_.find(ck);
      for (const auto& u : e.users) {
        auto ut = by_user_.find(key(e.app_id, u));
        if (ut == by_user_.end()) continue;
        for (Session* s : ut->second) {
          s->channels.erase(e.channel_id);
          if (it != by_channel_.end()) it->second.erase(s);
        }
      }
      if (it != by_channel_.end() && it->second.empty()) by_channel_.erase(it);
    }
  }
}

void Hub::typing(const std::string& app_id, const std::string& channel_id, const std::string& user_id, bool start) {
  std::int64_t now = steady_ms();
  bool publish = false;
  {
    MutexLock lock(typing_mu_);
    std::string k = app_id + '\x1f' + channel_id + '\x1f' + user_id;
    auto it = typing_.find(k);
    if (start) {
      if (it == typing_.end()) {
        typing_[k] = {now + opts_.typing_ttl_ms, now};
        publish = true;
      } else {
        it->second.expires_ms = now + opts_.typing_ttl_ms;
        if (now - it->second.published_ms >= opts_.typing_throttle_ms) {
          it->second.published_ms = now;
          publish = true;
        }
      }
    } else if (it != typing_.end()) {
      typing_.erase(it);
      publish = true;
    }
  }
  if (publish) publish_typing(app_id, channel_id, user_id, start);
}

void Hub::tick() {
  std::int64_t now = steady_ms();
  struct Stop {
    std::string app, channel, user;
  };
  std::vector<Stop> stops;
  {
    MutexLock lock(typing_mu_);
    for (auto it = typing_.begin(); it != typing_.end();) {
      if (it->second.expires_ms <= now) {
        auto a = it->first.find('\x1f');
        auto b = it->first.find('\x1f', a + 1);
        stops.push_back({it->first.substr(0, a), it->first.substr(a + 1, b - a - 1), it->first.substr(b + 1)});
        it = typing_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& s : stops) publish_typing(s.app, s.channel, s.user, false);

  std::vector<std::pair<std::string, std::string>> offline;
  std::vector<std::shared_ptr<Session>> live;
  {
    WriterLock lock(mu_);
    for (auto it = going_offline_.begin(); it != going_offline_.end();) {
      if (it->second <= now) {
        auto sep = it->first.find('\x1f');
        offline.emplace_back(it->first.substr(0, sep), it->first.substr(sep + 1));
        it = going_offline_.erase(it);
      } else {
        ++it;
      }
    }
    live.reserve(all_.size());
    for (auto& [ptr, weak] : all_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  TimeMs wall = now_ms();
  for (const auto& [app, user] : offline) {
    publish_presence(app, user, false, wall);
    if (on_offline_) on_offline_(app, user, wall);
  }
  for (const auto& s : live) s->tick(now);
}

void Hub::publish_presence(const std::string& app_id, const std::string& user_id, bool online, TimeMs at) {
  bus::Envelope e;
  e.type = bus::EventType::presence_changed;
  e.app_id = app_id;
  e.users = {user_id};
  json::object data{{"user_id", user_id}, {"online", online}};
  if (!online) data["last_seen_at"] = format_time(at);
  e.frame = std::make_shared<const std::string>(
      json::serialize(json::object{{"type", "event"}, {"event", bus::event_name(e.type)}, {"data", std::move(data)}}));
  bus_.publish(e);
}

void Hub::publish_typing(const std::string& app_id, const std::string& channel_id, const std::string& user_id,
                         bool start) {
  bus::Envelope e;
  e.type = start ? bus::EventType::typing_start : bus::EventType::typing_stop;
  e.app_id = app_id;
  e.channel_id = channel_id;
  e.exclude_user = user_id;  // the typer's own devices show no indicator for themselves
  e.frame =
      std::make_shared<const std::string>(json::serialize(json::object{{"type", "event"},
                                                                       {"event", bus::event_name(e.type)},
                                                                       {"channel_id", channel_id},
                                                                       {"data", json::object{{"user_id", user_id}}}}));
  bus_.publish(e);
}

}  // namespace parley::realtime
