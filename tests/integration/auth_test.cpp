// Auth: minting user tokens with app credentials, refresh rotation with replay detection,
// logout, revoking a user's tokens, deactivated users, and access tokens the server must refuse
// (expired, forged, unsigned, tampered, of another app).
#include "core/crypto.hpp"
#include "fixtures.hpp"

namespace parley::test {
namespace {

using AuthTest = AppFixture;

HttpResponse refresh(HttpClient& http, const std::string& token) {
  return http.post("/v1/auth/refresh", {}, {{"refresh_token", token}});
}

// ---- minting ---------------------------------------------------------------------------------

TEST_F(AuthTest, MintingCreatesTheUserAndReturnsATokenPair) {
  auto r = http().post("/v1/auth/token", app_.auth(), {{"user_id", "alice"}, {"name", "Alice"}});
  ASSERT_STATUS(r, 200);
  auto o = r.obj();
  EXPECT_EQ(o["token_type"], "Bearer");
  EXPECT_EQ(o["expires_in"], 900);
  EXPECT_TRUE(o["expires_at"].is_string());
  EXPECT_TRUE(str(o["refresh_token"]).starts_with("rt_"));
  EXPECT_TRUE(o["refresh_expires_at"].is_string());
  auto user = o["user"].as_object();
  EXPECT_EQ(user["id"], "alice");
  EXPECT_EQ(user["name"], "Alice");
  EXPECT_EQ(user["image_url"], "");
  EXPECT_EQ(user["custom"], json::object{});
  EXPECT_TRUE(user["deactivated_at"].is_null());
  EXPECT_STATUS(http().get("/v1/users/alice", app_.auth()), 200);
}

TEST_F(AuthTest, TheAccessTokenIsAnHs256JwtWithTheDocumentedClaims) {
  auto t = mint("alice");
  auto payload = jwt_payload(t.access);
  EXPECT_EQ(payload["iss"], "parley");
  EXPECT_EQ(str(payload["app"]), app_.id);
  EXPECT_EQ(payload["sub"], "alice");
  EXPECT_TRUE(str(payload["sid"]).starts_with("ses_"));
  EXPECT_TRUE(payload["gen"].is_int64());
  auto iat = payload["iat"].as_int64();
  EXPECT_NEAR(static_cast<double>(iat), static_cast<double>(unix_now()), 5.0);
  EXPECT_EQ(payload["exp"].as_int64() - iat, 900);
  auto header = t.access.substr(0, t.access.find('.'));
  EXPECT_EQ(str(json::parse(*crypto::base64url_decode(header)).as_object()["alg"]), "HS256");
}

TEST_F(AuthTest, TheMintedTokenWorksOnUsersMe) {
  auto t = mint("alice", {{"name", "Alice"}});
  auto r = http().get("/v1/users/me", t.auth());
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.obj()["user"].as_object()["id"], "alice");
  EXPECT_EQ(r.obj()["user"].as_object()["name"], "Alice");
}

TEST_F(AuthTest, MintingAgainUpdatesTheGivenFieldsAndKeepsTheOthers) {
  mint("alice", {{"name", "Alice"}, {"image_url", "https://img.example/a.png"}, {"custom", {{"team", "red"}}}});
  auto second = mint("alice", {{"name", "Alice Liddell"}});
  EXPECT_EQ(second.user["name"], "Alice Liddell");
  EXPECT_EQ(second.user["image_url"], "https://img.example/a.png");
  EXPECT_EQ(second.user["custom"], json::parse(R"({"team":"red"})"));
  auto third = mint("alice");
  EXPECT_EQ(third.user["name"], "Alice Liddell");
  EXPECT_EQ(third.user["created_at"], second.user["created_at"]);
}

TEST_F(AuthTest, EachMintOpensAnIndependentSession) {
  auto one = mint("alice");
  auto two = mint("alice");
  EXPECT_NE(one.refresh, two.refresh);
  EXPECT_NE(jwt_payload(one.access)["sid"], jwt_payload(two.access)["sid"]);
  ASSERT_STATUS(http().post("/v1/auth/logout", {}, {{"refresh_token", one.refresh}}), 204);
  EXPECT_STATUS(refresh(http(), two.refresh), 200);
}

TEST_F(AuthTest, TtlSecondsSetsTheAccessTokenLifetime) {
  auto r = http().post("/v1/auth/token", app_.auth(), {{"user_id", "alice"}, {"ttl_seconds", 60}});
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.obj()["expires_in"], 60);
  auto p = jwt_payload(str(r.obj()["access_token"]));
  EXPECT_EQ(p["exp"].as_int64() - p["iat"].as_int64(), 60);
  EXPECT_STATUS(http().post("/v1/auth/token", app_.auth(), {{"user_id", "alice"}, {"ttl_seconds", 86400}}), 200);
}

