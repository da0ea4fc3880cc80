#pragma once
// Access tokens: HS256 JWTs signed with the app's own key (libjwt). Thread-safe functions.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace parley::auth {

struct AccessClaims {
  std::string app_id;      // "app"
  std::string user_id;     // "sub"
  std::string session_id;  // "sid"
  std::int64_t gen = 0;    // the user's token generation when minted
  std::int64_t iat = 0;    // seconds
  std::int64_t exp = 0;    // seconds
};

std::string sign_access_token(const AccessClaims& claims, std::string_view key);

/// Reads the "app" claim without verifying anything, to find the key to verify with.
Result<std::string> peek_app_id(std::string_view token);

/// Verifies signature, algorithm, issuer and expiry. unauthorized or token_expired.
Result<AccessClaims> verify_access_token(std::string_view token, std::string_view key, std::int64_t now_seconds);

}  // namespace parley::auth
