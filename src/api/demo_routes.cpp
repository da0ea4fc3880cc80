// POST /v1/demo/session: the web app's "pick a demo user" in development. Answers only while
// the server runs with --demo and the demo app exists, and only for alice, bob and carol of
// that app. Turn --demo off in production (the README says so).
#include "api/errors.hpp"
#include "api/routes.hpp"
#include "api/serialize.hpp"
#include "core/json_reader.hpp"
#include "services/on_db.hpp"

// GCC 12 warns of a mismatched operator delete for an Asio coroutine frame here that is not
// there (the -Wmismatched-new-delete false positive realtime/gateway.cpp describes).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace parley::api {

namespace {

using boost::asio::awaitable;
using R = awaitable<Result<net::Response>>;

R demo_session(Ctx& c) {
  if (c.s.demo_app_id.empty()) co_return Error{Errc::not_found, "demo mode is off"};
  auto body = c.body();
  if (!body) co_return std::move(body).error();
  ObjectReader r(*body);
  auto user = r.string("user_id", true, 1, 64);
  PARLEY_CO_TRY(r.finish());
  if (*user != "alice" && *user != "bob" && *user != "carol") {
    co_return violates("user_id", "must be one of the demo users: alice, bob, carol");
  }
  auto app = co_await on_db(c.s, [&] { return c.s.tenancy.get_app(c.s.demo_app_id); });
  if (!app) co_return Error{Errc::not_found, "the demo app no longer exists"};
  auto pair = co_await on_db(c.s, [&] { return c.s.tokens.mint(**app, *user, {}, std::nullopt); });
  if (!pair) co_return std::move(pair).error();
  co_return json_response(200, to_json(*pair));
}

}  // namespace

void add_demo_routes(Router& r) { r.add({"POST", "/v1/demo/session", Access::none, true, demo_session}); }

}  // namespace parley::api
