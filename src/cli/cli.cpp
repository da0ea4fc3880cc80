#include "cli/cli.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

#include "api/pipeline.hpp"
#include "cli/commands.hpp"
#include "config/options.hpp"

namespace parley::cli {

int run(int argc, char** argv) {
  CLI::App root{"Parley: a self-hosted, multi-tenant chat backend"};
  root.name("parley");
  root.require_subcommand(1);

  add_serve_command(root);
  add_migrate_command(root);
  add_app_command(root);
  add_token_command(root);
  add_jobs_command(root);

  root.add_subcommand("version", "Print the version")->callback([] {
    std::cout << "parley " << PARLEY_VERSION << "\n";
  });

  auto* options = root.add_subcommand("options", "Print every configuration option as a Markdown table");
  options->callback([] {
    std::cout << "| flag | environment | config key | default | meaning |\n|---|---|---|---|---|\n";
    for (const auto& o : ConfigLoader::describe()) {
      std::cout << "| `--" << o.name << "` | `" << o.env << "` | `" << o.key << "` | `" << o.fallback << "` | "
                << o.help << " |\n";
    }
  });

  auto* routes = root.add_subcommand("routes", "Print every HTTP route the server registers");
  routes->callback([] {
    auto router = api::build_router();  // named: routes() refers into it
    for (const auto& r : router.routes()) std::cout << r.method << " " << r.pattern << "\n";
  });

  try {
    root.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return root.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "parley: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace parley::cli
