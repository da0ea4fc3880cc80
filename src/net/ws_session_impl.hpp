#pragma once
// Internal to net/: the class behind spawn_websocket(), shared by the files that implement it:
// ws_session.cpp (opening, heartbeats, closing), ws_reader.cpp (reading, frames into messages)
// and ws_writer.cpp (the write path; the coalesced variant runs from ws_flusher.cpp).
#include <sys/uio.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/thread_annotations.hpp"
#include "net/websocket.hpp"
#include "net/ws_close_state.hpp"
#include "net/ws_flusher.hpp"
#include "net/ws_frame.hpp"
#include "net/ws_session.hpp"

namespace parley::net::detail {

inline constexpr std::int64_t kCloseHandshakeMs = 5000;
inline constexpr std::int64_t kSlowConsumerCloseMs = 1000;

// One WebSocket connection after the upgrade.
//
// Reading runs on the connection's strand with callbacks: an idle connection waits for
// readability with no buffer and no coroutine frame; bytes are read into a per-thread buffer and
// only an incomplete frame is kept (in `inbuf_`). One text message is handed to the listener at
// a time; reading resumes when it is done.
//
// Writing may start on any thread: send() takes mu_ and, when nothing is queued or in flight,
// writes the frame to the socket at once with one non-blocking sendmsg (no allocation, no
// handler posted). What the socket does not take right away is queued and written by the
// strand; frames queued meanwhile go out together as one newline-separated message. With a
// flusher, send() only queues and schedules the connection; the flusher's thread writes.
//
// Closing is `close_` (WsCloseState). The file descriptor is closed only on the strand after
// `close_` reaches `closed` under mu_, so a direct write never touches a closed (or reused)
// descriptor; the flusher's write, which runs without mu_, marks itself (`flushing_`) and
// closes the descriptor itself when a close came meanwhile (`close_deferred_`).
//
// There is no per-connection timer: the server calls heartbeat() for every connection a few
// times per idle timeout.
class WsSession final : public WsPeer, public WsControl, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(boost::asio::ip::tcp::socket&& socket, std::string leftover, const WsOptions& opts, std::uint64_t id,
            WsFlusher* flusher, boost::beast::http::request<boost::beast::http::string_body>&& upgrade, Request&& req,
            std::function<void()> on_end);
  ~WsSession() override;

  // WsPeer (any thread).
  void send(std::shared_ptr<const std::string> frame) override EXCLUDES(mu_);
  void close(std::uint16_t code, std::string reason) override EXCLUDES(mu_);
  std::uint64_t id() const override { return id_; }
  boost::asio::any_io_executor executor() override { return sock_.get_executor(); }

  // WsControl (any thread).
  void shutdown(bool force) override EXCLUDES(mu_);
  void heartbeat(std::int64_t steady_now_ms) override EXCLUDES(mu_);

  // The flusher's turn (a flusher thread): writes every queued frame as one message with one
  // non-blocking sendmsg; the strand's writer takes over what the socket does not take.
  void flush() EXCLUDES(mu_);

  // Strand: answers the upgrade and serves the connection until it ends.
  boost::asio::awaitable<void> start(const WsAccept& accept, std::function<void(std::weak_ptr<WsControl>)> on_open);

 private:
  // --- Reading (strand; ws_reader.cpp) ----------------------------------------------------
  void wait_read();
  void on_readable();
  void parse_and_read();
  void consume_inbuf(std::size_t used);
  std::size_t parse(std::string_view data);
  void on_frame(const ws::FrameHeader& h, std::string payload);
  void on_message(std::uint8_t op, std::string text);
  void on_peer_close(const std::string& payload) EXCLUDES(mu_);
  void fail(std::uint16_t code, const char* reason) EXCLUDES(mu_);

  // --- Writing (ws_writer.cpp) ------------------------------------------------------------
  bool can_write_now() const REQUIRES(mu_);
  bool write_now(iovec* iov, int n) REQUIRES(mu_);
  void keep_unsent(const iovec* iov, std::size_t n, std::size_t done) REQUIRES(mu_);
  void start_writer() REQUIRES(mu_);
  void control(std::uint8_t op, const std::string& payload) EXCLUDES(mu_);
  void write_more() EXCLUDES(mu_);
  void written(boost::system::error_code ec) EXCLUDES(mu_);

  // --- Closing (ws_session.cpp) -----------------------------------------------------------
  bool closing() EXCLUDES(mu_);
  void begin_close(std::uint16_t code, const std::string& reason, bool reply,
                   std::int64_t deadline_ms = kCloseHandshakeMs) EXCLUDES(mu_);
  void hard_close() EXCLUDES(mu_);
  void close_socket_on_strand();
  void end();
  boost::asio::awaitable<void> reject(Response resp, unsigned version);

  // What send() touches, first: a fan-out prefetches the object's first three cache lines
  // (realtime::Session::prefetch_peer; the bases' vtable pointers and weak_this come before
  // these, ~32 bytes).
  Mutex mu_;
  int fd_ GUARDED_BY(mu_) = -1;
  std::vector<std::shared_ptr<const std::string>> queue_ GUARDED_BY(mu_);  // data frames for the writer
  std::size_t queued_bytes_ GUARDED_BY(mu_) = 0;
  WsCloseState close_ GUARDED_BY(mu_);
  bool open_ GUARDED_BY(mu_) = false;            // the handshake is done: writes may start
  bool writing_ GUARDED_BY(mu_) = false;         // the strand's writer (or the flusher's write) runs
  bool dirty_ GUARDED_BY(mu_) = false;           // waiting for the flusher
  bool flushing_ GUARDED_BY(mu_) = false;        // the flusher writes to the descriptor without mu_
  bool close_deferred_ GUARDED_BY(mu_) = false;  // hard_close() came during that write: the flusher closes
  const WsOptions& opts_;
  WsFlusher* const flusher_;  // null: frames are written at once

  boost::asio::ip::tcp::socket sock_;  // its executor is the connection's strand
  const std::uint64_t id_;
  std::function<void()> on_end_;

  // Strand only.
  std::string inbuf_;     // bytes of an incomplete frame; empty (no allocation) when idle
  std::string fragment_;  // a fragmented message being assembled
  std::uint8_t fragment_opcode_ = 0;
  bool in_fragment_ = false;
  bool dispatching_ = false;  // the listener is handling a message; reading waits
  bool discard_ = false;      // failed: incoming bytes are dropped
  std::uint64_t skip_ = 0;    // bytes of an oversize frame still to drop
  std::shared_ptr<WsListener> listener_;
  std::unique_ptr<boost::beast::http::request<boost::beast::http::string_body>> upgrade_;  // until the handshake
  std::unique_ptr<Request> req_;
  // The write in flight (strand, while writing_).
  std::string head_;
  std::vector<std::shared_ptr<const std::string>> batch_;
  std::string tail_;
  std::vector<boost::asio::const_buffer> bufs_;
  std::vector<ws::BatchMessage> plan_;  // batch_'s messages (their headers)

  // The rarely used part.
  std::string partial_ GUARDED_BY(mu_);      // the unwritten rest of a frame a direct write began
  std::string control_out_ GUARDED_BY(mu_);  // encoded control frames waiting for the writer
  std::string close_frame_ GUARDED_BY(mu_);  // an encoded close frame waiting for the writer

  std::atomic<std::int64_t> last_rx_ms_{0};
  std::atomic<std::int64_t> close_deadline_ms_{0};
  std::atomic<bool> ping_pending_{false};
  std::atomic<bool> ended_{false};
};

}  // namespace parley::net::detail
