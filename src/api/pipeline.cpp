#include "api/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "api/errors.hpp"
#include "api/request_auth.hpp"
#include "api/routes.hpp"
#include "core/crypto.hpp"
#include "core/time.hpp"

namespace parley::api {

using boost::asio::awaitable;

Router build_router() {
  Router r;
  add_health_routes(r);
  add_admin_routes(r);
  add_job_routes(r);
  add_webhook_routes(r);
  add_auth_routes(r);
  add_user_routes(r);
  add_channel_routes(r);
  add_message_routes(r);
  add_search_routes(r);
  add_file_routes(r);
  add_presence_routes(r);
  add_demo_routes(r);
  return r;
}

namespace {

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::vector<std::string> split_origins(const std::string& list) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= list.size()) {
    auto j = list.find(',', i);
    if (j == std::string::npos) j = list.size();
    std::string o = list.substr(i, j - i);
    o.erase(0, o.find_first_not_of(' '));
    o.erase(o.find_last_not_of(' ') + 1);
    if (!o.empty()) out.push_back(o);
    i = j + 1;
  }
  return out;
}

bool is_json_type(std::string_view ct) {
  auto semi = ct.find(';');
  auto base = ct.substr(0, semi);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  std::string lower(base);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json";
}

}  // namespace

Pipeline::Pipeline(Services& services, StaticFiles web)
    : s_(services),
      router_(build_router()),
      cors_origins_(split_origins(services.cfg.cors_origins)),
      web_(std::move(web)) {}

net::Response Pipeline::refused(int status, std::string message) {
  Errc c = status == 413 ? Errc::payload_too_large : status == 431 ? Errc::headers_too_large : Errc::invalid_request;
  // Answered by the network layer before a request exists: still traceable.
  auto r = error_response(Error{c, std::move(message)});
  r.headers.emplace_back("X-Request-Id", crypto::random_id("req_", 20));
  return r;
}

// The CORS origin to allow for this request, if any.
std::optional<std::string> Pipeline::cors_origin(const net::Request& req) const {
  if (cors_origins_.empty()) return std::nullopt;
  auto origin = req.header("origin");
  if (!origin) return std::nullopt;
  for (const auto& o : cors_origins_) {
    if (o == "*" || o == *origin) return std::string(*origin);
  }
  return std::nullopt;
}

Error Pipeline::limited(int wait) {
  Error e{Errc::rate_limited, "too many requests; retry later"};
  return e.with("retry_after_seconds", std::to_string(wait));
}

// Per-IP token bucket: every request except health, readiness and metrics (unknown routes too).
std::optional<Error> Pipeline::ip_limit(const net::Request& req) {
  auto wait =
      s_.ip_limits.take(req.remote_ip, s_.cfg.rate_limit_ip_per_sec, s_.cfg.rate_limit_ip_burst, steady_seconds());
  if (!wait) return std::nullopt;
  return limited(*wait);
}

// Per-user token bucket once a user token is resolved; the app's settings may override it.
std::optional<Error> Pipeline::user_limit(const Ctx& ctx) {
  if (!ctx.user) return std::nullopt;
  const auto& st = ctx.app->settings;
  double rate = st.rate_limit_user_per_sec.value_or(s_.cfg.rate_limit_user_per_sec);
  double burst = st.rate_limit_user_burst.value_or(s_.cfg.rate_limit_user_burst);
  auto wait = s_.user_limits.take(ctx.app->id + '/' + ctx.user->user.id, rate, burst, steady_seconds());
  if (!wait) return std::nullopt;
  return limited(*wait);
}

awaitable<Result<net::Response>> Pipeline::dispatch(Ctx& ctx, const Match& m) {
  if (!ctx.req.body.empty()) {
    auto ct = ctx.req.header("content-type");
    if (!ct || !is_json_type(*ct)) {
      co_return Error{Errc::unsupported_media_type, "request bodies must be application/json"};
    }
  }
  PARLEY_CO_TRY(co_await resolve_access(ctx, m.route->access));
  if (m.route->rate_limited) {
    if (auto e = user_limit(ctx)) co_return *e;
  }
  co_return co_await m.route->handler(ctx);
}

awaitable<net::Response> Pipeline::handle(net::Request& req) {
  auto start = std::chrono::steady_clock::now();
  std::string request_id;
  if (auto h = req.header("x-request-id"); h && valid_request_id(*h))
    request_id = *h;
  else
    request_id = crypto::random_id("req_", 20);

  Match m = router_.match(req.method, req.path);
  std::string route_name = m.route ? m.route->pattern : "unmatched";
  net::Response resp;
  auto origin = cors_origin(req);
  std::optional<Error> over_limit;
  if (!m.route || m.route->rate_limited) over_limit = ip_limit(req);
  if (over_limit) {
    resp = error_response(*over_limit);
  } else if (req.method == "OPTIONS" && origin && !m.allowed.empty()) {
    resp.status = 204;
    std::string methods;
    for (const auto& a : m.allowed) methods += (methods.empty() ? "" : ", ") + a;
    resp.headers.emplace_back("Access-Control-Allow-Methods", methods);
    resp.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id");
    resp.headers.emplace_back("Access-Control-Max-Age", "600");
  } else if (auto file = m.route || !m.allowed.empty() ? std::nullopt : web_.serve(req)) {
    resp = std::move(*file);
    route_name = "static";
  } else if (!m.route && !m.allowed.empty()) {
    resp = error_response(Error{Errc::method_not_allowed, "method " + req.method + " is not allowed here"});
    std::string allow;
    for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
    resp.headers.emplace_back("Allow", allow);
  } else if (!m.route) {
    resp = error_response(Error{Errc::not_found, "no route for " + req.path});
  } else {
    Ctx ctx{req, s_, std::move(m.params), request_id, false, nullptr, std::nullopt};
    Result<net::Response> result = Error{Errc::internal, "internal error"};
    try {
      result = co_await dispatch(ctx, m);
    } catch (const std::exception& ex) {
      spdlog::error("request_id={} route={} unhandled error: {}", request_id, route_name, ex.what());
      result = Error{Errc::internal, "internal error; see the server log for request " + request_id};
    }
    resp = result ? std::move(*result) : error_response(result.error());
  }
  resp.headers.emplace_back("X-Request-Id", request_id);
  if (origin) {
    resp.headers.emplace_back("Access-Control-Allow-Origin", *origin);
    resp.headers.emplace_back("Vary", "Origin");
    resp.headers.emplace_back("Access-Control-Expose-Headers", "X-Request-Id, Retry-After");
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s_.metrics.observe_request(route_name, req.method, resp.status, secs);
  if (s_.cfg.access_log) {
    spdlog::info("http method={} path={} route={} status={} ms={:.3f} ip={} request_id={}", req.method, req.path,
                 route_name, resp.status, secs * 1000, req.remote_ip, request_id);
  }
  co_return resp;
}

}  // namespace parley::api
