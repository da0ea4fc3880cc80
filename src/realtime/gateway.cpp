#include "realtime/gateway.hpp"

#include <boost/json/serialize.hpp>

#include "realtime/session.hpp"
#include "services/on_db.hpp"

namespace parley::realtime {

namespace json = boost::json;

void Publisher::publish(chat::ChatEvent e) {
  json::object frame{{"type", "event"}, {"event", bus::event_name(e.type)}};
  if (!e.channel_id.empty()) frame["channel_id"] = e.channel_id;
  if (e.seq) frame["seq"] = e.seq;
  frame["data"] = std::move(e.data);
  bus::Envelope env;
  env.type = e.type;
  env.app_id = std::move(e.app_id);
  env.channel_id = std::move(e.channel_id);
  env.seq = e.seq;
  env.users = std::move(e.users);
  env.users_only = e.users_only;
  env.frame = std::make_shared<const std::string>(json::serialize(frame));
  env.receipt = std::move(e.receipt);
  env.replay = e.replay;
  bus_.publish(env);
}

// GCC 12 inlines this coroutine's ramp into the std::function and then warns about a mismatched
// operator delete that is not there (a -Wmismatched-new-delete false positive with Asio frames).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

using AcceptResult = std::variant<std::shared_ptr<net::WsListener>, net::Response>;

boost::asio::awaitable<AcceptResult> accept(services::Services& services, Hub& hub, Refuse refuse, net::Request& req,
                                            std::shared_ptr<net::WsPeer> peer) {
  if (!services.ready()) {
    co_return refuse(Error{Errc::unavailable, "not ready: starting or shutting down"});
  }
  if (auto wait = services.ip_limits.take(req.remote_ip, services.cfg.rate_limit_ip_per_sec,
                                          services.cfg.rate_limit_ip_burst, steady_seconds())) {
    Error e{Errc::rate_limited, "too many requests; retry later"};
    co_return refuse(e.with("retry_after_seconds", std::to_string(*wait)));
  }
  std::optional<auth::Principal> principal;
  if (auto token = req.param("token")) {
    std::string t(*token);
    auto p = co_await services::on_db(services, [&] { return services.tokens.authenticate(t); });
    if (!p) co_return refuse(p.error());
    principal = std::move(*p);
  }
  auto resume = req.param("resume");
  bool hold = resume && (*resume == "1" || *resume == "true");
  auto session = std::make_shared<Session>(services, hub, std::move(peer), std::move(principal), hold,
                                           steady_ms() + services.cfg.ws_auth_timeout_ms);
  co_await session->start();
  co_return std::shared_ptr<net::WsListener>(session);
}

}  // namespace

net::WsAccept make_accept(services::Services& services, Hub& hub, Refuse refuse) {
  return [&services, &hub, refuse = std::move(refuse)](net::Request& req, std::shared_ptr<net::WsPeer> peer) {
    return accept(services, hub, refuse, req, std::move(peer));
  };
}

}  // namespace parley::realtime
