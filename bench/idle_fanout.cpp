// idle: opens N authenticated WebSocket connections (spread over 127.0.0.x source addresses to
// get past one address's port range, at most 256 handshakes in flight), waits for every hello,
// and reports the server's RSS before and after, bytes per connection and the connect rate.
// fanout: C channels with M members each, every member online; one sender per channel sends
// over its socket; every member checks each channel's seqs (lost, duplicated, reordered) and
// the end-to-end latency (send time carried in the message, same-host monotonic clock).
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <map>
#include <thread>

#include "frame_reader.hpp"
#include "scenarios.hpp"

namespace bench {

namespace {

struct Idle {
  int connected = 0;
  int failed = 0;
  std::vector<std::unique_ptr<WebSocket>> sockets;
};

asio::awaitable<void> open_idle(const Options& o, Idle& st, std::string token, int index) {
  auto ws = co_await connect_parley_ws(o, token, index);
  if (!ws) {
    ++st.failed;
    co_return;
  }
  beast::flat_buffer buf;
  auto [rec, n] = co_await ws->async_read(buf, asio::as_tuple(asio::use_awaitable));
  if (rec || beast::buffers_to_string(buf.data()).find("\"hello\"") == std::string::npos) {
    ++st.failed;
    co_return;
  }
  ++st.connected;
  st.sockets.push_back(std::move(ws));
}

// One member: its socket until the readers take it, then what it saw, per channel. A member is
// read by one FrameReaders thread only, so its counts need no lock; they are added up at the end.
struct Member {
  std::unique_ptr<WebSocket> ws;
  std::map<std::string, std::int64_t, std::less<>> last_seq;  // per channel
  DeliveryCounts st;
};

// Connects a member and waits for its hello, so that nothing of the server's is left in Beast's
// buffer when the raw socket goes to the readers.
asio::awaitable<std::unique_ptr<WebSocket>> connect_member(const Options& o, const std::string& token, int index) {
  auto ws = co_await connect_parley_ws(o, token, index);
  if (!ws) co_return nullptr;
  beast::flat_buffer buf;
  auto [ec, n] = co_await ws->async_read(buf, asio::as_tuple(asio::use_awaitable));
  if (ec || beast::buffers_to_string(buf.data()).find("\"hello\"") == std::string::npos) co_return nullptr;
  co_return ws;
}

std::int64_t leading_number(std::string_view s) {
  std::int64_t n = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') break;
    n = n * 10 + (ch - '0');
  }
  return n;
}

// A message.new event: its channel, seq and the send time at the start of its text. The fast
// path reads Parley's envelope in the order Parley writes it ({"type":"event","event":
// "message.new","channel_id":…,"seq":…,"data":{"message":{…"text":"<ns> …"}}}); anything else
// goes through a full JSON parse. False for other events.
bool read_message_new(std::string_view frame, std::string& channel, std::int64_t& seq, std::int64_t& sent_ns) {
  static constexpr std::string_view kHead = R"({"type":"event","event":"message.new","channel_id":")";
  static constexpr std::string_view kSeq = R"(","seq":)";
  static constexpr std::string_view kText = R"("text":")";
  if (frame.substr(0, kHead.size()) == kHead) {
    auto id_end = frame.find('"', kHead.size());
    auto text = id_end == std::string_view::npos ? id_end : frame.find(kText, id_end);
    if (id_end != std::string_view::npos && frame.substr(id_end, kSeq.size()) == kSeq &&
        text != std::string_view::npos) {
      channel.assign(frame.substr(kHead.size(), id_end - kHead.size()));
      seq = leading_number(frame.substr(id_end + kSeq.size()));
      sent_ns = leading_number(frame.substr(text + kText.size()));
      return true;
    }
  }
  if (frame.find("\"message.new\"") == std::string_view::npos) return false;
  boost::system::error_code jec;
  auto v = json::parse(frame, jec);
  if (jec || !v.is_object() || v.as_object().if_contains("event") == nullptr || v.at("event") != "message.new")
    return false;
  const auto& o = v.as_object();
  channel.assign(o.at("channel_id").as_string());
  seq = o.at("seq").as_int64();
  sent_ns = leading_number(o.at("data").at("message").at("text").as_string());
  return true;
}

}  // namespace

