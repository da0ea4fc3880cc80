// The job queue (jobs/): cron expressions; the repository on SQLite and, when PARLEY_TEST_PG_URL
// names a maintenance database, on PostgreSQL (a fresh database per test); and the runner
// (claims, retries with backoff, dead letters, leases that expire, graceful stop, two runners
// sharing one database).
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "core/crypto.hpp"
#include "jobs/cron.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/runner.hpp"
#include "metrics/metrics.hpp"
#include "scratch_database.hpp"
#include "store/sql/database.hpp"
#include "store/store.hpp"

namespace parley::jobs {
namespace {

TimeMs at(const char* rfc3339) { return parse_time(rfc3339).value(); }

TEST(Cron, FiveFieldsStepsRangesAndNames) {
  auto c = Cron::parse("*/15 9-17 * * mon-fri");
  ASSERT_TRUE(c) << c.error().message;
  // Saturday 2026-12-05 10:00 -> Monday 09:00.
  EXPECT_EQ(c->next_after(at("2026-12-05T10:00:00Z")), at("2026-12-07T09:00:00Z"));
  EXPECT_EQ(c->next_after(at("2026-12-07T09:00:00Z")), at("2026-12-07T09:15:00Z"));
  EXPECT_EQ(c->next_after(at("2026-12-07T17:45:00Z")), at("2026-12-08T09:00:00Z"));
}

TEST(Cron, SixFieldsHaveSecondsFirst) {
  auto c = Cron::parse("*/10 * * * * *");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->next_after(at("2026-01-01T00:00:00Z") + 1), at("2026-01-01T00:00:10Z"));
  EXPECT_EQ(c->next_after(at("2026-01-01T00:00:55Z")), at("2026-01-01T00:01:00Z"));
}

TEST(Cron, AliasesAndMonthsByName) {
  EXPECT_EQ(Cron::parse("@daily")->next_after(at("2026-03-01T12:00:00Z")), at("2026-03-02T00:00:00Z"));
  EXPECT_EQ(Cron::parse("@hourly")->next_after(at("2026-03-01T12:00:00Z")), at("2026-03-01T13:00:00Z"));
  EXPECT_EQ(Cron::parse("0 6 1 jan,jul *")->next_after(at("2026-03-01T00:00:00Z")), at("2026-07-01T06:00:00Z"));
  // Weekday 7 is Sunday, as 0 is.
  EXPECT_EQ(Cron::parse("0 0 * * 7")->next_after(at("2026-12-07T00:00:00Z")), at("2026-12-13T00:00:00Z"));
}

TEST(Cron, BothDayFieldsRestrictedMeansEither) {
  // The 13th or any Friday: from Monday 2026-12-07, Friday the 11th comes first, then the 13th.
  auto c = Cron::parse("0 0 13 * fri");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->next_after(at("2026-12-07T00:00:00Z")), at("2026-12-11T00:00:00Z"));
  EXPECT_EQ(c->next_after(at("2026-12-11T00:00:00Z")), at("2026-12-13T00:00:00Z"));
}

TEST(Cron, ADateThatNeverComesHasNoNextRun) {
  auto c = Cron::parse("0 0 30 2 *");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->next_after(at("2026-01-01T00:00:00Z")));
}

TEST(Cron, BadExpressionsSayWhichFieldAndWhy) {
  for (const char* bad : {"", "* * *", "61 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
                          "*/0 * * * *", "5-1 * * * *", "x * * * *", "* * * foo *", "1,,2 * * * *", "* * * * * * *"}) {
    auto c = Cron::parse(bad);
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().code, Errc::invalid_request) << bad;
  }
  auto e = Cron::parse("61 * * * *");
  EXPECT_NE(e.error().message.find("minute"), std::string::npos) << e.error().message;
}

TEST(Backoff, GrowsExponentiallyWithJitterUpToAnHour) {
  for (int attempt = 1; attempt <= 30; ++attempt) {
    TimeMs full = std::min<TimeMs>(1000LL << std::min(attempt - 1, 20), 3'600'000);
    for (int i = 0; i < 20; ++i) {
      TimeMs d = backoff_ms(attempt);
      EXPECT_GE(d, full - full / 2) << attempt;
      EXPECT_LE(d, full) << attempt;
    }
  }
}

class JobQueueTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::ScratchDatabase>(GetParam(), "jobs");
    if (!db_->available()) GTEST_SKIP() << "PARLEY_TEST_PG_URL not set";
    url_ = db_->url();
    store_ = store::open_store(url_, 4);
    q_ = std::make_unique<JobQueue>(store_->database());
  }
  void TearDown() override {
    q_.reset();
    store_.reset();
    db_.reset();
  }

  std::int64_t add(std::string kind, std::string payload = "{}", TimeMs run_at = 0, int max_attempts = 0,
                   std::optional<std::string> unique_key = std::nullopt) {
    auto e =
        q_->enqueue({std::move(kind), std::move(payload), std::nullopt, std::move(unique_key), run_at, max_attempts});
    EXPECT_TRUE(e) << e.error().message;
    return e ? e->id : 0;
  }

  std::unique_ptr<test::ScratchDatabase> db_;
  std::string url_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<JobQueue> q_;
};

TEST_P(JobQueueTest, ClaimsDueJobsOfItsKindsOldestFirstWithALease) {
  TimeMs now = now_ms();
  auto a = add("k.a", R"({"n":1})", now - 2000);
  auto b = add("k.a", "{}", now - 1000);
  add("k.a", "{}", now + 60'000);    // not due
  add("k.other", "{}", now - 5000);  // another kind
  auto got = q_->claim("node-1", {"k.a"}, 10, now, now + 30'000);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].id, a);
  EXPECT_EQ((*got)[1].id, b);
  EXPECT_EQ((*got)[0].payload, R"({"n":1})");
  EXPECT_EQ((*got)[0].state, JobState::running);
  EXPECT_EQ((*got)[0].attempts, 1);
  EXPECT_EQ((*got)[0].max_attempts, kDefaultMaxAttempts);
  EXPECT_EQ((*got)[0].lease_owner, "node-1");
  EXPECT_EQ((*got)[0].lease_until, now + 30'000);
  // Held jobs are not claimed again, by anyone.
  EXPECT_TRUE(q_->claim("node-2", {"k.a"}, 10, now, now + 30'000)->empty());
  auto stats = q_->stats(now);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->running, 2);
  EXPECT_EQ(stats->queued, 2);
  EXPECT_EQ(stats->ready, 1);  // k.other
  EXPECT_EQ(stats->oldest_ready_at, now - 5000);
}

TEST_P(JobQueueTest, FinishingRecordsEachOutcomeOnlyForTheLeaseHolder) {
  auto ok = add("k");
  auto again = add("k");
  auto dead = add("k");
  auto back = add("k");
  TimeMs now = now_ms();
  ASSERT_EQ(q_->claim("me", {"k"}, 10, now, now + 30'000)->size(), 4u);
  // Someone else's outcome for my jobs changes nothing.
  EXPECT_EQ(*q_->finish("other", {{ok, Finished::How::succeeded, {}, 0}}, now), 0);
  auto held = q_->finish("me",
                         {{ok, Finished::How::succeeded, {}, 0},
                          {again, Finished::How::retry, "boom", now + 5000},
                          {dead, Finished::How::dead, "broken for good", 0},
                          {back, Finished::How::released, {}, 0}},
                         now);
  ASSERT_TRUE(held) << held.error().message;
  EXPECT_EQ(*held, 4);
  EXPECT_EQ(q_->get(ok).error().code, Errc::not_found);  // success deletes
  auto r = q_->get(again);
  EXPECT_EQ(r->state, JobState::queued);
  EXPECT_EQ(r->run_at, now + 5000);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(r->last_error, "boom");
  EXPECT_FALSE(r->lease_owner);
  EXPECT_EQ(q_->get(dead)->state, JobState::dead);
  EXPECT_EQ(q_->get(dead)->last_error, "broken for good");
  EXPECT_EQ(q_->get(back)->state, JobState::queued);
  EXPECT_EQ(q_->get(back)->attempts, 0);  // a release does not spend an attempt
}

TEST_P(JobQueueTest, JobsWithOneOrderKeyRunOneAtATimeInEnqueueOrder) {
  auto ordered = [&](const std::string& key) {
    NewJob j;
    j.kind = "k";
    j.order_key = key;
    auto e = q_->enqueue(j);
    EXPECT_TRUE(e) << e.error().message;
    return e ? e->id : 0;
  };
  auto a1 = ordered("A");
  auto a2 = ordered("A");
  auto a3 = ordered("A");
  auto b1 = ordered("B");
  auto free = add("k");
  const TimeMs now = now_ms() + 10;                   // every job is due
  auto ids = [](const Result<std::vector<Job>>& r) {  // in id order (claims come oldest due first)
    std::vector<std::int64_t> out;
    if (r)
      for (const auto& j : *r) out.push_back(j.id);
    std::sort(out.begin(), out.end());
    return out;
  };
  // Only the first of each key (and the unordered job) can run.
  EXPECT_EQ(ids(q_->claim("me", {"k"}, 10, now, now + 30'000)), (std::vector<std::int64_t>{a1, b1, free}));
  EXPECT_EQ(q_->get(a1)->order_key, "A");
  EXPECT_TRUE(ids(q_->claim("me", {"k"}, 10, now, now + 30'000)).empty());  // a1 still runs
  // A retry keeps its place: a2 waits for it, also while it waits for its run_at.
  ASSERT_TRUE(q_->finish("me", {{a1, Finished::How::retry, "boom", now + 500}}, now));
  EXPECT_TRUE(ids(q_->claim("me", {"k"}, 10, now, now + 30'000)).empty());
  EXPECT_EQ(ids(q_->claim("me", {"k"}, 10, now + 600, now + 30'000)), (std::vector<std::int64_t>{a1}));
  // Once it is a dead letter the next one goes.
  ASSERT_TRUE(q_->finish("me", {{a1, Finished::How::dead, "gave up", 0}}, now));
  EXPECT_EQ(ids(q_->claim("me", {"k"}, 10, now + 600, now + 30'000)), (std::vector<std::int64_t>{a2}));
  ASSERT_TRUE(q_->finish("me", {{a2, Finished::How::succeeded, {}, 0}}, now));
  EXPECT_EQ(ids(q_->claim("me", {"k"}, 10, now + 600, now + 30'000)), (std::vector<std::int64_t>{a3}));
}

TEST_P(JobQueueTest, UniqueKeysDeduplicateUntilTheJobIsGone) {
  auto first = q_->enqueue({"k", "{}", std::nullopt, "order-7", 0, 0});
  auto second = q_->enqueue({"k", R"({"other":true})", std::nullopt, "order-7", 0, 0});
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(first->duplicate);
  EXPECT_TRUE(second->duplicate);
  EXPECT_EQ(second->id, first->id);
  EXPECT_EQ(q_->get(first->id)->payload, "{}");
  // The same key under another kind is another job; no key never deduplicates.
  EXPECT_FALSE(q_->enqueue({"k2", "{}", std::nullopt, "order-7", 0, 0})->duplicate);
  EXPECT_NE(add("k"), add("k"));
  TimeMs now = now_ms();
  auto claimed = q_->claim("me", {"k"}, 1, now, now + 1000);
  ASSERT_EQ(claimed->size(), 1u);
  ASSERT_EQ((*claimed)[0].id, first->id);
  ASSERT_EQ(*q_->finish("me", {{first->id, Finished::How::succeeded, {}, 0}}, now), 1);
  auto third = q_->enqueue({"k", "{}", std::nullopt, "order-7", 0, 0});
  EXPECT_FALSE(third->duplicate);
  EXPECT_NE(third->id, first->id);
}

TEST_P(JobQueueTest, AnExpiredLeaseGoesBackToTheQueueOrToTheDeadLetters) {
  auto retried = add("k", "{}", 0, 3);
  auto last = add("k", "{}", 0, 1);
  TimeMs now = now_ms();
  ASSERT_EQ(q_->claim("gone", {"k"}, 10, now, now + 1000)->size(), 2u);
  EXPECT_EQ(*q_->recover_expired(now + 999), 0);  // still leased
  EXPECT_EQ(*q_->extend_leases("gone", now + 5000), 2);
  EXPECT_EQ(*q_->recover_expired(now + 1500), 0);  // the heartbeat kept them
  EXPECT_EQ(*q_->recover_expired(now + 5001), 2);
  auto r = q_->get(retried);
  EXPECT_EQ(r->state, JobState::queued);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_NE(r->last_error->find("lease expired"), std::string::npos);
  EXPECT_EQ(q_->get(last)->state, JobState::dead);  // its only attempt was spent
  // The dead worker's late report is ignored; a new claim works.
  EXPECT_EQ(*q_->finish("gone", {{retried, Finished::How::succeeded, {}, 0}}, now), 0);
  auto again = q_->claim("alive", {"k"}, 10, now + 6000, now + 36'000);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 2);
}

TEST_P(JobQueueTest, ListsRetriesAndDeletesDeadLetters) {
  auto a = add("k.a", "{}", 0, 1);
  auto b = add("k.b", "{}", 0, 1);
  auto c = add("k.b");
  TimeMs now = now_ms();
  ASSERT_EQ(q_->claim("me", {"k.a", "k.b"}, 2, now, now + 1000)->size(), 2u);
  ASSERT_EQ(*q_->finish("me", {{a, Finished::How::dead, "x", 0}, {b, Finished::How::dead, "y", 0}}, now), 2);
  auto dead = q_->list({JobState::dead, std::nullopt, std::nullopt, 0, 50});
  ASSERT_EQ(dead->size(), 2u);
  EXPECT_EQ((*dead)[0].id, b);  // newest first
  EXPECT_EQ(q_->list({JobState::dead, std::string("k.a"), std::nullopt, 0, 50})->size(), 1u);
  EXPECT_EQ(q_->list({std::nullopt, std::nullopt, std::nullopt, b, 50})->size(), 1u);  // before b: a
  EXPECT_EQ(q_->list({std::nullopt, std::nullopt, std::nullopt, 0, 50})->size(), 3u);
  auto retried = q_->retry(a, now);
  ASSERT_TRUE(retried) << retried.error().message;
  EXPECT_EQ(retried->state, JobState::queued);
  EXPECT_EQ(retried->attempts, 0);
  EXPECT_EQ(q_->retry(999'999, now).error().code, Errc::not_found);
  EXPECT_EQ(*q_->purge_dead(std::string("k.other")), 0);
  EXPECT_EQ(*q_->purge_dead(std::nullopt), 1);  // b
  EXPECT_EQ(q_->get(b).error().code, Errc::not_found);
  EXPECT_TRUE(q_->remove(c));
  EXPECT_EQ(q_->remove(c).error().code, Errc::not_found);
  // A running job can be neither retried nor deleted.
  ASSERT_EQ(q_->claim("me", {"k.a"}, 1, now, now + 1000)->size(), 1u);
  EXPECT_EQ(q_->retry(a, now).error().code, Errc::conflict);
  EXPECT_EQ(q_->remove(a).error().code, Errc::conflict);
}

TEST_P(JobQueueTest, AnAppsJobsGoWithTheApp) {
  store::AppRecord app{"app_j", "J", "{}", "k", 1, 1};
  ASSERT_TRUE(store_->create_app(app, {"pk_j", "app_j", "h", 1, std::nullopt}));
  auto e = q_->enqueue({"k", "{}", std::string("app_j"), std::nullopt, 0, 0});
  ASSERT_TRUE(e) << e.error().message;
  auto other = add("k");
  EXPECT_EQ(q_->list({std::nullopt, std::nullopt, std::string("app_j"), 0, 50})->size(), 1u);
  ASSERT_TRUE(store_->delete_app("app_j"));
  EXPECT_EQ(q_->get(e->id).error().code, Errc::not_found);
  EXPECT_TRUE(q_->get(other));
  // A job for an app that does not exist is refused by the database.
  EXPECT_FALSE(q_->enqueue({"k", "{}", std::string("app_none"), std::nullopt, 0, 0}));
}

TEST_P(JobQueueTest, EnqueueOnTheCallersTransactionCommitsOrRollsBackWithIt) {
  auto& db = store_->database();
  std::int64_t kept = 0;
  ASSERT_TRUE(db.with_conn([&](store::sql::Connection& c) -> Status {
    {
      store::sql::Transaction tx(c);
      JobQueue::enqueue_on(c, {"k.rolled_back", "{}", std::nullopt, std::nullopt, 0, 0}, now_ms());
    }  // not committed
    store::sql::Transaction tx(c);
    kept = JobQueue::enqueue_on(c, {"k.kept", "{}", std::nullopt, std::nullopt, 0, 0}, now_ms()).id;
    tx.commit();
    return ok_status();
  }));
  auto all = q_->list({std::nullopt, std::nullopt, std::nullopt, 0, 50});
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, kept);
  EXPECT_EQ((*all)[0].kind, "k.kept");
}

TEST_P(JobQueueTest, EnqueueManyWritesEveryJobAsGivenInStatementsOfSeveralRows) {
  store::AppRecord app{"app_m", "M", "{}", "k", 1, 1};
  ASSERT_TRUE(store_->create_app(app, {"pk_m", "app_m", "h", 1, std::nullopt}));
  auto& db = store_->database();
  const TimeMs now = now_ms();
  std::vector<jobs::NewJob> many;
  for (int i = 0; i < 71; ++i) {  // 64 + 4 + 2 + 1 rows
    jobs::NewJob j{"k.many", "{\"i\":" + std::to_string(i) + "}", std::nullopt, std::nullopt, 0, 0};
    if (i % 2) j.app_id = "app_m";
    if (i == 70) j.run_at = now + 60'000;
    j.max_attempts = i == 3 ? 7 : 0;
    j.order_key = i < 3 ? std::optional<std::string>("ok") : std::nullopt;
    many.push_back(std::move(j));
  }
  ASSERT_TRUE(db.with_conn([&](store::sql::Connection& c) -> Status {
    store::sql::Transaction tx(c);
    JobQueue::enqueue_many_on(c, many, now);
    tx.commit();
    return ok_status();
  }));
  auto all = q_->list({std::nullopt, std::nullopt, std::nullopt, 0, 100});
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 71u);
  std::map<std::string, jobs::Job> by_payload;
  for (auto& j : *all) by_payload[j.payload] = j;
  ASSERT_EQ(by_payload.size(), 71u);
  for (int i = 0; i < 71; ++i) {
    const auto& j = by_payload["{\"i\":" + std::to_string(i) + "}"];
    EXPECT_EQ(j.kind, "k.many");
    EXPECT_EQ(j.state, jobs::JobState::queued);
    EXPECT_EQ(j.app_id.has_value(), i % 2 == 1) << i;
    EXPECT_EQ(j.run_at, i == 70 ? now + 60'000 : now) << i;
    EXPECT_EQ(j.max_attempts, i == 3 ? 7 : jobs::kDefaultMaxAttempts) << i;
    EXPECT_EQ(j.order_key.has_value(), i < 3) << i;
    EXPECT_EQ(j.attempts, 0);
  }
}

TEST_P(JobQueueTest, SchedulesFireOncePerDueTimeAndMoveOn) {
  TimeMs t0 = at("2026-12-07T10:00:30Z");
  auto s = q_->put_schedule("digest", "*/5 * * * *", "k.digest", R"({"x":1})", t0);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->next_run_at, at("2026-12-07T10:05:00Z"));
  EXPECT_EQ(q_->put_schedule("bad", "* * *", "k", "{}", t0).error().code, Errc::invalid_request);
  EXPECT_EQ(q_->put_schedule("never", "0 0 30 2 *", "k", "{}", t0).error().code, Errc::invalid_request);
  EXPECT_EQ(*q_->fire_due_schedules(at("2026-12-07T10:04:59Z")), 0);
  // Down for twenty minutes: one job, not four, and the next run from now.
  EXPECT_EQ(*q_->fire_due_schedules(at("2026-12-07T10:21:00Z")), 1);
  EXPECT_EQ(*q_->fire_due_schedules(at("2026-12-07T10:21:00Z")), 0);
  auto after = q_->get_schedule("digest");
  EXPECT_EQ(after->next_run_at, at("2026-12-07T10:25:00Z"));
  EXPECT_EQ(after->last_run_at, at("2026-12-07T10:21:00Z"));
  auto jobs = q_->list({std::nullopt, std::string("k.digest"), std::nullopt, 0, 50});
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].payload, R"({"x":1})");
  EXPECT_EQ(after->last_job_id, (*jobs)[0].id);
  EXPECT_EQ(q_->list_schedules()->size(), 1u);
  EXPECT_TRUE(q_->delete_schedule("digest"));
  EXPECT_EQ(q_->delete_schedule("digest").error().code, Errc::not_found);
  EXPECT_EQ(q_->get_schedule("digest").error().code, Errc::not_found);
}

// The runner against the queue: a handler per kind, outcomes recorded, metrics counted.
class RunnerTest : public JobQueueTest {
 protected:
  RunnerOptions opts(const std::string& owner) {
    RunnerOptions o;
    o.owner = owner;
    o.workers = 2;
    o.prefetch = 8;
    o.poll_ms = 20;
    o.lease_ms = 2000;
    o.housekeeping_ms = 100;
    return o;
  }
  bool eventually(const std::function<bool()>& cond, int ms = 10'000) {
    for (int i = 0; i < ms / 10; ++i) {
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return cond();
  }
  std::int64_t count(std::optional<JobState> state) {
    return static_cast<std::int64_t>(q_->list({state, std::nullopt, std::nullopt, 0, 1000})->size());
  }
};

TEST_P(RunnerTest, RunsJobsRetriesFailuresAndKeepsDeadLetters) {
  metrics::Metrics m;
  Runner r(*q_, opts("node-a"), &m);
  std::mutex mu;
  std::map<std::int64_t, int> runs;
  r.handle("t.work", [&](const Job& j, const JobContext&) {
    std::lock_guard lock(mu);
    int n = ++runs[j.id];
    if (j.payload == R"({"fail":1})" && n == 1) return JobResult::retry("first time fails", 0);
    if (j.payload == R"({"fail":"always"})") return JobResult::retry("always fails", 0);
    if (j.payload == R"({"throw":true})") throw std::runtime_error("thrown");
    return JobResult::done();
  });
  std::vector<std::int64_t> ok;
  for (int i = 0; i < 20; ++i) ok.push_back(add("t.work"));
  auto flaky = add("t.work", R"({"fail":1})");
  auto hopeless = add("t.work", R"({"fail":"always"})", 0, 3);
  auto thrower = add("t.work", R"({"throw":true})", 0, 2);
  auto orphan = add("t.nobody");  // a kind this runner does not handle stays queued
  r.start();
  ASSERT_TRUE(eventually([&] { return count(JobState::dead) == 2 && count(JobState::queued) == 1; }))
      << count(JobState::queued) << " queued, " << count(JobState::dead) << " dead";
  r.stop();
  std::lock_guard lock(mu);
  for (auto id : ok) EXPECT_EQ(runs[id], 1) << id;
  EXPECT_EQ(runs[flaky], 2);
  EXPECT_EQ(runs[hopeless], 3);
  EXPECT_EQ(runs[thrower], 2);
  EXPECT_EQ(q_->get(flaky).error().code, Errc::not_found);
  auto h = q_->get(hopeless);
  EXPECT_EQ(h->state, JobState::dead);
  EXPECT_NE(h->last_error->find("always fails (attempt 3 of 3)"), std::string::npos) << *h->last_error;
  EXPECT_NE(q_->get(thrower)->last_error->find("handler threw: thrown"), std::string::npos);
  EXPECT_EQ(q_->get(orphan)->state, JobState::queued);
  std::string text = m.render();
  EXPECT_NE(text.find(R"(parley_jobs_finished_total{kind="t.work",outcome="succeeded"} 21)"), std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(parley_jobs_finished_total{kind="t.work",outcome="dead"} 2)"), std::string::npos);
  EXPECT_NE(text.find(R"(parley_job_run_seconds_count{kind="t.work"} 27)"), std::string::npos);
}

TEST_P(RunnerTest, StopGivesUnstartedJobsBackAndWaitsForRunningOnes) {
  auto o = opts("node-a");
  o.workers = 1;
  Runner r(*q_, o);
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  r.handle("t.slow", [&](const Job&, const JobContext& ctx) {
    ++started;
    for (int i = 0; i < 30 && !ctx.stopping(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // winds up after the stop
    ++finished;
    return JobResult::done();
  });
  for (int i = 0; i < 5; ++i) add("t.slow");
  r.start();
  ASSERT_TRUE(eventually([&] { return started.load() == 1; }));
  r.stop();
  EXPECT_EQ(started.load(), 1);
  EXPECT_EQ(finished.load(), 1);  // the running one finished before stop() returned
  EXPECT_EQ(count(JobState::running), 0);
  auto queued = q_->list({JobState::queued, std::nullopt, std::nullopt, 0, 50});
  ASSERT_EQ(queued->size(), 4u);
  for (const Job& j : *queued) {
    EXPECT_EQ(j.attempts, 0);  // released, not failed
    EXPECT_FALSE(j.lease_owner);
  }
}

TEST_P(RunnerTest, AJobOfADeadWorkerRunsAgainAfterItsLease) {
  auto id = add("t.work");
  TimeMs now = now_ms();
  // A worker that claimed it and died: its lease runs for 300 ms and is never extended.
  ASSERT_EQ(q_->claim("dead-node", {"t.work"}, 1, now, now + 300)->size(), 1u);
  Runner r(*q_, opts("node-b"));
  std::atomic<int> attempts{0};
  r.handle("t.work", [&](const Job& j, const JobContext&) {
    attempts = j.attempts;
    return JobResult::done();
  });
  r.start();
  ASSERT_TRUE(eventually([&] { return !q_->get(id); }));
  r.stop();
  EXPECT_EQ(attempts.load(), 2);
}

TEST_P(RunnerTest, AJobWhoseLeaseExpiredWithNoAttemptsLeftIsReportedToItsKind) {
  auto id = add("t.work", "{}", 0, 1);
  TimeMs now = now_ms();
  ASSERT_EQ(q_->claim("dead-node", {"t.work"}, 1, now, now + 300)->size(), 1u);
  Runner r(*q_, opts("node-b"));
  std::atomic<int> runs{0};
  r.handle("t.work", [&](const Job&, const JobContext&) {
    ++runs;
    return JobResult::done();
  });
  std::mutex mu;
  std::vector<Job> expired;
  r.on_expired("t.work", [&](const Job& j) {
    std::lock_guard lock(mu);
    expired.push_back(j);
  });
  r.start();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return !expired.empty();
  }));
  r.stop();
  EXPECT_EQ(runs.load(), 0);
  std::lock_guard lock(mu);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, id);
  EXPECT_EQ(expired[0].state, jobs::JobState::dead);
  EXPECT_NE(expired[0].last_error.value_or("").find("lease expired"), std::string::npos);
  EXPECT_EQ(q_->get(id)->state, jobs::JobState::dead);
}

TEST_P(RunnerTest, TwoRunnersOnOneDatabaseRunEachJobOnce) {
  constexpr int kJobs = 300;
  std::mutex mu;
  std::map<std::int64_t, int> runs;
  std::set<std::string> owners;
  auto handler = [&](const std::string& owner) {
    return [&, owner](const Job& j, const JobContext&) {
      std::lock_guard lock(mu);
      ++runs[j.id];
      owners.insert(owner);
      return JobResult::done();
    };
  };
  // Each runner on its own store (its own pool), as two processes would be.
  auto other_store = store::open_store(url_, 4);
  JobQueue other_q(other_store->database());
  for (int i = 0; i < kJobs; ++i) add("t.work");
  Runner a(*q_, opts("node-a"));
  Runner b(other_q, opts("node-b"));
  a.handle("t.work", handler("node-a"));
  b.handle("t.work", handler("node-b"));
  a.start();
  b.start();
  ASSERT_TRUE(eventually([&] { return count(std::nullopt) == 0; })) << count(std::nullopt) << " left";
  a.stop();
  b.stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(runs.size(), static_cast<std::size_t>(kJobs));
  for (const auto& [id, n] : runs) EXPECT_EQ(n, 1) << id;
}

TEST_P(RunnerTest, SchedulesEnqueueAndRun) {
  ASSERT_TRUE(q_->put_schedule("tick", "* * * * * *", "t.tick", "{}", now_ms()));
  Runner r(*q_, opts("node-a"));
  std::atomic<int> ticks{0};
  r.handle("t.tick", [&](const Job& j, const JobContext&) {
    EXPECT_EQ(j.unique_key->rfind("schedule:tick:", 0), 0u);
    ++ticks;
    return JobResult::done();
  });
  r.start();
  ASSERT_TRUE(eventually([&] { return ticks.load() >= 2; }, 5000));
  r.stop();
}

INSTANTIATE_TEST_SUITE_P(Stores, JobQueueTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Stores, RunnerTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace parley::jobs
