#pragma once
// User tokens: minting for an app's backend, refresh with rotation and replay detection,
// logout, revoking all of a user's tokens, and resolving an access token to (app, user).
// Thread-safe; calls block on the store, so run them on a database thread.
#include <optional>
#include <string>
#include <string_view>

#include "auth/jwt.hpp"
#include "config/config.hpp"
#include "store/store.hpp"
#include "tenancy/tenancy_service.hpp"

namespace parley::auth {

struct TokenPair {
  std::string access_token;
  int expires_in = 0;  // seconds
  TimeMs expires_at = 0;
  std::string refresh_token;
  TimeMs refresh_expires_at = 0;
  store::UserRecord user;
};

/// Who a user request acts as: resolved once per request.
struct Principal {
  tenancy::AppPtr app;
  store::UserRecord user;
  AccessClaims claims;
};

class TokenService {
 public:
  TokenService(store::Store& store, tenancy::TenancyService& tenancy, const Config& cfg)
      : store_(store), tenancy_(tenancy), cfg_(cfg) {}

  /// Creates or updates the user, then opens a session. forbidden for a deactivated user.
  Result<TokenPair> mint(const store::AppRecord& app, const std::string& user_id, const store::UserPatch& profile,
                         std::optional<int> ttl_seconds);
  Result<TokenPair> refresh(const std::string& refresh_token);
  Status logout(const std::string& refresh_token);
  Status revoke_user(const std::string& app_id, const std::string& user_id);

  /// Verifies an access token against its app's key and loads its user.
  Result<Principal> authenticate(std::string_view access_token);

 private:
  TokenPair sign(const store::AppRecord& app, const store::UserRecord& user, const std::string& session_id,
                 std::string refresh_token, TimeMs refresh_expires_at, std::optional<int> ttl_seconds) const;

  store::Store& store_;
  tenancy::TenancyService& tenancy_;
  const Config& cfg_;
};

}  // namespace parley::auth
