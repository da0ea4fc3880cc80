#include "frame_reader.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "net/ws_frame.hpp"

namespace bench {

namespace ws = parley::net::ws;

struct FrameReaders::Conn {
  std::size_t index = 0;
  int fd = -1;
  bool open = true;
  std::string pending;   // bytes of an incomplete frame
  std::string fragment;  // a fragmented message being joined
};

struct FrameReaders::Thread {
  int epfd = -1;
  std::vector<std::unique_ptr<Conn>> conns;
};

FrameReaders::FrameReaders(int threads, int poll_us) : poll_us_(poll_us) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    auto t = std::make_unique<Thread>();
    t->epfd = ::epoll_create1(EPOLL_CLOEXEC);
    if (t->epfd < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    threads_.push_back(std::move(t));
  }
}

FrameReaders::~FrameReaders() {
  for (auto& t : threads_) {
    for (auto& c : t->conns) ::close(c->fd);
    ::close(t->epfd);
  }
}

void FrameReaders::add(std::size_t index, int fd) {
  Thread& t = *threads_[index % threads_.size()];
  auto c = std::make_unique<Conn>();
  c->index = index;
  c->fd = fd;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = c.get();
  if (::epoll_ctl(t.epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
    throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
  t.conns.push_back(std::move(c));
}

bool FrameReaders::run(const OnMessage& on_message, const std::function<bool()>& done, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::atomic<bool> finished{false};
  std::vector<std::thread> others;
  for (std::size_t i = 1; i < threads_.size(); ++i)
    others.emplace_back([&, i] { read_thread(*threads_[i], on_message, done, deadline, finished); });
  read_thread(*threads_[0], on_message, done, deadline, finished);
  for (auto& t : others) t.join();
  return finished.load();
}

void FrameReaders::read_thread(Thread& t, const OnMessage& on_message, const std::function<bool()>& done,
                               std::chrono::steady_clock::time_point deadline, std::atomic<bool>& finished) {
  constexpr int kEvents = 256;
  epoll_event events[kEvents];
  thread_local std::string buf(1 << 16, '\0');
  for (;;) {
    if (finished.load(std::memory_order_relaxed)) return;
    if (done()) {
      finished = true;
      return;
    }
    if (std::chrono::steady_clock::now() > deadline) return;
    int n = ::epoll_wait(t.epfd, events, kEvents, poll_us_ > 0 ? 0 : 20);
    if (n == 0 && poll_us_ > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(poll_us_));
      continue;
    }
    for (int i = 0; i < n; ++i) {
      auto& c = *static_cast<Conn*>(events[i].data.ptr);
      if (!c.open) continue;
      ssize_t got = ::recv(c.fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      // Delayed acknowledgements: without this, Linux acknowledges every small segment as soon as
      // it is read, and on loopback that ACK's transmit and the sender's processing of it ran on
      // this process's CPU (half of it). The kernel leaves the mode when its delayed-ACK timer
      // fires, so it is set again after each read.
      static const int off = 0;
      ::setsockopt(c.fd, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off);
      bool alive = got > 0;
      if (alive) {
        // Frames are parsed where they lie; only an incomplete one is kept for the next read.
        std::string_view in(buf.data(), static_cast<std::size_t>(got));
        if (!c.pending.empty()) {
          c.pending.append(in);
          in = c.pending;
        }
        std::size_t used = 0;
        alive = consume(c, in, used, on_message);
        if (alive && c.pending.empty()) {
          c.pending.assign(in.substr(used));
        } else if (alive) {
          c.pending.erase(0, used);
        }
      }
      if (!alive) {
        c.open = false;
        ::epoll_ctl(t.epfd, EPOLL_CTL_DEL, c.fd, nullptr);
        ++ended_;
      }
    }
  }
}

bool FrameReaders::consume(Conn& c, std::string_view data, std::size_t& pos, const OnMessage& on_message) {
  bool alive = true;
  while (alive) {
    ws::FrameHeader h;
    auto parsed = ws::parse_header(data.substr(pos), 64u << 20, h, ws::Sender::server);
    if (parsed == ws::Parse::need_more) break;
    if (parsed != ws::Parse::ok) return false;
    if (data.size() - pos < h.header_bytes + h.length) break;
    std::string_view payload = data.substr(pos + h.header_bytes, h.length);
    pos += h.header_bytes + h.length;
    switch (h.opcode) {
      case ws::opcode::text:
      case ws::opcode::binary:
      case ws::opcode::continuation:
        if (h.fin && c.fragment.empty()) {
          on_message(c.index, payload);
        } else {
          c.fragment.append(payload);
          if (h.fin) {
            on_message(c.index, c.fragment);
            c.fragment.clear();
          }
        }
        break;
      case ws::opcode::ping: {
        // A masked pong with the ping's payload (a zero mask leaves it as is).
        std::string pong{static_cast<char>(0x80 | ws::opcode::pong), static_cast<char>(0x80 | payload.size())};
        pong.append(4, '\0');
        pong.append(payload);
        (void)!::send(c.fd, pong.data(), pong.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        break;
      }
      case ws::opcode::close: alive = false; break;
      default: break;  // pong
    }
  }
  return alive;
}

}  // namespace bench
