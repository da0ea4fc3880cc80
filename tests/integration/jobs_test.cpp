// The durable job queue through the real binary (docs/jobs.md): the admin API and CLI, jobs
// that run, fail, retry and die, unique keys, cron schedules, a node killed mid-job whose job
// another node finishes after the lease, graceful shutdown, and two nodes on one database that
// share the work and fire a schedule once. Jobs are the test kinds (--jobs-test-kinds):
// test.record appends "<tag> <id> <attempt> <owner> <start> <end>" to <data dir>/jobs-record.log.
#include <signal.h>

#include <fstream>
#include <set>
#include <sstream>

#include "fixtures.hpp"

namespace parley::test {
namespace {

struct Record {
  std::string tag;
  std::int64_t id = 0;
  int attempt = 0;
  std::string owner;
};

std::vector<Record> records(const std::filesystem::path& dir) {
  std::ifstream in(dir / "jobs-record.log");
  std::vector<Record> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    Record r;
    if (s >> r.tag >> r.id >> r.attempt >> r.owner) out.push_back(r);
  }
  return out;
}

std::vector<Record> tagged(const std::filesystem::path& dir, const std::string& tag) {
  std::vector<Record> out;
  for (auto& r : records(dir)) {
    if (r.tag == tag) out.push_back(r);
  }
  return out;
}

ServerProcess::Options job_node(int lease_ms = 2000) {
  ServerProcess::Options o;
  o.flag("jobs-test-kinds", "true").flag("jobs-poll-ms", "50").flag("jobs-lease-ms", std::to_string(lease_ms));
  return o;
}

json::object record_job(const std::string& tag, json::object payload = {}) {
  payload["tag"] = tag;
  return {{"kind", "test.record"}, {"payload", payload}};
}

class JobsTest : public ServerFixture {
 protected:
  ServerProcess::Options server_options() override { return job_node(); }

