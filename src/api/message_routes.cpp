// Messages, threads, reactions, read state, pins, saved messages, mentions and sync.
// User tokens, except purge (app credentials).
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <limits>

#include "api/errors.hpp"
#include "api/params.hpp"
#include "api/routes.hpp"
#include "api/serialize.hpp"
#include "chat/chat_json.hpp"
#include "core/json_reader.hpp"
#include "services/message_fields.hpp"
#include "services/message_files.hpp"
#include "services/on_db.hpp"

namespace parley::api {

using chat::messages_json;
using chat::to_json;

namespace {

using boost::asio::awaitable;
namespace json = boost::json;
using R = awaitable<Result<net::Response>>;

constexpr std::size_t kMaxReactionType = 64;
constexpr std::int64_t kMaxSeq = std::numeric_limits<std::int64_t>::max() / 2;
constexpr std::size_t kMaxSyncChannels = 500;

net::Response message_response(int status, const chat::MessagePage& p, std::optional<bool> duplicate = {}) {
  json::object o{{"message", messages_json(p, false).at(0)}};
  if (duplicate) o["duplicate"] = *duplicate;
  return json_response(status, o);
}

R send(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  chat::OutgoingMessage msg;
  services::read_outgoing_message(r, body, msg);
  PARLEY_CO_TRY(r.finish());
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto sent, co_await services::send_with_files(c.s, c.caller(), c.param("channel_id"), std::move(msg)));
  chat::MessagePage p;
  p.items.push_back(std::move(sent.message));
  co_return message_response(sent.duplicate ? 200 : 201, p, sent.duplicate);
}

R history(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit, c.limit());
  PARLEY_CO_ASSIGN_OR_RETURN(auto after, int_param(c, "after_seq", 0, kMaxSeq));
  PARLEY_CO_ASSIGN_OR_RETURN(auto before, int_param(c, "before_seq", 1, kMaxSeq));
  PARLEY_CO_ASSIGN_OR_RETURN(auto preview, bool_param(c, "preview"));
  if (after && before) co_return Error{Errc::invalid_request, "give after_seq or before_seq, not both"};
  auto p =
      co_await on_db(c.s, [&] { return c.s.chat.history(c.caller(), c.param("channel_id"), after, before, limit); });
  if (!p) co_return std::move(p).error();
  co_return json_response(
      200, json::object{{"items", messages_json(*p, preview.value_or(false))}, {"has_more", p->has_more}});
}

R get_message(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto seq, seq_param(c));
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto p, co_await on_db(c.s, [&] { return c.s.chat.get_message(c.caller(), c.param("channel_id"), seq); }));
  co_return message_response(200, p);
}

R edit(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto seq, seq_param(c));
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  auto text = r.string("text", true, 0, 1 << 20);
  std::size_t count = 0;
  auto attachments = services::read_attachments(r, body, count);
  PARLEY_CO_TRY(r.finish());
  auto p = co_await services::edit_with_files(c.s, c.caller(), c.param("channel_id"), seq, *text, attachments);
  if (!p) co_return std::move(p).error();
  co_return message_response(200, *p);
}

R delete_message(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto seq, seq_param(c));
  PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.chat.delete_message(c.caller(), c.param("channel_id"), seq); }));
  co_await services::release_message_files(c.s, c.app_id(), c.param("channel_id"), seq);
  co_return no_content();
}

R purge(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto seq, seq_param(c));
  PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.chat.purge(c.app_id(), c.param("channel_id"), seq); }));
  co_await services::release_message_files(c.s, c.app_id(), c.param("channel_id"), seq);
  co_return no_content();
}

R replies(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto seq, seq_param(c));
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit, c.limit());
  PARLEY_CO_ASSIGN_OR_RETURN(auto after, int_param(c, "after_seq", 0, kMaxSeq));
  PARLEY_CO_ASSIGN_OR_RETURN(auto p, co_await on_db(c.s, [&] {
                               return c.s.chat.replies(c.caller(), c.param("channel_id"), seq, after.value_or(0),
                                                       limit);
                             }));
  co_return json_response(200, json::object{{"items", messages_json(p, false)}, {"has_more", p.has_more}});
}

