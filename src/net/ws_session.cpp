#include "net/ws_session.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <iterator>
#include <mutex>
#include <thread>
#include <vector>

#include "net/ws_frame.hpp"

namespace parley::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::int64_t ws_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

class WsSession;
void flush_later(WsFlusher::Impl& f, std::shared_ptr<WsSession> s);

constexpr std::int64_t kCloseHandshakeMs = 5000;
constexpr std::int64_t kSlowConsumerCloseMs = 1000;
constexpr std::size_t kMaxControlBytes = 512;    // queued control frames (pings and pongs)
constexpr std::size_t kMaxFramesPerFlush = 500;  // iovec entries stay under IOV_MAX (1024)
// Events queued together go out newline-separated in text messages of at most this many bytes
// (a larger event is a message of its own), so that a client catching up on a long backlog
// can act on its first events while the rest is still on the way.
constexpr std::size_t kMaxBatchMessageBytes = 64 << 10;
constexpr std::size_t kReadChunk = 16384;

// One WebSocket connection after the upgrade.
//
// Reading runs on the connection's strand with callbacks: an idle connection waits for
// readability with no buffer and no coroutine frame; bytes are read into a per-thread buffer and
// only an incomplete frame is kept (in `inbuf_`). One text message is handed to the listener at
// a time; reading resumes when it is done.
//
// Writing may start on any thread: send() takes the connection's mutex and, when nothing is
// queued or in flight, writes the frame to the socket at once with one non-blocking sendmsg
// (no allocation, no handler posted). What the socket does not take right away is queued and
// written by the strand; frames queued meanwhile go out together as one newline-separated
// message. The file descriptor is closed only on the strand after `fd_closed_` is set under the
// mutex, so a direct write never touches a closed (or reused) descriptor; the flusher's write,
// which runs without the mutex, marks itself (`flushing_`) and closes the descriptor itself when
// a close came meanwhile.
//
// There is no per-connection timer: the server calls heartbeat() for every connection a few
// times per idle timeout.
class WsSession final : public WsPeer, public WsControl, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket&& socket, std::string leftover, const WsOptions& opts, std::uint64_t id, WsFlusher* flusher,
            http::request<http::string_body>&& upgrade, Request&& req, std::function<void()> on_end)
      : opts_(opts),
        flusher_(flusher),
        sock_(std::move(socket)),
        id_(id),
        on_end_(std::move(on_end)),
        inbuf_(std::move(leftover)),
        upgrade_(std::make_unique<http::request<http::string_body>>(std::move(upgrade))),
        req_(std::make_unique<Request>(std::move(req))) {}

  ~WsSession() override {
    if (on_end_) on_end_();
  }

  // --- WsPeer -----------------------------------------------------------------------------

  void send(std::shared_ptr<const std::string> frame) override {
    std::unique_lock lock(mu_);
    if (closing_ || fd_closed_) return;
    if (!flusher_ && can_write_now()) {
      char hdr[10];
      std::size_t hn = ws::encode_header(ws::opcode::text, frame->size(), hdr);
      iovec iov[2] = {{hdr, hn}, {const_cast<char*>(frame->data()), frame->size()}};
      write_now(lock, iov, 2);
      return;
    }
    if (queued_bytes_ + frame->size() > opts_.max_queue_bytes) {
      // The queue is dropped (memory stays flat); the close frame follows what is already in
      // flight, and a client that does not take even that is cut off when the short closing
      // deadline passes.
      std::vector<std::shared_ptr<const std::string>>().swap(queue_);
      queued_bytes_ = partial_.size();
      lock.unlock();
      spdlog::debug("websocket {}: slow consumer, closing", id_);
      begin_close(ws_close::slow_consumer, "slow consumer: too many bytes queued", false, kSlowConsumerCloseMs);
      return;
    }
    queued_bytes_ += frame->size();
    queue_.push_back(std::move(frame));
    if (flusher_ && open_ && !writing_) {
      if (dirty_) return;
      dirty_ = true;
      lock.unlock();
      flush_later(flusher_->impl(), shared_from_this());
      return;
    }
    start_writer(lock);
  }

  // The flusher's turn (its thread): writes every queued frame as one message with one
  // non-blocking sendmsg; the strand's writer takes over what the socket does not take.
  void flush() {
    std::unique_lock lock(mu_);
    dirty_ = false;
    if (!open_ || writing_ || fd_closed_ || queue_.empty()) return;
    if (!control_out_.empty() || !close_frame_.empty() || queue_.size() > kMaxFramesPerFlush) {
      start_writer(lock);  // keeps control frames first and the close frame last
      return;
    }
    thread_local std::vector<std::shared_ptr<const std::string>> frames;
    thread_local std::vector<iovec> iov;
    frames.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    if (queue_.capacity() > 16) std::vector<std::shared_ptr<const std::string>>().swap(queue_);
    std::size_t bytes = 0;
    for (const auto& f : frames) bytes += f->size();
    queued_bytes_ -= std::min(bytes, queued_bytes_);
    thread_local std::vector<ws::BatchMessage> plan;
    ws::plan_batch(
        frames.size(), [&](std::size_t i) { return frames[i]->size(); }, kMaxBatchMessageBytes, plan);
    iov.clear();
    static const char newline = '\n';
    for (auto& m : plan) {
      iov.push_back({m.header, m.header_len});
      for (std::size_t i = m.begin; i < m.end; ++i) {
        if (i > m.begin) iov.push_back({const_cast<char*>(&newline), 1});
        iov.push_back({const_cast<char*>(frames[i]->data()), frames[i]->size()});
      }
    }
    // The system call runs without the mutex, so that the hub's send() to this connection
    // meanwhile only queues instead of sleeping on the lock: writing_ keeps every other writer
    // away and flushing_ keeps the descriptor open (hard_close() leaves closing it to us).
    writing_ = true;
    flushing_ = true;
    const int fd = fd_;
    lock.unlock();
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = iov.size();
    ssize_t sent;
    do {
      sent = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    const bool failed = sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK;
    lock.lock();
    flushing_ = false;
    writing_ = false;
    if (fd_closed_) {
      const bool close_socket = close_deferred_;
      close_deferred_ = false;
      lock.unlock();
      frames.clear();
      if (close_socket) close_socket_on_strand();
      return;
    }
    if (failed) {
      lock.unlock();
      frames.clear();
      hard_close();  // reset by the peer: the read side sees it too and ends the session
      return;
    }
    keep_unsent(iov.data(), iov.size(), static_cast<std::size_t>(std::max<ssize_t>(sent, 0)));
    frames.clear();
    if (!partial_.empty() || !control_out_.empty() || !close_frame_.empty()) {
      start_writer(lock);  // the rest of the message first, then control frames, then the close
      return;
    }
    if (!queue_.empty() && !dirty_) {  // frames that came while the socket was being written
      dirty_ = true;
      lock.unlock();
      flush_later(flusher_->impl(), shared_from_this());
    }
  }

  void close(std::uint16_t code, std::string reason) override { begin_close(code, reason, false); }

  std::uint64_t id() const override { return id_; }
  asio::any_io_executor executor() override { return sock_.get_executor(); }

  // --- WsControl --------------------------------------------------------------------------

  void shutdown(bool force) override {
    if (force)
      hard_close();
    else
      begin_close(ws_close::going_away, "server shutting down", false);
  }

  void heartbeat(std::int64_t now) override {
    if (ended_.load(std::memory_order_relaxed)) return;
    auto deadline = close_deadline_ms_.load(std::memory_order_relaxed);
    if (deadline != 0 && now >= deadline) {
      hard_close();
      return;
    }
    auto silent = now - last_rx_ms_.load(std::memory_order_relaxed);
    if (silent >= opts_.idle_timeout_ms) {
      spdlog::debug("websocket {}: silent for {} ms, closing", id_, silent);
      hard_close();
      return;
    }
    if (silent >= opts_.idle_timeout_ms / 2 && !ping_pending_.exchange(true)) control(ws::opcode::ping, {});
  }

  // --- Opening ----------------------------------------------------------------------------

  asio::awaitable<void> start(const WsAccept& accept, std::function<void(std::weak_ptr<WsControl>)> on_open) {
    auto self = shared_from_this();
    {
      auto decision = co_await accept(*req_, self);
      if (auto* resp = std::get_if<Response>(&decision)) {
        co_await reject(std::move(*resp), upgrade_->version());
        end();
        co_return;
      }
      listener_ = std::get<std::shared_ptr<WsListener>>(decision);
    }
    bool ok = false;
    {
      // Beast answers the handshake (header checks, Sec-WebSocket-Accept, 400/426 answers);
      // its stream is dropped right after, so an open connection carries none of its state.
      websocket::stream<tcp::socket&> ws(sock_);
      ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(5), websocket::stream_base::none(), false});
      auto [ec] = co_await ws.async_accept(*upgrade_, use_tuple);
      ok = !ec;
    }
    upgrade_.reset();
    req_.reset();
    if (!ok) {
      end();
      co_return;
    }
    beast::error_code ec;
    sock_.non_blocking(true, ec);
    last_rx_ms_.store(ws_now_ms());
    {
      std::unique_lock lock(mu_);
      fd_ = sock_.native_handle();
      open_ = true;
      if (fd_closed_) {
        lock.unlock();
        end();
        co_return;
      }
      if (!queue_.empty() || !control_out_.empty() || !close_frame_.empty()) start_writer(lock);
    }
    on_open(weak_from_this());
    parse_and_read();  // bytes that came with the upgrade request, then the socket
  }

 private:
  // --- Reading (strand) -------------------------------------------------------------------

  void wait_read() {
    sock_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        self->end();
        return;
      }
      self->on_readable();
    });
  }

  void on_readable() {
    thread_local char buf[kReadChunk];
    beast::error_code ec;
    std::size_t n = sock_.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      wait_read();
      return;
    }
    if (ec || n == 0) {
      end();
      return;
    }
    last_rx_ms_.store(ws_now_ms(), std::memory_order_relaxed);
    ping_pending_.store(false, std::memory_order_relaxed);
    if (discard_) {  // after a protocol error: wait for the peer's close or the deadline
      wait_read();
      return;
    }
    if (inbuf_.empty()) {
      std::string_view fresh(buf, n);
      std::size_t used = parse(fresh);
      if (used < n) inbuf_.assign(fresh.substr(used));
    } else {
      inbuf_.append(buf, n);
      consume_inbuf(parse(inbuf_));
    }
    if (!dispatching_ && !ended_.load()) wait_read();
  }

  void parse_and_read() {
    if (!inbuf_.empty()) consume_inbuf(parse(inbuf_));
    if (!dispatching_ && !ended_.load()) wait_read();
  }

  void consume_inbuf(std::size_t used) {
    if (used >= inbuf_.size())
      std::string().swap(inbuf_);  // an idle connection keeps no buffer
    else
      inbuf_.erase(0, used);
  }

  // Handles the complete frames at the start of `data`; returns the bytes used. Stops after a
  // text message is handed to the listener (`dispatching_`) or after a failure.
  std::size_t parse(std::string_view data) {
    std::size_t pos = 0;
    while (!dispatching_ && !discard_) {
      if (skip_ > 0) {  // the rest of an oversize frame
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, data.size() - pos));
        skip_ -= n;
        pos += n;
        if (skip_ > 0) break;
      }
      ws::FrameHeader h;
      auto st = ws::parse_header(data.substr(pos), opts_.max_message_bytes, h);
      if (st == ws::Parse::need_more) break;
      if (st == ws::Parse::protocol_error) return fail(ws_close::protocol_error, "malformed frame"), data.size();
      if (st == ws::Parse::too_big) {
        // Framing is intact: skip the payload and keep reading frames (the peer's close).
        begin_close(ws_close::too_big, "message too big", false);
        skip_ = h.header_bytes + h.length;
        continue;
      }
      if (data.size() - pos - h.header_bytes < h.length) break;  // the payload is not all here yet
      std::string payload(data.substr(pos + h.header_bytes, h.length));
      ws::unmask(payload.data(), payload.size(), h.mask);
      pos += h.header_bytes + h.length;
      on_frame(h, std::move(payload));
    }
    return discard_ ? data.size() : pos;
  }

  void on_frame(const ws::FrameHeader& h, std::string payload) {
    switch (h.opcode) {
      case ws::opcode::ping: control(ws::opcode::pong, payload); return;
      case ws::opcode::pong: return;
      case ws::opcode::close: on_peer_close(payload); return;
      case ws::opcode::continuation:
        if (!in_fragment_) return fail(ws_close::protocol_error, "continuation without a message");
        if (fragment_.size() + payload.size() > opts_.max_message_bytes) {
          in_fragment_ = false;
          std::string().swap(fragment_);
          return begin_close(ws_close::too_big, "message too big", false);
        }
        fragment_ += payload;
        if (!h.fin) return;
        in_fragment_ = false;
        payload = std::move(fragment_);
        std::string().swap(fragment_);
        return on_message(fragment_opcode_, std::move(payload));
      default:  // text or binary
        if (in_fragment_) return fail(ws_close::protocol_error, "new message inside a fragmented one");
        if (!h.fin) {
          in_fragment_ = true;
          fragment_opcode_ = h.opcode;
          fragment_ = std::move(payload);
          return;
        }
        return on_message(h.opcode, std::move(payload));
    }
  }

  void on_message(std::uint8_t op, std::string text) {
    if (closing()) return;  // closing: messages are read and dropped until the peer's close
    if (op == ws::opcode::binary) {
      begin_close(ws_close::unsupported_data, "binary frames are not supported; send JSON text", false);
      return;
    }
    if (!ws::valid_utf8(text)) return begin_close(ws_close::invalid_payload, "text is not valid UTF-8", false);
    dispatching_ = true;
    asio::co_spawn(
        sock_.get_executor(),
        [self = shared_from_this(), t = std::move(text)]() -> asio::awaitable<void> {
          co_await self->listener_->on_text(t);
        },
        [self = shared_from_this()](std::exception_ptr e) {
          if (e) {
            try {
              std::rethrow_exception(e);
            } catch (const std::exception& ex) {
              spdlog::error("websocket {}: message handler failed: {}", self->id_, ex.what());
            }
            self->hard_close();
          }
          self->dispatching_ = false;
          if (!self->ended_.load()) self->parse_and_read();
        });
  }

  void on_peer_close(const std::string& payload) {
    bool ours_sent;
    {
      std::lock_guard lock(mu_);
      ours_sent = close_sent_;
    }
    if (ours_sent) {  // the closing handshake is complete
      hard_close();
      return;
    }
    std::uint16_t code = ws_close::normal;
    if (payload.size() == 1) return fail(ws_close::protocol_error, "malformed close frame");
    if (payload.size() >= 2) {
      std::uint16_t got = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                                     static_cast<std::uint8_t>(payload[1]));
      if (!ws::valid_close_code(got)) return fail(ws_close::protocol_error, "invalid close code");
      code = got;
    }
    begin_close(code, "", true);
  }

  // Fails the connection: a close frame with `code`; the framing cannot be trusted any more,
  // so incoming bytes are discarded until the peer closes or the closing deadline passes.
  void fail(std::uint16_t code, const char* reason) {
    discard_ = true;
    begin_close(code, reason, false);
  }

  // --- Writing ----------------------------------------------------------------------------

  // Under mu_: nothing is queued or in flight, so bytes may go to the socket directly.
  bool can_write_now() const {
    return open_ && !writing_ && !fd_closed_ && queue_.empty() && control_out_.empty() && close_frame_.empty();
  }

  // Under mu_, with can_write_now(): writes what the socket takes now; the rest is kept in
  // `partial_` for the strand's writer.
  void write_now(std::unique_lock<std::mutex>& lock, iovec* iov, int n) {
    std::size_t total = 0;
    for (int i = 0; i < n; ++i) total += iov[i].iov_len;
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(n);
    ssize_t sent;
    do {
      sent = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      lock.unlock();
      hard_close();  // reset by the peer: the read side sees it too and ends the session
      return;
    }
    auto done = static_cast<std::size_t>(std::max<ssize_t>(sent, 0));
    if (done == total) return;
    keep_unsent(iov, static_cast<std::size_t>(n), done);
    start_writer(lock);
  }

  // Under mu_: keeps in `partial_` what a direct write of `iov` left unsent after `done` bytes.
  void keep_unsent(const iovec* iov, std::size_t n, std::size_t done) {
    const std::size_t before = partial_.size();
    for (std::size_t i = 0; i < n; ++i) {
      auto* p = static_cast<const char*>(iov[i].iov_base);
      auto len = iov[i].iov_len;
      if (done >= len) {
        done -= len;
        continue;
      }
      partial_.append(p + done, len - done);
      done = 0;
    }
    queued_bytes_ += partial_.size() - before;
  }

  // Under mu_: makes sure the strand's writer runs (it drains everything queued).
  void start_writer(std::unique_lock<std::mutex>&) {
    if (!open_ || writing_ || fd_closed_) return;
    writing_ = true;
    asio::post(sock_.get_executor(), [self = shared_from_this()] { self->write_more(); });
  }

  // A control frame (ping, pong): written at once when possible, otherwise ahead of the
  // queued data.
  void control(std::uint8_t op, const std::string& payload) {
    std::unique_lock lock(mu_);
    if (fd_closed_ || !close_frame_.empty() || close_sent_) return;
    char hdr[10];
    std::size_t hn = ws::encode_header(op, payload.size(), hdr);
    if (can_write_now()) {
      iovec iov[2] = {{hdr, hn}, {const_cast<char*>(payload.data()), payload.size()}};
      write_now(lock, iov, 2);
      return;
    }
    // Bounded: a peer that sends pings but reads nothing cannot grow this. Pongs not sent are
    // allowed to be skipped (RFC 6455 5.5.3: answering only the latest ping is enough).
    if (control_out_.size() + hn + payload.size() <= kMaxControlBytes) {
      control_out_.append(hdr, hn);
      control_out_ += payload;
    }
    start_writer(lock);
  }

  // Strand, with writing_ set: writes, in order, the rest of a frame a direct write began,
  // control frames, the queued data frames as one message, and the close frame.
  void write_more() {
    std::unique_lock lock(mu_);
    if (fd_closed_) {
      writing_ = false;
      return;
    }
    head_.swap(partial_);
    head_ += control_out_;
    control_out_.clear();
    batch_.swap(queue_);
    tail_.swap(close_frame_);
    if (head_.empty() && batch_.empty() && tail_.empty()) {
      writing_ = false;
      std::vector<std::shared_ptr<const std::string>>().swap(batch_);
      std::vector<std::shared_ptr<const std::string>>().swap(queue_);
      return;
    }
    lock.unlock();
    bufs_.clear();
    if (!head_.empty()) bufs_.emplace_back(head_.data(), head_.size());
    if (!batch_.empty()) {
      ws::plan_batch(
          batch_.size(), [&](std::size_t i) { return batch_[i]->size(); }, kMaxBatchMessageBytes, plan_);
      static const char newline = '\n';
      for (const auto& m : plan_) {
        bufs_.emplace_back(m.header, m.header_len);
        for (std::size_t i = m.begin; i < m.end; ++i) {
          if (i > m.begin) bufs_.emplace_back(&newline, 1);
          bufs_.emplace_back(batch_[i]->data(), batch_[i]->size());
        }
      }
    }
    if (!tail_.empty()) bufs_.emplace_back(tail_.data(), tail_.size());
    asio::async_write(sock_, bufs_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->written(ec); });
  }

  void written(beast::error_code ec) {
    bool close_now = false;
    {
      std::lock_guard lock(mu_);
      std::size_t sent = head_.size();
      for (const auto& f : batch_) sent += f->size();
      queued_bytes_ -= std::min(sent, queued_bytes_);
      if (!tail_.empty()) {
        close_sent_ = true;
        close_now = close_after_write_;
      }
    }
    head_.clear();
    batch_.clear();
    std::string().swap(tail_);
    if (head_.capacity() > 4096) std::string().swap(head_);
    if (ec || close_now) {
      {
        std::lock_guard lock(mu_);
        writing_ = false;
      }
      hard_close();
      return;
    }
    write_more();
  }

  // --- Closing ----------------------------------------------------------------------------

  bool closing() {
    std::lock_guard lock(mu_);
    return closing_;
  }

  // Queues a close frame after the data already queued; no data is accepted after it. With
  // `reply`, this answers the peer's close, and the socket closes once it is written.
  void begin_close(std::uint16_t code, const std::string& reason, bool reply,
                   std::int64_t deadline_ms = kCloseHandshakeMs) {
    std::unique_lock lock(mu_);
    if (fd_closed_) return;
    if (reply) close_after_write_ = true;
    if (closing_) return;
    closing_ = true;
    close_deadline_ms_.store(ws_now_ms() + deadline_ms);
    if (!open_) {
      lock.unlock();
      hard_close();
      return;
    }
    std::string payload;
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload += reason.substr(0, 123);
    char hdr[10];
    std::size_t hn = ws::encode_header(ws::opcode::close, payload.size(), hdr);
    close_frame_.assign(hdr, hn);
    close_frame_ += payload;
    start_writer(lock);
  }

  // Closes the socket (on the strand). Nothing is written after this; a pending read ends with
  // an error, which ends the session.
  void hard_close() {
    {
      std::lock_guard lock(mu_);
      if (fd_closed_) return;
      fd_closed_ = true;
      closing_ = true;
      std::vector<std::shared_ptr<const std::string>>().swap(queue_);
      std::string().swap(partial_);
      std::string().swap(control_out_);
      std::string().swap(close_frame_);
      queued_bytes_ = 0;
      if (flushing_) {  // the flusher is in sendmsg() on the descriptor: it closes it after
        close_deferred_ = true;
        return;
      }
    }
    close_socket_on_strand();
  }

  void close_socket_on_strand() {
    asio::dispatch(sock_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->sock_.shutdown(tcp::socket::shutdown_both, ignored);
      self->sock_.close(ignored);
    });
  }

  // Strand: the connection is over. Runs once.
  void end() {
    if (ended_.exchange(true)) return;
    hard_close();
    if (listener_) {
      listener_->on_close();
      listener_.reset();  // the listener holds this peer: drop it so the session can end
    }
  }

  asio::awaitable<void> reject(Response resp, unsigned version) {
    http::response<http::string_body> res{static_cast<http::status>(resp.status), version};
    res.set(http::field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) res.set(k, v);
    res.body() = std::move(resp.body);
    res.keep_alive(false);
    res.prepare_payload();
    co_await http::async_write(sock_, res, use_tuple);
    beast::error_code ignored;
    sock_.shutdown(tcp::socket::shutdown_send, ignored);
  }

  // What send() touches, first: a fan-out prefetches the object's first three cache lines
  // (realtime::Session::prefetch_peer; the bases' vtable pointers and weak_this come before
  // these, ~32 bytes). Guarded by mu_, but opts_ and flusher_ (set at construction).
  std::mutex mu_;
  int fd_ = -1;
  std::vector<std::shared_ptr<const std::string>> queue_;  // data frames waiting for the writer
  std::size_t queued_bytes_ = 0;
  bool open_ = false;
  bool writing_ = false;  // the strand's writer runs
  bool closing_ = false;  // no more data frames
  bool close_sent_ = false;
  bool close_after_write_ = false;
  bool fd_closed_ = false;
  bool dirty_ = false;           // waiting for the flusher
  bool flushing_ = false;        // the flusher writes to the descriptor without holding mu_
  bool close_deferred_ = false;  // hard_close() came during that write: the flusher closes
  const WsOptions& opts_;
  WsFlusher* flusher_;  // null: frames are written at once

  tcp::socket sock_;  // its executor is the connection's strand
  std::uint64_t id_;
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
  std::unique_ptr<http::request<http::string_body>> upgrade_;  // until the handshake is done
  std::unique_ptr<Request> req_;
  // The write in flight (strand, while writing_).
  std::string head_;
  std::vector<std::shared_ptr<const std::string>> batch_;
  std::string tail_;
  std::vector<asio::const_buffer> bufs_;
  std::vector<ws::BatchMessage> plan_;  // batch_'s messages (their headers)

  // Guarded by mu_ (the rarely used part).
  std::string partial_;      // the unwritten rest of a frame a direct write began
  std::string control_out_;  // encoded control frames waiting for the writer
  std::string close_frame_;  // an encoded close frame waiting for the writer

  std::atomic<std::int64_t> last_rx_ms_{0};
  std::atomic<std::int64_t> close_deadline_ms_{0};
  std::atomic<bool> ping_pending_{false};
  std::atomic<bool> ended_{false};
};

}  // namespace