TEST_F(AuthTest, TtlSecondsOutside60To86400Is422) {
  for (int ttl : {59, 0, -5, 86401}) {
    auto r = http().post("/v1/auth/token", app_.auth(), {{"user_id", "alice"}, {"ttl_seconds", ttl}});
    EXPECT_ERROR(r, 422, "validation_failed") << ttl;
    EXPECT_EQ(error_detail(r), "ttl_seconds");
  }
}

TEST_F(AuthTest, TtlSecondsOfTheWrongTypeIs400) {
  for (json::value v : {json::value("60"), json::value(60.5), json::value(true)}) {
    auto r = http().post("/v1/auth/token", app_.auth(), {{"user_id", "alice"}, {"ttl_seconds", v}});
    EXPECT_ERROR(r, 400, "invalid_request") << v;
    EXPECT_EQ(error_detail(r), "ttl_seconds");
  }
}

TEST_F(AuthTest, UserIdsWithInvalidCharactersAre422) {
  for (const char* id : {"a b", "a/b", "ünï", "a:b", "", "x\"y"}) {
    auto r = http().post("/v1/auth/token", app_.auth(), {{"user_id", id}});
    EXPECT_ERROR(r, 422, "validation_failed") << id;
    EXPECT_EQ(error_detail(r), "user_id") << id;
  }
}

TEST_F(AuthTest, UserIdsMayUseTheDocumentedAlphabetUpTo64Characters) {
  EXPECT_STATUS(http().post("/v1/auth/token", app_.auth(), {{"user_id", "A-z_0.9@x"}}), 200);
  EXPECT_STATUS(http().post("/v1/auth/token", app_.auth(), {{"user_id", std::string(64, 'u')}}), 200);
  EXPECT_ERROR(http().post("/v1/auth/token", app_.auth(), {{"user_id", std::string(65, 'u')}}), 422,
               "validation_failed");
}

TEST_F(AuthTest, MintingWithoutAUserIdIs400) {
  auto r = http().post("/v1/auth/token", app_.auth(), {{"name", "nobody"}});
  EXPECT_ERROR(r, 400, "invalid_request");
  EXPECT_EQ(error_detail(r), "user_id");
}

TEST_F(AuthTest, MintingWithAnUnknownFieldIs400) {
  auto r = http().post("/v1/auth/token", app_.auth(), {{"user_id", "alice"}, {"display_name", "A"}});
  EXPECT_ERROR(r, 400, "invalid_request");
  EXPECT_EQ(error_detail(r), "display_name");
}

TEST_F(AuthTest, MintingValidatesProfileFields) {
  auto bad_url = http().post("/v1/auth/token", app_.auth(), {{"user_id", "alice"}, {"image_url", "javascript:x"}});
  EXPECT_ERROR(bad_url, 422, "validation_failed");
  EXPECT_EQ(error_detail(bad_url), "image_url");
  auto long_name = http().post("/v1/auth/token", app_.auth(), {{"user_id", "alice"}, {"name", std::string(101, 'n')}});
  EXPECT_ERROR(long_name, 422, "validation_failed");
  auto custom = http().post("/v1/auth/token", app_.auth(), {{"user_id", "alice"}, {"custom", "not an object"}});
  EXPECT_ERROR(custom, 400, "invalid_request");
  // Nothing was created by the failed attempts.
  EXPECT_ERROR(http().get("/v1/users/alice", app_.auth()), 404, "not_found");
}

