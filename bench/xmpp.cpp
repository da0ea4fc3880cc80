// The idle and fanout workloads against an XMPP server over WebSocket (RFC 7395), in
// Multi-User Chat rooms (XEP-0045), so that peers are measured by the same tool as Parley.
//
// Each connection: WebSocket with subprotocol "xmpp", <open/>, SASL ANONYMOUS, stream restart,
// resource bind (and the legacy session when the server asks for it). idle: N such connections
// with initial presence. fanout: one room per channel, created by its sender (accepted as an
// instant room), M members joined to every room; each sender sends groupchat messages whose body
// carries a sequence number and the send time, and every member counts lost, duplicated and
// reordered sequence numbers per room and the end-to-end latency, as the Parley fanout does.
// As there, the members' sockets are read by FrameReaders (epoll threads, plain recv) once they
// have joined, so that every server is measured with the same light client.
// Server CPU and RSS come from --pid.
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <thread>

#include "core/crypto.hpp"
#include "frame_reader.hpp"
#include "scenarios.hpp"
#include "xmpp_stream.hpp"

namespace bench {

namespace {

using xmpp::Element;

struct Url {
  std::string host, port, path;
};

Url parse_url(const std::string& url) {
  constexpr std::string_view scheme = "ws://";
  if (url.rfind(scheme, 0) != 0) throw std::runtime_error("--xmpp-url must start with ws://");
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  Url u;
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = hostport.rfind(':');
  u.host = hostport.substr(0, colon);
  u.port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  return u;
}

// One XMPP client connection. During login it is driven step by step with next(); then either
// reader() gives every stanza to the handler, or the socket is handed to FrameReaders and each
// WebSocket message it reads goes to deliver().
class Conn {
 public:
  std::unique_ptr<WebSocket> ws;
  std::string jid;
  std::function<void(const Element&)> handler;
  bool closed = false;

  asio::awaitable<bool> send(const std::string& xml) {
    if (trace()) std::fprintf(stderr, "%p >> %s\n", static_cast<void*>(this), xml.c_str());
    auto [ec, n] = co_await ws->async_write(asio::buffer(xml), asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }

  asio::awaitable<std::optional<Element>> next() {
    while (inbox_.empty()) {
      if (!co_await read_more()) co_return std::nullopt;
    }
    Element e = std::move(inbox_.front());
    inbox_.pop_front();
    co_return e;
  }

  // Reads until the connection ends, giving every stanza to handler.
  asio::awaitable<void> reader() {
    for (;;) {
      while (!inbox_.empty()) {
        Element e = std::move(inbox_.front());
        inbox_.pop_front();
        if (handler) handler(e);
      }
      if (!co_await read_more()) break;
    }
    closed = true;
  }

  // One WebSocket message's payload read elsewhere (by FrameReaders, from the released socket):
  // parsed, and its stanzas given to handler. False when the stream ends (close, stream error,
  // malformed XML). Used only once the socket is released: the cancelled Beast read's completion
  // (which ends reader() and sets `closed`) touches neither the parser nor the handler.
  bool deliver(std::string_view payload) {
    if (trace())
      std::fprintf(stderr, "%p << %.*s\n", static_cast<void*>(this), static_cast<int>(payload.size()), payload.data());
    if (stream_ended_) return false;
    out_.clear();
    if (!parser_.feed(payload, out_)) {
      std::fprintf(stderr, "xmpp: malformed XML from the server: %s\n", parser_.error().c_str());
      stream_ended_ = true;
      return false;
    }
    for (auto& e : out_) {
      if (e.name == "close" || e.name == "error") {
        if (e.name == "error") fail(("stream error from the server: " + describe(e)).c_str());
        stream_ended_ = true;
        return false;
      }
      if (handler) handler(e);
    }
    return true;
  }

  asio::awaitable<bool> connect(const Options& o, const Url& url, int index) {
    ws = std::make_unique<WebSocket>(co_await asio::this_coro::executor);
    auto& sock = beast::get_lowest_layer(*ws).socket();
    boost::system::error_code ec;
    sock.open(tcp::v4(), ec);
    sock.bind(source_for(o, index), ec);
    auto port = static_cast<unsigned short>(std::stoi(url.port));
    auto [cec] = co_await beast::get_lowest_layer(*ws).async_connect(
        tcp::endpoint(asio::ip::make_address(url.host), port), asio::as_tuple(asio::use_awaitable));
    if (cec) co_return fail(("connect: " + cec.message()).c_str());
    sock.set_option(tcp::no_delay(true), ec);
    ws->set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(http::field::sec_websocket_protocol, "xmpp"); }));
    ws->text(true);
    auto [hec] = co_await ws->async_handshake(url.host + ":" + url.port, url.path, asio::as_tuple(asio::use_awaitable));
    if (hec) co_return fail(("WebSocket handshake: " + hec.message()).c_str());
    co_return true;
  }

