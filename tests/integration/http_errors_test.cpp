// What goes wrong at the HTTP level: bad JSON, wrong types, missing and unknown fields, bodies
// and headers over the limits, unknown routes, wrong methods, wrong content types, malformed
// requests, request ids, keep-alive, and a 500 that must not leak internals.
#include <regex>

#include "fixtures.hpp"

namespace parley::test {
namespace {

using HttpErrorsTest = AppFixture;

HttpResponse create_app_raw(HttpClient& http, std::string body) {
  return http.send_raw("POST", "/v1/admin/apps", admin_auth(), std::move(body));
}

// ---- JSON bodies -----------------------------------------------------------------------------

TEST_F(HttpErrorsTest, MalformedJsonIs400InvalidJson) {
  for (const char* body : {R"({"name": )", R"({"name":"x",})", "{'name':'x'}", R"({"name":"x"} trailing)", "nul",
                           R"({"name":"x")", "\x01\x02"}) {
    EXPECT_ERROR(create_app_raw(http(), body), 400, "invalid_json") << body;
  }
}

TEST_F(HttpErrorsTest, JsonThatIsNotAnObjectIs400InvalidJson) {
  for (const char* body : {"[]", R"(["name","x"])", R"("name")", "42", "null", "true"}) {
    EXPECT_ERROR(create_app_raw(http(), body), 400, "invalid_json") << body;
  }
}

TEST_F(HttpErrorsTest, AMissingBodyWhereOneIsRequiredIs400InvalidJson) {
  EXPECT_ERROR(http().post("/v1/admin/apps", admin_auth()), 400, "invalid_json");
  EXPECT_ERROR(http().post("/v1/auth/token", app_.auth()), 400, "invalid_json");
}

TEST_F(HttpErrorsTest, InvalidUtf8InAStringIs400InvalidJson) {
  EXPECT_ERROR(create_app_raw(http(), "{\"name\":\"\xff\xfe\"}"), 400, "invalid_json");
}

TEST_F(HttpErrorsTest, DeeplyNestedJsonIsRejectedWithoutHarm) {
  std::string body = R"({"name":"x","settings":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_ERROR(create_app_raw(http(), body), 400, "invalid_json");
  EXPECT_STATUS(http().get("/health"), 200);
}

TEST_F(HttpErrorsTest, AFieldOfTheWrongTypeIs400NamingTheField) {
  for (json::value v : {json::value(5), json::value(true), json::value(nullptr), json::value(json::array{"x"}),
                        json::value(json::object{{"a", 1}})}) {
    auto r = http().post("/v1/admin/apps", admin_auth(), {{"name", v}});
    EXPECT_ERROR(r, 400, "invalid_request") << v;
    EXPECT_EQ(error_detail(r), "name") << v;
  }
}

TEST_F(HttpErrorsTest, AMissingRequiredFieldIs400NamingTheField) {
  auto r = http().post("/v1/auth/token", app_.auth(), json::object{});
  EXPECT_ERROR(r, 400, "invalid_request");
  EXPECT_EQ(error_detail(r), "user_id");
  EXPECT_NE(r.obj()["error"].as_object()["message"].as_string().find("user_id"), std::string::npos);
}

TEST_F(HttpErrorsTest, AnUnknownFieldIs400NamingTheField) {
  auto r = http().post("/v1/admin/apps", admin_auth(), {{"name", "ok"}, {"nmae", "typo"}});
  EXPECT_ERROR(r, 400, "invalid_request");
  EXPECT_EQ(error_detail(r), "nmae");
  // Nothing was created.
  EXPECT_EQ(http().get("/v1/admin/apps", admin_auth()).obj()["items"].as_array().size(), 1u);
}

// ---- content type ----------------------------------------------------------------------------

TEST_F(HttpErrorsTest, ABodyWithAContentTypeOtherThanJsonIs415) {
  for (const char* ct :
       {"text/plain", "application/x-www-form-urlencoded", "application/jsonp", "multipart/form-data"}) {
    auto r = http().send_raw("POST", "/v1/admin/apps", admin_auth(), R"({"name":"x"})", ct);
    EXPECT_ERROR(r, 415, "unsupported_media_type") << ct;
  }
}

TEST_F(HttpErrorsTest, ABodyWithoutAContentTypeIs415) {
  auto r = http().send_raw("POST", "/v1/admin/apps", admin_auth(), R"({"name":"x"})", "");
  EXPECT_ERROR(r, 415, "unsupported_media_type");
}

TEST_F(HttpErrorsTest, JsonContentTypesWithParametersOrOtherCaseAreAccepted) {
  for (const char* ct : {"application/json; charset=utf-8", "Application/JSON", "application/json ;charset=UTF-8"}) {
    auto r = http().send_raw("POST", "/v1/admin/apps", admin_auth(), R"({"name":"x"})", ct);
    EXPECT_STATUS(r, 201) << ct;
  }
}

// ---- routing ---------------------------------------------------------------------------------

TEST_F(HttpErrorsTest, UnknownRoutesAre404) {
  for (const char* path : {"/", "/nope", "/v1", "/v1/users/alice/extra", "/v1/admin/apps/x/keys/y/z/w", "/v2/users",
                           "/v1/admin/apps/", "/health/"}) {
    EXPECT_ERROR(http().get(path, admin_auth()), 404, "not_found") << path;
  }
}

TEST_F(HttpErrorsTest, AWrongMethodIs405WithAnAllowHeader) {
  struct Case {
    const char* method;
    const char* path;
    const char* allow;
  };
  for (const auto& c :
       {Case{"DELETE", "/v1/users", "GET"}, Case{"PUT", "/v1/admin/apps/app_x", "DELETE, GET, PATCH"},
        Case{"GET", "/v1/auth/token", "POST"}, Case{"POST", "/v1/users/me", "GET, PATCH"},
        Case{"GET", "/v1/users/alice/revoke-tokens", "POST"}, Case{"PATCH", "/v1/admin/apps", "GET, POST"},
        Case{"GET", "/v1/admin/apps/a/keys/k", "DELETE"}}) {
    HttpRequest req;
    req.method = c.method;
    req.target = c.path;
    auto r = http().send(req);
    EXPECT_ERROR(r, 405, "method_not_allowed") << c.method << " " << c.path;
    EXPECT_EQ(r.header("Allow"), c.allow) << c.method << " " << c.path;
  }
}

TEST_F(HttpErrorsTest, UnknownMethodsAre405) {
  HttpRequest req;
  req.method = "BREW";
  req.target = "/health";
  auto r = http().send(req);
  EXPECT_ERROR(r, 405, "method_not_allowed");
  EXPECT_EQ(r.header("Allow"), "GET");
}

TEST_F(HttpErrorsTest, ATargetThatIsNotAnOriginFormPathIs400) {
  RawSocket s(server().port());
  ASSERT_TRUE(s.send("GET /health%zz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = s.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_ERROR(*r, 400, "invalid_request");
}

// ---- malformed HTTP --------------------------------------------------------------------------

TEST_F(HttpErrorsTest, AGarbageRequestLineIs400AndTheConnectionCloses) {
  RawSocket s(server().port());
  ASSERT_TRUE(s.send("THIS IS NOT HTTP\r\n\r\n"));
  auto r = s.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_ERROR(*r, 400, "invalid_request");
  EXPECT_TRUE(s.wait_closed(2s));
}

TEST_F(HttpErrorsTest, AMalformedHeaderLineIs400) {
  RawSocket s(server().port());
  ASSERT_TRUE(s.send("GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"));
  auto r = s.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_ERROR(*r, 400, "invalid_request");
}

TEST_F(HttpErrorsTest, AnInvalidContentLengthIs400) {
  RawSocket s(server().port());
  ASSERT_TRUE(s.send("POST /v1/auth/refresh HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"));
  auto r = s.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_ERROR(*r, 400, "invalid_request");
}

TEST_F(HttpErrorsTest, TheServerSurvivesAClientThatHangsUpMidRequest) {
  {
    RawSocket s(server().port());
    ASSERT_TRUE(s.send("POST /v1/admin/apps HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na"));
  }
  EXPECT_STATUS(http().get("/health"), 200);
}

// ---- request ids -----------------------------------------------------------------------------

TEST_F(HttpErrorsTest, AGivenRequestIdIsEchoed) {
  HttpRequest req;
  req.target = "/health";
  req.headers = {{"X-Request-Id", "trace-abc-123"}};
  EXPECT_EQ(http().send(req).header("X-Request-Id"), "trace-abc-123");
}

TEST_F(HttpErrorsTest, ARequestIdIsGeneratedWhenAbsent) {
  auto a = http().get("/health").header("X-Request-Id");
  auto b = http().get("/health").header("X-Request-Id");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(std::regex_match(*a, std::regex("req_[a-z2-7]{20}"))) << *a;
  EXPECT_NE(*a, *b);
}

TEST_F(HttpErrorsTest, AnInvalidRequestIdIsReplaced) {
  for (std::string bad : {std::string("has space"), std::string(129, 'x')}) {
    HttpRequest req;
    req.target = "/health";
    req.headers = {{"X-Request-Id", bad}};
    auto id = http().send(req).header("X-Request-Id");
    ASSERT_TRUE(id.has_value());
    EXPECT_NE(*id, bad);
    EXPECT_TRUE(id->starts_with("req_")) << *id;
  }
  HttpRequest longest;
  longest.target = "/health";
  longest.headers = {{"X-Request-Id", std::string(128, 'x')}};
  EXPECT_EQ(http().send(longest).header("X-Request-Id"), std::string(128, 'x'));
}

TEST_F(HttpErrorsTest, ErrorResponsesCarryTheRequestIdToo) {
  HttpRequest req;
  req.target = "/nope";
  req.headers = {{"X-Request-Id", "err-1"}};
  auto r = http().send(req);
  EXPECT_ERROR(r, 404, "not_found");
  EXPECT_EQ(r.header("X-Request-Id"), "err-1");
}

// ---- connections -----------------------------------------------------------------------------

TEST_F(HttpErrorsTest, ErrorsDoNotCloseKeepAliveConnections) {
  HttpClient c(server().port());
  EXPECT_STATUS(c.get("/nope"), 404);
  EXPECT_STATUS(c.get("/v1/users"), 401);
  EXPECT_STATUS(c.send_raw("POST", "/v1/admin/apps", admin_auth(), "{"), 400);
  EXPECT_STATUS(c.get("/health"), 200);
  EXPECT_EQ(c.connections_opened(), 1);
}

TEST_F(HttpErrorsTest, PipelinedRequestsAreAnsweredInOrder) {
  RawSocket s(server().port());
  ASSERT_TRUE(
      s.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: one\r\n\r\n"
             "GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-Id: two\r\n\r\n"
             "GET /ready HTTP/1.1\r\nHost: x\r\nX-Request-Id: three\r\n\r\n"));
  auto one = s.read_response(), two = s.read_response(), three = s.read_response();
  ASSERT_TRUE(one && two && three);
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(one->header("X-Request-Id"), "one");
  EXPECT_EQ(two->status, 404);
  EXPECT_EQ(two->header("X-Request-Id"), "two");
  EXPECT_EQ(three->status, 200);
  EXPECT_EQ(three->header("X-Request-Id"), "three");
}

TEST_F(HttpErrorsTest, Http10RequestsAreAnsweredAndClosed) {
  RawSocket s(server().port());
  ASSERT_TRUE(s.send("GET /health HTTP/1.0\r\n\r\n"));
  auto r = s.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(s.wait_closed(2s));
}

TEST_F(HttpErrorsTest, ConnectionCloseIsHonoured) {
  RawSocket s(server().port());
  ASSERT_TRUE(s.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto r = s.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->keep_alive);
  EXPECT_TRUE(s.wait_closed(2s));
}

// ---- internal errors -------------------------------------------------------------------------

TEST_F(HttpErrorsTest, AnInternalErrorIs500WithoutInternalsAndTheLogHasThem) {
  mint("alice");
  {
    DbFile db(server().db_path());
    if (db.postgres()) {
      db.exec("DROP TABLE refresh_tokens, sessions, users CASCADE");
    } else {
      db.exec("PRAGMA foreign_keys = OFF");
      db.exec("DROP TABLE refresh_tokens");
      db.exec("DROP TABLE sessions");
      db.exec("DROP TABLE users");
    }
  }
  // What each database says about the missing table.
  const std::string logged = on_postgres() ? "relation \"users\" does not exist" : "no such table: users";
  HttpRequest req;
  req.target = "/v1/users/alice";
  req.headers = {{"Authorization", *app_.auth().header}, {"X-Request-Id", "boom-1"}};
  auto r = http().send(req);
  EXPECT_ERROR(r, 500, "internal");
  EXPECT_EQ(r.header("X-Request-Id"), "boom-1");
  std::string message(r.obj()["error"].as_object()["message"].as_string());
  for (const char* leak : {"sqlite", "SQLITE", "postgres", "no such table", "relation", "users", "SELECT", ".cpp"}) {
    EXPECT_EQ(message.find(leak), std::string::npos) << "message leaks '" << leak << "': " << message;
  }
  EXPECT_EQ(r.obj()["error"].as_object()["details"], json::object{});
  // The log has what the response does not.
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (server().err().find(logged) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(server().err().find(logged), std::string::npos) << server().err();
  // The server keeps serving.
  EXPECT_STATUS(http().get("/health"), 200);
}

// ---- limits (small, so the tests are quick) --------------------------------------------------

class LimitsTest : public AppFixture {
 protected:
  ServerProcess::Options server_options() override {
    return ServerProcess::Options{}.flag("max-body-bytes", "1024").flag("max-header-bytes", "1024");
  }
};

TEST_F(LimitsTest, ABodyOverTheLimitIs413BeforeItIsRead) {
  RawSocket s(server().port());
  ASSERT_TRUE(
      s.send("POST /v1/admin/apps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: 1025\r\n\r\n"));
  auto r = s.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_ERROR(*r, 413, "payload_too_large");
  EXPECT_EQ(r->header("X-Request-Id").value_or("").rfind("req_", 0), 0u)
      << "errors from the network layer carry a request id";
  EXPECT_FALSE(r->keep_alive);
  EXPECT_TRUE(s.wait_closed(2s));
}

TEST_F(LimitsTest, AChunkedBodyThatGrowsOverTheLimitIs413) {
  RawSocket s(server().port());
  std::string chunk(800, ' ');
  char size[16];
  std::snprintf(size, sizeof size, "%zx", chunk.size());
  ASSERT_TRUE(
      s.send("POST /v1/admin/apps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Transfer-Encoding: chunked\r\n\r\n" +
             std::string(size) + "\r\n" + chunk + "\r\n" + std::string(size) + "\r\n" + chunk + "\r\n0\r\n\r\n"));
  auto r = s.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_ERROR(*r, 413, "payload_too_large");
}

TEST_F(LimitsTest, ABodyAtTheLimitIsAccepted) {
  std::string body = R"({"name":"at the limit"})";
  body += std::string(1024 - body.size(), ' ');
  ASSERT_EQ(body.size(), 1024u);
  EXPECT_STATUS(http().send_raw("POST", "/v1/admin/apps", admin_auth(), body), 201);
}

TEST_F(LimitsTest, AnOversizeBodyFromANormalClientGets413) {
  std::string body = R"({"name":")" + std::string(2000, 'x') + R"("})";
  EXPECT_ERROR(http().send_raw("POST", "/v1/admin/apps", admin_auth(), body), 413, "payload_too_large");
  EXPECT_STATUS(http().get("/health"), 200);  // a new connection works
}

TEST_F(LimitsTest, HeadersOverTheLimitAre431) {
  RawSocket s(server().port());
  ASSERT_TRUE(s.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(2000, 'p') + "\r\n\r\n"));
  auto r = s.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_ERROR(*r, 431, "headers_too_large");
  EXPECT_EQ(r->header("X-Request-Id").value_or("").rfind("req_", 0), 0u)
      << "errors from the network layer carry a request id";
  EXPECT_TRUE(s.wait_closed(2s));
}

TEST_F(LimitsTest, ManySmallHeadersOverTheLimitAre431) {
  std::string head = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 100; ++i) head += "X-H" + std::to_string(i) + ": value\r\n";
  RawSocket s(server().port());
  ASSERT_TRUE(s.send(head + "\r\n"));
  auto r = s.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_ERROR(*r, 431, "headers_too_large");
}

TEST_F(LimitsTest, HeadersUnderTheLimitAreAccepted) {
  HttpRequest req;
  req.target = "/health";
  req.headers = {{"X-Padding", std::string(700, 'p')}};
  EXPECT_STATUS(http().send(req), 200);
}

}  // namespace
}  // namespace parley::test
