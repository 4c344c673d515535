// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Journey reports (cairn.v1.JourneyReport, built by Engine::Report) from
// several engines, as one.
//
// Thread-safety: free functions on values.

#ifndef CAIRN_REPORT_H_
#define CAIRN_REPORT_H_

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "cairn/v1/report.pb.h"

namespace cairn {

// Sums reports of the same journey from several engines that deployed the
// same versions (shards, or Kafka partitions): every count is added, reason
// and variant lists are merged by key in sorted order, `retired` holds if it
// holds everywhere, experiments' arms are summed and their statistics
// computed again from the sums (never averaged), and the state is the first
// report's. InvalidArgument if
// the reports are of different journeys, versions or node lists.
absl::StatusOr<v1::JourneyReport> MergeJourneyReports(
    absl::Span<const v1::JourneyReport> reports);

}  // namespace cairn

#endif  // CAIRN_REPORT_H_