  json::object enqueue(const json::object& body, int want = 201) {
    auto r = http().post("/v1/admin/jobs", admin_auth(), body);
    EXPECT_EQ(r.status, want) << r.body;
    return r.status == want ? r.obj()["job"].as_object() : json::object{};
  }
  std::optional<json::object> job(std::int64_t id) {
    auto r = http().get("/v1/admin/jobs/" + std::to_string(id), admin_auth());
    if (r.status == 404) return std::nullopt;
    EXPECT_EQ(r.status, 200) << r.body;
    return r.obj()["job"].as_object();
  }
};

TEST_F(JobsTest, TheJobsApiIsForTheAdminKeyOnly) {
  auto app = create_app("a");
  for (const Auth& a : {Auth{}, app.auth(), Auth::bearer("adm_wrong")}) {
    EXPECT_ERROR(http().get("/v1/admin/jobs", a), 401, "unauthorized");
    EXPECT_ERROR(http().post("/v1/admin/jobs", a, record_job("x")), 401, "unauthorized");
    EXPECT_ERROR(http().get("/v1/admin/jobs/stats", a), 401, "unauthorized");
    EXPECT_ERROR(http().get("/v1/admin/job-schedules", a), 401, "unauthorized");
  }
}

TEST_F(JobsTest, AnEnqueuedJobRunsOnceAndIsGone) {
  auto j = enqueue(record_job("once", {{"n", 1}}));
  ASSERT_FALSE(j.empty());
  EXPECT_EQ(j["kind"], "test.record");
  EXPECT_EQ(j["payload"].as_object()["n"], 1);
  EXPECT_EQ(j["max_attempts"], 10);
  auto id = j["id"].as_int64();
  ASSERT_TRUE(eventually([&] { return !job(id); })) << "the job did not finish";
  auto rec = tagged(server().data_dir(), "once");
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(rec[0].id, id);
  EXPECT_EQ(rec[0].attempt, 1);
  auto m = http().get("/metrics");
  EXPECT_GE(metric_value(m.body, R"(parley_jobs_finished_total{kind="test.record",outcome="succeeded"})").value_or(0),
            1)
      << m.body;
  EXPECT_TRUE(metric_value(m.body, R"(parley_job_run_seconds_count{kind="test.record"})")) << m.body;
  EXPECT_TRUE(metric_value(m.body, "parley_jobs_queued"));
  EXPECT_TRUE(metric_value(m.body, "parley_jobs_oldest_ready_age_seconds"));
}

TEST_F(JobsTest, BadInputGetsAClearError) {
  // Malformed requests are 400; well-formed values out of range (lengths, limits) are 422.
  auto post = [&](const json::object& b) { return http().post("/v1/admin/jobs", admin_auth(), b); };
  EXPECT_ERROR(post({}), 400, "invalid_request");
  EXPECT_ERROR(post({{"kind", ""}}), 422, "validation_failed");
  EXPECT_ERROR(post({{"kind", "Has Spaces"}}), 400, "invalid_request");
  EXPECT_ERROR(post({{"kind", std::string(101, 'k')}}), 422, "validation_failed");
  EXPECT_ERROR(post({{"kind", "k"}, {"payload", "not an object"}}), 400, "invalid_request");
  EXPECT_ERROR(post({{"kind", "k"}, {"max_attempts", 0}}), 422, "validation_failed");
  EXPECT_ERROR(post({{"kind", "k"}, {"max_attempts", 101}}), 422, "validation_failed");
  EXPECT_ERROR(post({{"kind", "k"}, {"run_at", "tomorrow"}}), 400, "invalid_request");
  EXPECT_ERROR(post({{"kind", "k"}, {"delay_ms", -1}}), 422, "validation_failed");
  EXPECT_ERROR(post({{"kind", "k"}, {"run_at", "2030-01-01T00:00:00Z"}, {"delay_ms", 5}}), 400, "invalid_request");
  EXPECT_ERROR(post({{"kind", "k"}, {"surprise", 1}}), 400, "invalid_request");
  EXPECT_ERROR(post({{"kind", "k"}, {"app_id", "app_nosuchapp"}}), 422, "validation_failed");
  EXPECT_ERROR(http().get("/v1/admin/jobs?state=sleeping", admin_auth()), 400, "invalid_request");
  EXPECT_ERROR(http().get("/v1/admin/jobs?cursor=zzz", admin_auth()), 400, "invalid_request");
  EXPECT_ERROR(http().get("/v1/admin/jobs?cursor=YzE6eA", admin_auth()), 400, "invalid_request");    // "c1:x"
  EXPECT_ERROR(http().get("/v1/admin/jobs?cursor=YzE6MTJ4", admin_auth()), 400, "invalid_request");  // "c1:12x"
  EXPECT_ERROR(http().get("/v1/admin/jobs?limit=0", admin_auth()), 400, "invalid_request");
  EXPECT_ERROR(http().get("/v1/admin/jobs/abc", admin_auth()), 404, "not_found");
  EXPECT_ERROR(http().get("/v1/admin/jobs/999999", admin_auth()), 404, "not_found");
  EXPECT_ERROR(http().post("/v1/admin/jobs/999999/retry", admin_auth()), 404, "not_found");
  EXPECT_ERROR(http().del("/v1/admin/jobs/999999", admin_auth()), 404, "not_found");
  EXPECT_ERROR(http().del("/v1/admin/jobs", admin_auth()), 400, "invalid_request");
  EXPECT_ERROR(http().del("/v1/admin/jobs?state=queued", admin_auth()), 400, "invalid_request");
  auto put = [&](const std::string& name, const json::object& b) {
    return http().put("/v1/admin/job-schedules/" + name, admin_auth(), b);
  };
  EXPECT_ERROR(put("s", {{"kind", "test.noop"}}), 400, "invalid_request");
  EXPECT_ERROR(put("s", {{"cron", "* * *"}, {"kind", "test.noop"}}), 400, "invalid_request");
  EXPECT_ERROR(put("s", {{"cron", "61 * * * *"}, {"kind", "test.noop"}}), 400, "invalid_request");
  EXPECT_ERROR(put("s", {{"cron", "0 0 30 2 *"}, {"kind", "test.noop"}}), 400, "invalid_request");
  EXPECT_ERROR(put("bad%20name", {{"cron", "@daily"}, {"kind", "test.noop"}}), 400, "invalid_request");
  EXPECT_ERROR(http().get("/v1/admin/job-schedules/none", admin_auth()), 404, "not_found");
  EXPECT_ERROR(http().del("/v1/admin/job-schedules/none", admin_auth()), 404, "not_found");
}

TEST_F(JobsTest, AFailingJobIsRetriedWithBackoffThenKeptAsADeadLetter) {
  // Fails on attempts 1 and 2 and succeeds on 3: retried, then gone.
  auto flaky = enqueue(record_job("flaky", {{"fail_times", 2}, {"retry_after_ms", 100}}))["id"].as_int64();
  // Always fails, two attempts: a dead letter.
  auto doomed = enqueue({{"kind", "test.record"},
                         {"max_attempts", 2},
                         {"payload", {{"tag", "doomed"}, {"fail_times", 99}, {"retry_after_ms", 100}}}})["id"]
                    .as_int64();
  ASSERT_TRUE(eventually([&] { return !job(flaky); }));
  auto runs = tagged(server().data_dir(), "flaky");
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[2].attempt, 3);
  ASSERT_TRUE(eventually([&] { return job(doomed) && (*job(doomed))["state"] == "dead"; }));
  auto dead = *job(doomed);
  EXPECT_EQ(dead["attempts"], 2);
  EXPECT_NE(str(dead["last_error"]).find("failure 2 asked for"), std::string::npos) << dead;
  auto list = http().get("/v1/admin/jobs?state=dead", admin_auth());
  ASSERT_STATUS(list, 200);
  ASSERT_EQ(list.obj()["items"].as_array().size(), 1u);
  EXPECT_EQ(list.obj()["items"].as_array()[0].as_object()["id"], doomed);
  auto stats = http().get("/v1/admin/jobs/stats", admin_auth());
  ASSERT_STATUS(stats, 200);
  EXPECT_EQ(stats.obj()["dead"], 1);
  EXPECT_EQ(stats.obj()["kinds"].as_object()["test.record"].as_object()["dead"], 1);
  // Retried by the operator: it runs again (and fails again, twice).
  auto retried = http().post("/v1/admin/jobs/" + std::to_string(doomed) + "/retry", admin_auth());
  ASSERT_STATUS(retried, 200);
  EXPECT_EQ(retried.obj()["job"].as_object()["state"], "queued");
  EXPECT_EQ(retried.obj()["job"].as_object()["attempts"], 0);
  ASSERT_TRUE(eventually([&] { return tagged(server().data_dir(), "doomed").size() == 4; }));
  ASSERT_TRUE(eventually([&] { return (*job(doomed))["state"] == "dead"; }));
  // Deleted one by one or all at once; the audit log says who did it.
  auto purged = http().del("/v1/admin/jobs?state=dead", admin_auth());
  ASSERT_STATUS(purged, 200);
  EXPECT_EQ(purged.obj()["deleted"], 1);
  EXPECT_FALSE(job(doomed));
  auto audit = http().get("/v1/admin/audit", admin_auth());
  std::set<std::string> actions;
  for (const auto& e : audit.obj()["items"].as_array()) actions.insert(str(e.as_object().at("action")));
  EXPECT_TRUE(actions.count("job.enqueue") && actions.count("job.retry") && actions.count("job.purge_dead"))
      << audit.body;
}

