// Durable message sends through the real ChatService and store, with group commit: K sender
// coroutines (as network sessions are) each send, wait for the acknowledgement (given only
// after the transaction holding the message committed), and send again. Reports acknowledged
// sends per second, p50/p99 ack latency and the mean batch size; then checks what the
// database holds: every acknowledged message there, seqs exactly 1..N per channel, each ack
// naming its own seq. Prints a summary and one JSON line. Exits 1 when the check fails, never
// because of speed.
//   usage: parley-send-bench [--store sqlite|postgres] [--pg-url URL] [--senders K] [--channels C]
//          [--seconds S] [--warmup S] [--messages N] [--batch-max N] [--window-us N]
//          [--committers N] [--db-threads N] [--client-threads N] [--text-bytes N] [--no-client-ids]
//          [--sender-ordered-ids] [--data-dir DIR] [--events | --webhook] [--webhook-workers N]
//          [--drain-seconds S] [--words] [--search]
//   Each send carries a client_msg_id: time-ordered (UUIDv7 layout, as the web SDK makes them)
//   unless --sender-ordered-ids ("c<sender>-<n>") or --no-client-ids.
//   --events: each committed send's event goes the server's way (publisher, bus, webhook
//   service) with no endpoint; --webhook: also one endpoint subscribed to message.new at a
//   receiver in this process on loopback, delivered by a job runner of --webhook-workers threads
//   (default 2, the server's --jobs-workers); after the sends the bench waits up to
//   --drain-seconds (default 600) for every delivery and fails unless each acknowledged send was
//   delivered exactly once (bench/send_events.hpp). --webhook-workers 0: the deliveries are only
//   recorded during the sends and sent afterwards (by 2 threads), which parts what recording
//   them costs the sends from what sending them does.
//   --words: texts of made-up words with natural frequencies (bench/corpus.hpp) instead of one
//   long filler token; --search (implies --words): each committed send's event also goes to the
//   search indexer (src/search/indexer.hpp) running as on a server, and after the sends the bench
//   waits until every acknowledged message is indexed and checks the index holds each once.
//   Compare --words with --words --search for what indexing costs the sends.
//   --pg-url names a maintenance database (default: $PARLEY_TEST_PG_URL); the bench creates a
//   scratch database beside it and drops it afterwards.
#include <spdlog/spdlog.h>
#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "chat/chat_service.hpp"
#include "corpus.hpp"
#include "realtime/gateway.hpp"
#include "scratch_database.hpp"
#include "search/indexer.hpp"
#include "send_events.hpp"
#include "services/send_message.hpp"
#include "store/postgres/pg_db.hpp"
#include "store/sql/database.hpp"
#include "store/store.hpp"

using namespace parley;
using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;

