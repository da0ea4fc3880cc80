#include "net/ws_session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>

#include <vector>

namespace parley::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::size_t kIdleReadBytes = 64;
constexpr std::size_t kReadBytes = 16384;

// One WebSocket connection. All state is touched on the connection's strand only; send()
// and close() post there. Frames queued while a write is in flight go out together in the
// next write, as one newline-separated message.
class WsSession final : public WsPeer, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(asio::ip::tcp::socket&& socket, const WsOptions& opts, std::uint64_t id,
            http::request<http::string_body>&& upgrade, Request&& req, std::function<void()> on_end)
      : ws_(std::move(socket)),
        opts_(opts),
        id_(id),
        on_end_(std::move(on_end)),
        upgrade_(std::make_unique<http::request<http::string_body>>(std::move(upgrade))),
        req_(std::make_unique<Request>(std::move(req))) {}

  void send(std::shared_ptr<const std::string> frame) override {
    asio::post(ws_.get_executor(),
               [self = shared_from_this(), f = std::move(frame)]() mutable { self->enqueue(std::move(f)); });
  }

  void close(std::uint16_t code, std::string reason) override {
    asio::post(ws_.get_executor(),
               [self = shared_from_this(), code, r = std::move(reason)]() mutable { self->begin_close(code, r); });
  }

  ~WsSession() override {
    if (on_end_) on_end_();
  }

  std::uint64_t id() const override { return id_; }
  asio::any_io_executor executor() override { return ws_.get_executor(); }

  asio::awaitable<bool> open(const WsAccept& accept) {
    {
      auto decision = co_await accept(*req_, shared_from_this());
      if (auto* resp = std::get_if<Response>(&decision)) {
        co_await reject(std::move(*resp), upgrade_->version());
        co_return false;
      }
      listener_ = std::get<std::shared_ptr<WsListener>>(decision);
    }
    // The handshake timeout also bounds the closing handshake: a peer that stops reading cannot
    // hold a shutdown for long.
    websocket::stream_base::timeout t{std::chrono::seconds(5), std::chrono::milliseconds(opts_.idle_timeout_ms), true};
    ws_.set_option(t);
    ws_.read_message_max(opts_.max_message_bytes);
    ws_.auto_fragment(false);
    auto [aec] = co_await ws_.async_accept(*upgrade_, use_tuple);
    upgrade_.reset();  // an open connection keeps no copy of its upgrade request
    req_.reset();
    if (aec) {
      listener_->on_close();
      listener_.reset();  // the listener holds this peer: drop it so the session can end
      co_return false;
    }
    co_return true;
  }

  // Keeps the session alive through shared_from_this(). The handshake runs in its own coroutine
  // so its locals are gone by the time the connection idles in the read loop below.
  asio::awaitable<void> run(const WsAccept& accept, std::function<void(std::function<void(bool)>)> on_open) {
    auto self = shared_from_this();
    if (!co_await open(accept)) co_return;
    open_ = true;
    on_open([weak = weak_from_this()](bool force) {
      auto s = weak.lock();
      if (!s) return;
      if (force)
        s->hard_close();
      else
        s->begin_close(ws_close::going_away, "server shutting down");
    });
    on_open = nullptr;
    if (!queue_.empty() && !writing_) start_writer();
    // The read loop lives in this frame (no nested coroutine): an idle connection holds one frame.
    beast::flat_buffer buf;
    for (;;) {
      // Wait for a message with a tiny buffer (Beast's own frame buffer is inline in the stream),
      // then read the rest of the message in larger steps: idle connections hold almost nothing.
      auto [ec, n] = co_await ws_.async_read_some(buf, kIdleReadBytes, use_tuple);
      while (!ec && !ws_.is_message_done()) {
        std::tie(ec, n) = co_await ws_.async_read_some(buf, kReadBytes, use_tuple);
      }
      if (ec) break;  // closed by the peer, timed out, too big (Beast answers 1009), or cut off
      if (!ws_.got_text()) {
        begin_close(ws_close::unsupported_data, "binary frames are not supported; send JSON text");
        buf.consume(buf.size());
        continue;  // keep reading until the close handshake ends the stream
      }
      if (!closing_) {
        auto data = buf.cdata();
        co_await listener_->on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
      }
      buf.consume(buf.size());
      buf.shrink_to_fit();
    }
    hard_close();
    open_ = false;
    listener_->on_close();
    listener_.reset();  // the listener holds this peer: drop it so the session can end
  }

 private:
  asio::awaitable<void> reject(Response resp, unsigned version) {
    http::response<http::string_body> res{static_cast<http::status>(resp.status), version};
    res.set(http::field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) res.set(k, v);
    res.body() = std::move(resp.body);
    res.keep_alive(false);
    res.prepare_payload();
    auto& sock = ws_.next_layer();
    co_await http::async_write(sock, res, use_tuple);
    beast::error_code ignored;
    sock.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }

  void enqueue(std::shared_ptr<const std::string> frame) {
    if (closing_) return;
    if (queued_bytes_ + frame->size() > opts_.max_queue_bytes) {
      std::vector<std::shared_ptr<const std::string>>().swap(queue_);
      queued_bytes_ = 0;
      begin_close(ws_close::slow_consumer, "slow consumer: too many bytes queued");
      return;
    }
    queued_bytes_ += frame->size();
    queue_.push_back(std::move(frame));
    if (open_ && !writing_) start_writer();
  }

  void start_writer() {
    writing_ = true;
    write_next();
  }

  // The write path is callback-based (no coroutine frame per batch) and writes a single frame
  // without a buffer vector: a fan-out writes one frame to each of many sockets.
  // Once closing, nothing more is queued; what was queued before the close still goes out first
  // (a slow consumer's queue was dropped and its socket closed).
  void write_next() {
    if (queue_.empty()) {
      std::vector<std::shared_ptr<const std::string>>().swap(queue_);
      std::vector<std::shared_ptr<const std::string>>().swap(batch_);
      writing_ = false;
      if (close_code_ && !close_sent_) send_close();
      return;
    }
    batch_.swap(queue_);
    auto done = [self = shared_from_this()](beast::error_code ec, std::size_t) { self->written(ec); };
    if (batch_.size() == 1) {
      ws_.async_write(asio::buffer(*batch_.front()), std::move(done));
      return;
    }
    static const char newline = '\n';
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(batch_.size() * 2);
    for (const auto& f : batch_) {
      if (!buffers.empty()) buffers.emplace_back(&newline, 1);
      buffers.emplace_back(f->data(), f->size());
    }
    ws_.async_write(buffers, std::move(done));
  }

  void written(beast::error_code ec) {
    std::size_t sent = 0;
    for (const auto& f : batch_) sent += f->size();
    queued_bytes_ -= std::min(sent, queued_bytes_);
    batch_.clear();
    if (ec) {
      hard_close();
      std::vector<std::shared_ptr<const std::string>>().swap(queue_);
    }
    write_next();
  }

  void begin_close(std::uint16_t code, const std::string& reason) {
    if (closing_) return;
    closing_ = true;
    close_code_ = code;
    close_reason_ = reason;
    if (!open_) {
      hard_close();
      return;
    }
    if (writing_) {
      // The peer is not taking what we write (or a write is in flight): for a slow consumer
      // there is no point waiting for it; otherwise the writer sends the close when done.
      if (code == ws_close::slow_consumer) hard_close();
      return;
    }
    send_close();
  }

  void send_close() {
    close_sent_ = true;
    asio::co_spawn(
        ws_.get_executor(),
        [self = shared_from_this()]() -> asio::awaitable<void> {
          websocket::close_reason cr(static_cast<websocket::close_code>(self->close_code_), self->close_reason_);
          auto [ec] = co_await self->ws_.async_close(cr, use_tuple);
          if (ec) self->hard_close();
        },
        asio::detached);
  }

  void hard_close() {
    beast::error_code ignored;
    ws_.next_layer().close(ignored);
  }

  websocket::stream<asio::ip::tcp::socket> ws_;  // Beast's websocket timer handles timeouts
  const WsOptions& opts_;
  std::uint64_t id_;
  std::function<void()> on_end_;
  std::unique_ptr<http::request<http::string_body>> upgrade_;  // until the handshake is done
  std::unique_ptr<Request> req_;
  std::shared_ptr<WsListener> listener_;
  std::vector<std::shared_ptr<const std::string>> queue_;
  std::vector<std::shared_ptr<const std::string>> batch_;  // in flight
  std::size_t queued_bytes_ = 0;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  std::uint16_t close_code_ = 0;
  std::string close_reason_;
};

}  // namespace

void spawn_websocket(beast::tcp_stream&& stream, http::request<http::string_body>&& upgrade, Request&& req,
                     const WsOptions& opts, const WsAccept& accept, std::uint64_t id,
                     std::function<void(std::function<void(bool)>)> on_open, std::function<void()> on_end) {
  auto exec = stream.get_executor();
  auto session = std::make_shared<WsSession>(stream.release_socket(), opts, id, std::move(upgrade), std::move(req),
                                             std::move(on_end));
  asio::co_spawn(exec, session->run(accept, std::move(on_open)), asio::detached);
}

}  // namespace parley::net::detail
