// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "timer/local_time.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cairn/options.h"

namespace cairn::internal {
namespace {

bool Allowed(uint8_t weekday_mask, absl::CivilDay day) {
  return weekday_mask == 0 || (weekday_mask & (1u << WeekdayBit(absl::GetWeekday(day)))) != 0;
}

bool IsLeapYear(absl::civil_year_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool IsZoneNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' ||
         c == '-';
}

}  // namespace

int64_t LocalDayNumber(absl::Time t, absl::TimeZone tz) {
  constexpr int64_t kSecondsPerDay = 24 * 60 * 60;
  if (tz == absl::UTCTimeZone() && t != absl::InfinitePast() && t != absl::InfiniteFuture()) {
    const int64_t seconds = absl::ToUnixSeconds(t);  // Floored.
    return seconds / kSecondsPerDay - (seconds % kSecondsPerDay < 0 ? 1 : 0);
  }
  return absl::ToCivilDay(t, tz) - absl::CivilDay(1970, 1, 1);
}

int32_t LastLocalDay() {
  static const int32_t day = static_cast<int32_t>(
      absl::ToCivilDay(LatestInputTime(), absl::UTCTimeZone()) - absl::CivilDay(1970, 1, 1));
  return day;
}

int WeekdayBit(absl::Weekday d) {
  switch (d) {
    case absl::Weekday::monday:
      return 0;
    case absl::Weekday::tuesday:
      return 1;
    case absl::Weekday::wednesday:
      return 2;
    case absl::Weekday::thursday:
      return 3;
    case absl::Weekday::friday:
      return 4;
    case absl::Weekday::saturday:
      return 5;
    case absl::Weekday::sunday:
      return 6;
  }
  return 0;
}

bool IsWellFormedTimeZoneName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxTimeZoneNameLength) return false;
  bool component_start = true;
  for (const char c : name) {
    if (component_start) {
      // A letter first: this also refuses an empty component ("a//b", a
      // leading or trailing '/').
      if (!absl::ascii_isalpha(static_cast<unsigned char>(c))) return false;
      component_start = false;
    } else if (c == '/') {
      component_start = true;
    } else if (!IsZoneNameChar(c)) {
      return false;
    }
  }
  return !component_start;
}

std::optional<absl::TimeZone> LoadZone(absl::string_view name) {
  if (!IsWellFormedTimeZoneName(name)) return std::nullopt;
  // "localtime" is the host's own zone (absl reads /etc/localtime, and
  // Debian's zoneinfo links to it): a journey must not run differently on
  // another machine.
  if (name == "localtime") return std::nullopt;
  // absl keeps every name it was asked for in a global table, loaded or
  // not, for the life of the process: look for the zone's file first, so
  // that names arriving in profiles cannot grow that table without bound.
  // absl reads zones from $TZDIR, else /usr/share/zoneinfo; it knows "UTC"
  // without a file.
  if (name != "UTC") {
    const char* dir = std::getenv("TZDIR");
    const std::string path =
        absl::StrCat(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo", "/", name);
    struct stat info;
    if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  }
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(std::string(name), &tz)) return std::nullopt;
  return tz;
}

std::string LoadDeclaredZone(absl::string_view name, absl::TimeZone* zone) {
  // Checked before loading: absl reads any name as a path.
  if (!IsWellFormedTimeZoneName(name)) {
    return absl::StrCat("malformed time zone name \"", name,
                        "\"; use an IANA name such as \"Asia/Shanghai\"");
  }
  std::optional<absl::TimeZone> tz = LoadZone(name);
  if (!tz) {
    return absl::StrCat("unknown time zone \"", name,
                        "\"; use an IANA name such as \"Asia/Shanghai\" (is tzdata installed?)");
  }
  *zone = *tz;
  return "";
}

std::optional<absl::TimeZone> TimeZoneCache::Find(absl::string_view name) {
  if (auto it = zones_.find(name); it != zones_.end()) return it->second;
  std::optional<absl::TimeZone> tz = LoadZone(name);
  if (tz && zones_.size() < capacity_) zones_.emplace(name, *tz);
  return tz;
}

absl::TimeZone ZoneNamedBy(const Value* name, absl::TimeZone fallback, TimeZoneCache* cache,
                           int64_t* unknown_zones) {
  if (name == nullptr) return fallback;
  if (name->type() == Value::Type::kString && cache != nullptr) {
    if (std::optional<absl::TimeZone> tz = cache->Find(name->string_value())) return *tz;
  }
  if (unknown_zones != nullptr) ++*unknown_zones;
  return fallback;
}

absl::Time ResolveLocal(const absl::CivilSecond& local, absl::TimeZone tz) {
  const absl::TimeZone::TimeInfo info = tz.At(local);
  switch (info.kind) {
    case absl::TimeZone::TimeInfo::SKIPPED:
      return info.trans;
    case absl::TimeZone::TimeInfo::REPEATED:
    case absl::TimeZone::TimeInfo::UNIQUE:
      return info.pre;
  }
  return info.pre;
}

