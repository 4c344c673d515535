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

google::protobuf::Timestamp TimeToProto(absl::Time time);
google::protobuf::Duration DurationToProto(absl::Duration duration);

// A compact human rendering: "1d", "12h", "90m", "1d2h", "1.5s".
std::string FormatDurationShort(absl::Duration d);

}  // namespace cairn::internal

#endif  // CAIRN_UTIL_PROTO_TIME_H_
