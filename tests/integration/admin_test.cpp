// The admin API (/v1/admin/*, super-admin key): apps, settings, keys, two-step rotation,
// revocation and the audit log.
#include <regex>
#include <set>

#include "fixtures.hpp"

namespace parley::test {
namespace {

using AdminTest = ServerFixture;
using AdminAppTest = AppFixture;

std::string app_path(const std::string& id) { return "/v1/admin/apps/" + id; }
std::string key_path(const AppCreds& a, const std::string& key) { return app_path(a.id) + "/keys/" + key; }

// ---- credentials -----------------------------------------------------------------------------

TEST_F(AdminTest, AdminRoutesWithoutCredentialsAre401) {
  EXPECT_ERROR(http().get("/v1/admin/apps"), 401, "unauthorized");
  EXPECT_ERROR(http().post("/v1/admin/apps", {}, {{"name", "x"}}), 401, "unauthorized");
  EXPECT_ERROR(http().get("/v1/admin/audit"), 401, "unauthorized");
}

TEST_F(AdminTest, AWrongAdminKeyIs401) {
  EXPECT_ERROR(http().get("/v1/admin/apps", Auth::bearer("adm_wrong")), 401, "unauthorized");
  EXPECT_ERROR(http().get("/v1/admin/apps", Auth::bearer(std::string(ServerProcess::kAdminKey) + "x")), 401,
               "unauthorized");
}

TEST_F(AdminTest, TheAdminKeySentAsBasicIs401) {
  EXPECT_ERROR(http().get("/v1/admin/apps", Auth::basic(ServerProcess::kAdminKey, "")), 401, "unauthorized");
}

TEST_F(AdminAppTest, AppCredentialsAndUserTokensDoNotOpenTheAdminApi) {
  auto user = mint("alice");
  EXPECT_ERROR(http().get("/v1/admin/apps", app_.auth()), 401, "unauthorized");
  EXPECT_ERROR(http().get("/v1/admin/apps", user.auth()), 401, "unauthorized");
  EXPECT_ERROR(http().get(app_path(app_.id), user.auth()), 401, "unauthorized");
}

// ---- create ----------------------------------------------------------------------------------

TEST_F(AdminTest, CreatingAnAppReturnsItWithAKeyAndASecretShownOnce) {
  auto r = http().post("/v1/admin/apps", admin_auth(), {{"name", "Chat One"}});
  ASSERT_STATUS(r, 201);
  auto o = r.obj();
  auto app = o["app"].as_object();
  EXPECT_TRUE(std::regex_match(str(app["id"]), std::regex("app_[a-z2-7]{20}"))) << app["id"];
  EXPECT_EQ(app["name"], "Chat One");
  EXPECT_EQ(app["settings"], json::object{});
  EXPECT_TRUE(std::regex_match(str(app["created_at"]), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_EQ(app["created_at"], app["updated_at"]);
  EXPECT_TRUE(std::regex_match(str(o["api_key"]), std::regex("pk_[a-z2-7]{24}"))) << o["api_key"];
  EXPECT_TRUE(std::regex_match(str(o["api_secret"]), std::regex("sk_[A-Za-z0-9_-]{43}"))) << o["api_secret"];
  EXPECT_EQ(o.size(), 3u);
}

TEST_F(AdminTest, CreatedCredentialsAuthenticateAsTheApp) {
  auto a = create_app("creds");
  EXPECT_STATUS(http().get("/v1/users", a.auth()), 200);
  EXPECT_ERROR(http().get("/v1/users", Auth::basic(a.key, a.secret + "x")), 401, "unauthorized");
}

TEST_F(AdminTest, CreatingAnAppWithSettingsStoresThem) {
  auto r = http().post("/v1/admin/apps", admin_auth(),
                       {{"name", "set"}, {"settings", {{"max_message_bytes", 500}, {"retention_days", 30}}}});
  ASSERT_STATUS(r, 201);
  EXPECT_EQ(r.obj()["app"].as_object()["settings"], json::parse(R"({"max_message_bytes":500,"retention_days":30})"));
}

TEST_F(AdminTest, CreatingAnAppWithoutANameIs400) {
  auto r = http().post("/v1/admin/apps", admin_auth(), json::object{});
  EXPECT_ERROR(r, 400, "invalid_request");
  EXPECT_EQ(error_detail(r), "name");
}

TEST_F(AdminTest, AppNamesMustBe1To100Bytes) {
  auto empty = http().post("/v1/admin/apps", admin_auth(), {{"name", ""}});
  EXPECT_ERROR(empty, 422, "validation_failed");
  EXPECT_EQ(error_detail(empty), "name");
  EXPECT_ERROR(http().post("/v1/admin/apps", admin_auth(), {{"name", std::string(101, 'n')}}), 422,
               "validation_failed");
  EXPECT_STATUS(http().post("/v1/admin/apps", admin_auth(), {{"name", std::string(100, 'n')}}), 201);
}

TEST_F(AdminTest, AnUnknownSettingsKeyIs400) {
  auto r = http().post("/v1/admin/apps", admin_auth(), {{"name", "x"}, {"settings", {{"max_mesage_bytes", 5}}}});
  EXPECT_ERROR(r, 400, "invalid_request");
  EXPECT_EQ(error_detail(r), "max_mesage_bytes");
}

TEST_F(AdminTest, OutOfRangeSettingsAre422) {
  struct Case {
    const char* key;
    json::value value;
  };
  for (const auto& c : {Case{"max_message_bytes", 0}, Case{"max_message_bytes", 1000001},
                        Case{"max_channel_members", 1}, Case{"retention_days", -1}, Case{"retention_days", 36501},
                        Case{"rate_limit_user_per_sec", 0.01}, Case{"rate_limit_user_burst", 0}}) {
    auto r = http().post("/v1/admin/apps", admin_auth(), {{"name", "x"}, {"settings", {{c.key, c.value}}}});
    EXPECT_ERROR(r, 422, "validation_failed") << c.key << "=" << c.value;
    EXPECT_EQ(error_detail(r), c.key);
  }
}

TEST_F(AdminTest, SettingsOfTheWrongTypeAre400) {
  auto r = http().post("/v1/admin/apps", admin_auth(), {{"name", "x"}, {"settings", {{"retention_days", "7"}}}});
  EXPECT_ERROR(r, 400, "invalid_request");
  EXPECT_EQ(error_detail(r), "retention_days");
  EXPECT_ERROR(http().post("/v1/admin/apps", admin_auth(), {{"name", "x"}, {"settings", json::array{1}}}), 400,
               "invalid_request");
}

// ---- list / get ------------------------------------------------------------------------------

TEST_F(AdminTest, ListingAppsPagesByCursorWithoutGapsOrRepeats) {
  std::set<std::string> created;
  for (int i = 0; i < 5; ++i) created.insert(create_app("app " + std::to_string(i)).id);
  std::vector<std::string> seen;
  std::string target = "/v1/admin/apps?limit=2";
  int pages = 0;
  for (;;) {
    auto r = http().get(target, admin_auth());
    ASSERT_STATUS(r, 200);
    auto o = r.obj();
    auto items = o["items"].as_array();
    EXPECT_LE(items.size(), 2u);
    for (const auto& a : items) seen.push_back(str(a.as_object().at("id")));
    ++pages;
    if (o["next_cursor"].is_null()) break;
    target = "/v1/admin/apps?limit=2&cursor=" + url_encode(str(o["next_cursor"]));
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), created);
  EXPECT_EQ(seen.size(), created.size());
}

TEST_F(AdminTest, AListThatFitsOnOnePageHasANullCursor) {
  create_app("only");
  auto o = http().get("/v1/admin/apps", admin_auth()).obj();
  EXPECT_EQ(o["items"].as_array().size(), 1u);
  EXPECT_TRUE(o["next_cursor"].is_null());
}

TEST_F(AdminTest, BadPagingParametersAre400) {
  for (const char* q : {"limit=0", "limit=-1", "limit=abc", "limit=", "cursor=%21%21"}) {
    auto r = http().get(std::string("/v1/admin/apps?") + q, admin_auth());
    EXPECT_ERROR(r, 400, "invalid_request") << q;
  }
  EXPECT_EQ(error_detail(http().get("/v1/admin/apps?limit=0", admin_auth()), "parameter"), "limit");
}

TEST_F(AdminTest, ALimitAboveTheMaximumIsCapped) {
  auto r = http().get("/v1/admin/apps?limit=100000", admin_auth());
  EXPECT_STATUS(r, 200);
}

TEST_F(AdminAppTest, GettingAnAppReturnsIt) {
  auto r = http().get(app_path(app_.id), admin_auth());
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(str(r.obj()["app"].as_object()["id"]), app_.id);
  EXPECT_EQ(r.obj()["app"].as_object()["name"], "app A");
}

TEST_F(AdminTest, GettingAnUnknownAppIs404) {
  EXPECT_ERROR(http().get(app_path("app_aaaaaaaaaaaaaaaaaaaa"), admin_auth()), 404, "not_found");
}

// ---- update ----------------------------------------------------------------------------------

TEST_F(AdminAppTest, UpdatingRenamesTheApp) {
  auto before = http().get(app_path(app_.id), admin_auth()).obj()["app"].as_object();
  auto r = http().patch(app_path(app_.id), admin_auth(), {{"name", "renamed"}});
  ASSERT_STATUS(r, 200);
  auto app = r.obj()["app"].as_object();
  EXPECT_EQ(app["name"], "renamed");
  EXPECT_EQ(app["created_at"], before["created_at"]);
  EXPECT_GE(str(app["updated_at"]), str(before["updated_at"]));
  EXPECT_EQ(http().get(app_path(app_.id), admin_auth()).obj()["app"].as_object()["name"], "renamed");
}

TEST_F(AdminAppTest, SettingsMergeKeyByKeyAndNullRemovesAKey) {
  ASSERT_STATUS(http().patch(app_path(app_.id), admin_auth(), {{"settings", {{"max_message_bytes", 500}}}}), 200);
  auto r = http().patch(app_path(app_.id), admin_auth(), {{"settings", {{"retention_days", 7}}}});
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.obj()["app"].as_object()["settings"], json::parse(R"({"max_message_bytes":500,"retention_days":7})"));
  r = http().patch(app_path(app_.id), admin_auth(), {{"settings", {{"max_message_bytes", nullptr}}}});
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.obj()["app"].as_object()["settings"], json::parse(R"({"retention_days":7})"));
}

TEST_F(AdminAppTest, UpdatingWithAnUnknownSettingsKeyIs400AndChangesNothing) {
  auto r = http().patch(app_path(app_.id), admin_auth(), {{"name", "new"}, {"settings", {{"colour", "red"}}}});
  EXPECT_ERROR(r, 400, "invalid_request");
  EXPECT_EQ(error_detail(r), "colour");
  EXPECT_EQ(http().get(app_path(app_.id), admin_auth()).obj()["app"].as_object()["name"], "app A");
}

TEST_F(AdminAppTest, UpdatingWithAnOutOfRangeSettingIs422) {
  auto r = http().patch(app_path(app_.id), admin_auth(), {{"settings", {{"max_channel_members", 100001}}}});
  EXPECT_ERROR(r, 422, "validation_failed");
  EXPECT_EQ(error_detail(r), "max_channel_members");
}

TEST_F(AdminAppTest, UpdatingWithAnUnknownFieldIs400) {
  auto r = http().patch(app_path(app_.id), admin_auth(), {{"nme", "typo"}});
  EXPECT_ERROR(r, 400, "invalid_request");
  EXPECT_EQ(error_detail(r), "nme");
}

TEST_F(AdminTest, UpdatingAnUnknownAppIs404) {
  EXPECT_ERROR(http().patch(app_path("app_aaaaaaaaaaaaaaaaaaaa"), admin_auth(), {{"name", "x"}}), 404, "not_found");
}

// ---- delete ----------------------------------------------------------------------------------

TEST_F(AdminAppTest, DeletingAnAppRemovesItAndItsCredentialsStopWorking) {
  auto user = mint("alice");
  ASSERT_STATUS(http().get("/v1/users/me", user.auth()), 200);
  auto r = http().del(app_path(app_.id), admin_auth());
  EXPECT_STATUS(r, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_ERROR(http().get(app_path(app_.id), admin_auth()), 404, "not_found");
  EXPECT_ERROR(http().get("/v1/users", app_.auth()), 401, "unauthorized");
  EXPECT_ERROR(http().get("/v1/users/me", user.auth()), 401, "unauthorized");
  EXPECT_ERROR(http().post("/v1/auth/refresh", {}, {{"refresh_token", user.refresh}}), 401, "unauthorized");
  EXPECT_ERROR(http().del(app_path(app_.id), admin_auth()), 404, "not_found");
}

TEST_F(AdminAppTest, DeletingAnAppRemovesItsRowsFromTheDatabase) {
  mint("alice");
  ASSERT_STATUS(http().del(app_path(app_.id), admin_auth()), 204);
  DbFile db(server().db_path());
  for (const char* table : {"api_keys", "users", "sessions"}) {
    EXPECT_EQ(db.value(std::string("SELECT count(*) FROM ") + table + " WHERE app_id = ?", {app_.id}), "0") << table;
  }
}

TEST_F(AdminAppTest, DeletingOneAppLeavesOthersWorking) {
  auto b = create_app("app B");
  ASSERT_STATUS(http().del(app_path(app_.id), admin_auth()), 204);
  EXPECT_STATUS(http().get("/v1/users", b.auth()), 200);
  EXPECT_STATUS(http().get(app_path(b.id), admin_auth()), 200);
}

// ---- keys ------------------------------------------------------------------------------------

TEST_F(AdminAppTest, ListingKeysShowsThemWithoutSecrets) {
  auto r = http().get(app_path(app_.id) + "/keys", admin_auth());
  ASSERT_STATUS(r, 200);
  auto items = r.obj()["items"].as_array();
  ASSERT_EQ(items.size(), 1u);
  auto k = items[0].as_object();
  EXPECT_EQ(str(k["key"]), app_.key);
  EXPECT_EQ(str(k["app_id"]), app_.id);
  EXPECT_TRUE(k["revoked_at"].is_null());
  EXPECT_EQ(k.size(), 4u) << r.body;  // key, app_id, created_at, revoked_at
  EXPECT_EQ(r.body.find(app_.secret), std::string::npos);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

TEST_F(AdminTest, ListingKeysOfAnUnknownAppIs404) {
  EXPECT_ERROR(http().get(app_path("app_aaaaaaaaaaaaaaaaaaaa") + "/keys", admin_auth()), 404, "not_found");
}

TEST_F(AdminAppTest, CreatingAnAdditionalKeyGivesASecondWorkingKeyPair) {
  auto r = http().post(app_path(app_.id) + "/keys", admin_auth());
  ASSERT_STATUS(r, 201);
  auto o = r.obj();
  std::string key = str(o["key"].as_object()["key"]);
  std::string secret = str(o["api_secret"]);
  EXPECT_NE(key, app_.key);
  EXPECT_EQ(str(o["key"].as_object()["app_id"]), app_.id);
  EXPECT_STATUS(http().get("/v1/users", Auth::basic(key, secret)), 200);
  EXPECT_STATUS(http().get("/v1/users", app_.auth()), 200);
  EXPECT_EQ(http().get(app_path(app_.id) + "/keys", admin_auth()).obj()["items"].as_array().size(), 2u);
}

TEST_F(AdminAppTest, CreatingAKeyAcceptsAnEmptyObjectButNotUnknownFields) {
  EXPECT_STATUS(http().post(app_path(app_.id) + "/keys", admin_auth(), json::object{}), 201);
  EXPECT_ERROR(http().post(app_path(app_.id) + "/keys", admin_auth(), {{"name", "x"}}), 400, "invalid_request");
}

TEST_F(AdminTest, CreatingAKeyForAnUnknownAppIs404) {
  EXPECT_ERROR(http().post(app_path("app_aaaaaaaaaaaaaaaaaaaa") + "/keys", admin_auth()), 404, "not_found");
}

TEST_F(AdminAppTest, RevokingAKeyStopsItAtOnce) {
  ASSERT_STATUS(http().get("/v1/users", app_.auth()), 200);
  auto r = http().del(key_path(app_, app_.key), admin_auth());
  EXPECT_STATUS(r, 204);
  EXPECT_ERROR(http().get("/v1/users", app_.auth()), 401, "unauthorized");
  auto keys = http().get(app_path(app_.id) + "/keys", admin_auth()).obj()["items"].as_array();
  EXPECT_TRUE(keys[0].as_object()["revoked_at"].is_string());
}

TEST_F(AdminAppTest, RevokingAnUnknownKeyIs404) {
  EXPECT_ERROR(http().del(key_path(app_, "pk_doesnotexist"), admin_auth()), 404, "not_found");
}

// ---- rotation --------------------------------------------------------------------------------

TEST_F(AdminAppTest, RotationIsTwoStepsAndTheOldKeyStopsWorkingAfterConfirm) {
  auto req = http().post(key_path(app_, app_.key) + "/rotate", admin_auth());
  ASSERT_STATUS(req, 202);
  auto ticket = req.obj();
  std::string token = str(ticket["confirm_token"]);
  EXPECT_TRUE(token.starts_with("rc_")) << token;
  EXPECT_TRUE(ticket["expires_at"].is_string());
  // Requesting alone changes nothing.
  EXPECT_STATUS(http().get("/v1/users", app_.auth()), 200);

  auto confirm = http().post(key_path(app_, app_.key) + "/rotate/confirm", admin_auth(), {{"confirm_token", token}});
  ASSERT_STATUS(confirm, 200);
  auto o = confirm.obj();
  std::string new_key = str(o["key"].as_object()["key"]);
  std::string new_secret = str(o["api_secret"]);
  EXPECT_NE(new_key, app_.key);
  EXPECT_TRUE(new_secret.starts_with("sk_"));

  EXPECT_ERROR(http().get("/v1/users", app_.auth()), 401, "unauthorized");
  EXPECT_STATUS(http().get("/v1/users", Auth::basic(new_key, new_secret)), 200);
}

TEST_F(AdminAppTest, ARotationConfirmTokenIsValidForFifteenMinutesByDefault) {
  ASSERT_STATUS(http().post(key_path(app_, app_.key) + "/rotate", admin_auth()), 202);
  DbFile db(server().db_path());
  EXPECT_EQ(db.value("SELECT expires_at - created_at FROM key_rotations WHERE app_id = ?", {app_.id}), "900000");
}

TEST_F(AdminAppTest, AUsedConfirmTokenIs410) {
  std::string token = str(http().post(key_path(app_, app_.key) + "/rotate", admin_auth()).obj()["confirm_token"]);
  ASSERT_STATUS(http().post(key_path(app_, app_.key) + "/rotate/confirm", admin_auth(), {{"confirm_token", token}}),
                200);
  auto again = http().post(key_path(app_, app_.key) + "/rotate/confirm", admin_auth(), {{"confirm_token", token}});
  EXPECT_ERROR(again, 410, "gone");
}

TEST_F(AdminAppTest, AnExpiredConfirmTokenIs410AndTheKeyKeepsWorking) {
  std::string token = str(http().post(key_path(app_, app_.key) + "/rotate", admin_auth()).obj()["confirm_token"]);
  DbFile db(server().db_path());
  db.exec("UPDATE key_rotations SET expires_at = created_at - 1 WHERE key = ?", {app_.key});
  ASSERT_EQ(db.changes(), 1);
  auto r = http().post(key_path(app_, app_.key) + "/rotate/confirm", admin_auth(), {{"confirm_token", token}});
  EXPECT_ERROR(r, 410, "gone");
  EXPECT_STATUS(http().get("/v1/users", app_.auth()), 200);
}

TEST_F(AdminAppTest, AConfirmTokenOfAnotherKeyIs404) {
  auto second = http().post(app_path(app_.id) + "/keys", admin_auth()).obj();
  std::string other_key = str(second["key"].as_object()["key"]);
  std::string token = str(http().post(key_path(app_, app_.key) + "/rotate", admin_auth()).obj()["confirm_token"]);
  auto r = http().post(key_path(app_, other_key) + "/rotate/confirm", admin_auth(), {{"confirm_token", token}});
  EXPECT_ERROR(r, 404, "not_found");
  // Neither key was touched.
  EXPECT_STATUS(http().get("/v1/users", app_.auth()), 200);
  EXPECT_STATUS(http().get("/v1/users", Auth::basic(other_key, str(second["api_secret"]))), 200);
}

TEST_F(AdminAppTest, AnUnknownConfirmTokenIs404) {
  auto r = http().post(key_path(app_, app_.key) + "/rotate/confirm", admin_auth(), {{"confirm_token", "rc_nope"}});
  EXPECT_ERROR(r, 404, "not_found");
}

TEST_F(AdminAppTest, ConfirmingWithoutATokenIs400) {
  auto r = http().post(key_path(app_, app_.key) + "/rotate/confirm", admin_auth(), json::object{});
  EXPECT_ERROR(r, 400, "invalid_request");
  EXPECT_EQ(error_detail(r), "confirm_token");
  EXPECT_ERROR(http().post(key_path(app_, app_.key) + "/rotate/confirm", admin_auth()), 400, "invalid_json");
}

TEST_F(AdminAppTest, RotatingARevokedKeyIs409) {
  ASSERT_STATUS(http().del(key_path(app_, app_.key), admin_auth()), 204);
  EXPECT_ERROR(http().post(key_path(app_, app_.key) + "/rotate", admin_auth()), 409, "conflict");
}

TEST_F(AdminAppTest, RotatingAnUnknownKeyIs404) {
  EXPECT_ERROR(http().post(key_path(app_, "pk_unknown") + "/rotate", admin_auth()), 404, "not_found");
}

TEST_F(AdminAppTest, ConfirmingAfterTheKeyWasRevokedIs409) {
  std::string token = str(http().post(key_path(app_, app_.key) + "/rotate", admin_auth()).obj()["confirm_token"]);
  ASSERT_STATUS(http().del(key_path(app_, app_.key), admin_auth()), 204);
  auto r = http().post(key_path(app_, app_.key) + "/rotate/confirm", admin_auth(), {{"confirm_token", token}});
  EXPECT_ERROR(r, 409, "conflict");
}

// ---- audit -----------------------------------------------------------------------------------

json::array audit_items(HttpClient& http, const std::string& query = "") {
  auto r = http.get("/v1/admin/audit" + query, admin_auth());
  if (r.status != 200) throw std::runtime_error("audit failed: " + r.body);
  return r.obj()["items"].as_array();
}

TEST_F(AdminAppTest, TheAuditLogListsAdminActionsNewestFirst) {
  ASSERT_STATUS(http().patch(app_path(app_.id), admin_auth(), {{"name", "renamed"}}), 200);
  ASSERT_STATUS(http().post(app_path(app_.id) + "/keys", admin_auth()), 201);
  ASSERT_STATUS(http().del(key_path(app_, app_.key), admin_auth()), 204);
  auto items = audit_items(http());
  std::vector<std::string> actions;
  std::int64_t last_id = INT64_MAX;
  for (const auto& v : items) {
    auto e = v.as_object();
    actions.push_back(str(e["action"]));
    EXPECT_LT(e["id"].as_int64(), last_id);
    last_id = e["id"].as_int64();
    EXPECT_EQ(e["actor"], "admin");
    EXPECT_EQ(str(e["app_id"]), app_.id);
    EXPECT_TRUE(e["request_id"].is_string());
    EXPECT_TRUE(e["details"].is_object());
    EXPECT_TRUE(e["at"].is_string());
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"key.revoke", "key.create", "app.update", "app.create"}));
  EXPECT_EQ(str(items[0].as_object()["target"]), app_.key);
}

TEST_F(AdminAppTest, AuditEntriesCarryTheRequestIdOfTheRequest) {
  HttpRequest req;
  req.method = "PATCH";
  req.target = app_path(app_.id);
  req.headers = {{"Authorization", *admin_auth().header}, {"X-Request-Id", "audit-trace-42"}};
  req.body = R"({"name":"traced"})";
  ASSERT_STATUS(http().send(req), 200);
  auto e = audit_items(http())[0].as_object();
  EXPECT_EQ(e["action"], "app.update");
  EXPECT_EQ(e["request_id"], "audit-trace-42");
}

TEST_F(AdminAppTest, TheAuditLogRecordsRotationAndDeletion) {
  std::string token = str(http().post(key_path(app_, app_.key) + "/rotate", admin_auth()).obj()["confirm_token"]);
  ASSERT_STATUS(http().post(key_path(app_, app_.key) + "/rotate/confirm", admin_auth(), {{"confirm_token", token}}),
                200);
  ASSERT_STATUS(http().del(app_path(app_.id), admin_auth()), 204);
  auto items = audit_items(http(), "?app_id=" + app_.id);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].as_object()["action"], "app.delete");
  EXPECT_EQ(items[1].as_object()["action"], "key.rotate.confirm");
  EXPECT_EQ(items[2].as_object()["action"], "key.rotate.request");
  // The confirm entry names the new key, never a secret.
  EXPECT_TRUE(items[1].as_object()["details"].as_object().contains("new_key"));
  EXPECT_EQ(json::serialize(items).find("sk_"), std::string::npos);
}