  // Opens the stream, logs in anonymously and binds a resource.
  asio::awaitable<bool> login(const Options& o) {
    std::string open = "<open xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\" to=\"" + xmpp::escape(o.xmpp_domain) +
                       "\" version=\"1.0\"/>";
    if (!co_await send(open)) co_return false;
    auto features = co_await until("features");
    if (!features) co_return false;
    if (!co_await send("<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"ANONYMOUS\"/>")) co_return false;
    for (;;) {
      auto e = co_await next();
      if (!e || e->name == "failure") co_return fail("SASL ANONYMOUS refused");
      if (e->name == "success") break;
    }
    if (!co_await send(open)) co_return false;
    features = co_await until("features");
    if (!features) co_return false;
    if (!co_await send("<iq xmlns=\"jabber:client\" type=\"set\" id=\"bind\"><bind "
                       "xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\"/></iq>"))
      co_return false;
    auto bound = co_await iq_result("bind");
    if (!bound) co_return fail("resource bind failed");
    if (const auto* b = bound->child("bind"); b && b->child("jid")) jid = b->child("jid")->text;
    const auto* session = features->child("session");
    if (session && !session->child("optional")) {
      if (!co_await send("<iq xmlns=\"jabber:client\" type=\"set\" id=\"sess\"><session "
                         "xmlns=\"urn:ietf:params:xml:ns:xmpp-session\"/></iq>"))
        co_return false;
      if (!co_await iq_result("sess")) co_return fail("session establishment failed");
    }
    logged_in_ = true;
    co_return true;
  }

 private:
  asio::awaitable<bool> read_more() {
    auto [ec, n] = co_await ws->async_read(buf_, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (!logged_in_) fail(("read during login: " + ec.message()).c_str());
      co_return false;
    }
    auto data = buf_.cdata();
    if (trace())
      std::fprintf(stderr, "%p << %.*s\n", static_cast<void*>(this), static_cast<int>(data.size()),
                   static_cast<const char*>(data.data()));
    std::vector<Element> out;
    bool ok = parser_.feed(std::string_view(static_cast<const char*>(data.data()), data.size()), out);
    buf_.consume(buf_.size());
    if (!ok) {
      std::fprintf(stderr, "xmpp: malformed XML from the server: %s\n", parser_.error().c_str());
      co_return false;
    }
    for (auto& e : out) {
      if (e.name == "close" || e.name == "error") {
        if (e.name == "error") fail(("stream error from the server: " + describe(e)).c_str());
        co_return false;
      }
      inbox_.push_back(std::move(e));
    }
    co_return true;
  }

  asio::awaitable<std::optional<Element>> until(std::string_view name) {
    for (;;) {
      auto e = co_await next();
      if (!e || e->name == name) co_return e;
    }
  }

  asio::awaitable<std::optional<Element>> iq_result(std::string_view id) {
    for (;;) {
      auto e = co_await next();
      if (!e) co_return e;
      if (e->name == "iq" && e->attr("id") == id) {
        if (e->attr("type") == "result") co_return e;
        co_return std::nullopt;
      }
    }
  }

  // PARLEY_BENCH_XMPP_TRACE=1 prints every message sent and received.
  static bool trace() {
    static const bool on = std::getenv("PARLEY_BENCH_XMPP_TRACE") != nullptr;
    return on;
  }

  static std::string describe(const Element& e) {
    std::string out;
    for (const auto& c : e.children) out += (out.empty() ? "" : ", ") + c.name + (c.text.empty() ? "" : " " + c.text);
    return out;
  }

  static bool fail(const char* what) {
    static std::atomic<int> reported{0};
    if (reported++ < 5) std::fprintf(stderr, "xmpp: %s\n", what);
    return false;
  }

