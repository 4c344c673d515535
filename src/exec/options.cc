// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// EngineOptions' checks and the range of times an engine accepts, beside the
// options they judge.

#include "cairn/options.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "util/proto_time.h"

namespace cairn {

absl::Time EarliestInputTime() { return absl::UnixEpoch(); }

absl::Time LatestInputTime() {
  // 2200-01-01T00:00:00Z.
  return absl::FromUnixSeconds(7258118400);
}

namespace {

// The most parts a limit is split into: far more engines than any host
// runs, and small enough that composing two shares cannot overflow.
constexpr int kMaxLimitParts = 1 << 20;

}  // namespace

int64_t ShareOfLimit(int64_t limit, LimitShare share) {
  const int64_t parts = share.parts;
  return limit / parts + (share.part < limit % parts ? 1 : 0);
}

LimitShare ComposeShares(LimitShare outer, LimitShare inner) {
  return LimitShare{outer.part * inner.parts + inner.part, outer.parts * inner.parts};
}

absl::Status ValidateEngineOptions(const EngineOptions& o) {
  auto bad = [](std::string what) { return absl::InvalidArgumentError(std::move(what)); };
  if (o.start_time < EarliestInputTime() || o.start_time >= LatestInputTime()) {
    return bad(absl::StrCat("start_time ", internal::FormatTimeUtc(o.start_time),
                            " is outside the times an engine accepts, ",
                            internal::FormatTimeUtc(EarliestInputTime()), " to ",
                            internal::FormatTimeUtc(LatestInputTime())));
  }
  if (o.max_lateness < absl::ZeroDuration()) return bad("max_lateness is negative");
  if (o.max_input_lead < absl::ZeroDuration()) return bad("max_input_lead is negative");
  if (o.dedup_window < absl::ZeroDuration()) return bad("dedup_window is negative");
  if (o.delivery_report_window < absl::ZeroDuration()) {
    return bad("delivery_report_window is negative");
  }
  if (o.max_steps_per_input < 1) return bad("max_steps_per_input must be at least 1");
  if (o.scheduled_run_slice < 1) return bad("scheduled_run_slice must be at least 1");
  if (o.max_input_bytes < 1024) return bad("max_input_bytes must be at least 1024");
  if (o.max_profile_attributes < 1) return bad("max_profile_attributes must be at least 1");
  if (o.max_profile_bytes < 1) return bad("max_profile_bytes must be at least 1");
  if (o.max_opt_out_channels < 1) return bad("max_opt_out_channels must be at least 1");
  if (o.max_dedup_ids < 1) return bad("max_dedup_ids must be at least 1");
  if (o.max_instances_per_subject < 1) {
    return bad("max_instances_per_subject must be at least 1");
  }
  for (size_t i = 0; i < o.frequency_caps.size(); ++i) {
    const FrequencyCap& c = o.frequency_caps[i];
    const std::string at = absl::StrCat("frequency_caps[", i, "]: ");
    if (c.channel == "all") {
      return bad(at + "channel \"all\": leave channel empty to cap every channel together");
    }
    if (c.max_messages < 1) return bad(at + "max_messages must be at least 1");
    if (c.window <= absl::ZeroDuration()) return bad(at + "window must be positive");
  }
  const LimitShare& share = o.limit_share;
  if (share.parts < 1 || share.parts > kMaxLimitParts) {
    return bad(absl::StrCat("limit_share.parts must be 1..", kMaxLimitParts));
  }
  if (share.part < 0 || share.part >= share.parts) {
    return bad("limit_share.part must be 0..parts-1");
  }
  for (size_t i = 0; i < o.rate_limits.size(); ++i) {
    const RateLimit& l = o.rate_limits[i];
    const std::string at = absl::StrCat("rate_limits[", i, "]: ");
    if (l.max_messages >= 1 && l.max_messages < share.parts) {
      return bad(absl::StrCat(at, "max_messages ", l.max_messages, " cannot be shared by ",
                              share.parts, " engines (limit_share.parts): each needs at least "
                              "one message per interval"));
    }
    if (l.channel == "all") {
      return bad(at + "channel \"all\": leave channel empty to limit every channel together");
    }
    if (l.max_messages < 1) return bad(at + "max_messages must be at least 1");
    if (l.per <= absl::ZeroDuration()) return bad(at + "per must be positive");
    for (size_t j = 0; j < i; ++j) {
      if (o.rate_limits[j].channel == l.channel) {
        return bad(absl::StrCat(at, "a second limit on channel \"", l.channel,
                                "\"; give each channel one"));
      }
    }
  }
  for (size_t i = 0; i < o.quiet_hours.size(); ++i) {
    const QuietHours& q = o.quiet_hours[i];
    if (q.start_hour < 0 || q.start_hour > 23 || q.end_hour < 0 || q.end_hour > 23 ||
        q.start_minute < 0 || q.start_minute > 59 || q.end_minute < 0 || q.end_minute > 59) {
      return bad(absl::StrCat("quiet_hours[", i, "]: hours must be 0..23, minutes 0..59"));
    }
    for (size_t d = 0; d < q.weekdays.size(); ++d) {
      if (std::count(q.weekdays.begin(), q.weekdays.end(), q.weekdays[d]) > 1) {
        return bad(absl::StrCat("quiet_hours[", i, "]: weekdays: a day is listed twice"));
      }
    }
  }
  if (!(o.holdout_percent >= 0 && o.holdout_percent <= 100)) {  // NaN fails too
    return bad("holdout_percent must be between 0 and 100");
  }
  return absl::OkStatus();
}

}  // namespace cairn
