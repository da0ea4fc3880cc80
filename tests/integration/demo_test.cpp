// Demo mode (--demo true): the first start on an empty database creates "Demo App" with alice,
// bob and carol and prints working credentials and tokens; later starts print them again
// without creating anything.
#include <regex>

#include "fixtures.hpp"

namespace parley::test {
namespace {

std::string printed(const std::string& out, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("\n  " + name + R"(:\s+(\S+)\n)"))) {
    throw std::runtime_error("'" + name + "' not printed:\n" + out);
  }
  return m[1].str();
}

ServerProcess::Options demo(const TempDir& dir) { return ServerProcess::Options{}.in(dir.path()).flag("demo", "true"); }

TEST(DemoTest, TheFirstStartPrintsAppCredentialsAndATokenPerUser) {
  TempDir dir;
  ServerProcess s(demo(dir));
  std::string out = s.out();
  EXPECT_TRUE(printed(out, "app_id").starts_with("app_"));
  EXPECT_TRUE(printed(out, "api_key").starts_with("pk_"));
  EXPECT_TRUE(printed(out, "api_secret").starts_with("sk_"));
  for (const char* u : {"alice", "bob", "carol"}) EXPECT_EQ(printed(out, u).substr(0, 3), "eyJ") << u;
}

TEST(DemoTest, AlicesPrintedTokenWorks) {
  TempDir dir;
  ServerProcess s(demo(dir));
  HttpClient http(s.port());
  auto r = http.get("/v1/users/me", Auth::bearer(printed(s.out(), "alice")));
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.obj()["user"].as_object()["id"], "alice");
  EXPECT_EQ(r.obj()["user"].as_object()["name"], "Alice");
}

TEST(DemoTest, ThePrintedAppCredentialsSeeTheThreeDemoUsers) {
  TempDir dir;
  ServerProcess s(demo(dir));
  HttpClient http(s.port());
  auto r = http.get("/v1/users", Auth::basic(printed(s.out(), "api_key"), printed(s.out(), "api_secret")));
  ASSERT_STATUS(r, 200);
  std::vector<std::string> ids;
  for (const auto& u : r.obj()["items"].as_array()) ids.push_back(str(u.as_object().at("id")));
  EXPECT_EQ(ids, (std::vector<std::string>{"alice", "bob", "carol"}));
}

TEST(DemoTest, ASecondStartPrintsTheSameCredentialsAndCreatesNoSecondApp) {
  TempDir dir;
  std::string key, app_id;
  {
    ServerProcess first(demo(dir));
    key = printed(first.out(), "api_key");
    app_id = printed(first.out(), "app_id");
    ASSERT_EQ(first.stop(), 0);
  }
  ServerProcess second(demo(dir));
  EXPECT_EQ(printed(second.out(), "api_key"), key);
  EXPECT_EQ(printed(second.out(), "app_id"), app_id);
  HttpClient http(second.port());
  auto apps = http.get("/v1/admin/apps", admin_auth()).obj()["items"].as_array();
  ASSERT_EQ(apps.size(), 1u);
  EXPECT_EQ(apps[0].as_object()["name"], "Demo App");
  // Fresh tokens are printed, and they work.
  auto me = http.get("/v1/users/me", Auth::bearer(printed(second.out(), "bob")));
  EXPECT_STATUS(me, 200);
}

TEST(DemoTest, TheCredentialsFileIsReadableByTheOwnerOnly) {
  TempDir dir;
  ServerProcess s(demo(dir));
  auto perms = std::filesystem::status(dir.path() / "demo-credentials.json").permissions();
  using std::filesystem::perms;
  EXPECT_EQ(perms & (perms::group_all | perms::others_all), perms::none);
}

TEST(DemoTest, ADatabaseThatAlreadyHasAppsGetsNoDemo) {
  TempDir dir;
  ASSERT_EQ(run_parley({"app", "create", "--name", "real", "--data-dir", dir.str()}).exit_code, 0);
  ServerProcess s(demo(dir));
  EXPECT_EQ(s.out().find("Demo app"), std::string::npos) << s.out();
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "demo-credentials.json"));
}

TEST(DemoTest, DemoFalsePrintsNothingAndCreatesNothing) {
  TempDir dir;
  ServerProcess s(ServerProcess::Options{}.in(dir.path()));
  EXPECT_EQ(s.out().find("Demo app"), std::string::npos);
  HttpClient http(s.port());
  EXPECT_TRUE(http.get("/v1/admin/apps", admin_auth()).obj()["items"].as_array().empty());
}

}  // namespace
}  // namespace parley::test
