#pragma once
// A plain TCP connection for what a well-behaved HTTP client never sends: malformed request
// heads, oversize headers, bodies that trickle in, connections left idle.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http_client.hpp"

namespace parley::test {

class RawSocket {
 public:
  /// Connects to 127.0.0.1:port; throws when it cannot.
  explicit RawSocket(std::uint16_t port);
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  /// Sends all bytes; false when the peer has closed or reset the connection.
  bool send(std::string_view bytes);
  /// Reads one HTTP response (head and Content-Length body); nullopt on close or timeout.
  std::optional<HttpResponse> read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Waits until the peer closes (EOF or reset), discarding data; true when it did in time.
  bool wait_closed(std::chrono::milliseconds timeout);
  /// Everything received until the peer closes or the timeout passes.
  std::string read_all(std::chrono::milliseconds timeout);

 private:
  // Receives more bytes into buf_; false on EOF/reset/timeout.
  bool fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buf_;
  bool closed_ = false;
};

/// Parses "HTTP/1.1 200 OK\r\nName: v\r\n\r\nbody"; nullopt when it is not a response.
std::optional<HttpResponse> parse_response(std::string_view text);

}  // namespace parley::test
