// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// An absl::Time held as whole Unix seconds plus quarter-nanosecond ticks
// (absl::Time's own resolution), so that records the engine keeps in bulk
// can store a time exactly in 12 bytes instead of a 16-byte absl::Time whose
// padding cannot be reused.
//
// Thread-safety: free functions on values.

#ifndef CAIRN_UTIL_PACKED_TIME_H_
#define CAIRN_UTIL_PACKED_TIME_H_

#include <cstdint>

#include "absl/time/time.h"

namespace cairn::internal {

// Marks an infinite time: past or future by the sign of the seconds.
inline constexpr uint32_t kInfiniteTicks = UINT32_MAX;

// absl::Time's resolution, a quarter of a nanosecond.
inline absl::Duration TimeTick() { return absl::Nanoseconds(1) / 4; }

// `t` as whole seconds (floored) and the ticks after them; an infinite time
// as INT64_MIN or INT64_MAX seconds and kInfiniteTicks. Exact: UnpackTime
// gives `t` back.
inline void PackTime(absl::Time t, int64_t* seconds, uint32_t* ticks) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
    *seconds = t == absl::InfinitePast() ? INT64_MIN : INT64_MAX;
    *ticks = kInfiniteTicks;
    return;
  }
  // ToUnixSeconds floors, so the remainder is in [0, 1s): fewer than 4e9
  // ticks, which fits in 32 bits below kInfiniteTicks. Whole nanoseconds,
  // then the quarters below one by comparison: absl::IDivDuration would
  // give the same count through a 128-bit division, which showed in the
  // profile of a million sends.
  *seconds = absl::ToUnixSeconds(t);
  const absl::Duration rest = t - absl::FromUnixSeconds(*seconds);
  const int64_t nanos = absl::ToInt64Nanoseconds(rest);  // rest >= 0: floors.
  const absl::Duration below = rest - absl::Nanoseconds(nanos);
  static const absl::Duration kQuarter = TimeTick();
  static const absl::Duration kHalf = 2 * TimeTick();
  static const absl::Duration kThreeQuarters = 3 * TimeTick();
  *ticks = static_cast<uint32_t>(nanos * 4 + (below >= kQuarter) + (below >= kHalf) +
                                 (below >= kThreeQuarters));
}

// The time PackTime packed into `seconds` and `ticks`.
inline absl::Time UnpackTime(int64_t seconds, uint32_t ticks) {
  if (ticks == kInfiniteTicks) {
    return seconds < 0 ? absl::InfinitePast() : absl::InfiniteFuture();
  }
  static const absl::Duration kQuarter = TimeTick();
  return absl::FromUnixSeconds(seconds) + absl::Nanoseconds(ticks / 4) +
         kQuarter * static_cast<int64_t>(ticks % 4);
}

}  // namespace cairn::internal

#endif  // CAIRN_UTIL_PACKED_TIME_H_
