#include "common.hpp"

#include <thread>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/crypto.hpp"

namespace bench {

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
  if (close == std::string::npos) return 0;
  std::istringstream rest(content.substr(close + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

std::int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

Spawned::~Spawned() {
  if (pid > 0) {
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
  }
  if (!dir.empty()) std::filesystem::remove_all(dir);
}

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
          "--admin-key", "bench-admin-key", "--demo", "false", "--web-dir", "off", "--log-level", "warn",
          "--access-log", "false", "--max-connections", "200000", "--rate-limit-ip-per-sec", "1000000000",
          "--rate-limit-ip-burst", "1000000000", "--rate-limit-user-per-sec", "1000000000", "--rate-limit-user-burst",
          "1000000000", "--ws-rate-per-sec", "1000000000", "--ws-rate-burst", "1000000000", "--shutdown-grace-ms",
          "500", static_cast<char*>(nullptr));
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

SyncHttp::SyncHttp(const Options& o) : o_(o) {}
SyncHttp::~SyncHttp() = default;

json::value SyncHttp::call(http::verb verb, const std::string& target, const std::string& auth,
                           const std::string& body) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, o_.host);
  req.set(http::field::authorization, auth);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  for (int attempt = 0;; ++attempt) {
    try {
      if (!stream_) {
        stream_ = std::make_unique<beast::tcp_stream>(ioc_);
        stream_->connect(tcp::endpoint(asio::ip::make_address(o_.host), o_.port));
      }
      http::write(*stream_, req);
      beast::flat_buffer buf;
      http::response<http::string_body> res;
      http::read(*stream_, buf, res);
      if (!res.keep_alive()) stream_.reset();
      if (res.result_int() >= 300)
        throw std::runtime_error(target + " answered " + std::to_string(res.result_int()) + ": " + res.body());
      return res.body().empty() ? json::value() : json::parse(res.body());
    } catch (const boost::system::system_error&) {
      stream_.reset();  // the server closed a kept-alive connection: once more on a new one
      if (attempt > 0) throw;
    }
  }
}

App create_app(SyncHttp& h, const Options& o, const std::string& name) {
  auto app = h.call(http::verb::post, "/v1/admin/apps", "Bearer " + o.admin_key,
                    json::serialize(json::object{{"name", name + " " + parley::crypto::random_id("", 6)},
                                                 {"settings", json::object{{"max_channel_members", 100000},
                                                                           {"rate_limit_user_per_sec", 100000},
                                                                           {"rate_limit_user_burst", 1000000}}}}));
  return {"Basic " + parley::crypto::base64_encode(std::string(app.at("api_key").as_string()) + ":" +
                                                   std::string(app.at("api_secret").as_string()))};
}

std::string mint_token(SyncHttp& h, const App& app, const std::string& user_id) {
  auto pair = h.call(http::verb::post, "/v1/auth/token", app.basic,
                     json::serialize(json::object{{"user_id", user_id}, {"ttl_seconds", 86400}}));
  return std::string(pair.at("access_token").as_string());
}

std::string create_channel(SyncHttp& h, const std::string& owner_token, const std::string& name,
                           const std::vector<std::string>& members) {
  auto ch = h.call(http::verb::post, "/v1/channels", "Bearer " + owner_token,
                   json::serialize(json::object{{"type", "group"}, {"name", name}}));
  std::string id(ch.at("channel").at("id").as_string());
  for (std::size_t i = 0; i < members.size(); i += 100) {
    json::array ids;
    for (std::size_t j = i; j < std::min(members.size(), i + 100); ++j) ids.emplace_back(members[j]);
    h.call(http::verb::post, "/v1/channels/" + id + "/members", "Bearer " + owner_token,
           json::serialize(json::object{{"user_ids", ids}}));
  }
  return id;
}

tcp::endpoint source_for(const Options& o, int index) {
  return {asio::ip::make_address("127.0.0." + std::to_string(1 + index % std::max(1, o.source_addresses))), 0};
}

