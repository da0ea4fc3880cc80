#pragma once
// What a route handler sees: the services (services/services.hpp; shared, thread-safe) and the
// request context (one per request, used on the connection's strand only).
#include <map>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "net/http_types.hpp"
#include "services/services.hpp"

namespace parley::api {

using services::Services;

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

/// The base of the URLs Parley hands out (file URLs): --public-url, else http:// and the
/// request's Host (when it is a plain host[:port]), else http://localhost.
std::string public_base(const Ctx& c);

/// Encodes a paging position as an opaque cursor.
std::string make_cursor(const std::string& position);
/// Decodes a cursor made by make_cursor; nullopt when it is not one.
std::optional<std::string> open_cursor(std::string_view cursor);

}  // namespace parley::api