  bool logged_in_ = false;
  xmpp::StreamParser parser_;
  std::deque<Element> inbox_;
  std::vector<Element> out_;   // deliver()'s parsed stanzas
  bool stream_ended_ = false;  // deliver() saw the stream end
  beast::flat_buffer buf_;
};

// Logs in a connection; returns null on failure.
asio::awaitable<std::unique_ptr<Conn>> open_conn(const Options& o, const Url& url, int index) {
  auto c = std::make_unique<Conn>();
  if (!co_await c->connect(o, url, index) || !co_await c->login(o)) co_return nullptr;
  co_return c;
}

// Runs `make(i)` for i in [0, n) with at most `width` in flight; returns when all finished
// (other work on the io_context, such as readers, stays pending for the next run).
void bounded(asio::io_context& ioc, int n, int width, std::function<asio::awaitable<void>(int)> make) {
  int next = 0, done = 0;
  std::function<void()> launch = [&] {
    if (next >= n) return;
    int i = next++;
    asio::co_spawn(ioc, make(i), [&](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
      if (++done == n) ioc.stop();
      launch();
    });
  };
  if (n == 0) return;
  for (int k = 0; k < width; ++k) launch();
  ioc.run();
  ioc.restart();
}

}  // namespace

int run_xmpp_idle(const Options& o) {
  if (o.pid <= 0) throw std::runtime_error("--target xmpp needs --pid of the server");
  auto url = parse_url(o.xmpp_url);
  long before = rss_bytes(o.pid);
  double cpu_before = cpu_seconds(o.pid);
  asio::io_context ioc;
  std::vector<std::unique_ptr<Conn>> conns;
  int failed = 0;
  auto start = Clock::now();
  bounded(ioc, o.connections, 256, [&](int i) -> asio::awaitable<void> {
    auto c = co_await open_conn(o, url, i);
    if (!c || !co_await c->send("<presence xmlns=\"jabber:client\"/>")) {
      ++failed;
      co_return;
    }
    conns.push_back(std::move(c));
  });
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  // Keep reading (the server's pings and presence echoes) while the server settles.
  for (auto& c : conns) asio::co_spawn(ioc, c->reader(), asio::detached);
  asio::steady_timer settle(ioc, std::chrono::seconds(2));
  settle.async_wait([&](boost::system::error_code) { ioc.stop(); });
  ioc.run();
  ioc.restart();
  long after = rss_bytes(o.pid);
  int connected = static_cast<int>(conns.size());
  Result r;
  r.scenario = "idle";
  r.target = "xmpp";
  r.connections = connected;
  r.seconds = secs;
  r.cpu = cpu_seconds(o.pid) - cpu_before;
  r.rss = after;
  r.bytes_per_connection = connected ? static_cast<double>(after - before) / connected : 0.0;
  r.extra = {{"failed", failed},
             {"connect_seconds", secs},
             {"connects_per_sec", connected / secs},
             {"server_rss_bytes_before", before},
             {"xmpp_url", o.xmpp_url}};
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "idle (xmpp): %d connected, %d failed in %.2f s (%.0f connects/s); RSS %.1f -> %.1f MiB: %.0f bytes "
                "per connection",
                connected, failed, secs, connected / secs, before / 1048576.0, after / 1048576.0,
                *r.bytes_per_connection);
  report(o, r, summary);
  for (auto& c : conns) beast::get_lowest_layer(*c->ws).close();
  ioc.poll();
  return connected > 0 && failed == 0 ? 0 : 3;
}

