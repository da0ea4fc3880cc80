#pragma once
// The subcommands; each registers itself on the root CLI11 app. Internal to cli/.
#include <memory>
#include <string>

#include "config/options.hpp"
#include "store/store.hpp"

namespace CLI {
class App;
}

namespace parley::server {
class Server;
}

namespace parley::cli {

void add_serve_command(CLI::App& root);
void add_migrate_command(CLI::App& root);
void add_app_command(CLI::App& root);
void add_token_command(CLI::App& root);

/// Applies (or, with apply=false, requires) the schema, then opens the store.
std::unique_ptr<store::Store> open_ready_store(const Config& cfg, bool apply);

/// Creates the demo app and users when the database has no apps; prints their credentials
/// (and fresh tokens) on every start while the demo app exists.
void ensure_demo(const Config& cfg, store::Store& store, server::Server& server);

}  // namespace parley::cli
