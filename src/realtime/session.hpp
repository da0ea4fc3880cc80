#pragma once
// One authenticated realtime connection: parses client commands, answers with acks or error
// frames, and receives events from the Hub. Commands and resume run on the connection's
// strand (via WsListener); push() and tick() may be called from any thread.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "bus/bus.hpp"
#include "core/json_reader.hpp"
#include "core/thread_annotations.hpp"
#include "net/websocket.hpp"
#include "services/services.hpp"

namespace parley::realtime {

class Hub;

class Session final : public net::WsListener, public std::enable_shared_from_this<Session> {
 public:
  /// An unauthenticated session waits for an "auth" frame until `auth_deadline_ms`. With
  /// `resume_pending`, live events are held until the client's "resume" command is served.
  Session(services::Services& services, Hub& hub, std::shared_ptr<net::WsPeer> peer,
          std::optional<auth::Principal> principal, bool resume_pending, std::int64_t auth_deadline_ms);

  /// Sends hello and registers with the hub (authenticated sessions). Call once, after creation.
  boost::asio::awaitable<void> start();

  boost::asio::awaitable<void> on_text(std::string_view text) override;
  void on_close() override;

  /// An event for this session; the frame is shared with every other recipient.
  void push(const bus::Envelope& e);
  /// Fan-out hints (see Hub::push_all): bring what push() reads into the cache ahead of it —
  /// this session's first fields, then (once those are in) the first three cache lines of the
  /// connection, where net's WsSession keeps what its send() touches.
  void prefetch() const { __builtin_prefetch(&peer_); }
  void prefetch_peer() const {
    const char* p = reinterpret_cast<const char*>(peer_.get());
    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
    __builtin_prefetch(p + 128);
  }
  /// Closes the connection with `code` (any thread).
  void kick(std::uint16_t code, const std::string& reason) { peer_->close(code, reason); }
  /// Deadlines: auth timeout, token expiry, a resume that never came.
  void tick(std::int64_t steady_now_ms);

  const std::string& app_id() const { return app_id_; }
  const std::string& user_id() const { return user_id_; }

  // Guarded by the Hub's mutex.
  std::unordered_set<std::string> channels;
  std::unordered_set<std::string> presence_watch;

 private:
  struct Held {
    std::shared_ptr<const std::string> frame;
    std::string channel_id;
    std::int64_t seq;
    bool message_new;
  };

  boost::asio::awaitable<void> handle(const boost::json::object& cmd, const std::string& id);
  boost::asio::awaitable<void> authenticate(const boost::json::object& cmd, const std::string& id);
  boost::asio::awaitable<void> send_message(const boost::json::object& cmd, const std::string& id);
  void answer_send(const std::string& id, const Result<store::SendResult>& sent);
  boost::asio::awaitable<void> mark_read(const boost::json::object& cmd, const std::string& id);
  boost::asio::awaitable<void> typing(const boost::json::object& cmd, const std::string& id, bool start);
  boost::asio::awaitable<void> watch(const boost::json::object& cmd, const std::string& id, bool on);
  boost::asio::awaitable<void> watch_presence(const boost::json::object& cmd, const std::string& id);
  boost::asio::awaitable<void> resume(const boost::json::object& cmd, const std::string& id);
  void go_live(const std::map<std::string, std::int64_t>& replayed);

  void send_json(const boost::json::object& frame);
  void ack(const std::string& id, boost::json::object data);
  void error(const std::string& id, const Error& e);
  void hello();
  /// Sends an error frame for the first problem `r` found; true when the command may proceed.
  bool valid(ObjectReader& r, const std::string& id);
  bool rate_ok();

  // What push() reads, together at the front (one cache line).
  std::shared_ptr<net::WsPeer> peer_;
  std::atomic<bool> holding_;  // live events held until resume is served
  std::atomic<bool> has_floors_{false};

  services::Services& s_;
  Hub& hub_;
  std::string app_id_;
  std::string user_id_;
  tenancy::AppPtr app_;
  std::atomic<std::int64_t> token_exp_s_{0};  // the access token's exp (seconds); 0 = unauthenticated
  std::atomic<std::int64_t> auth_deadline_ms_;
  /// True when a live message.new on `channel_id` at `seq` was already sent by the replay
  /// (drops the channel's floor once a later seq arrives).
  bool replayed_already(const std::string& channel_id, std::int64_t seq) REQUIRES(hold_mu_);

  Mutex hold_mu_;
  std::vector<Held> held_ GUARDED_BY(hold_mu_);                      // events that arrived while holding
  std::map<std::string, std::int64_t> floors_ GUARDED_BY(hold_mu_);  // after a resume: channel -> last replayed seq
  bool attached_ = false;                                            // strand only
  bool resuming_ = false;                                            // strand only: a resume command is replaying
  bool closed_ = false;                                              // strand only
  double tokens_;                                                    // command rate bucket; strand only
  std::int64_t bucket_ms_;
  int rate_strikes_ = 0;
  /// message.send commands submitted and not yet answered (strand only); up to this many are
  /// pipelined, beyond it the connection's reading waits for the commit.
  int sends_in_flight_ = 0;
  static constexpr int kMaxSendsInFlight = 64;
};

}  // namespace parley::realtime
