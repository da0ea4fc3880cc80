// Reads the server's messages from many open WebSocket connections on a few threads, with
// epoll and plain recv(): the fan-out's receiving side, kept light so that the load generator
// takes as little of the machine's CPU from the server as it can. (Beast's stream with one
// coroutine per connection cost ~8.6 µs of client CPU per delivery on loopback, more than the
// server spent sending it.)
//
// Each connection belongs to one thread (index % threads): its callback runs only there, so
// per-connection state needs no lock. Pings are answered with pongs; a close frame or an error
// ends the connection. Threading: add() before run(); run() once, from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

class FrameReaders {
 public:
  /// A complete text or binary message of connection `index` (fragments joined).
  using OnMessage = std::function<void(std::size_t index, std::string_view message)>;

  /// `poll_us` > 0: a thread with nothing to read sleeps that long instead of blocking in
  /// epoll_wait (see docs/benchmarks.md: on loopback the sender pays for waking the reader).
  explicit FrameReaders(int threads, int poll_us = 0);
  ~FrameReaders();  // closes the descriptors
  FrameReaders(const FrameReaders&) = delete;
  FrameReaders& operator=(const FrameReaders&) = delete;

  /// Takes ownership of `fd`, an open WebSocket connection (handshake done, nothing buffered
  /// elsewhere). `index` is passed back to the callback.
  void add(std::size_t index, int fd);

  /// Reads until done() holds (checked by every thread after each wake-up and at least every
  /// 20 ms) or the timeout passes; true when done() came first.
  bool run(const OnMessage& on_message, const std::function<bool()>& done, std::chrono::seconds timeout);

  /// Connections that ended (close frame, error, protocol error) during run().
  std::size_t ended() const { return ended_.load(); }

 private:
  struct Conn;
  struct Thread;
  void read_thread(Thread& t, const OnMessage& on_message, const std::function<bool()>& done,
                   std::chrono::steady_clock::time_point deadline, std::atomic<bool>& finished);
  // Handles the whole frames at the start of `data`; `used` ends past the last one. False: the
  // connection ends.
  bool consume(Conn& c, std::string_view data, std::size_t& used, const OnMessage& on_message);

  std::vector<std::unique_ptr<Thread>> threads_;
  int poll_us_ = 0;
  std::atomic<std::size_t> ended_{0};
};

}  // namespace bench
