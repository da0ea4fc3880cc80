#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/options.hpp"

namespace parley {
namespace {

Config load(std::vector<std::string> args) {
  CLI::App app;
  ConfigLoader loader;
  loader.register_flags(app);
  std::vector<const char*> argv{"parley"};
  for (auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return loader.resolve();
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("parley-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    file_ = (dir_ / "parley.toml").string();
    std::ofstream(file_) << "port = 7001\npage_default = 11\nlog_level = \"debug\"\n";
  }
  void TearDown() override {
    ::unsetenv("PARLEY_PORT");
    ::unsetenv("PARLEY_PAGE_DEFAULT");
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::string file_;
};

TEST_F(ConfigTest, DefaultsApplyWithoutAnySource) {
  Config c = load({});
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.effective_database_url(), "sqlite:./data/parley.db");
}

TEST_F(ConfigTest, FlagBeatsEnvironmentBeatsFileBeatsDefault) {
  EXPECT_EQ(load({"--config", file_}).port, 7001);
  ::setenv("PARLEY_PORT", "7002", 1);
  EXPECT_EQ(load({"--config", file_}).port, 7002);
  EXPECT_EQ(load({"--config", file_, "--port", "7003"}).port, 7003);
  Config c = load({"--config", file_});
  EXPECT_EQ(c.page_default, 11);  // from the file, untouched by the env for port
  EXPECT_EQ(c.log_level, "debug");
}

TEST_F(ConfigTest, BadValuesNameTheirSource) {
  ::setenv("PARLEY_PAGE_DEFAULT", "lots", 1);
  try {
    load({});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("PARLEY_PAGE_DEFAULT"), std::string::npos) << e.what();
  }
  ::unsetenv("PARLEY_PAGE_DEFAULT");
  EXPECT_THROW(load({"--port", "70000"}), std::runtime_error);
}

TEST_F(ConfigTest, UnknownConfigFileKeysAreRejected) {
  std::ofstream(file_) << "prot = 1\n";
  EXPECT_THROW(load({"--config", file_}), std::runtime_error);
}

TEST_F(ConfigTest, EveryOptionHasAnEnvironmentNameAndHelp) {
  for (const auto& o : ConfigLoader::describe()) {
    EXPECT_TRUE(o.env.starts_with("PARLEY_")) << o.name;
    EXPECT_FALSE(o.help.empty()) << o.name;
  }
}

}  // namespace
}  // namespace parley
