#pragma once
// Who listens to what on this node: realtime sessions by user and by channel, presence
// counts and typing state. Events arrive from the bus (deliver) and go to the sessions that
// should see them; the frame is shared, never copied or re-encoded per recipient.
// Thread-safe: one shared mutex guards the indexes (and Session::channels); fan-out runs on
// the publishing thread under the shared lock and hands each session the shared frame
// (Session::push -> net::WsPeer::send, which queues it or writes it without blocking under the
// connection's own mutex; with coalescing the flusher threads write). Nothing waits for a
// strand or the network, and nothing is published to the bus while the lock is held.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bus/bus.hpp"
#include "core/thread_annotations.hpp"
#include "core/time.hpp"

namespace parley::realtime {

class Session;

/// A set of sessions kept in a flat array as well, so that a fan-out walks contiguous memory
/// (and can prefetch ahead) instead of hash nodes. Insert and erase are O(1); erase moves the
/// last element into the gap, so the order is not stable.
class SessionSet {
 public:
  bool insert(Session* s);
  bool erase(Session* s);
  bool contains(Session* s) const { return index_.contains(s); }
  bool empty() const { return list_.empty(); }
  std::size_t size() const { return list_.size(); }
  std::vector<Session*>::const_iterator begin() const { return list_.begin(); }
  std::vector<Session*>::const_iterator end() const { return list_.end(); }
  Session* operator[](std::size_t i) const { return list_[i]; }

 private:
  std::vector<Session*> list_;
  std::unordered_map<Session*, std::uint32_t> index_;  // session -> its position in list_
};

struct HubOptions {
  int presence_grace_ms = 5000;
  int typing_ttl_ms = 5000;
  int typing_throttle_ms = 1000;  // a user's typing.start goes out at most this often per channel
  int tick_ms = 250;              // sweeper period: typing expiry, presence grace, session deadlines
};

class Hub {
 public:
  /// `on_offline(app, user, at)` runs when a user goes offline (to store last seen); it must not block.
  Hub(boost::asio::any_io_executor exec, bus::Bus& bus, HubOptions opts,
      std::function<void(const std::string&, const std::string&, TimeMs)> on_offline);
  ~Hub();

  void start();
  void stop();

  /// Registers a session and the channels it hears; publishes presence when the user comes online.
  void attach(const std::shared_ptr<Session>& s, const std::vector<std::string>& channels);
  /// Registers a session still waiting for its auth frame, so that the sweeper enforces its deadline.
  void track(const std::shared_ptr<Session>& s);
  void detach(Session& s);
  /// Hear a channel without being a member (public channels), or stop.
  void watch(Session& s, const std::string& channel_id, bool on);
  /// Hear presence.changed of these users.
  void watch_presence(Session& s, const std::vector<std::string>& user_ids);
  bool online(const std::string& app_id, const std::string& user_id) const;
  std::size_t sessions() const;
  /// Closes every session of a user on this node (tokens revoked, user deactivated).
  void close_user(const std::string& app_id, const std::string& user_id, std::uint16_t code, const std::string& reason);

  /// Routes one envelope to local sessions and applies subscription changes it implies.
  void deliver(const bus::Envelope& e);

  /// typing.start (refreshes the expiry; throttled) or typing.stop of a member in a channel.
  void typing(const std::string& app_id, const std::string& channel_id, const std::string& user_id, bool start);

 private:
  struct Typing {
    std::int64_t expires_ms;
    std::int64_t published_ms;
  };
  void tick();
  /// Pushes `e` to every session of `set` (but the excluded user's). Under mu_.
  static void push_all(const SessionSet& set, const bus::Envelope& e);
  void publish_presence(const std::string& app_id, const std::string& user_id, bool online, TimeMs at);
  void publish_typing(const std::string& app_id, const std::string& channel_id, const std::string& user_id, bool start);

  boost::asio::any_io_executor exec_;
  bus::Bus& bus_;
  HubOptions opts_;
  std::function<void(const std::string&, const std::string&, TimeMs)> on_offline_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;  // touched on exec_ only

  mutable SharedMutex mu_;
  // Keys are app_id + '\x1f' + channel_id / user_id.
  std::unordered_map<std::string, SessionSet> by_channel_ GUARDED_BY(mu_);
  std::unordered_map<std::string, SessionSet> by_user_ GUARDED_BY(mu_);
  std::unordered_map<std::string, SessionSet> presence_watchers_ GUARDED_BY(mu_);
  std::unordered_map<std::string, std::int64_t> going_offline_ GUARDED_BY(mu_);  // user key -> deadline (steady ms)
  std::unordered_map<Session*, std::weak_ptr<Session>> all_ GUARDED_BY(mu_);

  Mutex typing_mu_;
  std::unordered_map<std::string, Typing> typing_ GUARDED_BY(typing_mu_);  // app\x1fchannel\x1fuser
};

/// Steady-clock milliseconds (deadlines, typing, grace periods).
std::int64_t steady_ms();

}  // namespace parley::realtime
