#include "net/http_server.hpp"

#include "core/thread_annotations.hpp"
#include "net/ws_session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

#include <unistd.h>

#include <algorithm>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace parley::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// A live connection as the shutdown and heartbeat logic see it. `ws` is read and written under
// the server's mutex; the other fields are touched only on the connection's strand (the posted
// close runs there too).
struct Conn {
  asio::any_io_executor exec;           // the connection's strand
  beast::tcp_stream* stream = nullptr;  // null once upgraded to a WebSocket
  std::weak_ptr<detail::WsControl> ws;  // set once the WebSocket is open
  bool idle = true;                     // read and written on the connection's strand only
  // Cleared by untrack(), which runs on the strand of the HTTP session or, after an upgrade, on
  // the WebSocket's thread; read by close_connections()' posts on the connection's strand.
  std::atomic<bool> alive{true};
};

// Fills a Request from a parsed Beast request (the body is moved by the caller); false when
// the target is not a valid path.
template <class Body>
bool to_request(http::request<Body>& in, const std::string& remote_ip, Request& out) {
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  auto url = boost::urls::parse_origin_form(out.target);
  if (!url) return false;
  out.path = url->path();
  for (auto p : url->params()) out.query.emplace_back(p.key, p.has_value ? p.value : std::string());
  for (const auto& f : in) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  out.remote_ip = remote_ip;
  return true;
}

// The decoded path of a request target, "" when it is not a valid one.
std::string target_path(std::string_view target) {
  auto url = boost::urls::parse_origin_form(target);
  return url ? std::string(url->path()) : std::string();
}

// A fresh name for a spooled body.
std::string spool_name(const std::string& dir) {
  static std::atomic<std::uint64_t> counter{0};
  return dir + "/body-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) + ".part";
}

