#include "jobs/test_kinds.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include "core/thread_annotations.hpp"
#include "jobs/runner.hpp"

namespace parley::jobs {

namespace {

std::int64_t int_field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

struct Recorder {
  Mutex mu;
  std::ofstream out GUARDED_BY(mu);
};

}  // namespace

void add_test_kinds(Runner& runner, const std::string& record_path) {
  runner.handle("test.noop", [](const Job&, const JobContext&) { return JobResult::done(); });
  auto rec = std::make_shared<Recorder>();
  {
    MutexLock lock(rec->mu);
    rec->out.open(record_path, std::ios::app);
  }
  std::string owner = runner.owner();
  runner.handle("test.record", [rec, owner](const Job& job, const JobContext& ctx) {
    boost::system::error_code ec;
    auto v = boost::json::parse(job.payload, ec);
    boost::json::object o = !ec && v.is_object() ? v.as_object() : boost::json::object{};
    TimeMs start = now_ms();
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(int_field(o, "sleep_ms"));
    bool release_on_stop =
        o.contains("release_on_stop") && o["release_on_stop"].is_bool() && o["release_on_stop"].as_bool();
    while (std::chrono::steady_clock::now() < until) {
      if (release_on_stop && ctx.stopping()) return JobResult::release();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::string tag = o.contains("tag") && o["tag"].is_string() ? std::string(o["tag"].as_string()) : "-";
    {
      MutexLock lock(rec->mu);
      rec->out << tag << ' ' << job.id << ' ' << job.attempts << ' ' << owner << ' ' << start << ' ' << now_ms() << '\n'
               << std::flush;
    }
    if (o.contains("permanent") && o["permanent"].is_bool() && o["permanent"].as_bool()) {
      return JobResult::fail("test.record: permanent failure asked for");
    }
    if (job.attempts <= int_field(o, "fail_times")) {
      return JobResult::retry(
          "test.record: failure " + std::to_string(job.attempts) + " asked for",
          o.contains("retry_after_ms") ? std::optional<TimeMs>(int_field(o, "retry_after_ms")) : std::nullopt);
    }
    return JobResult::done();
  });
}

}  // namespace parley::jobs
