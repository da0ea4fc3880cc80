// The durable job queue (src/jobs/) on its own, on a scratch SQLite file or PostgreSQL database:
//   enqueue    N jobs, each in its own transaction, from T threads (what an API call costs)
//   outbox     N jobs enqueued B to a transaction (jobs written with the change that causes them)
//   run        the N queued jobs drained by R runners (each a node: its own pool, poller and
//              W workers) with a handler that does nothing: claims + outcomes per second
//   latency    jobs enqueued at a steady rate on a live runner: enqueue -> handler start
// Prints figures and one JSON line; checks that every job ran exactly once (exit 1 otherwise),
// never speed.
//   usage: parley-jobs-bench [--store sqlite|postgres] [--pg-url URL] [--jobs N] [--threads T]
//          [--batch B] [--runners R] [--workers W] [--prefetch P] [--rate JOBS_PER_S] [--latency-jobs M]
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_queue.hpp"
#include "jobs/runner.hpp"
#include "scratch_database.hpp"
#include "store/sql/database.hpp"
#include "store/store.hpp"

using namespace parley;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string store = "sqlite";
  std::string pg_url;
  int jobs = 20000;
  int threads = 4;
  int batch = 100;
  int runners = 1;
  int workers = 2;
  int prefetch = 256;
  int rate = 200;
  int latency_jobs = 400;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "parley-jobs-bench: %s\n", why.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  if (const char* v = std::getenv("PARLEY_TEST_PG_URL")) o.pg_url = v;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    auto num = [&](int lo, int hi) {
      int v = std::atoi(next().c_str());
      if (v < lo || v > hi) usage(a + " must be " + std::to_string(lo) + ".." + std::to_string(hi));
      return v;
    };
    if (a == "--store") {
      o.store = next();
      if (o.store != "sqlite" && o.store != "postgres") usage("--store is sqlite or postgres");
    } else if (a == "--pg-url") {
      o.pg_url = next();
    } else if (a == "--jobs") {
      o.jobs = num(1, 10'000'000);
    } else if (a == "--threads") {
      o.threads = num(1, 256);
    } else if (a == "--batch") {
      o.batch = num(1, 10000);
    } else if (a == "--runners") {
      o.runners = num(1, 16);
    } else if (a == "--workers") {
      o.workers = num(1, 256);
    } else if (a == "--prefetch") {
      o.prefetch = num(1, 100000);
    } else if (a == "--rate") {
      o.rate = num(1, 100000);
    } else if (a == "--latency-jobs") {
      o.latency_jobs = num(0, 1'000'000);
    } else {
      usage("unknown argument " + a);
    }
  }
  if (o.store == "postgres" && o.pg_url.empty()) usage("--store postgres needs --pg-url or PARLEY_TEST_PG_URL");
  return o;
}

double secs_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

