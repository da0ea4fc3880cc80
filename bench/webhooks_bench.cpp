// Outgoing webhook deliveries per second (src/webhooks/): N deliveries queued to one endpoint
// (B per transaction, as the dispatcher writes them), sent by a job runner with W workers over
// the SSRF-safe client to a keep-alive HTTP receiver in this process on loopback, each one
// signed and recorded in the delivery log. Counts what the receiver got; exits 1 unless every
// delivery arrived exactly once and was recorded as succeeded, never on speed.
//   usage: parley-webhooks-bench [--store sqlite|postgres] [--deliveries N] [--workers W] [--batch B]
//   (postgres: PARLEY_TEST_PG_URL names a maintenance database, e.g. via scripts/with-postgres.sh)
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "jobs/runner.hpp"
#include "outbound/http_client.hpp"
#include "scratch_database.hpp"
#include "store/sql/database.hpp"
#include "store/store.hpp"
#include "tenancy/audit_log.hpp"
#include "webhook_receiver.hpp"
#include "webhooks/webhook_service.hpp"

using namespace parley;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string store = "sqlite";
  int deliveries = 5000;
  int workers = 8;
  int batch = 100;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "parley-webhooks-bench: %s\n", why.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(a + " needs a value");
    std::string v = argv[++i];
    if (a == "--store") {
      o.store = v;
      if (v != "sqlite" && v != "postgres") usage("--store is sqlite or postgres");
    } else if (a == "--deliveries" || a == "--workers" || a == "--batch") {
      int n = std::atoi(v.c_str());
      if (n < 1 || n > 10'000'000) usage(a + " must be positive");
      (a == "--deliveries" ? o.deliveries : a == "--workers" ? o.workers : o.batch) = n;
    } else {
      usage("unknown argument " + a);
    }
  }
  return o;
}

double secs_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

template <class R>
void must(const R& r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "parley-webhooks-bench: %s: %s\n", what, r.error().message.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  test::ScratchDatabase db(o.store, "webhooks_bench");
  if (!db.available()) usage("--store postgres needs PARLEY_TEST_PG_URL");
  bench::WebhookReceiver receiver;
  bool ok = true;
  {
    auto st = store::open_store(db.url(), std::max(4, o.workers + 2));
    store::AppRecord app{"app_bench", "bench", "{}", "k", 1, 1};
    must(st->create_app(app, {"pk_bench", "app_bench", "h", 1, std::nullopt}), "create app");
    tenancy::AuditLog audit(st->database());
    outbound::HttpClient http(*outbound::AddressPolicy::with_allowed({"127.0.0.1/32"}));
    webhooks::WebhookService svc(st->database(), audit, http, webhooks::WebhookOptions{});
    webhooks::EndpointInput in;
    in.url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook";
    in.event_types = std::vector<std::string>{"*"};
    auto ep = svc.create(app.id, in);
    must(ep, "create endpoint");

    // Queue: B deliveries per transaction, each with its job.
    webhooks::WebhookStore ws(st->database());
    const std::string payload = R"({"type":"message.new","timestamp":"2026-12-07T00:00:00.000Z","app_id":"app_bench",)"
                                R"("data":{"channel_id":"ch_1","seq":1,"message":{"text":"hello"}}})";
    auto t0 = Clock::now();
    for (int queued = 0; queued < o.deliveries;) {
      int n = std::min(o.batch, o.deliveries - queued);
      std::vector<webhooks::NewDelivery> batch(static_cast<std::size_t>(n), {ep->id, "message.new", payload});
      must(ws.enqueue(app.id, batch, 9, now_ms()), "enqueue");
      queued += n;
    }
    const double queue_s = secs_since(t0);

    jobs::JobQueue queue(st->database());
    jobs::RunnerOptions ro;
    ro.owner = "bench";
    ro.workers = o.workers;
    ro.prefetch = std::max(64, o.workers * 8);
    ro.poll_ms = 20;
    jobs::Runner runner(queue, ro);
    svc.register_jobs(runner);
    t0 = Clock::now();
    runner.start();
    while (receiver.received() < o.deliveries && secs_since(t0) < 300)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const double send_s = secs_since(t0);
    // Every attempt's outcome is written before its job finishes; wait for the queue to drain.
    while (secs_since(t0) < 300) {
      auto s = queue.stats(now_ms());
      if (s && s->queued == 0 && s->running == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const double done_s = secs_since(t0);
    runner.stop();
    int succeeded = 0;
    for (std::int64_t before = 0;;) {
      auto page = ws.deliveries(app.id, ep->id, before, 1000);
      must(page, "deliveries");
      if (page->empty()) break;
      for (const auto& d : *page) succeeded += d.state == webhooks::DeliveryState::succeeded ? 1 : 0;
      before = page->back().id;
    }
    ok = receiver.received() == o.deliveries && receiver.duplicates() == 0 && succeeded == o.deliveries;
    std::printf("webhooks on %s: %d deliveries to one endpoint, %d workers\n", o.store.c_str(), o.deliveries,
                o.workers);
    std::printf("  queued (%d per transaction)  %.0f deliveries/s\n", o.batch, o.deliveries / queue_s);
    std::printf("  sent and answered            %.0f deliveries/s (%.2f s; all recorded after %.2f s)\n",
                o.deliveries / send_s, send_s, done_s);
    std::printf("  receiver: %d received, %d duplicates, %d connections; log: %d succeeded\n", receiver.received(),
                receiver.duplicates(), receiver.connections(), succeeded);
    std::printf(
        "{\"benchmark\":\"webhooks\",\"store\":\"%s\",\"deliveries\":%d,\"workers\":%d,\"queue_per_sec\":%.0f,"
        "\"deliveries_per_sec\":%.0f,\"connections\":%d,\"duplicates\":%d,\"succeeded\":%d,\"result\":\"%s\"}\n",
        o.store.c_str(), o.deliveries, o.workers, o.deliveries / queue_s, o.deliveries / send_s, receiver.connections(),
        receiver.duplicates(), succeeded, ok ? "ok" : "failed");
  }
  return ok ? 0 : 1;
}