TEST_F(AdminAppTest, TheAuditLogFiltersByApp) {
  auto b = create_app("app B");
  ASSERT_STATUS(http().patch(app_path(b.id), admin_auth(), {{"name", "B2"}}), 200);
  auto items = audit_items(http(), "?app_id=" + b.id);
  ASSERT_EQ(items.size(), 2u);
  for (const auto& e : items) EXPECT_EQ(str(e.as_object().at("app_id")), b.id);
  EXPECT_EQ(audit_items(http(), "?app_id=app_nosuchapp").size(), 0u);
  EXPECT_EQ(audit_items(http()).size(), 3u);
}

TEST_F(AdminAppTest, TheAuditLogPagesByCursor) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_STATUS(http().patch(app_path(app_.id), admin_auth(), {{"name", "n" + std::to_string(i)}}), 200);
  }
  std::vector<std::int64_t> ids;
  std::string target = "/v1/admin/audit?limit=2";
  for (int page = 0; page < 10; ++page) {
    auto o = http().get(target, admin_auth()).obj();
    for (const auto& e : o["items"].as_array()) ids.push_back(e.as_object().at("id").as_int64());
    if (o["next_cursor"].is_null()) break;
    target = "/v1/admin/audit?limit=2&cursor=" + url_encode(str(o["next_cursor"]));
  }
  ASSERT_EQ(ids.size(), 5u);  // app.create + 4 updates
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
  EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), 5u);
}

TEST_F(AdminTest, TheAuditLogRejectsABadCursor) {
  EXPECT_ERROR(http().get("/v1/admin/audit?cursor=garbage!", admin_auth()), 400, "invalid_request");
  // Well-formed envelopes around positions that are not row ids: "c1:x", "c1:12x", an overflow.
  for (const char* c : {"YzE6eA", "YzE6MTJ4", "YzE6OTk5OTk5OTk5OTk5OTk5OTk5OTk"})
    EXPECT_ERROR(http().get(std::string("/v1/admin/audit?cursor=") + c, admin_auth()), 400, "invalid_request") << c;
}

}  // namespace
}  // namespace parley::test
