// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Conversions between google.protobuf.Duration / Timestamp and absl::Duration
// / absl::Time, with the range and sign checks the protobuf spec requires.
//
// Thread-safety: pure functions.

#ifndef CAIRN_UTIL_PROTO_TIME_H_
#define CAIRN_UTIL_PROTO_TIME_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace cairn::internal {

// InvalidArgument if nanos is out of [-999999999, 999999999], seconds is
// beyond +-10000 years, or seconds and nanos have different signs.
absl::StatusOr<absl::Duration> DurationFromProto(
    const google::protobuf::Duration& proto);

// InvalidArgument if outside 0001-01-01..9999-12-31 or nanos out of range.
absl::StatusOr<absl::Time> TimeFromProto(const google::protobuf::Timestamp& proto);

// True when `time` has a google.protobuf.Timestamp form, i.e. lies in
// 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z: exactly the times
// TimeFromProto(TimeToProto(time)) gives back. False for infinite times.
bool IsTimestampTime(absl::Time time);

google::protobuf::Timestamp TimeToProto(absl::Time time);
google::protobuf::Duration DurationToProto(absl::Duration duration);

// The longest duration a journey may hold (a delay, window, timeout,
// cooldown or offset): 50 years. With input times before
// LatestInputTime() (2200), every time the engine computes from them stays
// below the end of a snapshot's nanosecond clock (2262-04-11).
inline absl::Duration MaxJourneyDuration() { return absl::Hours(24 * 365 * 50); }

// RFC 3339 in UTC with as many fractional digits as needed:
// "2026-01-05T00:00:00Z", "2026-01-05T00:00:00.25Z".
std::string FormatTimeUtc(absl::Time t);

// A compact human rendering: "1d", "12h", "90m", "1d2h", "1.5s".
std::string FormatDurationShort(absl::Duration d);

}  // namespace cairn::internal

#endif  // CAIRN_UTIL_PROTO_TIME_H_
