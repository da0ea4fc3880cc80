// parley-bench: a load generator for Parley's realtime gateway.
//
//   parley-bench idle   --port 8080 --admin-key K --pid PID [--connections 10000] [--users 100]
//   parley-bench fanout --port 8080 --admin-key K --pid PID [--channels 1] [--members 1000]
//                       [--messages 200] [--rate 0 (flat out) | msgs/s] [--text-bytes 100]
//   either with --spawn build/parley instead of --port/--admin-key/--pid: starts its own server
//
// idle: opens N authenticated WebSocket connections (spread over 127.0.0.x source addresses
// to get past one address's port range), waits for every hello, and reports the server's RSS
// before and after (from /proc/PID/status), bytes per connection and the connect rate.
// fanout: C channels with M members each, every member online; one sender per channel sends
// over its socket; every member checks each channel's seqs (lost, duplicated, reordered) and
// the end-to-end latency (send time carried in the message, same-host monotonic clock).
// Prints a summary and one JSON line. Exits 3 when a correctness counter is not zero (the
// smoke test relies on it); never fails on speed.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string scenario;
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  std::string admin_key;
  int pid = 0;
  int connections = 10000;
  int users = 100;
  int source_addresses = 8;
  int channels = 1;
  int members = 1000;
  int messages = 200;
  double rate = 0;  // messages per second over all channels; 0: flat out
  int text_bytes = 100;
  int timeout_seconds = 60;
  std::string spawn;  // path of a parley binary to start
};

long rss_bytes(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) * 1024;
  }
  return -1;
}

double cpu_seconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = content.rfind(')');
  std::istringstream rest(content.substr(close + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

// One synchronous HTTP request (setup only).
json::value request(const Options& o, http::verb verb, const std::string& target, const std::string& auth,
                    const std::string& body) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(asio::ip::make_address(o.host), o.port));
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, o.host);
  req.set(http::field::authorization, auth);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  if (res.result_int() >= 300)
    throw std::runtime_error(target + " answered " + std::to_string(res.result_int()) + ": " + res.body());
  return json::parse(res.body());
}

std::vector<std::string> mint_tokens(const Options& o, int users) {
  auto app = request(o, http::verb::post, "/v1/admin/apps", "Bearer " + o.admin_key,
                     R"({"name":"bench )" + parley::crypto::random_id("", 6) + R"("})");
  std::string basic = "Basic " + parley::crypto::base64_encode(std::string(app.at("api_key").as_string()) + ":" +
                                                               std::string(app.at("api_secret").as_string()));
  std::vector<std::string> tokens;
  for (int u = 0; u < users; ++u) {
    auto pair = request(o, http::verb::post, "/v1/auth/token", basic,
                        R"({"user_id":"bench)" + std::to_string(u) + R"(","ttl_seconds":86400})");
    tokens.emplace_back(pair.at("access_token").as_string());
  }
  return tokens;
}

struct Idle {
  int connected = 0;
  int failed = 0;
  std::vector<std::unique_ptr<websocket::stream<beast::tcp_stream>>> sockets;
};

