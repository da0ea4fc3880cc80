#include "jobs/job_queue.hpp"

#include <algorithm>
#include <random>

#include "jobs/cron.hpp"
#include "store/sql/database.hpp"

namespace parley::jobs {

using store::sql::Connection;
using store::sql::Statement;
using store::sql::Transaction;

namespace {

constexpr const char* kJobColumns =
    "id, app_id, kind, payload, state, unique_key, run_at, attempts, max_attempts, lease_owner, lease_until, "
    "last_error, created_at, started_at, updated_at, order_key";

Job read_job(const Statement& st) {
  Job j;
  j.id = st.int64(0);
  j.app_id = st.opt_text(1);
  j.kind = st.text(2);
  j.payload = st.text(3);
  j.state = parse_state(st.text(4)).value_or(JobState::queued);
  j.unique_key = st.opt_text(5);
  j.run_at = st.int64(6);
  j.attempts = static_cast<int>(st.int64(7));
  j.max_attempts = static_cast<int>(st.int64(8));
  j.lease_owner = st.opt_text(9);
  j.lease_until = st.opt_int64(10);
  j.last_error = st.opt_text(11);
  j.created_at = st.int64(12);
  j.started_at = st.opt_int64(13);
  j.updated_at = st.int64(14);
  j.order_key = st.opt_text(15);
  return j;
}

constexpr const char* kScheduleColumns =
    "name, cron, kind, payload, next_run_at, last_run_at, last_job_id, created_at, updated_at";

Schedule read_schedule(const Statement& st) {
  return {st.text(0),      st.text(1),      st.text(2),  st.text(3), st.int64(4),
          st.opt_int64(5), st.opt_int64(6), st.int64(7), st.int64(8)};
}

std::optional<Job> job_on(Connection& c, std::int64_t id) {
  auto st = c.prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = $1");
  st->bind(1, id);
  if (!st->step()) return std::nullopt;
  return read_job(*st);
}

Error no_job(std::int64_t id) {
  return Error{Errc::not_found, "no job " + std::to_string(id)}.with("job_id", std::to_string(id));
}

// Errors are kept short: the start of a stack of messages is what an operator reads.
std::string clip(const std::string& s) { return s.size() <= 2000 ? s : s.substr(0, 2000); }

}  // namespace

TimeMs backoff_ms(int attempt) {
  constexpr TimeMs kBase = 1000;
  constexpr TimeMs kCap = 3'600'000;
  TimeMs delay = kBase;
  for (int i = 1; i < attempt && delay < kCap; ++i) delay *= 2;
  delay = std::min(delay, kCap);
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_int_distribution<TimeMs> half(0, delay / 2);
  return delay - delay / 2 + half(rng);
}

Enqueued JobQueue::enqueue_on(Connection& c, const NewJob& job, TimeMs now) {
  TimeMs run_at = job.run_at > 0 ? job.run_at : now;
  int max_attempts = job.max_attempts > 0 ? std::min(job.max_attempts, kMaxAttemptsLimit) : kDefaultMaxAttempts;
  // Another transaction may delete the job holding the unique key between the two statements;
  // then the insert is tried again.
  for (int round = 0;; ++round) {
    auto ins = c.prepare(
        "INSERT INTO jobs(app_id, kind, payload, state, unique_key, run_at, attempts, max_attempts, created_at, "
        "updated_at, order_key) VALUES($1, $2, $3, 'queued', $4, $5, 0, $6, $7, $7, $8) "
        "ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL DO NOTHING RETURNING id");
    ins->bind(1, job.app_id).bind(2, job.kind).bind(3, job.payload).bind(4, job.unique_key).bind(5, run_at);
    ins->bind(6, max_attempts).bind(7, now).bind(8, job.order_key);
    if (ins->step()) return {ins->int64(0), false};
    ins.reset();
    auto existing = c.prepare("SELECT id FROM jobs WHERE kind = $1 AND unique_key = $2");
    existing->bind(1, job.kind).bind(2, job.unique_key);
    if (existing->step() || round >= 2) return {existing->int64(0), true};
  }
}

void JobQueue::enqueue_many_on(Connection& c, const std::vector<NewJob>& jobs, TimeMs now) {
  constexpr std::size_t kPerRow = 6;
  for (std::size_t at = 0; at < jobs.size();) {
    // Row counts are powers of two up to 64, so that few statement texts are cached.
    std::size_t n = 64;
    while (n > jobs.size() - at) n /= 2;
    std::string sql =
        "INSERT INTO jobs(app_id, kind, payload, state, run_at, attempts, max_attempts, created_at, updated_at, "
        "order_key) VALUES ";
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t p = 2 + i * kPerRow;
      auto arg = [&](std::size_t k) { return "$" + std::to_string(p + k); };
      sql += (i ? ", (" : "(") + arg(0) + ", " + arg(1) + ", " + arg(2) + ", 'queued', " + arg(3) + ", 0, " + arg(4) +
             ", $1, $1, " + arg(5) + ")";
    }
    auto ins = c.prepare(sql);
    ins->bind(1, now);
    for (std::size_t i = 0; i < n; ++i) {
      const NewJob& job = jobs[at + i];
      if (job.unique_key) throw std::invalid_argument("enqueue_many_on: job with a unique key");
      const int p = static_cast<int>(2 + i * kPerRow);
      const int max_attempts =
          job.max_attempts > 0 ? std::min(job.max_attempts, kMaxAttemptsLimit) : kDefaultMaxAttempts;
      ins->bind(p, job.app_id).bind(p + 1, job.kind).bind(p + 2, job.payload);
      ins->bind(p + 3, job.run_at > 0 ? job.run_at : now).bind(p + 4, max_attempts).bind(p + 5, job.order_key);
    }
    ins->run();
    at += n;
  }
}