R react(Ctx& c, const std::string& type, bool on) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto seq, seq_param(c));
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto p, co_await on_db(c.s, [&] { return c.s.chat.react(c.caller(), c.param("channel_id"), seq, type, on); }));
  co_return message_response(200, p);
}

R add_reaction(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  auto type = r.string("type", true, 1, kMaxReactionType);
  PARLEY_CO_TRY(r.finish());
  co_return co_await react(c, *type, true);
}

R remove_reaction(Ctx& c) {
  std::string type = c.param("type");
  if (type.size() > kMaxReactionType) co_return violates("type", "longer than 64 bytes");
  co_return co_await react(c, type, false);
}

R seen_by(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto seq, seq_param(c));
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto ids, co_await on_db(c.s, [&] { return c.s.chat.seen_by(c.caller(), c.param("channel_id"), seq); }));
  json::array list;
  for (const auto& id : ids) list.emplace_back(id);
  co_return json_response(200, json::object{{"user_ids", std::move(list)}});
}

R mark_read(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body(true));
  ObjectReader r(body);
  auto seq = r.integer("seq", false, 0, kMaxSeq);
  PARLEY_CO_TRY(r.finish());
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto res, co_await on_db(c.s, [&] { return c.s.chat.mark_read(c.caller(), c.param("channel_id"), seq); }));
  co_return json_response(200, json::object{{"last_read_seq", res.first}, {"unread_count", res.second}});
}

R pin(Ctx& c, bool on) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto seq, seq_param(c));
  PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.chat.pin(c.caller(), c.param("channel_id"), seq, on); }));
  co_return no_content();
}
R put_pin(Ctx& c) { return pin(c, true); }
R delete_pin(Ctx& c) { return pin(c, false); }

R list_pins(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto p,
                             co_await on_db(c.s, [&] { return c.s.chat.pins(c.caller(), c.param("channel_id")); }));
  co_return json_response(200, json::object{{"items", messages_json(p, false)}});
}

R save(Ctx& c, bool on) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto seq, seq_param(c));
  PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.chat.save(c.caller(), c.param("channel_id"), seq, on); }));
  co_return no_content();
}
R put_saved(Ctx& c) { return save(c, true); }
R delete_saved(Ctx& c) { return save(c, false); }

R flagged(Ctx& c, store::MessageFlag flag, bool unread_only) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit, c.limit());
  PARLEY_CO_ASSIGN_OR_RETURN(auto cursor, c.cursor());
  std::optional<store::FlagCursor> after;
  if (!cursor.empty()) {
    boost::system::error_code ec;
    auto v = json::parse(cursor, ec);
    if (ec || !v.is_array() || v.as_array().size() != 3 || !v.as_array()[0].is_int64() ||
        !v.as_array()[1].is_string() || !v.as_array()[2].is_int64()) {
      Error e{Errc::invalid_request, "query parameter 'cursor' is not a cursor this server issued"};
      co_return e.with("parameter", "cursor");
    }
    const auto& a = v.as_array();
    after = store::FlagCursor{a[0].as_int64(), std::string(a[1].as_string()), a[2].as_int64()};
  }
  PARLEY_CO_ASSIGN_OR_RETURN(auto rows, co_await on_db(c.s, [&] {
                               return c.s.chat.flagged(c.caller(), flag, unread_only, after, limit + 1);
                             }));
  co_return json_response(
      200, page_of(
               rows, limit, [](const auto& row) { return to_json(row.message, {}, false); },
               [](const auto& row) {
                 return json::serialize(json::array{json::value(row.flagged_at), json::value(row.message.channel_id),
                                                    json::value(row.message.seq)});
               }));
}

R list_saved(Ctx& c) { return flagged(c, store::MessageFlag::saved, false); }

R list_mentions(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto unread_only, bool_param(c, "unread_only"));
  co_return co_await flagged(c, store::MessageFlag::mentioned, unread_only.value_or(true));
}

