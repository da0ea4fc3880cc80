#include "jobs/cron.hpp"

#include <array>
#include <charconv>
#include <ctime>
#include <vector>

namespace parley::jobs {

namespace {

constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kWeekdays = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const std::array<std::string_view, 12>* months = nullptr;
  const std::array<std::string_view, 7>* weekdays = nullptr;
};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::optional<int> value_of(std::string_view v, const FieldSpec& f) {
  if (v.size() == 3 && (f.months || f.weekdays)) {
    std::string lower;
    for (char c : v) lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    if (f.months) {
      for (std::size_t i = 0; i < f.months->size(); ++i) {
        if ((*f.months)[i] == lower) return static_cast<int>(i) + 1;
      }
    }
    if (f.weekdays) {
      for (std::size_t i = 0; i < f.weekdays->size(); ++i) {
        if ((*f.weekdays)[i] == lower) return static_cast<int>(i);
      }
    }
  }
  int n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty()) return std::nullopt;
  return n;
}

Error field_error(const FieldSpec& f, std::string_view part, const std::string& why) {
  return Error{Errc::invalid_request, std::string("cron ") + f.name + " field '" + std::string(part) + "': " + why}
      .with("field", "cron");
}

// Sets the bits of `out` (indexes min..max) that `field` names.
template <std::size_t N>
Status parse_field(std::string_view field, const FieldSpec& f, std::bitset<N>& out) {
  for (std::string_view part : split(field, ',')) {
    std::string_view range = part;
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string_view::npos) {
      range = part.substr(0, slash);
      auto s = value_of(part.substr(slash + 1), FieldSpec{f.name, 1, f.max});
      if (!s || *s < 1 || *s > f.max)
        return field_error(f, part, "the step must be a number from 1 to " + std::to_string(f.max));
      step = *s;
    }
    int lo = f.min, hi = f.max;
    if (range != "*") {
      auto dash = range.find('-');
      auto a = value_of(range.substr(0, dash), f);
      if (!a) return field_error(f, part, "not a number, range or *");
      lo = *a;
      hi = *a;
      if (dash != std::string_view::npos) {
        auto b = value_of(range.substr(dash + 1), f);
        if (!b) return field_error(f, part, "the end of the range is not a number");
        hi = *b;
      } else if (step != 1) {
        hi = f.max;  // "5/15": from 5 on, every 15
      }
      int top = f.weekdays ? 7 : f.max;  // 7 is Sunday too
      if (lo < f.min || hi > top || lo > hi) {
        return field_error(f, part, "must lie within " + std::to_string(f.min) + "-" + std::to_string(f.max));
      }
    }
    for (int v = lo; v <= hi; v += step) out.set(static_cast<std::size_t>(f.weekdays && v == 7 ? 0 : v));
  }
  return ok_status();
}

std::string_view alias(std::string_view e) {
  if (e == "@yearly" || e == "@annually") return "0 0 1 1 *";
  if (e == "@monthly") return "0 0 1 * *";
  if (e == "@weekly") return "0 0 * * 0";
  if (e == "@daily" || e == "@midnight") return "0 0 * * *";
  if (e == "@hourly") return "0 * * * *";
  return e;
}

}  // namespace

Result<Cron> Cron::parse(std::string_view expr) {
  Cron c;
  c.text_ = std::string(expr);
  std::vector<std::string_view> fields;
  for (auto f : split(alias(expr), ' ')) {
    if (!f.empty()) fields.push_back(f);
  }
  if (fields.size() == 5) fields.insert(fields.begin(), "0");
  if (fields.size() != 6) {
    return Error{Errc::invalid_request,
                 "cron expression needs 5 fields (minute hour day month weekday) or 6 (seconds first)"}
        .with("field", "cron");
  }
  PARLEY_TRY(parse_field(fields[0], FieldSpec{"seconds", 0, 59}, c.seconds_));
  PARLEY_TRY(parse_field(fields[1], FieldSpec{"minute", 0, 59}, c.minutes_));
  PARLEY_TRY(parse_field(fields[2], FieldSpec{"hour", 0, 23}, c.hours_));
  PARLEY_TRY(parse_field(fields[3], FieldSpec{"day-of-month", 1, 31}, c.days_));
  PARLEY_TRY(parse_field(fields[4], FieldSpec{"month", 1, 12, &kMonths}, c.months_));
  PARLEY_TRY(parse_field(fields[5], FieldSpec{"day-of-week", 0, 6, nullptr, &kWeekdays}, c.weekdays_));
  c.any_day_ = fields[3] == "*";
  c.any_weekday_ = fields[5] == "*";
  return c;
}

std::optional<TimeMs> Cron::next_after(TimeMs after) const {
  std::time_t t = static_cast<std::time_t>(after / 1000) + 1;  // whole seconds, strictly later
  if (after < 0 && after % 1000 != 0) t -= 1;
  const std::time_t limit = t + std::time_t{10} * 366 * 86400;
  while (t < limit) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    auto day_ok = [&] {
      bool dom = days_.test(static_cast<std::size_t>(tm.tm_mday));
      bool dow = weekdays_.test(static_cast<std::size_t>(tm.tm_wday));
      if (any_day_ && any_weekday_) return true;
      if (any_day_) return dow;
      if (any_weekday_) return dom;
      return dom || dow;
    };
    if (!months_.test(static_cast<std::size_t>(tm.tm_mon) + 1)) {
      // To the first second of the next month.
      tm.tm_mon += 1;
      tm.tm_mday = 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    if (!day_ok()) {
      tm.tm_mday += 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    if (!hours_.test(static_cast<std::size_t>(tm.tm_hour))) {
      t += 3600 - tm.tm_min * 60 - tm.tm_sec;
      continue;
    }
    if (!minutes_.test(static_cast<std::size_t>(tm.tm_min))) {
      t += 60 - tm.tm_sec;
      continue;
    }
    if (!seconds_.test(static_cast<std::size_t>(tm.tm_sec))) {
      t += 1;
      continue;
    }
    return static_cast<TimeMs>(t) * 1000;
  }
  return std::nullopt;
}

}  // namespace parley::jobs