TEST_F(JobsTest, APermanentFailureIsDeadAtOnceAndCanBeDeleted) {
  auto id = enqueue(record_job("perm", {{"permanent", true}}))["id"].as_int64();
  ASSERT_TRUE(eventually([&] { return job(id) && (*job(id))["state"] == "dead"; }));
  EXPECT_EQ((*job(id))["attempts"], 1);
  EXPECT_STATUS(http().del("/v1/admin/jobs/" + std::to_string(id), admin_auth()), 204);
  EXPECT_FALSE(job(id));
}

TEST_F(JobsTest, UniqueKeysDeduplicateAndDelayedJobsWait) {
  json::object body{{"kind", "test.record"}, {"unique_key", "invoice-42"}, {"delay_ms", 60000}};
  auto first = enqueue(body);
  auto r = http().post("/v1/admin/jobs", admin_auth(), body);
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.obj()["duplicate"], true);
  EXPECT_EQ(r.obj()["job"].as_object()["id"], first["id"]);
  auto at = enqueue({{"kind", "test.record"}, {"run_at", "2099-01-01T00:00:00Z"}});
  EXPECT_EQ(at["run_at"], "2099-01-01T00:00:00.000Z");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ((*job(first["id"].as_int64()))["state"], "queued");
  auto list = http().get("/v1/admin/jobs?kind=test.record&limit=1", admin_auth());
  ASSERT_STATUS(list, 200);
  ASSERT_EQ(list.obj()["items"].as_array().size(), 1u);
  EXPECT_EQ(list.obj()["items"].as_array()[0].as_object()["id"], at["id"]);  // newest first
  auto cursor = list.obj()["next_cursor"];
  ASSERT_TRUE(cursor.is_string());
  auto next = http().get("/v1/admin/jobs?kind=test.record&limit=1&cursor=" + str(cursor), admin_auth());
  ASSERT_STATUS(next, 200);
  EXPECT_EQ(next.obj()["items"].as_array()[0].as_object()["id"], first["id"]);
  auto stats = http().get("/v1/admin/jobs/stats", admin_auth());
  EXPECT_EQ(stats.obj()["queued"], 2);
  EXPECT_EQ(stats.obj()["ready"], 0);
}

