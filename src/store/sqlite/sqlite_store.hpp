#pragma once
// The embedded store: SQLite in WAL mode with a pool of connections (one per database
// thread). Thread-safe; see store/store.hpp for the contract.
#include <memory>
#include <string>

#include "store/store.hpp"

namespace parley::store::sqlite {

std::unique_ptr<Store> open_sqlite_store(const std::string& path, int connections);

}  // namespace parley::store::sqlite
