#include "raw_socket.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace parley::test {

RawSocket::RawSocket(std::uint16_t port) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::string msg = std::strerror(errno);
    close(fd_);
    throw std::runtime_error("connect to port " + std::to_string(port) + " failed: " + msg);
  }
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) close(fd_);
}

bool RawSocket::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool RawSocket::fill(std::chrono::steady_clock::time_point deadline) {
  if (closed_) return false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char tmp[8192];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
}

std::optional<HttpResponse> RawSocket::read_response(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto head_end = buf_.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      auto res = parse_response(std::string_view(buf_).substr(0, head_end + 4));
      if (!res) return std::nullopt;
      std::size_t len = 0;
      if (auto cl = res->header("Content-Length")) len = std::stoul(*cl);
      while (buf_.size() < head_end + 4 + len) {
        if (!fill(deadline)) return std::nullopt;
      }
      res->body = buf_.substr(head_end + 4, len);
      buf_.erase(0, head_end + 4 + len);
      return res;
    }
    if (!fill(deadline)) return std::nullopt;
  }
}

bool RawSocket::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fill(deadline)) buf_.clear();
  return closed_;
}

std::string RawSocket::read_all(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fill(deadline)) {
  }
  return std::exchange(buf_, {});
}

std::optional<HttpResponse> parse_response(std::string_view text) {
  if (!text.starts_with("HTTP/1.")) return std::nullopt;
  auto line_end = text.find("\r\n");
  if (line_end == std::string_view::npos || line_end < 12) return std::nullopt;
  HttpResponse res;
  res.status = std::stoi(std::string(text.substr(9, 3)));
  auto head_end = text.find("\r\n\r\n");
  std::size_t pos = line_end + 2;
  while (pos < head_end) {
    auto eol = text.find("\r\n", pos);
    auto line = text.substr(pos, eol - pos);
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      res.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    pos = eol + 2;
  }
  if (head_end != std::string_view::npos) res.body = std::string(text.substr(head_end + 4));
  auto conn = res.header("Connection");
  res.keep_alive = !(conn && (*conn == "close" || *conn == "Close"));
  return res;
}

}  // namespace parley::test
