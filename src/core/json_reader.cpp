#include "core/json_reader.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace parley {

namespace json = boost::json;

Result<json::object> parse_json_object(std::string_view body, bool empty_ok) {
  if (body.empty()) {
    if (empty_ok) return json::object{};
    return Error{Errc::invalid_json, "request body is empty; expected a JSON object"};
  }
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Error{Errc::invalid_json, "request body is not valid JSON: " + ec.message()};
  if (!v.is_object()) return Error{Errc::invalid_json, "request body must be a JSON object"};
  return std::move(v.as_object());
}

const json::value* ObjectReader::field(std::string_view key, bool required) {
  seen_.emplace(key);
  auto it = obj_.find(key);
  if (it == obj_.end()) {
    if (required) fail(invalid(std::string(key), "is required"));
    return nullptr;
  }
  return &it->value();
}

std::optional<std::string> ObjectReader::string(std::string_view key, bool required, std::size_t min_len,
                                                std::size_t max_len) {
  const json::value* v = field(key, required);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    fail(invalid(std::string(key), "expected a string"));
    return std::nullopt;
  }
  const auto& s = v->get_string();
  if (s.size() < min_len || s.size() > max_len) {
    fail(violates(std::string(key),
                  "length must be between " + std::to_string(min_len) + " and " + std::to_string(max_len) + " bytes"));
    return std::nullopt;
  }
  return std::string(s);
}

std::optional<std::int64_t> ObjectReader::integer(std::string_view key, bool required, std::int64_t min,
                                                  std::int64_t max) {
  const json::value* v = field(key, required);
  if (!v) return std::nullopt;
  std::int64_t n;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    n = static_cast<std::int64_t>(v->get_uint64());
  } else {
    fail(invalid(std::string(key), "expected an integer"));
    return std::nullopt;
  }
  if (n < min || n > max) {
    fail(violates(std::string(key), "must be between " + std::to_string(min) + " and " + std::to_string(max)));
    return std::nullopt;
  }
  return n;
}

std::optional<double> ObjectReader::number(std::string_view key, bool required, double min, double max) {
  const json::value* v = field(key, required);
  if (!v) return std::nullopt;
  if (!v->is_number()) {
    fail(invalid(std::string(key), "expected a number"));
    return std::nullopt;
  }
  double d = v->to_number<double>();
  if (!(d >= min && d <= max)) {
    fail(violates(std::string(key), "out of range"));
    return std::nullopt;
  }
  return d;
}

std::optional<bool> ObjectReader::boolean(std::string_view key, bool required) {
  const json::value* v = field(key, required);
  if (!v) return std::nullopt;
  if (!v->is_bool()) {
    fail(invalid(std::string(key), "expected a boolean"));
    return std::nullopt;
  }
  return v->get_bool();
}

std::optional<json::object> ObjectReader::object(std::string_view key, bool required, std::size_t max_bytes) {
  const json::value* v = field(key, required);
  if (!v) return std::nullopt;
  if (!v->is_object()) {
    fail(invalid(std::string(key), "expected an object"));
    return std::nullopt;
  }
  if (json::serialize(*v).size() > max_bytes) {
    fail(violates(std::string(key), "larger than " + std::to_string(max_bytes) + " bytes"));
    return std::nullopt;
  }
  return v->get_object();
}

Status ObjectReader::finish() {
  if (error_) return *error_;
  for (const auto& kv : obj_) {
    if (!seen_.contains(std::string_view(kv.key()))) {
      return invalid(std::string(kv.key()), "unknown field");
    }
  }
  return ok_status();
}

bool valid_external_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == '@';
    if (!ok) return false;
  }
  return true;
}

}  // namespace parley
