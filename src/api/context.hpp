#pragma once
// What a route handler sees: the services (shared, thread-safe) and the request context
// (one per request, used on the connection's strand only).
#include <map>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "auth/rate_limiter.hpp"
#include "auth/token_service.hpp"
#include "chat/chat_service.hpp"
#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "net/http_types.hpp"
#include "store/store.hpp"
#include "tenancy/tenancy_service.hpp"
#include "users/user_service.hpp"

namespace boost::asio {
class thread_pool;
}

namespace parley::api {

/// Long-lived services shared by every request. Thread-safe.
struct Services {
  const Config& cfg;
  store::Store& store;
  boost::asio::thread_pool& db_pool;
  metrics::Metrics& metrics;
  tenancy::TenancyService& tenancy;
  auth::TokenService& tokens;
  users::UserService& users;
  chat::ChatService& chat;
  auth::RateLimiter ip_limits;
  auth::RateLimiter user_limits;
  std::function<bool()> ready;  // false while starting or draining
  std::function<bool(const std::string& app_id, const std::string& user_id)> online;  // realtime presence
  /// Closes a user's realtime connections (code: 4001 tokens revoked, 4003 deactivated).
  std::function<void(const std::string& app_id, const std::string& user_id, std::uint16_t code)> disconnect;
  /// The demo app when the server runs with --demo and it exists (set before serving); else empty.
  std::string demo_app_id;
};

/// Credentials a route accepts; the pipeline resolves them before the handler runs.
enum class Access { none, admin, app, user, user_or_app };

/// One request's context: path parameters, resolved credentials, request id.
struct Ctx {
  net::Request& req;
  Services& s;
  std::map<std::string, std::string, std::less<>> params;
  std::string request_id;
  bool admin = false;
  tenancy::AppPtr app;                  // set for app credentials and user tokens
  std::optional<auth::Principal> user;  // set for user tokens

  const std::string& param(std::string_view name) const { return params.find(name)->second; }
  /// The app the request acts in (from app credentials or the user token).
  const std::string& app_id() const { return app->id; }

  /// The body as one JSON object; empty_ok lets an empty body stand for {}.
  Result<boost::json::object> body(bool empty_ok = false) const;
  /// ?limit=, defaulting to page_default and capped at page_max; 400 when not a positive integer.
  Result<int> limit() const;
  /// ?cursor=, decoded; empty when absent. 400 when malformed.
  Result<std::string> cursor() const;
  tenancy::Actor actor() const { return {"admin", request_id}; }
  /// The user a chat call acts as (user-token routes only).
  chat::Caller caller() const { return {app, user->user.id}; }
};

/// Encodes a paging position as an opaque cursor.
std::string make_cursor(const std::string& position);
/// Decodes a cursor made by make_cursor; nullopt when it is not one.
std::optional<std::string> open_cursor(std::string_view cursor);

}  // namespace parley::api
