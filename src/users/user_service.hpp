#pragma once
// Users of an app: profiles, search, deactivation. Every call is scoped to one app.
// Thread-safe; calls block on the store, so run them on a database thread.
#include <string>
#include <vector>

#include "store/store.hpp"

namespace parley::users {

class UserService {
 public:
  explicit UserService(store::Store& store) : store_(store) {}

  Result<store::UserRecord> get(const std::string& app_id, const std::string& user_id);
  Result<store::UserRecord> update(const std::string& app_id, const std::string& user_id,
                                   const store::UserPatch& patch);
  Result<std::vector<store::UserRecord>> list(const std::string& app_id, const std::string& query,
                                              const std::string& after_id, int limit, bool include_deactivated);
  /// Deactivation also revokes every token of the user.
  Result<store::UserRecord> set_active(const std::string& app_id, const std::string& user_id, bool active);

 private:
  store::Store& store_;
};

}  // namespace parley::users
