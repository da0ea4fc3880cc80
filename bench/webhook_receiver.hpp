#pragma once
// A webhook receiver for the benchmarks: a keep-alive HTTP server on 127.0.0.1
// (tests/support/loopback_http_server.hpp) that answers 200 "ok" to every request and counts the
// distinct webhook-id headers it saw and the repeats. Thread-safe.
#include <mutex>
#include <set>
#include <string>

#include "loopback_http_server.hpp"

namespace parley::bench {

class WebhookReceiver {
 public:
  int port() const { return server_.port(); }
  /// Deliveries received, repeats included.
  int received() {
    std::lock_guard lock(mu_);
    return static_cast<int>(ids_.size()) + duplicates_;
  }
  /// Deliveries whose webhook-id had been received before.
  int duplicates() {
    std::lock_guard lock(mu_);
    return duplicates_;
  }
  int connections() const { return server_.connections(); }

 private:
  test::HttpReply record(const test::HttpRequestSeen& req) {
    std::string id = req.header("webhook-id");
    {
      std::lock_guard lock(mu_);
      if (!ids_.insert(std::move(id)).second) ++duplicates_;
    }
    test::HttpReply ok;
    ok.body = "ok";
    return ok;
  }

  std::mutex mu_;
  std::set<std::string> ids_;  // guarded by mu_
  int duplicates_ = 0;         // guarded by mu_
  test::LoopbackHttpServer server_{[this](const test::HttpRequestSeen& req) { return record(req); }};
};

}  // namespace parley::bench
