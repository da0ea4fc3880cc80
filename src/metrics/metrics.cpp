#include "metrics/metrics.hpp"

#include <fmt/format.h>

namespace parley::metrics {

void Histogram::observe(double s) {
  std::size_t i = 0;
  while (i < kBounds.size() && s > kBounds[i]) ++i;
  ++counts_[i];
  sum_ += s;
  ++total_;
}

void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  std::uint64_t cumulative = 0;
  std::string sep = labels.empty() ? "" : ",";
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, kBounds[i], cumulative);
  }
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, total_);
  std::string braces = labels.empty() ? "" : fmt::format("{{{}}}", labels);
  out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, braces, sum_, name, braces, total_);
}

void Metrics::observe_request(std::string_view route, std::string_view method, int status, double seconds) {
  MutexLock lock(mu_);
  ++requests_[{std::string(route), std::string(method), status}];
  latency_[std::string(route)].observe(seconds);
}

void Metrics::observe_db(double seconds) {
  MutexLock lock(mu_);
  db_latency_.observe(seconds);
}

void Metrics::observe_job(std::string_view kind, std::string_view outcome, double seconds) {
  MutexLock lock(mu_);
  ++jobs_finished_[{std::string(kind), std::string(outcome)}];
  job_run_time_[std::string(kind)].observe(seconds);
}

void Metrics::set_gauge_source(std::string name, std::string help, std::function<double()> fn) {
  MutexLock lock(mu_);
  gauges_[std::move(name)] = {std::move(help), std::move(fn)};
}

std::string Metrics::render() const {
  std::string out;
  MutexLock lock(mu_);
  out += "# HELP parley_http_requests_total HTTP requests by route pattern, method and status.\n";
  out += "# TYPE parley_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out += fmt::format("parley_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n", route, method,
                       status, n);
  }
  out += "# HELP parley_http_request_duration_seconds Time from request read to response ready.\n";
  out += "# TYPE parley_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    h.render(out, "parley_http_request_duration_seconds", fmt::format("route=\"{}\"", route));
  }
  out += "# HELP parley_db_call_duration_seconds Time of one store call on a database thread.\n";
  out += "# TYPE parley_db_call_duration_seconds histogram\n";
  db_latency_.render(out, "parley_db_call_duration_seconds", "");
  out += "# HELP parley_jobs_finished_total Job runs on this node by kind and outcome.\n";
  out += "# TYPE parley_jobs_finished_total counter\n";
  for (const auto& [key, n] : jobs_finished_) {
    out += fmt::format("parley_jobs_finished_total{{kind=\"{}\",outcome=\"{}\"}} {}\n", key.first, key.second, n);
  }
  out += "# HELP parley_job_run_seconds Time one job run took on this node, by kind.\n";
  out += "# TYPE parley_job_run_seconds histogram\n";
  for (const auto& [kind, h] : job_run_time_) h.render(out, "parley_job_run_seconds", fmt::format("kind=\"{}\"", kind));
  for (const auto& [name, g] : gauges_) {  // under mu_: a gauge source must not call back into Metrics
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, g.first, name, name, g.second());
  }
  return out;
}

}  // namespace parley::metrics
