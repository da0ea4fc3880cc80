#pragma once
// The job queue's repository: jobs and cron schedules in the store's database, over the shared
// SQL layer (store/sql/database.hpp), its queries written once for both databases. Workers claim
// due jobs with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL, so several Parley processes on one
// database share the work and never hold the same job at once; SQLite has one writer anyway).
// The runner (jobs/runner.hpp) drives it; the admin API and the CLI read and repair it.
// Thread-safe; calls block on the database, so make them from a database or worker thread.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/time.hpp"
#include "jobs/job.hpp"

namespace parley::store::sql {
class Connection;
class Database;
}  // namespace parley::store::sql

namespace parley::jobs {

/// The ceiling on attempts a job may be given.
inline constexpr int kMaxAttemptsLimit = 100;
/// Attempts a job gets when neither it nor its kind says otherwise.
inline constexpr int kDefaultMaxAttempts = 10;

/// What a worker reports about a job it held.
struct Finished {
  std::int64_t id = 0;
  enum class How { succeeded, retry, dead, released } how = How::succeeded;
  std::string error;    // retry and dead: why it failed
  TimeMs retry_at = 0;  // retry: when it runs again
};

class JobQueue {
 public:
  explicit JobQueue(store::sql::Database& db) : db_(db) {}

  /// Enqueues `job` in its own transaction.
  Result<Enqueued> enqueue(const NewJob& job);
  /// Enqueues `job` on `c` inside the caller's open transaction, so the job exists exactly when
  /// the change that causes it commits (the transactional outbox). Throws the driver's DbError
  /// on failure, like every statement on `c`.
  static Enqueued enqueue_on(store::sql::Connection& c, const NewJob& job, TimeMs now);
  /// Enqueues many jobs without unique keys on `c` inside the caller's transaction, a few dozen
  /// rows per statement (one INSERT per job costs a writer several times as much). Throws like
  /// enqueue_on; a job with a unique key is refused with std::invalid_argument.
  static void enqueue_many_on(store::sql::Connection& c, const std::vector<NewJob>& jobs, TimeMs now);

  /// Claims up to `n` due jobs of `kinds` for `owner`, leased until `lease_until`, oldest due
  /// first; each claim counts as an attempt.
  Result<std::vector<Job>> claim(const std::string& owner, const std::vector<std::string>& kinds, int n, TimeMs now,
                                 TimeMs lease_until);
  /// Records what became of jobs `owner` held, in one transaction: success deletes the job,
  /// retry queues it again, dead makes it a dead letter, released gives it back unstarted (the
  /// attempt does not count). A job whose lease `owner` no longer holds is left alone. Returns
  /// how many were still held.
  Result<int> finish(const std::string& owner, const std::vector<Finished>& done, TimeMs now);
  /// Extends every lease `owner` holds to `lease_until`; returns how many.
  Result<int> extend_leases(const std::string& owner, TimeMs lease_until);
  /// Jobs whose lease ran out (their worker died or hung) go back to the queue, or to the dead
  /// letters when out of attempts. Returns how many were recovered.
  /// The jobs that became dead letters so are appended to `dead` (when given).
  Result<int> recover_expired(TimeMs now, std::vector<Job>* dead = nullptr);

  Result<Job> get(std::int64_t id);
  /// Newest first.
  Result<std::vector<Job>> list(const JobFilter& filter);
  /// A dead or queued job runs again now with a fresh set of attempts; a running one is a
  /// conflict.
  Result<Job> retry(std::int64_t id, TimeMs now);
  /// Deletes a queued or dead job; a running one is a conflict.
  Status remove(std::int64_t id);
  /// Deletes the dead letters (of one kind, or all); returns how many.
  Result<std::int64_t> purge_dead(const std::optional<std::string>& kind);
  Result<QueueStats> stats(TimeMs now);

  /// Creates or replaces a schedule; its next run is computed from `now`.
  Result<Schedule> put_schedule(const std::string& name, const std::string& cron, const std::string& kind,
                                const std::string& payload, TimeMs now);
  Result<Schedule> get_schedule(const std::string& name);
  Result<std::vector<Schedule>> list_schedules();
  Status delete_schedule(const std::string& name);
  /// Enqueues one job for every schedule that is due and moves it to its next time, each in one
  /// transaction that locks the schedule (SKIP LOCKED), so one node fires it once. A schedule
  /// that missed several times (the server was down) fires once. Returns the jobs enqueued.
  Result<int> fire_due_schedules(TimeMs now);

 private:
  store::sql::Database& db_;
};

/// The delay before attempt `attempt` + 1 after `attempt` failed: exponential (1 s, 2 s, 4 s …
/// capped at one hour) with equal jitter (half fixed, half random).
TimeMs backoff_ms(int attempt);

}  // namespace parley::jobs
