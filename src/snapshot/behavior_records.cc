// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: the behaviour records: the declarations (one record, after
// the journeys and before the subjects) and each subject's cells (inside
// its subject record); written, read, and checked against the journeys.

#include "exec/engine_impl.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "behavior/behavior_spec.h"
#include "cairn/status_macros.h"
#include "cairn/v1/snapshot.pb.h"
#include "snapshot/record_arena.h"
#include "snapshot/snapshot_internal.h"
#include "util/record_io.h"

namespace cairn {

using internal::Nanos;
using internal::ReadTime;
using internal::SnapshotOutOfRange;

absl::Status Engine::Impl::WriteBehaviors(internal::RecordWriter* w,
                                          internal::RecordArena* records) const {
  if (behaviors_.empty()) return absl::OkStatus();  // Snapshots from before behaviours.
  v1::SnapshotRecord* r = records->Next();
  v1::SnapshotBehaviors* b = r->mutable_behaviors();
  for (size_t i = 0; i < behaviors_.size(); ++i) {
    *b->mutable_declarations()->add_behaviors() = behaviors_.spec(i).def;
    b->add_since_nanos(Nanos(behaviors_.since(i)));
  }
  for (const internal::SegmentSpec& s : behaviors_.segments()) {
    *b->mutable_declarations()->add_segments() = s.def;
  }
  return w->Write(*r);
}

absl::Status Engine::Impl::ReadBehaviors(const v1::SnapshotBehaviors& b) {
  if (!subjects_.empty() || !behaviors_.empty()) {
    return absl::DataLossError("snapshot: behaviours come after subjects, or twice");
  }
  absl::StatusOr<internal::Declarations> declared =
      internal::CompileBehaviorSet(b.declarations());
  if (!declared.ok()) {
    return absl::DataLossError(absl::StrCat("snapshot: ", declared.status().message()));
  }
  if (b.since_nanos_size() != static_cast<int>(declared->behaviors.size())) {
    return SnapshotOutOfRange("behaviour declaration times");
  }
  std::vector<absl::Time> since;
  for (int64_t n : b.since_nanos()) {
    if (!ReadTime(n, false, &since.emplace_back())) {
      return SnapshotOutOfRange("behaviour declaration time");
    }
  }
  behaviors_.Reset(std::move(declared->behaviors), std::move(since));
  behaviors_.SetSegments(std::move(declared->segments));
  return absl::OkStatus();
}

void Engine::Impl::WriteBehaviorCells(uint32_t subject, v1::SnapshotSubject* s) const {
  for (size_t i = 0; i < behaviors_.size(); ++i) {
    const internal::BehaviorColumn& column = behaviors_.column(i);
    if (!column.Has(subject)) continue;
    v1::SnapshotBehaviorCell* cell = s->add_behaviors();
    cell->set_behavior(static_cast<uint32_t>(i));
    column.Write(subject, cell);
  }
}

absl::Status Engine::Impl::ReadBehaviorCells(uint32_t subject, const v1::SnapshotSubject& s) {
  for (const v1::SnapshotBehaviorCell& cell : s.behaviors()) {
    if (cell.behavior() >= behaviors_.size() ||
        behaviors_.spec(cell.behavior()).subject_type != s.type()) {
      return SnapshotOutOfRange("behaviour cell");
    }
    CAIRN_RETURN_IF_ERROR(behaviors_.column(cell.behavior()).Restore(subject, cell));
  }
  return absl::OkStatus();
}

}  // namespace cairn
