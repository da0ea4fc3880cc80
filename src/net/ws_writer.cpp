// The write path of WsSession: send() and control frames from any thread, the flusher's
// coalesced write, and the strand's writer that drains whatever a direct write left.
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cerrno>
#include <iterator>

#include "net/ws_session_impl.hpp"

namespace parley::net::detail {

namespace asio = boost::asio;

namespace {
constexpr std::size_t kMaxControlBytes = 512;    // queued control frames (pings and pongs)
constexpr std::size_t kMaxFramesPerFlush = 500;  // iovec entries stay under IOV_MAX (1024)
// Events queued together go out newline-separated in text messages of at most this many bytes
// (a larger event is a message of its own), so that a client catching up on a long backlog
// can act on its first events while the rest is still on the way.
constexpr std::size_t kMaxBatchMessageBytes = 64 << 10;
}  // namespace

void WsSession::send(std::shared_ptr<const std::string> frame) {
  MutexLock lock(mu_);
  if (!close_.accepts_data()) return;
  if (!flusher_ && can_write_now()) {
    char hdr[10];
    std::size_t hn = ws::encode_header(ws::opcode::text, frame->size(), hdr);
    iovec iov[2] = {{hdr, hn}, {const_cast<char*>(frame->data()), frame->size()}};
    if (!write_now(iov, 2)) {
      lock.unlock();
      hard_close();  // reset by the peer: the read side sees it too and ends the session
    }
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
    flusher_->schedule(shared_from_this());
    return;
  }
  start_writer();
}

void WsSession::flush() {
  MutexLock lock(mu_);
  dirty_ = false;
  if (!open_ || writing_ || close_.socket_closed() || queue_.empty()) return;
  if (!control_out_.empty() || !close_frame_.empty() || queue_.size() > kMaxFramesPerFlush) {
    start_writer();  // keeps control frames first and the close frame last
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
  if (close_.socket_closed()) {
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
    start_writer();  // the rest of the message first, then control frames, then the close
    return;
  }
  if (!queue_.empty() && !dirty_) {  // frames that came while the socket was being written
    dirty_ = true;
    lock.unlock();
    flusher_->schedule(shared_from_this());
  }
}

// Nothing is queued or in flight, so bytes may go to the socket directly.
bool WsSession::can_write_now() const {
  return open_ && !writing_ && !close_.socket_closed() && queue_.empty() && control_out_.empty() &&
         close_frame_.empty();
}

// With can_write_now(): writes what the socket takes now; the rest is kept in `partial_` for the
// strand's writer. False when the peer has reset the connection: the caller, after releasing
// mu_, closes it.
bool WsSession::write_now(iovec* iov, int n) {
  std::size_t total = 0;
  for (int i = 0; i < n; ++i) total += iov[i].iov_len;
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<std::size_t>(n);
  ssize_t sent;
  do {
    sent = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
  auto done = static_cast<std::size_t>(std::max<ssize_t>(sent, 0));
  if (done == total) return true;
  keep_unsent(iov, static_cast<std::size_t>(n), done);
  start_writer();
  return true;
}

// Keeps in `partial_` what a direct write of `iov` left unsent after `done` bytes.
void WsSession::keep_unsent(const iovec* iov, std::size_t n, std::size_t done) {
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

// Makes sure the strand's writer runs (it drains everything queued).
void WsSession::start_writer() {
  if (!open_ || writing_ || close_.socket_closed()) return;
  writing_ = true;
  asio::post(sock_.get_executor(), [self = shared_from_this()] { self->write_more(); });
}

// A control frame (ping, pong): written at once when possible, otherwise ahead of the queued
// data; none after our close frame.
void WsSession::control(std::uint8_t op, const std::string& payload) {
  MutexLock lock(mu_);
  if (close_.socket_closed() || close_.close_sent() || !close_frame_.empty()) return;
  char hdr[10];
  std::size_t hn = ws::encode_header(op, payload.size(), hdr);
  if (can_write_now()) {
    iovec iov[2] = {{hdr, hn}, {const_cast<char*>(payload.data()), payload.size()}};
    if (!write_now(iov, 2)) {
      lock.unlock();
      hard_close();  // reset by the peer: the read side sees it too and ends the session
    }
    return;
  }
  // Bounded: a peer that sends pings but reads nothing cannot grow this. Pongs not sent are
  // allowed to be skipped (RFC 6455 5.5.3: answering only the latest ping is enough).
  if (control_out_.size() + hn + payload.size() <= kMaxControlBytes) {
    control_out_.append(hdr, hn);
    control_out_ += payload;
  }
  start_writer();
}

// Strand, with writing_ set: writes, in order, the rest of a frame a direct write began,
// control frames, the queued data frames as one message, and the close frame.
void WsSession::write_more() {
  MutexLock lock(mu_);
  if (close_.socket_closed()) {
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
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t) { self->written(ec); });
}

// Strand: the strand's write is done.
void WsSession::written(boost::system::error_code ec) {
  bool close_now = false;
  {
    MutexLock lock(mu_);
    std::size_t sent = head_.size();
    for (const auto& f : batch_) sent += f->size();
    queued_bytes_ -= std::min(sent, queued_bytes_);
    if (!tail_.empty()) close_now = close_.close_written();
  }
  head_.clear();
  batch_.clear();
  std::string().swap(tail_);
  if (head_.capacity() > 4096) std::string().swap(head_);
  if (ec || close_now) {
    {
      MutexLock lock(mu_);
      writing_ = false;
    }
    hard_close();
    return;
  }
  write_more();
}

}  // namespace parley::net::detail