Result<Enqueued> JobQueue::enqueue(const NewJob& job) {
  return db_.with_conn([&](Connection& c) -> Result<Enqueued> {
    Transaction tx(c);
    Enqueued e = enqueue_on(c, job, now_ms());
    tx.commit();
    return e;
  });
}

Result<std::vector<Job>> JobQueue::claim(const std::string& owner, const std::vector<std::string>& kinds, int n,
                                         TimeMs now, TimeMs lease_until) {
  if (kinds.empty() || n <= 0) return std::vector<Job>{};
  std::string in;
  for (std::size_t i = 0; i < kinds.size(); ++i) in += (i ? ", $" : "$") + std::to_string(i + 5);
  std::string sql =
      "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, "
      "started_at = $3, updated_at = $3 WHERE id IN (SELECT id FROM jobs q WHERE state = 'queued' AND run_at <= $3 "
      "AND kind IN (" +
      in +
      ") AND (order_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs e WHERE e.order_key = q.order_key "
      "AND e.id < q.id AND e.state IN ('queued', 'running'))) "
      "ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING " +
      kJobColumns;
  return db_.with_conn([&](Connection& c) -> Result<std::vector<Job>> {
    Transaction tx(c);
    auto st = c.prepare(sql);
    st->bind(1, owner).bind(2, lease_until).bind(3, now).bind(4, n);
    for (std::size_t i = 0; i < kinds.size(); ++i) st->bind(static_cast<int>(i) + 5, kinds[i]);
    std::vector<Job> out;
    while (st->step()) out.push_back(read_job(*st));
    st.reset();
    tx.commit();
    std::sort(out.begin(), out.end(),
              [](const Job& a, const Job& b) { return a.run_at != b.run_at ? a.run_at < b.run_at : a.id < b.id; });
    return out;
  });
}

Result<int> JobQueue::finish(const std::string& owner, const std::vector<Finished>& done, TimeMs now) {
  if (done.empty()) return 0;
  return db_.with_conn([&](Connection& c) -> Result<int> {
    Transaction tx(c);
    int held = 0;
    for (const Finished& f : done) {
      switch (f.how) {
        case Finished::How::succeeded: {
          auto st = c.prepare("DELETE FROM jobs WHERE id = $1 AND lease_owner = $2 AND state = 'running'");
          st->bind(1, f.id).bind(2, owner).run();
          break;
        }
        case Finished::How::retry:
        case Finished::How::dead: {
          auto st = c.prepare(
              "UPDATE jobs SET state = $3, run_at = $4, lease_owner = NULL, lease_until = NULL, last_error = $5, "
              "updated_at = $6 WHERE id = $1 AND lease_owner = $2 AND state = 'running'");
          bool dead = f.how == Finished::How::dead;
          st->bind(1, f.id).bind(2, owner).bind(3, dead ? "dead" : "queued").bind(4, dead ? now : f.retry_at);
          st->bind(5, clip(f.error)).bind(6, now).run();
          break;
        }
        case Finished::How::released: {
          auto st = c.prepare(
              "UPDATE jobs SET state = 'queued', attempts = GREATEST(attempts - 1, 0), lease_owner = NULL, "
              "lease_until = NULL, updated_at = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'");
          st->bind(1, f.id).bind(2, owner).bind(3, now).run();
          break;
        }
      }
      held += static_cast<int>(c.changes());
    }
    tx.commit();
    return held;
  });
}

