// /v1/auth/*: token minting (app credentials), refresh, logout; revoking a user's tokens.
#include <boost/json/object.hpp>

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

Result<std::string> valid_user_id(std::optional<std::string> id, ObjectReader& r) {
  PARLEY_TRY(r.finish());
  if (!valid_external_id(*id)) return violates("user_id", "must be 1-64 characters of A-Z a-z 0-9 _ - . @");
  return std::move(*id);
}

R mint(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  auto user_id = r.string("user_id", true, 0, 1024);
  store::UserPatch profile;
  users::read_profile_fields(r, profile);
  profile.bot = r.boolean("bot", false);
  auto ttl = r.integer("ttl_seconds", false, 60, 86400);
  PARLEY_CO_ASSIGN_OR_RETURN(auto id, valid_user_id(user_id, r));
  PARLEY_CO_ASSIGN_OR_RETURN(auto pair, co_await on_db(c.s, [&] { return c.s.tokens.mint(*c.app, id, profile, ttl); }));
  co_return json_response(200, to_json(pair));
}

Result<std::string> read_refresh_token(const Ctx& c) {
  PARLEY_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  auto token = r.string("refresh_token", true, 1, 256);
  PARLEY_TRY(r.finish());
  return std::move(*token);
}

R refresh(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto token, read_refresh_token(c));
  PARLEY_CO_ASSIGN_OR_RETURN(auto pair, co_await on_db(c.s, [&] { return c.s.tokens.refresh(token); }));
  co_return json_response(200, to_json(pair));
}

R logout(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto token, read_refresh_token(c));
  PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.tokens.logout(token); }));
  co_return no_content();
}

R revoke_tokens(Ctx& c) {
  PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.tokens.revoke_user(c.app_id(), c.param("user_id")); }));
  if (c.s.disconnect) c.s.disconnect(c.app_id(), c.param("user_id"), 4001);
  co_return no_content();
}

}  // namespace

void add_auth_routes(Router& r) {
  r.add({"POST", "/v1/auth/token", Access::app, true, mint});
  r.add({"POST", "/v1/auth/refresh", Access::none, true, refresh});
  r.add({"POST", "/v1/auth/logout", Access::none, true, logout});
  r.add({"POST", "/v1/users/{user_id}/revoke-tokens", Access::app, true, revoke_tokens});
}

}  // namespace parley::api
