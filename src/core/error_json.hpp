#pragma once
// The one error object, {"code","message","details"}: an HTTP error body wraps it as
// {"error": …} (error_json), a WebSocket error frame carries it as its "error" field.
#include <string>

#include <boost/json/object.hpp>

#include "core/error.hpp"

namespace parley {

/// {"code": "not_found", "message": "…", "details": {…}}
boost::json::object error_object(const Error& e);
/// {"error": error_object(e)}, serialized: the body of every HTTP error.
std::string error_json(const Error& e);

}  // namespace parley
