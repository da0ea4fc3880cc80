#pragma once
// Internal to net/: runs one upgraded WebSocket connection (Beast). Included only by
// http_server.cpp and ws_session.cpp.
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>

#include "net/websocket.hpp"

namespace parley::net::detail {

/// Accepts the upgrade (or answers with the application's response), then reads until the
/// connection closes. `on_open` receives a function that closes the connection (with
/// going_away, or at once when its argument is true), to be called on the connection's strand.
boost::asio::awaitable<void> run_websocket(boost::beast::tcp_stream stream,
                                           boost::beast::http::request<boost::beast::http::string_body> upgrade,
                                           Request req, const WsOptions& opts, const WsAccept& accept, std::uint64_t id,
                                           const std::function<void(std::function<void(bool)>)>& on_open);

}  // namespace parley::net::detail
