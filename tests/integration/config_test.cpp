// Configuration: flag > PARLEY_* environment variable > TOML config file > default, bad values
// and unknown keys fail start-up with a clear message, and serve refuses a database whose applied
// migrations were changed.
#include <fstream>
#include <map>
#include <regex>

#include "fixtures.hpp"

namespace parley::test {
namespace {

void write_file(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

// A data folder with three apps, so the page size is observable on GET /v1/admin/apps.
class PrecedenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      auto r = run_parley({"app", "create", "--name", "app" + std::to_string(i), "--data-dir", dir_.str()});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    config_ = dir_.path() / "parley.toml";
    write_file(config_, "page_default = 1\n");
  }
  std::size_t page_size(ServerProcess::Options opts) {
    opts.data_dir = dir_.path();
    ServerProcess s(std::move(opts));
    HttpClient http(s.port());
    auto r = http.get("/v1/admin/apps", admin_auth());
    if (r.status != 200) throw std::runtime_error(r.body);
    return r.obj()["items"].as_array().size();
  }

  TempDir dir_;
  std::filesystem::path config_;
};

TEST_F(PrecedenceTest, WithNothingSetTheDefaultApplies) { EXPECT_EQ(page_size({}), 3u); }

TEST_F(PrecedenceTest, TheConfigFileOverridesTheDefault) {
  EXPECT_EQ(page_size(ServerProcess::Options{}.flag("config", config_.string())), 1u);
}

TEST_F(PrecedenceTest, TheConfigFileCanBeNamedByParleyConfig) {
  EXPECT_EQ(page_size(ServerProcess::Options{}.with_env("PARLEY_CONFIG", config_.string())), 1u);
}

TEST_F(PrecedenceTest, TheEnvironmentOverridesTheConfigFile) {
  EXPECT_EQ(page_size(ServerProcess::Options{}.flag("config", config_.string()).with_env("PARLEY_PAGE_DEFAULT", "2")),
            2u);
}

TEST_F(PrecedenceTest, AFlagOverridesTheEnvironmentAndTheConfigFile) {
  EXPECT_EQ(page_size(ServerProcess::Options{}
                          .flag("config", config_.string())
                          .with_env("PARLEY_PAGE_DEFAULT", "2")
                          .flag("page-default", "3")),
            3u);
}

TEST(ConfigTest, ThePortCanComeFromTheConfigFile) {
  TempDir dir;
  auto port = free_port();
  write_file(dir.path() / "c.toml", "port = " + std::to_string(port) + "\nhost = \"127.0.0.1\"\n");
  ServerProcess s(
      ServerProcess::Options{}.in(dir.path()).without("port").flag("config", (dir.path() / "c.toml").string()));
  EXPECT_EQ(s.port(), port);
  HttpClient http(s.port());
  EXPECT_STATUS(http.get("/health"), 200);
}

TEST(ConfigTest, ThePortFromTheEnvironmentOverridesTheConfigFile) {
  TempDir dir;
  auto port = free_port();
  write_file(dir.path() / "c.toml", "port = 1\n");  // would fail to bind
  ServerProcess s(ServerProcess::Options{}
                      .in(dir.path())
                      .without("port")
                      .flag("config", (dir.path() / "c.toml").string())
                      .with_env("PARLEY_PORT", std::to_string(port)));
  EXPECT_EQ(s.port(), port);
}

// serve with flags (overriding quick defaults) that must make it fail before listening.
CommandResult serve_failing(const TempDir& dir, std::map<std::string, std::string> flags, const EnvVars& env = {}) {
  std::map<std::string, std::string> all{
      {"data-dir", dir.str()}, {"port", "0"}, {"demo", "false"}, {"admin-key", "k"}, {"log-level", "warn"}};
  for (auto& [k, v] : flags) all[k] = v;
  std::vector<std::string> args{"serve"};
  for (const auto& [k, v] : all) {
    args.push_back("--" + k);
    args.push_back(v);
  }
  return run_parley(args, env, 10s);
}

TEST(ConfigTest, AnUnknownConfigFileKeyFailsStartUpNamingTheKey) {
  TempDir dir;
  write_file(dir.path() / "c.toml", "page_default = 5\nmax_bodybytes = 10\n");
  auto r = serve_failing(dir, {{"config", (dir.path() / "c.toml").string()}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown option 'max_bodybytes'"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("listening"), std::string::npos);
}

TEST(ConfigTest, ABadConfigFileValueFailsNamingTheKey) {
  TempDir dir;
  write_file(dir.path() / "c.toml", "max_body_bytes = \"lots\"\n");
  auto r = serve_failing(dir, {{"config", (dir.path() / "c.toml").string()}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("config file key max_body_bytes"), std::string::npos) << r.err;
}

TEST(ConfigTest, AConfigFileThatIsNotTomlFailsNamingTheFile) {
  TempDir dir;
  write_file(dir.path() / "c.toml", "this is = = not toml\n");
  auto r = serve_failing(dir, {{"config", (dir.path() / "c.toml").string()}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("c.toml"), std::string::npos) << r.err;
}

TEST(ConfigTest, AMissingConfigFileFails) {
  TempDir dir;
  auto r = serve_failing(dir, {{"config", (dir.path() / "absent.toml").string()}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("absent.toml"), std::string::npos) << r.err;
}

TEST(ConfigTest, ABadFlagValueFailsNamingTheFlag) {
  TempDir dir;
  auto r = serve_failing(dir, {{"max-body-bytes", "abc"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--max-body-bytes"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("abc"), std::string::npos) << r.err;
}

TEST(ConfigTest, AnOutOfRangeValueFailsWithTheRange) {
  TempDir dir;
  auto r = serve_failing(dir, {{"header-timeout-ms", "5"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("between 100 and"), std::string::npos) << r.err;
}

TEST(ConfigTest, ABadEnvironmentValueFailsNamingTheVariable) {
  TempDir dir;
  auto r = serve_failing(dir, {}, {{"PARLEY_PAGE_DEFAULT", "zero"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("PARLEY_PAGE_DEFAULT"), std::string::npos) << r.err;
}

TEST(ConfigTest, ABadBooleanFails) {
  TempDir dir;
  auto r = serve_failing(dir, {{"access-log", "maybe"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("true or false"), std::string::npos) << r.err;
}

TEST(ConfigTest, APageDefaultAbovePageMaxFails) {
  TempDir dir;
  auto r = serve_failing(dir, {{"page-default", "300"}, {"page-max", "200"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("page-default"), std::string::npos) << r.err;
}

TEST(ConfigTest, AnUnknownLogLevelFails) {
  TempDir dir;
  auto r = serve_failing(dir, {{"log-level", "chatty"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("chatty"), std::string::npos) << r.err;
}

TEST(ConfigTest, AnUnsupportedDatabaseUrlFailsWithAClearMessage) {
  TempDir dir;
  auto other = serve_failing(dir, {{"database-url", "mysql://db"}});
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.err.find("unsupported database URL"), std::string::npos) << other.err;
}

TEST(ConfigTest, AnUnreachablePostgresDatabaseFailsWithAClearMessage) {
  TempDir dir;
  auto url = "postgres://parley@127.0.0.1:" + std::to_string(free_port()) + "/parley";
  auto r = serve_failing(dir, {{"database-url", url}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot connect to PostgreSQL"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("listening"), std::string::npos);
}

TEST(ConfigTest, ADatabaseUrlPointsServeAtAnotherFile) {
  TempDir dir;
  auto db = dir.path() / "elsewhere" / "my.db";
  ServerProcess s(ServerProcess::Options{}.in(dir.path()).flag("database-url", "sqlite:" + db.string()));
  EXPECT_TRUE(std::filesystem::exists(db));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "parley.db"));
}

TEST(ConfigTest, APortInUseFailsWithAClearMessage) {
  ServerProcess first;
  TempDir dir;
  auto r = serve_failing(dir, {{"port", std::to_string(first.port())}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot listen"), std::string::npos) << r.err;
}

// ---- migrations at start-up ------------------------------------------------------------------

TEST(ConfigTest, ServeRefusesADatabaseWhoseAppliedMigrationWasChanged) {
  TempDir dir;
  ASSERT_EQ(run_parley({"migrate", "apply", "--data-dir", dir.str()}).exit_code, 0);
  {
    DbFile db(dir.path() / "parley.db");
    db.exec("UPDATE schema_history SET checksum = 'tampered' WHERE version = 1");
    ASSERT_EQ(db.changes(), 1);
  }
  auto r = serve_failing(dir, {});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("V1 (baseline) was changed"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("listening"), std::string::npos);
  auto status = run_parley({"migrate", "status", "--data-dir", dir.str()});
  EXPECT_TRUE(std::regex_search(status.out, std::regex(R"(V001\s+CHANGED)"))) << status.out;
}

TEST(ConfigTest, MigrateValidateFailsOnAChangedMigrationAndRepairRealignsIt) {
  TempDir dir;
  ASSERT_EQ(run_parley({"migrate", "apply", "--data-dir", dir.str()}).exit_code, 0);
  auto valid = run_parley({"migrate", "validate", "--data-dir", dir.str()});
  EXPECT_EQ(valid.exit_code, 0) << valid.err;
  EXPECT_NE(valid.out.find("schema is valid"), std::string::npos) << valid.out;
  {
    DbFile db(dir.path() / "parley.db");
    db.exec("UPDATE schema_history SET checksum = 'tampered' WHERE version = 2");
    ASSERT_EQ(db.changes(), 1);
  }
  auto changed = run_parley({"migrate", "validate", "--data-dir", dir.str()});
  EXPECT_NE(changed.exit_code, 0);
  EXPECT_NE(changed.out.find("V2 (chat) is CHANGED"), std::string::npos) << changed.out;
  auto repaired = run_parley({"migrate", "repair", "--data-dir", dir.str()});
  ASSERT_EQ(repaired.exit_code, 0) << repaired.err;
  EXPECT_EQ(repaired.out, "repaired 1 checksum(s)\n");
  EXPECT_EQ(run_parley({"migrate", "validate", "--data-dir", dir.str()}).exit_code, 0);
  EXPECT_EQ(run_parley({"migrate", "repair", "--data-dir", dir.str()}).out, "repaired 0 checksum(s)\n");
}

TEST(ConfigTest, MigrateValidateFailsWhileMigrationsArePending) {
  TempDir dir;
  auto r = run_parley({"migrate", "validate", "--data-dir", dir.str()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("V1 (baseline) is pending"), std::string::npos) << r.out;
}

TEST(ConfigTest, MigrateBaselineRecordsMigrationsWithoutRunningThemOnlyOnAnEmptyHistory) {
  TempDir dir;
  auto r = run_parley({"migrate", "baseline", "--version", "2", "--data-dir", dir.str()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "baselined 2 migration(s)\n");
  auto status = run_parley({"migrate", "status", "--data-dir", dir.str()});
  EXPECT_TRUE(std::regex_search(status.out, std::regex(R"(V001\s+applied)"))) << status.out;
  EXPECT_TRUE(std::regex_search(status.out, std::regex(R"(V002\s+applied)"))) << status.out;
  EXPECT_TRUE(std::regex_search(status.out, std::regex(R"(V003\s+pending)"))) << status.out;
  auto again = run_parley({"migrate", "baseline", "--version", "1", "--data-dir", dir.str()});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("without migration history"), std::string::npos) << again.err;
}

TEST(ConfigTest, ServeRefusesADatabaseMigratedByANewerParley) {
  TempDir dir;
  ASSERT_EQ(run_parley({"migrate", "apply", "--data-dir", dir.str()}).exit_code, 0);
  {
    DbFile db(dir.path() / "parley.db");
    db.exec(
        "INSERT INTO schema_history(version, description, script, checksum, installed_at, execution_ms) "
        "VALUES(999, 'from the future', 'V999__from_the_future.sql', 'x', 0, 0)");
  }
  auto r = serve_failing(dir, {});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("V999"), std::string::npos) << r.err;
}

TEST(ConfigTest, WithoutAutoMigrateServeRefusesAnUnmigratedDatabase) {
  TempDir dir;
  auto r = serve_failing(dir, {{"auto-migrate", "false"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("migrate apply"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace parley::test
