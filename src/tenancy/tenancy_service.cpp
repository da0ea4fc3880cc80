#include "tenancy/tenancy_service.hpp"

#include <boost/json/serialize.hpp>

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "tenancy/settings.hpp"

namespace parley::tenancy {

namespace {
constexpr double kAppCacheSeconds = 5.0;
constexpr const char* kAdminKeyMeta = "admin_key_sha256";

std::string json_text(std::initializer_list<std::pair<const char*, std::string>> fields) {
  boost::json::object o;
  for (const auto& [k, v] : fields) o[k] = v;
  return boost::json::serialize(o);
}
}  // namespace

Status TenancyService::audit_action(const Actor& who, const std::string& action,
                                    const std::optional<std::string>& app_id, const std::optional<std::string>& target,
                                    const std::string& details_json) {
  AuditEntry e;
  e.at = now_ms();
  e.actor = who.name;
  e.action = action;
  e.app_id = app_id;
  e.target = target;
  e.details_json = details_json;
  e.request_id = who.request_id;
  return audit_.append(e);
}

Result<NewKey> TenancyService::make_key(const std::string& app_id) {
  NewKey k;
  k.key.key = crypto::random_id("pk_", 24);
  k.key.app_id = app_id;
  k.secret = crypto::random_token("sk_", 32);
  k.key.secret_hash = crypto::sha256(k.secret);
  k.key.created_at = now_ms();
  return k;
}

Result<CreatedApp> TenancyService::create_app(const std::string& name, const boost::json::object& settings,
                                              const Actor& who) {
  PARLEY_ASSIGN_OR_RETURN(auto merged, merge_settings("{}", settings));
  store::AppRecord app;
  app.id = crypto::random_id("app_", 20);
  app.name = name;
  app.settings_json = merged;
  app.jwt_secret = crypto::random_bytes(32);
  app.created_at = app.updated_at = now_ms();
  auto key = make_key(app.id);
  PARLEY_TRY(store_.create_app(app, key->key));
  PARLEY_TRY(audit_action(who, "app.create", app.id, app.id, json_text({{"name", name}})));
  return CreatedApp{app, key->key.key, key->secret};
}

Result<AppPtr> TenancyService::get_app(const std::string& app_id) {
  double now = steady_seconds();
  {
    ReaderLock lock(cache_mu_);
    if (auto it = cache_.find(app_id); it != cache_.end() && it->second.expires > now) return it->second.app;
  }
  PARLEY_ASSIGN_OR_RETURN(auto app, store_.get_app(app_id));
  auto ptr = std::make_shared<const App>(std::move(app));
  WriterLock lock(cache_mu_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[app_id] = {ptr, now + kAppCacheSeconds};
  return ptr;
}

void TenancyService::forget(const std::string& app_id) {
  WriterLock lock(cache_mu_);
  cache_.erase(app_id);
}

Result<std::vector<store::AppRecord>> TenancyService::list_apps(const std::string& after_id, int limit) {
  return store_.list_apps(after_id, limit);
}

Result<store::AppRecord> TenancyService::update_app(const std::string& app_id, const std::optional<std::string>& name,
                                                    const std::optional<boost::json::object>& settings,
                                                    const Actor& who) {
  PARLEY_ASSIGN_OR_RETURN(auto app, store_.get_app(app_id));
  if (name) app.name = *name;
  if (settings) {
    PARLEY_ASSIGN_OR_RETURN(auto merged, merge_settings(app.settings_json, *settings));
    app.settings_json = merged;
  }
  app.updated_at = now_ms();
  PARLEY_TRY(store_.update_app(app));
  forget(app_id);
  PARLEY_TRY(audit_action(who, "app.update", app_id, app_id, json_text({{"name", app.name}})));
  return app;
}

Status TenancyService::delete_app(const std::string& app_id, const Actor& who) {
  PARLEY_TRY(store_.delete_app(app_id));
  forget(app_id);
  return audit_action(who, "app.delete", app_id, app_id);
}

Result<store::ApiKeyRecord> TenancyService::key_of_app(const std::string& app_id, const std::string& key) {
  auto k = store_.get_key(key);
  if (!k || k->app_id != app_id) return not_found("api key");
  return k;
}

Result<NewKey> TenancyService::create_key(const std::string& app_id, const Actor& who) {
  PARLEY_TRY(store_.get_app(app_id));
  auto key = make_key(app_id);
  PARLEY_TRY(store_.insert_key(key->key));
  PARLEY_TRY(audit_action(who, "key.create", app_id, key->key.key));
  return key;
}

Result<std::vector<store::ApiKeyRecord>> TenancyService::list_keys(const std::string& app_id) {
  PARLEY_TRY(store_.get_app(app_id));
  return store_.list_keys(app_id);
}

Result<RotationTicket> TenancyService::request_rotation(const std::string& app_id, const std::string& key,
                                                        const Actor& who) {
  PARLEY_ASSIGN_OR_RETURN(auto k, key_of_app(app_id, key));
  if (k.revoked_at) return Error{Errc::conflict, "api key is revoked; create a new key instead"};
  RotationTicket t;
  t.confirm_token = crypto::random_token("rc_", 24);
  store::KeyRotation r;
  r.token_hash = crypto::sha256(t.confirm_token);
  r.app_id = app_id;
  r.key = key;
  r.created_at = now_ms();
  r.expires_at = t.expires_at = r.created_at + static_cast<TimeMs>(cfg_.rotate_confirm_ttl) * 1000;
  PARLEY_TRY(store_.insert_rotation(r));
  PARLEY_TRY(audit_action(who, "key.rotate.request", app_id, key));
  return t;
}

Result<NewKey> TenancyService::confirm_rotation(const std::string& app_id, const std::string& key,
                                                const std::string& confirm_token, const Actor& who) {
  std::string hash = crypto::sha256(confirm_token);
  auto r = store_.get_rotation(hash);
  if (!r || r->app_id != app_id || r->key != key) return not_found("confirm token");
  if (r->used_at) return Error{Errc::gone, "confirm token was already used"};
  TimeMs now = now_ms();
  if (r->expires_at <= now) return Error{Errc::gone, "confirm token has expired; request the rotation again"};
  PARLEY_ASSIGN_OR_RETURN(auto k, key_of_app(app_id, key));
  if (k.revoked_at) return Error{Errc::conflict, "api key was revoked meanwhile"};
  auto fresh = make_key(app_id);
  PARLEY_TRY(store_.confirm_rotation(hash, fresh->key, now));
  PARLEY_TRY(audit_action(who, "key.rotate.confirm", app_id, key, json_text({{"new_key", fresh->key.key}})));
  return fresh;
}

Status TenancyService::revoke_key(const std::string& app_id, const std::string& key, const Actor& who) {
  PARLEY_TRY(key_of_app(app_id, key));
  PARLEY_TRY(store_.revoke_key(app_id, key, now_ms()));
  return audit_action(who, "key.revoke", app_id, key);
}

Result<std::vector<AuditEntry>> TenancyService::audit(const std::optional<std::string>& app_id, std::int64_t before_id,
                                                      int limit) {
  return audit_.list(app_id, before_id, limit);
}

Result<AppPtr> TenancyService::authenticate_app(const std::string& key, const std::string& secret) {
  Error denied{Errc::unauthorized, "app credentials do not verify"};
  auto k = store_.get_key(key);
  if (!k) return k.error().code == Errc::not_found ? denied : std::move(k).error();
  if (k->revoked_at || !crypto::constant_time_equal(k->secret_hash, crypto::sha256(secret))) return denied;
  return get_app(k->app_id);
}

Result<std::optional<std::string>> TenancyService::init_admin_key(const std::string& configured) {
  if (!configured.empty()) {
    admin_key_hash_ = crypto::sha256(configured);
    return std::optional<std::string>{};
  }
  auto stored = store_.get_meta(kAdminKeyMeta);
  if (!stored) return std::move(stored).error();
  if (*stored) {
    admin_key_hash_ = *crypto::base64_decode(**stored);
    return std::optional<std::string>{};
  }
  std::string key = crypto::random_token("adm_", 32);
  admin_key_hash_ = crypto::sha256(key);
  PARLEY_TRY(store_.put_meta(kAdminKeyMeta, crypto::base64_encode(admin_key_hash_)));
  return std::optional<std::string>{key};
}

bool TenancyService::is_admin_key(const std::string& presented) const {
  return !admin_key_hash_.empty() && crypto::constant_time_equal(admin_key_hash_, crypto::sha256(presented));
}

}  // namespace parley::tenancy
