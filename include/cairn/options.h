// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// EngineOptions: how an Engine treats time, duplicates and runaway journeys.

#ifndef CAIRN_OPTIONS_H_
#define CAIRN_OPTIONS_H_

#include "absl/time/time.h"

namespace cairn {

struct EngineOptions {
  // ---- Time and order ----

  // Engine time before the first input. Inputs before it count as late.
  // Default: the Unix epoch.
  absl::Time start_time = absl::UnixEpoch();

  // An input older than engine time is applied at engine time and counted as
  // late; one older than engine time minus max_lateness is rejected with
  // OutOfRange. Default: 1 hour. REQUIRES: >= 0.
  absl::Duration max_lateness = absl::Hours(1);

  // Events with the same (subject type, subject id, event id) within this
  // window of each other are applied once; repeats return AlreadyExists and
  // are counted. Zero disables de-duplication. Default: 24 hours.
  absl::Duration dedup_window = absl::Hours(24);

  // How long after a send ReportDelivery() may still name the message.
  // Later reports return NotFound. Default: 7 days.
  absl::Duration delivery_report_window = absl::Hours(24 * 7);

  // ---- Safety ----

  // Most node steps one enrollment may take for one input before the engine
  // ends it with exit reason "step_limit". The compiler already rejects
  // cycles without a blocking node; this bounds what is left (e.g. a delay
  // loop that catches up over a long AdvanceTo). Default: 1000.
  int max_steps_per_input = 1000;
};

}  // namespace cairn

#endif  // CAIRN_OPTIONS_H_
