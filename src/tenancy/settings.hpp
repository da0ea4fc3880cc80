#pragma once
// Per-app settings: a JSON object of known keys, validated on every change. Stored as text;
// parsed into AppSettings where used.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/error.hpp"

namespace parley::tenancy {

struct AppSettings {
  int max_message_bytes = 10000;
  int max_channel_members = 1000;
  int retention_days = 0;  // 0: keep forever
  std::optional<double> rate_limit_user_per_sec;
  std::optional<int> rate_limit_user_burst;
  bool link_previews = true;  // URLs in messages get preview cards (src/previews/)
  // The text search configuration of the app's messages on PostgreSQL (docs/search.md); SQLite
  // indexes every language alike.
  std::string search_language = "simple";
  // Files (docs/files.md): 0 / empty mean the server's limit, any type, no quota.
  std::int64_t files_max_bytes = 0;
  std::vector<std::string> files_allowed_types;  // "image/*", "application/pdf"
  std::int64_t files_quota_bytes = 0;
};

/// The text search configurations search_language may name (PostgreSQL's built-in ones).
bool known_search_language(std::string_view name);

/// Validates `patch` (unknown keys: invalid_request; out of range: validation_failed) and
/// merges it key by key into `current_json`; a null value removes a key. Returns the new JSON.
Result<std::string> merge_settings(const std::string& current_json, const boost::json::object& patch);

/// Reads stored settings; keys that are absent take their defaults.
AppSettings parse_settings(const std::string& json);

}  // namespace parley::tenancy
