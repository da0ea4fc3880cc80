// /v1/channels (channels, members, membership) and /v1/users/me/blocks. User tokens.
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/errors.hpp"
#include "api/params.hpp"
#include "api/routes.hpp"
#include "api/serialize.hpp"
#include "chat/chat_json.hpp"
#include "chat/permissions.hpp"
#include "core/json_reader.hpp"
#include "services/message_files.hpp"
#include "services/on_db.hpp"
#include "users/user_fields.hpp"

namespace parley::api {

using chat::to_json;

namespace {

using boost::asio::awaitable;
namespace json = boost::json;
using R = awaitable<Result<net::Response>>;

constexpr std::size_t kMaxChannelName = 100;
constexpr std::size_t kMaxTopic = 500;
constexpr std::size_t kMaxIdsPerCall = 100;

net::Response channel_response(int status, const store::ChannelView& v, std::optional<bool> created = {}) {
  json::object o{{"channel", to_json(v)}};
  if (created) o["created"] = *created;
  return json_response(status, o);
}

// Reads ["a","b"] of user ids (1..max) from field `key`.
std::optional<std::vector<std::string>> read_ids(ObjectReader& r, const json::object& body, std::string_view key,
                                                 bool required, std::size_t min_count) {
  if (!r.has(key)) {
    if (required) r.fail(invalid(std::string(key), "is required"));
    return std::nullopt;
  }
  const auto& v = body.at(key);
  std::vector<std::string> ids;
  if (!v.is_array()) {
    r.fail(invalid(std::string(key), "expected an array of user ids"));
    r.skip(key);
    return std::nullopt;
  }
  for (const auto& item : v.as_array()) {
    if (!item.is_string()) {
      r.fail(invalid(std::string(key), "expected an array of user ids"));
      break;
    }
    if (!valid_external_id(item.as_string())) r.fail(violates(std::string(key), "holds an invalid user id"));
    ids.emplace_back(item.as_string());
  }
  if (ids.size() < min_count || ids.size() > kMaxIdsPerCall) {
    r.fail(violates(std::string(key),
                    "must hold " + std::to_string(min_count) + " to " + std::to_string(kMaxIdsPerCall) + " user ids"));
  }
  r.skip(key);
  return ids;
}

// Opaque composite cursors: a JSON array inside the server's cursor envelope.
std::string array_cursor(const json::array& a) { return json::serialize(a); }
std::optional<json::array> read_array_cursor(const std::string& s) {
  boost::system::error_code ec;
  auto v = json::parse(s, ec);
  if (ec || !v.is_array()) return std::nullopt;
  return v.as_array();
}
std::string lower_name(std::string name) {
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return name;
}
// A role from a request: a name this server knows and that can be granted (not owner).
Result<store::Role> granted_role(std::string_view name) {
  auto role = store::parse_role(name);
  if (!role || !chat::grantable(*role)) return violates("role", "must be member, moderator or admin");
  return *role;
}
Error bad_cursor() {
  Error e{Errc::invalid_request, "query parameter 'cursor' is not a cursor this server issued"};
  return e.with("parameter", "cursor");
}

R create_channel(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  chat::NewChannel spec;
  auto type = r.string("type", true, 1, 16);
  auto name = r.string("name", true, 1, kMaxChannelName);
  auto topic = r.string("topic", false, 0, kMaxTopic);
  store::UserPatch look;  // image_url and custom share the profile rules
  users::read_image_and_custom(r, look);
  auto members = read_ids(r, body, "members", false, 0);
  PARLEY_CO_TRY(r.finish());
  auto parsed_type = store::parse_channel_type(*type);
  if (!parsed_type || *parsed_type == store::ChannelType::dm) {
    co_return violates("type", "must be 'group' or 'public' (use POST /v1/channels/dm for direct messages)");
  }
  spec.type = *parsed_type;
  spec.name = *name;
  spec.topic = topic.value_or("");
  spec.image_url = look.image_url.value_or("");
  spec.custom_json = look.custom_json.value_or("{}");
  spec.members = members.value_or(std::vector<std::string>{});
  PARLEY_CO_ASSIGN_OR_RETURN(auto v, co_await on_db(c.s, [&] { return c.s.chat.create_channel(c.caller(), spec); }));
  co_return channel_response(201, v);
}

R ensure_dm(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  auto other = r.string("user_id", true, 1, 64);
  PARLEY_CO_TRY(r.finish());
  PARLEY_CO_ASSIGN_OR_RETURN(auto res, co_await on_db(c.s, [&] { return c.s.chat.ensure_dm(c.caller(), *other); }));
  co_return channel_response(res.second ? 201 : 200, res.first, res.second);
}

R list_channels(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit, c.limit());
  PARLEY_CO_ASSIGN_OR_RETURN(auto cursor, c.cursor());
  PARLEY_CO_ASSIGN_OR_RETURN(auto hidden, bool_param(c, "include_hidden"));
  std::optional<store::ChannelType> type;
  if (auto t = c.req.param("type")) {
    type = store::parse_channel_type(*t);
    if (!type) co_return Error{Errc::invalid_request, "query parameter 'type' must be dm, group or public"};
  }
  std::optional<store::ActivityCursor> after;
  if (!cursor.empty()) {
    auto a = read_array_cursor(cursor);
    if (!a || a->size() != 2 || !(*a)[0].is_int64() || !(*a)[1].is_string()) co_return bad_cursor();
    after = store::ActivityCursor{(*a)[0].as_int64(), std::string((*a)[1].as_string())};
  }
  PARLEY_CO_ASSIGN_OR_RETURN(auto views, co_await on_db(c.s, [&] {
                               return c.s.chat.list_channels(c.caller(), type, hidden.value_or(false), after,
                                                             limit + 1);
                             }));
  co_return json_response(200,
                          page_of(
                              views, limit, [](const auto& v) { return to_json(v); },
                              [](const auto& v) {
                                return array_cursor({json::value(v.channel.activity_at), json::value(v.channel.id)});
                              }));
}

R list_public(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit, c.limit());
  PARLEY_CO_ASSIGN_OR_RETURN(auto cursor, c.cursor());
  std::string q(c.req.param("q").value_or(""));
  if (q.size() > kMaxChannelName) co_return Error{Errc::validation_failed, "query parameter 'q' is too long"};
  std::optional<std::pair<std::string, std::string>> after;
  if (!cursor.empty()) {
    auto a = read_array_cursor(cursor);
    if (!a || a->size() != 2 || !(*a)[0].is_string() || !(*a)[1].is_string()) co_return bad_cursor();
    after = std::pair{std::string((*a)[0].as_string()), std::string((*a)[1].as_string())};
  }
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto chans, co_await on_db(c.s, [&] { return c.s.chat.list_public(c.caller(), q, after, limit + 1); }));
  co_return json_response(200, page_of(
                                   chans, limit, [](const auto& ch) { return to_json(ch); },
                                   [](const auto& ch) {
                                     return array_cursor({json::value(lower_name(ch.name)), json::value(ch.id)});
                                   }));
}

