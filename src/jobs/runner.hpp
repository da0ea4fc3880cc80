#pragma once
// The job runner of one Parley process: a poller thread that claims due jobs in batches (with a
// lease it keeps extending while they run), recovers jobs whose worker died elsewhere, fires cron
// schedules and refreshes the queue gauges; and worker threads that run each job's handler and
// hand the outcome back, recorded in batches. A failed run is retried with exponential backoff
// and jitter until its attempts are spent, then kept as a dead letter. stop() claims nothing
// more, gives unstarted jobs back, and waits for running ones to finish (handlers see
// ctx.stopping() and may give their job back early). Thread-safe.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_annotations.hpp"
#include "jobs/job_queue.hpp"

namespace parley::metrics {
class Metrics;
}

namespace parley::jobs {

/// What a handler made of its job.
struct JobResult {
  enum class How { done, retry, fail, release } how = How::done;
  std::string error;
  std::optional<TimeMs> retry_after_ms;  // retry: instead of the backoff schedule

  static JobResult done() { return {}; }
  /// Failed this time; runs again after the backoff (or `after_ms`) unless out of attempts.
  static JobResult retry(std::string error, std::optional<TimeMs> after_ms = std::nullopt) {
    return {How::retry, std::move(error), after_ms};
  }
  /// Failed for good (retrying cannot help): a dead letter at once.
  static JobResult fail(std::string error) { return {How::fail, std::move(error), std::nullopt}; }
  /// Not run (the process is stopping): back to the queue, the attempt not counted.
  static JobResult release() { return {How::release, {}, std::nullopt}; }
};

class JobContext {
 public:
  explicit JobContext(std::function<bool()> stopping) : stopping_(std::move(stopping)) {}
  /// True once the runner is stopping: a long handler should wind up or release its job.
  bool stopping() const { return stopping_(); }

 private:
  std::function<bool()> stopping_;
};

/// Runs one job. Called on a worker thread; may block (on the database, the network).
using Handler = std::function<JobResult(const Job& job, const JobContext& ctx)>;

struct RunnerOptions {
  std::string owner;           // this process's lease owner name (unique per process)
  int workers = 2;             // threads running handlers
  int prefetch = 64;           // jobs claimed and waiting or running at most, per process
  int poll_ms = 250;           // how often an idle runner looks for due jobs
  int lease_ms = 30'000;       // how long a claim holds without a heartbeat
  int grace_ms = 10'000;       // how long stop() waits for running jobs before saying so
  int housekeeping_ms = 1000;  // lease recovery, schedules and gauges this often
};

class Runner {
 public:
  Runner(JobQueue& queue, RunnerOptions opts, metrics::Metrics* metrics = nullptr);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  /// Registers the handler of `kind`; before start().
  void handle(const std::string& kind, Handler h);
  /// Called (before start) for jobs of `kind` that became dead letters without their handler
  /// saying so: their lease expired with no attempts left (the worker died or hung). Runs on
  /// the housekeeping thread of the node that found them; must not block for long.
  void on_expired(const std::string& kind, std::function<void(const Job& job)> f);
  void start();
  /// Graceful stop (see the file comment); idempotent.
  void stop();
  /// Something was enqueued: look for due jobs now rather than at the next poll.
  void wake();

  const std::string& owner() const { return opts_.owner; }
  /// The queue as of the last housekeeping (for the gauges).
  QueueStats last_stats() const;

 private:
  struct Claimed {
    Job job;
  };
  void poll_loop();
  void work_loop();
  void housekeeping(TimeMs now);
  void flush();
  Finished outcome(const Job& job, const JobResult& r, TimeMs now) const;

  JobQueue& queue_;
  RunnerOptions opts_;
  metrics::Metrics* metrics_;
  std::map<std::string, Handler> handlers_;                         // fixed once started
  std::map<std::string, std::function<void(const Job&)>> expired_;  // fixed once started
  std::vector<std::string> kinds_;

  mutable Mutex mu_;
  std::condition_variable poll_cv_;  // the poller waits: for wake(), finished jobs, room
  std::condition_variable work_cv_;  // workers wait: for claimed jobs, stop
  std::deque<Job> pending_ GUARDED_BY(mu_);
  std::vector<Finished> done_ GUARDED_BY(mu_);
  int running_ GUARDED_BY(mu_) = 0;
  bool wake_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  bool started_ GUARDED_BY(mu_) = false;
  QueueStats stats_ GUARDED_BY(mu_);
  std::atomic<bool> stop_flag_{false};

  std::thread poller_;
  std::vector<std::thread> workers_;
  TimeMs next_heartbeat_ = 0;     // poller thread only
  TimeMs next_housekeeping_ = 0;  // poller thread only
};

}  // namespace parley::jobs
