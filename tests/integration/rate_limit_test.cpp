// Rate limits: token buckets per client IP (every limited route) and per (app, user) for user
// tokens, with app settings overriding the user limit. Over the limit: 429 with Retry-After.
#include "fixtures.hpp"

namespace parley::test {
namespace {

int retry_after(const HttpResponse& r) {
  auto h = r.header("Retry-After");
  return h ? std::stoi(*h) : -1;
}

class IpRateLimitTest : public ServerFixture {
 protected:
  ServerProcess::Options server_options() override {
    return ServerProcess::Options{}.flag("rate-limit-ip-per-sec", "1").flag("rate-limit-ip-burst", "3");
  }
};

TEST_F(IpRateLimitTest, TheRequestAfterTheBurstIs429WithRetryAfter) {
  for (int i = 0; i < 3; ++i) ASSERT_STATUS(http().get("/v1/admin/apps", admin_auth()), 200) << "request " << i;
  auto r = http().get("/v1/admin/apps", admin_auth());
  EXPECT_ERROR(r, 429, "rate_limited");
  EXPECT_GE(retry_after(r), 1);
  EXPECT_EQ(error_detail(r, "retry_after_seconds"), *r.header("Retry-After"));
}

TEST_F(IpRateLimitTest, TheIpLimitAppliesBeforeCredentialsAreChecked) {
  for (int i = 0; i < 3; ++i) ASSERT_STATUS(http().get("/v1/users"), 401);
  EXPECT_ERROR(http().get("/v1/admin/apps", admin_auth()), 429, "rate_limited");
}

TEST_F(IpRateLimitTest, HealthReadinessAndMetricsAreNotLimited) {
  for (int i = 0; i < 4; ++i) (void)http().get("/v1/admin/apps", admin_auth());
  ASSERT_ERROR(http().get("/v1/admin/apps", admin_auth()), 429, "rate_limited");
  for (int i = 0; i < 5; ++i) {
    for (const char* path : {"/health", "/health/detailed", "/live", "/ready", "/metrics"}) {
      EXPECT_STATUS(http().get(path), 200) << path;
    }
  }
}

TEST_F(IpRateLimitTest, RateLimitedRequestsAreCountedInMetrics) {
  for (int i = 0; i < 5; ++i) (void)http().get("/v1/admin/apps", admin_auth());
  auto text = http().get("/metrics").body;
  EXPECT_EQ(metric_value(text, R"(parley_http_requests_total{route="/v1/admin/apps",method="GET",status="429"})"), 2.0);
}

class IpRefillTest : public ServerFixture {
 protected:
  ServerProcess::Options server_options() override {
    return ServerProcess::Options{}.flag("rate-limit-ip-per-sec", "10").flag("rate-limit-ip-burst", "1");
  }
};

TEST_F(IpRefillTest, TheBucketRefillsOverTime) {
  ASSERT_STATUS(http().get("/v1/admin/apps", admin_auth()), 200);
  auto limited = http().get("/v1/admin/apps", admin_auth());
  ASSERT_ERROR(limited, 429, "rate_limited");
  EXPECT_EQ(retry_after(limited), 1);  // whole seconds, rounded up, at least 1
  std::this_thread::sleep_for(150ms);  // 10 per second: one token back after 100 ms
  EXPECT_STATUS(http().get("/v1/admin/apps", admin_auth()), 200);
}

class UserRateLimitTest : public AppFixture {
 protected:
  ServerProcess::Options server_options() override {
    return ServerProcess::Options{}.flag("rate-limit-user-per-sec", "0.5").flag("rate-limit-user-burst", "2");
  }
};

TEST_F(UserRateLimitTest, AUsersRequestAfterTheBurstIs429WithRetryAfter) {
  auto t = mint("alice");
  ASSERT_STATUS(http().get("/v1/users/me", t.auth()), 200);
  ASSERT_STATUS(http().get("/v1/users/me", t.auth()), 200);
  auto r = http().get("/v1/users/me", t.auth());
  EXPECT_ERROR(r, 429, "rate_limited");
  EXPECT_EQ(retry_after(r), 2);  // one token at 0.5 per second
}

TEST_F(UserRateLimitTest, EachUserHasTheirOwnBucket) {
  auto alice = mint("alice");
  auto bob = mint("bob");
  for (int i = 0; i < 3; ++i) (void)http().get("/v1/users/me", alice.auth());
  ASSERT_ERROR(http().get("/v1/users/me", alice.auth()), 429, "rate_limited");
  EXPECT_STATUS(http().get("/v1/users/me", bob.auth()), 200);
}

TEST_F(UserRateLimitTest, TheUserLimitCountsEveryUserRouteTogether) {
  auto t = mint("alice");
  ASSERT_STATUS(http().get("/v1/users/me", t.auth()), 200);
  ASSERT_STATUS(http().get("/v1/users", t.auth()), 200);
  EXPECT_ERROR(http().get("/v1/users/alice", t.auth()), 429, "rate_limited");
  EXPECT_ERROR(http().patch("/v1/users/me", t.auth(), {{"name", "A"}}), 429, "rate_limited");
}

TEST_F(UserRateLimitTest, AppCredentialsAreNotLimitedPerUser) {
  mint("alice");
  for (int i = 0; i < 6; ++i) EXPECT_STATUS(http().get("/v1/users/alice", app_.auth()), 200);
}

TEST_F(UserRateLimitTest, AppSettingsOverrideTheServerUserLimit) {
  ASSERT_STATUS(http().patch("/v1/admin/apps/" + app_.id, admin_auth(),
                             {{"settings", {{"rate_limit_user_burst", 5}, {"rate_limit_user_per_sec", 0.1}}}}),
                200);
  auto t = mint("alice");
  for (int i = 0; i < 5; ++i) ASSERT_STATUS(http().get("/v1/users/me", t.auth()), 200) << "request " << i;
  auto r = http().get("/v1/users/me", t.auth());
  EXPECT_ERROR(r, 429, "rate_limited");
  EXPECT_EQ(retry_after(r), 10);  // one token at 0.1 per second
}

}  // namespace
}  // namespace parley::test
