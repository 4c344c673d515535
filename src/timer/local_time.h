// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Local wall-clock arithmetic for delays "until 09:00 on weekdays" in a
// subject's time zone, with deterministic handling of daylight-saving
// transitions:
//   - a local time that does not exist (skipped by a spring-forward jump)
//     resolves to the instant of the jump, i.e. as soon as the wall clock
//     passes it;
//   - a local time that happens twice (fall-back overlap) resolves to its
//     first occurrence.
//
// Thread-safety: pure functions.

#ifndef CAIRN_TIMER_LOCAL_TIME_H_
#define CAIRN_TIMER_LOCAL_TIME_H_

#include <cstdint>

#include "absl/time/time.h"

namespace cairn::internal {

// The instant a local civil time denotes in `tz`, by the rules above.
absl::Time ResolveLocal(const absl::CivilSecond& local, absl::TimeZone tz);

// The first instant at or after `now` whose local time in `tz` is
// hour:minute on an allowed weekday. `weekday_mask` has bit 0 for Monday ...
// bit 6 for Sunday; 0 allows every day.
// REQUIRES: 0 <= hour <= 23, 0 <= minute <= 59.
absl::Time NextLocalTime(absl::Time now, absl::TimeZone tz, int hour, int minute,
                         uint8_t weekday_mask);

}  // namespace cairn::internal

#endif  // CAIRN_TIMER_LOCAL_TIME_H_