R unread(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto t, co_await on_db(c.s, [&] { return c.s.chat.unread(c.caller()); }));
  co_return json_response(200, json::object{{"unread_count", t.unread_count},
                                            {"unread_mentions", t.unread_mentions},
                                            {"channels_with_unread", t.channels_with_unread}});
}

R get_channel(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto v, co_await on_db(c.s, [&] { return c.s.chat.get_channel(c.caller(), c.param("channel_id")); }));
  co_return channel_response(200, v);
}

R update_channel(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  chat::ChannelPatch patch;
  patch.topic = r.string("topic", false, 0, kMaxTopic);
  patch.name = r.string("name", false, 1, kMaxChannelName);
  store::UserPatch look;
  users::read_image_and_custom(r, look);
  auto image_file = r.string("image_file_id", false, 1, 64);
  PARLEY_CO_TRY(r.finish());
  if (image_file && look.image_url) co_return violates("image_file_id", "give image_url or image_file_id, not both");
  patch.image_url = look.image_url;
  patch.custom_json = look.custom_json;
  const std::string& channel_id = c.param("channel_id");
  std::string previous_url;
  if (image_file) {
    PARLEY_CO_ASSIGN_OR_RETURN(auto before,
                               co_await on_db(c.s, [&] { return c.s.chat.get_channel(c.caller(), channel_id); }));
    previous_url = before.channel.image_url;
    auto base = public_base(c);
    PARLEY_CO_ASSIGN_OR_RETURN(auto url, co_await on_db(c.s, [&] {
                                 return c.s.files.image_url(*c.app, c.user->user.id, *image_file,
                                                            files::Purpose::channel_image, base);
                               }));
    patch.image_url = std::move(url);
  }
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto v, co_await on_db(c.s, [&] { return c.s.chat.update_channel(c.caller(), channel_id, patch); }));
  if (image_file) {
    auto st = co_await services::on_files(c.s, [&] {
      return c.s.files.image_used(*c.app, *image_file, files::Purpose::channel_image, channel_id, previous_url);
    });
    if (!st) co_return std::move(st).error();
  }
  co_return channel_response(200, v);
}

R set_archived(Ctx& c, bool archived) {
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto v, co_await on_db(c.s, [&] { return c.s.chat.set_archived(c.caller(), c.param("channel_id"), archived); }));
  co_return channel_response(200, v);
}
R archive(Ctx& c) { return set_archived(c, true); }
R unarchive(Ctx& c) { return set_archived(c, false); }

R delete_channel(Ctx& c) {
  PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.chat.delete_channel(c.caller(), c.param("channel_id")); }));
  co_await services::release_channel_files(c.s, c.app_id(), c.param("channel_id"));
  co_return no_content();
}

R list_members(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit, c.limit());
  PARLEY_CO_ASSIGN_OR_RETURN(auto cursor, c.cursor());
  PARLEY_CO_ASSIGN_OR_RETURN(auto members, co_await on_db(c.s, [&] {
                               return c.s.chat.list_members(c.caller(), c.param("channel_id"), cursor, limit + 1);
                             }));
  co_return json_response(
      200, page_of(
               members, limit, [](const auto& m) { return to_json(m); }, [](const auto& m) { return m.user_id; }));
}

