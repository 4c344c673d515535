// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "util/proto_time.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cairn::internal {
namespace {

// The limits from google/protobuf/duration.proto and timestamp.proto.
constexpr int64_t kMaxDurationSeconds = 315576000000;
constexpr int64_t kMinTimestampSeconds = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimestampSeconds = 253402300799;  // 9999-12-31T23:59:59Z
constexpr int32_t kMaxNanos = 999999999;

}  // namespace

absl::StatusOr<absl::Duration> DurationFromProto(
    const google::protobuf::Duration& proto) {
  const int64_t s = proto.seconds();
  const int32_t n = proto.nanos();
  if (s < -kMaxDurationSeconds || s > kMaxDurationSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("duration seconds ", s, " is out of range (+-10000 years)"));
  }
  if (n < -kMaxNanos || n > kMaxNanos) {
    return absl::InvalidArgumentError(
        absl::StrCat("duration nanos ", n, " is out of range"));
  }
  if ((s > 0 && n < 0) || (s < 0 && n > 0)) {
    return absl::InvalidArgumentError(
        "duration seconds and nanos have different signs");
  }
  return absl::Seconds(s) + absl::Nanoseconds(n);
}

absl::StatusOr<absl::Time> TimeFromProto(
    const google::protobuf::Timestamp& proto) {
  const int64_t s = proto.seconds();
  const int32_t n = proto.nanos();
  if (s < kMinTimestampSeconds || s > kMaxTimestampSeconds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "timestamp seconds ", s, " is outside years 0001..9999"));
  }
  if (n < 0 || n > kMaxNanos) {
    return absl::InvalidArgumentError(
        absl::StrCat("timestamp nanos ", n, " is out of range"));
  }
  return absl::FromUnixSeconds(s) + absl::Nanoseconds(n);
}

bool IsTimestampTime(absl::Time time) {
  return time >= absl::FromUnixSeconds(kMinTimestampSeconds) &&
         time < absl::FromUnixSeconds(kMaxTimestampSeconds + 1);
}

google::protobuf::Timestamp TimeToProto(absl::Time time) {
  google::protobuf::Timestamp proto;
  const int64_t s = absl::ToUnixSeconds(time);
  proto.set_seconds(s);
  proto.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(s))));
  return proto;
}

google::protobuf::Duration DurationToProto(absl::Duration duration) {
  google::protobuf::Duration proto;
  const int64_t s = absl::IDivDuration(duration, absl::Seconds(1), &duration);
  proto.set_seconds(s);
  proto.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(duration)));
  return proto;
}

std::string FormatTimeUtc(absl::Time t) {
  // absl::RFC3339_full but with the year always in four digits (%E4Y), so
  // that a time out of range still reads as one ("0001-01-01").
  return absl::FormatTime("%E4Y-%m-%d%ET%H:%M:%E*S%Ez", t, absl::UTCTimeZone());
}

std::string FormatDurationShort(absl::Duration d) {
  if (d == absl::ZeroDuration()) return "0s";
  std::string out;
  if (d < absl::ZeroDuration()) {
    out = "-";
    d = -d;
  }
  const int64_t days = absl::IDivDuration(d, absl::Hours(24), &d);
  const int64_t hours = absl::IDivDuration(d, absl::Hours(1), &d);
  const int64_t minutes = absl::IDivDuration(d, absl::Minutes(1), &d);
  if (days > 0) absl::StrAppend(&out, days, "d");
  if (hours > 0) absl::StrAppend(&out, hours, "h");
  if (minutes > 0) absl::StrAppend(&out, minutes, "m");
  if (d > absl::ZeroDuration()) {
    absl::StrAppend(&out, absl::FormatDuration(d));
  }
  return out;
}

}  // namespace cairn::internal