asio::awaitable<std::unique_ptr<WebSocket>> connect_parley_ws(const Options& o, const std::string& token, int index,
                                                              std::string extra_query) {
  auto ws = std::make_unique<WebSocket>(co_await asio::this_coro::executor);
  auto& sock = beast::get_lowest_layer(*ws).socket();
  boost::system::error_code ec;
  sock.open(tcp::v4(), ec);
  sock.bind(source_for(o, index), ec);
  auto [cec] = co_await beast::get_lowest_layer(*ws).async_connect(
      tcp::endpoint(asio::ip::make_address(o.host), o.port), asio::as_tuple(asio::use_awaitable));
  if (cec) co_return nullptr;
  sock.set_option(tcp::no_delay(true), ec);
  auto [hec] =
      co_await ws->async_handshake(o.host, "/v1/ws?token=" + token + extra_query, asio::as_tuple(asio::use_awaitable));
  if (hec) co_return nullptr;
  co_return ws;
}

asio::awaitable<int> AsyncHttp::call(http::verb verb, const std::string& target, const std::string& auth,
                                     const std::string& body, std::string& out) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, o_.host);
  req.set(http::field::authorization, auth);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!stream_) {
      stream_ = std::make_unique<beast::tcp_stream>(co_await asio::this_coro::executor);
      boost::system::error_code ec;
      stream_->socket().open(tcp::v4(), ec);
      stream_->socket().bind(source_for(o_, index_), ec);
      auto [cec] = co_await stream_->async_connect(tcp::endpoint(asio::ip::make_address(o_.host), o_.port),
                                                   asio::as_tuple(asio::use_awaitable));
      if (cec) {
        stream_.reset();
        continue;
      }
      stream_->socket().set_option(tcp::no_delay(true), ec);
      buf_.clear();
    }
    auto [wec, wn] = co_await http::async_write(*stream_, req, asio::as_tuple(asio::use_awaitable));
    http::response<http::string_body> res;
    boost::system::error_code rec;
    if (!wec)
      std::tie(rec, std::ignore) = co_await http::async_read(*stream_, buf_, res, asio::as_tuple(asio::use_awaitable));
    if (wec || rec) {
      stream_.reset();  // a kept-alive connection the server closed: once more on a new one
      continue;
    }
    if (!res.keep_alive()) stream_.reset();
    out = std::move(res.body());
    co_return res.result_int();
  }
  co_return 0;
}

bool SeqCheck::see(std::int64_t seq) {
  if (seq <= 0) return false;
  if (static_cast<std::size_t>(seq) >= seen_.size()) seen_.resize(static_cast<std::size_t>(seq) * 2 + 16);
  if (seen_[static_cast<std::size_t>(seq)]) {
    ++duplicated;
    return false;
  }
  if (seq < highest_) ++reordered;
  seen_[static_cast<std::size_t>(seq)] = true;
  ++distinct_;
  highest_ = std::max(highest_, seq);
  while (static_cast<std::size_t>(contiguous_ + 1) < seen_.size() && seen_[static_cast<std::size_t>(contiguous_ + 1)])
    ++contiguous_;
  return true;
}

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
  };
  p.p50 = at(0.5);
  p.p90 = at(0.9);
  p.p99 = at(0.99);
  p.max = v.back();
  return p;
}

