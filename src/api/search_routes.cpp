// Search (docs/search.md): messages, channels, suggestions for a search box, recent queries.
// User tokens.
#include <boost/json/array.hpp>

#include "api/errors.hpp"
#include "api/params.hpp"
#include "api/routes.hpp"
#include "api/serialize.hpp"
#include "chat/chat_json.hpp"
#include "core/time.hpp"
#include "search/search_service.hpp"
#include "services/on_db.hpp"

// GCC 12 warns of a mismatched operator delete for an Asio coroutine frame here that is not
// there (the -Wmismatched-new-delete false positive realtime/gateway.cpp describes).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace parley::api {

namespace {

using boost::asio::awaitable;
namespace json = boost::json;
using R = awaitable<Result<net::Response>>;

constexpr std::size_t kMaxListed = 100;  // channel ids or user ids in one filter

// ?name=a,b,c as a list of non-empty values, at most kMaxListed.
Result<std::vector<std::string>> list_param(const Ctx& c, std::string_view name) {
  std::vector<std::string> out;
  auto raw = c.req.param(name);
  if (!raw) return out;
  std::string_view rest = *raw;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    if (item.empty() || item.size() > 128) return bad_param(name, "must be a comma-separated list of ids");
    out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
    if (rest.empty()) return bad_param(name, "must be a comma-separated list of ids");
  }
  if (out.empty()) return bad_param(name, "must be a comma-separated list of ids");
  if (out.size() > kMaxListed) return bad_param(name, "lists more than " + std::to_string(kMaxListed) + " ids");
  return out;
}

Result<std::optional<TimeMs>> time_param(const Ctx& c, std::string_view name) {
  auto raw = c.req.param(name);
  if (!raw) return std::optional<TimeMs>{};
  auto t = parse_time(*raw);
  if (!t) return bad_param(name, "must be an RFC 3339 time, like 2026-01-31T12:00:00Z");
  return std::optional<TimeMs>{*t};
}

Result<bool> true_param(const Ctx& c, std::string_view name) {
  PARLEY_ASSIGN_OR_RETURN(auto v, bool_param(c, name));
  return v.value_or(false);
}

Result<std::string> text_param(const Ctx& c, std::string_view name, bool required, std::size_t max) {
  auto raw = c.req.param(name);
  if (!raw) {
    if (required) return bad_param(name, "is required");
    return std::string();
  }
  if (raw->size() > max) return bad_param(name, "is longer than " + std::to_string(max) + " bytes");
  if (raw->find('\0') != std::string_view::npos) return bad_param(name, "holds a NUL character");
  return std::string(*raw);
}

json::object snippet_json(const search::Snippet& s) {
  json::array marks;
  for (auto [start, end] : s.highlights) marks.push_back(json::object{{"start", start}, {"end", end}});
  return {{"text", s.text}, {"highlights", std::move(marks)}};
}

