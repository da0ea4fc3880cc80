#pragma once
// Migrations on PostgreSQL: schema_history bookkeeping, serialised across processes by an
// advisory lock.
#include <memory>
#include <string>

#include "store/migrations.hpp"

namespace parley::store::postgres {

std::unique_ptr<Migrator> open_postgres_migrator(const std::string& url);

}  // namespace parley::store::postgres
