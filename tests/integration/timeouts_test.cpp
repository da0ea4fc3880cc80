// Slow and idle clients: a request head must arrive within --header-timeout-ms however it is
// trickled (slowloris), a body within --body-timeout-ms, and an idle keep-alive connection is
// closed after --idle-timeout-ms. Timeouts are small here so the tests stay quick.
#include "fixtures.hpp"

namespace parley::test {
namespace {

using Clock = std::chrono::steady_clock;

class TimeoutsTest : public ServerFixture {
 protected:
  ServerProcess::Options server_options() override {
    return ServerProcess::Options{}
        .flag("header-timeout-ms", "300")
        .flag("body-timeout-ms", "300")
        .flag("idle-timeout-ms", "400");
  }
  static long ms_since(Clock::time_point t) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
  }
};

TEST_F(TimeoutsTest, ASlowlorisClientIsCutOffWhenTheHeadTakesLongerThanTheHeaderTimeout) {
  RawSocket s(server().port());
  auto start = Clock::now();
  ASSERT_TRUE(s.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "));
  // One byte every 50 ms: each byte is progress, but the whole head never completes.
  bool closed = false;
  while (ms_since(start) < 3000) {
    if (!s.send("a") || s.wait_closed(50ms)) {
      closed = true;
      break;
    }
  }
  long elapsed = ms_since(start);
  EXPECT_TRUE(closed) << "still connected after " << elapsed << " ms";
  EXPECT_GE(elapsed, 250);
  EXPECT_LT(elapsed, 1000);
  EXPECT_STATUS(http().get("/health"), 200);
}

TEST_F(TimeoutsTest, ASlowBodyIsCutOffByTheBodyTimeout) {
  RawSocket s(server().port());
  ASSERT_TRUE(
      s.send("POST /v1/auth/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: 100\r\n\r\n{\"refresh"));
  auto start = Clock::now();
  EXPECT_TRUE(s.wait_closed(2s));
  EXPECT_LT(ms_since(start), 1000);
}

TEST_F(TimeoutsTest, AnIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  RawSocket s(server().port());
  ASSERT_TRUE(s.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = s.read_response();
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->status, 200);
  ASSERT_TRUE(r->keep_alive);
  auto start = Clock::now();
  EXPECT_TRUE(s.wait_closed(3s));
  long elapsed = ms_since(start);
  EXPECT_GE(elapsed, 300);
  EXPECT_LT(elapsed, 1200);
}

TEST_F(TimeoutsTest, AConnectionThatNeverSendsAnythingIsClosedAfterTheIdleTimeout) {
  RawSocket s(server().port());
  auto start = Clock::now();
  EXPECT_TRUE(s.wait_closed(3s));
  EXPECT_LT(ms_since(start), 1200);
}

TEST_F(TimeoutsTest, AConnectionInRegularUseStaysOpen) {
  HttpClient c(server().port());
  for (int i = 0; i < 6; ++i) {  // 6 x 150 ms: longer than the idle timeout in total
    ASSERT_STATUS(c.get("/health"), 200);
    std::this_thread::sleep_for(150ms);
  }
  EXPECT_EQ(c.connections_opened(), 1);
}

TEST_F(TimeoutsTest, ARequestHeadSentInPiecesQuicklyEnoughIsServed) {
  RawSocket s(server().port());
  for (const char* piece : {"GET /he", "alth HTTP/1.1\r\n", "Host: x\r\n", "\r\n"}) {
    ASSERT_TRUE(s.send(piece));
    std::this_thread::sleep_for(30ms);
  }
  auto r = s.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace parley::test
