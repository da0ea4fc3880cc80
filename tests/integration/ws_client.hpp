#pragma once
// A WebSocket test client (Beast, synchronous from the test's point of view) for the realtime
// gateway. Every call is bounded by a timeout, so a misbehaving server fails a test instead of
// hanging it: reads are asynchronous operations driven by running a private io_context until
// they complete or the deadline passes (a read still pending then simply carries on at the next
// call). The server may batch several JSON frames into one WebSocket message, newline-separated;
// the client splits them and hands them out one at a time, in order.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace parley::test {

/// How a connection ended, as the client saw it.
struct WsClose {
  bool ended = false;                 // the connection is gone (close handshake, EOF or reset)
  std::optional<std::uint16_t> code;  // the server's close frame code, when one arrived
  std::string reason;
  std::string error;  // the transport error when there was no close frame
};

class WsClient {
 public:
  struct Options {
    /// SO_RCVBUF set before connecting (0: the system's default, autotuned). A small
    /// value plus never reading makes a slow consumer quickly.
    int receive_buffer_bytes = 0;
  };

  explicit WsClient(std::uint16_t port) : WsClient(port, Options{}) {}
  WsClient(std::uint16_t port, Options opts);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  /// Connects to 127.0.0.1 and upgrades at `target` (path and query, e.g. "/v1/ws?token=…").
  /// Returns 101 when upgraded; otherwise the HTTP status of the refused upgrade (its body is
  /// in refusal_body()), or 0 when the TCP connection or the handshake failed (see error()).
  int connect(const std::string& target, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  const std::string& refusal_body() const;
  /// refusal_body() parsed (an empty object when it is not a JSON object).
  boost::json::object refusal_json() const;
  const std::string& error() const;

  /// Send one WebSocket message (text or binary); false when the write failed or timed out.
  bool send_text(std::string_view raw);
  bool send(const boost::json::object& frame);
  bool send_binary(std::string_view bytes);

  /// The next server frame (parsed JSON object); nullopt on timeout or once the connection ended
  /// with nothing left to hand out. A line that is not a JSON object comes back as
  /// {"type":"<not json>","raw":line} so that a test fails on it with the text in view.
  std::optional<boost::json::object> next_frame(std::chrono::milliseconds timeout = std::chrono::seconds(2));
  /// Skips (drops) frames until one satisfies `pred`; nullopt on timeout or end.
  std::optional<boost::json::object> wait_for(const std::function<bool(const boost::json::object&)>& pred,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(2));
  /// wait_for an event frame named `event` (and on `channel_id` when given).
  std::optional<boost::json::object> wait_event(std::string_view event, std::string_view channel_id = {},
                                                std::chrono::milliseconds timeout = std::chrono::seconds(2));
  /// Sends `cmd` with a fresh "id" (unless it has one) and returns the server's answer with that
  /// id (ack, error or pong). Frames that arrive before the answer are kept, in order, for the
  /// next reads.
  std::optional<boost::json::object> command(boost::json::object cmd,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(2));
  /// A barrier: sends a ping and returns every frame that arrived before its pong (empty when
  /// none). Anything the server queued for this connection before it read the ping comes first,
  /// so "nothing before the pong" proves an event was not delivered. Throws when no pong comes.
  std::vector<boost::json::object> until_pong(std::chrono::milliseconds timeout = std::chrono::seconds(2));
  /// Every frame that arrives until none came for `quiet` (or `max` passed).
  std::vector<boost::json::object> drain(std::chrono::milliseconds quiet = std::chrono::milliseconds(200),
                                         std::chrono::milliseconds max = std::chrono::seconds(5));
  /// Reads until the connection ends (frames read meanwhile stay available to next_frame) and
  /// returns how it ended; `ended` is false when it was still open after `timeout`.
  WsClose wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(3));
  /// How the connection ended so far (ended == false while open).
  const WsClose& close_info() const;
  /// Frames received and not yet handed out.
  std::size_t pending() const;

  /// A clean close (close frame with `code`, then wait for the server's answer).
  void close(std::uint16_t code = 1000, std::chrono::milliseconds timeout = std::chrono::seconds(2));
  /// Drops the TCP connection without a close frame.
  void drop();

  /// "Never read" mode is simply not calling any read: nothing is read from the socket unless a
  /// call above runs the client. Total WebSocket messages read so far (one may carry several frames).
  std::size_t messages_read() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The frame's "type" ("" when absent or not a string); for events: the "event" name.
std::string frame_type(const boost::json::object& f);
std::string event_name(const boost::json::object& f);

}  // namespace parley::test