R search_messages(Ctx& c) {
  search::MessageQuery q;
  q.app_id = c.app_id();
  q.user_id = c.user->user.id;
  auto raw = c.req.param("q");
  if (!raw) co_return bad_param("q", "is required");
  if (raw->find('\0') != std::string_view::npos) co_return bad_param("q", "holds a NUL character");
  PARLEY_CO_ASSIGN_OR_RETURN(q.query, search::parse_query(*raw));
  PARLEY_CO_ASSIGN_OR_RETURN(q.channel_ids, list_param(c, "channel_id"));
  PARLEY_CO_ASSIGN_OR_RETURN(q.from_users, list_param(c, "from"));
  PARLEY_CO_ASSIGN_OR_RETURN(q.after, time_param(c, "after"));
  PARLEY_CO_ASSIGN_OR_RETURN(q.before, time_param(c, "before"));
  PARLEY_CO_ASSIGN_OR_RETURN(auto has, list_param(c, "has"));
  for (const auto& h : has) {
    if (h == "attachment") {
      q.has_attachment = true;
    } else if (h == "link") {
      q.has_link = true;
    } else {
      co_return bad_param("has", "takes attachment and link");
    }
  }
  PARLEY_CO_ASSIGN_OR_RETURN(q.in_thread, bool_param(c, "in_thread"));
  PARLEY_CO_ASSIGN_OR_RETURN(q.mentions_me, true_param(c, "mentions_me"));
  PARLEY_CO_ASSIGN_OR_RETURN(q.pinned, true_param(c, "pinned"));
  PARLEY_CO_ASSIGN_OR_RETURN(q.saved, true_param(c, "saved"));
  PARLEY_CO_ASSIGN_OR_RETURN(q.include_public, true_param(c, "include_public"));
  if (auto sort = c.req.param("sort")) {
    if (*sort == "relevance") {
      q.sort = search::Sort::relevance;
    } else if (*sort == "newest") {
      q.sort = search::Sort::newest;
    } else {
      co_return bad_param("sort", "must be relevance or newest");
    }
  }
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit, int_param(c, "limit", 1, 50));
  q.limit = static_cast<int>(limit.value_or(20));
  PARLEY_CO_ASSIGN_OR_RETURN(q.cursor, c.cursor());
  PARLEY_CO_ASSIGN_OR_RETURN(auto remember, bool_param(c, "remember"));
  q.language = c.app->settings.search_language;
  std::string typed(*raw);
  auto res = co_await on_db(c.s, [&]() -> Result<search::MessageResults> {
    PARLEY_ASSIGN_OR_RETURN(auto found, c.s.search.messages(q));
    if (q.cursor.empty() && remember.value_or(true))
      PARLEY_TRY(c.s.search.remember(q.app_id, q.user_id, typed, now_ms()));
    return found;
  });
  if (!res) co_return std::move(res).error();
  json::array items;
  for (const auto& h : res->hits) {
    items.push_back(json::object{{"message", chat::to_json(h.message, {}, false)},
                                 {"channel", json::object{{"id", h.message.channel_id},
                                                          {"type", store::channel_type_name(h.channel_type)},
                                                          {"name", h.channel_name}}},
                                 {"snippet", snippet_json(h.snippet)},
                                 {"score", h.score}});
  }
  auto body = page(std::move(items), res->next_cursor);
  body["total"] = json::object{{"count", res->total}, {"exact", res->exact}};
  co_return json_response(200, body);
}

json::array channels_json(const std::vector<store::ChannelRecord>& channels) {
  json::array out;
  for (const auto& ch : channels) out.push_back(chat::to_json(ch));
  return out;
}

R search_channels(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto q, text_param(c, "q", false, 100));
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit, int_param(c, "limit", 1, 50));
  PARLEY_CO_ASSIGN_OR_RETURN(auto res, co_await on_db(c.s, [&] {
                               return c.s.search.channels(c.app_id(), c.user->user.id, q,
                                                          static_cast<int>(limit.value_or(20)), true);
                             }));
  co_return json_response(200, json::object{{"mine", channels_json(res.mine)}, {"public", channels_json(res.others)}});
}

R suggest(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto q, text_param(c, "q", false, 100));
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit_param, int_param(c, "limit", 1, 20));
  int limit = static_cast<int>(limit_param.value_or(5));
  struct Found {
    std::vector<store::UserRecord> users;
    search::ChannelResults channels;
    std::vector<search::RecentQuery> recent;
  };
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto found, co_await on_db(c.s, [&]() -> Result<Found> {
        Found f;
        PARLEY_ASSIGN_OR_RETURN(f.users, c.s.users.list(c.app_id(), q, "", limit, false));
        PARLEY_ASSIGN_OR_RETURN(f.channels, c.s.search.channels(c.app_id(), c.user->user.id, q, limit, false));
        PARLEY_ASSIGN_OR_RETURN(f.recent, c.s.search.recent(c.app_id(), c.user->user.id, q, limit));
        return f;
      }));
  json::array users, recent;
  for (const auto& u : found.users) users.push_back(to_json(u));
  for (const auto& r : found.recent) recent.push_back(json::object{{"query", r.query}, {"at", format_time(r.at)}});
  co_return json_response(200, json::object{{"users", std::move(users)},
                                            {"channels", channels_json(found.channels.mine)},
                                            {"recent", std::move(recent)}});
}

R forget_recent(Ctx& c) {
  PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.search.forget_recent(c.app_id(), c.user->user.id); }));
  co_return no_content();
}

}  // namespace

void add_search_routes(Router& r) {
  r.add({"GET", "/v1/search/messages", Access::user, true, search_messages});
  r.add({"GET", "/v1/search/channels", Access::user, true, search_channels});
  r.add({"GET", "/v1/search/suggest", Access::user, true, suggest});
  r.add({"DELETE", "/v1/search/recent", Access::user, true, forget_recent});
}

}  // namespace parley::api
