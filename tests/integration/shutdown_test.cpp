// Graceful shutdown: SIGTERM/SIGINT stop accepting, close idle connections at once, let an
// in-flight request finish (with Connection: close), and exit 0; a request still stuck after
// --shutdown-grace-ms is cut off. (/ready turns 503 as soon as shutdown begins, but no new
// request can reach it over HTTP then: idle connections are closed and new ones refused.)
#include <signal.h>

#include "fixtures.hpp"

namespace parley::test {
namespace {

using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point t) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

TEST(ShutdownTest, SigtermExitsZero) {
  ServerProcess s;
  auto start = Clock::now();
  EXPECT_EQ(s.stop(), 0) << s.err();
  EXPECT_LT(ms_since(start), 2000);
}

TEST(ShutdownTest, SigintExitsZero) {
  ServerProcess s;
  s.child().signal(SIGINT);
  EXPECT_EQ(s.wait_exit(5s), 0) << s.err();
}

TEST(ShutdownTest, AnIdleKeepAliveConnectionDoesNotDelayShutdown) {
  ServerProcess s;  // default grace: 10 s
  HttpClient c(s.port());
  ASSERT_STATUS(c.get("/health"), 200);  // the connection stays open, idle
  auto start = Clock::now();
  EXPECT_EQ(s.stop(), 0) << s.err();
  EXPECT_LT(ms_since(start), 2000);
}

TEST(ShutdownTest, AnInFlightRequestCompletesAndTheProcessThenExitsZero) {
  ServerProcess s;
  RawSocket conn(s.port());
  std::string body = R"({"name":"created during shutdown"})";
  ASSERT_TRUE(conn.send("POST /v1/admin/apps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                        std::string(ServerProcess::kAdminKey) +
                        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n\r\n" + body.substr(0, 10)));
  std::this_thread::sleep_for(100ms);  // the server is now reading this request's body
  s.child().signal(SIGTERM);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(s.child().running()) << "exited with a request in flight";
  // While draining, new connections are refused.
  EXPECT_THROW(RawSocket(s.port()), std::runtime_error);

  ASSERT_TRUE(conn.send(body.substr(10)));
  auto r = conn.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_FALSE(r->keep_alive);  // Connection: close while draining
  EXPECT_EQ(s.wait_exit(5s), 0) << s.err();
  DbFile db(s.db_path());
  EXPECT_EQ(db.value("SELECT count(*) FROM apps WHERE name = 'created during shutdown'"), "1");
}

TEST(ShutdownTest, ARequestStuckPastTheGracePeriodIsCutOff) {
  ServerProcess s(ServerProcess::Options{}.flag("shutdown-grace-ms", "200"));
  RawSocket conn(s.port());
  ASSERT_TRUE(conn.send("POST /v1/auth/refresh HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{"));
  std::this_thread::sleep_for(100ms);
  auto start = Clock::now();
  s.child().signal(SIGTERM);
  EXPECT_EQ(s.wait_exit(5s), 0) << s.err();
  long elapsed = ms_since(start);
  EXPECT_GE(elapsed, 150);
  EXPECT_LT(elapsed, 2000);
  EXPECT_TRUE(conn.wait_closed(1s));
}

TEST(ShutdownTest, StopReturnsZeroAfterServingTraffic) {
  ServerProcess s;
  HttpClient c(s.port());
  auto r = c.post("/v1/admin/apps", admin_auth(), {{"name", "x"}});
  ASSERT_STATUS(r, 201);
  EXPECT_EQ(s.stop(), 0) << s.err();
  EXPECT_THROW(RawSocket(s.port()), std::runtime_error);
}

TEST(ShutdownTest, DataWrittenBeforeShutdownIsThereAfterARestart) {
  TempDir dir;
  std::string app_id;
  {
    ServerProcess s(ServerProcess::Options{}.in(dir.path()));
    HttpClient c(s.port());
    auto r = c.post("/v1/admin/apps", admin_auth(), {{"name", "durable"}});
    ASSERT_STATUS(r, 201);
    app_id = str(r.obj()["app"].as_object()["id"]);
    ASSERT_EQ(s.stop(), 0);
  }
  ServerProcess again(ServerProcess::Options{}.in(dir.path()));
  HttpClient c(again.port());
  auto r = c.get("/v1/admin/apps/" + app_id, admin_auth());
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.obj()["app"].as_object()["name"], "durable");
}

}  // namespace
}  // namespace parley::test
