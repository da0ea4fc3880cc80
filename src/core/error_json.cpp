#include "core/error_json.hpp"

#include <boost/json/serialize.hpp>

namespace parley {

boost::json::object error_object(const Error& e) {
  boost::json::object details;
  for (const auto& [k, v] : e.details) details[k] = v;
  return {{"code", errc_name(e.code)}, {"message", e.message}, {"details", std::move(details)}};
}

std::string error_json(const Error& e) {
  return boost::json::serialize(boost::json::object{{"error", error_object(e)}});
}

}  // namespace parley