absl::Time NextLocalTime(absl::Time now, absl::TimeZone tz, int hour, int minute,
                         uint8_t weekday_mask) {
  const absl::CivilDay today = absl::ToCivilDay(now, tz);
  // Eight days cover every weekday once more after today's time has passed.
  for (int i = 0; i <= 8; ++i) {
    const absl::CivilDay day = today + i;
    if (!Allowed(weekday_mask, day)) continue;
    const absl::Time candidate = AtLocal(day, hour, minute, tz);
    if (candidate >= now) return candidate;
  }
  return now;  // Unreachable for a valid mask; do not stall the enrollment.
}

absl::Time AtLocal(absl::CivilDay day, int hour, int minute, absl::TimeZone tz) {
  return ResolveLocal(absl::CivilSecond(day.year(), day.month(), day.day(), hour, minute, 0), tz);
}

int HourOfWeek(absl::Time t, absl::TimeZone tz) {
  const absl::CivilHour hour = absl::ToCivilHour(t, tz);
  return WeekdayBit(absl::GetWeekday(absl::CivilDay(hour))) * 24 + hour.hour();
}

std::optional<absl::Time> BusiestHourStart(const uint32_t (&counts)[kHoursPerWeek], absl::TimeZone tz,
                            absl::Time now, absl::Time last) {
  absl::Time best = now;
  uint32_t best_count = counts[HourOfWeek(now, tz)];
  absl::Time previous = now;
  for (absl::CivilHour hour = absl::ToCivilHour(now, tz) + 1;; ++hour) {
    const absl::TimeZone::TimeInfo info = tz.At(absl::CivilSecond(hour));
    // A skipped hour has no start of its own: the jump lands in the next.
    if (info.kind == absl::TimeZone::TimeInfo::SKIPPED) continue;
    const absl::Time start = info.pre;
    if (start > last) break;
    if (start <= previous) continue;  // Cannot happen with real zones; keeps order.
    previous = start;
    const uint32_t count = counts[HourOfWeek(start, tz)];
    if (count > best_count) {
      best = start;
      best_count = count;
    }
  }
  if (best_count == 0) return std::nullopt;
  return best;
}

std::optional<absl::CivilDay> ParseDate(absl::string_view text) {
  absl::CivilDay day;
  // Only the form written back: absl::ParseCivilTime also takes "+027-01-01",
  // " 2027-1-01" or "0000-01-01", which would be written as "27-01-01",
  // "2027-01-01" or "0-01-01", and a snapshot holding one would not restore.
  if (text.size() != 10 || !absl::ascii_isdigit(static_cast<unsigned char>(text[0])) ||
      !absl::ParseCivilTime(text, &day) || absl::FormatCivilTime(day) != text) {
    return std::nullopt;
  }
  return day;
}

std::optional<absl::CivilDay> CalendarDateOf(const Value& v, absl::TimeZone tz) {
  absl::CivilDay day;
  if (v.type() == Value::Type::kTimestamp) {
    day = absl::ToCivilDay(v.timestamp_value(), tz);
  } else if (v.type() != Value::Type::kString) {
    return std::nullopt;
  } else if (std::optional<absl::CivilDay> date = ParseDate(v.string_value())) {
    // A date alone: a birthday has no zone, and must not move with one.
    day = *date;
  } else {
    const std::string& text = v.string_value();
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return std::nullopt;
    day = absl::ToCivilDay(t, tz);
  }
  if (day.year() < 1 || day.year() > 9999) return std::nullopt;
  return day;
}

absl::Time NextAnniversary(absl::Time after, absl::TimeZone tz, absl::CivilDay date,
                           int days_before, int hour, int minute, LeapDayRule leap_day) {
  // The year before `after`'s covers an anniversary early in January whose
  // days_before reach back into December.
  absl::civil_year_t year =
      std::max<absl::civil_year_t>(date.year(), absl::ToCivilYear(after, tz).year() - 1);
  for (; year <= 9999; ++year) {
    int day_of_month = date.day();
    if (date.month() == 2 && date.day() == 29 && !IsLeapYear(year)) {
      // CivilDay normalizes 29 February of a common year to 1 March.
      day_of_month = leap_day == LeapDayRule::kFebruary28 ? 28 : 29;
    }
    const absl::CivilDay anniversary(year, date.month(), day_of_month);
    const absl::Time candidate = AtLocal(anniversary - days_before, hour, minute, tz);
    if (candidate > after) return candidate;
  }
  return absl::InfiniteFuture();
}

bool InsideLocalWindow(const absl::CivilSecond& local, const LocalWindow& window) {
  const absl::CivilDay today(local);
  const int minute = local.hour() * 60 + local.minute();
  if (window.opens < window.closes) {
    return Allowed(window.weekday_mask, today) && minute >= window.opens &&
           minute < window.closes;
  }
  if (window.opens == window.closes) return false;
  // Past midnight: open from `opens` on an allowed day until `closes` the
  // day after.
  return (Allowed(window.weekday_mask, today) && minute >= window.opens) ||
         (Allowed(window.weekday_mask, today - 1) && minute < window.closes);
}

std::optional<absl::Time> NextOpening(absl::Time now, absl::TimeZone tz,
                                      const LocalWindow& window) {
  if (InsideLocalWindow(absl::ToCivilSecond(now, tz), window)) return std::nullopt;
  return NextLocalTime(now, tz, window.opens / 60, window.opens % 60, window.weekday_mask);
}

}  // namespace cairn::internal
