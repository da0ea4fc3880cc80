#pragma once
// Cron expressions, evaluated in UTC: five fields (minute hour day-of-month month day-of-week)
// or six with seconds first. Each field takes *, a number, a range a-b, a step */n or a-b/n,
// and comma lists of those; months and weekdays also by name (jan…dec, sun…sat; 0 and 7 are
// Sunday). As in classic cron, when both day fields are restricted a day matching either runs.
// Also @yearly, @monthly, @weekly, @daily, @hourly. Plain values; thread-safe.
#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/time.hpp"

namespace parley::jobs {

class Cron {
 public:
  /// Parses `expr`; an invalid_request error says which field is wrong and why.
  static Result<Cron> parse(std::string_view expr);

  /// The first time strictly after `after` (Unix ms) that matches, at a whole second; nullopt
  /// when none comes within ten years (e.g. "0 0 30 2 *").
  std::optional<TimeMs> next_after(TimeMs after) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::bitset<60> seconds_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool any_day_ = true;      // day-of-month is *
  bool any_weekday_ = true;  // day-of-week is *
};

}  // namespace parley::jobs