namespace {

// One member: its connection, what it saw per room and how many of its joins were confirmed.
// Once the members are handed to FrameReaders a member is read by one reader thread only, so its
// counts need no lock; they are added up at the end.
struct Member {
  std::unique_ptr<Conn> conn;
  std::map<std::string, std::int64_t, std::less<>> last_seq;  // per room (bare JID)
  DeliveryCounts st;
  int joined = 0;
};

// A groupchat message with a body "<seq> <send time ns> ..." counted against its room's last
// seq. False when it carries none (the subject, a status message).
bool count_groupchat(Member& m, const Element& e, std::int64_t now) {
  const auto* body = e.child("body");
  if (!body) return false;
  std::int64_t seq = 0, t0 = 0;
  if (std::sscanf(body->text.c_str(), "%ld %ld", &seq, &t0) != 2) return false;
  auto from = e.attr("from");
  auto room = from.substr(0, from.find('/'));
  auto it = m.last_seq.find(room);
  if (it == m.last_seq.end()) it = m.last_seq.emplace(std::string(room), 0).first;
  m.st.count(seq, it->second, t0, now);
  return true;
}

bool is_self_presence(const Element& e) {
  if (e.name != "presence") return false;
  const auto* x = e.child("x");
  if (!x) return false;
  for (const auto& c : x->children)
    if (c.name == "status" && c.attr("code") == "110") return true;
  return false;
}

std::string join_presence(const std::string& room_jid, const std::string& nick) {
  return "<presence xmlns=\"jabber:client\" to=\"" + xmpp::escape(room_jid + "/" + nick) +
         "\"><x xmlns=\"http://jabber.org/protocol/muc\"><history maxstanzas=\"0\"/></x></presence>";
}

}  // namespace