int run_idle(const Options& o) {
  SyncHttp h(o);
  auto app = create_app(h, o, "idle");
  std::vector<std::string> tokens;
  for (int u = 0; u < o.users; ++u) tokens.push_back(mint_token(h, app, "bench" + std::to_string(u)));
  long before = rss_bytes(o.pid);
  double cpu_before = cpu_seconds(o.pid);
  asio::io_context ioc;
  Idle st;
  auto start = Clock::now();
  int next = 0;
  std::function<void()> launch = [&] {
    if (next >= o.connections) return;
    int i = next++;
    asio::co_spawn(ioc, open_idle(o, st, tokens[static_cast<std::size_t>(i) % tokens.size()], i),
                   [&](std::exception_ptr) { launch(); });
  };
  for (int i = 0; i < 256; ++i) launch();
  ioc.run();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let the server settle
  long after = rss_bytes(o.pid);
  Result r;
  r.scenario = "idle";
  r.connections = st.connected;
  r.seconds = secs;
  r.cpu = cpu_seconds(o.pid) - cpu_before;
  r.rss = after;
  r.bytes_per_connection = st.connected ? static_cast<double>(after - before) / st.connected : 0.0;
  r.extra = {{"failed", st.failed},
             {"connect_seconds", secs},
             {"connects_per_sec", st.connected / secs},
             {"server_rss_bytes_before", before}};
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "idle: %d connected, %d failed in %.2f s (%.0f connects/s); RSS %.1f -> %.1f MiB: %.0f bytes per "
                "connection",
                st.connected, st.failed, secs, st.connected / secs, before / 1048576.0, after / 1048576.0,
                *r.bytes_per_connection);
  report(o, r, summary);
  return st.connected > 0 && st.failed == 0 ? 0 : 3;
}

