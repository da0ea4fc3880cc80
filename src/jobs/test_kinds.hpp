#pragma once
// Job kinds for tests and benchmarks, registered only with --jobs-test-kinds:
//   test.noop    does nothing and succeeds;
//   test.record  appends "<tag> <job id> <attempt> <owner> <start ms> <end ms>" to `record_path`
//                after sleeping payload.sleep_ms, fails (to be retried) while its attempt is at
//                most payload.fail_times, fails for good when payload.permanent is true, and
//                gives its job back when the runner stops mid-sleep if payload.release_on_stop.
// Thread-safe.
#include <string>

namespace parley::jobs {

class Runner;

void add_test_kinds(Runner& runner, const std::string& record_path);

}  // namespace parley::jobs
