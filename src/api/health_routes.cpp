// /health, /health/detailed, /live, /ready, /metrics: no credentials, not rate limited.
#include <boost/json/object.hpp>
#include <chrono>

#include "api/errors.hpp"
#include "api/routes.hpp"
#include "services/on_db.hpp"

namespace parley::api {

namespace {

using boost::asio::awaitable;
namespace json = boost::json;

const auto kStarted = std::chrono::steady_clock::now();

awaitable<Result<net::Response>> health(Ctx&) { co_return json_response(200, json::object{{"status", "ok"}}); }

awaitable<Result<net::Response>> live(Ctx&) { co_return json_response(200, json::object{{"status", "ok"}}); }

awaitable<Result<net::Response>> ready(Ctx& c) {
  if (!c.s.ready()) co_return Error{Errc::unavailable, "not ready: starting or shutting down"};
  co_return json_response(200, json::object{{"status", "ready"}});
}

awaitable<Result<net::Response>> detailed(Ctx& c) {
  auto start = std::chrono::steady_clock::now();
  auto ping = co_await on_db(c.s, [&] { return c.s.store.ping(); });
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  json::object db{{"status", ping ? "ok" : "error"}, {"latency_ms", ms}, {"driver", c.s.store.driver()}};
  if (!ping) db["error"] = ping.error().message;
  auto fstart = std::chrono::steady_clock::now();
  auto storage_ok = co_await services::on_files(c.s, [&] { return c.s.files.storage().check(); });
  double fms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - fstart).count();
  json::object files{{"status", storage_ok ? "ok" : "error"},
                     {"latency_ms", fms},
                     {"storage", c.s.files.storage().kind()},
                     {"target", c.s.files.storage().describe()}};
  if (!storage_ok) files["error"] = storage_ok.error().message;
  bool healthy = ping && storage_ok;
  double uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - kStarted).count();
  json::object body{{"status", healthy ? "ok" : "error"},
                    {"version", PARLEY_VERSION},
                    {"uptime_seconds", uptime},
                    {"checks", json::object{{"database", std::move(db)}, {"files", std::move(files)}}}};
  co_return json_response(healthy ? 200 : 503, body);
}

awaitable<Result<net::Response>> metrics(Ctx& c) {
  net::Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = c.s.metrics.render();
  co_return r;
}

}  // namespace

void add_health_routes(Router& r) {
  r.add({"GET", "/health", Access::none, false, health});
  r.add({"GET", "/health/detailed", Access::none, false, detailed});
  r.add({"GET", "/live", Access::none, false, live});
  r.add({"GET", "/ready", Access::none, false, ready});
  r.add({"GET", "/metrics", Access::none, false, metrics});
}

}  // namespace parley::api
