#include "api/serialize.hpp"

#include <boost/json/parse.hpp>

#include "api/context.hpp"
#include "core/time.hpp"

namespace parley::api {

namespace json = boost::json;

namespace {
json::value time_or_null(const std::optional<TimeMs>& t) {
  if (!t) return nullptr;
  return json::value(format_time(*t));
}
json::value opt_text(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  return json::value(*s);
}
json::value parse_or_empty(const std::string& text) {
  if (text == "{}") return json::object{};
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) return json::object{};
  return v;
}
}  // namespace

json::object to_json(const store::AppRecord& a) {
  return {{"id", a.id},
          {"name", a.name},
          {"settings", parse_or_empty(a.settings_json)},
          {"created_at", format_time(a.created_at)},
          {"updated_at", format_time(a.updated_at)}};
}

json::object to_json(const store::ApiKeyRecord& k) {
  return {{"key", k.key},
          {"app_id", k.app_id},
          {"created_at", format_time(k.created_at)},
          {"revoked_at", time_or_null(k.revoked_at)}};
}

json::object to_json(const store::UserRecord& u) {
  return {{"id", u.id},
          {"name", u.name},
          {"image_url", u.image_url},
          {"custom", parse_or_empty(u.custom_json)},
          {"created_at", format_time(u.created_at)},
          {"updated_at", format_time(u.updated_at)},
          {"deactivated_at", time_or_null(u.deactivated_at)},
          {"bot", u.bot}};
}

json::object to_json(const tenancy::AuditEntry& e) {
  return {{"id", e.id},
          {"at", format_time(e.at)},
          {"actor", e.actor},
          {"action", e.action},
          {"app_id", opt_text(e.app_id)},
          {"target", opt_text(e.target)},
          {"details", parse_or_empty(e.details_json)},
          {"request_id", opt_text(e.request_id)}};
}

json::object to_json(const auth::TokenPair& p) {
  return {{"access_token", p.access_token},   {"token_type", "Bearer"},
          {"expires_in", p.expires_in},       {"expires_at", format_time(p.expires_at)},
          {"refresh_token", p.refresh_token}, {"refresh_expires_at", format_time(p.refresh_expires_at)},
          {"user", to_json(p.user)}};
}

json::object page(json::array items, const std::optional<std::string>& next_cursor) {
  json::object o;
  o["items"] = std::move(items);
  o["next_cursor"] = next_cursor ? json::value(make_cursor(*next_cursor)) : json::value(nullptr);
  return o;
}

}  // namespace parley::api
