// The closing handshake's state machine (net/ws_close_state.hpp), as WsSession drives it.
#include <gtest/gtest.h>

#include "net/ws_close_state.hpp"

namespace {

using parley::net::detail::CloseState;
using parley::net::detail::WsCloseState;

TEST(WsCloseState, StartsOpenAndAcceptsData) {
  WsCloseState s;
  EXPECT_EQ(s.state(), CloseState::open);
  EXPECT_TRUE(s.accepts_data());
  EXPECT_FALSE(s.closing());
  EXPECT_FALSE(s.close_sent());
  EXPECT_FALSE(s.socket_closed());
}

TEST(WsCloseState, OnlyTheFirstCloseRequestQueuesAFrame) {
  WsCloseState s;
  EXPECT_TRUE(s.request_close(false));
  EXPECT_EQ(s.state(), CloseState::closing);
  EXPECT_FALSE(s.accepts_data());
  EXPECT_TRUE(s.closing());
  EXPECT_FALSE(s.request_close(false));
  EXPECT_EQ(s.state(), CloseState::closing);
}

TEST(WsCloseState, OurCloseWrittenWaitsForThePeers) {
  WsCloseState s;
  s.request_close(false);
  EXPECT_FALSE(s.close_written());  // the socket stays open for the peer's close
  EXPECT_EQ(s.state(), CloseState::close_sent);
  EXPECT_TRUE(s.close_sent());
  EXPECT_TRUE(s.closing());
}

TEST(WsCloseState, AnsweringThePeersCloseClosesOnceWritten) {
  WsCloseState s;
  EXPECT_TRUE(s.request_close(true));
  EXPECT_EQ(s.state(), CloseState::answering);
  EXPECT_TRUE(s.close_written());
  EXPECT_EQ(s.state(), CloseState::close_sent);
}

TEST(WsCloseState, PeersCloseWhileOursIsQueuedBecomesAnAnswer) {
  WsCloseState s;
  s.request_close(false);
  EXPECT_FALSE(s.request_close(true));  // our frame is already queued: no second one
  EXPECT_EQ(s.state(), CloseState::answering);
  EXPECT_TRUE(s.close_written());
}

TEST(WsCloseState, RequestsAfterOurCloseWentOutChangeNothing) {
  WsCloseState s;
  s.request_close(false);
  s.close_written();
  EXPECT_FALSE(s.request_close(false));
  EXPECT_FALSE(s.request_close(true));
  EXPECT_EQ(s.state(), CloseState::close_sent);
}

TEST(WsCloseState, ClosingTheSocketHappensOnceFromAnyState) {
  for (int steps = 0; steps < 3; ++steps) {
    WsCloseState s;
    if (steps >= 1) s.request_close(false);
    if (steps >= 2) s.close_written();
    EXPECT_TRUE(s.close_socket());
    EXPECT_EQ(s.state(), CloseState::closed);
    EXPECT_TRUE(s.socket_closed());
    EXPECT_TRUE(s.closing());
    EXPECT_FALSE(s.accepts_data());
    EXPECT_FALSE(s.close_socket());
  }
}

TEST(WsCloseState, AClosedSocketIsFinal) {
  WsCloseState s;
  s.request_close(true);
  s.close_socket();
  EXPECT_FALSE(s.request_close(false));
  EXPECT_FALSE(s.close_written());  // a write that finished after the close does not reopen it
  EXPECT_EQ(s.state(), CloseState::closed);
}

}  // namespace