Result<int> JobQueue::extend_leases(const std::string& owner, TimeMs lease_until) {
  return db_.with_conn([&](Connection& c) -> Result<int> {
    auto st = c.prepare("UPDATE jobs SET lease_until = $2 WHERE lease_owner = $1 AND state = 'running'");
    st->bind(1, owner).bind(2, lease_until).run();
    return static_cast<int>(c.changes());
  });
}

Result<int> JobQueue::recover_expired(TimeMs now, std::vector<Job>* dead_jobs) {
  return db_.with_conn([&](Connection& c) -> Result<int> {
    Transaction tx(c);
    auto dead = c.prepare(
        std::string("UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_until = NULL, updated_at = $1, "
                    "last_error = 'lease expired: the worker stopped or hung, and no attempts are left' "
                    "WHERE state = 'running' AND lease_until < $1 AND attempts >= max_attempts RETURNING ") +
        kJobColumns);
    dead->bind(1, now);
    std::int64_t n = 0;
    std::vector<Job> gone;
    while (dead->step()) {
      gone.push_back(read_job(*dead));
      ++n;
    }
    dead.reset();
    auto again = c.prepare(
        "UPDATE jobs SET state = 'queued', run_at = $1, lease_owner = NULL, lease_until = NULL, updated_at = $1, "
        "last_error = 'lease expired: the worker stopped or hung' WHERE state = 'running' AND lease_until < $1");
    again->bind(1, now).run();
    n += c.changes();
    tx.commit();
    if (dead_jobs) dead_jobs->insert(dead_jobs->end(), gone.begin(), gone.end());
    return static_cast<int>(n);
  });
}

Result<Job> JobQueue::get(std::int64_t id) {
  return db_.with_conn([&](Connection& c) -> Result<Job> {
    auto j = job_on(c, id);
    if (!j) return no_job(id);
    return *j;
  });
}

Result<std::vector<Job>> JobQueue::list(const JobFilter& f) {
  return db_.with_conn([&](Connection& c) -> Result<std::vector<Job>> {
    auto st =
        c.prepare(std::string("SELECT ") + kJobColumns +
                  " FROM jobs WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2) "
                  "AND ($3::text IS NULL OR app_id = $3) AND ($4::bigint = 0 OR id < $4) ORDER BY id DESC LIMIT $5");
    std::optional<std::string> state;
    if (f.state) state = std::string(state_name(*f.state));
    st->bind(1, state).bind(2, f.kind).bind(3, f.app_id).bind(4, f.before_id).bind(5, f.limit);
    std::vector<Job> out;
    while (st->step()) out.push_back(read_job(*st));
    return out;
  });
}

Result<Job> JobQueue::retry(std::int64_t id, TimeMs now) {
  return db_.with_conn([&](Connection& c) -> Result<Job> {
    Transaction tx(c);
    auto st = c.prepare(
        "UPDATE jobs SET state = 'queued', run_at = $2, attempts = 0, lease_owner = NULL, lease_until = NULL, "
        "updated_at = $2 WHERE id = $1 AND state <> 'running'");
    st->bind(1, id).bind(2, now).run();
    bool changed = c.changes() > 0;
    auto j = job_on(c, id);
    if (!j) return no_job(id);
    if (!changed) return Error{Errc::conflict, "job " + std::to_string(id) + " is running; retry it once it stops"};
    tx.commit();
    return *j;
  });
}

Status JobQueue::remove(std::int64_t id) {
  return db_.with_conn([&](Connection& c) -> Status {
    Transaction tx(c);
    auto st = c.prepare("DELETE FROM jobs WHERE id = $1 AND state <> 'running'");
    st->bind(1, id).run();
    if (c.changes() == 0) {
      if (!job_on(c, id)) return no_job(id);
      return Error{Errc::conflict, "job " + std::to_string(id) + " is running; it cannot be deleted now"};
    }
    tx.commit();
    return ok_status();
  });
}

Result<std::int64_t> JobQueue::purge_dead(const std::optional<std::string>& kind) {
  return db_.with_conn([&](Connection& c) -> Result<std::int64_t> {
    auto st = c.prepare("DELETE FROM jobs WHERE state = 'dead' AND ($1::text IS NULL OR kind = $1)");
    st->bind(1, kind).run();
    return c.changes();
  });
}

