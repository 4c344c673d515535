// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: the timer records: written in firing order and numbered,
// read back and scheduled in that order, and checked to target a live slot
// of their kind.

#include "exec/engine_impl.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cairn/status_macros.h"
#include "cairn/v1/snapshot.pb.h"
#include "snapshot/record_arena.h"
#include "snapshot/snapshot_internal.h"
#include "timer/timer_queue.h"
#include "util/record_io.h"

namespace cairn {

using internal::Nanos;
using internal::ReadTime;
using internal::SnapshotOutOfRange;
using internal::TimerKind;

absl::Status Engine::Impl::WriteTimers(internal::RecordWriter* w,
                                       internal::RecordArena* records) const {
  // Timers in firing order, so a snapshot's bytes do not depend on how
  // buckets happened to be sorted; seq numbers that order from 0 (the queue
  // keeps no numbers: ties fire in the order they were scheduled).
  std::vector<internal::Timer> timers;
  timers.reserve(timers_.size());
  timers_.ForEach([&](const internal::Timer& t) { timers.push_back(t); });
  std::stable_sort(timers.begin(), timers.end(),
                   [](const internal::Timer& a, const internal::Timer& b) { return a.due < b.due; });
  uint64_t seq = 0;
  for (const internal::Timer& t : timers) {
    v1::SnapshotRecord* r = records->Next();
    v1::SnapshotTimer* st = r->mutable_timer();
    st->set_due_nanos(Nanos(t.due));
    st->set_seq(seq++);
    st->set_target(t.target);
    st->set_generation(t.generation);
    st->set_kind(t.kind);
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

// A timer, kept in *restored with its sequence number until the trailer:
// they are scheduled in firing order once all are read.
absl::Status Engine::Impl::ReadTimer(const v1::SnapshotTimer& st, RestoredTimers* restored) {
  if (st.kind() > internal::TimerQueue::kMaxKind) return SnapshotOutOfRange("timer target");
  absl::Time due;
  if (!ReadTime(st.due_nanos(), false, &due)) return SnapshotOutOfRange("timer due time");
  restored->push_back({st.seq(), internal::Timer{due, st.target(), st.generation(),
                                                 static_cast<uint8_t>(st.kind())}});
  return absl::OkStatus();
}

// Schedules the restored timers in firing order, (due, seq), whatever order
// they came in, so that ties fire as they would have.
void Engine::Impl::ScheduleRestoredTimers(RestoredTimers* restored) {
  std::sort(restored->begin(), restored->end(), [](const auto& a, const auto& b) {
    return a.second.due != b.second.due ? a.second.due < b.second.due : a.first < b.first;
  });
  // Each live enrollment's node timer at its generation is noted in it
  // again (Enrollment::due_nanos): the one scheduled last, as it was.
  absl::flat_hash_map<uint32_t, uint64_t> node_timer_seq;
  for (const auto& [seq, t] : *restored) {
    timers_.Schedule(t.due, t.target, t.generation, t.kind);
    // A live tracker's window end is its timer's due time.
    if (static_cast<TimerKind>(t.kind) == TimerKind::kTracker && t.target < trackers_.size() &&
        trackers_[t.target].live && trackers_[t.target].generation == t.generation) {
      trackers_[t.target].ends_nanos = absl::ToUnixNanos(t.due);
    }
    if (static_cast<TimerKind>(t.kind) == TimerKind::kNode && t.target < enrollments_.size() &&
        enrollments_[t.target].live && enrollments_[t.target].generation == t.generation) {
      auto [it, first] = node_timer_seq.try_emplace(t.target, seq);
      if (first || seq >= it->second) {
        it->second = seq;
        enrollments_[t.target].due_nanos = absl::ToUnixNanos(t.due);
      }
    }
    if (static_cast<TimerKind>(t.kind) == TimerKind::kSubject &&
        t.generation == internal::kProgress && t.target < subjects_.size()) {
      subjects_[t.target].progress_timer = true;
    }
  }
}

// Every timer's target is a slot of its kind.
absl::Status Engine::Impl::CheckTimers() const {
  bool timers_ok = true;
  timers_.ForEach([&](const internal::Timer& t) {
    size_t limit = 0;  // A kind past the last: no target is in range.
    switch (static_cast<TimerKind>(t.kind)) {
      case TimerKind::kNode: limit = enrollments_.size(); break;
      case TimerKind::kTracker: limit = trackers_.size(); break;
      case TimerKind::kSequence: limit = pending_.size(); break;
      case TimerKind::kSubject:
        limit = t.generation <= internal::kRecheck ? subjects_.size() : 0;
        break;
    }
    timers_ok = timers_ok && t.target < limit;
  });
  if (!timers_ok) return SnapshotOutOfRange("timer target");
  return absl::OkStatus();
}

}  // namespace cairn