int run_xmpp_fanout(const Options& o) {
  if (o.pid <= 0) throw std::runtime_error("--target xmpp needs --pid of the server");
  auto url = parse_url(o.xmpp_url);
  std::string run = parley::crypto::random_id("", 6);
  std::vector<std::string> rooms;
  for (int c = 0; c < o.channels; ++c) rooms.push_back("bench-" + run + "-" + std::to_string(c) + "@" + o.muc_domain);
  asio::io_context ioc;
  // The last stanza's arrival, for the quiet wait before the measured phase (io_context thread only).
  auto last_rx = Clock::now();
  int failed = 0;
  // Senders first: each creates its room and accepts the default configuration (instant room).
  std::vector<std::unique_ptr<Conn>> senders(rooms.size());
  bounded(ioc, o.channels, 16, [&](int c) -> asio::awaitable<void> {
    auto conn = co_await open_conn(o, url, c);
    const auto& room = rooms[static_cast<std::size_t>(c)];
    if (!conn || !co_await conn->send(join_presence(room, "s" + std::to_string(c)))) {
      ++failed;
      co_return;
    }
    for (;;) {
      auto e = co_await conn->next();
      if (!e) {
        ++failed;
        co_return;
      }
      if (!is_self_presence(*e)) continue;
      co_await conn->send("<iq xmlns=\"jabber:client\" type=\"set\" id=\"conf\" to=\"" + xmpp::escape(room) +
                          "\"><query xmlns=\"http://jabber.org/protocol/muc#owner\"><x xmlns=\"jabber:x:data\" "
                          "type=\"submit\"/></query></iq>");
      break;
    }
    for (;;) {  // the configuration's answer (an error when the room needed none is fine)
      auto e = co_await conn->next();
      if (!e) {
        ++failed;
        co_return;
      }
      if (e->name == "iq" && e->attr("id") == "conf") break;
    }
    senders[static_cast<std::size_t>(c)] = std::move(conn);
  });
  if (failed) throw std::runtime_error(std::to_string(failed) + " room creations failed");
  // The senders stay on the io_context: their readers drain what the rooms send them.
  for (auto& s : senders) {
    s->handler = [&last_rx](const Element&) { last_rx = Clock::now(); };
    asio::co_spawn(ioc, s->reader(), asio::detached);
  }
  // Members: log in, join every room, wait for the self-presence of each.
  std::vector<Member> members(static_cast<std::size_t>(o.members));
  for (std::size_t i = 0; i < members.size(); ++i) members[i].st.prepare(o, i);
  bounded(ioc, o.members, 64, [&](int i) -> asio::awaitable<void> {
    auto conn = co_await open_conn(o, url, o.channels + i);
    if (!conn) {
      ++failed;
      co_return;
    }
    auto& m = members[static_cast<std::size_t>(i)];
    conn->handler = [&last_rx, &m](const Element& e) {
      last_rx = Clock::now();
      if (is_self_presence(e)) ++m.joined;
    };
    for (const auto& room : rooms) {
      if (!co_await conn->send(join_presence(room, "m" + std::to_string(i)))) {
        ++failed;
        co_return;
      }
    }
    auto& ref = *conn;
    m.conn = std::move(conn);
    asio::co_spawn(co_await asio::this_coro::executor, ref.reader(), asio::detached);
    asio::steady_timer t(co_await asio::this_coro::executor);
    auto deadline = Clock::now() + std::chrono::seconds(std::max(300, o.timeout_seconds));
    while (m.joined < o.channels && !ref.closed && Clock::now() < deadline) {
      t.expires_after(std::chrono::milliseconds(5));
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (m.joined < o.channels) ++failed;
  });
  if (failed) throw std::runtime_error(std::to_string(failed) + " members could not log in or join");
  // Let the join presence broadcasts drain: wait for half a second without traffic. Then every
  // member's Beast read waits on an empty socket with nothing half-read in its buffer.
  run_until(ioc, 120, [&] { return Clock::now() - last_rx > std::chrono::milliseconds(500); });
  for (auto& s : senders) s->handler = nullptr;
  // The members' sockets go to the epoll readers. Releasing a socket cancels its pending Beast
  // read; poll() runs those completions now (each reader() ends, marking its Conn closed), so
  // that no Beast code touches a member once the reader threads start. The Conns stay alive for
  // their parsers and handlers.
  FrameReaders readers(o.client_threads, o.client_poll_us);
  for (std::size_t i = 0; i < members.size(); ++i)
    readers.add(i, beast::get_lowest_layer(*members[i].conn->ws).release_socket().release());
  ioc.poll();
  std::int64_t expected = static_cast<std::int64_t>(o.members) * o.channels * o.messages;
  std::atomic<std::int64_t> remaining{expected};
  for (auto& m : members) {
    m.conn->handler = [&m, &remaining](const Element& e) {
      if (e.name != "message" || e.attr("type") != "groupchat") return;
      if (count_groupchat(m, e, mono_ns())) remaining.fetch_sub(1, std::memory_order_relaxed);
    };
  }
  double cpu_before = cpu_seconds(o.pid);
  auto start = Clock::now();
  std::string pad(static_cast<std::size_t>(std::max(0, o.text_bytes - 26)), 'x');
  for (int c = 0; c < o.channels; ++c) {
    asio::co_spawn(
        ioc,
        [&, c]() -> asio::awaitable<void> {
          auto& conn = *senders[static_cast<std::size_t>(c)];
          std::string to = xmpp::escape(rooms[static_cast<std::size_t>(c)]);
          asio::steady_timer timer(co_await asio::this_coro::executor);
          auto next = Clock::now();
          for (int i = 1; i <= o.messages; ++i) {
            if (o.rate > 0) {
              next += std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 * o.channels / o.rate));
              timer.expires_at(next);
              co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            std::string body = std::to_string(i) + " " + std::to_string(mono_ns()) + " " + pad;
            if (!co_await conn.send("<message xmlns=\"jabber:client\" to=\"" + to + "\" type=\"groupchat\" id=\"g" +
                                    std::to_string(i) + "\"><body>" + body + "</body></message>"))
              co_return;
          }
        },
        asio::detached);
  }
  std::thread sending([&ioc] {
    auto work = asio::make_work_guard(ioc);
    ioc.run();
  });
  readers.run([&](std::size_t index, std::string_view payload) { (void)members[index].conn->deliver(payload); },
              [&] { return remaining.load(std::memory_order_relaxed) <= 0; }, std::chrono::seconds(o.timeout_seconds));
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  double server_cpu = cpu_seconds(o.pid) - cpu_before;
  ioc.stop();
  sending.join();
  ioc.restart();
  DeliveryCounts st;
  for (auto& m : members) st.add(std::move(m.st));
  Result r = fanout_result(o, "xmpp", std::move(st), expected, seconds, server_cpu);
  r.extra["xmpp_url"] = o.xmpp_url;
  r.extra["client_threads"] = o.client_threads;
  r.extra["client_poll_us"] = o.client_poll_us;
  r.extra["connections_ended"] = static_cast<std::int64_t>(readers.ended());
  char summary[200];
  std::snprintf(summary, sizeof summary, "fanout (xmpp MUC): %d room(s) x %d members, %d messages each (%s)",
                o.channels, o.members, o.messages, o.rate > 0 ? "paced" : "flat out");
  report(o, r, summary);
  for (auto& c : senders)
    if (c) beast::get_lowest_layer(*c->ws).close();
  ioc.poll();
  return r.lost || r.duplicated || r.reordered ? 3 : 0;
}

}  // namespace bench