TEST_F(JobsTest, ASchedulePutsAJobOnTheQueueAtEachDueTime) {
  auto r = http().put("/v1/admin/job-schedules/every-second", admin_auth(),
                      json::object{{"cron", "* * * * * *"}, {"kind", "test.record"}, {"payload", {{"tag", "tick"}}}});
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.obj()["schedule"].as_object()["cron"], "* * * * * *");
  ASSERT_TRUE(eventually([&] { return tagged(server().data_dir(), "tick").size() >= 2; }, 6s));
  auto got = http().get("/v1/admin/job-schedules/every-second", admin_auth());
  ASSERT_STATUS(got, 200);
  EXPECT_TRUE(got.obj()["schedule"].as_object()["last_run_at"].is_string());
  auto list = http().get("/v1/admin/job-schedules", admin_auth());
  std::vector<std::string> names;
  for (const auto& s : list.obj()["items"].as_array()) names.push_back(str(s.as_object().at("name")));
  // Besides the built-in ones (the files clean-up, the outbox replay, the link preview cache's
  // hourly prune).
  EXPECT_EQ(names, (std::vector<std::string>{"every-second", "files.cleanup", "outbox.replay", "previews.prune"}));
  EXPECT_STATUS(http().del("/v1/admin/job-schedules/every-second", admin_auth()), 204);
  std::this_thread::sleep_for(1500ms);  // a tick in flight when deleted may still land
  auto n = tagged(server().data_dir(), "tick").size();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(tagged(server().data_dir(), "tick").size(), n);
}

TEST(JobsNodeTest, AJobWhoseNodeWasKilledRunsAgainElsewhereAfterItsLease) {
  TempDir dir;
  std::int64_t id = 0;
  {
    ServerProcess a(job_node(1000).in(dir.path()));
    HttpClient http(a.port());
    auto r = http.post("/v1/admin/jobs", admin_auth(), record_job("killed", {{"sleep_ms", 3000}}));
    ASSERT_STATUS(r, 201);
    id = r.obj()["job"].as_object()["id"].as_int64();
    ASSERT_TRUE(eventually([&] {
      auto j = http.get("/v1/admin/jobs/" + std::to_string(id), admin_auth());
      return j.status == 200 && j.obj()["job"].as_object()["state"] == "running";
    }));
    a.child().signal(SIGKILL);
    a.wait_exit(5s);
  }
  ServerProcess b(job_node(1000).in(dir.path()));
  HttpClient http(b.port());
  ASSERT_TRUE(eventually([&] { return tagged(dir.path(), "killed").size() == 1; }, 20s));
  auto rec = tagged(dir.path(), "killed")[0];
  EXPECT_EQ(rec.id, id);
  EXPECT_EQ(rec.attempt, 2);  // the killed node's run counted as the first
  EXPECT_TRUE(eventually([&] { return http.get("/v1/admin/jobs/" + std::to_string(id), admin_auth()).status == 404; }));
}

TEST(JobsNodeTest, GracefulShutdownFinishesRunningJobsAndGivesBackTheRest) {
  TempDir dir;
  ServerProcess a(job_node().in(dir.path()).flag("jobs-workers", "1"));
  HttpClient http(a.port());
  auto slow = http.post("/v1/admin/jobs", admin_auth(), record_job("finishes", {{"sleep_ms", 1500}}));
  ASSERT_STATUS(slow, 201);
  auto slow_id = slow.obj()["job"].as_object()["id"].as_int64();
  auto waiting = http.post("/v1/admin/jobs", admin_auth(), record_job("waits"));
  ASSERT_STATUS(waiting, 201);
  auto waiting_id = waiting.obj()["job"].as_object()["id"].as_int64();
  ASSERT_TRUE(eventually([&] {
    auto j = http.get("/v1/admin/jobs/" + std::to_string(slow_id), admin_auth());
    return j.status == 200 && j.obj()["job"].as_object()["state"] == "running";
  }));
  EXPECT_EQ(a.stop(10s), 0) << a.err();
  // The running job finished before the exit; the one behind it was given back unstarted.
  ASSERT_EQ(tagged(dir.path(), "finishes").size(), 1u);
  EXPECT_TRUE(tagged(dir.path(), "waits").empty());
  auto shown = run_parley({"jobs", "show", "--id", std::to_string(waiting_id), "--data-dir", dir.str()});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("state:        queued"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("attempts:     0 of 10"), std::string::npos) << shown.out;
  auto gone = run_parley({"jobs", "show", "--id", std::to_string(slow_id), "--data-dir", dir.str()});
  EXPECT_NE(gone.exit_code, 0);
}

