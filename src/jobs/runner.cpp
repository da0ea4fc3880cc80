#include "jobs/runner.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>

#include "metrics/metrics.hpp"

namespace parley::jobs {

namespace {

std::string_view outcome_name(Finished::How h) {
  switch (h) {
    case Finished::How::succeeded: return "succeeded";
    case Finished::How::retry: return "retried";
    case Finished::How::dead: return "dead";
    case Finished::How::released: return "released";
  }
  return "succeeded";
}

}  // namespace

Runner::Runner(JobQueue& queue, RunnerOptions opts, metrics::Metrics* metrics)
    : queue_(queue), opts_(std::move(opts)), metrics_(metrics) {
  if (opts_.workers < 1) opts_.workers = 1;
  if (opts_.prefetch < opts_.workers) opts_.prefetch = opts_.workers;
  if (opts_.lease_ms < 1000) opts_.lease_ms = 1000;
}

Runner::~Runner() { stop(); }

void Runner::handle(const std::string& kind, Handler h) {
  handlers_[kind] = std::move(h);
  kinds_.clear();
  for (const auto& [k, _] : handlers_) kinds_.push_back(k);
}

void Runner::on_expired(const std::string& kind, std::function<void(const Job& job)> f) {
  expired_[kind] = std::move(f);
}

void Runner::start() {
  {
    MutexLock lock(mu_);
    if (started_) return;
    started_ = true;
  }
  poller_ = std::thread([this] { poll_loop(); });
  for (int i = 0; i < opts_.workers; ++i) workers_.emplace_back([this] { work_loop(); });
}

void Runner::wake() {
  MutexLock lock(mu_);
  wake_ = true;
  poll_cv_.notify_one();
}

QueueStats Runner::last_stats() const {
  MutexLock lock(mu_);
  return stats_;
}

void Runner::stop() {
  {
    MutexLock lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
    stop_flag_.store(true);
    poll_cv_.notify_all();
    work_cv_.notify_all();
  }
  poller_.join();
  for (auto& w : workers_) w.join();
  flush();  // what finished after the poller's last flush
}

Finished Runner::outcome(const Job& job, const JobResult& r, TimeMs now) const {
  switch (r.how) {
    case JobResult::How::done: return {job.id, Finished::How::succeeded, {}, 0};
    case JobResult::How::release: return {job.id, Finished::How::released, {}, 0};
    case JobResult::How::fail: return {job.id, Finished::How::dead, r.error, 0};
    case JobResult::How::retry: break;
  }
  if (job.attempts >= job.max_attempts) {
    return {job.id, Finished::How::dead,
            r.error + " (attempt " + std::to_string(job.attempts) + " of " + std::to_string(job.max_attempts) + ")", 0};
  }
  return {job.id, Finished::How::retry, r.error, now + r.retry_after_ms.value_or(backoff_ms(job.attempts))};
}

void Runner::work_loop() {
  JobContext ctx([this] { return stop_flag_.load(); });
  for (;;) {
    Job job;
    {
      MutexLock lock(mu_);
      while (pending_.empty() && !stopping_) lock.wait(work_cv_);
      if (stopping_) return;  // the poller gives unstarted jobs back
      job = std::move(pending_.front());
      pending_.pop_front();
      ++running_;
    }
    auto start = std::chrono::steady_clock::now();
    JobResult r;
    auto it = handlers_.find(job.kind);
    try {
      r = it != handlers_.end() ? it->second(job, ctx) : JobResult::fail("no handler for kind '" + job.kind + "'");
    } catch (const std::exception& ex) {
      r = JobResult::retry(std::string("handler threw: ") + ex.what());
    } catch (...) {
      r = JobResult::retry("handler threw a non-standard exception");
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Finished f = outcome(job, r, now_ms());
    if (metrics_) metrics_->observe_job(job.kind, outcome_name(f.how), seconds);
    if (f.how == Finished::How::dead) spdlog::warn("job {} ({}) is dead: {}", job.id, job.kind, f.error);
    MutexLock lock(mu_);
    done_.push_back(std::move(f));
    --running_;
    poll_cv_.notify_one();
  }
}

void Runner::flush() {
  std::vector<Finished> batch;
  {
    MutexLock lock(mu_);
    batch.swap(done_);
  }
  if (batch.empty()) return;
  auto held = queue_.finish(opts_.owner, batch, now_ms());
  if (!held) {
    spdlog::warn("jobs: recording {} finished jobs failed: {}; their leases will expire and they run again",
                 batch.size(), held.error().message);
  } else if (*held < static_cast<int>(batch.size())) {
    spdlog::warn("jobs: {} of {} finished jobs had lost their lease (it expired); their outcome was dropped",
                 batch.size() - static_cast<std::size_t>(*held), batch.size());
  }
}

void Runner::housekeeping(TimeMs now) {
  if (now >= next_heartbeat_) {
    next_heartbeat_ = now + opts_.lease_ms / 3;
    if (auto r = queue_.extend_leases(opts_.owner, now + opts_.lease_ms); !r) {
      spdlog::warn("jobs: extending leases failed: {}", r.error().message);
    }
  }
  if (now < next_housekeeping_) return;
  next_housekeeping_ = now + opts_.housekeeping_ms;
  std::vector<Job> dead;
  if (auto r = queue_.recover_expired(now, &dead); !r) {
    spdlog::warn("jobs: recovering expired leases failed: {}", r.error().message);
  } else if (*r > 0) {
    spdlog::info("jobs: {} jobs whose lease expired went back to the queue (or to the dead letters)", *r);
  }
  for (const auto& j : dead) {
    if (auto it = expired_.find(j.kind); it != expired_.end()) it->second(j);
  }
  if (auto r = queue_.fire_due_schedules(now); !r) {
    spdlog::warn("jobs: firing schedules failed: {}", r.error().message);
  }
  if (auto s = queue_.stats(now); s) {
    MutexLock lock(mu_);
    stats_ = std::move(*s);
  }
}

void Runner::poll_loop() {
  for (;;) {
    TimeMs now = now_ms();
    housekeeping(now);
    flush();
    int room = 0;
    {
      MutexLock lock(mu_);
      if (stopping_) break;
      wake_ = false;
      room = opts_.prefetch - static_cast<int>(pending_.size()) - running_;
    }
    bool more = false;
    if (room > 0) {
      auto claimed = queue_.claim(opts_.owner, kinds_, room, now, now + opts_.lease_ms);
      if (!claimed) {
        spdlog::warn("jobs: claiming failed: {}", claimed.error().message);
      } else if (!claimed->empty()) {
        more = static_cast<int>(claimed->size()) == room;
        MutexLock lock(mu_);
        for (auto& j : *claimed) pending_.push_back(std::move(j));
        work_cv_.notify_all();
      }
    }
    // Wait for a reason to go round again: a wake-up, room for more while the queue has more,
    // a batch of finished jobs to record, all work done with results unrecorded, or the poll.
    MutexLock lock(mu_);
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.poll_ms);
    const auto low_water = static_cast<std::size_t>(opts_.prefetch / 2);
    const auto flush_at = static_cast<std::size_t>(opts_.prefetch / 2);
    while (!stopping_ && !wake_ && !(more && pending_.size() <= low_water) && done_.size() < flush_at &&
           !(!done_.empty() && pending_.empty() && running_ == 0)) {
      if (lock.wait_until(poll_cv_, until) == std::cv_status::timeout) break;
    }
  }
  // Stopping: unstarted jobs go back at once; running ones get the grace period, with their
  // leases kept alive.
  std::vector<Finished> released;
  {
    MutexLock lock(mu_);
    for (const Job& j : pending_) released.push_back({j.id, Finished::How::released, {}, 0});
    pending_.clear();
    work_cv_.notify_all();
  }
  if (!released.empty()) (void)queue_.finish(opts_.owner, released, now_ms());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.grace_ms);
  bool warned = false;
  for (;;) {
    flush();
    {
      MutexLock lock(mu_);
      if (running_ == 0) break;
      lock.wait_for(poll_cv_, std::chrono::milliseconds(100));
    }
    TimeMs now = now_ms();
    if (now >= next_heartbeat_) {
      next_heartbeat_ = now + opts_.lease_ms / 3;
      (void)queue_.extend_leases(opts_.owner, now + opts_.lease_ms);
    }
    if (!warned && std::chrono::steady_clock::now() >= deadline) {
      warned = true;
      MutexLock lock(mu_);
      spdlog::warn("jobs: {} jobs still running after the {} ms grace period; waiting for them", running_,
                   opts_.grace_ms);
    }
  }
}

}  // namespace parley::jobs
