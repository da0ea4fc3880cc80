#pragma once
// The PostgreSQL store: the same behaviour as the embedded SQLite one, on a server database
// several Parley processes can share. Thread-safe.
#include <memory>
#include <string>

#include "store/store.hpp"

namespace parley::store::postgres {

/// Connects `connections` pooled connections to `url`; throws std::runtime_error when it cannot.
std::unique_ptr<Store> open_postgres_store(const std::string& url, int connections);

}  // namespace parley::store::postgres
