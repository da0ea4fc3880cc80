#pragma once
// Versioned schema migrations embedded in the binary ("V001__baseline.sql"), and the
// bookkeeping shared by every driver: version, description and checksum of each script.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace parley::store {

struct MigrationSource {
  std::string file;  // V001__baseline.sql
  std::string sql;
};

struct Migration {
  int version = 0;
  std::string description;  // "baseline"
  std::string file;
  std::string sql;
  std::string checksum;  // sha256 hex of the script
};

/// A row of the schema_history table.
struct AppliedMigration {
  int version = 0;
  std::string description;
  std::string checksum;
  TimeMs installed_at = 0;
  std::int64_t execution_ms = 0;
};

enum class MigrationState { applied, pending, changed, unknown };

struct MigrationStatus {
  int version = 0;
  std::string description;
  MigrationState state = MigrationState::pending;
  std::optional<TimeMs> installed_at;
};

/// Parses embedded sources into migrations sorted by version; throws on a malformed name
/// or a duplicate version (a build defect).
std::vector<Migration> load_migrations(const std::vector<MigrationSource>& sources);

/// Compares what the database applied with what the binary carries.
std::vector<MigrationStatus> compare_migrations(const std::vector<Migration>& known,
                                                const std::vector<AppliedMigration>& applied);

/// Throws std::runtime_error naming the problem when an applied migration was changed or is
/// unknown to this binary (a newer binary applied it).
void validate_applied(const std::vector<Migration>& known, const std::vector<AppliedMigration>& applied);

const char* state_name(MigrationState s);

const std::vector<MigrationSource>& sqlite_migrations();
const std::vector<MigrationSource>& postgres_migrations();

/// Runs a driver's migrations: status, apply (pending ones, in order, each in a transaction).
class Migrator {
 public:
  virtual ~Migrator() = default;
  virtual std::vector<MigrationStatus> status() = 0;
  /// Applies pending migrations after validating applied ones; returns how many were applied.
  virtual int apply() = 0;
  /// Records migrations up to `version` as applied without running them, for a database whose
  /// schema was created another way. Only on a database with no history; returns how many.
  virtual int baseline(int version) = 0;
  /// Re-records the checksums of applied migrations that this binary carries differently (after a
  /// deliberate, compatible edit of a script); returns how many rows changed.
  virtual int repair() = 0;
};

/// The rules every driver's migrator shares — apply, baseline, repair — over a few primitives
/// the driver provides. Primitives other than begin() run inside the transaction begin() opened.
class HistoryMigrator : public Migrator {
 public:
  std::vector<MigrationStatus> status() override;
  int apply() override;
  int baseline(int version) override;
  int repair() override;

 protected:
  explicit HistoryMigrator(std::vector<Migration> known) : known_(std::move(known)) {}
  /// Opens a write transaction holding whatever lock keeps other processes out.
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  virtual std::vector<AppliedMigration> applied() = 0;
  /// Runs a script; throws std::runtime_error naming it when it fails.
  virtual void run(const Migration& m) = 0;
  virtual void record(const Migration& m, std::int64_t execution_ms) = 0;
  virtual void rerecord_checksum(const Migration& m) = 0;

 private:
  std::vector<Migration> known_;
};

std::unique_ptr<Migrator> open_migrator(const std::string& database_url);

}  // namespace parley::store
