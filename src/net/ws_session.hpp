#pragma once
// Internal to net/: runs one upgraded WebSocket connection (Beast). Included only by
// http_server.cpp and ws_session.cpp.
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>

#include "net/websocket.hpp"

namespace parley::net::detail {

/// Starts a coroutine (its own root, so the HTTP session's frame is freed) that accepts the
/// upgrade (or answers with the application's response) and then reads until the connection
/// closes. `on_open` receives a function that closes the connection (with going_away, or at
/// once when its argument is true), to be called on the connection's strand. `on_end` runs
/// when the connection is gone.
void spawn_websocket(boost::beast::tcp_stream&& stream,
                     boost::beast::http::request<boost::beast::http::string_body>&& upgrade, Request&& req,
                     const WsOptions& opts, const WsAccept& accept, std::uint64_t id,
                     std::function<void(std::function<void(bool)>)> on_open, std::function<void()> on_end);

}  // namespace parley::net::detail
