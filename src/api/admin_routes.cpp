// /v1/admin/*: apps, keys, rotation, audit. Super-admin key only.
#include <boost/json/array.hpp>

#include <spdlog/spdlog.h>

#include "api/errors.hpp"
#include "api/params.hpp"
#include "api/routes.hpp"
#include "api/serialize.hpp"
#include "core/json_reader.hpp"
#include "services/on_db.hpp"

namespace parley::api {

namespace {

using boost::asio::awaitable;
namespace json = boost::json;
using R = awaitable<Result<net::Response>>;

constexpr std::size_t kMaxAppName = 100;
constexpr std::size_t kMaxSettingsBytes = 8192;

R create_app(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  auto name = r.string("name", true, 1, kMaxAppName);
  auto settings = r.object("settings", false, kMaxSettingsBytes);
  PARLEY_CO_TRY(r.finish());
  auto created =
      co_await on_db(c.s, [&] { return c.s.tenancy.create_app(*name, settings.value_or(json::object{}), c.actor()); });
  if (!created) co_return std::move(created).error();
  co_return json_response(
      201,
      json::object{{"app", to_json(created->app)}, {"api_key", created->api_key}, {"api_secret", created->api_secret}});
}

R list_apps(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit, c.limit());
  PARLEY_CO_ASSIGN_OR_RETURN(auto cursor, c.cursor());
  PARLEY_CO_ASSIGN_OR_RETURN(auto apps, co_await on_db(c.s, [&] { return c.s.tenancy.list_apps(cursor, limit + 1); }));
  co_return json_response(
      200, page_of(
               apps, limit, [](const auto& a) { return to_json(a); }, [](const auto& a) { return a.id; }));
}

R get_app(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto app, co_await on_db(c.s, [&] { return c.s.store.get_app(c.param("app_id")); }));
  co_return json_response(200, json::object{{"app", to_json(app)}});
}

R update_app(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  auto name = r.string("name", false, 1, kMaxAppName);
  auto settings = r.object("settings", false, kMaxSettingsBytes);
  PARLEY_CO_TRY(r.finish());
  PARLEY_CO_ASSIGN_OR_RETURN(auto app, co_await on_db(c.s, [&] {
                               return c.s.tenancy.update_app(c.param("app_id"), name, settings, c.actor());
                             }));
  if (settings && settings->contains("search_language")) {  // words are stemmed differently now
    PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.search.reindex_app(app.id); }));
    c.s.search_reindex();
  }
  co_return json_response(200, json::object{{"app", to_json(app)}});
}

R delete_app(Ctx& c) {
  // The app's files: their keys before the rows go with the app, the objects after.
  PARLEY_CO_ASSIGN_OR_RETURN(auto keys,
                             co_await on_db(c.s, [&] { return c.s.files.object_keys_of_app(c.param("app_id")); }));
  PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.tenancy.delete_app(c.param("app_id"), c.actor()); }));
  if (auto st = co_await services::on_files(c.s, [&] { return c.s.files.remove_objects(keys); }); !st) {
    spdlog::warn("files: removing the objects of deleted app {} failed: {}", c.param("app_id"), st.error().message);
  }
  co_return no_content();
}

R list_keys(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto keys, co_await on_db(c.s, [&] { return c.s.tenancy.list_keys(c.param("app_id")); }));
  json::array items;
  for (const auto& k : keys) items.push_back(to_json(k));
  co_return json_response(200, json::object{{"items", std::move(items)}});
}

R create_key(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body(true));
  PARLEY_CO_TRY(ObjectReader(body).finish());
  PARLEY_CO_ASSIGN_OR_RETURN(auto key,
                             co_await on_db(c.s, [&] { return c.s.tenancy.create_key(c.param("app_id"), c.actor()); }));
  co_return json_response(201, json::object{{"key", to_json(key.key)}, {"api_secret", key.secret}});
}

R rotate_key(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body(true));
  PARLEY_CO_TRY(ObjectReader(body).finish());
  auto t =
      co_await on_db(c.s, [&] { return c.s.tenancy.request_rotation(c.param("app_id"), c.param("key"), c.actor()); });
  if (!t) co_return std::move(t).error();
  co_return json_response(
      202, json::object{{"confirm_token", t->confirm_token}, {"expires_at", format_time(t->expires_at)}});
}

R confirm_rotation(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  auto token = r.string("confirm_token", true, 1, 256);
  PARLEY_CO_TRY(r.finish());
  PARLEY_CO_ASSIGN_OR_RETURN(auto key, co_await on_db(c.s, [&] {
                               return c.s.tenancy.confirm_rotation(c.param("app_id"), c.param("key"), *token,
                                                                   c.actor());
                             }));
  co_return json_response(200, json::object{{"key", to_json(key.key)}, {"api_secret", key.secret}});
}

R revoke_key(Ctx& c) {
  PARLEY_CO_TRY(
      co_await on_db(c.s, [&] { return c.s.tenancy.revoke_key(c.param("app_id"), c.param("key"), c.actor()); }));
  co_return no_content();
}

R audit(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit, c.limit());
  PARLEY_CO_ASSIGN_OR_RETURN(auto before, id_cursor(c));
  std::optional<std::string> app_id;
  if (auto a = c.req.param("app_id")) app_id = std::string(*a);
  PARLEY_CO_ASSIGN_OR_RETURN(auto entries,
                             co_await on_db(c.s, [&] { return c.s.tenancy.audit(app_id, before, limit + 1); }));
  co_return json_response(200, page_of(
                                   entries, limit, [](const auto& e) { return to_json(e); },
                                   [](const auto& e) { return std::to_string(e.id); }));
}

}  // namespace

void add_admin_routes(Router& r) {
  r.add({"POST", "/v1/admin/apps", Access::admin, true, create_app});
  r.add({"GET", "/v1/admin/apps", Access::admin, true, list_apps});
  r.add({"GET", "/v1/admin/apps/{app_id}", Access::admin, true, get_app});
  r.add({"PATCH", "/v1/admin/apps/{app_id}", Access::admin, true, update_app});
  r.add({"DELETE", "/v1/admin/apps/{app_id}", Access::admin, true, delete_app});
  r.add({"GET", "/v1/admin/apps/{app_id}/keys", Access::admin, true, list_keys});
  r.add({"POST", "/v1/admin/apps/{app_id}/keys", Access::admin, true, create_key});
  r.add({"POST", "/v1/admin/apps/{app_id}/keys/{key}/rotate", Access::admin, true, rotate_key});
  r.add({"POST", "/v1/admin/apps/{app_id}/keys/{key}/rotate/confirm", Access::admin, true, confirm_rotation});
  r.add({"DELETE", "/v1/admin/apps/{app_id}/keys/{key}", Access::admin, true, revoke_key});
  r.add({"GET", "/v1/admin/audit", Access::admin, true, audit});
}

}  // namespace parley::api