Result<QueueStats> JobQueue::stats(TimeMs now) {
  return db_.with_conn([&](Connection& c) -> Result<QueueStats> {
    Transaction tx(c, Transaction::Kind::read_snapshot);
    QueueStats s;
    auto st = c.prepare("SELECT kind, state, count(*) FROM jobs GROUP BY kind, state ORDER BY kind, state");
    while (st->step()) {
      auto state = parse_state(st->text(1)).value_or(JobState::queued);
      std::int64_t n = st->int64(2);
      s.by_kind.push_back({st->text(0), state, n});
      (state == JobState::queued ? s.queued : state == JobState::running ? s.running : s.dead) += n;
    }
    st.reset();
    auto ready = c.prepare("SELECT count(*), min(run_at) FROM jobs WHERE state = 'queued' AND run_at <= $1");
    ready->bind(1, now);
    if (ready->step()) {
      s.ready = ready->int64(0);
      s.oldest_ready_at = ready->opt_int64(1);
    }
    return s;
  });
}

Result<Schedule> JobQueue::put_schedule(const std::string& name, const std::string& cron, const std::string& kind,
                                        const std::string& payload, TimeMs now) {
  PARLEY_ASSIGN_OR_RETURN(auto parsed, Cron::parse(cron));
  auto next = parsed.next_after(now);
  if (!next) {
    return Error{Errc::invalid_request, "cron expression '" + cron + "' never matches"}.with("field", "cron");
  }
  return db_.with_conn([&](Connection& c) -> Result<Schedule> {
    Transaction tx(c);
    auto st = c.prepare(
        "INSERT INTO job_schedules(name, cron, kind, payload, next_run_at, created_at, updated_at) "
        "VALUES($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, "
        "kind = excluded.kind, payload = excluded.payload, next_run_at = excluded.next_run_at, "
        "updated_at = excluded.updated_at RETURNING " +
        std::string(kScheduleColumns));
    st->bind(1, name).bind(2, parsed.text()).bind(3, kind).bind(4, payload).bind(5, *next).bind(6, now);
    st->step();
    Schedule s = read_schedule(*st);
    st.reset();
    tx.commit();
    return s;
  });
}

Result<Schedule> JobQueue::get_schedule(const std::string& name) {
  return db_.with_conn([&](Connection& c) -> Result<Schedule> {
    auto st = c.prepare(std::string("SELECT ") + kScheduleColumns + " FROM job_schedules WHERE name = $1");
    st->bind(1, name);
    if (!st->step()) return Error{Errc::not_found, "no job schedule '" + name + "'"}.with("name", name);
    return read_schedule(*st);
  });
}

Result<std::vector<Schedule>> JobQueue::list_schedules() {
  return db_.with_conn([&](Connection& c) -> Result<std::vector<Schedule>> {
    auto st = c.prepare(std::string("SELECT ") + kScheduleColumns + " FROM job_schedules ORDER BY name");
    std::vector<Schedule> out;
    while (st->step()) out.push_back(read_schedule(*st));
    return out;
  });
}

Status JobQueue::delete_schedule(const std::string& name) {
  return db_.with_conn([&](Connection& c) -> Status {
    auto st = c.prepare("DELETE FROM job_schedules WHERE name = $1");
    st->bind(1, name).run();
    if (c.changes() == 0) return Error{Errc::not_found, "no job schedule '" + name + "'"}.with("name", name);
    return ok_status();
  });
}

Result<int> JobQueue::fire_due_schedules(TimeMs now) {
  return db_.with_conn([&](Connection& c) -> Result<int> {
    int fired = 0;
    for (;;) {
      Transaction tx(c);
      auto st = c.prepare(std::string("SELECT ") + kScheduleColumns +
                          " FROM job_schedules WHERE next_run_at <= $1 ORDER BY next_run_at, name LIMIT 1 "
                          "FOR UPDATE SKIP LOCKED");
      st->bind(1, now);
      if (!st->step()) return fired;
      Schedule s = read_schedule(*st);
      st.reset();
      NewJob job{s.kind, s.payload, std::nullopt, "schedule:" + s.name + ":" + std::to_string(s.next_run_at), 0, 0};
      Enqueued e = enqueue_on(c, job, now);
      auto cron = Cron::parse(s.cron);
      std::optional<TimeMs> next = cron ? cron->next_after(now) : std::nullopt;
      // A schedule that can no longer run (its expression was valid when stored) is parked a
      // year ahead rather than fired again in a loop.
      auto up = c.prepare(
          "UPDATE job_schedules SET next_run_at = $2, last_run_at = $3, last_job_id = $4, updated_at = $3 "
          "WHERE name = $1");
      up->bind(1, s.name).bind(2, next.value_or(now + 365LL * 86'400'000)).bind(3, now).bind(4, e.id).run();
      tx.commit();
      ++fired;
    }
  });
}

}  // namespace parley::jobs
