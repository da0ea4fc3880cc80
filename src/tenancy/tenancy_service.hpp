#pragma once
// Apps (tenants), their API keys, key rotation, the super-admin key and the audit log.
// Thread-safe; every call may block on the store, so call it from a database thread.
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "config/config.hpp"
#include "core/thread_annotations.hpp"
#include "store/store.hpp"
#include "tenancy/audit_log.hpp"
#include "tenancy/settings.hpp"

namespace parley::tenancy {

/// Who performed an admin action, for the audit log.
struct Actor {
  std::string name;  // "admin" (HTTP API) or "cli"
  std::optional<std::string> request_id;
};

struct CreatedApp {
  store::AppRecord app;
  std::string api_key;
  std::string api_secret;  // shown once
};

struct NewKey {
  store::ApiKeyRecord key;
  std::string secret;  // shown once
};

struct RotationTicket {
  std::string confirm_token;
  TimeMs expires_at = 0;
};

/// An app as the services hold it: the stored record and its settings, parsed once when the
/// record is loaded (not on every request or send).
struct App : store::AppRecord {
  explicit App(store::AppRecord record)
      : store::AppRecord(std::move(record)), settings(parse_settings(settings_json)) {}
  AppSettings settings;
};

using AppPtr = std::shared_ptr<const App>;

class TenancyService {
 public:
  TenancyService(store::Store& store, const Config& cfg) : store_(store), audit_(store.database()), cfg_(cfg) {}

  Result<CreatedApp> create_app(const std::string& name, const boost::json::object& settings, const Actor& who);
  /// Served from a short-lived cache (apps are read on every request).
  Result<AppPtr> get_app(const std::string& app_id);
  Result<std::vector<store::AppRecord>> list_apps(const std::string& after_id, int limit);
  Result<store::AppRecord> update_app(const std::string& app_id, const std::optional<std::string>& name,
                                      const std::optional<boost::json::object>& settings, const Actor& who);
  Status delete_app(const std::string& app_id, const Actor& who);

  Result<NewKey> create_key(const std::string& app_id, const Actor& who);
  Result<std::vector<store::ApiKeyRecord>> list_keys(const std::string& app_id);
  Result<RotationTicket> request_rotation(const std::string& app_id, const std::string& key, const Actor& who);
  Result<NewKey> confirm_rotation(const std::string& app_id, const std::string& key, const std::string& confirm_token,
                                  const Actor& who);
  Status revoke_key(const std::string& app_id, const std::string& key, const Actor& who);

  Result<std::vector<AuditEntry>> audit(const std::optional<std::string>& app_id, std::int64_t before_id, int limit);

  /// Verifies app credentials (key + secret); unauthorized when they do not match a live key.
  Result<AppPtr> authenticate_app(const std::string& key, const std::string& secret);

  /// Sets up the super-admin key: the configured one, or the stored hash, or a new key that is
  /// returned (to print once) and stored hashed. Call once at start-up.
  Result<std::optional<std::string>> init_admin_key(const std::string& configured);
  bool is_admin_key(const std::string& presented) const;

  /// Appends an admin action to the audit log (also for other modules' admin routes).
  Status audit_action(const Actor& who, const std::string& action, const std::optional<std::string>& app_id,
                      const std::optional<std::string>& target, const std::string& details_json = "{}");

 private:
  Result<store::ApiKeyRecord> key_of_app(const std::string& app_id, const std::string& key);
  Result<NewKey> make_key(const std::string& app_id);
  void forget(const std::string& app_id);

  store::Store& store_;
  AuditLog audit_;
  const Config& cfg_;
  std::string admin_key_hash_;  // written once at start-up, before serving

  struct Cached {
    AppPtr app;
    double expires;
  };
  mutable SharedMutex cache_mu_;
  std::unordered_map<std::string, Cached> cache_ GUARDED_BY(cache_mu_);
};

}  // namespace parley::tenancy
