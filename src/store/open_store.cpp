// Picks the store implementation a database URL names.
#include <filesystem>
#include <stdexcept>

#include "store/migrations.hpp"
#include "store/postgres/postgres_migrator.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_migrator.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

namespace parley::store {

namespace {

// "sqlite:path" or "sqlite://path" -> path; creates the parent folder. Empty when not SQLite.
std::string sqlite_path(const std::string& url) {
  std::string path;
  if (url.starts_with("sqlite://"))
    path = url.substr(9);
  else if (url.starts_with("sqlite:"))
    path = url.substr(7);
  else
    return {};
  if (path.empty()) throw std::runtime_error("database URL '" + url + "' names no file");
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  return path;
}

// "postgres://…" or "postgresql://…": handed to libpq as it is.
bool is_postgres(const std::string& url) { return url.starts_with("postgres://") || url.starts_with("postgresql://"); }

[[noreturn]] void unsupported(const std::string& url) {
  throw std::runtime_error("unsupported database URL '" + url +
                           "'; expected sqlite:<path> or postgres://[user[:password]@]host[:port]/database");
}

}  // namespace

std::unique_ptr<Store> open_store(const std::string& url, int connections) {
  if (auto path = sqlite_path(url); !path.empty()) return sqlite::open_sqlite_store(path, connections);
  if (is_postgres(url)) return postgres::open_postgres_store(url, connections);
  unsupported(url);
}

std::unique_ptr<Migrator> open_migrator(const std::string& url) {
  if (auto path = sqlite_path(url); !path.empty()) return sqlite::open_sqlite_migrator(path);
  if (is_postgres(url)) return postgres::open_postgres_migrator(url);
  unsupported(url);
}

}  // namespace parley::store
