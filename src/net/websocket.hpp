#pragma once
// WebSocket connections as the network layer offers them: no Beast types. The application
// decides at upgrade time whether to accept (returning a listener) and then receives text
// messages on the connection's strand; it may send from any thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "net/http_types.hpp"

namespace parley::net {

/// Close codes of Parley's WebSocket protocol (docs/protocol.md).
namespace ws_close {
constexpr std::uint16_t normal = 1000;
constexpr std::uint16_t going_away = 1001;
constexpr std::uint16_t unsupported_data = 1003;  // binary frames
constexpr std::uint16_t protocol_error = 1002;    // a malformed frame
constexpr std::uint16_t invalid_payload = 1007;   // text that is not UTF-8
constexpr std::uint16_t too_big = 1009;
constexpr std::uint16_t unauthorized = 4001;
constexpr std::uint16_t token_expired = 4002;
constexpr std::uint16_t forbidden = 4003;
constexpr std::uint16_t slow_consumer = 4008;
constexpr std::uint16_t rate_limited = 4029;
}  // namespace ws_close

/// The sending side of one WebSocket. Thread-safe.
class WsPeer {
 public:
  virtual ~WsPeer() = default;
  /// Queues a frame (shared, never copied). Frames queued together go out in one WebSocket
  /// message, newline-separated. Over the queue's byte budget the connection is closed with
  /// slow_consumer and the queue dropped.
  virtual void send(std::shared_ptr<const std::string> frame) = 0;
  /// Sends a close frame with `code` after the frames already queued.
  virtual void close(std::uint16_t code, std::string reason) = 0;
  virtual std::uint64_t id() const = 0;
  /// The connection's strand: the listener is called there.
  virtual boost::asio::any_io_executor executor() = 0;
};

/// The receiving side, implemented by the application. Called on the connection's strand,
/// one call at a time (the next message is read after on_text completes).
class WsListener {
 public:
  virtual ~WsListener() = default;
  virtual boost::asio::awaitable<void> on_text(std::string_view text) = 0;
  /// The connection is gone (any reason). Called once.
  virtual void on_close() = 0;
};

/// Accepts an upgrade request: a listener, or a response to send instead of upgrading.
using WsAccept = std::function<boost::asio::awaitable<std::variant<std::shared_ptr<WsListener>, Response>>(
    Request&, std::shared_ptr<WsPeer>)>;

struct WsOptions {
  std::string path = "/v1/ws";
  std::size_t max_message_bytes = 64 << 10;
  std::size_t max_queue_bytes = 1 << 20;
  int idle_timeout_ms = 30000;  // no frame and no pong for this long: closed (pings at half)
  /// Events for one connection within this window go out in one write (0: each at once).
  int write_coalesce_us = 0;
};

}  // namespace parley::net