TEST_F(AuthTest, MintingNeedsAppCredentials) {
  EXPECT_ERROR(http().post("/v1/auth/token", {}, {{"user_id", "alice"}}), 401, "unauthorized");
  EXPECT_ERROR(http().post("/v1/auth/token", Auth::basic(app_.key, "sk_wrong"), {{"user_id", "alice"}}), 401,
               "unauthorized");
  EXPECT_ERROR(http().post("/v1/auth/token", Auth::basic("pk_unknown", app_.secret), {{"user_id", "alice"}}), 401,
               "unauthorized");
  EXPECT_ERROR(http().post("/v1/auth/token", Auth::raw("Basic !!!notbase64"), {{"user_id", "alice"}}), 401,
               "unauthorized");
  EXPECT_ERROR(http().post("/v1/auth/token", Auth::raw("Basic " + std::string("bm9jb2xvbg==")), {{"user_id", "a"}}),
               401, "unauthorized");  // "nocolon"
  EXPECT_ERROR(http().post("/v1/auth/token", admin_auth(), {{"user_id", "alice"}}), 401, "unauthorized");
}

TEST_F(AuthTest, BearerValuesThatAreNotValidUserTokensAre401OnAppOnlyRoutes) {
  // 403 is for a user token that verifies; anything else does not authenticate at all.
  EXPECT_ERROR(http().post("/v1/auth/token", Auth::bearer("garbage"), {{"user_id", "alice"}}), 401, "unauthorized");
  EXPECT_ERROR(http().post("/v1/users/alice/deactivate", Auth::bearer("a.b.c")), 401, "unauthorized");
}

TEST_F(AuthTest, AUserTokenOnAnAppOnlyRouteIs403) {
  auto t = mint("alice");
  EXPECT_ERROR(http().post("/v1/auth/token", t.auth(), {{"user_id", "mallory"}}), 403, "forbidden");
  EXPECT_ERROR(http().post("/v1/users/alice/deactivate", t.auth()), 403, "forbidden");
  EXPECT_ERROR(http().post("/v1/users/alice/reactivate", t.auth()), 403, "forbidden");
  EXPECT_ERROR(http().post("/v1/users/alice/revoke-tokens", t.auth()), 403, "forbidden");
  // And the user is untouched.
  EXPECT_STATUS(http().get("/v1/users/me", t.auth()), 200);
}

TEST_F(AuthTest, ValidAppCredentialsOnAUserOnlyRouteAre403AndBadOnesAre401) {
  EXPECT_ERROR(http().get("/v1/users/me", app_.auth()), 403, "forbidden");
  EXPECT_ERROR(http().get("/v1/users/me", Auth::basic(app_.key, "not-the-secret")), 401, "unauthorized");
}

// ---- refresh ---------------------------------------------------------------------------------

TEST_F(AuthTest, RefreshRotatesTheRefreshTokenAndIssuesANewAccessToken) {
  auto t = mint("alice", {{"name", "Alice"}});
  auto r = refresh(http(), t.refresh);
  ASSERT_STATUS(r, 200);
  auto o = r.obj();
  EXPECT_NE(str(o["refresh_token"]), t.refresh);
  EXPECT_TRUE(str(o["refresh_token"]).starts_with("rt_"));
  EXPECT_EQ(o["token_type"], "Bearer");
  EXPECT_EQ(o["user"].as_object()["name"], "Alice");
  auto access = str(o["access_token"]);
  EXPECT_EQ(jwt_payload(access)["sid"], jwt_payload(t.access)["sid"]);  // same session
  EXPECT_STATUS(http().get("/v1/users/me", Auth::bearer(access)), 200);
}

TEST_F(AuthTest, ReusingARefreshTokenIs401AndRevokesTheWholeSession) {
  auto t = mint("alice");
  auto first = refresh(http(), t.refresh);
  ASSERT_STATUS(first, 200);
  std::string next = str(first.obj()["refresh_token"]);

  EXPECT_ERROR(refresh(http(), t.refresh), 401, "refresh_token_reused");
  // The legitimate successor from that session is now revoked too.
  EXPECT_ERROR(refresh(http(), next), 401, "token_revoked");
  // Replaying again keeps saying "reused".
  EXPECT_ERROR(refresh(http(), t.refresh), 401, "refresh_token_reused");
}

TEST_F(AuthTest, ReplayInOneSessionLeavesTheUsersOtherSessionsAlone) {
  auto a = mint("alice");
  auto b = mint("alice");
  ASSERT_STATUS(refresh(http(), a.refresh), 200);
  ASSERT_ERROR(refresh(http(), a.refresh), 401, "refresh_token_reused");
  EXPECT_STATUS(refresh(http(), b.refresh), 200);
}

TEST_F(AuthTest, AnUnknownRefreshTokenIs401) { EXPECT_ERROR(refresh(http(), "rt_never_issued"), 401, "unauthorized"); }

