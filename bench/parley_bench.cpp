// parley-bench: a load generator for Parley's realtime gateway and REST API, and for XMPP
// servers (RFC 7395 WebSocket, MUC rooms) on the same workloads. See docs/benchmarks.md.
//
//   parley-bench SCENARIO [--spawn build/parley | --port P --admin-key K --pid PID] [options]
//   parley-bench idle|fanout --target xmpp --xmpp-url ws://127.0.0.1:5280/ws --xmpp-domain D
//                            --muc-domain rooms.D --pid PID [options]
//
// Prints a summary and one JSON line (also written to --json FILE). Exits 3 when a correctness
// counter is not zero (the smoke tests rely on it), 2 on bad usage, 1 on a setup failure; never
// fails on speed.
#include <cstdio>
#include <cstring>
#include <map>

#include "scenarios.hpp"

namespace {

constexpr const char* kUsage = R"(usage: parley-bench SCENARIO [options]

scenarios:
  idle     N idle authenticated connections: server RSS per connection, connect rate
  fanout   C channels x M online members, one sender per channel; deliveries, latency, loss
  send     K senders, durable send throughput and ack latency over the socket or REST
  resume   a reconnect storm with resume during traffic; every message exactly once
  read     channel lists with unread counts and history pages over REST, with concurrency

server:    --spawn PATH (start build/parley on a free port) | --port P --admin-key K --pid PID
           --host 127.0.0.1  --target parley|xmpp
xmpp:      --xmpp-url ws://127.0.0.1:5280/ws --xmpp-domain D --muc-domain rooms.D (idle, fanout)
options:   --connections N --users U --source-addresses 8 --channels C --members M
           --messages N --rate MSGS_PER_SEC (0: flat out) --text-bytes 100 --timeout SECONDS
           --client-threads 2 (fanout: threads reading the members' sockets)
           --client-poll-us 1000 (fanout: a reader with nothing to read sleeps this long instead
             of blocking in epoll_wait; 0 blocks. On loopback the server pays to wake a blocked
             reader on every send, which a client on another machine would not cost it)
           --senders K --via ws|rest (send)  --concurrency K --requests N --page 50 (read)
           --drop-min-ms 50 --drop-max-ms 400 --offline-max-ms 100 (resume)  --json FILE
           --trace FILE (fanout: one "sent_ns received_ns member" line per delivery;
             monotonic clock)
)";

// Defaults that differ per scenario; flags given on the command line override them.
void scenario_defaults(bench::Options& o) {
  if (o.scenario == "send") {
    o.messages = 500;
  } else if (o.scenario == "resume") {
    o.members = 50;
    o.messages = 1000;
    o.rate = 200;
  } else if (o.scenario == "read") {
    o.users = 20;
    o.channels = 50;
    o.messages = 100;
  }
}

bool parse(int argc, char** argv, bench::Options& o) {
  std::map<std::string, std::function<void(const std::string&)>> flags{
      {"--port", [&](const std::string& v) { o.port = static_cast<unsigned short>(std::stoi(v)); }},
      {"--host", [&](const std::string& v) { o.host = v; }},
      {"--admin-key", [&](const std::string& v) { o.admin_key = v; }},
      {"--pid", [&](const std::string& v) { o.pid = std::stoi(v); }},
      {"--target", [&](const std::string& v) { o.target = v; }},
      {"--connections", [&](const std::string& v) { o.connections = std::stoi(v); }},
      {"--users", [&](const std::string& v) { o.users = std::stoi(v); }},
      {"--source-addresses", [&](const std::string& v) { o.source_addresses = std::stoi(v); }},
      {"--channels", [&](const std::string& v) { o.channels = std::stoi(v); }},
      {"--members", [&](const std::string& v) { o.members = std::stoi(v); }},
      {"--messages", [&](const std::string& v) { o.messages = std::stoi(v); }},
      {"--rate", [&](const std::string& v) { o.rate = std::stod(v); }},
      {"--text-bytes", [&](const std::string& v) { o.text_bytes = std::stoi(v); }},
      {"--timeout", [&](const std::string& v) { o.timeout_seconds = std::stoi(v); }},
      {"--client-threads", [&](const std::string& v) { o.client_threads = std::max(1, std::stoi(v)); }},
      {"--client-poll-us", [&](const std::string& v) { o.client_poll_us = std::max(0, std::stoi(v)); }},
      {"--senders", [&](const std::string& v) { o.senders = std::stoi(v); }},
      {"--via", [&](const std::string& v) { o.via = v; }},
      {"--concurrency", [&](const std::string& v) { o.concurrency = std::stoi(v); }},
      {"--requests", [&](const std::string& v) { o.requests = std::stoi(v); }},
      {"--page", [&](const std::string& v) { o.page = std::stoi(v); }},
      {"--drop-min-ms", [&](const std::string& v) { o.drop_min_ms = std::stoi(v); }},
      {"--drop-max-ms", [&](const std::string& v) { o.drop_max_ms = std::stoi(v); }},
      {"--offline-max-ms", [&](const std::string& v) { o.offline_max_ms = std::stoi(v); }},
      {"--spawn", [&](const std::string& v) { o.spawn = v; }},
      {"--json", [&](const std::string& v) { o.json_file = v; }},
      {"--trace", [&](const std::string& v) { o.trace_file = v; }},
      {"--xmpp-url", [&](const std::string& v) { o.xmpp_url = v; }},
      {"--xmpp-domain", [&](const std::string& v) { o.xmpp_domain = v; }},
      {"--muc-domain", [&](const std::string& v) { o.muc_domain = v; }},
  };
  for (int i = 2; i < argc; i += 2) {
    auto it = flags.find(argv[i]);
    if (it == flags.end() || i + 1 >= argc) {
      std::fprintf(stderr, "unknown option or missing value: %s\n%s", argv[i], kUsage);
      return false;
    }
    it->second(argv[i + 1]);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bench::raise_fd_limit();
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  bench::Options o;
  o.scenario = argv[1];
  scenario_defaults(o);
  try {
    if (!parse(argc, argv, o)) return 2;
    if (o.target == "xmpp") {
      if (o.scenario == "idle") return bench::run_xmpp_idle(o);
      if (o.scenario == "fanout") return bench::run_xmpp_fanout(o);
      std::fprintf(stderr, "--target xmpp runs idle and fanout only\n");
      return 2;
    }
    if (o.target != "parley") {
      std::fprintf(stderr, "--target is parley or xmpp\n");
      return 2;
    }
    bench::Spawned sp;
    if (!o.spawn.empty()) bench::spawn_server(o, o.spawn, sp);
    if (o.scenario == "idle") return bench::run_idle(o);
    if (o.scenario == "fanout") return bench::run_fanout(o);
    if (o.scenario == "send") return bench::run_send(o);
    if (o.scenario == "resume") return bench::run_resume(o);
    if (o.scenario == "read") return bench::run_read(o);
    std::fprintf(stderr, "unknown scenario %s\n%s", o.scenario.c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley-bench: %s\n", e.what());
    return 1;
  }
}
