#pragma once
// Typed query and path parameters with clear 400s.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/context.hpp"

namespace parley::api {

/// invalid_request "query parameter '<name>' <msg>" with details.parameter = name.
Error bad_param(std::string_view name, std::string msg);
/// ?name= as an integer in [min, max]; nullopt when absent.
Result<std::optional<std::int64_t>> int_param(const Ctx& c, std::string_view name, std::int64_t min, std::int64_t max);
/// ?name=true|false; nullopt when absent.
Result<std::optional<bool>> bool_param(const Ctx& c, std::string_view name);
/// ?cursor= of a list paged by descending row id (audit log, jobs, webhook deliveries): the id
/// to page before, 0 (from the newest) when absent; 400 when it is not such a cursor.
Result<std::int64_t> id_cursor(const Ctx& c);
/// The {seq} path parameter; not_found when it is not a positive integer.
Result<std::int64_t> seq_param(const Ctx& c, std::string_view name = "seq");

}  // namespace parley::api
