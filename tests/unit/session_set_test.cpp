// realtime::SessionSet: the hub's flat set of sessions (insert, erase by moving the last one
// into the gap, membership, iteration). It never dereferences the pointers, so fake ones do.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "realtime/hub.hpp"

namespace {

using parley::realtime::Session;
using parley::realtime::SessionSet;

Session* fake(std::uintptr_t n) { return reinterpret_cast<Session*>(n * 64); }

std::set<Session*> contents(const SessionSet& s) { return {s.begin(), s.end()}; }

TEST(SessionSet, InsertIsIdempotentAndEraseOfAnAbsentSessionIsANoOp) {
  SessionSet s;
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.insert(fake(1)));
  EXPECT_FALSE(s.insert(fake(1)));
  EXPECT_EQ(s.size(), 1u);
  EXPECT_FALSE(s.erase(fake(2)));
  EXPECT_TRUE(s.erase(fake(1)));
  EXPECT_FALSE(s.erase(fake(1)));
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.contains(fake(1)));
}

TEST(SessionSet, ErasingFromTheMiddleKeepsEveryOtherSessionReachable) {
  SessionSet s;
  for (std::uintptr_t i = 1; i <= 5; ++i) s.insert(fake(i));
  EXPECT_TRUE(s.erase(fake(2)));  // the last one moves into its place
  EXPECT_EQ(contents(s), (std::set<Session*>{fake(1), fake(3), fake(4), fake(5)}));
  EXPECT_TRUE(s.erase(fake(5)));  // the one that moved: its recorded position must be right
  EXPECT_TRUE(s.erase(fake(1)));
  EXPECT_EQ(contents(s), (std::set<Session*>{fake(3), fake(4)}));
  for (std::size_t i = 0; i < s.size(); ++i) EXPECT_TRUE(s.contains(s[i]));
}

TEST(SessionSet, MatchesAStdSetUnderRandomInsertsAndErases) {
  SessionSet s;
  std::set<Session*> model;
  std::mt19937 rng(7);
  for (int step = 0; step < 20000; ++step) {
    Session* p = fake(1 + rng() % 300);
    if (rng() % 3 == 0) {
      EXPECT_EQ(s.erase(p), model.erase(p) == 1);
    } else {
      EXPECT_EQ(s.insert(p), model.insert(p).second);
    }
    ASSERT_EQ(s.size(), model.size());
  }
  EXPECT_EQ(contents(s), model);
  for (Session* p : model) EXPECT_TRUE(s.contains(p));
}

}  // namespace
