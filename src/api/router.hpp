#pragma once
// Maps (method, path) to a route. Patterns are literal segments and {name} parameters:
// "/v1/admin/apps/{app_id}/keys". Literal segments win over parameters at the same depth.
// Built at start-up, then read-only: thread-safe for lookups.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "api/context.hpp"

namespace parley::api {

using RouteHandler = std::function<boost::asio::awaitable<Result<net::Response>>(Ctx&)>;

struct Route {
  std::string method;
  std::string pattern;
  Access access = Access::none;
  bool rate_limited = true;  // health and metrics are not
  RouteHandler handler;
};

struct Match {
  const Route* route = nullptr;  // null: no match
  std::map<std::string, std::string, std::less<>> params;
  std::vector<std::string> allowed;  // methods for the path when the method did not match
};

class Router {
 public:
  void add(Route route);
  Match match(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace parley::api
