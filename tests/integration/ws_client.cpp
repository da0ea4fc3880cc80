#include "ws_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <deque>
#include <stdexcept>

namespace parley::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string frame_type(const json::object& f) {
  auto* t = f.if_contains("type");
  return t && t->is_string() ? std::string(t->as_string()) : std::string();
}

std::string event_name(const json::object& f) {
  auto* e = f.if_contains("event");
  return e && e->is_string() ? std::string(e->as_string()) : std::string();
}

struct WsClient::Impl {
  std::uint16_t port;
  Options opts;
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buf;
  bool open = false;     // upgraded and not ended
  bool reading = false;  // an async_read is outstanding
  WsClose close;
  std::deque<json::object> frames;
  std::string refusal_body;
  std::string error;
  std::size_t messages = 0;
  std::uint64_t next_id = 0;

  // Runs handlers until `done()` or the deadline; returns done().
  bool run_until(const std::function<bool()>& done, Clock::time_point deadline) {
    while (!done()) {
      if (ioc.stopped()) ioc.restart();
      if (ioc.run_one_until(deadline) == 0) {
        if (Clock::now() >= deadline) return done();
        if (ioc.stopped()) return done();  // no work left: nothing can change
      }
    }
    return true;
  }

  void ended(const beast::error_code& ec) {
    open = false;
    close.ended = true;
    if (ec == websocket::error::closed) {
      close.code = static_cast<std::uint16_t>(ws.reason().code);
      close.reason = std::string(ws.reason().reason.c_str());
    } else {
      close.error = ec.message();
    }
  }

  void split(const std::string& text) {
    std::size_t i = 0;
    while (i <= text.size()) {
      auto j = text.find('\n', i);
      if (j == std::string::npos) j = text.size();
      std::string line = text.substr(i, j - i);
      i = j + 1;
      if (line.empty()) continue;
      boost::system::error_code ec;
      auto v = json::parse(line, ec);
      if (ec || !v.is_object()) {
        frames.push_back(json::object{{"type", "<not json>"}, {"raw", line}});
      } else {
        frames.push_back(std::move(v.as_object()));
      }
    }
  }

  void start_read() {
    reading = true;
    ws.async_read(buf, [this](beast::error_code ec, std::size_t) {
      reading = false;
      if (ec) {
        ended(ec);
        return;
      }
      ++messages;
      std::string text = beast::buffers_to_string(buf.data());
      buf.consume(buf.size());
      if (!ws.got_text()) {
        frames.push_back(json::object{{"type", "<binary>"}, {"raw", text}});
        return;
      }
      split(text);
    });
  }

  // Makes a frame available; false on timeout or when the connection ended with none left.
  bool fill(Clock::time_point deadline) {
    while (frames.empty()) {
      if (!open && !reading) return false;
      if (!reading) start_read();
      if (!run_until([this] { return !reading; }, deadline)) return false;
    }
    return true;
  }

  bool write(std::string_view data, bool text) {
    if (!open) return false;
    bool done = false;
    beast::error_code wec;
    ws.text(text);
    ws.async_write(asio::buffer(data.data(), data.size()), [&](beast::error_code ec, std::size_t) {
      done = true;
      wec = ec;
    });
    if (!run_until([&] { return done; }, Clock::now() + std::chrono::seconds(5))) {
      // The server is not taking our bytes: give up on this connection (the handler refers to
      // our locals, so wait for it to finish).
      beast::error_code ignored;
      ws.next_layer().socket().close(ignored);
      run_until([&] { return done; }, Clock::now() + std::chrono::seconds(5));
      return false;
    }
    return !wec;
  }
};

WsClient::WsClient(std::uint16_t port, Options opts) : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->opts = opts;
}

WsClient::~WsClient() {
  beast::error_code ignored;
  impl_->ws.next_layer().socket().close(ignored);
  // Let a pending read finish (with operation_aborted) while the buffers still exist.
  impl_->run_until([this] { return !impl_->reading; }, Clock::now() + std::chrono::seconds(1));
}

int WsClient::connect(const std::string& target, std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  auto deadline = Clock::now() + timeout;
  auto& stream = d.ws.next_layer();
  beast::error_code ec;
  stream.socket().open(tcp::v4(), ec);
  if (!ec && d.opts.receive_buffer_bytes > 0) {
    stream.socket().set_option(asio::socket_base::receive_buffer_size(d.opts.receive_buffer_bytes), ec);
  }
  if (ec) {
    d.error = "socket: " + ec.message();
    return 0;
  }
  stream.expires_at(deadline);
  bool done = false;
  stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), d.port), [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!d.run_until([&] { return done; }, deadline + std::chrono::seconds(1)) || ec) {
    d.error = "connect: " + (ec ? ec.message() : std::string("timed out"));
    return 0;
  }
  websocket::response_type res;
  done = false;
  d.ws.async_handshake(res, "127.0.0.1:" + std::to_string(d.port), target, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!d.run_until([&] { return done; }, deadline + std::chrono::seconds(1))) {
    d.error = "handshake timed out";
    return 0;
  }
  if (ec) {
    d.refusal_body = res.body();
    d.error = "handshake: " + ec.message();
    return res.result_int() == 0 || res.result_int() == 101 ? 0 : static_cast<int>(res.result_int());
  }
  stream.expires_never();
  websocket::stream_base::timeout t{std::chrono::seconds(5), websocket::stream_base::none(), false};
  d.ws.set_option(t);
  d.ws.read_message_max(64 << 20);
  d.open = true;
  return static_cast<int>(res.result_int());
}

