// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Helpers shared by the snapshot records of every kind (src/snapshot/*.cc,
// which define Engine::Impl's snapshot writers, readers and checks).
// Internal to the library.

#ifndef CAIRN_SNAPSHOT_SNAPSHOT_INTERNAL_H_
#define CAIRN_SNAPSHOT_SNAPSHOT_INTERNAL_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cairn/journey.h"
#include "cairn/v1/snapshot.pb.h"
#include "cairn/event.h"
#include "exec/engine_state.h"
#include "google/protobuf/message.h"
#include "google/protobuf/repeated_field.h"

namespace cairn::internal {

// A time as the nanoseconds a snapshot stores: INT64_MIN for InfinitePast
// ("never").
int64_t Nanos(absl::Time t);

// Writes named values (a profile, an entry context) into a record; a null
// value is written without one.
void WriteValues(const Attributes& attrs,
                 google::protobuf::RepeatedPtrField<v1::SnapshotNamedValue>* out);

// Reads what WriteValues wrote, replacing *out. DataLoss for a value that
// does not convert.
absl::Status ReadValues(const google::protobuf::RepeatedPtrField<v1::SnapshotNamedValue>& in,
                        Attributes* out);

// Whether every int64 in `m` (a report: all counts) is in
// [0, kMaxRestoredCount].
bool CountsInRange(const google::protobuf::Message& m);

// A time read from a snapshot, which must be one this engine could have
// stored: from EarliestInputTime() up to the longest journey duration past
// LatestInputTime() (a timer's due time), or, where `may_be_never`,
// INT64_MIN for "never". Anything else is a forgery, and the engine's
// arithmetic on it (a window's end, a minute bucket) could overflow.
bool ReadTime(int64_t nanos, bool may_be_never, absl::Time* out);

// Whether `node` of `version` exists and is of `kind`.
bool NodeIs(const std::vector<JourneyVersion>& versions, uint32_t version, int32_t node,
            NodeKind kind);

// Whether (split, variant) names a variant of a split of `version`, or is
// (-1, -1): none.
bool SplitOk(const std::vector<JourneyVersion>& versions, uint32_t version, int32_t split,
             int32_t variant);

// Whether `node` of `version` is a sequence trigger.
bool IsSequence(const std::vector<JourneyVersion>& versions, uint32_t version, int32_t node);

// The total of `counts`; -1 for a negative count or a total past
// kMaxRestoredCount (which could overflow the sums checks make).
int64_t SumCounts(const ReasonCounts& counts);

}  // namespace cairn::internal

#endif  // CAIRN_SNAPSHOT_SNAPSHOT_INTERNAL_H_
