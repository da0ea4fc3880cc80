#include "net/ws_flusher.hpp"

#include <chrono>
#include <condition_variable>
#include <thread>
#include <vector>

#include "core/thread_annotations.hpp"
#include "net/ws_session_impl.hpp"

namespace parley::net::detail {

// `thread` collects the sessions scheduled within a window and flushes them; for a batch of
// kParallelFlush or more it hands the back half to `helper`, so that a fan-out to many
// connections is written from two cores, and waits for it before the next round. Sessions are
// released outside both mutexes: dropping the last reference may end a session.
struct WsFlusher::Impl {
  explicit Impl(int window_us) : window(window_us), thread([this] { run(); }), helper([this] { help(); }) {}
  ~Impl() {
    {
      MutexLock lock(mu);
      stop = true;
    }
    cv.notify_one();
    thread.join();
    {
      MutexLock lock(hmu);
      hstop = true;
    }
    hcv.notify_one();
    helper.join();
  }

  // The helper thread: flushes the share it is given.
  void help() {
    MutexLock lock(hmu);
    for (;;) {
      while (!hstop && hbegin == hend) lock.wait(hcv);
      if (hstop) return;
      auto* b = hbegin;
      auto* e = hend;
      lock.unlock();
      for (auto* it = b; it != e; ++it) (*it)->flush();
      lock.lock();
      hbegin = hend = nullptr;
      hcv.notify_all();
    }
  }

  void add(std::shared_ptr<WsSession> s) {
    bool wake;
    {
      MutexLock lock(mu);
      wake = dirty.empty();
      if (wake) first = std::chrono::steady_clock::now();
      dirty.push_back(std::move(s));
    }
    if (wake) cv.notify_one();
  }

  // The flusher thread: waits for a first dirty connection, lets the window pass from then, and
  // flushes every connection that became dirty meanwhile.
  void run() {
    std::vector<std::shared_ptr<WsSession>> batch;
    MutexLock lock(mu);
    for (;;) {
      while (!stop && dirty.empty()) lock.wait(cv);
      if (stop) break;
      auto due = first + window;
      lock.unlock();
      std::this_thread::sleep_until(due);
      lock.lock();
      batch.swap(dirty);
      lock.unlock();
      std::size_t mine = batch.size();
      if (batch.size() >= kParallelFlush) {
        mine = batch.size() / 2;
        MutexLock hlock(hmu);
        hbegin = batch.data() + mine;
        hend = batch.data() + batch.size();
        hcv.notify_all();
      }
      for (std::size_t i = 0; i < mine; ++i) batch[i]->flush();
      if (mine != batch.size()) {
        MutexLock hlock(hmu);
        while (hbegin != hend) hlock.wait(hcv);
      }
      batch.clear();  // may end sessions (their last reference): outside the lock
      lock.lock();
    }
  }

  static constexpr std::size_t kParallelFlush = 256;
  const std::chrono::microseconds window;

  Mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<WsSession>> dirty GUARDED_BY(mu);
  std::chrono::steady_clock::time_point first GUARDED_BY(mu);  // when dirty became non-empty
  bool stop GUARDED_BY(mu) = false;

  Mutex hmu;
  std::condition_variable hcv;
  std::shared_ptr<WsSession>* hbegin GUARDED_BY(hmu) = nullptr;  // the helper's share
  std::shared_ptr<WsSession>* hend GUARDED_BY(hmu) = nullptr;
  bool hstop GUARDED_BY(hmu) = false;

  std::thread thread;  // last: start once the rest is built
  std::thread helper;
};

WsFlusher::WsFlusher(int window_us) : impl_(std::make_unique<Impl>(window_us)) {}
WsFlusher::~WsFlusher() = default;

void WsFlusher::schedule(std::shared_ptr<WsSession> s) { impl_->add(std::move(s)); }

}  // namespace parley::net::detail
