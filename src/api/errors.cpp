#include "api/errors.hpp"

#include <boost/json/serialize.hpp>

#include "core/error_json.hpp"

namespace parley::api {

// The one mapping of error codes to HTTP statuses (the WebSocket protocol carries the code alone).
int http_status(Errc code) {
  switch (code) {
    case Errc::invalid_json:
    case Errc::invalid_request: return 400;
    case Errc::unauthorized:
    case Errc::token_expired:
    case Errc::token_revoked:
    case Errc::refresh_token_reused: return 401;
    case Errc::forbidden: return 403;
    case Errc::not_found: return 404;
    case Errc::method_not_allowed: return 405;
    case Errc::conflict: return 409;
    case Errc::gone: return 410;
    case Errc::payload_too_large: return 413;
    case Errc::unsupported_media_type: return 415;
    case Errc::range_not_satisfiable: return 416;
    case Errc::validation_failed: return 422;
    case Errc::rate_limited: return 429;
    case Errc::headers_too_large: return 431;
    case Errc::internal: return 500;
    case Errc::unavailable: return 503;
  }
  return 500;
}

net::Response json_response(int status, const boost::json::value& body) {
  net::Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

net::Response error_response(const Error& e) {
  net::Response r;
  r.status = http_status(e.code);
  r.body = error_json(e);
  if (e.code == Errc::rate_limited) {
    for (const auto& [k, v] : e.details) {
      if (k == "retry_after_seconds") r.headers.emplace_back("Retry-After", v);
    }
  }
  return r;
}

net::Response no_content() {
  net::Response r;
  r.status = 204;
  return r;
}

}  // namespace parley::api
