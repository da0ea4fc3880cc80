#pragma once
// The records of the job queue: a job, what enqueueing one takes, a cron schedule, the queue's
// counts. Plain values; thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace parley::jobs {

/// queued: waits for its run_at; running: a worker holds its lease; dead: out of attempts (a
/// dead letter, kept until retried or deleted). A job that succeeds is deleted.
enum class JobState { queued, running, dead };

std::string_view state_name(JobState s);
std::optional<JobState> parse_state(std::string_view name);

struct Job {
  std::int64_t id = 0;
  std::optional<std::string> app_id;
  std::string kind;
  std::string payload = "{}";  // a JSON object
  JobState state = JobState::queued;
  std::optional<std::string> unique_key;
  std::optional<std::string> order_key;
  TimeMs run_at = 0;
  int attempts = 0;  // runs started so far (the running one included)
  int max_attempts = 0;
  std::optional<std::string> lease_owner;
  std::optional<TimeMs> lease_until;
  std::optional<std::string> last_error;
  TimeMs created_at = 0;
  std::optional<TimeMs> started_at;
  TimeMs updated_at = 0;
};

struct NewJob {
  std::string kind;
  std::string payload = "{}";
  std::optional<std::string> app_id;
  /// At most one job per (kind, unique_key) exists until it succeeds or its dead letter is
  /// deleted: enqueueing another returns the existing one.
  std::optional<std::string> unique_key;
  TimeMs run_at = 0;     // 0: now
  int max_attempts = 0;  // 0: the kind's default
  /// Jobs with the same order key run one at a time, in enqueue order: a later one is not
  /// claimed while an earlier one is queued (also waiting for a retry) or running. A dead
  /// letter no longer holds the others back.
  std::optional<std::string> order_key = std::nullopt;
};

struct Enqueued {
  std::int64_t id = 0;
  bool duplicate = false;  // a job with the same unique key already existed
};

struct Schedule {
  std::string name;
  std::string cron;
  std::string kind;
  std::string payload = "{}";
  TimeMs next_run_at = 0;
  std::optional<TimeMs> last_run_at;
  std::optional<std::int64_t> last_job_id;
  TimeMs created_at = 0;
  TimeMs updated_at = 0;
};

struct KindCount {
  std::string kind;
  JobState state = JobState::queued;
  std::int64_t count = 0;
};

struct QueueStats {
  std::int64_t queued = 0;
  std::int64_t running = 0;
  std::int64_t dead = 0;
  std::int64_t ready = 0;                 // queued and due now
  std::optional<TimeMs> oldest_ready_at;  // the run_at of the longest-waiting due job
  std::vector<KindCount> by_kind;
};

/// Filter for listing jobs (newest first).
struct JobFilter {
  std::optional<JobState> state;
  std::optional<std::string> kind;
  std::optional<std::string> app_id;
  std::int64_t before_id = 0;  // 0: from the newest
  int limit = 50;
};

}  // namespace parley::jobs