R sync(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  chat::SyncRequest req;
  auto channels = r.object("channels", true, 1 << 20);
  auto since = r.string("since", false, 1, 64);
  req.limit_per_channel = static_cast<int>(r.integer("limit_per_channel", false, 1, 500).value_or(100));
  PARLEY_CO_TRY(r.finish());
  if (channels->size() > kMaxSyncChannels) co_return violates("channels", "at most 500 channels a call");
  for (const auto& kv : *channels) {
    if (!kv.value().is_int64() || kv.value().as_int64() < 0) {
      co_return invalid("channels", "maps channel ids to the last seq the client has (an integer >= 0)");
    }
    req.channels.emplace(std::string(kv.key()), kv.value().as_int64());
  }
  if (since) {
    auto decoded = open_cursor(*since);
    std::int64_t version = -1;
    if (decoded) {
      try {
        version = std::stoll(*decoded);
      } catch (const std::exception&) {
        version = -1;
      }
    }
    if (version < 0) co_return violates("since", "is not a cursor this server issued");
    req.since = version;
  }
  PARLEY_CO_ASSIGN_OR_RETURN(auto res, co_await on_db(c.s, [&] { return c.s.chat.sync(c.caller(), req); }));
  json::object chans;
  for (const auto& [id, p] : res.channels) {
    chans[id] = json::object{{"messages", messages_json(p, false)}, {"has_more", p.has_more}};
  }
  json::array added, updated, removed;
  for (const auto& v : res.changes.added) added.push_back(to_json(v));
  for (const auto& v : res.changes.updated) updated.push_back(to_json(v));
  for (const auto& id : res.changes.removed) removed.emplace_back(id);
  co_return json_response(200, json::object{{"channels", std::move(chans)},
                                            {"changes", json::object{{"added", std::move(added)},
                                                                     {"updated", std::move(updated)},
                                                                     {"removed", std::move(removed)}}},
                                            {"cursor", make_cursor(std::to_string(res.changes.cursor))}});
}

}  // namespace

void add_message_routes(Router& r) {
  r.add({"POST", "/v1/channels/{channel_id}/messages", Access::user, true, send});
  r.add({"GET", "/v1/channels/{channel_id}/messages", Access::user, true, history});
  r.add({"GET", "/v1/channels/{channel_id}/messages/{seq}", Access::user, true, get_message});
  r.add({"PATCH", "/v1/channels/{channel_id}/messages/{seq}", Access::user, true, edit});
  r.add({"DELETE", "/v1/channels/{channel_id}/messages/{seq}", Access::user, true, delete_message});
  r.add({"POST", "/v1/channels/{channel_id}/messages/{seq}/purge", Access::app, true, purge});
  r.add({"GET", "/v1/channels/{channel_id}/messages/{seq}/replies", Access::user, true, replies});
  r.add({"POST", "/v1/channels/{channel_id}/messages/{seq}/reactions", Access::user, true, add_reaction});
  r.add({"DELETE", "/v1/channels/{channel_id}/messages/{seq}/reactions/{type}", Access::user, true, remove_reaction});
  r.add({"GET", "/v1/channels/{channel_id}/messages/{seq}/seen-by", Access::user, true, seen_by});
  r.add({"POST", "/v1/channels/{channel_id}/read", Access::user, true, mark_read});
  r.add({"PUT", "/v1/channels/{channel_id}/pins/{seq}", Access::user, true, put_pin});
  r.add({"DELETE", "/v1/channels/{channel_id}/pins/{seq}", Access::user, true, delete_pin});
  r.add({"GET", "/v1/channels/{channel_id}/pins", Access::user, true, list_pins});
  r.add({"PUT", "/v1/saved/{channel_id}/{seq}", Access::user, true, put_saved});
  r.add({"DELETE", "/v1/saved/{channel_id}/{seq}", Access::user, true, delete_saved});
  r.add({"GET", "/v1/saved", Access::user, true, list_saved});
  r.add({"GET", "/v1/mentions", Access::user, true, list_mentions});
  r.add({"POST", "/v1/sync", Access::user, true, sync});
}

}  // namespace parley::api