template <class T>
T must(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "parley-jobs-bench: %s: %s\n", what, r.error().message.c_str());
    std::exit(1);
  }
  return std::move(*r);
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  test::ScratchDatabase db(o.store, "jobs_bench", o.pg_url);
  const std::string& url = db.url();
  bool ok = true;
  {
    auto st = store::open_store(url, std::max(4, o.threads));
    jobs::JobQueue q(st->database());

    // enqueue: one transaction per job.
    auto t0 = Clock::now();
    std::vector<std::thread> ts;
    std::atomic<int> next{0};
    for (int t = 0; t < o.threads; ++t) {
      ts.emplace_back([&] {
        while (next.fetch_add(1) < o.jobs)
          must(q.enqueue({"bench.noop", "{}", std::nullopt, std::nullopt, 0, 0}), "enqueue");
      });
    }
    for (auto& t : ts) t.join();
    double enqueue_s = secs_since(t0);

    // outbox: B per transaction, on one connection.
    t0 = Clock::now();
    int outboxed = 0;
    while (outboxed < o.jobs) {
      int n = std::min(o.batch, o.jobs - outboxed);
      must(st->database().with_conn([&](store::sql::Connection& c) -> Status {
        store::sql::Transaction tx(c);
        TimeMs now = now_ms();
        for (int i = 0; i < n; ++i)
          jobs::JobQueue::enqueue_on(c, {"bench.noop", "{}", std::nullopt, std::nullopt, 0, 0}, now);
        tx.commit();
        return ok_status();
      }),
           "outbox");
      outboxed += n;
    }
    double outbox_s = secs_since(t0);
    const int total = o.jobs * 2;

    // run: R runners drain 2N jobs.
    std::mutex mu;
    std::map<std::int64_t, int> runs;
    std::vector<std::unique_ptr<store::Store>> stores;
    std::vector<std::unique_ptr<jobs::JobQueue>> queues;
    std::vector<std::unique_ptr<jobs::Runner>> runners;
    std::atomic<int> done{0};
    for (int r = 0; r < o.runners; ++r) {
      stores.push_back(store::open_store(url, 4));
      queues.push_back(std::make_unique<jobs::JobQueue>(stores.back()->database()));
      jobs::RunnerOptions ro;
      ro.owner = "bench-" + std::to_string(r);
      ro.workers = o.workers;
      ro.prefetch = o.prefetch;
      ro.poll_ms = 50;
      runners.push_back(std::make_unique<jobs::Runner>(*queues.back(), ro));
      runners.back()->handle("bench.noop", [&](const jobs::Job& j, const jobs::JobContext&) {
        {
          std::lock_guard lock(mu);
          ++runs[j.id];
        }
        ++done;
        return jobs::JobResult::done();
      });
    }
    t0 = Clock::now();
    for (auto& r : runners) r->start();
    while (done.load() < total && secs_since(t0) < 600) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // Until the last outcomes are recorded too: the queue is empty.
    while (must(q.stats(now_ms()), "stats").queued + must(q.stats(now_ms()), "stats").running > 0 &&
           secs_since(t0) < 600) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    double run_s = secs_since(t0);
    int twice = 0;
    {
      std::lock_guard lock(mu);
      for (const auto& [id, n] : runs) twice += n > 1;
      if (static_cast<int>(runs.size()) != total || twice > 0) ok = false;
    }

    // latency: a steady rate on a live runner (runner 0), woken on enqueue as the server does.
    std::vector<double> lat_ms;
    std::mutex lat_mu;
    std::map<std::int64_t, Clock::time_point> sent;
    runners[0]->stop();
    runners[0] = std::make_unique<jobs::Runner>(
        *queues[0], jobs::RunnerOptions{"bench-lat", o.workers, o.prefetch, 250, 30'000, 10'000, 1000});
    std::atomic<int> seen{0};
    runners[0]->handle("bench.lat", [&](const jobs::Job& j, const jobs::JobContext&) {
      auto now = Clock::now();
      std::lock_guard lock(lat_mu);
      auto it = sent.find(j.id);
      if (it != sent.end()) lat_ms.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
      ++seen;
      return jobs::JobResult::done();
    });
    runners[0]->start();
    auto gap = std::chrono::microseconds(1'000'000 / o.rate);
    auto due = Clock::now();
    for (int i = 0; i < o.latency_jobs; ++i) {
      std::this_thread::sleep_until(due);
      due += gap;
      std::unique_lock lock(lat_mu);
      auto at = Clock::now();
      auto e = must(queues[0]->enqueue({"bench.lat", "{}", std::nullopt, std::nullopt, 0, 0}), "enqueue");
      sent[e.id] = at;
      lock.unlock();
      runners[0]->wake();
    }
    auto lat_t0 = Clock::now();
    while (seen.load() < o.latency_jobs && secs_since(lat_t0) < 60)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (auto& r : runners) r->stop();
    if (seen.load() != o.latency_jobs) ok = false;

    double enqueue_rate = o.jobs / enqueue_s, outbox_rate = o.jobs / outbox_s, run_rate = total / run_s;
    std::printf("jobs on %s: %d enqueued one per transaction by %d threads, %d enqueued %d per transaction\n",
                o.store.c_str(), o.jobs, o.threads, o.jobs, o.batch);
    std::printf("  enqueue              %.0f jobs/s\n", enqueue_rate);
    std::printf("  outbox               %.0f jobs/s\n", outbox_rate);
    std::printf("  run (%d runner(s) x %d workers, prefetch %d)  %.0f jobs/s (%d jobs in %.2f s), ran twice: %d\n",
                o.runners, o.workers, o.prefetch, run_rate, total, run_s, twice);
    std::printf("  enqueue->start at %d/s  p50 %.2f ms  p99 %.2f ms  max %.2f ms (%zu jobs)\n", o.rate,
                pct(lat_ms, 0.5), pct(lat_ms, 0.99), pct(lat_ms, 1.0), lat_ms.size());
    std::printf(
        "{\"benchmark\":\"jobs\",\"store\":\"%s\",\"jobs\":%d,\"threads\":%d,\"batch\":%d,\"runners\":%d,"
        "\"workers\":%d,\"prefetch\":%d,\"enqueue_per_sec\":%.0f,\"outbox_per_sec\":%.0f,\"run_per_sec\":%.0f,"
        "\"ran_twice\":%d,\"latency_rate\":%d,\"latency_p50_ms\":%.3f,\"latency_p99_ms\":%.3f,\"result\":\"%s\"}\n",
        o.store.c_str(), o.jobs, o.threads, o.batch, o.runners, o.workers, o.prefetch, enqueue_rate, outbox_rate,
        run_rate, twice, o.rate, pct(lat_ms, 0.5), pct(lat_ms, 0.99), ok ? "ok" : "failed");
  }
  return ok ? 0 : 1;
}
