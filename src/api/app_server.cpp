#include "api/app_server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <thread>

#include "api/errors.hpp"
#include "api/request_auth.hpp"
#include "api/routes.hpp"
#include "api/static_files.hpp"
#include "bus/bus.hpp"
#include "core/crypto.hpp"
#include "net/http_server.hpp"
#include "realtime/gateway.hpp"
#include "realtime/hub.hpp"
#include "tenancy/settings.hpp"

namespace parley::api {

using boost::asio::awaitable;

Router build_router() {
  Router r;
  add_health_routes(r);
  add_admin_routes(r);
  add_auth_routes(r);
  add_user_routes(r);
  add_channel_routes(r);
  add_message_routes(r);
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

struct ApiServer::Impl {
  const Config& cfg;
  store::Store& store;
  boost::asio::thread_pool db_pool;
  metrics::Metrics metrics;
  tenancy::TenancyService tenancy;
  auth::TokenService tokens;
  users::UserService users;
  chat::ChatService chat;
  Services services;
  Router router;
  std::vector<std::string> cors_origins;
  StaticFiles web;
  std::atomic<bool> ready{false};
  net::HttpServer server;
  bus::InProcessBus bus;
  realtime::Publisher publisher{bus};
  std::unique_ptr<realtime::Hub> hub;

  Impl(const Config& c, store::Store& s)
      : cfg(c),
        store(s),
        db_pool(static_cast<std::size_t>(c.db_threads)),
        tenancy(s, c),
        tokens(s, tenancy, c),
        users(s),
        chat(s, chat::GroupCommitOptions{c.send_batch_max, c.send_batch_window_us, c.send_committers}),
        services{c,  s,  db_pool, metrics, tenancy, tokens, users, chat, auth::RateLimiter(), auth::RateLimiter(),
                 {}, {}, {},      {}},
        router(build_router()),
        cors_origins(split_origins(c.cors_origins)),
        web(find_web_dir(c.web_dir)),
        server(
            server_options(c), [this](net::Request& r) { return handle(r); },
            [](int status, const std::string& code, const std::string& message) {
              Errc c = status == 413   ? Errc::payload_too_large
                       : status == 431 ? Errc::headers_too_large
                                       : Errc::invalid_request;
              // Answered by the network layer before a request exists: still traceable.
              auto r = error_response(Error{c, std::move(message)});
              r.headers.emplace_back("X-Request-Id", crypto::random_id("req_", 20));
              return r;
            }) {
    services.ready = [this] { return ready.load() && !server.draining(); };
    realtime::HubOptions hub_opts;
    hub_opts.presence_grace_ms = c.presence_grace_ms;
    hub_opts.typing_ttl_ms = c.typing_ttl_ms;
    hub = std::make_unique<realtime::Hub>(
        server.executor(), bus, hub_opts, [this](const std::string& app, const std::string& user, TimeMs at) {
          boost::asio::post(db_pool, [this, app, user, at] { (void)store.set_last_seen(app, user, at); });
        });
    bus.subscribe([this](const bus::Envelope& e) { hub->deliver(e); });
    chat.set_event_sink(&publisher);
    services.online = [this](const std::string& app, const std::string& user) { return hub->online(app, user); };
    services.disconnect = [this](const std::string& app, const std::string& user, std::uint16_t code) {
      hub->close_user(app, user, code, code == net::ws_close::forbidden ? "user deactivated" : "tokens revoked");
    };
    net::WsOptions ws;
    ws.max_message_bytes = c.ws_max_message_bytes;
    ws.max_queue_bytes = c.ws_max_queue_bytes;
    ws.idle_timeout_ms = c.ws_heartbeat_ms;
    ws.write_coalesce_us = c.ws_coalesce_us;
    server.enable_websocket(ws, realtime::make_accept(services, *hub));
    metrics.set_gauge_source("parley_realtime_sessions", "Open realtime (WebSocket) sessions.",
                             [this] { return static_cast<double>(hub->sessions()); });
    metrics.set_gauge_source("parley_http_open_connections", "Open HTTP connections.",
                             [this] { return static_cast<double>(server.open_connections()); });
    metrics.set_gauge_source("parley_send_batches", "Message send batches committed (group commit) since start.",
                             [this] { return static_cast<double>(chat.send_stats().batches); });
    metrics.set_gauge_source("parley_send_batched_messages", "Message sends taken into batches since start.",
                             [this] { return static_cast<double>(chat.send_stats().items); });
    server.on_shutdown([this] { ready.store(false); });
  }

  static net::ServerOptions server_options(const Config& c) {
    net::ServerOptions o;
    o.host = c.host;
    o.port = static_cast<std::uint16_t>(c.port);
    o.threads = c.threads > 0 ? c.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    o.max_connections = c.max_connections;
    o.max_body_bytes = c.max_body_bytes;
    o.max_header_bytes = c.max_header_bytes;
    o.header_timeout_ms = c.header_timeout_ms;
    o.body_timeout_ms = c.body_timeout_ms;
    o.idle_timeout_ms = c.idle_timeout_ms;
    o.shutdown_grace_ms = c.shutdown_grace_ms;
    return o;
  }

  // The CORS origin to allow for this request, if any.
  std::optional<std::string> cors_origin(const net::Request& req) const {
    if (cors_origins.empty()) return std::nullopt;
    auto origin = req.header("origin");
    if (!origin) return std::nullopt;
    for (const auto& o : cors_origins) {
      if (o == "*" || o == *origin) return std::string(*origin);
    }
    return std::nullopt;
  }

  static Error limited(int wait) {
    Error e{Errc::rate_limited, "too many requests; retry later"};
    return e.with("retry_after_seconds", std::to_string(wait));
  }

  // Per-IP token bucket: every request except health, readiness and metrics (unknown routes too).
  std::optional<Error> ip_limit(const net::Request& req) {
    auto wait = services.ip_limits.take(req.remote_ip, cfg.rate_limit_ip_per_sec, cfg.rate_limit_ip_burst,
                                        auth::steady_seconds());
    if (!wait) return std::nullopt;
    return limited(*wait);
  }

  // Per-user token bucket once a user token is resolved; the app's settings may override it.
  std::optional<Error> user_limit(const Ctx& ctx) {
    if (!ctx.user) return std::nullopt;
    auto st = tenancy::parse_settings(ctx.app->settings_json);
    double rate = st.rate_limit_user_per_sec.value_or(cfg.rate_limit_user_per_sec);
    double burst = st.rate_limit_user_burst.value_or(cfg.rate_limit_user_burst);
    auto wait = services.user_limits.take(ctx.app->id + '/' + ctx.user->user.id, rate, burst, auth::steady_seconds());
    if (!wait) return std::nullopt;
    return limited(*wait);
  }

  awaitable<Result<net::Response>> dispatch(Ctx& ctx, const Match& m) {
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

  awaitable<net::Response> handle(net::Request& req) {
    auto start = std::chrono::steady_clock::now();
    std::string request_id;
    if (auto h = req.header("x-request-id"); h && valid_request_id(*h))
      request_id = *h;
    else
      request_id = crypto::random_id("req_", 20);

    Match m = router.match(req.method, req.path);
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
    } else if (auto file = m.route || !m.allowed.empty() ? std::nullopt : web.serve(req)) {
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
      Ctx ctx{req, services, std::move(m.params), request_id, false, nullptr, std::nullopt};
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
    metrics.observe_request(route_name, req.method, resp.status, secs);
    if (cfg.access_log) {
      spdlog::info("http method={} path={} route={} status={} ms={:.3f} ip={} request_id={}", req.method, req.path,
                   route_name, resp.status, secs * 1000, req.remote_ip, request_id);
    }
    co_return resp;
  }
};

ApiServer::ApiServer(const Config& cfg, store::Store& store) : impl_(std::make_unique<Impl>(cfg, store)) {}

ApiServer::~ApiServer() {
  impl_->chat.stop_sends();
  impl_->db_pool.join();
}

tenancy::TenancyService& ApiServer::tenancy() { return impl_->tenancy; }
auth::TokenService& ApiServer::tokens() { return impl_->tokens; }
chat::ChatService& ApiServer::chat() { return impl_->chat; }

std::uint16_t ApiServer::listen() { return impl_->server.listen(); }
void ApiServer::set_demo_app(const std::string& app_id) { impl_->services.demo_app_id = app_id; }

void ApiServer::run() {
  impl_->ready.store(true);
  impl_->hub->start();
  impl_->server.run();
  impl_->chat.stop_sends();
  impl_->db_pool.join();
}

}  // namespace parley::api
