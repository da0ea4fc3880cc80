// parley-bench: a load generator for Parley's realtime gateway.
//
//   parley-bench idle --port 8080 --admin-key K --pid PID [--connections 10000] [--users 100]
//
// idle: opens N authenticated WebSocket connections (spread over 127.0.0.x source addresses
// to get past one address's port range), waits for every hello, and reports the server's RSS
// before and after (from /proc/PID/status), bytes per connection and the connect rate. Prints
// a summary and one JSON line. Never fails on speed; exits non-zero only when it could not run.
#include <sys/resource.h>

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
    std::fprintf(stderr, "usage: parley-bench idle --port P --admin-key K --pid PID [--connections N] [--users U]\n");
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
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  try {
    if (o.scenario == "idle") return run_idle(o);
    std::fprintf(stderr, "unknown scenario %s\n", o.scenario.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley-bench: %s\n", e.what());
    return 1;
  }
}
