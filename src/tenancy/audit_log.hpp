#pragma once
// The audit log of admin actions: tenancy's own repository over the shared SQL layer
// (store/sql/database.hpp), the pattern every capability module follows for its tables (see
// docs/architecture.md, "How to add a capability"). Its table is in the baseline migration.
// Thread-safe; calls block on the database, so make them from a database thread.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/time.hpp"

namespace parley::store::sql {
class Database;
}

namespace parley::tenancy {

struct AuditEntry {
  std::int64_t id = 0;
  TimeMs at = 0;
  std::string actor;
  std::string action;
  std::optional<std::string> app_id;
  std::optional<std::string> target;
  std::string details_json = "{}";
  std::optional<std::string> request_id;
};

class AuditLog {
 public:
  explicit AuditLog(store::sql::Database& db) : db_(db) {}

  /// Appends `entry` (its id is assigned by the database).
  Status append(const AuditEntry& entry);
  /// Newest first, ids below `before_id` (0 = from the newest), optionally one app's. Entries
  /// outlive their app: the log says who deleted it.
  Result<std::vector<AuditEntry>> list(const std::optional<std::string>& app_id, std::int64_t before_id, int limit);

 private:
  store::sql::Database& db_;
};

}  // namespace parley::tenancy
