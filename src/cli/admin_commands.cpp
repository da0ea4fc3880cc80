// parley migrate | app | token: operator commands that work on the database directly.
#include <CLI/CLI.hpp>

#include <iostream>

#include "auth/token_service.hpp"
#include "cli/commands.hpp"
#include "store/migrations.hpp"
#include "tenancy/tenancy_service.hpp"

namespace parley::cli {

CLI::App* sub(CLI::App& parent, const std::string& name, const std::string& help,
              std::shared_ptr<ConfigLoader>& loader) {
  auto* cmd = parent.add_subcommand(name, help);
  loader = std::make_shared<ConfigLoader>();
  loader->register_flags(*cmd);
  return cmd;
}

void add_migrate_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("migrate", "Show, apply, validate, baseline or repair schema migrations");
  cmd->require_subcommand(1);
  std::shared_ptr<ConfigLoader> loader;
  sub(*cmd, "status", "List migrations and whether each is applied", loader)
      ->callback(with_config(loader, [](const Config& cfg) {
        auto m = store::open_migrator(cfg.effective_database_url());
        std::cout << "version  state    installed                 description\n";
        for (const auto& s : m->status()) {
          std::printf("V%03d     %-8s %-25s %s\n", s.version, store::state_name(s.state),
                      s.installed_at ? format_time(*s.installed_at).c_str() : "-", s.description.c_str());
        }
      }));
  sub(*cmd, "apply", "Apply pending migrations", loader)->callback(with_config(loader, [](const Config& cfg) {
    auto m = store::open_migrator(cfg.effective_database_url());
    int n = m->apply();
    std::cout << "applied " << n << " migration(s)\n";
  }));
  sub(*cmd, "validate", "Fail unless the database is exactly at this binary's schema", loader)
      ->callback(with_config(loader, [](const Config& cfg) {
        auto m = store::open_migrator(cfg.effective_database_url());
        int problems = 0;
        for (const auto& s : m->status()) {
          if (s.state == store::MigrationState::applied) continue;
          ++problems;
          std::cout << "V" << s.version << " (" << s.description << ") is " << store::state_name(s.state) << "\n";
        }
        if (problems) throw std::runtime_error(std::to_string(problems) + " migration(s) not as this binary expects");
        std::cout << "schema is valid\n";
      }));
  auto version = std::make_shared<int>(0);
  auto* baseline = sub(*cmd, "baseline", "Record migrations up to --version as applied without running them", loader);
  baseline->add_option("--version", *version, "Last migration version the existing schema has")->required();
  baseline->callback(with_config(loader, [version](const Config& cfg) {
    auto m = store::open_migrator(cfg.effective_database_url());
    std::cout << "baselined " << m->baseline(*version) << " migration(s)\n";
  }));
  sub(*cmd, "repair", "Re-record checksums of applied migrations this binary carries differently", loader)
      ->callback(with_config(loader, [](const Config& cfg) {
        auto m = store::open_migrator(cfg.effective_database_url());
        std::cout << "repaired " << m->repair() << " checksum(s)\n";
      }));
}

void add_app_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("app", "Create, list and rotate the keys of apps");
  cmd->require_subcommand(1);
  std::shared_ptr<ConfigLoader> loader;
  tenancy::Actor cli_actor{"cli", std::nullopt};

  auto name = std::make_shared<std::string>();
  auto* create = sub(*cmd, "create", "Create an app; prints its key and secret (shown once)", loader);
  create->add_option("--name", *name, "App name")->required();
  create->callback(with_config(loader, [name, cli_actor](const Config& cfg) {
    auto store = open_ready_store(cfg, true);
    tenancy::TenancyService t(*store, cfg);
    if (name->empty() || name->size() > 100) throw std::runtime_error("--name must be 1-100 bytes");
    auto created = must(t.create_app(*name, {}, cli_actor), "cannot create the app");
    std::cout << "app_id:     " << created.app.id << "\napi_key:    " << created.api_key
              << "\napi_secret: " << created.api_secret << "\n";
  }));

  sub(*cmd, "list", "List apps", loader)->callback(with_config(loader, [](const Config& cfg) {
    auto store = open_ready_store(cfg, false);
    std::string after;
    for (;;) {
      auto apps = must(store->list_apps(after, 500), "cannot list apps");
      for (const auto& a : apps) std::cout << a.id << "  " << a.name << "  " << format_time(a.created_at) << "\n";
      if (apps.size() < 500) break;
      after = apps.back().id;
    }
  }));

  auto app_id = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto* rotate = sub(*cmd, "rotate-key", "Replace an API key: the old key stops working", loader);
  rotate->add_option("--app", *app_id, "App id")->required();
  rotate->add_option("--key", *key, "The API key to replace")->required();
  rotate->callback(with_config(loader, [app_id, key, cli_actor](const Config& cfg) {
    auto store = open_ready_store(cfg, false);
    tenancy::TenancyService t(*store, cfg);
    // The same two steps as the admin API; the operator at the console is the confirmation.
    auto ticket = must(t.request_rotation(*app_id, *key, cli_actor), "cannot rotate the key");
    auto fresh = must(t.confirm_rotation(*app_id, *key, ticket.confirm_token, cli_actor), "cannot rotate the key");
    std::cout << "api_key:    " << fresh.key.key << "\napi_secret: " << fresh.secret << "\n";
  }));
}

void add_token_command(CLI::App& root) {
  std::shared_ptr<ConfigLoader> loader;
  auto* cmd = sub(root, "token", "Mint a user access token (and refresh token) for scripts", loader);
  auto app_id = std::make_shared<std::string>();
  auto user_id = std::make_shared<std::string>();
  auto ttl = std::make_shared<int>(900);
  cmd->add_option("--app", *app_id, "App id")->required();
  cmd->add_option("--user", *user_id, "User id (created if missing)")->required();
  cmd->add_option("--ttl", *ttl, "Access token lifetime in seconds (60-86400)")->check(CLI::Range(60, 86400));
  cmd->callback(with_config(loader, [app_id, user_id, ttl](const Config& cfg) {
    auto store = open_ready_store(cfg, false);
    tenancy::TenancyService t(*store, cfg);
    auth::TokenService tokens(*store, t, cfg);
    auto app = must(t.get_app(*app_id), "cannot mint a token");
    auto pair = must(tokens.mint(*app, *user_id, {}, *ttl), "cannot mint a token");
    std::cout << pair.access_token << "\n";
  }));
}

}  // namespace parley::cli
