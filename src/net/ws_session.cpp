// WsSession's lifecycle: the upgrade, heartbeats and closing; and spawn_websocket(). Reading is
// in ws_reader.cpp, writing in ws_writer.cpp.
#include "net/ws_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>

#include "net/ws_session_impl.hpp"

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

WsSession::WsSession(tcp::socket&& socket, std::string leftover, const WsOptions& opts, std::uint64_t id,
                     WsFlusher* flusher, http::request<http::string_body>&& upgrade, Request&& req,
                     std::function<void()> on_end)
    : opts_(opts),
      flusher_(flusher),
      sock_(std::move(socket)),
      id_(id),
      on_end_(std::move(on_end)),
      inbuf_(std::move(leftover)),
      upgrade_(std::make_unique<http::request<http::string_body>>(std::move(upgrade))),
      req_(std::make_unique<Request>(std::move(req))) {}

WsSession::~WsSession() {
  if (on_end_) on_end_();
}

void WsSession::close(std::uint16_t code, std::string reason) { begin_close(code, reason, false); }

void WsSession::shutdown(bool force) {
  if (force)
    hard_close();
  else
    begin_close(ws_close::going_away, "server shutting down", false);
}

void WsSession::heartbeat(std::int64_t now) {
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

asio::awaitable<void> WsSession::start(const WsAccept& accept, std::function<void(std::weak_ptr<WsControl>)> on_open) {
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
  bool closed;
  {
    MutexLock lock(mu_);
    fd_ = sock_.native_handle();
    open_ = true;
    closed = close_.socket_closed();
    if (!closed && (!queue_.empty() || !control_out_.empty() || !close_frame_.empty())) start_writer();
  }
  if (closed) {
    end();
    co_return;
  }
  on_open(weak_from_this());
  parse_and_read();  // bytes that came with the upgrade request, then the socket
}

bool WsSession::closing() {
  MutexLock lock(mu_);
  return close_.closing();
}

// Queues a close frame after the data already queued; no data is accepted after it. With
// `reply`, this answers the peer's close, and the socket closes once it is written.
void WsSession::begin_close(std::uint16_t code, const std::string& reason, bool reply, std::int64_t deadline_ms) {
  MutexLock lock(mu_);
  if (!close_.request_close(reply)) return;
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
  start_writer();
}

// Closes the socket (on the strand). Nothing is written after this; a pending read ends with
// an error, which ends the session.
void WsSession::hard_close() {
  {
    MutexLock lock(mu_);
    if (!close_.close_socket()) return;
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

void WsSession::close_socket_on_strand() {
  asio::dispatch(sock_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->sock_.shutdown(tcp::socket::shutdown_both, ignored);
    self->sock_.close(ignored);
  });
}

// Strand: the connection is over. Runs once.
void WsSession::end() {
  if (ended_.exchange(true)) return;
  hard_close();
  if (listener_) {
    listener_->on_close();
    listener_.reset();  // the listener holds this peer: drop it so the session can end
  }
}

asio::awaitable<void> WsSession::reject(Response resp, unsigned version) {
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

void spawn_websocket(tcp::socket&& socket, std::string leftover, http::request<http::string_body>&& upgrade,
                     Request&& req, const WsOptions& opts, const WsAccept& accept, std::uint64_t id, WsFlusher* flusher,
                     std::function<void(std::weak_ptr<WsControl>)> on_open, std::function<void()> on_end) {
  auto exec = socket.get_executor();
  auto session = std::make_shared<WsSession>(std::move(socket), std::move(leftover), opts, id, flusher,
                                             std::move(upgrade), std::move(req), std::move(on_end));
  asio::co_spawn(exec, session->start(accept, std::move(on_open)), [session](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("websocket {}: open failed: {}", session->id(), ex.what());
    }
  });
}

}  // namespace parley::net::detail
