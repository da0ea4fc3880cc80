// Shared pieces of parley-bench: options, the server's CPU/RSS probes, spawning a server,
// blocking setup requests, asynchronous WebSocket/HTTP clients bound to 127.0.0.x source
// addresses, and the result record every scenario prints and writes as JSON.
//
// Threading: everything here runs on one thread; scenarios drive one io_context.
#pragma once

#include <sys/types.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using WebSocket = websocket::stream<beast::tcp_stream>;

struct Options {
  std::string scenario;
  std::string target = "parley";  // parley | xmpp
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
  double rate = 0;  // messages per second over all senders; 0: flat out
  int text_bytes = 100;
  int timeout_seconds = 60;
  int senders = 4;           // send
  std::string via = "ws";    // send: ws | rest
  int concurrency = 16;      // read: concurrent HTTP clients
  int requests = 2000;       // read: requests over all clients
  int page = 50;             // read: page size of channel lists and history pages
  int drop_min_ms = 50;      // resume: a recipient stays connected this long at least
  int drop_max_ms = 400;     // ... and at most
  int offline_max_ms = 100;  // resume: and stays away up to this long
  std::string spawn;         // path of a parley binary to start
  std::string json_file;     // also write the result here
  std::string trace_file;    // fanout: "sent_ns received_ns member" per delivery, to find when the tail happens
  std::string xmpp_url;      // ws://host:port/path
  std::string xmpp_domain;
  std::string muc_domain;
  int client_threads = 2;     // fanout: threads reading the members' sockets
  int client_poll_us = 1000;  // fanout: readers poll at this interval (0: block in epoll_wait)
};

// The server process's resident set (VmRSS) and CPU seconds (utime + stime).
long rss_bytes(int pid);
double cpu_seconds(int pid);
std::int64_t mono_ns();

// Starts `binary serve` on a free loopback port with a fresh data folder and limits out of the
// way; fills o.port, o.pid and o.admin_key. The destructor stops the server and removes the folder.
struct Spawned {
  pid_t pid = 0;
  std::string dir;
  ~Spawned();
};
void spawn_server(Options& o, const std::string& binary, Spawned& sp);

// A blocking keep-alive HTTP client for setup. Throws on a status >= 300.
class SyncHttp {
 public:
  explicit SyncHttp(const Options& o);
  ~SyncHttp();
  json::value call(http::verb verb, const std::string& target, const std::string& auth, const std::string& body = {});

 private:
  const Options& o_;
  asio::io_context ioc_;
  std::unique_ptr<beast::tcp_stream> stream_;
};

// An app with raised limits and its Basic credentials.
struct App {
  std::string basic;
};
App create_app(SyncHttp& h, const Options& o, const std::string& name);
std::string mint_token(SyncHttp& h, const App& app, const std::string& user_id);
// Creates a group channel owned by `owner_token` and adds `members` (in batches of 100).
std::string create_channel(SyncHttp& h, const std::string& owner_token, const std::string& name,
                           const std::vector<std::string>& members);

// Source address for the index-th connection: 127.0.0.(1 + index % n).
tcp::endpoint source_for(const Options& o, int index);

// Connects a WebSocket to Parley's /v1/ws with a token (plus extra query), bound to the
// index-th source address. Returns null on failure.
asio::awaitable<std::unique_ptr<WebSocket>> connect_parley_ws(const Options& o, const std::string& token, int index,
                                                              std::string extra_query = {});

// An asynchronous keep-alive HTTP client (one request at a time).
class AsyncHttp {
 public:
  AsyncHttp(const Options& o, int index) : o_(o), index_(index) {}
  // Returns the status (0 on a transport error) and fills body.
  asio::awaitable<int> call(http::verb verb, const std::string& target, const std::string& auth,
                            const std::string& body, std::string& out);

 private:
  const Options& o_;
  int index_;
  std::unique_ptr<beast::tcp_stream> stream_;
  beast::flat_buffer buf_;
};

