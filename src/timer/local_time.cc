// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "timer/local_time.h"

namespace cairn::internal {
namespace {

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

}  // namespace

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
    if (weekday_mask != 0 &&
        (weekday_mask & (1u << WeekdayBit(absl::GetWeekday(day)))) == 0) {
      continue;
    }
    const absl::Time candidate = ResolveLocal(
        absl::CivilSecond(day.year(), day.month(), day.day(), hour, minute, 0), tz);
    if (candidate >= now) return candidate;
  }
  return now;  // Unreachable for a valid mask; do not stall the enrollment.
}

}  // namespace cairn::internal