const std::string& WsClient::refusal_body() const { return impl_->refusal_body; }

json::object WsClient::refusal_json() const {
  boost::system::error_code ec;
  auto v = json::parse(impl_->refusal_body, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

const std::string& WsClient::error() const { return impl_->error; }

bool WsClient::send_text(std::string_view raw) { return impl_->write(raw, true); }

bool WsClient::send(const json::object& frame) { return impl_->write(json::serialize(frame), true); }

bool WsClient::send_binary(std::string_view bytes) { return impl_->write(bytes, false); }

std::optional<json::object> WsClient::next_frame(std::chrono::milliseconds timeout) {
  if (!impl_->fill(Clock::now() + timeout)) return std::nullopt;
  auto f = std::move(impl_->frames.front());
  impl_->frames.pop_front();
  return f;
}

std::optional<json::object> WsClient::wait_for(const std::function<bool(const json::object&)>& pred,
                                               std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (impl_->fill(deadline)) {
    auto f = std::move(impl_->frames.front());
    impl_->frames.pop_front();
    if (pred(f)) return f;
  }
  return std::nullopt;
}

std::optional<json::object> WsClient::wait_event(std::string_view event, std::string_view channel_id,
                                                 std::chrono::milliseconds timeout) {
  return wait_for(
      [&](const json::object& f) {
        if (frame_type(f) != "event" || event_name(f) != event) return false;
        if (channel_id.empty()) return true;
        auto* c = f.if_contains("channel_id");
        return c && c->is_string() && c->as_string() == channel_id;
      },
      timeout);
}

std::optional<json::object> WsClient::command(json::object cmd, std::chrono::milliseconds timeout) {
  if (!cmd.contains("id")) cmd["id"] = "c" + std::to_string(++impl_->next_id);
  std::string id(cmd["id"].as_string());
  if (!send(cmd)) return std::nullopt;
  auto deadline = Clock::now() + timeout;
  std::deque<json::object> before;
  std::optional<json::object> answer;
  while (impl_->fill(deadline)) {
    auto f = std::move(impl_->frames.front());
    impl_->frames.pop_front();
    auto* fid = f.if_contains("id");
    auto type = frame_type(f);
    if (fid && fid->is_string() && fid->as_string() == id && (type == "ack" || type == "error" || type == "pong")) {
      answer = std::move(f);
      break;
    }
    before.push_back(std::move(f));
  }
  // Put back what came before the answer, ahead of anything read after it.
  for (auto it = before.rbegin(); it != before.rend(); ++it) impl_->frames.push_front(std::move(*it));
  return answer;
}

std::vector<json::object> WsClient::until_pong(std::chrono::milliseconds timeout) {
  std::string id = "barrier" + std::to_string(++impl_->next_id);
  if (!send(json::object{{"type", "ping"}, {"id", id}})) throw std::runtime_error("until_pong: cannot send a ping");
  auto deadline = Clock::now() + timeout;
  std::vector<json::object> before;
  while (impl_->fill(deadline)) {
    auto f = std::move(impl_->frames.front());
    impl_->frames.pop_front();
    auto* fid = f.if_contains("id");
    if (frame_type(f) == "pong" && fid && fid->is_string() && fid->as_string() == id) return before;
    before.push_back(std::move(f));
  }
  throw std::runtime_error("until_pong: no pong (connection " +
                           std::string(impl_->close.ended ? "ended" : "open, timed out") + ")");
}

std::vector<json::object> WsClient::drain(std::chrono::milliseconds quiet, std::chrono::milliseconds max) {
  auto end = Clock::now() + max;
  std::vector<json::object> out;
  for (;;) {
    auto deadline = std::min(end, Clock::now() + quiet);
    if (!impl_->fill(deadline)) return out;
    out.push_back(std::move(impl_->frames.front()));
    impl_->frames.pop_front();
  }
}

WsClose WsClient::wait_closed(std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  auto deadline = Clock::now() + timeout;
  while (d.open || d.reading) {
    if (!d.reading) d.start_read();
    if (!d.run_until([&] { return !d.reading; }, deadline)) break;
  }
  return d.close;
}

const WsClose& WsClient::close_info() const { return impl_->close; }

std::size_t WsClient::pending() const { return impl_->frames.size(); }

void WsClient::close(std::uint16_t code, std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  if (!d.open) return;
  bool done = false;
  d.ws.async_close(websocket::close_reason(code), [&](beast::error_code) { done = true; });
  auto deadline = Clock::now() + timeout;
  if (!d.run_until([&] { return done; }, deadline)) {
    drop();
    d.run_until([&] { return done; }, Clock::now() + std::chrono::seconds(1));
  }
  // A read still pending completes now (the stream is closed).
  d.run_until([&] { return !d.reading; }, Clock::now() + std::chrono::seconds(1));
  d.open = false;
  d.close.ended = true;
}

void WsClient::drop() {
  beast::error_code ignored;
  impl_->ws.next_layer().socket().close(ignored);
  impl_->open = false;
  impl_->close.ended = true;
}

std::size_t WsClient::messages_read() const { return impl_->messages; }

}  // namespace parley::test
