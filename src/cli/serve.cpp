// parley serve: migrate, open the store, set up the admin key and demo data, serve HTTP.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <iostream>

#include "cli/commands.hpp"
#include "core/log.hpp"
#include "server/server.hpp"
#include "store/migrations.hpp"
#include "tenancy/tenancy_service.hpp"

namespace parley::cli {

std::unique_ptr<store::Store> open_ready_store(const Config& cfg, bool apply) {
  std::string url = cfg.effective_database_url();
  {
    auto migrator = store::open_migrator(url);
    if (apply) {
      int n = migrator->apply();
      if (n > 0) spdlog::info("applied {} migration(s)", n);
    } else {
      for (const auto& s : migrator->status()) {
        if (s.state != store::MigrationState::applied) {
          throw std::runtime_error("the database schema is not current (V" + std::to_string(s.version) + " is " +
                                   store::state_name(s.state) + "); run 'parley migrate apply'");
        }
      }
    }
  }
  return store::open_store(url, cfg.db_threads);
}

namespace {
// Every connection is a file descriptor: take as many as the system allows.
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rlimit want{1 << 20, 1 << 20};
  if (setrlimit(RLIMIT_NOFILE, &want) == 0) return;  // root may raise the hard limit
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}
}  // namespace

void add_serve_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("serve", "Serve the HTTP API (embedded SQLite by default)");
  auto loader = std::make_shared<ConfigLoader>();
  loader->register_flags(*cmd);
  cmd->callback([loader] {
    Config cfg = loader->resolve();
    log::init(cfg.log_level);
    raise_fd_limit();
    auto store = open_ready_store(cfg, cfg.auto_migrate);
    server::Server server(cfg, *store);
    auto generated = server.tenancy().init_admin_key(cfg.admin_key);
    if (!generated) throw std::runtime_error("cannot set up the admin key: " + generated.error().message);
    if (*generated) {
      std::cout << "\nGenerated the super-admin key (shown once; only its hash is stored):\n  " << **generated
                << "\n\n";
    }
    if (cfg.demo) ensure_demo(cfg, *store, server);
    auto port = server.listen();
    std::cout << "parley listening on http://" << cfg.host << ":" << port << std::endl;
    spdlog::info("listening host={} port={} database={}", cfg.host, port, store->driver());
    server.run();
    spdlog::info("stopped");
    spdlog::default_logger()->flush();
  });
}

}  // namespace parley::cli
