#include "core/error_json.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace parley {

std::string error_json(const Error& e) {
  boost::json::object details;
  for (const auto& [k, v] : e.details) details[k] = v;
  boost::json::object err{{"code", errc_name(e.code)}, {"message", e.message}, {"details", std::move(details)}};
  return boost::json::serialize(boost::json::object{{"error", std::move(err)}});
}

}  // namespace parley
