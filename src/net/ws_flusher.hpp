#pragma once
// Internal to net/: coalesces the writes of many WebSocket connections (see WsFlusher).
#include <memory>

namespace parley::net::detail {

class WsSession;

/// Writes the frames queued for many connections, once per coalescing window: a connection
/// that receives several events within the window gets them in one write (one system call)
/// instead of one write each. Two threads for all connections: the flusher, and a helper that
/// takes half of a large batch. schedule() may be called from any thread.
class WsFlusher {
 public:
  explicit WsFlusher(int window_us);
  ~WsFlusher();  // stops and joins both threads
  WsFlusher(const WsFlusher&) = delete;
  WsFlusher& operator=(const WsFlusher&) = delete;

  /// `s` gets its WsSession::flush() on a flusher thread once the window that began with the
  /// first connection scheduled since the last round has passed. The caller schedules a session
  /// at most once per round (WsSession's `dirty_`).
  void schedule(std::shared_ptr<WsSession> s);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::net::detail
