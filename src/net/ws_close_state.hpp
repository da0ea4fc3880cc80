#pragma once
// The closing side of one WebSocket as a small state machine: pure logic, no I/O. Internal to
// net/. Not thread-safe: WsSession keeps it under its mutex.
#include <cstdint>

namespace parley::net::detail {

enum class CloseState : std::uint8_t {
  open,        // data frames are accepted
  closing,     // our close frame is queued or being written; no more data frames
  answering,   // the same, in answer to the peer's close: the socket closes once it is written
  close_sent,  // our close frame is written; the peer's close (or the deadline) ends the connection
  closed,      // the socket is closed or being closed: nothing more is written
};

// Transitions: open -> closing | answering (request_close), closing -> answering (the peer's
// close comes while ours is queued), closing | answering -> close_sent (close_written), and any
// state -> closed (close_socket). No transition leads back.
class WsCloseState {
 public:
  CloseState state() const { return state_; }
  bool accepts_data() const { return state_ == CloseState::open; }
  bool closing() const { return state_ != CloseState::open; }
  bool close_sent() const { return state_ == CloseState::close_sent; }
  bool socket_closed() const { return state_ == CloseState::closed; }

  /// A close is asked for; `reply` when it answers the peer's close. True only for the first
  /// request on an open connection: the caller then queues our close frame.
  bool request_close(bool reply) {
    switch (state_) {
      case CloseState::open: state_ = reply ? CloseState::answering : CloseState::closing; return true;
      case CloseState::closing:
        if (reply) state_ = CloseState::answering;
        return false;
      default: return false;
    }
  }

  /// Our close frame has been written. True when the socket must close now (it answered the
  /// peer's close, so the closing handshake is complete).
  bool close_written() {
    if (state_ != CloseState::closing && state_ != CloseState::answering) return false;
    const bool answered = state_ == CloseState::answering;
    state_ = CloseState::close_sent;
    return answered;
  }

  /// The socket is to be closed. False when it already was.
  bool close_socket() {
    if (state_ == CloseState::closed) return false;
    state_ = CloseState::closed;
    return true;
  }

 private:
  CloseState state_ = CloseState::open;
};

}  // namespace parley::net::detail