// Splits a Parley WebSocket message into its newline-separated frames.
template <class F>
void for_each_frame(std::string_view data, F&& f) {
  std::size_t pos = 0;
  while (pos < data.size()) {
    auto nl = data.find('\n', pos);
    if (nl == std::string_view::npos) nl = data.size();
    if (nl > pos) f(data.substr(pos, nl - pos));
    pos = nl + 1;
  }
}

// Per-recipient exactly-once accounting of seqs 1..N in one stream.
class SeqCheck {
 public:
  // Returns true when seq is new (a delivery).
  bool see(std::int64_t seq);
  std::int64_t contiguous() const { return contiguous_; }  // every seq up to here was seen
  std::int64_t distinct() const { return distinct_; }
  std::uint64_t duplicated = 0, reordered = 0;

 private:
  std::vector<bool> seen_;
  std::int64_t contiguous_ = 0, highest_ = 0, distinct_ = 0;
};

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};
Percentiles percentiles(std::vector<double> v);
json::object latency_json(const Percentiles& p);

// What every scenario reports. Fields that do not apply stay null.
struct Result {
  std::string scenario, target = "parley";
  std::int64_t connections = 0;
  std::optional<std::int64_t> members_per_channel;
  std::int64_t messages_sent = 0;
  std::uint64_t deliveries = 0;
  double seconds = 0;  // the measured phase
  double cpu = 0;      // server CPU seconds during it
  std::vector<double> latency_ms;
  std::uint64_t lost = 0, duplicated = 0, reordered = 0;
  long rss = 0;
  std::optional<double> bytes_per_connection;
  json::object extra;  // scenario-specific fields, merged into the JSON
};

// Prints a summary and the JSON line; writes o.json_file when set.
void report(const Options& o, Result& r, const std::string& summary);

// Raises RLIMIT_NOFILE as far as allowed.
void raise_fd_limit();

// Runs the io_context until `done()` holds (checked every 5 ms) or the timeout passes.
// Returns false on timeout.
// What the recipients of a fan-out saw, per stream (a channel or room as one member sees it):
// deliveries in order, messages skipped (lost), seen again (duplicated) or out of order.
struct DeliveryCounts {
  std::uint64_t deliveries = 0, lost = 0, duplicated = 0, reordered = 0;
  std::vector<double> latency_ms;
  struct Traced {
    std::int64_t sent_ns, received_ns;
    int member;
  };
  int tracing_member = -1;  // >= 0: keep a Traced record per delivery, for this member
  std::vector<Traced> trace;
  /// One message with `seq` on a stream whose last seq is `last` (moved forward), sent at
  /// `sent_ns` and received at `now_ns` (mono_ns clock).
  void count(std::int64_t seq, std::int64_t& last, std::int64_t sent_ns, std::int64_t now_ns);
  /// Makes room for `n` deliveries before the run. Growing as they come would make every
  /// member's vectors double at the same moment (all members receive at the same pace): the
  /// readers then stall on copying and page faults, which showed up as 50-130 ms latency
  /// episodes at 2^k deliveries per member.
  void expect(std::size_t n);
  /// For member `member` of a fan-out run with `o`: tracing as --trace asks, room for every
  /// delivery it expects.
  void prepare(const Options& o, std::size_t member);
  void add(DeliveryCounts&& other);
};

// The fanout scenario's result (`target` parley or xmpp): `expected` deliveries over the
// measured phase; anything not delivered by the deadline counts as lost.
Result fanout_result(const Options& o, const std::string& target, DeliveryCounts&& counts, std::int64_t expected,
                     double seconds, double server_cpu);

// Runs `ioc` (on `threads` threads) until done() or the timeout; true when done() came first.
bool run_until(asio::io_context& ioc, int timeout_seconds, std::function<bool()> done, int threads = 1);

}  // namespace bench