struct WsFlusher::Impl {
  explicit Impl(int window_us) : window(window_us), thread([this] { run(); }), helper([this] { help(); }) {}
  ~Impl() {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    cv.notify_one();
    thread.join();
    {
      std::lock_guard lock(hmu);
      hstop = true;
    }
    hcv.notify_one();
    helper.join();
  }

  // The second flushing thread: takes the back half of a large batch, so that a fan-out to
  // many connections is written from two cores.
  void help() {
    std::unique_lock lock(hmu);
    for (;;) {
      hcv.wait(lock, [&] { return hstop || hbegin != hend; });
      if (hstop) return;
      auto* b = hbegin;
      auto* e = hend;
      lock.unlock();
      for (auto* it = b; it != e; ++it) (*it)->flush();
      lock.lock();
      hbegin = hend = nullptr;
      hcv.notify_all();
    }
  }

  void add(std::shared_ptr<WsSession> s) {
    bool wake;
    {
      std::lock_guard lock(mu);
      wake = dirty.empty();
      if (wake) first = std::chrono::steady_clock::now();
      dirty.push_back(std::move(s));
    }
    if (wake) cv.notify_one();
  }

  // Waits for a first dirty connection, lets the window pass from then, and flushes every
  // connection that became dirty meanwhile.
  void run() {
    std::vector<std::shared_ptr<WsSession>> batch;
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stop || !dirty.empty(); });
      if (stop) break;
      auto due = first + window;
      lock.unlock();
      std::this_thread::sleep_until(due);
      lock.lock();
      batch.swap(dirty);
      lock.unlock();
      std::size_t mine = batch.size();
      if (batch.size() >= kParallelFlush) {
        mine = batch.size() / 2;
        std::lock_guard hlock(hmu);
        hbegin = batch.data() + mine;
        hend = batch.data() + batch.size();
        hcv.notify_all();
      }
      for (std::size_t i = 0; i < mine; ++i) batch[i]->flush();
      if (mine != batch.size()) {
        std::unique_lock hlock(hmu);
        hcv.wait(hlock, [&] { return hbegin == hend; });
      }
      batch.clear();  // may end sessions (their last reference): outside the lock
      lock.lock();
    }
  }

  std::chrono::microseconds window;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<WsSession>> dirty;  // guarded by mu
  std::chrono::steady_clock::time_point first;    // when dirty became non-empty
  bool stop = false;
  static constexpr std::size_t kParallelFlush = 256;
  std::mutex hmu;
  std::condition_variable hcv;
  std::shared_ptr<WsSession>* hbegin = nullptr;  // the helper's share; guarded by hmu
  std::shared_ptr<WsSession>* hend = nullptr;
  bool hstop = false;
  std::thread thread;  // last: start once the rest is built
  std::thread helper;
};

namespace {
void flush_later(WsFlusher::Impl& f, std::shared_ptr<WsSession> s) { f.add(std::move(s)); }
}  // namespace

WsFlusher::WsFlusher(int window_us) : impl_(std::make_unique<Impl>(window_us)) {}
WsFlusher::~WsFlusher() = default;

void spawn_websocket(tcp::socket&& socket, std::string leftover, http::request<http::string_body>&& upgrade,
                     Request&& req, const WsOptions& opts, const WsAccept& accept, std::uint64_t id, WsFlusher* flusher,
                     std::function<void(std::weak_ptr<WsControl>)> on_open, std::function<void()> on_end) {
  auto exec = socket.get_executor();
  auto session = std::make_shared<WsSession>(std::move(socket), std::move(leftover), opts, id, flusher,
                                             std::move(upgrade), std::move(req), std::move(on_end));
  asio::co_spawn(exec, session->start(accept, std::move(on_open)), [session](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("websocket {}: open failed: {}", session->id(), ex.what());
    }
  });
}

}  // namespace parley::net::detail
