#include "core/error.hpp"

namespace parley {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::invalid_json: return "invalid_json";
    case Errc::invalid_request: return "invalid_request";
    case Errc::unauthorized: return "unauthorized";
    case Errc::token_expired: return "token_expired";
    case Errc::token_revoked: return "token_revoked";
    case Errc::refresh_token_reused: return "refresh_token_reused";
    case Errc::forbidden: return "forbidden";
    case Errc::not_found: return "not_found";
    case Errc::method_not_allowed: return "method_not_allowed";
    case Errc::conflict: return "conflict";
    case Errc::gone: return "gone";
    case Errc::payload_too_large: return "payload_too_large";
    case Errc::unsupported_media_type: return "unsupported_media_type";
    case Errc::validation_failed: return "validation_failed";
    case Errc::rate_limited: return "rate_limited";
    case Errc::headers_too_large: return "headers_too_large";
    case Errc::range_not_satisfiable: return "range_not_satisfiable";
    case Errc::internal: return "internal";
    case Errc::unavailable: return "unavailable";
  }
  return "internal";
}

}  // namespace parley
