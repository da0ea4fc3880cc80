#pragma once
// The subcommands; each registers itself on the root CLI11 app. Internal to cli/.
#include <memory>
#include <stdexcept>
#include <string>

#include "config/options.hpp"
#include "core/log.hpp"
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
void add_jobs_command(CLI::App& root);

/// A subcommand of `parent` with the configuration flags; `loader` resolves them.
CLI::App* sub(CLI::App& parent, const std::string& name, const std::string& help,
              std::shared_ptr<ConfigLoader>& loader);

/// A CLI11 callback running `fn(cfg)` with the resolved configuration and quiet logs.
template <class Fn>
auto with_config(const std::shared_ptr<ConfigLoader>& loader, Fn fn) {
  return [loader, fn] {
    Config cfg = loader->resolve();
    log::init("warn");
    fn(cfg);
  };
}

/// The value, or a runtime_error "what: message" that the CLI prints.
template <class T>
T must(Result<T> r, const char* what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}

/// Applies (or, with apply=false, requires) the schema, then opens the store.
std::unique_ptr<store::Store> open_ready_store(const Config& cfg, bool apply);

/// Creates the demo app and users when the database has no apps; prints their credentials
/// (and fresh tokens) on every start while the demo app exists.
void ensure_demo(const Config& cfg, store::Store& store, server::Server& server);

}  // namespace parley::cli
