#pragma once
#include <memory>
#include <string>

#include "store/migrations.hpp"

namespace parley::store::sqlite {

/// Opens a migrator on the SQLite file at `path` (created if missing). Throws on failure.
std::unique_ptr<Migrator> open_sqlite_migrator(const std::string& path);

}  // namespace parley::store::sqlite
