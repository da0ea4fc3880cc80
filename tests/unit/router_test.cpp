#include <gtest/gtest.h>

#include "api/pipeline.hpp"
#include "api/router.hpp"

namespace parley::api {
namespace {

boost::asio::awaitable<Result<net::Response>> noop(Ctx&) { co_return net::Response{}; }

Router sample() {
  Router r;
  r.add({"GET", "/v1/users/{user_id}", Access::none, true, noop});
  r.add({"GET", "/v1/users/me", Access::none, true, noop});
  r.add({"PATCH", "/v1/users/me", Access::none, true, noop});
  r.add({"DELETE", "/v1/apps/{app_id}/keys/{key}", Access::none, true, noop});
  return r;
}

TEST(Router, ExtractsPathParameters) {
  auto r = sample();
  auto m = r.match("DELETE", "/v1/apps/app_1/keys/pk_2");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("app_id"), "app_1");
  EXPECT_EQ(m.params.at("key"), "pk_2");
}

TEST(Router, LiteralSegmentsBeatParameters) {
  auto r = sample();
  auto m = r.match("GET", "/v1/users/me");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/users/me");
  auto other = r.match("GET", "/v1/users/bob");
  ASSERT_NE(other.route, nullptr);
  EXPECT_EQ(other.params.at("user_id"), "bob");
}

TEST(Router, WrongMethodListsTheAllowedOnes) {
  auto r = sample();
  auto m = r.match("POST", "/v1/users/me");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"GET", "PATCH"}));
}

TEST(Router, UnknownPathsAndTrailingSlashesDoNotMatch) {
  auto r = sample();
  EXPECT_EQ(r.match("GET", "/v1/nothing").route, nullptr);
  EXPECT_TRUE(r.match("GET", "/v1/nothing").allowed.empty());
  EXPECT_EQ(r.match("GET", "/v1/users/me/").route, nullptr);
  EXPECT_EQ(r.match("GET", "/v1/users/me/extra").route, nullptr);
}

TEST(Router, TheServerRouteTableHasNoDuplicates) {
  auto r = build_router();
  std::set<std::string> seen;
  for (const auto& route : r.routes()) {
    EXPECT_TRUE(seen.insert(route.method + " " + route.pattern).second) << route.pattern;
  }
  EXPECT_GT(seen.size(), 20u);
}

}  // namespace
}  // namespace parley::api
