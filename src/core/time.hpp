#pragma once
// Wall-clock time as Unix milliseconds and its RFC 3339 rendering; steady time for rate limits
// and timeouts. Thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley {

using TimeMs = std::int64_t;

TimeMs now_ms();
/// "2026-11-21T10:15:02.123Z"
std::string format_time(TimeMs ms);
std::optional<TimeMs> parse_time(std::string_view rfc3339);
/// Seconds on a steady clock (rate limits, timeouts): never jumps with the wall clock.
double steady_seconds();

}  // namespace parley
