// Demo data for the embedded default: "Demo App" with alice, bob and carol.
#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "auth/token_service.hpp"
#include "chat/chat_service.hpp"
#include "cli/commands.hpp"
#include "server/server.hpp"
#include "tenancy/tenancy_service.hpp"

namespace parley::cli {

namespace {

constexpr const char* kDemoFile = "demo-credentials.json";
constexpr int kDemoTokenTtl = 86400;

struct DemoUser {
  const char* id;
  const char* name;
};
constexpr DemoUser kUsers[] = {{"alice", "Alice"}, {"bob", "Bob"}, {"carol", "Carol"}};

}  // namespace

void ensure_demo(const Config& cfg, store::Store& store, server::Server& server) {
  namespace json = boost::json;
  auto path = std::filesystem::path(cfg.data_dir) / kDemoFile;
  json::object creds;
  bool fresh = false;
  auto count = store.count_apps();
  if (!count) throw std::runtime_error("cannot count apps: " + count.error().message);
  if (*count == 0) {
    auto created = server.tenancy().create_app("Demo App", {}, {"system", std::nullopt});
    if (!created) throw std::runtime_error("cannot create the demo app: " + created.error().message);
    creds = {{"app_id", created->app.id}, {"api_key", created->api_key}, {"api_secret", created->api_secret}};
    fresh = true;
    std::filesystem::create_directories(cfg.data_dir);
    std::ofstream(path) << json::serialize(creds);
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  } else if (std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    auto v = json::parse(text.str(), ec);
    if (ec || !v.is_object()) return;
    creds = v.as_object();
  } else {
    return;  // not a demo installation
  }
  std::string app_id(creds["app_id"].as_string());
  auto app = server.tenancy().get_app(app_id);
  if (!app) return;  // the demo app was deleted
  server.set_demo_app(app_id);
  std::cout << "\nDemo app (credentials kept in " << path.string() << "):\n"
            << "  app_id:     " << app_id << "\n"
            << "  api_key:    " << creds["api_key"].as_string().c_str() << "\n"
            << "  api_secret: " << creds["api_secret"].as_string().c_str() << "\n"
            << "Access tokens, valid 24 hours (Authorization: Bearer <token>):\n";
  for (const auto& u : kUsers) {
    store::UserPatch profile;
    profile.name = u.name;
    auto pair = server.tokens().mint(**app, u.id, profile, kDemoTokenTtl);
    if (!pair) throw std::runtime_error("cannot mint a demo token: " + pair.error().message);
    std::cout << "  " << u.id << ": " << pair->access_token << "\n";
  }
  if (fresh) {
    chat::NewChannel general;
    general.type = store::ChannelType::public_;
    general.name = "general";
    general.topic = "Say hello";
    general.members = {"bob", "carol"};
    auto ch = server.chat().create_channel({*app, "alice"}, general);
    if (!ch) throw std::runtime_error("cannot create the demo channel: " + ch.error().message);
    std::cout << "Channel \"general\" (" << ch->channel.id << ") has alice, bob and carol.\n";
  }
  std::cout << std::endl;
}

}  // namespace parley::cli
