#include "store/migrations.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>

#include "core/crypto.hpp"

namespace parley::store {

std::vector<Migration> load_migrations(const std::vector<MigrationSource>& sources) {
  std::vector<Migration> out;
  for (const auto& src : sources) {
    const std::string& f = src.file;
    auto sep = f.find("__");
    if (f.size() < 5 || f[0] != 'V' || sep == std::string::npos || !f.ends_with(".sql")) {
      throw std::runtime_error("migration file name '" + f + "' is not V<version>__<description>.sql");
    }
    Migration m;
    m.version = std::stoi(f.substr(1, sep - 1));
    m.description = f.substr(sep + 2, f.size() - sep - 2 - 4);
    std::replace(m.description.begin(), m.description.end(), '_', ' ');
    m.file = f;
    m.sql = src.sql;
    m.checksum = crypto::sha256_hex(src.sql);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      throw std::runtime_error("two migrations have version " + std::to_string(out[i].version));
    }
  }
  return out;
}

std::vector<MigrationStatus> compare_migrations(const std::vector<Migration>& known,
                                                const std::vector<AppliedMigration>& applied) {
  std::map<int, const AppliedMigration*> by_version;
  for (const auto& a : applied) by_version[a.version] = &a;
  std::vector<MigrationStatus> out;
  for (const auto& m : known) {
    MigrationStatus s{m.version, m.description, MigrationState::pending, std::nullopt};
    if (auto it = by_version.find(m.version); it != by_version.end()) {
      s.state = it->second->checksum == m.checksum ? MigrationState::applied : MigrationState::changed;
      s.installed_at = it->second->installed_at;
      by_version.erase(it);
    }
    out.push_back(s);
  }
  for (const auto& [v, a] : by_version) {
    out.push_back({v, a->description, MigrationState::unknown, a->installed_at});
  }
  return out;
}

void validate_applied(const std::vector<Migration>& known, const std::vector<AppliedMigration>& applied) {
  for (const auto& s : compare_migrations(known, applied)) {
    if (s.state == MigrationState::changed) {
      throw std::runtime_error("migration V" + std::to_string(s.version) + " (" + s.description +
                               ") was changed after it was applied: its checksum differs from the one in "
                               "schema_history. Restore the original script; never edit an applied migration.");
    }
    if (s.state == MigrationState::unknown) {
      throw std::runtime_error("the database has migration V" + std::to_string(s.version) + " (" + s.description +
                               ") which this binary does not know: it was migrated by a newer Parley.");
    }
  }
}

const char* state_name(MigrationState s) {
  switch (s) {
    case MigrationState::applied: return "applied";
    case MigrationState::pending: return "pending";
    case MigrationState::changed: return "CHANGED";
    case MigrationState::unknown: return "UNKNOWN";
  }
  return "?";
}

namespace {
// Rolls back unless committed.
class HistoryTx {
 public:
  HistoryTx(std::function<void()> rollback) : rollback_(std::move(rollback)) {}
  ~HistoryTx() {
    if (rollback_) {
      try {
        rollback_();
      } catch (...) {  // NOLINT(bugprone-empty-catch): the original error is what matters
      }
    }
  }
  void done() { rollback_ = nullptr; }

 private:
  std::function<void()> rollback_;
};
}  // namespace

std::vector<MigrationStatus> HistoryMigrator::status() { return compare_migrations(known_, applied()); }

int HistoryMigrator::apply() {
  int count = 0;
  for (const auto& m : known_) {
    begin();
    HistoryTx tx([this] { rollback(); });
    auto done = applied();  // re-read under the lock: another process may have migrated
    validate_applied(known_, done);
    bool present = std::any_of(done.begin(), done.end(), [&](const auto& a) { return a.version == m.version; });
    if (present) {
      tx.done();
      commit();
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    run(m);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    record(m, ms.count());
    tx.done();
    commit();
    ++count;
  }
  return count;
}

int HistoryMigrator::baseline(int version) {
  begin();
  HistoryTx tx([this] { rollback(); });
  if (!applied().empty()) throw std::runtime_error("baseline needs a database without migration history");
  int count = 0;
  for (const auto& m : known_) {
    if (m.version > version) break;
    record(m, 0);
    ++count;
  }
  tx.done();
  commit();
  return count;
}

int HistoryMigrator::repair() {
  begin();
  HistoryTx tx([this] { rollback(); });
  int count = 0;
  for (const auto& a : applied()) {
    for (const auto& m : known_) {
      if (m.version != a.version || m.checksum == a.checksum) continue;
      rerecord_checksum(m);
      ++count;
    }
  }
  tx.done();
  commit();
  return count;
}

}  // namespace parley::store