TEST(JobsNodeTest, TwoNodesOnOneDatabaseShareTheWorkAndFireAScheduleOnce) {
  TempDir dir;
  ServerProcess a(job_node().in(dir.path()));
  ServerProcess b(job_node().in(dir.path()));
  HttpClient http(a.port());
  constexpr int kJobs = 200;
  for (int i = 0; i < kJobs; ++i) {
    auto r = http.post("/v1/admin/jobs", admin_auth(), record_job("shared", {{"sleep_ms", 5}}));
    ASSERT_STATUS(r, 201);
  }
  auto scheduled = std::chrono::steady_clock::now();
  ASSERT_STATUS(
      http.put("/v1/admin/job-schedules/tick", admin_auth(),
               json::object{{"cron", "* * * * * *"}, {"kind", "test.record"}, {"payload", {{"tag", "tick"}}}}),
      200);
  ASSERT_TRUE(eventually([&] { return tagged(dir.path(), "shared").size() >= kJobs; }, 30s));
  std::this_thread::sleep_for(3s);
  ASSERT_STATUS(http.del("/v1/admin/job-schedules/tick", admin_auth()), 204);
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - scheduled).count();
  std::this_thread::sleep_for(500ms);
  auto shared = tagged(dir.path(), "shared");
  std::set<std::int64_t> ids;
  std::set<std::string> owners;
  for (const auto& r : shared) {
    EXPECT_TRUE(ids.insert(r.id).second) << "job " << r.id << " ran twice";
    owners.insert(r.owner);
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(owners.size(), 2u) << "one node did all the work";
  // Each due second yields one job, whichever node fires it: no more ticks than seconds went by
  // (both nodes firing each due time would make twice as many).
  auto ticks = tagged(dir.path(), "tick");
  EXPECT_GE(ticks.size(), 2u);
  EXPECT_LE(static_cast<long long>(ticks.size()), seconds + 1) << ticks.size() << " ticks in " << seconds << " s";
  auto sched_jobs = run_parley({"jobs", "stats", "--data-dir", dir.str()});
  EXPECT_EQ(sched_jobs.exit_code, 0) << sched_jobs.err;
}

TEST(JobsCliTest, ListsEnqueuesRetriesAndPurges) {
  TempDir dir;
  auto in = [&](std::vector<std::string> args) {
    args.push_back("--data-dir");
    args.push_back(dir.str());
    return run_parley(args);
  };
  ASSERT_EQ(in({"migrate", "apply"}).exit_code, 0);
  auto e = in({"jobs", "enqueue", "--kind", "test.record", "--payload", R"({"tag":"cli"})", "--unique-key", "u1"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("enqueued: job 1"), std::string::npos) << e.out;
  auto again = in({"jobs", "enqueue", "--kind", "test.record", "--unique-key", "u1"});
  EXPECT_NE(again.out.find("already queued: job 1"), std::string::npos) << again.out;
  EXPECT_NE(in({"jobs", "enqueue", "--kind", "k", "--payload", "[1]"}).exit_code, 0);
  auto list = in({"jobs", "list", "--state", "queued"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("test.record"), std::string::npos) << list.out;
  EXPECT_NE(in({"jobs", "list", "--state", "sleeping"}).exit_code, 0);
  auto stats = in({"jobs", "stats"});
  EXPECT_NE(stats.out.find("queued:  1 (1 due)"), std::string::npos) << stats.out;
  EXPECT_EQ(in({"jobs", "retry", "--id", "1"}).exit_code, 0);
  EXPECT_NE(in({"jobs", "retry", "--id", "77"}).exit_code, 0);
  EXPECT_EQ(in({"jobs", "delete", "--id", "1"}).exit_code, 0);
  EXPECT_NE(in({"jobs", "show", "--id", "1"}).exit_code, 0);
  auto purge = in({"jobs", "purge-dead"});
  EXPECT_NE(purge.out.find("deleted 0 dead letter(s)"), std::string::npos) << purge.out;
  EXPECT_EQ(in({"jobs", "schedules"}).exit_code, 0);
}

}  // namespace
}  // namespace parley::test
