// /v1/presence and /v1/channels/{channel_id}/online: who is connected right now (this node's
// realtime sessions, with the presence grace period) and when users were last seen.
#include <boost/json/array.hpp>

#include "api/errors.hpp"
#include "api/routes.hpp"
#include "core/json_reader.hpp"
#include "services/on_db.hpp"

namespace parley::api {

namespace {

using boost::asio::awaitable;
namespace json = boost::json;
using R = awaitable<Result<net::Response>>;
constexpr std::size_t kMaxPresenceIds = 100;

R presence(Ctx& c) {
  std::string raw(c.req.param("user_ids").value_or(""));
  std::vector<std::string> ids;
  std::size_t i = 0;
  while (i < raw.size()) {
    auto j = raw.find(',', i);
    if (j == std::string::npos) j = raw.size();
    std::string id = raw.substr(i, j - i);
    if (!valid_external_id(id)) {
      Error e{Errc::invalid_request, "query parameter 'user_ids' must be comma-separated user ids"};
      co_return e.with("parameter", "user_ids");
    }
    ids.push_back(id);
    i = j + 1;
  }
  if (ids.empty() || ids.size() > kMaxPresenceIds) {
    Error e{Errc::invalid_request, "query parameter 'user_ids' must name 1 to 100 users"};
    co_return e.with("parameter", "user_ids");
  }
  json::array items;
  for (const auto& id : ids) {
    auto u = co_await on_db(c.s, [&] { return c.s.store.get_user(c.app_id(), id); });
    if (!u) {
      if (u.error().code == Errc::not_found) continue;  // unknown users are simply absent
      co_return std::move(u).error();
    }
    bool online = c.s.online && c.s.online(c.app_id(), id);
    items.push_back(json::object{
        {"user_id", id},
        {"online", online},
        {"last_seen_at", u->last_seen_at ? json::value(format_time(*u->last_seen_at)) : json::value(nullptr)}});
  }
  co_return json_response(200, json::object{{"items", std::move(items)}});
}

R channel_online(Ctx& c) {
  auto members =
      co_await on_db(c.s, [&] { return c.s.chat.list_members(c.caller(), c.param("channel_id"), "", 100000); });
  if (!members) co_return std::move(members).error();
  json::array online;
  for (const auto& m : *members) {
    if (c.s.online && c.s.online(c.app_id(), m.user_id)) online.emplace_back(m.user_id);
  }
  co_return json_response(200, json::object{{"user_ids", std::move(online)}});
}

}  // namespace

void add_presence_routes(Router& r) {
  r.add({"GET", "/v1/presence", Access::user_or_app, true, presence});
  r.add({"GET", "/v1/channels/{channel_id}/online", Access::user, true, channel_online});
}

}  // namespace parley::api
