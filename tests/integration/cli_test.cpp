// The parley command line: version, help, routes, options, migrate, app create/list/rotate-key,
// token, and the generated super-admin key. Commands work on the data folder directly; their
// results are checked against a real server on the same folder.
#include <regex>
#include <sstream>

#include "fixtures.hpp"

namespace parley::test {
namespace {

// "name:   value" from a command's output.
std::string field_of(const std::string& out, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(name + R"(:\s+(\S+))"))) {
    throw std::runtime_error("no '" + name + "' in output:\n" + out);
  }
  return m[1].str();
}

struct CliApp {
  std::string id, key, secret;
};

CliApp cli_create_app(const TempDir& dir, const std::string& name) {
  auto r = run_parley({"app", "create", "--name", name, "--data-dir", dir.str()});
  if (r.exit_code != 0) throw std::runtime_error("app create failed: " + r.err);
  return {field_of(r.out, "app_id"), field_of(r.out, "api_key"), field_of(r.out, "api_secret")};
}

ServerProcess::Options on(const TempDir& dir) { return ServerProcess::Options{}.in(dir.path()); }

// ---- basics ----------------------------------------------------------------------------------

TEST(CliTest, VersionPrintsTheVersion) {
  auto r = run_parley({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_match(r.out, std::regex(R"(parley \d+\.\d+\.\d+\n)"))) << r.out;
}

TEST(CliTest, HelpExitsZeroAndListsTheCommands) {
  auto r = run_parley({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* cmd : {"serve", "migrate", "app", "token", "routes", "options", "version"}) {
    EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd;
  }
}

TEST(CliTest, ServeHelpExitsZeroAndListsOptionsWithTheirEnvironmentVariables) {
  auto r = run_parley({"serve", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"--port", "--data-dir", "--max-body-bytes", "--admin-key", "--config", "PARLEY_PORT"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
}

TEST(CliTest, NoCommandIsAnError) {
  auto r = run_parley({});
  EXPECT_NE(r.exit_code, 0);
}

TEST(CliTest, AnUnknownCommandIsAnError) {
  auto r = run_parley({"frobnicate"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("subcommand"), std::string::npos) << r.err;
}

TEST(CliTest, AnUnknownFlagIsAnErrorNamingTheFlag) {
  auto r = run_parley({"serve", "--max-bodybytes", "5"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--max-bodybytes"), std::string::npos) << r.err;
}

TEST(CliTest, RoutesPrintsOneMethodAndPathPerLine) {
  auto r = run_parley({"routes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    EXPECT_TRUE(std::regex_match(line, std::regex(R"((GET|POST|PUT|PATCH|DELETE) /[A-Za-z0-9_/{}.-]*)"))) << line;
    ++n;
  }
  EXPECT_GE(n, 20);
  EXPECT_NE(r.out.find("GET /health\n"), std::string::npos);
  EXPECT_NE(r.out.find("POST /v1/admin/apps/{app_id}/keys/{key}/rotate/confirm\n"), std::string::npos);
}

TEST(CliTest, OptionsPrintsEveryOptionWithFlagEnvironmentAndKey) {
  auto r = run_parley({"options"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| `--max-body-bytes` | `PARLEY_MAX_BODY_BYTES` | `max_body_bytes` | `1048576` |"),
            std::string::npos)
      << r.out;
}

// ---- migrate ---------------------------------------------------------------------------------

TEST(CliTest, MigrateStatusOnAFreshDataDirShowsPendingMigrations) {
  TempDir dir;
  auto r = run_parley({"migrate", "status", "--data-dir", dir.str()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(V001\s+pending)"))) << r.out;
  EXPECT_EQ(r.out.find("applied "), std::string::npos);
}

TEST(CliTest, MigrateApplyAppliesEachMigrationOnce) {
  TempDir dir;
  auto status = run_parley({"migrate", "status", "--data-dir", dir.str()});
  const std::regex word("pending");
  auto pending =
      std::distance(std::sregex_iterator(status.out.begin(), status.out.end(), word), std::sregex_iterator());
  ASSERT_GE(pending, 1);
  auto first = run_parley({"migrate", "apply", "--data-dir", dir.str()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "applied " + std::to_string(pending) + " migration(s)\n");
  auto again = run_parley({"migrate", "apply", "--data-dir", dir.str()});
  EXPECT_EQ(again.out, "applied 0 migration(s)\n");
  auto after = run_parley({"migrate", "status", "--data-dir", dir.str()});
  EXPECT_EQ(after.out.find("pending"), std::string::npos) << after.out;
  EXPECT_TRUE(std::regex_search(after.out, std::regex(R"(V001\s+applied\s+\d{4}-)"))) << after.out;
}

TEST(CliTest, CommandsThatNeedTheSchemaRefuseAnUnmigratedDatabase) {
  TempDir dir;
  auto r = run_parley({"app", "list", "--data-dir", dir.str()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("migrate apply"), std::string::npos) << r.err;
}

// ---- app -------------------------------------------------------------------------------------

TEST(CliTest, AppCreatePrintsCredentialsThatWorkAgainstAServerOnThatDataDir) {
  TempDir dir;
  auto app = cli_create_app(dir, "From The CLI");
  EXPECT_TRUE(app.id.starts_with("app_"));
  EXPECT_TRUE(app.key.starts_with("pk_"));
  EXPECT_TRUE(app.secret.starts_with("sk_"));
  ServerProcess s(on(dir));
  HttpClient http(s.port());
  EXPECT_STATUS(http.get("/v1/users", Auth::basic(app.key, app.secret)), 200);
  auto r = http.get("/v1/admin/apps/" + app.id, admin_auth());
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.obj()["app"].as_object()["name"], "From The CLI");
  auto audit = http.get("/v1/admin/audit?app_id=" + app.id, admin_auth()).obj()["items"].as_array();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].as_object()["actor"], "cli");
  EXPECT_TRUE(audit[0].as_object()["request_id"].is_null());
}

TEST(CliTest, AppCreateWorksWhileAServerIsRunningOnTheSameDataDir) {
  TempDir dir;
  ServerProcess s(on(dir));
  auto app = cli_create_app(dir, "live");
  HttpClient http(s.port());
  EXPECT_STATUS(http.get("/v1/users", Auth::basic(app.key, app.secret)), 200);
}

TEST(CliTest, AppCreateRejectsABadName) {
  TempDir dir;
  auto empty = run_parley({"app", "create", "--name", "", "--data-dir", dir.str()});
  EXPECT_NE(empty.exit_code, 0);
  EXPECT_NE(empty.err.find("--name"), std::string::npos) << empty.err;
  auto missing = run_parley({"app", "create", "--data-dir", dir.str()});
  EXPECT_NE(missing.exit_code, 0);
  auto long_name = run_parley({"app", "create", "--name", std::string(101, 'n'), "--data-dir", dir.str()});
  EXPECT_NE(long_name.exit_code, 0);
}

TEST(CliTest, AppListPrintsEveryApp) {
  TempDir dir;
  auto a = cli_create_app(dir, "First");
  auto b = cli_create_app(dir, "Second");
  auto r = run_parley({"app", "list", "--data-dir", dir.str()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(a.id + R"(\s+First\s)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(b.id + R"(\s+Second\s)"))) << r.out;
}

TEST(CliTest, AppRotateKeyReplacesTheKey) {
  TempDir dir;
  auto app = cli_create_app(dir, "rotating");
  auto r = run_parley({"app", "rotate-key", "--app", app.id, "--key", app.key, "--data-dir", dir.str()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string key = field_of(r.out, "api_key"), secret = field_of(r.out, "api_secret");
  EXPECT_NE(key, app.key);
  ServerProcess s(on(dir));
  HttpClient http(s.port());
  EXPECT_ERROR(http.get("/v1/users", Auth::basic(app.key, app.secret)), 401, "unauthorized");
  EXPECT_STATUS(http.get("/v1/users", Auth::basic(key, secret)), 200);
}

TEST(CliTest, AppRotateKeyOfAnUnknownKeyFails) {
  TempDir dir;
  auto app = cli_create_app(dir, "x");
  auto r = run_parley({"app", "rotate-key", "--app", app.id, "--key", "pk_nope", "--data-dir", dir.str()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot rotate the key"), std::string::npos) << r.err;
}

// ---- token -----------------------------------------------------------------------------------

TEST(CliTest, TokenPrintsAnAccessTokenThatWorks) {
  TempDir dir;
  auto app = cli_create_app(dir, "tokens");
  auto r = run_parley({"token", "--app", app.id, "--user", "script-user", "--data-dir", dir.str()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  std::string token = r.out.substr(0, r.out.find('\n'));
  EXPECT_EQ(r.out, token + "\n");
  ServerProcess s(on(dir));
  HttpClient http(s.port());
  auto me = http.get("/v1/users/me", Auth::bearer(token));
  ASSERT_STATUS(me, 200);
  EXPECT_EQ(me.obj()["user"].as_object()["id"], "script-user");
}

TEST(CliTest, TokenHonoursTtlAndRejectsOneOutOfRange) {
  TempDir dir;
  auto app = cli_create_app(dir, "tokens");
  auto r = run_parley({"token", "--app", app.id, "--user", "u", "--ttl", "120", "--data-dir", dir.str()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto p = jwt_payload(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(p["exp"].as_int64() - p["iat"].as_int64(), 120);
  auto bad = run_parley({"token", "--app", app.id, "--user", "u", "--ttl", "30", "--data-dir", dir.str()});
  EXPECT_NE(bad.exit_code, 0);
}

TEST(CliTest, TokenForAnUnknownAppFails) {
  TempDir dir;
  cli_create_app(dir, "x");
  auto r = run_parley({"token", "--app", "app_nope", "--user", "u", "--data-dir", dir.str()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot mint a token"), std::string::npos) << r.err;
}

// ---- the generated super-admin key -----------------------------------------------------------

TEST(CliTest, WithoutAnAdminKeyTheFirstStartGeneratesOneAndPrintsItOnce) {
  TempDir dir;
  std::string key;
  {
    ServerProcess s(ServerProcess::Options{}.in(dir.path()).without("admin-key"));
    std::smatch m;
    std::string out = s.out();
    ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(super-admin key[^\n]*\n\s+(adm_\S+))"))) << out;
    key = m[1].str();
    HttpClient http(s.port());
    EXPECT_STATUS(http.get("/v1/admin/apps", Auth::bearer(key)), 200);
    ASSERT_EQ(s.stop(), 0);
    DbFile db(s.db_path());
    auto stored = db.value("SELECT value FROM meta WHERE key = 'admin_key_sha256'");
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->find(key), std::string::npos);  // only a hash is stored
  }
  ServerProcess again(ServerProcess::Options{}.in(dir.path()).without("admin-key"));
  EXPECT_EQ(again.out().find("adm_"), std::string::npos) << again.out();
  HttpClient http(again.port());
  EXPECT_STATUS(http.get("/v1/admin/apps", Auth::bearer(key)), 200);
}

}  // namespace
}  // namespace parley::test