http::response<http::string_body> to_beast(Response&& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  if (!r.body.empty() || r.status != 204) res.set(http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

// Writes a response whose body is a range of a file, read a chunk at a time.
asio::awaitable<beast::error_code> write_file_response(beast::tcp_stream& stream, Response&& r, unsigned version,
                                                       bool keep_alive, int timeout_ms) {
  beast::error_code ec;
  beast::file file;
  file.open(r.file.c_str(), beast::file_mode::read, ec);
  if (!ec) file.seek(r.file_offset, ec);
  if (ec) co_return ec;
  http::response<http::buffer_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  res.content_length(r.file_length);
  res.body().data = nullptr;
  res.body().more = true;
  http::response_serializer<http::buffer_body> sr{res};
  stream.expires_after(std::chrono::milliseconds(timeout_ms));
  auto [hec, hn] = co_await http::async_write_header(stream, sr, use_tuple);
  if (hec) co_return hec;
  std::vector<char> chunk(std::size_t{64} << 10);
  std::uint64_t left = r.file_length;
  while (left > 0) {
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
    auto n = file.read(chunk.data(), want, ec);
    if (ec) co_return ec;
    if (n == 0) co_return beast::error_code(asio::error::eof);  // the file shrank under us
    left -= n;
    res.body().data = chunk.data();
    res.body().size = n;
    res.body().more = left > 0;
    stream.expires_after(std::chrono::milliseconds(timeout_ms));
    auto [wec, wn] = co_await http::async_write(stream, sr, use_tuple);
    if (wec && wec != http::error::need_buffer) co_return wec;
  }
  if (!sr.is_done()) {
    res.body().data = nullptr;
    res.body().size = 0;
    res.body().more = false;
    auto [wec, wn] = co_await http::async_write(stream, sr, use_tuple);
    if (wec && wec != http::error::need_buffer) co_return wec;
  }
  co_return beast::error_code{};
}

}  // namespace

struct HttpServer::Impl {
  ServerOptions opts;
  Handler handler;
  ErrorResponder on_error;
  // Connection tracking is declared before the io_context so that it outlives it: after a
  // forced shutdown, destroying the io_context destroys suspended sessions, which untrack().
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};  // finish() ran: nothing may be posted to `control` any more
  std::atomic<int> open{0};
  Mutex mu;  // guards the two below and every tracked Conn's `ws`
  std::uint64_t next_id GUARDED_BY(mu) = 0;
  std::unordered_map<std::uint64_t, std::shared_ptr<Conn>> conns GUARDED_BY(mu);

  asio::io_context ioc;
  // The acceptor, signals and shutdown timer live on one strand: shutdown touches them all.
  asio::strand<asio::io_context::executor_type> control{asio::make_strand(ioc)};
  tcp::acceptor acceptor{control};
  asio::signal_set signals{control, SIGINT, SIGTERM};
  asio::steady_timer grace_timer{control};
  asio::steady_timer heartbeat_timer{control};
  std::function<void()> shutdown_hook;
  WsOptions ws_opts;
  WsAccept ws_accept;  // empty: WebSocket upgrades are ordinary requests
  // After the io_context: stopped (and the sessions it holds released) before the io_context goes.
  std::unique_ptr<detail::WsFlusher> flusher;

  Impl(ServerOptions o, Handler h, ErrorResponder e)
      : opts(std::move(o)), handler(std::move(h)), on_error(std::move(e)) {}

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(asio::make_strand(ioc), use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        spdlog::warn("accept failed: {}", ec.message());
        continue;
      }
      if (open.load() >= opts.max_connections) {
        spdlog::warn("connection limit {} reached; refusing a connection", opts.max_connections);
        beast::error_code ignored;
        sock.close(ignored);
        continue;
      }
      // Responses and events are small and latency-bound: no Nagle delay (which, against a
      // peer's delayed ACK, stalls a small write for ~40 ms).
      beast::error_code nec;
      sock.set_option(tcp::no_delay(true), nec);
      auto exec = sock.get_executor();
      asio::co_spawn(exec, session(std::move(sock)), [](const std::exception_ptr& e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("connection ended by an unexpected error: {}", ex.what());
        }
      });
    }
  }

  std::pair<std::uint64_t, std::shared_ptr<Conn>> track(beast::tcp_stream& stream) {
    auto c = std::make_shared<Conn>();
    c->exec = stream.get_executor();
    c->stream = &stream;
    MutexLock lock(mu);
    auto id = next_id++;
    conns.emplace(id, c);
    open.fetch_add(1);
    return {id, c};
  }

  void untrack(std::uint64_t id, Conn& c) {
    c.alive = false;
    bool last = false;
    {
      MutexLock lock(mu);
      conns.erase(id);
      last = open.fetch_sub(1) == 1;
    }
    if (last && draining.load() && !stopped.load()) asio::post(control, [this] { finish(); });
  }

  // Writes an error response for a request that could not be read, then closes.
  asio::awaitable<void> reject(beast::tcp_stream& stream, int status, const char* code, const char* message) {
    auto res = to_beast(on_error(status, code, message), 11, false);
    stream.expires_after(std::chrono::milliseconds(opts.body_timeout_ms));
    co_await http::async_write(stream, res, use_tuple);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> session(tcp::socket sock) {
    beast::error_code addr_ec;
    auto ep = sock.remote_endpoint(addr_ec);
    std::string remote_ip = addr_ec ? "" : ep.address().to_string();
    beast::tcp_stream stream(std::move(sock));
    auto [id, conn] = track(stream);
    struct Untrack {
      Impl* self;
      std::uint64_t id;
      std::shared_ptr<Conn> c;
      ~Untrack() {
        if (c) self->untrack(id, *c);
      }
    } guard{this, id, conn};

    beast::flat_buffer buffer;
    for (;;) {
      if (draining.load()) co_return;
      conn->idle = true;
      if (buffer.size() == 0) {
        // Idle keep-alive: wait for bytes without holding a parser; bounded by the idle timeout.
        // Read through the tcp_stream: its expiry does not apply to waits on the raw socket.
        stream.expires_after(std::chrono::milliseconds(opts.idle_timeout_ms));
        auto [wec, wn] = co_await stream.async_read_some(buffer.prepare(1024), use_tuple);
        if (wec || draining.load()) co_return;
        buffer.commit(wn);
      }
      conn->idle = false;

      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
      parser.body_limit(boost::none);  // the limit depends on the route: checked after the head
      stream.expires_after(std::chrono::milliseconds(opts.header_timeout_ms));
      auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
      // Beast applies header_limit to each read, not to the whole head: check the total too.
      if (!hec && hn > opts.max_header_bytes) hec = http::error::header_limit;
      if (hec) {
        if (hec == http::error::header_limit) {
          co_await reject(stream, 431, "headers_too_large", "request headers are larger than the limit");
        } else if (hec == http::error::body_limit) {  // Content-Length over the limit, found with the head
          co_await reject(stream, 413, "payload_too_large", "request body is larger than the limit");
        } else if (hec != http::error::end_of_stream && hec != beast::error::timeout && hec != asio::error::eof &&
                   hec != asio::error::connection_reset && hec != asio::error::operation_aborted) {
          co_await reject(stream, 400, "invalid_request", "malformed HTTP request");
        }
        co_return;
      }
      std::optional<std::size_t> spool_limit;
      if (opts.spool) spool_limit = opts.spool(parser.get().method_string(), target_path(parser.get().target()));
      const std::size_t body_limit = spool_limit.value_or(opts.max_body_bytes);
      if (auto len = parser.content_length(); len && *len > body_limit) {
        co_await reject(stream, 413, "payload_too_large", "request body is larger than the limit");
        co_return;
      }
      Request req;
      Response resp;
      bool parsed = false;
      unsigned version = 11;
      bool keep_alive = false;
      http::request<http::string_body> msg;
      beast::error_code bec;
      if (spool_limit) {
        // Streamed to a file as it arrives: an upload is never held in memory.
        http::request_parser<http::file_body> fp{std::move(parser)};
        fp.body_limit(body_limit);
        req.body_file = spool_name(opts.spool_dir);
        beast::error_code fec;
        fp.get().body().open(req.body_file.c_str(), beast::file_mode::write_new, fec);
        if (fec) {
          spdlog::error("cannot spool a request body to {}: {}", req.body_file, fec.message());
          co_await reject(stream, 500, "internal", "cannot store the request body");
          co_return;
        }
        stream.expires_after(std::chrono::milliseconds(opts.body_timeout_ms));
        std::tie(bec, std::ignore) = co_await http::async_read(stream, buffer, fp, use_tuple);
        auto fmsg = fp.release();
        fmsg.body().close();
        if (!bec) {
          version = fmsg.version();
          keep_alive = fmsg.keep_alive();
          parsed = to_request(fmsg, remote_ip, req);
        }
      } else {
        parser.body_limit(body_limit);
        stream.expires_after(std::chrono::milliseconds(opts.body_timeout_ms));
        std::tie(bec, std::ignore) = co_await http::async_read(stream, buffer, parser, use_tuple);
        if (!bec) {
          msg = parser.release();
          version = msg.version();
          keep_alive = msg.keep_alive();
          parsed = to_request(msg, remote_ip, req);  // the headers stay for is_upgrade
          req.body = std::move(msg.body());
        }
      }
      // The spooled body goes when the request is done, whatever the handler did with it.
      struct RemoveSpool {
        const std::string& path;
        ~RemoveSpool() {
          if (!path.empty()) ::unlink(path.c_str());
        }
      } remove_spool{req.body_file};
      if (bec) {
        if (bec == http::error::body_limit) {
          co_await reject(stream, 413, "payload_too_large", "request body is larger than the limit");
        } else if (bec != beast::error::timeout && bec != asio::error::eof && bec != asio::error::connection_reset &&
                   bec != http::error::partial_message) {
          co_await reject(stream, 400, "invalid_request", "malformed HTTP request body");
        }
        co_return;
      }

      if (parsed && ws_accept && req.path == ws_opts.path && beast::websocket::is_upgrade(msg)) {
        conn->stream = nullptr;
        conn->idle = false;
        // The WebSocket runs in its own coroutine so this one's frame (parser, buffers) is freed:
        // an idle WebSocket keeps only what it needs. It untracks the connection when it ends.
        auto tracked = std::move(guard.c);
        std::string leftover(static_cast<const char*>(buffer.cdata().data()), buffer.size());
        detail::spawn_websocket(
            stream.release_socket(), std::move(leftover), std::move(msg), std::move(req), ws_opts, ws_accept, id,
            flusher.get(),
            [this, tracked](const std::weak_ptr<detail::WsControl>& ws) {
              {
                MutexLock lock(mu);  // the heartbeat reads it under mu
                tracked->ws = ws;
              }
              // Opened after shutdown began (close_connections() may have passed it by while it
              // was still an upgrade): it goes away with 1001 like every other socket. draining
              // is set before close_connections() takes mu, so one of the two always sees it.
              if (draining.load()) {
                if (auto open_ws = ws.lock()) open_ws->shutdown(false);
              }
            },
            [this, tracked, id = id] { untrack(id, *tracked); });
        co_return;
      }
      if (!parsed) {
        resp = on_error(400, "invalid_request", "request target is not a valid path");
      } else {
        stream.expires_never();  // the handler bounds its own work
        resp = co_await handler(req);
      }
      keep_alive = keep_alive && !draining.load();
      beast::error_code wec;
      if (!resp.file.empty()) {
        wec = co_await write_file_response(stream, std::move(resp), version, keep_alive, opts.body_timeout_ms);
      } else {
        auto res = to_beast(std::move(resp), version, keep_alive);
        stream.expires_after(std::chrono::milliseconds(opts.body_timeout_ms));
        std::tie(wec, std::ignore) = co_await http::async_write(stream, res, use_tuple);
      }
      if (wec || !keep_alive) {
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
    }
  }

  void begin_shutdown() {
    if (draining.exchange(true)) return;
    spdlog::info("shutting down: finishing in-flight requests (grace {} ms)", opts.shutdown_grace_ms);
    if (shutdown_hook) shutdown_hook();
    beast::error_code ignored;
    acceptor.close(ignored);
    signals.cancel(ignored);
    close_connections(false);
    grace_timer.expires_after(std::chrono::milliseconds(opts.shutdown_grace_ms));
    grace_timer.async_wait([this](beast::error_code ec) {
      if (ec) return;
      spdlog::warn("shutdown grace period over; closing {} connection(s)", open.load());
      close_connections(true);
      finish();
    });
    if (open.load() == 0) finish();
  }

  // Closes idle connections (or all, when forced) on their own strands.
  void close_connections(bool force) {
    // WebSockets are closed outside the lock: dropping the last reference to one ends it, and
    // its end untracks it (which takes the lock).
    std::vector<std::shared_ptr<detail::WsControl>> open_ws;
    {
      MutexLock lock(mu);
      for (auto& [id, c] : conns) {
        if (auto ws = c->ws.lock()) {
          open_ws.push_back(std::move(ws));
          continue;
        }
        asio::post(c->exec, [c = c, force] {
          if (!c->alive) return;
          if (c->stream && (force || c->idle)) {
            beast::error_code ignored;
            c->stream->socket().cancel(ignored);
            c->stream->socket().close(ignored);
          }
        });
      }
    }
    for (auto& ws : open_ws) ws->shutdown(force);
  }

  // Every open WebSocket, a few times per idle timeout: pings the silent, closes the gone. One
  // timer for all connections instead of one per connection.
  asio::awaitable<void> heartbeat_loop() {
    auto period = std::chrono::milliseconds(std::clamp(ws_opts.idle_timeout_ms / 4, 10, 1000));
    for (;;) {
      heartbeat_timer.expires_after(period);
      auto [ec] = co_await heartbeat_timer.async_wait(use_tuple);
      if (ec || stopped.load()) co_return;
      auto now = detail::ws_now_ms();
      std::vector<std::shared_ptr<detail::WsControl>> open_ws;
      {
        MutexLock lock(mu);
        open_ws.reserve(conns.size());
        for (auto& [id, c] : conns) {
          if (auto ws = c->ws.lock()) open_ws.push_back(std::move(ws));
        }
      }
      for (auto& ws : open_ws) ws->heartbeat(now);
    }
  }

  void finish() {
    stopped.store(true);
    grace_timer.cancel();
    heartbeat_timer.cancel();
    ioc.stop();
  }
};

HttpServer::HttpServer(ServerOptions opts, Handler handler, ErrorResponder on_error)
    : impl_(std::make_unique<Impl>(std::move(opts), std::move(handler), std::move(on_error))) {}

HttpServer::~HttpServer() = default;

std::uint16_t HttpServer::listen() {
  auto& a = impl_->acceptor;
  beast::error_code ec;
  auto addr = asio::ip::make_address(impl_->opts.host, ec);
  if (ec) throw std::runtime_error("invalid listen address '" + impl_->opts.host + "'");
  tcp::endpoint ep{addr, impl_->opts.port};
  a.open(ep.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(ep, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + impl_->opts.host + ":" + std::to_string(impl_->opts.port) + ": " +
                             ec.message());
  }
  a.listen(asio::socket_base::max_listen_connections);
  return a.local_endpoint().port();
}

void HttpServer::run() {
  auto* impl = impl_.get();
  impl->signals.async_wait([impl](beast::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("received signal {}", sig);
    impl->begin_shutdown();
  });
  asio::co_spawn(impl->control, impl->accept_loop(), asio::detached);
  if (impl->ws_accept) asio::co_spawn(impl->control, impl->heartbeat_loop(), asio::detached);
  int n = std::max(1, impl->opts.threads);
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back([impl] { impl->ioc.run(); });
  impl->ioc.run();
  for (auto& t : threads) t.join();
}

void HttpServer::shutdown() {
  asio::post(impl_->control, [impl = impl_.get()] { impl->begin_shutdown(); });
}

bool HttpServer::draining() const { return impl_->draining.load(); }
int HttpServer::open_connections() const { return impl_->open.load(); }
boost::asio::any_io_executor HttpServer::executor() { return impl_->ioc.get_executor(); }
void HttpServer::on_shutdown(std::function<void()> fn) { impl_->shutdown_hook = std::move(fn); }

void HttpServer::enable_websocket(WsOptions opts, WsAccept accept) {
  impl_->ws_opts = std::move(opts);
  impl_->ws_accept = std::move(accept);
  if (impl_->ws_opts.write_coalesce_us > 0)
    impl_->flusher = std::make_unique<detail::WsFlusher>(impl_->ws_opts.write_coalesce_us);
}

}  // namespace parley::net
