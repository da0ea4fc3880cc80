// The tenant wall: with app B's credentials or tokens, every resource of app A is "not found"
// (never "forbidden", which would confirm it exists), and nothing of A changes.
#include "fixtures.hpp"

namespace parley::test {
namespace {

class CrossTenantTest : public AppFixture {
 protected:
  void SetUp() override {
    AppFixture::SetUp();
    a_ = app_;
    b_ = create_app("app B");
    a_alice_ = mint(a_, "alice", {{"name", "Alice of A"}});
    a_only_ = mint(a_, "anna", {{"name", "Anna"}});
    b_alice_ = mint(b_, "alice", {{"name", "Alice of B"}});
    b_bob_ = mint(b_, "bob");
  }
  // A's users are untouched: still active, tokens still valid.
  void expect_a_untouched() {
    auto r = http().get("/v1/users/anna", a_.auth());
    ASSERT_STATUS(r, 200);
    EXPECT_TRUE(r.obj()["user"].as_object()["deactivated_at"].is_null());
    EXPECT_STATUS(http().get("/v1/users/me", a_only_.auth()), 200);
    EXPECT_STATUS(http().get("/v1/users/me", a_alice_.auth()), 200);
  }

  AppCreds a_, b_;
  UserTokens a_alice_, a_only_, b_alice_, b_bob_;
};

TEST_F(CrossTenantTest, ReadingAUserOfAnotherAppIs404WithAppCredentials) {
  EXPECT_ERROR(http().get("/v1/users/anna", b_.auth()), 404, "not_found");
}

TEST_F(CrossTenantTest, ReadingAUserOfAnotherAppIs404WithAUserToken) {
  EXPECT_ERROR(http().get("/v1/users/anna", b_bob_.auth()), 404, "not_found");
}

TEST_F(CrossTenantTest, TheSameUserIdInTwoAppsIsTwoSeparateUsers) {
  EXPECT_EQ(http().get("/v1/users/alice", a_.auth()).obj()["user"].as_object()["name"], "Alice of A");
  EXPECT_EQ(http().get("/v1/users/alice", b_.auth()).obj()["user"].as_object()["name"], "Alice of B");
  ASSERT_STATUS(http().patch("/v1/users/me", b_alice_.auth(), {{"name", "changed in B"}}), 200);
  EXPECT_EQ(http().get("/v1/users/me", a_alice_.auth()).obj()["user"].as_object()["name"], "Alice of A");
}

TEST_F(CrossTenantTest, DeactivatingAUserOfAnotherAppIs404AndChangesNothing) {
  EXPECT_ERROR(http().post("/v1/users/anna/deactivate", b_.auth()), 404, "not_found");
  expect_a_untouched();
}

TEST_F(CrossTenantTest, ReactivatingAUserOfAnotherAppIs404) {
  ASSERT_STATUS(http().post("/v1/users/anna/deactivate", a_.auth()), 200);
  EXPECT_ERROR(http().post("/v1/users/anna/reactivate", b_.auth()), 404, "not_found");
  EXPECT_TRUE(http().get("/v1/users/anna", a_.auth()).obj()["user"].as_object()["deactivated_at"].is_string());
}

TEST_F(CrossTenantTest, RevokingTokensOfAUserOfAnotherAppIs404AndChangesNothing) {
  EXPECT_ERROR(http().post("/v1/users/anna/revoke-tokens", b_.auth()), 404, "not_found");
  expect_a_untouched();
}

TEST_F(CrossTenantTest, RevokingTokensOfASharedUserIdOnlyAffectsThatApp) {
  ASSERT_STATUS(http().post("/v1/users/alice/revoke-tokens", b_.auth()), 204);
  EXPECT_ERROR(http().get("/v1/users/me", b_alice_.auth()), 401, "token_revoked");
  EXPECT_STATUS(http().get("/v1/users/me", a_alice_.auth()), 200);
  EXPECT_STATUS(http().post("/v1/auth/refresh", {}, {{"refresh_token", a_alice_.refresh}}), 200);
}

TEST_F(CrossTenantTest, ListingUsersShowsOnlyTheCallersApp) {
  auto ids = [&](const Auth& auth, const std::string& q = "") {
    std::vector<std::string> out;
    auto r = http().get("/v1/users?include_deactivated=false" + q, auth);
    EXPECT_STATUS(r, 200);
    for (const auto& u : r.obj()["items"].as_array()) out.push_back(str(u.as_object().at("id")));
    return out;
  };
  EXPECT_EQ(ids(b_.auth()), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(ids(b_bob_.auth()), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(ids(a_.auth()), (std::vector<std::string>{"alice", "anna"}));
  EXPECT_TRUE(ids(b_.auth(), "&q=ann").empty());
}

TEST_F(CrossTenantTest, AnotherAppsCursorDoesNotRevealItsUsers) {
  auto first = http().get("/v1/users?limit=1", a_.auth()).obj();
  ASSERT_TRUE(first["next_cursor"].is_string());
  auto r = http().get("/v1/users?limit=10&cursor=" + url_encode(str(first["next_cursor"])), b_.auth());
  ASSERT_STATUS(r, 200);
  for (const auto& u : r.obj()["items"].as_array()) EXPECT_NE(u.as_object().at("id"), "anna");
}

TEST_F(CrossTenantTest, MintingWithAppBCredentialsNeverTouchesAppAUsers) {
  auto r = http().post("/v1/auth/token", b_.auth(), {{"user_id", "anna"}, {"name", "Impostor"}});
  ASSERT_STATUS(r, 200);  // a new user "anna" in B
  EXPECT_EQ(http().get("/v1/users/anna", a_.auth()).obj()["user"].as_object()["name"], "Anna");
  // B's token for "anna" is not A's anna.
  auto b_anna = Auth::bearer(str(r.obj()["access_token"]));
  EXPECT_EQ(http().get("/v1/users/me", b_anna).obj()["user"].as_object()["name"], "Impostor");
  EXPECT_ERROR(http().get("/v1/users/bob", a_only_.auth()), 404, "not_found");
}

TEST_F(CrossTenantTest, AKeyOfOneAppWithTheSecretOfAnotherIs401) {
  EXPECT_ERROR(http().get("/v1/users", Auth::basic(a_.key, b_.secret)), 401, "unauthorized");
  EXPECT_ERROR(http().get("/v1/users", Auth::basic(b_.key, a_.secret)), 401, "unauthorized");
}

TEST_F(CrossTenantTest, ATokenNamingAppBButSignedWithAppAsKeyIs401) {
  auto c = Claims{};
  c.app = b_.id;
  c.sub = "alice";
  c.gen = jwt_payload(b_alice_.access)["gen"].as_int64();
  c.sid = str(jwt_payload(b_alice_.access)["sid"]);
  c.iat = unix_now();
  c.exp = c.iat + 600;
  auto a_key = app_jwt_secret(server().db_path(), a_.id);
  EXPECT_ERROR(http().get("/v1/users/me", Auth::bearer(sign_hs256(c, a_key))), 401, "unauthorized");
  // The control: the same claims with B's key are accepted.
  auto b_key = app_jwt_secret(server().db_path(), b_.id);
  EXPECT_STATUS(http().get("/v1/users/me", Auth::bearer(sign_hs256(c, b_key))), 200);
}

TEST_F(CrossTenantTest, EachAppSignsWithItsOwnKey) {
  EXPECT_NE(app_jwt_secret(server().db_path(), a_.id), app_jwt_secret(server().db_path(), b_.id));
}

TEST_F(CrossTenantTest, AppAsRefreshTokenIssuesTokensForAppAOnly) {
  auto r = http().post("/v1/auth/refresh", {}, {{"refresh_token", a_alice_.refresh}});
  ASSERT_STATUS(r, 200);
  auto p = jwt_payload(str(r.obj()["access_token"]));
  EXPECT_EQ(str(p["app"]), a_.id);
  EXPECT_EQ(r.obj()["user"].as_object()["name"], "Alice of A");
}

TEST_F(CrossTenantTest, KeysOfAnotherAppCannotBeManagedThroughThisAppsPath) {
  auto a_path = "/v1/admin/apps/" + a_.id + "/keys/" + b_.key;
  EXPECT_ERROR(http().del(a_path, admin_auth()), 404, "not_found");
  EXPECT_ERROR(http().post(a_path + "/rotate", admin_auth()), 404, "not_found");
  EXPECT_STATUS(http().get("/v1/users", b_.auth()), 200);  // B's key still works
}

TEST_F(CrossTenantTest, AConfirmTokenIssuedForAppAsKeyDoesNotConfirmOnAppBsPath) {
  auto ticket = http().post("/v1/admin/apps/" + a_.id + "/keys/" + a_.key + "/rotate", admin_auth());
  ASSERT_STATUS(ticket, 202);
  auto token = str(ticket.obj()["confirm_token"]);
  auto r = http().post("/v1/admin/apps/" + b_.id + "/keys/" + b_.key + "/rotate/confirm", admin_auth(),
                       {{"confirm_token", token}});
  EXPECT_ERROR(r, 404, "not_found");
  EXPECT_STATUS(http().get("/v1/users", a_.auth()), 200);
  EXPECT_STATUS(http().get("/v1/users", b_.auth()), 200);
}

TEST_F(CrossTenantTest, DeletingAppBLeavesAppAsUsersAndTokensWorking) {
  ASSERT_STATUS(http().del("/v1/admin/apps/" + b_.id, admin_auth()), 204);
  EXPECT_ERROR(http().get("/v1/users/me", b_alice_.auth()), 401, "unauthorized");
  expect_a_untouched();
}

TEST_F(CrossTenantTest, PerUserRateLimitsAreKeptPerApp) {
  // The same user id in two apps does not share a bucket: B's alice exhausting hers leaves A's alone.
  ASSERT_STATUS(http().patch("/v1/admin/apps/" + b_.id, admin_auth(),
                             {{"settings", {{"rate_limit_user_burst", 1}, {"rate_limit_user_per_sec", 0.1}}}}),
                200);
  ASSERT_STATUS(http().get("/v1/users/me", b_alice_.auth()), 200);
  EXPECT_ERROR(http().get("/v1/users/me", b_alice_.auth()), 429, "rate_limited");
  EXPECT_STATUS(http().get("/v1/users/me", a_alice_.auth()), 200);
  EXPECT_STATUS(http().get("/v1/users/me", a_alice_.auth()), 200);
}

}  // namespace
}  // namespace parley::test
