#pragma once
// HTTP/1.1 server on Boost.Beast with one coroutine per connection, each on its own strand.
// Enforces header/body size limits and read timeouts (a slowloris client is cut off when the
// whole request head has not arrived in time), keeps connections alive, and shuts down
// gracefully: stop accepting, close idle connections, let in-flight requests finish (up to a
// grace period), then return from run(). Beast stays inside http_server.cpp.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "net/http_types.hpp"
#include "net/websocket.hpp"

namespace parley::net {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  int threads = 1;
  int max_connections = 10000;
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  int header_timeout_ms = 10000;
  int body_timeout_ms = 30000;
  int idle_timeout_ms = 60000;
  int shutdown_grace_ms = 10000;
  /// Requests whose body is written to a file under spool_dir as it arrives instead of being
  /// held in memory (uploads): the body limit for (method, path), or nullopt for an ordinary
  /// request. Unset: no request is spooled.
  std::function<std::optional<std::size_t>(std::string_view method, std::string_view path)> spool;
  std::string spool_dir;
};

/// Produces the response for a request. Runs on the connection's strand; may co_await.
using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

/// Turns a failure found while reading a request (413, 431, 400) into a response.
using ErrorResponder = std::function<Response(int status, std::string code, std::string message)>;

class HttpServer {
 public:
  HttpServer(ServerOptions opts, Handler handler, ErrorResponder on_error);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and listens; returns the bound port. Throws std::runtime_error when it cannot.
  std::uint16_t listen();
  /// Runs the network threads until shutdown completes (SIGINT/SIGTERM or shutdown()).
  void run();
  /// Starts a graceful shutdown; safe from any thread.
  void shutdown();
  /// True once shutdown has begun.
  bool draining() const;
  int open_connections() const;
  /// The network io_context's executor (for timers of services that live with the server).
  boost::asio::any_io_executor executor();
  /// Called once when shutdown begins (e.g. to flip readiness).
  void on_shutdown(std::function<void()> fn);
  /// Upgrades requests for opts.path to WebSockets handled by `accept`. Call before listen().
  void enable_websocket(WsOptions opts, WsAccept accept);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::net
