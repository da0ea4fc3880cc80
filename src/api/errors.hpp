#pragma once
// Building responses: JSON bodies, the one error shape, 204s.
#include <boost/json/value.hpp>

#include "core/error.hpp"
#include "net/http_types.hpp"

namespace parley::api {

/// The HTTP status for an error code (400 invalid_request, 404 not_found, 429 rate_limited, …).
int http_status(Errc code);

net::Response json_response(int status, const boost::json::value& body);
net::Response error_response(const Error& e);
net::Response no_content();

}  // namespace parley::api
