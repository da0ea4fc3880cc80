#pragma once
// The REST front end: every request passes request id, CORS, per-IP rate limit, routing (or
// the web app's static files), content type, credentials, per-user rate limit, the route's
// handler, errors, metrics and the access log. Thread-safe; one per server.
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "api/context.hpp"
#include "api/router.hpp"
#include "api/static_files.hpp"

namespace parley::api {

/// Every route the server registers (also printed by `parley routes`).
Router build_router();

class Pipeline {
 public:
  /// `web` serves the web app for GETs that no route claims.
  Pipeline(Services& services, StaticFiles web);

  boost::asio::awaitable<net::Response> handle(net::Request& req);
  /// The answer to a request the network layer refused before it was routed (413, 431, 400).
  static net::Response refused(int status, std::string message);

 private:
  std::optional<std::string> cors_origin(const net::Request& req) const;
  static Error limited(int wait);
  std::optional<Error> ip_limit(const net::Request& req);
  std::optional<Error> user_limit(const Ctx& ctx);
  boost::asio::awaitable<Result<net::Response>> dispatch(Ctx& ctx, const Match& m);

  Services& s_;
  Router router_;
  std::vector<std::string> cors_origins_;
  StaticFiles web_;
};

}  // namespace parley::api
