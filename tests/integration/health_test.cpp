// Health, readiness and metrics: no credentials, JSON bodies as documented, Prometheus text.
#include "fixtures.hpp"

namespace parley::test {
namespace {

using HealthTest = ServerFixture;

TEST_F(HealthTest, HealthAnswersOkWithoutCredentials) {
  auto r = http().get("/health");
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.json(), json::parse(R"({"status":"ok"})"));
  EXPECT_EQ(r.header("Content-Type"), "application/json");
}

TEST_F(HealthTest, LiveAnswersOk) {
  auto r = http().get("/live");
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.json(), json::parse(R"({"status":"ok"})"));
}

TEST_F(HealthTest, ReadyAnswersReadyWhileServing) {
  auto r = http().get("/ready");
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.json(), json::parse(R"({"status":"ready"})"));
}

TEST_F(HealthTest, DetailedHealthReportsTheSqliteDatabaseCheckWithLatency) {
  auto r = http().get("/health/detailed");
  ASSERT_STATUS(r, 200);
  auto o = r.obj();
  EXPECT_EQ(o["status"], "ok");
  EXPECT_TRUE(o["version"].is_string());
  EXPECT_FALSE(o["version"].as_string().empty());
  ASSERT_TRUE(o["uptime_seconds"].is_number());
  EXPECT_GE(o["uptime_seconds"].to_number<double>(), 0.0);
  auto db = o["checks"].as_object()["database"].as_object();
  EXPECT_EQ(db["status"], "ok");
  EXPECT_EQ(db["driver"], on_postgres() ? "postgres" : "sqlite");
  ASSERT_TRUE(db["latency_ms"].is_number());
  EXPECT_GE(db["latency_ms"].to_number<double>(), 0.0);
  EXPECT_LT(db["latency_ms"].to_number<double>(), 5000.0);
}

TEST_F(HealthTest, DetailedHealthVersionMatchesTheVersionCommand) {
  auto version = run_parley({"version"});
  auto r = http().get("/health/detailed");
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(version.out, "parley " + str(r.obj()["version"]) + "\n");
}

TEST_F(HealthTest, HealthRoutesAcceptOnlyGet) {
  for (const char* path : {"/health", "/health/detailed", "/live", "/ready", "/metrics"}) {
    auto r = http().post(path);
    EXPECT_ERROR(r, 405, "method_not_allowed") << path;
    EXPECT_EQ(r.header("Allow"), "GET") << path;
  }
}

TEST_F(HealthTest, HealthRoutesIgnoreBadCredentials) {
  auto r = http().get("/health", Auth::bearer("not-a-token"));
  EXPECT_STATUS(r, 200);
}

TEST_F(HealthTest, MetricsCountRequestsByRouteMethodAndStatus) {
  for (int i = 0; i < 3; ++i) ASSERT_STATUS(http().get("/health"), 200);
  ASSERT_STATUS(http().get("/v1/admin/apps", admin_auth()), 200);
  ASSERT_STATUS(http().get("/v1/admin/apps"), 401);
  auto r = http().get("/metrics");
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.header("Content-Type")->find("text/plain"), 0u);
  EXPECT_NE(r.body.find("# TYPE parley_http_requests_total counter"), std::string::npos);
  EXPECT_EQ(metric_value(r.body, R"(parley_http_requests_total{route="/health",method="GET",status="200"})"), 3.0);
  EXPECT_EQ(metric_value(r.body, R"(parley_http_requests_total{route="/v1/admin/apps",method="GET",status="200"})"),
            1.0);
  EXPECT_EQ(metric_value(r.body, R"(parley_http_requests_total{route="/v1/admin/apps",method="GET",status="401"})"),
            1.0);
}

TEST_F(HealthTest, MetricsCountUnknownRoutesUnderOneLabel) {
  ASSERT_STATUS(http().get("/no/such/route"), 404);
  ASSERT_STATUS(http().get("/another/unknown"), 404);
  auto r = http().get("/metrics");
  EXPECT_EQ(metric_value(r.body, R"(parley_http_requests_total{route="unmatched",method="GET",status="404"})"), 2.0);
  // Raw paths never become labels (unbounded cardinality).
  EXPECT_EQ(r.body.find("/no/such/route"), std::string::npos);
}

TEST_F(HealthTest, MetricsHaveALatencyHistogramPerRoute) {
  ASSERT_STATUS(http().get("/live"), 200);
  ASSERT_STATUS(http().get("/live"), 200);
  auto r = http().get("/metrics");
  EXPECT_NE(r.body.find("# TYPE parley_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_EQ(metric_value(r.body, R"(parley_http_request_duration_seconds_bucket{route="/live",le="+Inf"})"), 2.0);
  EXPECT_EQ(metric_value(r.body, R"(parley_http_request_duration_seconds_count{route="/live"})"), 2.0);
  auto sum = metric_value(r.body, R"(parley_http_request_duration_seconds_sum{route="/live"})");
  ASSERT_TRUE(sum.has_value());
  EXPECT_GE(*sum, 0.0);
}

TEST_F(HealthTest, MetricsHaveTheOpenConnectionsGauge) {
  RawSocket idle(server().port());  // a second connection, open while /metrics is served
  ASSERT_TRUE(idle.send("GET /live HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle.read_response().has_value());  // served, so the server tracks it
  auto r = http().get("/metrics");
  EXPECT_NE(r.body.find("# TYPE parley_http_open_connections gauge"), std::string::npos);
  auto open = metric_value(r.body, "parley_http_open_connections");
  ASSERT_TRUE(open.has_value());
  EXPECT_GE(*open, 2.0);
}

TEST_F(HealthTest, MetricsHaveTheDatabaseCallHistogram) {
  auto before = metric_value(http().get("/metrics").body, "parley_db_call_duration_seconds_count");
  ASSERT_TRUE(before.has_value());
  ASSERT_STATUS(http().get("/health/detailed"), 200);  // one store ping
  auto text = http().get("/metrics").body;
  EXPECT_NE(text.find("# TYPE parley_db_call_duration_seconds histogram"), std::string::npos);
  auto after = metric_value(text, "parley_db_call_duration_seconds_count");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*after, *before + 1);
  EXPECT_EQ(metric_value(text, R"(parley_db_call_duration_seconds_bucket{le="+Inf"})"), after);
}

}  // namespace
}  // namespace parley::test
