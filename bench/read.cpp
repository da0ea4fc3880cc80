// read: the REST read paths under concurrency. Setup: --users users, all members of --channels
// group channels holding --messages messages each (posted round-robin by the users, so every
// user has unread messages from the others). Then --concurrency keep-alive clients issue
// --requests requests in all, alternating the channel list with unread counts
// (GET /v1/channels?limit=--page) and a history page (GET /v1/channels/{id}/messages, the newest
// page or one before a random seq). Every answer is checked: status 200, the page sizes, seqs
// ascending and consecutive, and each listed channel's unread_count equal to the messages the
// other users posted after the user's own last message. Reports latency percentiles overall and per kind.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cstdio>
#include <random>

#include "scenarios.hpp"

namespace bench {

namespace {

struct ReadSetup {
  std::vector<std::string> tokens;
  std::vector<std::string> channels;
  int users = 0, messages = 0;
};

struct ReadStats {
  std::vector<double> all_ms, list_ms, history_ms;
  std::uint64_t requests = 0, errors = 0;
  int next = 0;  // requests handed out
  int finished = 0;
};

void fail(ReadStats& st, const std::string& what) {
  if (st.errors++ < 5) std::fprintf(stderr, "read: %s\n", what.c_str());
}

// A user's unread count in a channel: the messages after their own last one (posting moves
// the sender's read position; message k was posted by user k % users).
std::int64_t unread_for(const ReadSetup& s, int u) {
  if (u >= s.messages) return s.messages;
  std::int64_t last_own = (s.messages - 1) - ((s.messages - 1 - u) % s.users);
  return s.messages - 1 - last_own;
}

void check_list(const Options& o, const ReadSetup& s, ReadStats& st, int user, const json::value& v) {
  const auto& items = v.at("items").as_array();
  auto want = std::min<std::size_t>(s.channels.size(), static_cast<std::size_t>(o.page));
  if (items.size() != want) return fail(st, "channel list: " + std::to_string(items.size()) + " items");
  for (const auto& it : items) {
    if (it.at("unread_count").as_int64() != unread_for(s, user))
      return fail(st, "unread_count " + std::to_string(it.at("unread_count").as_int64()) + ", expected " +
                          std::to_string(unread_for(s, user)));
  }
}

void check_history(const Options& o, ReadSetup const& s, ReadStats& st, std::int64_t before, const json::value& v) {
  const auto& items = v.at("items").as_array();
  std::int64_t top = before > 0 ? before - 1 : s.messages;
  auto want = std::min<std::int64_t>(top, o.page);
  if (static_cast<std::int64_t>(items.size()) != want)
    return fail(st, "history: " + std::to_string(items.size()) + " items, expected " + std::to_string(want));
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (items[k].at("seq").as_int64() != top - want + 1 + static_cast<std::int64_t>(k))
      return fail(st, "history: seqs not consecutive");
  }
}

asio::awaitable<void> reader(const Options& o, const ReadSetup& s, ReadStats& st, int client) {
  AsyncHttp http_client(o, client);
  int user = client % s.users;
  std::string auth = "Bearer " + s.tokens[static_cast<std::size_t>(user)];
  std::mt19937 rng(static_cast<unsigned>(client));
  std::uniform_int_distribution<std::size_t> pick(0, s.channels.size() - 1);
  std::uniform_int_distribution<std::int64_t> seq(2, std::max(2, s.messages));
  while (st.next < o.requests) {
    int n = st.next++;
    bool list = n % 2 == 0;
    std::int64_t before = (n / 2) % 2 == 1 ? seq(rng) : 0;
    std::string target = list ? "/v1/channels?limit=" + std::to_string(o.page)
                              : "/v1/channels/" + s.channels[pick(rng)] + "/messages?limit=" + std::to_string(o.page) +
                                    (before ? "&before_seq=" + std::to_string(before) : "");
    std::string body;
    auto t0 = mono_ns();
    int status = co_await http_client.call(http::verb::get, target, auth, {}, body);
    double ms = static_cast<double>(mono_ns() - t0) / 1e6;
    ++st.requests;
    if (status != 200) {
      fail(st, target + " answered " + std::to_string(status));
      continue;
    }
    st.all_ms.push_back(ms);
    (list ? st.list_ms : st.history_ms).push_back(ms);
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec) {
      fail(st, "invalid JSON from " + target);
      continue;
    }
    try {
      if (list)
        check_list(o, s, st, user, v);
      else
        check_history(o, s, st, before, v);
    } catch (const std::exception& e) {
      fail(st, std::string("unexpected answer shape: ") + e.what());
    }
  }
  ++st.finished;
}

}  // namespace

