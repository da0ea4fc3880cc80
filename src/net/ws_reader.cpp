// The read side of WsSession (strand only): bytes into frames, frames into messages, messages
// to the listener one at a time, and the peer's control frames.
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>

#include <algorithm>
#include <string_view>

#include "net/ws_session_impl.hpp"

namespace parley::net::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t kReadChunk = 16384;
}  // namespace

void WsSession::wait_read() {
  sock_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
    if (ec) {
      self->end();
      return;
    }
    self->on_readable();
  });
}

void WsSession::on_readable() {
  thread_local char buf[kReadChunk];
  boost::system::error_code ec;
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

void WsSession::parse_and_read() {
  if (!inbuf_.empty()) consume_inbuf(parse(inbuf_));
  if (!dispatching_ && !ended_.load()) wait_read();
}

void WsSession::consume_inbuf(std::size_t used) {
  if (used >= inbuf_.size())
    std::string().swap(inbuf_);  // an idle connection keeps no buffer
  else
    inbuf_.erase(0, used);
}

// Handles the complete frames at the start of `data`; returns the bytes used. Stops after a
// text message is handed to the listener (`dispatching_`) or after a failure.
std::size_t WsSession::parse(std::string_view data) {
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

void WsSession::on_frame(const ws::FrameHeader& h, std::string payload) {
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

void WsSession::on_message(std::uint8_t op, std::string text) {
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
      [self = shared_from_this()](const std::exception_ptr& e) {
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

void WsSession::on_peer_close(const std::string& payload) {
  bool handshake_done;
  {
    MutexLock lock(mu_);
    handshake_done = close_.close_sent() || close_.socket_closed();
  }
  if (handshake_done) {  // our close went out first: the closing handshake is complete
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

// Fails the connection: a close frame with `code`; the framing cannot be trusted any more, so
// incoming bytes are discarded until the peer closes or the closing deadline passes.
void WsSession::fail(std::uint16_t code, const char* reason) {
  discard_ = true;
  begin_close(code, reason, false);
}

}  // namespace parley::net::detail
