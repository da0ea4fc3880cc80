// /v1/webhooks: an app's outgoing webhook endpoints, their secrets, test events and delivery log
// (docs/webhooks.md). App credentials (the secret API key) only.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

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

constexpr std::int64_t kMaxOverlapMs = 7LL * 86'400'000;
constexpr std::int64_t kDefaultOverlapMs = 86'400'000;
constexpr std::size_t kMaxEventTypes = 50;

json::value opt(const std::optional<std::string>& v) { return v ? json::value(*v) : json::value(nullptr); }

json::object to_json(const webhooks::Endpoint& e, bool with_secret) {
  json::array types;
  for (const auto& t : e.event_types) types.emplace_back(t);
  json::object o{{"id", e.id},
                 {"url", e.url},
                 {"description", e.description},
                 {"event_types", std::move(types)},
                 {"enabled", e.enabled},
                 {"disabled_reason", opt(e.disabled_reason)},
                 {"failures_in_a_row", e.failures_in_a_row},
                 {"bot_user_id", opt(e.bot_user_id)},
                 {"ordered", e.ordered},
                 {"previous_secret_expires_at",
                  e.previous_secret_until ? json::value(format_time(*e.previous_secret_until)) : json::value(nullptr)},
                 {"created_at", format_time(e.created_at)},
                 {"updated_at", format_time(e.updated_at)}};
  if (with_secret) o["secret"] = e.secret;
  return o;
}

json::object to_json(const webhooks::Delivery& d) {
  boost::system::error_code ec;
  auto payload = json::parse(d.payload, ec);
  return {{"id", d.id},
          {"endpoint_id", d.endpoint_id},
          {"message_id", d.message_id},
          {"event_type", d.event_type},
          {"state", webhooks::state_name(d.state)},
          {"attempts", d.attempts},
          {"status_code", d.status_code ? json::value(*d.status_code) : json::value(nullptr)},
          {"latency_ms", d.latency_ms ? json::value(*d.latency_ms) : json::value(nullptr)},
          {"error", opt(d.error)},
          {"response_excerpt", opt(d.response_excerpt)},
          {"payload", ec ? json::value(d.payload) : payload},
          {"created_at", format_time(d.created_at)},
          {"updated_at", format_time(d.updated_at)}};
}

// The fields of a create (all of url and event_types required) or an update (any of them).
Result<webhooks::EndpointInput> endpoint_input(const json::object& body, bool creating) {
  ObjectReader r(body);
  webhooks::EndpointInput in;
  in.url = r.string("url", creating, 1, 2000);
  in.description = r.string("description", false, 0, 500);
  in.enabled = r.boolean("enabled", false);
  in.bot_user_id = r.string("bot_user_id", false, 1, 64);
  in.ordered = r.boolean("ordered", false);
  r.skip("event_types");
  if (const auto* v = body.if_contains("event_types")) {
    if (!v->is_array()) return invalid("event_types", "must be an array of event type names");
    if (v->as_array().size() > kMaxEventTypes) return invalid("event_types", "names at most 50 event types");
    std::vector<std::string> types;
    for (const auto& t : v->as_array()) {
      if (!t.is_string()) return invalid("event_types", "must be an array of event type names");
      types.emplace_back(t.as_string());
    }
    in.event_types = std::move(types);
  } else if (creating) {
    return invalid("event_types", "is required");
  }
  PARLEY_TRY(r.finish());
  return in;
}

net::Response endpoint_response(int status, const webhooks::Endpoint& e, bool with_secret) {
  return json_response(status, json::object{{"webhook", to_json(e, with_secret)}});
}

R list_endpoints(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto eps, co_await on_db(c.s, [&] { return c.s.webhooks.list(c.app_id()); }));
  json::array items;
  for (const auto& e : eps) items.emplace_back(to_json(e, false));
  co_return json_response(200, json::object{{"items", std::move(items)}});
}

R create_endpoint(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  PARLEY_CO_ASSIGN_OR_RETURN(auto in, endpoint_input(body, true));
  PARLEY_CO_ASSIGN_OR_RETURN(auto e, co_await on_db(c.s, [&] { return c.s.webhooks.create(c.app_id(), in); }));
  co_return endpoint_response(201, e, true);
}

R get_endpoint(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto e,
                             co_await on_db(c.s, [&] { return c.s.webhooks.get(c.app_id(), c.param("webhook_id")); }));
  co_return endpoint_response(200, e, false);
}

R update_endpoint(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  PARLEY_CO_ASSIGN_OR_RETURN(auto in, endpoint_input(body, false));
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto e, co_await on_db(c.s, [&] { return c.s.webhooks.update(c.app_id(), c.param("webhook_id"), in); }));
  co_return endpoint_response(200, e, false);
}

R delete_endpoint(Ctx& c) {
  PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.webhooks.remove(c.app_id(), c.param("webhook_id")); }));
  co_return no_content();
}

