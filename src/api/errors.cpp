#include "api/errors.hpp"

#include <boost/json/serialize.hpp>

#include "core/error_json.hpp"

namespace parley::api {

net::Response json_response(int status, const boost::json::value& body) {
  net::Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

net::Response error_response(const Error& e) {
  net::Response r;
  r.status = errc_http_status(e.code);
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
