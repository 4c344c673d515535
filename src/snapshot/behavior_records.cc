// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: the behaviour records: the declarations with the segments'
// counts (one record, after the journeys and before the subjects) and each
// subject's cells, segments and pending re-check (inside its subject
// record); written, read, and checked against the journeys.

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
  for (size_t i = 0; i < segment_members_.size(); ++i) {
    b->add_segment_entered(segment_members_.entered(i));
    b->add_segment_left(segment_members_.left(i));
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
  const size_t segments = declared->segments.size();
  if (b.segment_entered_size() != static_cast<int>(segments) ||
      b.segment_left_size() != static_cast<int>(segments)) {
    return SnapshotOutOfRange("segment counts");
  }
  behaviors_.Reset(std::move(declared->behaviors), std::move(since));
  behaviors_.SetSegments(std::move(declared->segments));
  segment_members_.Index(behaviors_);
  for (size_t i = 0; i < segments; ++i) {
    const int64_t entered = b.segment_entered(i);
    const int64_t left = b.segment_left(i);
    // (Members present when a segment was declared never entered it, so
    // the counts bound nothing else: only their range is checked.)
    if (entered < 0 || left < 0 || entered > internal::kMaxRestoredCount ||
        left > internal::kMaxRestoredCount) {
      return SnapshotOutOfRange("segment counts");
    }
    segment_members_.SetCounts(i, entered, left);
  }
  return absl::OkStatus();
}

void Engine::Impl::WriteSubjectBehaviors(uint32_t subject, v1::SnapshotSubject* s) const {
  for (size_t i = 0; i < behaviors_.size(); ++i) {
    const internal::BehaviorColumn& column = behaviors_.column(i);
    if (!column.Has(subject)) continue;
    v1::SnapshotBehaviorCell* cell = s->add_behaviors();
    cell->set_behavior(static_cast<uint32_t>(i));
    column.Write(subject, cell);
  }
  for (size_t i = 0; i < segment_members_.size(); ++i) {
    if (segment_members_.Contains(i, subject)) s->add_segments(static_cast<uint32_t>(i));
  }
  if (auto it = recheck_at_.find(subject); it != recheck_at_.end()) {
    s->set_recheck_nanos(Nanos(it->second));
  }
}

absl::Status Engine::Impl::ReadSubjectBehaviors(uint32_t subject, const v1::SnapshotSubject& s) {
  for (const v1::SnapshotBehaviorCell& cell : s.behaviors()) {
    if (cell.behavior() >= behaviors_.size() ||
        behaviors_.spec(cell.behavior()).subject_type != s.type()) {
      return SnapshotOutOfRange("behaviour cell");
    }
    CAIRN_RETURN_IF_ERROR(behaviors_.column(cell.behavior()).Restore(subject, cell));
  }
  for (int k = 0; k < s.segments_size(); ++k) {
    const uint32_t i = s.segments(k);
    if (i >= segment_members_.size() || segment_members_.subject_type(i) != s.type() ||
        (k > 0 && i <= s.segments(k - 1))) {
      return SnapshotOutOfRange("subject's segment");
    }
    segment_members_.Set(i, subject, true);
  }
  if (s.recheck_nanos() != 0) {
    if (!ReadTime(s.recheck_nanos(), false, &recheck_at_[subject])) {
      return SnapshotOutOfRange("subject's re-check time");
    }
  }
  return absl::OkStatus();
}

}  // namespace cairn
