#pragma once
// A queue drained by one dedicated thread in batches: group commit. Producers submit() from
// any thread and never wait for the commit; the thread takes everything queued (at most
// `batch_max` items) and hands it to `commit` in submission order. While one batch commits the
// next one queues, so the batch grows with the load and a lone item waits for nobody (leader/
// follower). With `window_us` > 0 a batch smaller than `batch_max` first waits up to that long
// for more. stop() (also the destructor) commits what is queued, then joins the thread.
// Thread-safe: submit, stop and stats from any thread; `commit` runs on the committer thread
// only, without the queue's lock held.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <iterator>
#include <thread>
#include <utility>
#include <vector>

#include "core/thread_annotations.hpp"

namespace parley::chat {

struct GroupCommitOptions {
  int batch_max = 256;  // items per batch, at least 1
  int window_us = 0;    // 0: take only what is already queued
  int committers = 1;   // ChatService: committers side by side, each owning a stripe of channels
};

struct GroupCommitStats {
  std::uint64_t batches = 0;
  std::uint64_t items = 0;
  double mean_batch() const { return batches == 0 ? 0.0 : static_cast<double>(items) / static_cast<double>(batches); }
};

template <class T>
class GroupCommitter {
 public:
  GroupCommitter(GroupCommitOptions options, std::function<void(std::vector<T>&)> commit)
      : options_(options), commit_(std::move(commit)) {
    options_.batch_max = std::max(1, options_.batch_max);
    options_.window_us = std::max(0, options_.window_us);
    thread_ = std::thread([this] { loop(); });
  }
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;
  ~GroupCommitter() { stop(); }

  /// Queues an item; false (the item untouched) once stop() has begun.
  bool submit(T& item) {
    {
      MutexLock lock(mu_);
      if (stopping_) return false;
      queue_.push_back(std::move(item));
    }
    cv_.notify_one();
    return true;
  }

  /// Commits what is queued, then ends the thread. Idempotent.
  void stop() {
    {
      MutexLock lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    MutexLock join(join_mu_);
    if (thread_.joinable()) thread_.join();
  }

  GroupCommitStats stats() const { return {batches_.load(), items_.load()}; }

 private:
  void loop() {
    std::vector<T> batch;
    const auto max = static_cast<std::size_t>(options_.batch_max);
    for (;;) {
      {
        MutexLock lock(mu_);
        while (queue_.empty() && !stopping_) lock.wait(cv_);
        if (queue_.empty()) return;  // stopping, nothing left
        if (options_.window_us > 0 && queue_.size() < max && !stopping_) {
          const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(options_.window_us);
          while (queue_.size() < max && !stopping_) {
            if (lock.wait_until(cv_, deadline) == std::cv_status::timeout) break;
          }
        }
        if (queue_.size() <= max) {
          batch.swap(queue_);
        } else {
          batch.assign(std::make_move_iterator(queue_.begin()),
                       std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(max)));
          queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(max));
        }
      }
      // Counted before the commit: its callbacks may let a reader of stats() go on at once.
      batches_.fetch_add(1, std::memory_order_relaxed);
      items_.fetch_add(batch.size(), std::memory_order_relaxed);
      commit_(batch);
      batch.clear();
    }
  }

  GroupCommitOptions options_;                   // fixed at construction
  std::function<void(std::vector<T>&)> commit_;  // fixed at construction
  Mutex mu_;
  std::condition_variable cv_;  // signalled on a submit and on stop
  std::vector<T> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  Mutex join_mu_;  // one joiner at a time
  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> items_{0};
  std::thread thread_ GUARDED_BY(join_mu_);  // last: starts after every other member exists
};

}  // namespace parley::chat
