#pragma once
// Records as the store keeps them. Plain values; JSON columns are kept as serialized text so
// the store never parses them.
#include <cstdint>
#include <optional>
#include <string>

#include "core/time.hpp"

namespace parley::store {

struct AppRecord {
  std::string id;
  std::string name;
  std::string settings_json = "{}";
  std::string jwt_secret;  // raw bytes; signs this app's access tokens
  TimeMs created_at = 0;
  TimeMs updated_at = 0;
};

struct ApiKeyRecord {
  std::string key;  // public part, "pk_…"
  std::string app_id;
  std::string secret_hash;  // SHA-256 of the secret
  TimeMs created_at = 0;
  std::optional<TimeMs> revoked_at;
};

struct KeyRotation {
  std::string token_hash;  // SHA-256 of the confirm token
  std::string app_id;
  std::string key;
  TimeMs created_at = 0;
  TimeMs expires_at = 0;
  std::optional<TimeMs> used_at;
};

struct UserRecord {
  std::string app_id;
  std::string id;
  std::string name;
  std::string image_url;
  std::string custom_json = "{}";
  TimeMs created_at = 0;
  TimeMs updated_at = 0;
  std::optional<TimeMs> deactivated_at;
  std::int64_t token_gen = 0;          // bumped to revoke every token of the user
  std::optional<TimeMs> last_seen_at;  // when the user's last realtime connection closed
  bool bot = false;                    // marked a bot by the app (docs/bots.md)
};

/// Fields of a user to change; unset fields stay as they are.
struct UserPatch {
  std::optional<std::string> name;
  std::optional<std::string> image_url;
  std::optional<std::string> custom_json;
  std::optional<bool> bot;  // token minting only (app credentials); update_user ignores it
};

struct SessionRecord {
  std::string id;
  std::string app_id;
  std::string user_id;
  TimeMs created_at = 0;
  TimeMs expires_at = 0;
  std::optional<TimeMs> revoked_at;
};

struct RefreshTokenRecord {
  std::string token_hash;
  std::string session_id;
  TimeMs created_at = 0;
  std::optional<TimeMs> used_at;
};

}  // namespace parley::store
