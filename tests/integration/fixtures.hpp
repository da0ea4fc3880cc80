#pragma once
// What most tests share: assertions on the one error shape, and fixtures that start a server
// (ServerFixture) and create an app with credentials and user tokens (AppFixture), so each test
// body is only the behaviour it specifies.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "db_file.hpp"
#include "http_client.hpp"
#include "jwt_forge.hpp"
#include "raw_socket.hpp"
#include "server_process.hpp"

namespace parley::test {

namespace json = boost::json;

/// Passes when `r` has this status and the error body
/// {"error":{"code": code, "message": non-empty string, "details": object}} and nothing else.
::testing::AssertionResult IsError(const HttpResponse& r, int status, std::string_view code);

#define EXPECT_ERROR(resp, status, code) EXPECT_TRUE(::parley::test::IsError((resp), (status), (code)))
#define ASSERT_ERROR(resp, status, code) ASSERT_TRUE(::parley::test::IsError((resp), (status), (code)))
#define EXPECT_STATUS(resp, want) EXPECT_EQ((resp).status, (want)) << "body: " << (resp).body
#define ASSERT_STATUS(resp, want) ASSERT_EQ((resp).status, (want)) << "body: " << (resp).body

/// error.details.<name> of an error response, or "" when absent.
std::string error_detail(const HttpResponse& r, std::string_view name = "field");

/// A JSON string value as std::string (throws when it is not a string).
std::string str(const json::value& v);

/// The super-admin key every ServerProcess starts with.
Auth admin_auth();

struct AppCreds {
  std::string id;
  std::string key;
  std::string secret;
  Auth auth() const { return Auth::basic(key, secret); }
};

struct UserTokens {
  std::string access;
  std::string refresh;
  json::object user;
  Auth auth() const { return Auth::bearer(access); }
};

/// Starts a ServerProcess (options from server_options()) and an HttpClient for each test.
class ServerFixture : public ::testing::Test {
 protected:
  virtual ServerProcess::Options server_options() { return {}; }
  void SetUp() override;

  ServerProcess& server() { return *server_; }
  HttpClient& http() { return *http_; }

  /// POST /v1/admin/apps; throws unless 201.
  AppCreds create_app(const std::string& name, const json::object& settings = {});
  /// POST /v1/auth/token with the app's credentials; throws unless 200.
  UserTokens mint(const AppCreds& app, const std::string& user_id, json::object fields = {});

 private:
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> http_;
};

/// ServerFixture plus one app ("app A") ready to use.
class AppFixture : public ServerFixture {
 protected:
  void SetUp() override;
  using ServerFixture::mint;
  UserTokens mint(const std::string& user_id, json::object fields = {}) { return mint(app_, user_id, fields); }

  AppCreds app_;
};

/// The value of the first sample line starting with `series` (e.g. `name{labels}`), or nullopt.
std::optional<double> metric_value(const std::string& text, std::string_view series);

/// Polls `cond` every 25 ms until it holds or `timeout` passes; returns its last answer.
bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = std::chrono::seconds(15));

/// A test's own server in another process (the Python receivers, pages and hooks next to the
/// tests), which prints "listening <port>" once it serves on 127.0.0.1. Throws when it does
/// not start within 10 s.
class LoopbackScript {
 public:
  explicit LoopbackScript(std::vector<std::string> argv);
  /// python3 tests/integration/<script>.
  static LoopbackScript python(const std::string& script);
  std::uint16_t port() const { return port_; }
  /// http://127.0.0.1:<port><path>.
  std::string url(const std::string& path) const;
  HttpClient& http() { return *http_; }

 private:
  std::unique_ptr<ChildProcess> child_;
  std::uint16_t port_ = 0;
  std::unique_ptr<HttpClient> http_;
};

}  // namespace parley::test