TEST_F(AuthTest, AnExpiredRefreshTokenIs401) {
  auto t = mint("alice");
  DbFile db(server().db_path());
  db.exec("UPDATE sessions SET expires_at = 1 WHERE user_id = 'alice'");
  EXPECT_ERROR(refresh(http(), t.refresh), 401, "unauthorized");
}

TEST_F(AuthTest, RefreshBodiesAreValidated) {
  EXPECT_ERROR(http().post("/v1/auth/refresh", {}, json::object{}), 400, "invalid_request");
  EXPECT_ERROR(http().post("/v1/auth/refresh", {}, {{"refresh_token", 5}}), 400, "invalid_request");
  EXPECT_ERROR(http().post("/v1/auth/refresh", {}, {{"refresh_token", "rt_x"}, {"extra", 1}}), 400, "invalid_request");
  EXPECT_ERROR(http().post("/v1/auth/refresh"), 400, "invalid_json");
}

// ---- logout and revocation -------------------------------------------------------------------

TEST_F(AuthTest, LogoutRevokesTheSession) {
  auto t = mint("alice");
  auto r = http().post("/v1/auth/logout", {}, {{"refresh_token", t.refresh}});
  EXPECT_STATUS(r, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_ERROR(refresh(http(), t.refresh), 401, "token_revoked");
}

TEST_F(AuthTest, LogoutWithAnUnknownRefreshTokenIs401) {
  EXPECT_ERROR(http().post("/v1/auth/logout", {}, {{"refresh_token", "rt_unknown"}}), 401, "unauthorized");
}

TEST_F(AuthTest, RevokingAUsersTokensStopsAccessAndRefreshTokens) {
  auto t = mint("alice");
  auto other = mint("bob");
  ASSERT_STATUS(http().get("/v1/users/me", t.auth()), 200);
  auto r = http().post("/v1/users/alice/revoke-tokens", app_.auth());
  EXPECT_STATUS(r, 204);
  EXPECT_ERROR(http().get("/v1/users/me", t.auth()), 401, "token_revoked");
  EXPECT_ERROR(refresh(http(), t.refresh), 401, "token_revoked");
  // Other users keep working, and alice can sign in again.
  EXPECT_STATUS(http().get("/v1/users/me", other.auth()), 200);
  auto again = mint("alice");
  EXPECT_STATUS(http().get("/v1/users/me", again.auth()), 200);
}

TEST_F(AuthTest, RevokingTokensOfAnUnknownUserIs404) {
  EXPECT_ERROR(http().post("/v1/users/nobody/revoke-tokens", app_.auth()), 404, "not_found");
}

// ---- deactivated users -----------------------------------------------------------------------

TEST_F(AuthTest, ADeactivatedUserCannotMintAndTheirTokensAre403) {
  auto t = mint("alice");
  ASSERT_STATUS(http().post("/v1/users/alice/deactivate", app_.auth()), 200);
  EXPECT_ERROR(http().get("/v1/users/me", t.auth()), 403, "forbidden");
  EXPECT_ERROR(http().post("/v1/auth/token", app_.auth(), {{"user_id", "alice"}}), 403, "forbidden");
  EXPECT_ERROR(refresh(http(), t.refresh), 401, "token_revoked");
}

TEST_F(AuthTest, AReactivatedUserCanSignInAgainButOldTokensStayRevoked) {
  auto t = mint("alice");
  ASSERT_STATUS(http().post("/v1/users/alice/deactivate", app_.auth()), 200);
  ASSERT_STATUS(http().post("/v1/users/alice/reactivate", app_.auth()), 200);
  EXPECT_ERROR(http().get("/v1/users/me", t.auth()), 401, "token_revoked");
  EXPECT_ERROR(refresh(http(), t.refresh), 401, "token_revoked");
  auto fresh = mint("alice");
  EXPECT_STATUS(http().get("/v1/users/me", fresh.auth()), 200);
}

// ---- tokens the server must refuse -----------------------------------------------------------

class ForgedTokenTest : public AuthTest {
 protected:
  void SetUp() override {
    AuthTest::SetUp();
    real_ = mint("alice");
    key_ = app_jwt_secret(server().db_path(), app_.id);
  }
  Claims valid_claims() const {
    auto p = jwt_payload(real_.access);
    Claims c;
    c.app = app_.id;
    c.sub = "alice";
    c.sid = str(p["sid"]);
    c.gen = p["gen"].as_int64();
    c.iat = unix_now();
    c.exp = c.iat + 600;
    return c;
  }
  HttpResponse me(const std::string& token) { return http().get("/v1/users/me", Auth::bearer(token)); }

  UserTokens real_;
  std::string key_;
};

TEST_F(ForgedTokenTest, ATokenSignedWithTheAppsKeyIsAccepted) {
  // The control: our forging matches the server's format, so the refusals below are meaningful.
  auto r = me(sign_hs256(valid_claims(), key_));
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.obj()["user"].as_object()["id"], "alice");
}