int run_fanout(const Options& o) {
  SyncHttp h(o);
  auto app = create_app(h, o, "fanout");
  std::vector<std::string> member_ids, member_tokens;
  for (int i = 0; i < o.members; ++i) {
    member_ids.push_back("m" + std::to_string(i));
    member_tokens.push_back(mint_token(h, app, member_ids.back()));
  }
  std::vector<std::string> channel_ids, sender_tokens;
  for (int c = 0; c < o.channels; ++c) {
    sender_tokens.push_back(mint_token(h, app, "s" + std::to_string(c)));
    channel_ids.push_back(create_channel(h, sender_tokens.back(), "fanout " + std::to_string(c), member_ids));
  }
  asio::io_context ioc;
  std::vector<Member> members(static_cast<std::size_t>(o.members));
  for (std::size_t i = 0; i < members.size(); ++i) members[i].st.prepare(o, i);
  std::vector<Member> senders(static_cast<std::size_t>(o.channels));
  int failed = 0;
  auto connect = [&](Member& m, const std::string& token, int index) -> asio::awaitable<void> {
    m.ws = co_await connect_member(o, token, index);
    if (!m.ws) ++failed;
  };
  for (int i = 0; i < o.members; ++i)
    asio::co_spawn(ioc, connect(members[static_cast<std::size_t>(i)], member_tokens[static_cast<std::size_t>(i)], i),
                   asio::detached);
  for (int c = 0; c < o.channels; ++c)
    asio::co_spawn(ioc, connect(senders[static_cast<std::size_t>(c)], sender_tokens[static_cast<std::size_t>(c)], c),
                   asio::detached);
  ioc.run();
  ioc.restart();
  if (failed) throw std::runtime_error(std::to_string(failed) + " sockets could not connect");
  // The members' sockets go to the epoll readers; the senders stay on the io_context.
  FrameReaders readers(o.client_threads, o.client_poll_us);
  for (std::size_t i = 0; i < members.size(); ++i) {
    auto sock = beast::get_lowest_layer(*members[i].ws).release_socket();
    readers.add(i, sock.release());
    members[i].ws.reset();
  }
  std::int64_t expected = static_cast<std::int64_t>(o.members) * o.channels * o.messages;
  std::atomic<std::int64_t> remaining{expected};
  double cpu_before = cpu_seconds(o.pid);
  auto start = Clock::now();
  // A sender keeps at most this many messages unanswered: the server's acks and its events to
  // the sender (a member too) then never pile up beyond what its queue limit allows. Without it
  // a flat-out writer could outrun the drainer until the server closed the sender's socket as a
  // slow consumer (4008), and the rest of the run counted as lost.
  constexpr std::int64_t kMaxUnanswered = 256;
  struct SenderState {
    std::int64_t answered = 0;  // acks and errors read (strand only)
    std::unique_ptr<asio::steady_timer> wake;
    std::string failure;  // why the sender's socket stopped early, if it did
  };
  std::vector<SenderState> sender_states(static_cast<std::size_t>(o.channels));
  for (int c = 0; c < o.channels; ++c) {
    WebSocket* ws = senders[static_cast<std::size_t>(c)].ws.get();
    // The sender's writer and drainer share one socket: one strand for both.
    auto strand = asio::make_strand(ioc);
    SenderState& state = sender_states[static_cast<std::size_t>(c)];
    state.wake = std::make_unique<asio::steady_timer>(strand, asio::steady_timer::time_point::max());
    asio::co_spawn(
        strand,
        [&o, &channel_ids, ws, c, &state]() -> asio::awaitable<void> {
          asio::steady_timer timer(co_await asio::this_coro::executor);
          std::string pad(static_cast<std::size_t>(std::max(0, o.text_bytes - 20)), 'x');
          // Paced: a message is sent when its time has come. The timer wakes at most every
          // 500 µs and everything due by then goes out (each stamped when it is written), so
          // that at thousands of messages per second the generator does not spend its CPU
          // re-arming a timer per message.
          constexpr auto kMinWait = std::chrono::microseconds(500);
          auto next = Clock::now();
          auto woke = next - kMinWait;
          for (int i = 0; i < o.messages; ++i) {
            while (i - state.answered >= kMaxUnanswered && state.failure.empty()) {
              state.wake->expires_at(asio::steady_timer::time_point::max());
              co_await state.wake->async_wait(asio::as_tuple(asio::use_awaitable));
            }
            if (!state.failure.empty()) co_return;
            if (o.rate > 0) {
              next += std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 * o.channels / o.rate));
              if (next > Clock::now()) {
                timer.expires_at(std::max(next, woke + kMinWait));
                co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
                woke = Clock::now();
              }
            }
            std::string text = std::to_string(mono_ns()) + " " + pad;
            auto frame = json::serialize(json::object{
                {"type", "message.send"}, {"channel_id", channel_ids[static_cast<std::size_t>(c)]}, {"text", text}});
            auto [ec, n] = co_await ws->async_write(asio::buffer(frame), asio::as_tuple(asio::use_awaitable));
            if (ec) {
              if (state.failure.empty()) state.failure = "write: " + ec.message();
              co_return;
            }
          }
        },
        asio::detached);
    // Drain the sender's own acks and events, counting the answers.
    asio::co_spawn(
        strand,
        [ws, &state]() -> asio::awaitable<void> {
          beast::flat_buffer buf;
          for (;;) {
            auto [ec, n] = co_await ws->async_read(buf, asio::as_tuple(asio::use_awaitable));
            if (ec) {
              if (state.failure.empty() && ec != websocket::error::closed && ec != asio::error::operation_aborted)
                state.failure = "read: " + ec.message();
              if (state.failure.empty() && ec == websocket::error::closed)
                state.failure = "closed by the server: " + std::to_string(ws->reason().code) + " " +
                                std::string(ws->reason().reason.data(), ws->reason().reason.size());
              state.wake->cancel();
              co_return;
            }
            std::int64_t answers = 0;
            std::string data = beast::buffers_to_string(buf.data());
            for_each_frame(data, [&](std::string_view f) {
              if (f.starts_with(R"({"type":"ack")") || f.starts_with(R"({"type":"error")")) ++answers;
            });
            buf.consume(buf.size());
            if (answers > 0) {
              state.answered += answers;
              state.wake->cancel();
            }
          }
        },
        asio::detached);
  }
  std::thread sending([&ioc] { ioc.run(); });
  auto on_message = [&](std::size_t index, std::string_view data) {
    Member& m = members[index];
    std::int64_t now = mono_ns();
    thread_local std::string channel;
    std::int64_t seen = 0;  // one update of the shared counter per read, not per event
    for_each_frame(data, [&](std::string_view frame) {
      std::int64_t seq = 0, sent = 0;
      if (!read_message_new(frame, channel, seq, sent)) return;
      auto it = m.last_seq.find(channel);
      if (it == m.last_seq.end()) it = m.last_seq.emplace(channel, 0).first;
      m.st.count(seq, it->second, sent, now);
      ++seen;
    });
    if (seen > 0) remaining.fetch_sub(seen, std::memory_order_relaxed);
  };
  readers.run(
      on_message, [&] { return remaining.load(std::memory_order_relaxed) <= 0; },
      std::chrono::seconds(o.timeout_seconds));
  ioc.stop();
  sending.join();
  DeliveryCounts st;
  for (auto& m : members) st.add(std::move(m.st));
  Result r =
      fanout_result(o, "parley", std::move(st), expected, std::chrono::duration<double>(Clock::now() - start).count(),
                    cpu_seconds(o.pid) - cpu_before);
  r.extra["client_threads"] = o.client_threads;
  r.extra["client_poll_us"] = o.client_poll_us;
  r.extra["connections_ended"] = static_cast<std::int64_t>(readers.ended());
  r.extra["sender_failure"] = nullptr;
  for (const auto& sender : sender_states) {
    if (sender.failure.empty()) continue;
    r.extra["sender_failure"] = sender.failure;
    std::fprintf(stderr, "a sender stopped early: %s\n", sender.failure.c_str());
    break;
  }
  char summary[200];
  std::snprintf(summary, sizeof summary, "fanout: %d channel(s) x %d members, %d messages each (%s)", o.channels,
                o.members, o.messages, o.rate > 0 ? "paced" : "flat out");
  report(o, r, summary);
  return r.lost || r.duplicated || r.reordered ? 3 : 0;
}

}  // namespace bench
