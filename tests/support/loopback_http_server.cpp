#include "loopback_http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

namespace parley::test {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of a header in a request head ("" when absent); the request line is skipped.
std::string_view header_in(std::string_view head, std::string_view name) {
  std::size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    std::size_t start = at + 2;
    std::size_t end = head.find("\r\n", start);
    std::string_view line = head.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (auto colon = line.find(':'); colon == name.size() && strncasecmp(line.data(), name.data(), name.size()) == 0)
      return trim(line.substr(colon + 1));
    at = end;
  }
  return {};
}

}  // namespace

std::string HttpRequestSeen::header(std::string_view name) const {
  auto head_end = raw.find("\r\n\r\n");
  return std::string(header_in(std::string_view(raw).substr(0, head_end), name));
}

LoopbackHttpServer::LoopbackHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listen_fd_, 1024) != 0) std::abort();
  socklen_t len = sizeof a;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  accept_thread_ = std::thread([this] { accept_loop(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
  stop_ = true;
  accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(connection_threads_);
  }
  for (auto& t : threads) t.join();
  close(listen_fd_);
}

std::string LoopbackHttpServer::url(std::string_view host, std::string_view path) const {
  return "http://" + std::string(host) + ":" + std::to_string(port_) + std::string(path);
}

void LoopbackHttpServer::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    ++connections_;
    std::lock_guard lock(mu_);
    connection_threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void LoopbackHttpServer::serve(int fd) {
  std::string buffer;
  while (answer_one(fd, buffer)) {
  }
  close(fd);
}

// recv that gives up (0) once the server stops, so a connection a client keeps open cannot hold
// the destructor.
long LoopbackHttpServer::recv_some(int fd, char* buf, std::size_t len) {
  while (!stop_) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) return recv(fd, buf, len, 0);
  }
  return 0;
}

// Reads one request (bytes after it stay in `buffer`), answers it; true when the connection stays
// open for another.
bool LoopbackHttpServer::answer_one(int fd, std::string& buffer) {
  char chunk[16384];
  std::size_t head_end = buffer.find("\r\n\r\n");
  while (head_end == std::string::npos) {
    long n = recv_some(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
    head_end = buffer.find("\r\n\r\n");
  }
  std::size_t body_bytes = 0;
  if (auto cl = header_in(std::string_view(buffer).substr(0, head_end), "Content-Length"); !cl.empty())
    body_bytes = std::strtoul(std::string(cl).c_str(), nullptr, 10);
  const std::size_t total = head_end + 4 + body_bytes;
  while (buffer.size() < total) {
    long n = recv_some(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  HttpRequestSeen req;
  req.raw = buffer.substr(0, total);
  req.body = buffer.substr(head_end + 4, body_bytes);
  buffer.erase(0, total);
  const std::size_t sp1 = req.raw.find(' ');
  const std::size_t sp2 = req.raw.find(' ', sp1 + 1);
  req.method = req.raw.substr(0, sp1);
  req.target = req.raw.substr(sp1 + 1, sp2 - sp1 - 1);
  ++requests_;

  const HttpReply reply = handler_(req);
  const std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + reply.reason + "\r\n" + reply.headers +
                          "Content-Length: " + std::to_string(reply.body.size()) + "\r\n" +
                          (reply.keep_alive ? "" : "Connection: close\r\n") + "\r\n" + reply.body;
  for (std::size_t sent = 0; sent < out.size();) {
    ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return reply.keep_alive;
}

}  // namespace parley::test