namespace {

struct Options {
  std::string store = "sqlite";
  std::string pg_url;
  std::string data_dir;
  int senders = 64;
  int channels = 16;
  double seconds = 5;
  double warmup = 1;
  long messages = 0;  // > 0: each sender sends messages / senders, no time limit
  int batch_max = 256;
  int window_us = 0;
  int committers = 1;
  int db_threads = 4;
  int client_threads = 1;
  int text_bytes = 100;
  bool client_ids = true;
  bool sender_ordered_ids = false;
  bool events = false;   // --events or --webhook
  bool webhook = false;  // --webhook
  int webhook_workers = 2;
  double drain_seconds = 600;
  bool words = false;   // --words: texts of corpus words
  bool search = false;  // --search: the search indexer follows the sends
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "parley-send-bench: %s (see the comment at the top of bench/send_bench.cpp)\n", why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  if (const char* v = std::getenv("PARLEY_TEST_PG_URL")) o.pg_url = v;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    auto number = [&](long lo, long hi) {
      std::string v = next();
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < lo || n > hi) usage(("bad value for " + a + ": " + v).c_str());
      return n;
    };
    if (a == "--store") {
      o.store = next();
      if (o.store != "sqlite" && o.store != "postgres") usage("--store is sqlite or postgres");
    } else if (a == "--pg-url") {
      o.pg_url = next();
    } else if (a == "--data-dir") {
      o.data_dir = next();
    } else if (a == "--senders") {
      o.senders = static_cast<int>(number(1, 100000));
    } else if (a == "--channels") {
      o.channels = static_cast<int>(number(1, 100000));
    } else if (a == "--seconds") {
      o.seconds = static_cast<double>(number(1, 3600));
    } else if (a == "--warmup") {
      o.warmup = static_cast<double>(number(0, 600));
    } else if (a == "--messages") {
      o.messages = number(1, 100000000);
    } else if (a == "--batch-max") {
      o.batch_max = static_cast<int>(number(1, 10000));
    } else if (a == "--window-us") {
      o.window_us = static_cast<int>(number(0, 100000));
    } else if (a == "--committers") {
      o.committers = static_cast<int>(number(1, 64));
    } else if (a == "--db-threads") {
      o.db_threads = static_cast<int>(number(1, 256));
    } else if (a == "--client-threads") {
      o.client_threads = static_cast<int>(number(1, 64));
    } else if (a == "--text-bytes") {
      o.text_bytes = static_cast<int>(number(1, 60000));
    } else if (a == "--no-client-ids") {
      o.client_ids = false;
    } else if (a == "--sender-ordered-ids") {
      o.sender_ordered_ids = true;
    } else if (a == "--events") {
      o.events = true;
    } else if (a == "--webhook") {
      o.events = o.webhook = true;
    } else if (a == "--webhook-workers") {
      o.webhook_workers = static_cast<int>(number(0, 256));
    } else if (a == "--words") {
      o.words = true;
    } else if (a == "--search") {
      o.search = o.words = true;
    } else if (a == "--drain-seconds") {
      o.drain_seconds = static_cast<double>(number(1, 3600));
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  if (o.store == "postgres" && o.pg_url.empty()) usage("--store postgres needs --pg-url or PARLEY_TEST_PG_URL");
  o.channels = std::min(o.channels, o.senders);
  return o;
}

// A UUIDv7-shaped id: 48 bits of Unix milliseconds, the version, then random bits.
std::string time_ordered_id(std::mt19937_64& rng) {
  auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  std::uint64_t hi = (ms << 16) | 0x7000 | (rng() & 0x0fff);
  std::uint64_t lo = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char out[37];
  std::snprintf(out, sizeof out, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return out;
}

template <class T>
T must(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "parley-send-bench: %s: %s\n", what, r.error().message.c_str());
    std::exit(1);
  }
  return std::move(*r);
}

struct Ack {
  int channel;
  std::int64_t seq;
  long number;  // the sender's message number (its text)
};

struct SenderLog {
  std::vector<Ack> acks;
  std::vector<std::uint32_t> latency_us;  // acks inside the measured interval
  long errors = 0;
  std::string first_error;
};

