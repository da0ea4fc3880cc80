// Users: me, profile updates and their limits, lookup, search with paging, deactivation.
#include <set>

#include "fixtures.hpp"

namespace parley::test {
namespace {

using UsersTest = AppFixture;

// ---- me --------------------------------------------------------------------------------------

TEST_F(UsersTest, MeReturnsTheTokensUser) {
  auto t = mint("alice", {{"name", "Alice"}, {"custom", {{"plan", "pro"}}}});
  auto r = http().get("/v1/users/me", t.auth());
  ASSERT_STATUS(r, 200);
  auto u = r.obj()["user"].as_object();
  EXPECT_EQ(u["id"], "alice");
  EXPECT_EQ(u["name"], "Alice");
  EXPECT_EQ(u["custom"], json::parse(R"({"plan":"pro"})"));
  for (const char* k : {"image_url", "created_at", "updated_at", "deactivated_at"}) EXPECT_TRUE(u.contains(k)) << k;
  EXPECT_EQ(u["bot"], false);
  EXPECT_EQ(u.size(), 8u);
}

TEST_F(UsersTest, MeWithoutATokenIs401) { EXPECT_ERROR(http().get("/v1/users/me"), 401, "unauthorized"); }

TEST_F(UsersTest, UpdatingMeChangesOnlyTheGivenFields) {
  auto t = mint("alice", {{"name", "Alice"}, {"image_url", "https://a.example/1.png"}});
  auto r = http().patch("/v1/users/me", t.auth(), {{"name", "Alice L."}});
  ASSERT_STATUS(r, 200);
  auto u = r.obj()["user"].as_object();
  EXPECT_EQ(u["name"], "Alice L.");
  EXPECT_EQ(u["image_url"], "https://a.example/1.png");
  EXPECT_EQ(http().get("/v1/users/alice", app_.auth()).obj()["user"].as_object()["name"], "Alice L.");
}

TEST_F(UsersTest, UpdatingMeReplacesCustomAndAcceptsAnEmptyImageUrl) {
  auto t = mint("alice", {{"image_url", "http://a.example/1.png"}, {"custom", {{"a", 1}}}});
  auto r = http().patch("/v1/users/me", t.auth(), {{"image_url", ""}, {"custom", {{"b", {{"nested", true}}}}}});
  ASSERT_STATUS(r, 200);
  auto u = r.obj()["user"].as_object();
  EXPECT_EQ(u["image_url"], "");
  EXPECT_EQ(u["custom"], json::parse(R"({"b":{"nested":true}})"));
}

TEST_F(UsersTest, ImageUrlMustBeHttpOrHttps) {
  auto t = mint("alice");
  for (const char* url :
       {"ftp://x.example/a.png", "javascript:alert(1)", "a.example/x.png", "data:image/png;base64,"}) {
    auto r = http().patch("/v1/users/me", t.auth(), {{"image_url", url}});
    EXPECT_ERROR(r, 422, "validation_failed") << url;
    EXPECT_EQ(error_detail(r), "image_url");
  }
  EXPECT_ERROR(http().patch("/v1/users/me", t.auth(), {{"image_url", "https://x.example/" + std::string(2048, 'a')}}),
               422, "validation_failed");
}

TEST_F(UsersTest, NamesLongerThan100BytesAre422) {
  auto t = mint("alice");
  auto r = http().patch("/v1/users/me", t.auth(), {{"name", std::string(101, 'n')}});
  EXPECT_ERROR(r, 422, "validation_failed");
  EXPECT_EQ(error_detail(r), "name");
  EXPECT_STATUS(http().patch("/v1/users/me", t.auth(), {{"name", std::string(100, 'n')}}), 200);
  EXPECT_STATUS(http().patch("/v1/users/me", t.auth(), {{"name", ""}}), 200);
}

TEST_F(UsersTest, CustomDataOver8KiBIs422) {
  auto t = mint("alice");
  // {"k":"…"} is 8 bytes plus the string: 8184 characters make exactly 8192 bytes.
  auto fits = http().patch("/v1/users/me", t.auth(), {{"custom", {{"k", std::string(8184, 'x')}}}});
  EXPECT_STATUS(fits, 200);
  auto r = http().patch("/v1/users/me", t.auth(), {{"custom", {{"k", std::string(8185, 'x')}}}});
  EXPECT_ERROR(r, 422, "validation_failed");
  EXPECT_EQ(error_detail(r), "custom");
}

TEST_F(UsersTest, CustomMustBeAnObject) {
  auto t = mint("alice");
  for (json::value v : {json::value("text"), json::value(json::array{1, 2}), json::value(3), json::value(nullptr)}) {
    auto r = http().patch("/v1/users/me", t.auth(), {{"custom", v}});
    EXPECT_ERROR(r, 400, "invalid_request") << v;
    EXPECT_EQ(error_detail(r), "custom");
  }
}

TEST_F(UsersTest, UpdatingMeWithAnUnknownFieldIs400AndChangesNothing) {
  auto t = mint("alice", {{"name", "Alice"}});
  auto r = http().patch("/v1/users/me", t.auth(), {{"name", "Eve"}, {"id", "eve"}});
  EXPECT_ERROR(r, 400, "invalid_request");
  EXPECT_EQ(error_detail(r), "id");
  EXPECT_EQ(http().get("/v1/users/me", t.auth()).obj()["user"].as_object()["name"], "Alice");
}

TEST_F(UsersTest, UpdatingMeWithFieldsOfTheWrongTypeIs400) {
  auto t = mint("alice");
  auto r = http().patch("/v1/users/me", t.auth(), {{"name", 42}});
  EXPECT_ERROR(r, 400, "invalid_request");
  EXPECT_EQ(error_detail(r), "name");
}

// ---- get -------------------------------------------------------------------------------------

TEST_F(UsersTest, AUserCanBeReadWithAUserTokenOrAppCredentials) {
  mint("bob", {{"name", "Bob"}});
  auto alice = mint("alice");
  auto by_user = http().get("/v1/users/bob", alice.auth());
  ASSERT_STATUS(by_user, 200);
  EXPECT_EQ(by_user.obj()["user"].as_object()["name"], "Bob");
  auto by_app = http().get("/v1/users/bob", app_.auth());
  ASSERT_STATUS(by_app, 200);
  EXPECT_EQ(by_app.body, by_user.body);
}

TEST_F(UsersTest, AnUnknownUserIs404) { EXPECT_ERROR(http().get("/v1/users/nobody", app_.auth()), 404, "not_found"); }

TEST_F(UsersTest, ReadingAUserNeedsCredentials) {
  mint("bob");
  EXPECT_ERROR(http().get("/v1/users/bob"), 401, "unauthorized");
  EXPECT_ERROR(http().get("/v1/users"), 401, "unauthorized");
}

TEST_F(UsersTest, UserIdsInPathsArePercentDecoded) {
  mint("a@b.example");
  auto r = http().get("/v1/users/a%40b.example", app_.auth());
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.obj()["user"].as_object()["id"], "a@b.example");
}

// ---- list and search -------------------------------------------------------------------------

class UserListTest : public UsersTest {
 protected:
  void SetUp() override {
    UsersTest::SetUp();
    mint("alice", {{"name", "Alice Liddell"}});
    mint("alan", {{"name", "Alan Turing"}});
    mint("bob", {{"name", "Bob"}});
    mint("zed", {{"name", "Alfred"}});
    mint("carol", {{"name", "Carol"}});
  }
  std::vector<std::string> ids(const std::string& query, const Auth& auth) {
    auto r = http().get("/v1/users" + query, auth);
    if (r.status != 200) throw std::runtime_error("list failed: " + r.body);
    std::vector<std::string> out;
    for (const auto& u : r.obj()["items"].as_array()) out.push_back(str(u.as_object().at("id")));
    return out;
  }
  std::vector<std::string> ids(const std::string& query) { return ids(query, app_.auth()); }
};

TEST_F(UserListTest, ListingReturnsTheAppsUsersSortedById) {
  EXPECT_EQ(ids(""), (std::vector<std::string>{"alan", "alice", "bob", "carol", "zed"}));
  auto r = http().get("/v1/users", app_.auth());
  EXPECT_TRUE(r.obj()["next_cursor"].is_null());
}

TEST_F(UserListTest, UsersCanListWithTheirOwnToken) {
  auto t = mint("dave");
  EXPECT_EQ(ids("", t.auth()).size(), 6u);
}

TEST_F(UserListTest, SearchMatchesAPrefixOfIdOrNameCaseInsensitively) {
  EXPECT_EQ(ids("?q=al"), (std::vector<std::string>{"alan", "alice", "zed"}));  // zed is "Alfred"
  EXPECT_EQ(ids("?q=AL"), (std::vector<std::string>{"alan", "alice", "zed"}));
  EXPECT_EQ(ids("?q=alan%20t"), (std::vector<std::string>{"alan"}));
  EXPECT_EQ(ids("?q=ZE"), (std::vector<std::string>{"zed"}));
  EXPECT_TRUE(ids("?q=lice").empty());  // a prefix, not a substring
}

TEST_F(UserListTest, SearchTreatsLikeWildcardsLiterally) {
  EXPECT_TRUE(ids("?q=%25").empty());  // "%"
  EXPECT_TRUE(ids("?q=a_").empty());   // "_" is not "any character"
  mint("a_1");
  EXPECT_EQ(ids("?q=a_"), (std::vector<std::string>{"a_1"}));
}

TEST_F(UserListTest, ASearchLongerThan100BytesIs422) {
  EXPECT_ERROR(http().get("/v1/users?q=" + std::string(101, 'q'), app_.auth()), 422, "validation_failed");
}

TEST_F(UserListTest, ListingPagesByCursor) {
  std::vector<std::string> all;
  std::string target = "/v1/users?limit=2";
  int pages = 0;
  for (;;) {
    auto o = http().get(target, app_.auth()).obj();
    auto items = o["items"].as_array();
    EXPECT_LE(items.size(), 2u);
    for (const auto& u : items) all.push_back(str(u.as_object().at("id")));
    ++pages;
    if (o["next_cursor"].is_null()) break;
    target = "/v1/users?limit=2&cursor=" + url_encode(str(o["next_cursor"]));
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(all, (std::vector<std::string>{"alan", "alice", "bob", "carol", "zed"}));
}

TEST_F(UserListTest, PagingKeepsTheSearch) {
  auto first = http().get("/v1/users?q=al&limit=2", app_.auth()).obj();
  ASSERT_EQ(first["items"].as_array().size(), 2u);
  ASSERT_TRUE(first["next_cursor"].is_string());
  EXPECT_EQ(ids("?q=al&limit=2&cursor=" + url_encode(str(first["next_cursor"]))), (std::vector<std::string>{"zed"}));
}

TEST_F(UserListTest, DeactivatedUsersAreHiddenUnlessAppCredentialsAskForThem) {
  ASSERT_STATUS(http().post("/v1/users/bob/deactivate", app_.auth()), 200);
  EXPECT_EQ(ids(""), (std::vector<std::string>{"alan", "alice", "carol", "zed"}));
  EXPECT_EQ(ids("?include_deactivated=true"), (std::vector<std::string>{"alan", "alice", "bob", "carol", "zed"}));
  EXPECT_EQ(ids("?include_deactivated=false").size(), 4u);
}

TEST_F(UserListTest, IncludeDeactivatedWithAUserTokenIs403) {
  auto t = mint("dave");
  EXPECT_ERROR(http().get("/v1/users?include_deactivated=true", t.auth()), 403, "forbidden");
  EXPECT_STATUS(http().get("/v1/users?include_deactivated=false", t.auth()), 200);
}

TEST_F(UserListTest, IncludeDeactivatedMustBeTrueOrFalse) {
  auto r = http().get("/v1/users?include_deactivated=yes", app_.auth());
  EXPECT_ERROR(r, 400, "invalid_request");
}

TEST_F(UserListTest, BadPagingParametersAre400) {
  EXPECT_ERROR(http().get("/v1/users?limit=0", app_.auth()), 400, "invalid_request");
  EXPECT_ERROR(http().get("/v1/users?limit=2x", app_.auth()), 400, "invalid_request");
  EXPECT_ERROR(http().get("/v1/users?cursor=not*a*cursor", app_.auth()), 400, "invalid_request");
}

// ---- deactivation ----------------------------------------------------------------------------

TEST_F(UsersTest, DeactivatingSetsDeactivatedAtAndReactivatingClearsIt) {
  mint("alice");
  auto d = http().post("/v1/users/alice/deactivate", app_.auth());
  ASSERT_STATUS(d, 200);
  auto at = d.obj()["user"].as_object()["deactivated_at"];
  EXPECT_TRUE(at.is_string());
  // Deactivating again is a no-op that keeps the first time.
  auto again = http().post("/v1/users/alice/deactivate", app_.auth());
  ASSERT_STATUS(again, 200);
  EXPECT_EQ(again.obj()["user"].as_object()["deactivated_at"], at);
  auto r = http().post("/v1/users/alice/reactivate", app_.auth());
  ASSERT_STATUS(r, 200);
  EXPECT_TRUE(r.obj()["user"].as_object()["deactivated_at"].is_null());
  EXPECT_STATUS(http().post("/v1/users/alice/reactivate", app_.auth()), 200);
}

TEST_F(UsersTest, DeactivatedUsersCanStillBeReadByTheApp) {
  mint("alice");
  ASSERT_STATUS(http().post("/v1/users/alice/deactivate", app_.auth()), 200);
  auto r = http().get("/v1/users/alice", app_.auth());
  ASSERT_STATUS(r, 200);
  EXPECT_TRUE(r.obj()["user"].as_object()["deactivated_at"].is_string());
}

TEST_F(UsersTest, DeactivatingAnUnknownUserIs404) {
  EXPECT_ERROR(http().post("/v1/users/nobody/deactivate", app_.auth()), 404, "not_found");
  EXPECT_ERROR(http().post("/v1/users/nobody/reactivate", app_.auth()), 404, "not_found");
}

}  // namespace
}  // namespace parley::test
