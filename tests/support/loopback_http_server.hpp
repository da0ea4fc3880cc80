#pragma once
// A small HTTP/1.1 server on 127.0.0.1 for the tests and benchmarks of outgoing HTTP (the
// outbound client, webhook deliveries): a thread per connection, each request read whole by its
// Content-Length (no chunked bodies) and answered by a handler; keep-alive unless the reply says
// otherwise. Not a general server: no TLS, no chunked bodies, no pipelining.
// Threads: the handler runs on the connection's thread, on several connections at once, so it
// must be thread-safe. The destructor stops accepting, ends every connection within ~50 ms of its
// handler returning (a client holding one open cannot keep it) and joins every thread.
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace parley::test {

/// One request as received.
struct HttpRequestSeen {
  std::string method;
  std::string target;  // as on the request line, e.g. "/redirect?to=..."
  std::string raw;     // head and body, byte for byte
  std::string body;
  /// The first header of that name (case-insensitive), its value trimmed; "" when absent.
  std::string header(std::string_view name) const;
};

/// What the handler answers. Content-Length is added; so is "Connection: close" without keep-alive.
struct HttpReply {
  int status = 200;
  std::string reason = "OK";
  std::string headers;  // extra header lines, each ending in "\r\n"
  std::string body;
  bool keep_alive = true;  // false: the connection is closed after this reply
};

class LoopbackHttpServer {
 public:
  using Handler = std::function<HttpReply(const HttpRequestSeen&)>;

  /// Listens on an ephemeral port of 127.0.0.1 at once; aborts when it cannot.
  explicit LoopbackHttpServer(Handler handler);
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  int port() const { return port_; }
  /// "http://<host>:<port><path>", e.g. url("localhost", "/ok").
  std::string url(std::string_view host, std::string_view path) const;
  /// Requests read whole so far (each handed to the handler).
  int requests() const { return requests_.load(); }
  /// Connections accepted so far.
  int connections() const { return connections_.load(); }

 private:
  void accept_loop();
  void serve(int fd);
  bool answer_one(int fd, std::string& buffer);
  long recv_some(int fd, char* buf, std::size_t len);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<std::thread> connection_threads_;  // guarded by mu_
  std::thread accept_thread_;
};

}  // namespace parley::test