asio::awaitable<void> open_one(const Options& o, Idle& st, std::string token, int index) {
  auto ex = co_await asio::this_coro::executor;
  auto ws = std::make_unique<websocket::stream<beast::tcp_stream>>(ex);
  auto& sock = beast::get_lowest_layer(*ws).socket();
  boost::system::error_code ec;
  sock.open(tcp::v4(), ec);
  std::string src = "127.0.0." + std::to_string(1 + index % o.source_addresses);
  sock.bind(tcp::endpoint(asio::ip::make_address(src), 0), ec);
  auto [cec] = co_await beast::get_lowest_layer(*ws).async_connect(
      tcp::endpoint(asio::ip::make_address(o.host), o.port), asio::as_tuple(asio::use_awaitable));
  if (cec) {
    ++st.failed;
    co_return;
  }
  auto [hec] = co_await ws->async_handshake(o.host, "/v1/ws?token=" + token, asio::as_tuple(asio::use_awaitable));
  if (hec) {
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

int run_idle(const Options& o) {
  auto tokens = mint_tokens(o, o.users);
  long before = rss_bytes(o.pid);
  double cpu_before = cpu_seconds(o.pid);
  asio::io_context ioc;
  Idle st;
  auto start = Clock::now();
  // Bounded concurrency: at most 256 handshakes in flight.
  int next = 0;
  std::function<void()> launch = [&] {
    if (next >= o.connections) return;
    int i = next++;
    asio::co_spawn(ioc, open_one(o, st, tokens[i % tokens.size()], i), [&](std::exception_ptr) { launch(); });
  };
  for (int i = 0; i < 256; ++i) launch();
  ioc.run();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let the server settle
  long after = rss_bytes(o.pid);
  double cpu = cpu_seconds(o.pid) - cpu_before;
  double per_conn = st.connected ? static_cast<double>(after - before) / st.connected : 0;
  std::printf("idle: %d connected, %d failed in %.2f s (%.0f connects/s)\n", st.connected, st.failed, secs,
              st.connected / secs);
  std::printf("server RSS: %.1f MiB before, %.1f MiB after: %.0f bytes per connection; server CPU %.2f s\n",
              before / 1048576.0, after / 1048576.0, per_conn, cpu);
  json::object out{{"scenario", "idle"},          {"target", "parley"},
                   {"connections", st.connected}, {"failed", st.failed},
                   {"connect_seconds", secs},     {"connects_per_sec", st.connected / secs},
                   {"server_cpu_seconds", cpu},   {"server_rss_bytes_before", before},
                   {"server_rss_bytes", after},   {"bytes_per_connection", per_conn}};
  std::cout << json::serialize(out) << std::endl;
  return st.connected > 0 ? 0 : 1;
}

std::int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Starts `binary serve` on a free port with a fresh data folder; fills port/pid/admin key.
struct Spawned {
  pid_t pid = 0;
  std::string dir;
  ~Spawned() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      int st = 0;
      waitpid(pid, &st, 0);
    }
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
};

void spawn_server(Options& o, const std::string& binary, Spawned& sp) {
  sp.dir = (std::filesystem::temp_directory_path() / ("parley-bench-" + parley::crypto::random_id("", 8))).string();
  std::filesystem::create_directories(sp.dir);
  o.admin_key = "bench-admin-key";
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  sp.pid = fork();
  if (sp.pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execl(binary.c_str(), binary.c_str(), "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", sp.dir.c_str(),
          "--admin-key", "bench-admin-key", "--demo", "false", "--log-level", "warn", "--access-log", "false",
          "--rate-limit-ip-per-sec", "1000000000", "--rate-limit-ip-burst", "1000000000", "--rate-limit-user-per-sec",
          "1000000000", "--rate-limit-user-burst", "1000000000", "--ws-rate-per-sec", "1000000000", "--ws-rate-burst",
          "1000000000", "--shutdown-grace-ms", "500", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[256];
  while (out.find("listening on http://") == std::string::npos ||
         out.find('\n', out.find("listening")) == std::string::npos) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) throw std::runtime_error("the spawned server did not start");
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  auto at = out.find("listening on http://");
  auto colon = out.find(':', out.find("127.0.0.1", at));
  o.port = static_cast<unsigned short>(std::stoi(out.substr(colon + 1)));
  o.pid = sp.pid;
}

struct Member {
  std::unique_ptr<websocket::stream<beast::tcp_stream>> ws;
  std::map<std::string, std::int64_t> last_seq;  // per channel
};

struct FanoutStats {
  std::uint64_t deliveries = 0, lost = 0, duplicated = 0, reordered = 0;
  std::vector<double> latency_ms;
  std::int64_t expected_per_member = 0;
};

asio::awaitable<void> member_reader(Member& m, FanoutStats& st, std::int64_t& remaining) {
  beast::flat_buffer buf;
  for (;;) {
    auto [ec, n] = co_await m.ws->async_read(buf, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    std::string data = beast::buffers_to_string(buf.data());
    buf.consume(buf.size());
    std::size_t pos = 0;
    std::int64_t now = mono_ns();
    while (pos < data.size()) {
      auto nl = data.find('\n', pos);
      if (nl == std::string::npos) nl = data.size();
      std::string_view frame(data.data() + pos, nl - pos);
      pos = nl + 1;
      if (frame.find("\"message.new\"") == std::string_view::npos) continue;
      boost::system::error_code jec;
      auto v = json::parse(frame, jec);
      if (jec) continue;
      const auto& o = v.as_object();
      std::string channel(o.at("channel_id").as_string());
      std::int64_t seq = o.at("seq").as_int64();
      auto& last = m.last_seq[channel];
      if (seq == last + 1) {
        ++st.deliveries;
      } else if (seq <= last) {
        ++(seq == last ? st.duplicated : st.reordered);
      } else {
        st.lost += static_cast<std::uint64_t>(seq - last - 1);
        ++st.deliveries;
      }
      if (seq > last) last = seq;
      const auto& text = o.at("data").at("message").at("text").as_string();
      auto t0 = std::strtoll(text.c_str(), nullptr, 10);
      st.latency_ms.push_back(static_cast<double>(now - t0) / 1e6);
      if (--remaining == 0) co_return;
    }
  }
}

asio::awaitable<void> connect_member(const Options& o, Member& m, const std::string& token, int index, int& failed) {
  auto ex = co_await asio::this_coro::executor;
  m.ws = std::make_unique<websocket::stream<beast::tcp_stream>>(ex);
  auto& sock = beast::get_lowest_layer(*m.ws).socket();
  boost::system::error_code ec;
  sock.open(tcp::v4(), ec);
  sock.bind(tcp::endpoint(asio::ip::make_address("127.0.0." + std::to_string(1 + index % o.source_addresses)), 0), ec);
  auto [cec] = co_await beast::get_lowest_layer(*m.ws).async_connect(
      tcp::endpoint(asio::ip::make_address(o.host), o.port), asio::as_tuple(asio::use_awaitable));
  if (cec) {
    ++failed;
    co_return;
  }
  auto [hec] = co_await m.ws->async_handshake(o.host, "/v1/ws?token=" + token, asio::as_tuple(asio::use_awaitable));
  if (hec) ++failed;
}

int run_fanout(const Options& o) {
  // Setup over REST: an app, members, channels.
  auto app = request(o, http::verb::post, "/v1/admin/apps", "Bearer " + o.admin_key,
                     R"({"name":"fanout","settings":{"max_channel_members":100000}})");
  std::string basic = "Basic " + parley::crypto::base64_encode(std::string(app.at("api_key").as_string()) + ":" +
                                                               std::string(app.at("api_secret").as_string()));
  auto mint = [&](const std::string& user) {
    auto pair =
        request(o, http::verb::post, "/v1/auth/token", basic, R"({"user_id":")" + user + R"(","ttl_seconds":86400})");
    return std::string(pair.at("access_token").as_string());
  };
  std::vector<std::string> member_tokens;
  for (int i = 0; i < o.members; ++i) member_tokens.push_back(mint("m" + std::to_string(i)));
  std::vector<std::string> channel_ids, sender_tokens;
  for (int c = 0; c < o.channels; ++c) {
    std::string sender = "s" + std::to_string(c);
    sender_tokens.push_back(mint(sender));
    auto ch = request(o, http::verb::post, "/v1/channels", "Bearer " + sender_tokens.back(),
                      R"({"type":"group","name":"fanout )" + std::to_string(c) + R"("})");
    std::string id(ch.at("channel").at("id").as_string());
    channel_ids.push_back(id);
    for (int i = 0; i < o.members; i += 100) {
      json::array ids;
      for (int j = i; j < std::min(o.members, i + 100); ++j) ids.emplace_back("m" + std::to_string(j));
      request(o, http::verb::post, "/v1/channels/" + id + "/members", "Bearer " + sender_tokens.back(),
              json::serialize(json::object{{"user_ids", ids}}));
    }
  }
  asio::io_context ioc;
  std::vector<Member> members(static_cast<std::size_t>(o.members));
  int failed = 0;
  for (int i = 0; i < o.members; ++i) {
    asio::co_spawn(
        ioc,
        connect_member(o, members[static_cast<std::size_t>(i)], member_tokens[static_cast<std::size_t>(i)], i, failed),
        asio::detached);
  }
  ioc.run();
  ioc.restart();
  if (failed) throw std::runtime_error(std::to_string(failed) + " members could not connect");
  // Senders: one socket per channel.
  std::vector<Member> senders(static_cast<std::size_t>(o.channels));
  for (int c = 0; c < o.channels; ++c) {
    asio::co_spawn(
        ioc,
        connect_member(o, senders[static_cast<std::size_t>(c)], sender_tokens[static_cast<std::size_t>(c)], c, failed),
        asio::detached);
  }
  ioc.run();
  ioc.restart();
  FanoutStats st;
  std::int64_t remaining = static_cast<std::int64_t>(o.members) * o.channels * o.messages;
  for (auto& m : members) asio::co_spawn(ioc, member_reader(m, st, remaining), asio::detached);
  double cpu_before = cpu_seconds(o.pid);
  auto start = Clock::now();
  for (int c = 0; c < o.channels; ++c) {
    asio::co_spawn(
        ioc,
        [&, c]() -> asio::awaitable<void> {
          auto& ws = *senders[static_cast<std::size_t>(c)].ws;
          asio::steady_timer timer(co_await asio::this_coro::executor);
          std::string pad(static_cast<std::size_t>(std::max(0, o.text_bytes - 20)), 'x');
          auto next = Clock::now();
          for (int i = 0; i < o.messages; ++i) {
            if (o.rate > 0) {
              next += std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 * o.channels / o.rate));
              timer.expires_at(next);
              co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            std::string text = std::to_string(mono_ns()) + " " + pad;
            auto frame = json::serialize(json::object{
                {"type", "message.send"}, {"channel_id", channel_ids[static_cast<std::size_t>(c)]}, {"text", text}});
            auto [ec, n] = co_await ws.async_write(asio::buffer(frame), asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
          }
        },
        asio::detached);
    // Drain the sender's own acks and events so its queue never fills.
    asio::co_spawn(
        ioc,
        [&, c]() -> asio::awaitable<void> {
          beast::flat_buffer buf;
          for (;;) {
            auto [ec, n] =
                co_await senders[static_cast<std::size_t>(c)].ws->async_read(buf, asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            buf.consume(buf.size());
          }
        },
        asio::detached);
  }
  asio::steady_timer deadline(ioc);
  deadline.expires_after(std::chrono::seconds(o.timeout_seconds));
  deadline.async_wait([&](boost::system::error_code) { ioc.stop(); });
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor);
        while (remaining > 0) {
          t.expires_after(std::chrono::milliseconds(5));
          co_await t.async_wait(asio::use_awaitable);
        }
        ioc.stop();
      },
      asio::detached);
  ioc.run();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  double cpu = cpu_seconds(o.pid) - cpu_before;
  std::uint64_t expected = static_cast<std::uint64_t>(o.members) * o.channels * o.messages;
  // Anything not delivered by the deadline counts as lost.
  std::uint64_t lost = st.lost + (expected > st.deliveries + st.lost ? expected - st.deliveries - st.lost : 0);
  std::sort(st.latency_ms.begin(), st.latency_ms.end());
  auto pct = [&](double q) {
    return st.latency_ms.empty()
               ? 0.0
               : st.latency_ms[std::min(st.latency_ms.size() - 1, static_cast<std::size_t>(q * st.latency_ms.size()))];
  };
  double dps = st.deliveries / secs;
  std::printf("fanout: %d channel(s) x %d members, %d messages each (%s): %llu deliveries in %.2f s = %.0f/s\n",
              o.channels, o.members, o.messages, o.rate > 0 ? "paced" : "flat out",
              static_cast<unsigned long long>(st.deliveries), secs, dps);
  std::printf(
      "latency ms: p50 %.2f p90 %.2f p99 %.2f max %.2f; server CPU %.2f s = %.0f deliveries/CPU-s; "
      "lost %llu duplicated %llu reordered %llu\n",
      pct(0.5), pct(0.9), pct(0.99), pct(1.0), cpu, cpu > 0 ? st.deliveries / cpu : 0.0,
      static_cast<unsigned long long>(lost), static_cast<unsigned long long>(st.duplicated),
      static_cast<unsigned long long>(st.reordered));
  json::object out{
      {"scenario", "fanout"},
      {"target", "parley"},
      {"connections", o.members + o.channels},
      {"members_per_channel", o.members},
      {"channels", o.channels},
      {"messages_sent", o.messages * o.channels},
      {"deliveries", st.deliveries},
      {"deliveries_per_sec", dps},
      {"server_cpu_seconds", cpu},
      {"deliveries_per_cpu_second", cpu > 0 ? st.deliveries / cpu : 0.0},
      {"latency_ms", json::object{{"p50", pct(0.5)}, {"p90", pct(0.9)}, {"p99", pct(0.99)}, {"max", pct(1.0)}}},
      {"lost", lost},
      {"duplicated", st.duplicated},
      {"reordered", st.reordered},
      {"server_rss_bytes", rss_bytes(o.pid)}};
  std::cout << json::serialize(out) << std::endl;
  return lost || st.duplicated || st.reordered ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rlimit want{1 << 20, 1 << 20};
  if (setrlimit(RLIMIT_NOFILE, &want) != 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  Options o;
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: parley-bench idle|fanout [--spawn build/parley | --port P --admin-key K --pid PID] ...\n");
    return 2;
  }
  o.scenario = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--port")
      o.port = static_cast<unsigned short>(std::stoi(v));
    else if (k == "--host")
      o.host = v;
    else if (k == "--admin-key")
      o.admin_key = v;
    else if (k == "--pid")
      o.pid = std::stoi(v);
    else if (k == "--connections")
      o.connections = std::stoi(v);
    else if (k == "--users")
      o.users = std::stoi(v);
    else if (k == "--channels")
      o.channels = std::stoi(v);
    else if (k == "--members")
      o.members = std::stoi(v);
    else if (k == "--messages")
      o.messages = std::stoi(v);
    else if (k == "--rate")
      o.rate = std::stod(v);
    else if (k == "--text-bytes")
      o.text_bytes = std::stoi(v);
    else if (k == "--timeout")
      o.timeout_seconds = std::stoi(v);
    else if (k == "--spawn")
      o.spawn = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  try {
    Spawned sp;
    if (!o.spawn.empty()) spawn_server(o, o.spawn, sp);
    if (o.scenario == "idle") return run_idle(o);
    if (o.scenario == "fanout") return run_fanout(o);
    std::fprintf(stderr, "unknown scenario %s\n", o.scenario.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley-bench: %s\n", e.what());
    return 1;
  }
}
