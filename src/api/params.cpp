#include "api/params.hpp"

#include <charconv>

namespace parley::api {

namespace {
std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

Error bad_param(std::string_view name, std::string msg) {
  Error e{Errc::invalid_request, "query parameter '" + std::string(name) + "' " + std::move(msg)};
  return e.with("parameter", std::string(name));
}

Result<std::optional<std::int64_t>> int_param(const Ctx& c, std::string_view name, std::int64_t min, std::int64_t max) {
  auto raw = c.req.param(name);
  if (!raw) return std::optional<std::int64_t>{};
  auto v = to_int(*raw);
  if (!v || *v < min || *v > max) {
    return bad_param(name, "must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return std::optional<std::int64_t>{*v};
}

Result<std::optional<bool>> bool_param(const Ctx& c, std::string_view name) {
  auto raw = c.req.param(name);
  if (!raw) return std::optional<bool>{};
  if (*raw == "true") return std::optional<bool>{true};
  if (*raw == "false") return std::optional<bool>{false};
  return bad_param(name, "must be true or false");
}

Result<std::int64_t> id_cursor(const Ctx& c) {
  PARLEY_ASSIGN_OR_RETURN(auto position, c.cursor());
  if (position.empty()) return std::int64_t{0};
  auto id = to_int(position);
  if (!id) return Error{Errc::invalid_request, "query parameter 'cursor' is not a cursor this server issued"};
  return *id;
}

Result<std::int64_t> seq_param(const Ctx& c, std::string_view name) {
  auto v = to_int(c.param(name));
  if (!v || *v < 1) return not_found("message");
  return *v;
}

}  // namespace parley::api
