// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Calendar recurrences: the dates on which a scheduled journey's audience is
// evaluated ("daily at 10:00", "Mondays and Thursdays at 09:30", "on the 1st
// of each month"), and the instant of an occurrence in a zone. Dates are
// civil dates: an occurrence is a date and a local time, and its instant
// depends on the zone it is read in (the journey's, or each subject's own).
// A local time that a zone skips or repeats resolves as local_time.h says.
//
// Thread-safety: pure functions.

#ifndef CAIRN_TIMER_SCHEDULE_H_
#define CAIRN_TIMER_SCHEDULE_H_

#include <cstdint>
#include <optional>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace cairn::internal {

// When a schedule's occurrences fall.
struct Recurrence {
  enum class Frequency : uint8_t { kOnce, kDaily, kWeekly, kMonthly };
  Frequency frequency = Frequency::kOnce;
  // kOnce: the date. Otherwise the first date that may have an occurrence.
  absl::CivilDay first = absl::CivilDay(1970, 1, 1);
  // The last date that may have one; unset: no end.
  std::optional<absl::CivilDay> last;
  // The local time of each occurrence.
  int hour = 0;
  int minute = 0;
  // kWeekly: the days (bit 0 Monday ... bit 6 Sunday); never 0.
  uint8_t weekday_mask = 0;
  // kMonthly: 1..31; a month without that day has its occurrence on its
  // last day (the 31st falls on 30 April, on 28 or 29 February).
  int day_of_month = 1;
};

// The first occurrence date of `r` at or after `from`, or nullopt when
// none remains (past `last`, or a kOnce date already passed).
std::optional<absl::CivilDay> OccurrenceOnOrAfter(const Recurrence& r, absl::CivilDay from);

// The instant of the occurrence on `date` in `tz`.
absl::Time OccurrenceInstant(const Recurrence& r, absl::CivilDay date, absl::TimeZone tz);

// The earliest instant an occurrence on `date` can have in any zone: where
// the local time is UTC+14, the most any zone is ahead.
absl::Time EarliestInstant(const Recurrence& r, absl::CivilDay date);

}  // namespace cairn::internal

#endif  // CAIRN_TIMER_SCHEDULE_H_
