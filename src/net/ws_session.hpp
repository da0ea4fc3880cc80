#pragma once
// Internal to net/: runs one upgraded WebSocket connection. Beast answers the upgrade
// handshake; after it the connection frames RFC 6455 itself (net/ws_frame.hpp). Included by
// http_server.cpp and by the files of the session (ws_session_impl.hpp).
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "net/websocket.hpp"
#include "net/ws_flusher.hpp"

namespace parley::net::detail {

/// What the server keeps of an open WebSocket, for shutdown and heartbeats. Thread-safe.
class WsControl {
 public:
  virtual ~WsControl() = default;
  /// Closes with going_away after the frames already queued, or at once when `force`.
  virtual void shutdown(bool force) = 0;
  /// Called about four times per idle timeout for every open connection: pings a connection
  /// silent for half the idle timeout, closes one silent for all of it and one whose closing
  /// handshake is overdue. Cheap when there is nothing to do (a few atomic loads).
  virtual void heartbeat(std::int64_t steady_now_ms) = 0;
};

/// Accepts the upgrade (or answers with the application's response) and then serves the
/// connection until it closes. `leftover` holds bytes read after the upgrade request.
/// With a flusher, events are coalesced (see WsFlusher); without, each is written at once.
/// `on_open` receives the connection's control once it is open (call it from any thread);
/// `on_end` runs when the connection is gone.
void spawn_websocket(boost::asio::ip::tcp::socket&& socket, std::string leftover,
                     boost::beast::http::request<boost::beast::http::string_body>&& upgrade, Request&& req,
                     const WsOptions& opts, const WsAccept& accept, std::uint64_t id, WsFlusher* flusher,
                     std::function<void(std::weak_ptr<WsControl>)> on_open, std::function<void()> on_end);

/// The steady clock in milliseconds, as heartbeat() expects it.
std::int64_t ws_now_ms();

}  // namespace parley::net::detail