TEST_F(ForgedTokenTest, AnExpiredTokenIs401TokenExpired) {
  auto c = valid_claims();
  c.iat = unix_now() - 3600;
  c.exp = unix_now() - 60;
  EXPECT_ERROR(me(sign_hs256(c, key_)), 401, "token_expired");
}

TEST_F(ForgedTokenTest, ATokenSignedWithAnotherKeyIs401) {
  EXPECT_ERROR(me(sign_hs256(valid_claims(), std::string(32, 'k'))), 401, "unauthorized");
}

TEST_F(ForgedTokenTest, ATokenWithATamperedSignatureIs401) {
  std::string t = real_.access;
  t.back() = t.back() == 'A' ? 'B' : 'A';
  EXPECT_ERROR(me(t), 401, "unauthorized");
}

TEST_F(ForgedTokenTest, ATokenWithTamperedClaimsIs401) {
  // Keep the real signature, swap the payload for one naming another user.
  auto c = valid_claims();
  c.sub = "bob";
  std::string forged = sign_hs256(c, std::string(32, 'x'));
  std::string payload = forged.substr(forged.find('.'), forged.rfind('.') - forged.find('.'));
  std::string t =
      real_.access.substr(0, real_.access.find('.')) + payload + real_.access.substr(real_.access.rfind('.'));
  EXPECT_ERROR(me(t), 401, "unauthorized");
}

TEST_F(ForgedTokenTest, AnUnsignedAlgNoneTokenIs401) {
  EXPECT_ERROR(me(unsigned_token(valid_claims())), 401, "unauthorized");
}

TEST_F(ForgedTokenTest, AnAlgNoneHeaderWithTheRealSignatureIs401) {
  std::string t = real_.access;
  std::string none_header = unsigned_token(valid_claims()).substr(0, unsigned_token(valid_claims()).find('.'));
  EXPECT_ERROR(me(none_header + t.substr(t.find('.'))), 401, "unauthorized");
}

TEST_F(ForgedTokenTest, ATokenWithTheWrongIssuerIs401) {
  auto c = valid_claims();
  c.iss = "someone-else";
  EXPECT_ERROR(me(sign_hs256(c, key_)), 401, "unauthorized");
}

TEST_F(ForgedTokenTest, ATokenWithAnOldGenerationIsRevoked) {
  auto c = valid_claims();
  c.gen += 1;
  EXPECT_ERROR(me(sign_hs256(c, key_)), 401, "token_revoked");
}

TEST_F(ForgedTokenTest, ATokenForAUserThatDoesNotExistIs401) {
  auto c = valid_claims();
  c.sub = "ghost";
  EXPECT_ERROR(me(sign_hs256(c, key_)), 401, "unauthorized");
}

TEST_F(ForgedTokenTest, GarbageBearerTokensAre401) {
  for (const char* t : {"", "abc", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30.sig"}) {
    EXPECT_ERROR(me(t), 401, "unauthorized") << "'" << t << "'";
  }
  EXPECT_ERROR(http().get("/v1/users/me", Auth::raw("Bearer")), 401, "unauthorized");
  EXPECT_ERROR(http().get("/v1/users/me", Auth::raw("Token " + real_.access)), 401, "unauthorized");
}

TEST_F(ForgedTokenTest, TheAdminKeyIsNotAUserToken) {
  EXPECT_ERROR(http().get("/v1/users/me", admin_auth()), 401, "unauthorized");
}

TEST_F(ForgedTokenTest, BearerSchemeIsCaseInsensitive) {
  EXPECT_STATUS(http().get("/v1/users/me", Auth::raw("bearer " + real_.access)), 200);
}

}  // namespace
}  // namespace parley::test
