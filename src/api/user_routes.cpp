// /v1/users*: me, profiles, search, deactivation. Always scoped to the caller's app.
#include <boost/json/array.hpp>

#include "api/errors.hpp"
#include "api/routes.hpp"
#include "api/serialize.hpp"
#include "core/json_reader.hpp"
#include "services/on_db.hpp"
#include "users/user_fields.hpp"

namespace parley::api {

namespace {

using boost::asio::awaitable;
namespace json = boost::json;
using R = awaitable<Result<net::Response>>;

net::Response user_response(const store::UserRecord& u) {
  return json_response(200, json::object{{"user", to_json(u)}});
}

R get_me(Ctx& c) { co_return user_response(c.user->user); }

R update_me(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  store::UserPatch patch;
  users::read_profile_fields(r, patch);
  auto image_file = r.string("image_file_id", false, 1, 64);
  PARLEY_CO_TRY(r.finish());
  if (image_file && patch.image_url) co_return violates("image_file_id", "give image_url or image_file_id, not both");
  const std::string& me = c.user->user.id;
  std::string previous_url = c.user->user.image_url;
  if (image_file) {
    auto base = public_base(c);
    PARLEY_CO_ASSIGN_OR_RETURN(auto url, co_await on_db(c.s, [&] {
                                 return c.s.files.image_url(*c.app, me, *image_file, files::Purpose::avatar, base);
                               }));
    patch.image_url = std::move(url);
  }
  PARLEY_CO_ASSIGN_OR_RETURN(auto u, co_await on_db(c.s, [&] { return c.s.users.update(c.app_id(), me, patch); }));
  if (image_file) {
    auto st = co_await services::on_files(
        c.s, [&] { return c.s.files.image_used(*c.app, *image_file, files::Purpose::avatar, me, previous_url); });
    if (!st) co_return std::move(st).error();
  }
  c.s.chat.announce_user(bus::EventType::user_updated, c.app_id(), u.id, to_json(u));
  co_return user_response(u);
}

R get_user(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto u,
                             co_await on_db(c.s, [&] { return c.s.users.get(c.app_id(), c.param("user_id")); }));
  co_return user_response(u);
}

R list_users(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit, c.limit());
  PARLEY_CO_ASSIGN_OR_RETURN(auto cursor, c.cursor());
  std::string q(c.req.param("q").value_or(""));
  if (q.size() > 100) co_return Error{Errc::validation_failed, "query parameter 'q' is longer than 100 bytes"};
  bool include_deactivated = false;
  if (auto v = c.req.param("include_deactivated")) {
    if (*v != "true" && *v != "false") {
      co_return Error{Errc::invalid_request, "query parameter 'include_deactivated' must be true or false"};
    }
    include_deactivated = *v == "true";
    if (include_deactivated && c.user) {
      co_return Error{Errc::forbidden, "include_deactivated needs app credentials"};
    }
  }
  auto users =
      co_await on_db(c.s, [&] { return c.s.users.list(c.app_id(), q, cursor, limit + 1, include_deactivated); });
  if (!users) co_return std::move(users).error();
  co_return json_response(
      200, page_of(
               *users, limit, [](const auto& u) { return to_json(u); }, [](const auto& u) { return u.id; }));
}

R set_active(Ctx& c, bool active) {
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto u, co_await on_db(c.s, [&] { return c.s.users.set_active(c.app_id(), c.param("user_id"), active); }));
  c.s.chat.announce_user(active ? bus::EventType::user_reactivated : bus::EventType::user_deactivated, c.app_id(), u.id,
                         to_json(u));
  if (!active && c.s.disconnect) c.s.disconnect(c.app_id(), u.id, 4003);
  co_return user_response(u);
}

R deactivate(Ctx& c) { return set_active(c, false); }
R reactivate(Ctx& c) { return set_active(c, true); }

}  // namespace

void add_user_routes(Router& r) {
  r.add({"GET", "/v1/users/me", Access::user, true, get_me});
  r.add({"PATCH", "/v1/users/me", Access::user, true, update_me});
  r.add({"GET", "/v1/users", Access::user_or_app, true, list_users});
  r.add({"GET", "/v1/users/{user_id}", Access::user_or_app, true, get_user});
  r.add({"POST", "/v1/users/{user_id}/deactivate", Access::app, true, deactivate});
  r.add({"POST", "/v1/users/{user_id}/reactivate", Access::app, true, reactivate});
}

}  // namespace parley::api