double percentile(std::vector<std::uint32_t>& v, double q) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Every acknowledged message is stored under the seq its sender was told; the channel's seqs
// are exactly 1..N; nothing unacknowledged slipped in (sends all finished before the check).
bool check(store::Store& st, const std::string& app, const std::vector<std::string>& channels,
           const std::vector<SenderLog>& logs, std::size_t& stored) {
  std::vector<std::map<std::int64_t, std::string>> told(channels.size());
  bool ok = true;
  for (std::size_t s = 0; s < logs.size(); ++s) {
    for (const auto& a : logs[s].acks) {
      std::string text = "s" + std::to_string(s) + "#" + std::to_string(a.number);
      if (!told[static_cast<std::size_t>(a.channel)].emplace(a.seq, text).second) {
        std::fprintf(stderr, "check: seq %lld of channel %d acknowledged twice\n", static_cast<long long>(a.seq),
                     a.channel);
        ok = false;
      }
    }
  }
  stored = 0;
  for (std::size_t c = 0; c < channels.size(); ++c) {
    std::int64_t expect = 1;
    for (;;) {
      auto page = must(st.chat().list_messages(app, channels[c], expect - 1, std::nullopt, 5000), "history");
      if (page.empty()) break;
      for (const auto& m : page) {
        if (m.seq != expect) {
          std::fprintf(stderr, "check: channel %zu: seq %lld where %lld was due (gap)\n", c,
                       static_cast<long long>(m.seq), static_cast<long long>(expect));
          return false;
        }
        auto it = told[c].find(m.seq);
        if (it == told[c].end()) {
          std::fprintf(stderr, "check: channel %zu: seq %lld stored but never acknowledged\n", c,
                       static_cast<long long>(m.seq));
          ok = false;
        } else if (m.text.compare(0, it->second.size() + 1, it->second + " ") != 0) {
          std::fprintf(stderr, "check: channel %zu: seq %lld holds another message than its ack said\n", c,
                       static_cast<long long>(m.seq));
          ok = false;
        }
        ++expect;
        ++stored;
      }
    }
    if (static_cast<std::size_t>(expect - 1) != told[c].size()) {
      std::fprintf(stderr, "check: channel %zu: %lld stored, %zu acknowledged\n", c, static_cast<long long>(expect - 1),
                   told[c].size());
      ok = false;
    }
    auto ch = must(st.chat().get_channel(app, channels[c]), "channel");
    if (ch.last_seq != expect - 1) {
      std::fprintf(stderr, "check: channel %zu: last_seq %lld, %lld messages\n", c, static_cast<long long>(ch.last_seq),
                   static_cast<long long>(expect - 1));
      ok = false;
    }
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);

  // The database: a scratch SQLite file (kept in --data-dir if given) or PostgreSQL database.
  test::ScratchDatabase db(o.store, "send_bench", o.pg_url, o.data_dir);
  const std::string& url = db.url();
  int rc = 0;
  {
    auto st = store::open_store(url, o.db_threads);
    store::AppRecord app{"app_bench", "Bench", "{}", "k", 1, 1};
    must(Result<Unit>(st->create_app(app, {"pk_bench", "app_bench", "h", 1, std::nullopt})), "app");
    auto app_ptr = std::make_shared<const tenancy::App>(app);
    for (int i = 0; i < o.senders; ++i) must(st->upsert_user(app.id, "u" + std::to_string(i), {}, 1), "user");
    std::unique_ptr<bench::SendEvents> events;  // outlives chat, whose publisher calls it
    if (o.events) events = std::make_unique<bench::SendEvents>(*st, app.id, o.webhook, o.webhook_workers);
    // --search: the sends' events reach the indexer as on a server (publisher, bus); these
    // outlive chat, whose committers publish.
    bus::InProcessBus search_bus;
    realtime::Publisher search_publisher{search_bus};
    std::unique_ptr<search::Indexer> indexer;
    chat::ChatService chat(*st, chat::GroupCommitOptions{o.batch_max, o.window_us, o.committers});
    std::vector<std::string> channels;
    for (int c = 0; c < o.channels; ++c) {  // sender s writes into channel s % C, created by u<c>
      chat::NewChannel spec;
      spec.type = store::ChannelType::group;
      spec.name = "bench " + std::to_string(c);
      for (int s = c + o.channels; s < o.senders; s += o.channels) spec.members.push_back("u" + std::to_string(s));
      chat::Caller creator{app_ptr, "u" + std::to_string(c)};
      channels.push_back(must(chat.create_channel(creator, spec), "channel").channel.id);
    }
    std::string filler(static_cast<std::size_t>(std::max(0, o.text_bytes - 16)), 'x');
    if (events) {
      chat.set_event_sink(events->sink());
      chat.set_outbox(events->outbox());
      events->start();
    }
    if (o.search) {
      if (events) usage("--search goes without --events and --webhook");
      indexer = std::make_unique<search::Indexer>(st->database(), search::IndexerOptions{},
                                                  [](const std::string&) { return std::string("simple"); });
      search_bus.subscribe([&](const bus::Envelope& e) { indexer->on_event(e); });
      chat.set_event_sink(&search_publisher);
      indexer->start();
    }
    const bench::Corpus corpus;

    const char* event_mode = o.webhook ? "endpoint" : o.events ? "events" : "none";
    std::printf("parley-send-bench: %s, %d senders, %d channels, batch max %d, window %d us, %s, webhooks: %s\n",
                o.store.c_str(), o.senders, o.channels, o.batch_max, o.window_us,
                o.messages > 0 ? (std::to_string(o.messages) + " messages").c_str()
                               : (std::to_string(static_cast<int>(o.seconds)) + " s after " +
                                  std::to_string(static_cast<int>(o.warmup)) + " s warm-up")
                                     .c_str(),
                o.webhook  ? ("one endpoint, " + std::to_string(o.webhook_workers) + " job workers").c_str()
                : o.events ? "events, no endpoint"
                           : "off");
    std::fflush(stdout);

    auto stats_before = chat.send_stats();
    asio::io_context io(o.client_threads);
    std::vector<SenderLog> logs(static_cast<std::size_t>(o.senders));
    const auto start = Clock::now();
    const auto measure_from =
        o.messages > 0 ? start
                       : start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup));
    const auto stop_at = measure_from + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(o.messages > 0 ? 1e9 : o.seconds));
    const long per_sender = o.messages > 0 ? std::max(1L, o.messages / o.senders) : -1;
    std::atomic<long> measured{0};
    for (int s = 0; s < o.senders; ++s) {
      asio::co_spawn(
          asio::make_strand(io),
          [&, s]() -> asio::awaitable<void> {
            SenderLog& log = logs[static_cast<std::size_t>(s)];
            chat::Caller who{app_ptr, "u" + std::to_string(s)};
            int c = s % o.channels;
            std::mt19937_64 rng(static_cast<std::uint64_t>(s) * 0x9e3779b97f4a7c15ULL + 1);
            for (long n = 0; per_sender < 0 ? Clock::now() < stop_at : n < per_sender; ++n) {
              chat::OutgoingMessage msg;
              msg.text =
                  "s" + std::to_string(s) + "#" + std::to_string(n) + " " +
                  (o.words ? corpus.message(rng, static_cast<std::size_t>(std::max(1, o.text_bytes - 16))) : filler);
              if (o.client_ids) {
                msg.client_msg_id =
                    o.sender_ordered_ids ? "c" + std::to_string(s) + "-" + std::to_string(n) : time_ordered_id(rng);
              }
              auto t0 = Clock::now();
              auto r =
                  co_await services::send_message(chat, who, channels[static_cast<std::size_t>(c)], std::move(msg));
              auto t1 = Clock::now();
              if (!r) {
                if (log.errors++ == 0) log.first_error = r.error().message;
                continue;
              }
              log.acks.push_back({c, r->message.seq, n});
              if (t0 >= measure_from && t1 <= stop_at) {
                log.latency_us.push_back(
                    static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count()));
                measured.fetch_add(1, std::memory_order_relaxed);
              }
            }
          },
          asio::detached);
    }
    std::vector<std::thread> threads;
    // PostgreSQL: the batch statements' generic plans are made while the tables are empty, when
    // every index looks as good as any other; the earlier-copy lookup can then scan a channel's
    // messages by the primary key instead of the idempotency index until autovacuum analyzes
    // the tables (after a minute or so; plans are made again then). Halfway through the warm-up
    // the bench analyzes them itself, as autovacuum would on a server.
    if (db.is_postgres() && o.messages == 0 && o.warmup > 0) {
      threads.emplace_back([&] {
        std::this_thread::sleep_until(start + (measure_from - start) / 2);
        store::postgres::Connection(url).exec("ANALYZE messages, members, channels");
      });
    }
    // Deliveries the receiver got by the start and the end of the measured interval.
    int delivered_at_start = 0, delivered_at_stop = 0;
    if (o.webhook && o.messages == 0) {
      threads.emplace_back([&] {
        std::this_thread::sleep_until(measure_from);
        delivered_at_start = events->receiver().received();
        std::this_thread::sleep_until(stop_at);
        delivered_at_stop = events->receiver().received();
      });
    }
    for (int t = 1; t < o.client_threads; ++t) threads.emplace_back([&] { io.run(); });
    io.run();
    for (auto& t : threads) t.join();
    const auto end = Clock::now();
    auto stats = chat.send_stats();

    double secs = o.messages > 0 ? std::chrono::duration<double>(end - start).count()
                                 : std::chrono::duration<double>(stop_at - measure_from).count();
    std::vector<std::uint32_t> lat;
    long acked = 0, errors = 0;
    std::string first_error;
    for (auto& l : logs) {
      lat.insert(lat.end(), l.latency_us.begin(), l.latency_us.end());
      acked += static_cast<long>(l.acks.size());
      errors += l.errors;
      if (first_error.empty()) first_error = l.first_error;
    }
    std::uint64_t batches = stats.batches - stats_before.batches;
    std::uint64_t items = stats.items - stats_before.items;
    double mean_batch = batches ? static_cast<double>(items) / static_cast<double>(batches) : 0;
    double rate = static_cast<double>(measured.load()) / secs;
    double p50 = percentile(lat, 0.50), p99 = percentile(lat, 0.99);
    double max = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());

    std::size_t stored = 0;
    bool ok = check(*st, app.id, channels, logs, stored);
    if (errors > 0) {
      std::fprintf(stderr, "check: %ld sends failed; first: %s\n", errors, first_error.c_str());
      ok = false;
    }
    // Every acknowledged send delivered once, and nothing left in the queue.
    std::string webhook_json, webhook_line;
    if (o.webhook) {
      auto& rx = events->receiver();
      const int backlog = static_cast<int>(acked) - rx.received();
      const auto drain_from = Clock::now();
      events->start_delivering();  // --webhook-workers 0: only now
      auto pending = [&] {
        auto q = must(events->queue_stats(), "queue stats");
        return q.queued + q.running;
      };
      while ((rx.received() < acked || pending() > 0) &&
             std::chrono::duration<double>(Clock::now() - drain_from).count() < o.drain_seconds) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      const double drain_s = std::chrono::duration<double>(Clock::now() - drain_from).count();
      events->stop();
      auto q = must(events->queue_stats(), "queue stats");
      const auto outbox_left = must(events->outbox_rows(), "outbox rows");
      const bool all = rx.received() == acked && rx.duplicates() == 0 && q.queued + q.running == 0 && q.dead == 0 &&
                       outbox_left == 0;
      if (!all) {
        std::fprintf(stderr,
                     "check: %d deliveries received (%d repeated) for %ld sends; %lld jobs left, %lld dead; %zu outbox "
                     "rows left\n",
                     rx.received(), rx.duplicates(), acked, static_cast<long long>(q.queued + q.running),
                     static_cast<long long>(q.dead), outbox_left);
        ok = false;
      }
      const double in_run = o.messages > 0 ? 0 : (delivered_at_stop - delivered_at_start) / secs;
      char line[256];
      std::snprintf(line, sizeof line,
                    "  webhook deliveries   %d received for %ld sends (%d repeated): %s; %.0f/s in the measured "
                    "interval, %d behind when the sends stopped, the last %.1f s later\n",
                    rx.received(), acked, rx.duplicates(), all ? "all" : "NOT ALL", in_run, backlog, drain_s);
      webhook_line = line;
      webhook_json = ",\"webhook_workers\":" + std::to_string(o.webhook_workers) +
                     ",\"deliveries\":" + std::to_string(rx.received()) +
                     ",\"duplicates\":" + std::to_string(rx.duplicates()) +
                     ",\"deliveries_per_sec_in_run\":" + std::to_string(static_cast<long>(in_run)) +
                     ",\"backlog_at_stop\":" + std::to_string(backlog) + ",\"drain_s\":" + std::to_string(drain_s);
    }
    std::string search_json;
    if (indexer) {  // every acknowledged message indexed once
      const auto from = Clock::now();
      while (indexer->stats().indexed < acked &&
             std::chrono::duration<double>(Clock::now() - from).count() < o.drain_seconds) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      const double lag_s = std::chrono::duration<double>(Clock::now() - from).count();
      indexer->stop();
      auto docs = must(st->database().with_conn([&](store::sql::Connection& c) -> Result<std::int64_t> {
        auto q = c.prepare("SELECT count(*) FROM search_docs");
        q->step();
        return q->int64(0);
      }),
                       "search docs");
      const auto is = indexer->stats();
      const bool all = docs == acked;
      if (!all) {
        std::fprintf(stderr, "check: %lld messages in the search index for %ld sends\n", static_cast<long long>(docs),
                     acked);
        ok = false;
      }
      std::printf(
          "  search index         %lld messages for %ld sends: %s; %lld passes, the last %.2f s after the "
          "sends stopped\n",
          static_cast<long long>(docs), acked, all ? "all" : "NOT ALL", static_cast<long long>(is.passes), lag_s);
      search_json = ",\"search\":true,\"indexed\":" + std::to_string(docs) +
                    ",\"index_passes\":" + std::to_string(is.passes) + ",\"index_lag_s\":" + std::to_string(lag_s);
    }
    std::printf("  acknowledged sends   %ld (%ld failed), %zu stored, seqs 1..N per channel: %s\n", acked, errors,
                stored, ok ? "yes" : "NO");
    std::printf("  durable sends/s      %.0f (over %.1f s)\n", rate, secs);
    std::printf("  ack latency          p50 %.0f us, p99 %.0f us, max %.0f us\n", p50, p99, max);
    std::printf("  batches              %llu, mean %.1f sends per transaction\n",
                static_cast<unsigned long long>(batches), mean_batch);
    std::fputs(webhook_line.c_str(), stdout);
    std::printf(
        "{\"benchmark\":\"send\",\"store\":\"%s\",\"senders\":%d,\"channels\":%d,\"batch_max\":%d,\"window_us\":%d,"
        "\"committers\":%d,\"client_ids\":\"%s\",\"text_bytes\":%d,\"seconds\":%.2f,\"acked\":%ld,\"errors\":%ld,"
        "\"msgs_"
        "per_sec\":%.0f,"
        "\"p50_us\":%.0f,\"p99_us\":%.0f,\"max_us\":%.0f,\"batches\":%llu,\"mean_batch\":%.2f,\"webhooks\":\"%s\"%s,"
        "\"check\":\"%s\"}\n",
        o.store.c_str(), o.senders, o.channels, o.batch_max, o.window_us, o.committers,
        !o.client_ids          ? "none"
        : o.sender_ordered_ids ? "sender"
                               : "time",
        o.text_bytes, secs, acked, errors, rate, p50, p99, max, static_cast<unsigned long long>(batches), mean_batch,
        event_mode, (webhook_json + search_json + (o.words ? ",\"words\":true" : "")).c_str(), ok ? "ok" : "failed");
    rc = ok ? 0 : 1;
  }
  return rc;
}
