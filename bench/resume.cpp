// resume: a reconnect storm during traffic. M members of one channel are online; a sender sends
// --messages messages at --rate over its socket. Every member keeps dropping its connection
// (abruptly, after a random --drop-min-ms..--drop-max-ms) and reconnecting after up to
// --offline-max-ms with ?resume=1 and a resume command carrying the last seq it holds. Once the
// sender's messages are all acknowledged the members stop dropping and wait until they hold
// every seq. Each member must end with every message exactly once and in order: lost,
// duplicated and reordered are counted per member over all its connections; a resume.too_far
// or an error frame also fails the run. Latency is measured on live deliveries (replayed ones
// are late by design and counted separately).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <random>

#include "scenarios.hpp"

namespace bench {

namespace {

struct Storm {
  std::string channel;
  std::int64_t total = 0;    // messages the sender will send
  std::int64_t acked = 0;    // ... and has had acknowledged
  bool sender_done = false;  // every send acknowledged (or the sender failed)
  std::uint64_t sender_errors = 0;
  std::uint64_t reconnects = 0, connect_failures = 0, too_far = 0, error_frames = 0, replayed = 0;
  std::vector<double> latency_ms;
  int finished = 0;
  std::mt19937 rng{42};
};

asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Handles one message.new frame; returns false for other frames.
void on_frame(Storm& s, SeqCheck& check, std::string_view frame, std::int64_t now) {
  if (frame.find("\"message.new\"") != std::string_view::npos) {
    boost::system::error_code ec;
    auto v = json::parse(frame, ec);
    if (ec) return;
    const auto& obj = v.as_object();
    auto before = check.duplicated;
    check.see(obj.at("seq").as_int64());
    if (check.duplicated != before && check.duplicated < 5)
      std::fprintf(stderr, "resume: duplicate seq %lld (contiguous %lld)%s\n",
                   static_cast<long long>(obj.at("seq").as_int64()), static_cast<long long>(check.contiguous()),
                   frame.find("\"replay\":true") != std::string_view::npos ? ", replayed" : ", live");
    if (frame.find("\"replay\":true") != std::string_view::npos) {
      ++s.replayed;
      return;
    }
    const auto& text = obj.at("data").at("message").at("text").as_string();
    s.latency_ms.push_back(static_cast<double>(now - std::strtoll(text.c_str(), nullptr, 10)) / 1e6);
  } else if (frame.find("\"resume.too_far\"") != std::string_view::npos) {
    ++s.too_far;
  } else if (frame.find("\"type\":\"error\"") != std::string_view::npos) {
    ++s.error_frames;
    if (s.error_frames < 5)
      std::fprintf(stderr, "resume: error frame %.*s\n", static_cast<int>(frame.size()), frame.data());
  }
}

asio::awaitable<void> member(const Options& o, Storm& s, SeqCheck& check, std::string token, int index) {
  auto done = [&] { return s.sender_done && check.contiguous() >= s.acked; };
  for (int round = 0; !done(); ++round) {
    std::shared_ptr<WebSocket> ws = co_await connect_parley_ws(o, token, index, "&resume=1");
    if (!ws) {
      ++s.connect_failures;
      co_await pause(std::chrono::milliseconds(50));
      continue;
    }
    if (round > 0) ++s.reconnects;
    auto resume = json::serialize(json::object{{"type", "resume"},
                                               {"id", "r" + std::to_string(round)},
                                               {"channels", json::object{{s.channel, check.contiguous()}}}});
    auto [wec, wn] = co_await ws->async_write(asio::buffer(resume), asio::as_tuple(asio::use_awaitable));
    if (wec) continue;
    // Unless the sender is done, drop the connection abruptly after a random while.
    asio::steady_timer drop(co_await asio::this_coro::executor);
    if (!s.sender_done) {
      std::uniform_int_distribution<int> stay(o.drop_min_ms, std::max(o.drop_min_ms, o.drop_max_ms));
      drop.expires_after(std::chrono::milliseconds(stay(s.rng)));
      drop.async_wait([ws](boost::system::error_code ec) {
        if (!ec) beast::get_lowest_layer(*ws).close();
      });
    }
    beast::flat_buffer buf;
    while (!done()) {
      auto [ec, n] = co_await ws->async_read(buf, asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      std::string data = beast::buffers_to_string(buf.data());
      buf.consume(buf.size());
      auto now = mono_ns();
      for_each_frame(data, [&](std::string_view f) { on_frame(s, check, f, now); });
    }
    drop.cancel();
    beast::get_lowest_layer(*ws).close();
    if (!done() && o.offline_max_ms > 0) {
      std::uniform_int_distribution<int> away(0, o.offline_max_ms);
      co_await pause(std::chrono::milliseconds(away(s.rng)));
    }
  }
  ++s.finished;
}

asio::awaitable<void> sender(const Options& o, Storm& s, std::string token) {
  auto ws = co_await connect_parley_ws(o, token, 0);
  if (!ws) {
    s.sender_errors = static_cast<std::uint64_t>(s.total);
    s.sender_done = true;
    co_return;
  }
  // Count acknowledgements on the side; the sender itself never waits for them.
  asio::co_spawn(
      co_await asio::this_coro::executor,
      [&s, &ws = *ws]() -> asio::awaitable<void> {
        beast::flat_buffer buf;
        while (s.acked + static_cast<std::int64_t>(s.sender_errors) < s.total) {
          auto [ec, n] = co_await ws.async_read(buf, asio::as_tuple(asio::use_awaitable));
          if (ec) break;
          std::string data = beast::buffers_to_string(buf.data());
          buf.consume(buf.size());
          for_each_frame(data, [&](std::string_view f) {
            if (f.find("\"type\":\"ack\"") != std::string_view::npos && f.find("\"id\":\"m") != std::string_view::npos)
              ++s.acked;
            else if (f.find("\"type\":\"error\"") != std::string_view::npos)
              ++s.sender_errors;
          });
        }
        s.sender_done = true;
      },
      asio::detached);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::string pad(static_cast<std::size_t>(std::max(0, o.text_bytes - 20)), 'x');
  auto next = Clock::now();
  for (std::int64_t i = 0; i < s.total; ++i) {
    if (o.rate > 0) {
      next += std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / o.rate));
      timer.expires_at(next);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    auto frame = json::serialize(json::object{{"type", "message.send"},
                                              {"id", "m" + std::to_string(i)},
                                              {"channel_id", s.channel},
                                              {"text", std::to_string(mono_ns()) + " " + pad}});
    auto [ec, n] = co_await ws->async_write(asio::buffer(frame), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
  }
  while (!s.sender_done) co_await pause(std::chrono::milliseconds(5));
  beast::get_lowest_layer(*ws).close();
  co_await pause(std::chrono::milliseconds(1));  // let the reader coroutine finish with the stream
}

}  // namespace

int run_resume(const Options& o) {
  SyncHttp h(o);
  auto app = create_app(h, o, "resume");
  std::vector<std::string> ids, tokens;
  for (int i = 0; i < o.members; ++i) {
    ids.push_back("r" + std::to_string(i));
    tokens.push_back(mint_token(h, app, ids.back()));
  }
  auto sender_token = mint_token(h, app, "sender");
  Storm s;
  s.channel = create_channel(h, sender_token, "resume", ids);
  s.total = o.messages;
  std::vector<SeqCheck> checks(static_cast<std::size_t>(o.members));
  asio::io_context ioc;
  double cpu_before = cpu_seconds(o.pid);
  auto start = Clock::now();
  for (int i = 0; i < o.members; ++i)
    asio::co_spawn(ioc, member(o, s, checks[static_cast<std::size_t>(i)], tokens[static_cast<std::size_t>(i)], i + 1),
                   asio::detached);
  asio::co_spawn(ioc, sender(o, s, sender_token), asio::detached);
  bool finished = run_until(ioc, o.timeout_seconds, [&] { return s.finished == o.members; });
  Result r;
  r.scenario = "resume";
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.cpu = cpu_seconds(o.pid) - cpu_before;
  r.rss = rss_bytes(o.pid);
  r.connections = o.members + 1;
  r.members_per_channel = o.members + 1;
  r.messages_sent = s.total;
  for (const auto& c : checks) {
    r.deliveries += static_cast<std::uint64_t>(c.distinct());
    r.lost += static_cast<std::uint64_t>(std::max<std::int64_t>(0, s.total - c.distinct()));
    r.duplicated += c.duplicated;
    r.reordered += c.reordered;
  }
  r.latency_ms = std::move(s.latency_ms);
  r.extra = {{"rate", o.rate},
             {"text_bytes", o.text_bytes},
             {"acked", s.acked},
             {"sender_errors", s.sender_errors},
             {"reconnects", s.reconnects},
             {"connect_failures", s.connect_failures},
             {"replayed", s.replayed},
             {"too_far", s.too_far},
             {"error_frames", s.error_frames},
             {"finished", finished},
             {"drop_ms", json::array{o.drop_min_ms, o.drop_max_ms}},
             {"offline_max_ms", o.offline_max_ms}};
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "resume: %d members, %lld messages (%lld acked), %llu reconnects, %llu deliveries replayed, "
                "%llu too_far, %llu error frames%s",
                o.members, static_cast<long long>(s.total), static_cast<long long>(s.acked),
                static_cast<unsigned long long>(s.reconnects), static_cast<unsigned long long>(s.replayed),
                static_cast<unsigned long long>(s.too_far), static_cast<unsigned long long>(s.error_frames),
                finished ? "" : " (TIMED OUT)");
  report(o, r, summary);
  bool ok = finished && s.acked == s.total && !r.lost && !r.duplicated && !r.reordered && !s.too_far &&
            !s.error_frames && !s.sender_errors;
  return ok ? 0 : 3;
}

}  // namespace bench
