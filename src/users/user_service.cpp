#include "users/user_service.hpp"

namespace parley::users {

Result<store::UserRecord> UserService::get(const std::string& app_id, const std::string& user_id) {
  return store_.get_user(app_id, user_id);
}

Result<store::UserRecord> UserService::update(const std::string& app_id, const std::string& user_id,
                                              const store::UserPatch& patch) {
  return store_.update_user(app_id, user_id, patch, now_ms());
}

Result<std::vector<store::UserRecord>> UserService::list(const std::string& app_id, const std::string& query,
                                                         const std::string& after_id, int limit,
                                                         bool include_deactivated) {
  return store_.list_users(app_id, query, after_id, limit, include_deactivated);
}

Result<store::UserRecord> UserService::set_active(const std::string& app_id, const std::string& user_id, bool active) {
  auto current = store_.get_user(app_id, user_id);
  if (!current) return current;
  if (active == !current->deactivated_at) return current;  // already in that state
  return store_.set_user_deactivated(app_id, user_id, active ? std::nullopt : std::optional<TimeMs>(now_ms()));
}

}  // namespace parley::users