R add_members(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  auto ids = read_ids(r, body, "user_ids", true, 1);
  auto role_text = r.string("role", false, 1, 16);
  PARLEY_CO_TRY(r.finish());
  PARLEY_CO_ASSIGN_OR_RETURN(auto role, granted_role(role_text.value_or("member")));
  PARLEY_CO_ASSIGN_OR_RETURN(auto added, co_await on_db(c.s, [&] {
                               return c.s.chat.add_members(c.caller(), c.param("channel_id"), *ids, role);
                             }));
  json::array list;
  for (const auto& id : added) list.emplace_back(id);
  co_return json_response(200, json::object{{"added", std::move(list)}});
}

R remove_member(Ctx& c) {
  PARLEY_CO_TRY(co_await on_db(
      c.s, [&] { return c.s.chat.remove_member(c.caller(), c.param("channel_id"), c.param("user_id")); }));
  co_return no_content();
}

R set_role(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  auto role_text = r.string("role", true, 1, 16);
  PARLEY_CO_TRY(r.finish());
  PARLEY_CO_ASSIGN_OR_RETURN(auto role, granted_role(*role_text));
  PARLEY_CO_ASSIGN_OR_RETURN(auto m, co_await on_db(c.s, [&] {
                               return c.s.chat.set_role(c.caller(), c.param("channel_id"), c.param("user_id"), role);
                             }));
  co_return json_response(200, json::object{{"member", to_json(m)}});
}

R join(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto m,
                             co_await on_db(c.s, [&] { return c.s.chat.join(c.caller(), c.param("channel_id")); }));
  co_return json_response(200, json::object{{"member", to_json(m)}});
}

R leave(Ctx& c) {
  PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.chat.leave(c.caller(), c.param("channel_id")); }));
  co_return no_content();
}

R update_membership(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  chat::MembershipPatch patch;
  patch.muted = r.boolean("muted", false);
  patch.starred = r.boolean("starred", false);
  patch.hidden = r.boolean("hidden", false);
  PARLEY_CO_TRY(r.finish());
  PARLEY_CO_ASSIGN_OR_RETURN(auto m, co_await on_db(c.s, [&] {
                               return c.s.chat.update_membership(c.caller(), c.param("channel_id"), patch);
                             }));
  co_return json_response(200, json::object{{"member", to_json(m)}});
}

R block(Ctx& c, bool on) {
  PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.chat.block(c.caller(), c.param("user_id"), on); }));
  co_return no_content();
}
R put_block(Ctx& c) { return block(c, true); }
R delete_block(Ctx& c) { return block(c, false); }

R list_blocks(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto list, co_await on_db(c.s, [&] { return c.s.chat.blocks(c.caller()); }));
  json::array items;
  for (const auto& [id, at] : list) items.push_back(json::object{{"user_id", id}, {"created_at", format_time(at)}});
  co_return json_response(200, json::object{{"items", std::move(items)}});
}

}  // namespace

void add_channel_routes(Router& r) {
  r.add({"POST", "/v1/channels", Access::user, true, create_channel});
  r.add({"POST", "/v1/channels/dm", Access::user, true, ensure_dm});
  r.add({"GET", "/v1/channels", Access::user, true, list_channels});
  r.add({"GET", "/v1/channels/public", Access::user, true, list_public});
  r.add({"GET", "/v1/channels/unread", Access::user, true, unread});
  r.add({"GET", "/v1/channels/{channel_id}", Access::user, true, get_channel});
  r.add({"PATCH", "/v1/channels/{channel_id}", Access::user, true, update_channel});
  r.add({"POST", "/v1/channels/{channel_id}/archive", Access::user, true, archive});
  r.add({"POST", "/v1/channels/{channel_id}/unarchive", Access::user, true, unarchive});
  r.add({"DELETE", "/v1/channels/{channel_id}", Access::user, true, delete_channel});
  r.add({"GET", "/v1/channels/{channel_id}/members", Access::user, true, list_members});
  r.add({"POST", "/v1/channels/{channel_id}/members", Access::user, true, add_members});
  r.add({"DELETE", "/v1/channels/{channel_id}/members/{user_id}", Access::user, true, remove_member});
  r.add({"PATCH", "/v1/channels/{channel_id}/members/{user_id}", Access::user, true, set_role});
  r.add({"POST", "/v1/channels/{channel_id}/join", Access::user, true, join});
  r.add({"POST", "/v1/channels/{channel_id}/leave", Access::user, true, leave});
  r.add({"PATCH", "/v1/channels/{channel_id}/membership", Access::user, true, update_membership});
  r.add({"PUT", "/v1/users/me/blocks/{user_id}", Access::user, true, put_block});
  r.add({"DELETE", "/v1/users/me/blocks/{user_id}", Access::user, true, delete_block});
  r.add({"GET", "/v1/users/me/blocks", Access::user, true, list_blocks});
}

}  // namespace parley::api
