// CORS: off by default; with --cors-origins, preflight OPTIONS from an allowed origin is 204 with
// the allowed methods and headers, responses carry Access-Control-Allow-Origin for allowed
// origins only.
#include "fixtures.hpp"

namespace parley::test {
namespace {

HttpResponse with_origin(HttpClient& http, const std::string& method, const std::string& path,
                         const std::string& origin, const Auth& auth = {}) {
  HttpRequest req;
  req.method = method;
  req.target = path;
  req.headers = {{"Origin", origin}};
  if (method == "OPTIONS") req.headers.emplace_back("Access-Control-Request-Method", "GET");
  if (auth.header) req.headers.emplace_back("Authorization", *auth.header);
  return http.send(req);
}

using CorsOffTest = ServerFixture;

TEST_F(CorsOffTest, CorsIsOffByDefault) {
  auto r = with_origin(http(), "GET", "/health", "https://a.example");
  EXPECT_STATUS(r, 200);
  EXPECT_FALSE(r.header("Access-Control-Allow-Origin").has_value());
  auto pre = with_origin(http(), "OPTIONS", "/v1/users", "https://a.example");
  EXPECT_ERROR(pre, 405, "method_not_allowed");
  EXPECT_FALSE(pre.header("Access-Control-Allow-Origin").has_value());
}

class CorsTest : public AppFixture {
 protected:
  ServerProcess::Options server_options() override {
    return ServerProcess::Options{}.flag("cors-origins", "https://a.example, https://b.example");
  }
};

TEST_F(CorsTest, PreflightFromAnAllowedOriginIs204WithTheAllowedMethodsAndHeaders) {
  auto r = with_origin(http(), "OPTIONS", "/v1/users", "https://a.example");
  EXPECT_STATUS(r, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "https://a.example");
  EXPECT_EQ(r.header("Access-Control-Allow-Methods"), "GET");
  auto headers = r.header("Access-Control-Allow-Headers").value_or("");
  for (const char* h : {"Authorization", "Content-Type", "X-Request-Id"}) {
    EXPECT_NE(headers.find(h), std::string::npos) << h << " in " << headers;
  }
  EXPECT_TRUE(r.header("Access-Control-Max-Age").has_value());
  EXPECT_EQ(r.header("Vary"), "Origin");
}

TEST_F(CorsTest, PreflightListsEveryMethodOfThePath) {
  auto r = with_origin(http(), "OPTIONS", "/v1/users/me", "https://b.example");
  EXPECT_STATUS(r, 204);
  EXPECT_EQ(r.header("Access-Control-Allow-Methods"), "GET, PATCH");
}

TEST_F(CorsTest, PreflightNeedsNoCredentials) {
  auto r = with_origin(http(), "OPTIONS", "/v1/admin/apps", "https://a.example");
  EXPECT_STATUS(r, 204);
  EXPECT_EQ(r.header("Access-Control-Allow-Methods"), "GET, POST");
}

TEST_F(CorsTest, ResponsesToAnAllowedOriginCarryIt) {
  auto ok = with_origin(http(), "GET", "/v1/users", "https://b.example", app_.auth());
  EXPECT_STATUS(ok, 200);
  EXPECT_EQ(ok.header("Access-Control-Allow-Origin"), "https://b.example");
  EXPECT_EQ(ok.header("Vary"), "Origin");
  EXPECT_NE(ok.header("Access-Control-Expose-Headers").value_or("").find("X-Request-Id"), std::string::npos);
  auto err = with_origin(http(), "GET", "/v1/users", "https://b.example");
  EXPECT_ERROR(err, 401, "unauthorized");
  EXPECT_EQ(err.header("Access-Control-Allow-Origin"), "https://b.example");
}

TEST_F(CorsTest, OtherOriginsGetNoCorsHeaders) {
  auto r = with_origin(http(), "GET", "/health", "https://evil.example");
  EXPECT_STATUS(r, 200);
  EXPECT_FALSE(r.header("Access-Control-Allow-Origin").has_value());
  auto pre = with_origin(http(), "OPTIONS", "/v1/users", "https://evil.example");
  EXPECT_ERROR(pre, 405, "method_not_allowed");
  EXPECT_FALSE(pre.header("Access-Control-Allow-Origin").has_value());
  // A prefix or suffix of an allowed origin is another origin.
  auto sub = with_origin(http(), "GET", "/health", "https://a.example.evil.example");
  EXPECT_FALSE(sub.header("Access-Control-Allow-Origin").has_value());
}

TEST_F(CorsTest, RequestsWithoutAnOriginGetNoCorsHeaders) {
  auto r = http().get("/health");
  EXPECT_FALSE(r.header("Access-Control-Allow-Origin").has_value());
}

TEST_F(CorsTest, PreflightOfAnUnknownPathIs404) {
  auto r = with_origin(http(), "OPTIONS", "/nope", "https://a.example");
  EXPECT_ERROR(r, 404, "not_found");
}

class CorsWildcardTest : public ServerFixture {
 protected:
  ServerProcess::Options server_options() override { return ServerProcess::Options{}.flag("cors-origins", "*"); }
};

TEST_F(CorsWildcardTest, AWildcardAllowsAnyOrigin) {
  for (const char* origin : {"https://a.example", "http://localhost:3000"}) {
    auto r = with_origin(http(), "GET", "/health", origin);
    EXPECT_EQ(r.header("Access-Control-Allow-Origin"), origin);
    EXPECT_STATUS(with_origin(http(), "OPTIONS", "/v1/users", origin), 204);
  }
}

}  // namespace
}  // namespace parley::test