R rotate_secret(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body(true));
  ObjectReader r(body);
  auto overlap_s = r.integer("overlap_seconds", false, 0, kMaxOverlapMs / 1000);
  PARLEY_CO_TRY(r.finish());
  const TimeMs overlap = overlap_s ? *overlap_s * 1000 : kDefaultOverlapMs;
  PARLEY_CO_ASSIGN_OR_RETURN(auto e, co_await on_db(c.s, [&] {
                               return c.s.webhooks.rotate_secret(c.app_id(), c.param("webhook_id"), overlap);
                             }));
  co_return endpoint_response(200, e, true);
}

R send_test(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto d, co_await on_db(c.s, [&] { return c.s.webhooks.send_test(c.app_id(), c.param("webhook_id")); }));
  co_return json_response(202, json::object{{"delivery", to_json(d)}});
}

R list_deliveries(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto limit, c.limit());
  PARLEY_CO_ASSIGN_OR_RETURN(auto before, id_cursor(c));
  PARLEY_CO_ASSIGN_OR_RETURN(auto rows, co_await on_db(c.s, [&] {
                               return c.s.webhooks.deliveries(c.app_id(), c.param("webhook_id"), before, limit + 1);
                             }));
  co_return json_response(200, page_of(
                                   rows, limit, [](const auto& d) { return to_json(d); },
                                   [](const auto& d) { return std::to_string(d.id); }));
}

R list_event_types(Ctx&) {
  json::array names;
  for (const auto& n : webhooks::subscribable_events()) names.emplace_back(n);
  co_return json_response(200, json::object{{"items", std::move(names)}});
}

// ---- The before-send hook (webhooks/before_send.hpp) ----

json::object to_json(const webhooks::BeforeSendHook& h, bool with_secret) {
  json::object o{{"url", h.url},
                 {"timeout_ms", h.timeout_ms},
                 {"on_failure", h.fail_open ? "allow" : "reject"},
                 {"created_at", format_time(h.created_at)},
                 {"updated_at", format_time(h.updated_at)}};
  if (with_secret) o["secret"] = h.secret;
  return o;
}

net::Response hook_response(const webhooks::BeforeSendHook& h, bool with_secret) {
  return json_response(200, json::object{{"hook", to_json(h, with_secret)}});
}

R get_hook(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto h, co_await on_db(c.s, [&] { return c.s.before_send.get(c.app_id()); }));
  co_return hook_response(h, false);
}

R put_hook(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  webhooks::HookInput in;
  in.url = r.string("url", false, 1, 2000);
  if (auto t = r.integer("timeout_ms", false, 50, webhooks::kMaxHookTimeoutMs)) in.timeout_ms = static_cast<int>(*t);
  auto on_failure = r.string("on_failure", false, 1, 10);
  PARLEY_CO_TRY(r.finish());
  if (on_failure) {
    if (*on_failure != "allow" && *on_failure != "reject") co_return invalid("on_failure", "must be allow or reject");
    in.fail_open = *on_failure == "allow";
  }
  PARLEY_CO_ASSIGN_OR_RETURN(auto h, co_await on_db(c.s, [&] { return c.s.before_send.put(c.app_id(), in); }));
  co_return hook_response(h, true);
}

R delete_hook(Ctx& c) {
  PARLEY_CO_TRY(co_await on_db(c.s, [&] { return c.s.before_send.remove(c.app_id()); }));
  co_return no_content();
}

R rotate_hook_secret(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto h, co_await on_db(c.s, [&] { return c.s.before_send.rotate_secret(c.app_id()); }));
  co_return hook_response(h, true);
}

}  // namespace

void add_webhook_routes(Router& r) {
  r.add({"GET", "/v1/hooks/before-send", Access::app, true, get_hook});
  r.add({"PUT", "/v1/hooks/before-send", Access::app, true, put_hook});
  r.add({"DELETE", "/v1/hooks/before-send", Access::app, true, delete_hook});
  r.add({"POST", "/v1/hooks/before-send/rotate-secret", Access::app, true, rotate_hook_secret});
  r.add({"GET", "/v1/webhooks", Access::app, true, list_endpoints});
  r.add({"POST", "/v1/webhooks", Access::app, true, create_endpoint});
  r.add({"GET", "/v1/webhooks/event-types", Access::app, true, list_event_types});
  r.add({"GET", "/v1/webhooks/{webhook_id}", Access::app, true, get_endpoint});
  r.add({"PATCH", "/v1/webhooks/{webhook_id}", Access::app, true, update_endpoint});
  r.add({"DELETE", "/v1/webhooks/{webhook_id}", Access::app, true, delete_endpoint});
  r.add({"POST", "/v1/webhooks/{webhook_id}/rotate-secret", Access::app, true, rotate_secret});
  r.add({"POST", "/v1/webhooks/{webhook_id}/test", Access::app, true, send_test});
  r.add({"GET", "/v1/webhooks/{webhook_id}/deliveries", Access::app, true, list_deliveries});
}

}  // namespace parley::api
