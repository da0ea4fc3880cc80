#pragma once
// Prometheus metrics: requests by route/method/status, request latency histogram by route,
// database call latency, open connections, jobs run by kind and outcome with their run time. Thread-safe (one mutex;
// updates are short).
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "core/thread_annotations.hpp"

namespace parley::metrics {

class Histogram {
 public:
  static constexpr std::array<double, 13> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                     0.025,  0.05,    0.1,    0.25,  1.0,    5.0};
  void observe(double seconds);
  void render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::uint64_t, kBounds.size() + 1> counts_{};  // last: above every bound
  double sum_ = 0;
  std::uint64_t total_ = 0;
};

class Metrics {
 public:
  void observe_request(std::string_view route, std::string_view method, int status, double seconds);
  void observe_db(double seconds);
  /// A job of `kind` ran for `seconds` and ended as `outcome` (succeeded, retried, dead, released).
  void observe_job(std::string_view kind, std::string_view outcome, double seconds);
  void set_gauge_source(std::string name, std::string help, std::function<double()> fn);
  /// Prometheus text exposition format 0.0.4.
  std::string render() const;

 private:
  mutable Mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_ GUARDED_BY(mu_);
  std::map<std::string, Histogram> latency_ GUARDED_BY(mu_);
  Histogram db_latency_ GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, std::uint64_t> jobs_finished_ GUARDED_BY(mu_);
  std::map<std::string, Histogram> job_run_time_ GUARDED_BY(mu_);
  std::map<std::string, std::pair<std::string, std::function<double()>>> gauges_ GUARDED_BY(mu_);
};

}  // namespace parley::metrics