json::object latency_json(const Percentiles& p) {
  return {{"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"max", p.max}};
}

void report(const Options& o, Result& r, const std::string& summary) {
  auto p = percentiles(r.latency_ms);
  double dps = r.seconds > 0 ? static_cast<double>(r.deliveries) / r.seconds : 0;
  double dpc = r.cpu > 0 ? static_cast<double>(r.deliveries) / r.cpu : 0;
  std::printf("%s\n", summary.c_str());
  std::printf(
      "%s/%s: %llu deliveries in %.2f s = %.0f/s; server CPU %.2f s = %.0f deliveries/CPU-s; RSS %.1f MiB\n"
      "latency ms: p50 %.2f p90 %.2f p99 %.2f max %.2f; lost %llu duplicated %llu reordered %llu\n",
      r.scenario.c_str(), r.target.c_str(), static_cast<unsigned long long>(r.deliveries), r.seconds, dps, r.cpu, dpc,
      static_cast<double>(r.rss) / 1048576.0, p.p50, p.p90, p.p99, p.max, static_cast<unsigned long long>(r.lost),
      static_cast<unsigned long long>(r.duplicated), static_cast<unsigned long long>(r.reordered));
  json::object out{{"scenario", r.scenario},
                   {"target", r.target},
                   {"connections", r.connections},
                   {"members_per_channel", nullptr},
                   {"messages_sent", r.messages_sent},
                   {"deliveries", r.deliveries},
                   {"seconds", r.seconds},
                   {"deliveries_per_sec", dps},
                   {"server_cpu_seconds", r.cpu},
                   {"deliveries_per_cpu_second", dpc},
                   {"latency_ms", r.latency_ms.empty() ? json::value(nullptr) : json::value(latency_json(p))},
                   {"lost", r.lost},
                   {"duplicated", r.duplicated},
                   {"reordered", r.reordered},
                   {"server_rss_bytes", r.rss},
                   {"bytes_per_connection", nullptr}};
  if (r.members_per_channel) out["members_per_channel"] = *r.members_per_channel;
  if (r.bytes_per_connection) out["bytes_per_connection"] = *r.bytes_per_connection;
  for (auto& [k, v] : r.extra) out[k] = v;
  std::string line = json::serialize(out);
  std::cout << line << std::endl;
  if (!o.json_file.empty()) {
    std::ofstream f(o.json_file);
    f << line << "\n";
    if (!f) throw std::runtime_error("cannot write " + o.json_file);
  }
}

void raise_fd_limit() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rlimit want{1 << 20, 1 << 20};
  if (setrlimit(RLIMIT_NOFILE, &want) != 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

void DeliveryCounts::count(std::int64_t seq, std::int64_t& last, std::int64_t sent_ns, std::int64_t now_ns) {
  if (seq == last + 1) {
    ++deliveries;
  } else if (seq <= last) {
    ++(seq == last ? duplicated : reordered);
  } else {
    lost += static_cast<std::uint64_t>(seq - last - 1);
    ++deliveries;
  }
  if (seq > last) last = seq;
  latency_ms.push_back(static_cast<double>(now_ns - sent_ns) / 1e6);
  if (tracing_member >= 0) trace.push_back({sent_ns, now_ns, tracing_member});
}

void DeliveryCounts::expect(std::size_t n) {
  latency_ms.reserve(n);
  if (tracing_member >= 0) trace.reserve(n);
}

void DeliveryCounts::prepare(const Options& o, std::size_t member) {
  if (!o.trace_file.empty()) tracing_member = static_cast<int>(member);
  expect(static_cast<std::size_t>(o.channels) * static_cast<std::size_t>(o.messages));
}

void DeliveryCounts::add(DeliveryCounts&& other) {
  deliveries += other.deliveries;
  lost += other.lost;
  duplicated += other.duplicated;
  reordered += other.reordered;
  latency_ms.insert(latency_ms.end(), other.latency_ms.begin(), other.latency_ms.end());
  trace.insert(trace.end(), other.trace.begin(), other.trace.end());
}

Result fanout_result(const Options& o, const std::string& target, DeliveryCounts&& counts, std::int64_t expected,
                     double seconds, double server_cpu) {
  if (!o.trace_file.empty()) {
    std::ofstream f(o.trace_file);
    for (const auto& t : counts.trace) f << t.sent_ns << ' ' << t.received_ns << ' ' << t.member << '\n';
    if (!f) throw std::runtime_error("cannot write " + o.trace_file);
  }
  Result r;
  r.scenario = "fanout";
  r.target = target;
  r.seconds = seconds;
  r.cpu = server_cpu;
  r.connections = o.members + o.channels;
  r.members_per_channel = o.members;
  r.messages_sent = static_cast<std::int64_t>(o.messages) * o.channels;
  r.deliveries = counts.deliveries;
  auto accounted = counts.deliveries + counts.lost;
  r.lost = counts.lost + (static_cast<std::uint64_t>(expected) > accounted ? expected - accounted : 0);
  r.duplicated = counts.duplicated;
  r.reordered = counts.reordered;
  r.latency_ms = std::move(counts.latency_ms);
  r.rss = rss_bytes(o.pid);
  r.extra = {{"channels", o.channels}, {"rate", o.rate}, {"text_bytes", o.text_bytes}};
  return r;
}

bool run_until(asio::io_context& ioc, int timeout_seconds, std::function<bool()> done, int threads) {
  bool finished = false;
  auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor);
        while (!done()) {
          if (Clock::now() > deadline) {
            ioc.stop();
            co_return;
          }
          t.expires_after(std::chrono::milliseconds(5));
          co_await t.async_wait(asio::use_awaitable);
        }
        finished = true;
        ioc.stop();
      },
      asio::detached);
  std::vector<std::thread> extra;
  for (int i = 1; i < threads; ++i) extra.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : extra) t.join();
  ioc.restart();
  return finished;
}

}  // namespace bench
