#pragma once
// Strict reading of JSON request bodies: every field is declared with its type and limits,
// and finish() rejects fields nobody asked for. The first problem found is the one reported:
// structural problems (missing, wrong type, unknown) are Errc::invalid_request (400), rule
// violations (length, range, format) Errc::validation_failed (422). Not thread-safe; use per request.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/error.hpp"

namespace parley {

/// Parses a request body that must be one JSON object (empty body = empty object when allowed).
Result<boost::json::object> parse_json_object(std::string_view body, bool empty_ok = false);

class ObjectReader {
 public:
  explicit ObjectReader(const boost::json::object& obj) : obj_(obj) {}

  std::optional<std::string> string(std::string_view key, bool required, std::size_t min_len, std::size_t max_len);
  std::optional<std::int64_t> integer(std::string_view key, bool required, std::int64_t min, std::int64_t max);
  std::optional<double> number(std::string_view key, bool required, double min, double max);
  std::optional<bool> boolean(std::string_view key, bool required);
  /// A nested object; max_bytes bounds its serialized size.
  std::optional<boost::json::object> object(std::string_view key, bool required, std::size_t max_bytes);
  bool has(std::string_view key) const { return obj_.contains(key); }
  /// Marks a field the caller reads by hand as known.
  void skip(std::string_view key) { seen_.emplace(key); }

  /// Records a rule violation found by the caller (the first error wins).
  void fail(Error e) {
    if (!error_) error_ = std::move(e);
  }
  /// The first error, or an unknown-field error, or ok.
  Status finish();

 private:
  const boost::json::value* field(std::string_view key, bool required);

  const boost::json::object& obj_;
  std::set<std::string, std::less<>> seen_;
  std::optional<Error> error_;
};

/// Validates an app-chosen identifier: 1..64 characters of A-Z a-z 0-9 _ - . @
bool valid_external_id(std::string_view id);

}  // namespace parley
