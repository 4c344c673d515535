// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: Snapshot and Restore: the records in their order, the
// restore that leaves nothing half-done, and the consistency check of what
// was read. Each record kind's writer, reader and check are side by side in
// the files named for them (engine_records.cc, subject_records.cc,
// slot_records.cc, timer_records.cc, message_records.cc).

#include "exec/engine_impl.h"

#include <istream>
#include <ostream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "cairn/options.h"
#include "cairn/status_macros.h"
#include "cairn/v1/snapshot.pb.h"
#include "exec/engine_state.h"
#include "exec/sent_messages.h"
#include "snapshot/record_arena.h"
#include "timer/timer_queue.h"
#include "util/record_io.h"

namespace cairn {

using internal::JourneyEntry;
using internal::JourneyVersion;

absl::Status Engine::Impl::Snapshot(std::ostream& out) const {
  internal::RecordWriter w(&out);
  internal::RecordArena records;
  CAIRN_RETURN_IF_ERROR(WriteHeader(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteClock(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteJourneys(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteBehaviors(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteSubjects(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteSchedules(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteEnrollments(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteTrackers(&w, &records));
  CAIRN_RETURN_IF_ERROR(WritePendingSequences(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteFreeSlots(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteTimers(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteSeen(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteMessages(&w, &records));
  v1::SnapshotRecord* trailer = records.Next();
  trailer->mutable_trailer()->set_records(w.records());
  CAIRN_RETURN_IF_ERROR(w.Write(*trailer));
  out.flush();
  if (!out) return absl::DataLossError("snapshot: write failed");
  return absl::OkStatus();
}

void Engine::Impl::ResetToPristine() {
  // (Journey states, version counters and stats are put back by Restore,
  // which saved them before reading.)
  internal::EngineState::Reset(options_.start_time);
}

absl::Status Engine::Impl::Restore(std::istream& in) {
  if (!Fresh()) {
    return absl::FailedPreconditionError(
        "Restore needs a fresh engine: create one, deploy the snapshot's journeys, then "
        "restore before any input");
  }
  // What a fresh engine may already hold (journey states set by the host,
  // counters of rejected inputs), put back if the restore fails.
  std::vector<v1::JourneyState> states;
  for (const JourneyEntry& j : journeys_) states.push_back(j.state);
  std::vector<std::pair<internal::VersionCounters, bool>> counters;
  for (const JourneyVersion& v : versions_) counters.emplace_back(v.counters, v.retired);
  const EngineStats stats = stats_;
  // The declarations become the snapshot's (none, if it has no record).
  std::vector<internal::BehaviorSpec> behavior_specs = behaviors_.specs();
  std::vector<internal::SegmentSpec> segment_specs = behaviors_.segments();
  std::vector<absl::Time> behavior_since;
  for (size_t i = 0; i < behaviors_.size(); ++i) behavior_since.push_back(behaviors_.since(i));
  behaviors_.Reset({}, {});
  behaviors_.SetSegments({});
  segment_members_.Index(behaviors_);

  internal::RecordReader reader(&in);
  absl::Status status = RestoreRecords(&reader);
  if (!status.ok()) {
    ResetToPristine();  // Nothing half-restored survives.
    for (uint32_t j = 0; j < journeys_.size(); ++j) SetScheduleClock(j);
    behaviors_.Reset(std::move(behavior_specs), std::move(behavior_since));
    behaviors_.SetSegments(std::move(segment_specs));
    segment_members_.Index(behaviors_);  // The engine was fresh: no members.
    for (size_t j = 0; j < journeys_.size(); ++j) {
      JourneyEntry& journey = journeys_[j];
      journey.state = states[j];
      // A fresh engine has had no entries.
      journey.entries_on_day = journey.entries_in_occurrence = 0;
      journey.entry_day = journey.occurrence_day = 0;
      journey.rate_sends.clear();
    }
    for (size_t v = 0; v < versions_.size(); ++v) {
      versions_[v].counters = std::move(counters[v].first);
      versions_[v].retired = counters[v].second;
      StartRollouts(&versions_[v]);  // As the deploys to this fresh engine did.
    }
    UpdateRolloutDue();
    stats_ = stats;
  }
  return status;
}

absl::Status Engine::Impl::RestoreRecords(internal::RecordReader* reader) {
  internal::RecordArena records;
  v1::SnapshotRecord* first = records.Next();
  CAIRN_ASSIGN_OR_RETURN(bool have, reader->Read(first));
  if (!have || first->kind_case() != v1::SnapshotRecord::kHeader) {
    return absl::DataLossError("snapshot: does not start with a header");
  }
  CAIRN_RETURN_IF_ERROR(ReadHeader(first->header()));
  // The clocks the deploys set at the fresh engine's time give way to the
  // snapshot's.
  schedule_clocks_.clear();
  schedule_runs_.clear();
  // Likewise the rules' states (InfinitePast: none restored).
  for (JourneyVersion& v : versions_) {
    for (internal::RolloutState& r : v.rollouts) r.started = absl::InfinitePast();
  }
  RestoredTimers restored_timers;
  while (true) {
    v1::SnapshotRecord* next = records.Next();
    CAIRN_ASSIGN_OR_RETURN(bool more, reader->Read(next));
    if (!more) return absl::DataLossError("snapshot: truncated (no trailer)");
    const v1::SnapshotRecord& r = *next;
    switch (r.kind_case()) {
      case v1::SnapshotRecord::kClock:
        CAIRN_RETURN_IF_ERROR(ReadClock(r.clock()));
        break;
      case v1::SnapshotRecord::kJourney:
        CAIRN_RETURN_IF_ERROR(ReadJourney(r.journey()));
        break;
      case v1::SnapshotRecord::kCounters:
        CAIRN_RETURN_IF_ERROR(ReadCounters(r.counters()));
        break;
      case v1::SnapshotRecord::kBehaviors:
        CAIRN_RETURN_IF_ERROR(ReadBehaviors(r.behaviors()));
        break;
      case v1::SnapshotRecord::kSubject:
        CAIRN_RETURN_IF_ERROR(ReadSubject(r.subject()));
        break;
      case v1::SnapshotRecord::kEnrollment:
        CAIRN_RETURN_IF_ERROR(ReadEnrollment(r.enrollment()));
        break;
      case v1::SnapshotRecord::kTracker:
        CAIRN_RETURN_IF_ERROR(ReadTracker(r.tracker()));
        break;
      case v1::SnapshotRecord::kPendingSequence:
        CAIRN_RETURN_IF_ERROR(ReadPendingSequence(r.pending_sequence()));
        break;
      case v1::SnapshotRecord::kFreeSlots:
        CAIRN_RETURN_IF_ERROR(ReadFreeSlots(r.free_slots()));
        break;
      case v1::SnapshotRecord::kTimer:
        CAIRN_RETURN_IF_ERROR(ReadTimer(r.timer(), &restored_timers));
        break;
      case v1::SnapshotRecord::kSeen:
        CAIRN_RETURN_IF_ERROR(ReadSeen(r.seen()));
        break;
      case v1::SnapshotRecord::kMessage:
        CAIRN_RETURN_IF_ERROR(ReadMessage(r.message()));
        break;
      case v1::SnapshotRecord::kSchedule:
        CAIRN_RETURN_IF_ERROR(ReadSchedule(r.schedule()));
        break;
      case v1::SnapshotRecord::kForgotten:
        CAIRN_RETURN_IF_ERROR(ReadForgotten(r.forgotten()));
        break;
      case v1::SnapshotRecord::kRateLimit:
        CAIRN_RETURN_IF_ERROR(ReadRateLimit(r.rate_limit()));
        break;
      case v1::SnapshotRecord::kTrailer:
        if (r.trailer().records() + 1 != reader->records()) {
          return absl::DataLossError("snapshot: record count does not match the trailer");
        }
        ScheduleRestoredTimers(&restored_timers);
        absl::flat_hash_map<uint64_t, uint32_t>().swap(restored_uids_);
        segments_checked_subjects_ = subjects_.size();
        CAIRN_RETURN_IF_ERROR(FinishRestoredSchedules());
        CAIRN_RETURN_IF_ERROR(FinishRestoredRollouts());
        return CheckRestoredState();
      default:
        return absl::DataLossError("snapshot: unexpected record");
    }
  }
}

// Every index a restored record holds must point where the live engine
// relies on it pointing: a checksum only proves the bytes are the ones
// written, not that a writer (or a fuzzer) wrote a consistent state.
absl::Status Engine::Impl::CheckRestoredState() const {
  CAIRN_RETURN_IF_ERROR(CheckEnrollments());
  CAIRN_RETURN_IF_ERROR(CheckCounters());
  CAIRN_RETURN_IF_ERROR(CheckTrackers());
  CAIRN_RETURN_IF_ERROR(CheckPendingSequences());
  CAIRN_RETURN_IF_ERROR(CheckSubjects());
  CAIRN_RETURN_IF_ERROR(CheckFreeSlots());
  CAIRN_RETURN_IF_ERROR(CheckMessages());
  CAIRN_RETURN_IF_ERROR(CheckTimers());
  CAIRN_RETURN_IF_ERROR(CheckDeployedBehaviorReads());
  return absl::OkStatus();
}

}  // namespace cairn
