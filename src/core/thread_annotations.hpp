#pragma once
// Lock contracts the compiler checks. Clang's thread-safety analysis (-Wthread-safety, run by
// scripts/check-thread-safety.sh) proves that a member marked GUARDED_BY(mu_) is only touched
// with mu_ held and that a function marked REQUIRES(mu_) is only called with it held. GCC ignores
// the annotations. Use parley::Mutex and parley::MutexLock instead of std::mutex and
// std::lock_guard/unique_lock: the standard ones carry no annotations.
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define PARLEY_TSA(x) __attribute__((x))
#else
#define PARLEY_TSA(x)
#endif

#define CAPABILITY(x) PARLEY_TSA(capability(x))
#define SCOPED_CAPABILITY PARLEY_TSA(scoped_lockable)
#define GUARDED_BY(x) PARLEY_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) PARLEY_TSA(pt_guarded_by(x))
#define REQUIRES(...) PARLEY_TSA(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) PARLEY_TSA(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) PARLEY_TSA(acquire_capability(__VA_ARGS__))
#define RELEASE(...) PARLEY_TSA(release_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) PARLEY_TSA(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) PARLEY_TSA(acquire_shared_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) PARLEY_TSA(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) PARLEY_TSA(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) PARLEY_TSA(try_acquire_capability(__VA_ARGS__))
#define RETURN_CAPABILITY(x) PARLEY_TSA(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS PARLEY_TSA(no_thread_safety_analysis)

namespace parley {

/// A std::mutex the analysis knows as a capability.
class CAPABILITY("mutex") Mutex {
 public:
  void lock() ACQUIRE() { m_.lock(); }
  void unlock() RELEASE() { m_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return m_.try_lock(); }

 private:
  friend class MutexLock;
  std::mutex m_;
};

/// Holds a Mutex for its scope (like std::unique_lock: it can be released early, taken again,
/// and waited on with a condition variable).
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.m_) {}
  ~MutexLock() RELEASE() = default;
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void unlock() RELEASE() { lock_.unlock(); }
  void lock() ACQUIRE() { lock_.lock(); }

  /// Releases the mutex while blocked on `cv` and holds it again on return; write the wait as
  /// `while (!condition) lock.wait(cv);` so the analysis sees the condition read under the lock.
  void wait(std::condition_variable& cv) { cv.wait(lock_); }
  template <class Clock, class Duration>
  std::cv_status wait_until(std::condition_variable& cv, const std::chrono::time_point<Clock, Duration>& t) {
    return cv.wait_until(lock_, t);
  }
  template <class Rep, class Period>
  std::cv_status wait_for(std::condition_variable& cv, const std::chrono::duration<Rep, Period>& d) {
    return cv.wait_for(lock_, d);
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

/// A std::shared_mutex the analysis knows as a capability: readers share it, a writer owns it.
class CAPABILITY("shared_mutex") SharedMutex {
 public:
  void lock() ACQUIRE() { m_.lock(); }
  void unlock() RELEASE() { m_.unlock(); }
  void lock_shared() ACQUIRE_SHARED() { m_.lock_shared(); }
  void unlock_shared() RELEASE_SHARED() { m_.unlock_shared(); }

 private:
  std::shared_mutex m_;
};

/// Holds a SharedMutex exclusively for its scope.
class SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~WriterLock() RELEASE() { mu_.unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& mu_;
};

/// Holds a SharedMutex shared for its scope.
class SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) ACQUIRE_SHARED(mu) : mu_(mu) { mu_.lock_shared(); }
  ~ReaderLock() RELEASE() { mu_.unlock_shared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mu_;
};

}  // namespace parley