int run_read(const Options& o) {
  SyncHttp h(o);
  auto app = create_app(h, o, "read");
  ReadSetup s;
  s.users = std::max(1, o.users);
  s.messages = o.messages;
  std::vector<std::string> ids;
  for (int u = 0; u < s.users; ++u) {
    ids.push_back("reader" + std::to_string(u));
    s.tokens.push_back(mint_token(h, app, ids.back()));
  }
  std::vector<std::string> others(ids.begin() + 1, ids.end());
  std::string pad(static_cast<std::size_t>(std::max(0, o.text_bytes - 10)), 'x');
  auto setup_start = Clock::now();
  for (int c = 0; c < o.channels; ++c) {
    s.channels.push_back(create_channel(h, s.tokens[0], "read " + std::to_string(c), others));
    for (int k = 0; k < s.messages; ++k) {
      h.call(http::verb::post, "/v1/channels/" + s.channels.back() + "/messages",
             "Bearer " + s.tokens[static_cast<std::size_t>(k % s.users)],
             json::serialize(json::object{{"text", std::to_string(k) + " " + pad}}));
    }
  }
  double setup_secs = std::chrono::duration<double>(Clock::now() - setup_start).count();
  asio::io_context ioc;
  ReadStats st;
  double cpu_before = cpu_seconds(o.pid);
  auto start = Clock::now();
  for (int k = 0; k < o.concurrency; ++k) asio::co_spawn(ioc, reader(o, s, st, k), asio::detached);
  bool finished = run_until(ioc, o.timeout_seconds, [&] { return st.finished == o.concurrency; });
  Result r;
  r.scenario = "read";
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.cpu = cpu_seconds(o.pid) - cpu_before;
  r.rss = rss_bytes(o.pid);
  r.connections = o.concurrency;
  r.members_per_channel = s.users;
  r.latency_ms = st.all_ms;
  double rps = r.seconds > 0 ? static_cast<double>(st.requests) / r.seconds : 0;
  r.extra = {{"users", s.users},
             {"channels", o.channels},
             {"messages_per_channel", s.messages},
             {"page", o.page},
             {"requests", st.requests},
             {"errors", st.errors},
             {"requests_per_sec", rps},
             {"requests_per_cpu_second", r.cpu > 0 ? static_cast<double>(st.requests) / r.cpu : 0.0},
             {"list_latency_ms", latency_json(percentiles(st.list_ms))},
             {"history_latency_ms", latency_json(percentiles(st.history_ms))},
             {"setup_seconds", setup_secs},
             {"finished", finished}};
  auto lp = percentiles(st.list_ms), hp = percentiles(st.history_ms);
  char summary[400];
  std::snprintf(summary, sizeof summary,
                "read: %d clients, %llu requests (%llu errors) in %.2f s = %.0f requests/s; channel list (%d channels, "
                "page %d) p50 %.2f p99 %.2f ms; history page p50 %.2f p99 %.2f ms",
                o.concurrency, static_cast<unsigned long long>(st.requests), static_cast<unsigned long long>(st.errors),
                r.seconds, rps, o.channels, o.page, lp.p50, lp.p99, hp.p50, hp.p99);
  report(o, r, summary);
  return finished && st.errors == 0 && st.requests == static_cast<std::uint64_t>(o.requests) ? 0 : 3;
}

}  // namespace bench
