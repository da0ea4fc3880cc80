#include "tenancy/settings.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/json_reader.hpp"

namespace parley::tenancy {

namespace json = boost::json;

namespace {

// "type/subtype" or "type/*", lower-case token characters.
bool valid_type_pattern(std::string_view t) {
  auto slash = t.find('/');
  if (t.empty() || t.size() > 100 || slash == std::string_view::npos || slash == 0 || slash + 1 == t.size()) {
    return false;
  }
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || i == slash;
    if (c == '*') ok = i == t.size() - 1 && i == slash + 1;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<std::string> merge_settings(const std::string& current_json, const json::object& patch) {
  json::object merged = json::parse(current_json).as_object();
  json::object to_check;
  for (const auto& kv : patch) {
    if (kv.value().is_null())
      merged.erase(kv.key());
    else
      to_check[kv.key()] = kv.value();
  }
  ObjectReader r(to_check);
  r.integer("max_message_bytes", false, 1, 1000000);
  r.integer("max_channel_members", false, 2, 100000);
  r.integer("retention_days", false, 0, 36500);
  r.number("rate_limit_user_per_sec", false, 0.1, 100000);
  r.integer("rate_limit_user_burst", false, 1, 1000000);
  r.boolean("link_previews", false);
  auto language = r.string("search_language", false, 1, 32);
  r.integer("files_max_bytes", false, 0, std::int64_t{1} << 40);
  r.integer("files_quota_bytes", false, 0, std::int64_t{1} << 50);
  r.skip("files_allowed_types");
  if (auto it = to_check.find("files_allowed_types"); it != to_check.end()) {
    bool ok = it->value().is_array() && it->value().as_array().size() <= 50;
    if (ok) {
      for (const auto& t : it->value().as_array()) ok = ok && t.is_string() && valid_type_pattern(t.as_string());
    }
    if (!ok) {
      Error e{Errc::invalid_request,
              "settings: files_allowed_types must be an array of at most 50 MIME types or patterns like image/*"};
      return e.with("field", "files_allowed_types");
    }
  }
  if (auto st = r.finish(); !st) {
    Error e = st.error();
    e.message = "settings: " + e.message;
    return e;
  }
  if (language && !known_search_language(*language)) {
    Error e{Errc::validation_failed, "settings: search_language is not a known text search configuration"};
    return e.with("field", "search_language");
  }
  for (const auto& kv : to_check) merged[kv.key()] = kv.value();
  return json::serialize(merged);
}

AppSettings parse_settings(const std::string& text) {
  AppSettings s;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return s;
  const auto& o = v.as_object();
  auto get_int = [&](const char* k, int& out) {
    if (auto* p = o.if_contains(k); p && p->is_number()) out = p->to_number<int>();
  };
  get_int("max_message_bytes", s.max_message_bytes);
  get_int("max_channel_members", s.max_channel_members);
  get_int("retention_days", s.retention_days);
  if (auto* p = o.if_contains("rate_limit_user_per_sec"); p && p->is_number()) {
    s.rate_limit_user_per_sec = p->to_number<double>();
  }
  if (auto* p = o.if_contains("rate_limit_user_burst"); p && p->is_number()) {
    s.rate_limit_user_burst = p->to_number<int>();
  }
  if (auto* p = o.if_contains("link_previews"); p && p->is_bool()) s.link_previews = p->as_bool();
  if (auto* p = o.if_contains("search_language"); p && p->is_string() && known_search_language(p->as_string())) {
    s.search_language = std::string(p->as_string());
  }
  if (auto* p = o.if_contains("files_max_bytes"); p && p->is_number()) s.files_max_bytes = p->to_number<std::int64_t>();
  if (auto* p = o.if_contains("files_quota_bytes"); p && p->is_number()) {
    s.files_quota_bytes = p->to_number<std::int64_t>();
  }
  if (auto* p = o.if_contains("files_allowed_types"); p && p->is_array()) {
    for (const auto& t : p->as_array()) {
      if (t.is_string()) s.files_allowed_types.emplace_back(t.as_string());
    }
  }
  return s;
}

bool known_search_language(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "simple",  "arabic",     "armenian", "basque",    "catalan",    "danish",    "dutch",      "english",
      "finnish", "french",     "german",   "greek",     "hindi",      "hungarian", "indonesian", "irish",
      "italian", "lithuanian", "nepali",   "norwegian", "portuguese", "romanian",  "russian",    "serbian",
      "spanish", "swedish",    "tamil",    "turkish",   "yiddish"};
  for (auto n : kNames) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace parley::tenancy
