#pragma once
// A fixed set of database connections handed out one caller at a time. Thread-safe. Before a
// lease, the connection's ready() runs (a PostgreSQL connection reconnects there when it broke);
// when ready() throws, the connection goes back and the caller sees the error.
#include <condition_variable>
#include <memory>
#include <utility>
#include <vector>

#include "core/thread_annotations.hpp"

namespace parley::store::sql {

template <class Conn>
class ConnectionPool {
 public:
  using Connection = Conn;

  class Lease {
   public:
    Lease(ConnectionPool& p, Conn* c) : pool_(p), conn_(c) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.release(conn_); }
    Conn& operator*() { return *conn_; }
    Conn* operator->() { return conn_; }

   private:
    ConnectionPool& pool_;
    Conn* conn_;
  };

  ConnectionPool() = default;
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// Adds a connection (while no lease is out: at start).
  Conn& add(std::unique_ptr<Conn> c) {
    MutexLock lock(mu_);
    all_.push_back(std::move(c));
    free_.push_back(all_.back().get());
    return *all_.back();
  }

  /// Waits for a free connection and makes it ready.
  Lease acquire() {
    MutexLock lock(mu_);
    while (free_.empty()) lock.wait(cv_);
    Conn* c = free_.back();
    free_.pop_back();
    lock.unlock();
    try {
      c->ready();
    } catch (...) {
      release(c);
      throw;
    }
    return Lease(*this, c);
  }

 private:
  void release(Conn* c) {
    {
      MutexLock lock(mu_);
      free_.push_back(c);
    }
    cv_.notify_one();
  }

  Mutex mu_;
  std::vector<std::unique_ptr<Conn>> all_ GUARDED_BY(mu_);
  std::condition_variable cv_;
  std::vector<Conn*> free_ GUARDED_BY(mu_);
};

}  // namespace parley::store::sql
