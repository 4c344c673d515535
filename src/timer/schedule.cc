// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "timer/schedule.h"

#include <algorithm>

#include "timer/local_time.h"

namespace cairn::internal {
namespace {

int WeekdayIndex(absl::Weekday d) {
  // absl::Weekday runs monday = 0 ... sunday = 6.
  return static_cast<int>(d);
}

// The occurrence in the month of `month`: day_of_month, or the month's last
// day when it is shorter.
absl::CivilDay MonthlyDay(absl::CivilMonth month, int day_of_month) {
  const absl::CivilDay last_day = absl::CivilDay(month + 1) - 1;
  return absl::CivilDay(month.year(), month.month(), std::min(day_of_month, last_day.day()));
}

}  // namespace

std::optional<absl::CivilDay> OccurrenceOnOrAfter(const Recurrence& r, absl::CivilDay from) {
  const absl::CivilDay start = std::max(from, r.first);
  std::optional<absl::CivilDay> found;
  switch (r.frequency) {
    case Recurrence::Frequency::kOnce:
      if (from <= r.first) found = r.first;
      break;
    case Recurrence::Frequency::kDaily:
      found = start;
      break;
    case Recurrence::Frequency::kWeekly:
      for (int i = 0; i < 7; ++i) {
        const absl::CivilDay day = start + i;
        if ((r.weekday_mask & (1u << WeekdayIndex(absl::GetWeekday(day)))) != 0) {
          found = day;
          break;
        }
      }
      break;
    case Recurrence::Frequency::kMonthly: {
      const absl::CivilMonth month(start);
      absl::CivilDay day = MonthlyDay(month, r.day_of_month);
      if (day < start) day = MonthlyDay(month + 1, r.day_of_month);
      found = day;
      break;
    }
  }
  if (found && r.last && *found > *r.last) return std::nullopt;
  return found;
}

absl::Time OccurrenceInstant(const Recurrence& r, absl::CivilDay date, absl::TimeZone tz) {
  return AtLocal(date, r.hour, r.minute, tz);
}

absl::Time EarliestInstant(const Recurrence& r, absl::CivilDay date) {
  // The local time first reached anywhere: in UTC+14 (Pacific/Kiritimati).
  return absl::FromCivil(absl::CivilSecond(date.year(), date.month(), date.day(), r.hour,
                                           r.minute, 0),
                         absl::UTCTimeZone()) -
         absl::Hours(14);
}

}  // namespace cairn::internal
