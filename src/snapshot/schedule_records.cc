// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: the schedule records: each scheduled journey's next
// occurrence and its runs in progress, with the subjects still to evaluate
// as a bit per subject slot; read back and checked against the subjects
// restored.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cairn/status_macros.h"
#include "cairn/v1/snapshot.pb.h"
#include "exec/engine_impl.h"
#include "snapshot/record_arena.h"
#include "snapshot/snapshot_internal.h"
#include "timer/local_time.h"
#include "util/record_io.h"
#include "util/utf8.h"

namespace cairn {

using internal::Nanos;
using internal::ReadTime;
using internal::ScheduleClock;
using internal::ScheduleRun;
using internal::SnapshotOutOfRange;

absl::Status Engine::Impl::WriteSchedules(internal::RecordWriter* w,
                                          internal::RecordArena* records) const {
  for (const ScheduleClock& c : schedule_clocks_) {
    v1::SnapshotRecord* r = records->Next();
    v1::SnapshotSchedule* s = r->mutable_schedule();
    s->set_journey_id(journeys_[c.journey].id);
    if (c.next) s->set_next_date(absl::FormatCivilTime(*c.next));
    for (size_t position = 0; position < schedule_runs_.size(); ++position) {
      const ScheduleRun& run = schedule_runs_[position];
      if (run.journey != c.journey) continue;
      v1::SnapshotScheduleRun* sr = s->add_runs();
      sr->set_position(position);
      sr->set_date(absl::FormatCivilTime(run.date));
      sr->set_begins_nanos(Nanos(run.begins));
      // The bits of the subjects there are: the vector may hold a word for
      // slots the engine never had, and holds none for subjects interned
      // since the run began (they are not in it: 0).
      std::string* bytes = sr->mutable_pending();
      bytes->assign((subjects_.size() + 7) / 8, '\0');
      for (size_t i = 0; i < bytes->size() && i / 8 < run.pending.size(); ++i) {
        (*bytes)[i] = static_cast<char>((run.pending[i / 8] >> (8 * (i % 8))) & 0xff);
      }
      sr->set_cursor(run.cursor);
      if (run.next_pass != absl::InfinitePast()) {
        sr->set_waiting(true);
        sr->set_next_pass_nanos(Nanos(run.next_pass));
      }
      if (run.pass_min != absl::InfiniteFuture()) {
        sr->set_skipped(true);
        sr->set_pass_min_nanos(Nanos(run.pass_min));
      }
    }
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadSchedule(const v1::SnapshotSchedule& s) {
  auto it = journey_index_.find(s.journey_id());
  if (it == journey_index_.end() || ScheduleTriggerOf(it->second) == nullptr) {
    return absl::DataLossError(absl::StrCat("snapshot: a schedule for journey \"",
                                            internal::Escaped(s.journey_id()),
                                            "\", which has no schedule trigger here"));
  }
  const uint32_t journey = it->second;
  for (const ScheduleClock& c : schedule_clocks_) {
    if (c.journey == journey) return SnapshotOutOfRange("repeated schedule");
  }
  ScheduleClock clock{journey, std::nullopt};
  if (!s.next_date().empty()) {
    clock.next = internal::ParseDate(s.next_date());
    if (!clock.next) return SnapshotOutOfRange("schedule date");
  }
  for (const v1::SnapshotScheduleRun& sr : s.runs()) {
    ScheduleRun run;
    run.journey = journey;
    const std::optional<absl::CivilDay> date = internal::ParseDate(sr.date());
    if (!date) return SnapshotOutOfRange("schedule run date");
    run.date = *date;
    if (!ReadTime(sr.begins_nanos(), false, &run.begins)) {
      return SnapshotOutOfRange("schedule run time");
    }
    // Subjects come before schedules: the bits must name no slot beyond
    // them.
    const std::string& bytes = sr.pending();
    if (bytes.size() != (subjects_.size() + 7) / 8) {
      return SnapshotOutOfRange("schedule run subjects");
    }
    run.pending.assign((subjects_.size() + 63) / 64, 0);
    for (size_t i = 0; i < bytes.size(); ++i) {
      run.pending[i / 8] |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * (i % 8));
    }
    for (size_t slot = subjects_.size(); slot < run.pending.size() * 64; ++slot) {
      if ((run.pending[slot / 64] >> (slot % 64)) & 1) {
        return SnapshotOutOfRange("schedule run subjects");
      }
    }
    for (uint64_t word : run.pending) run.remaining += static_cast<size_t>(__builtin_popcountll(word));
    if (run.remaining == 0 || sr.cursor() > subjects_.size()) {
      return SnapshotOutOfRange("schedule run");
    }
    run.cursor = static_cast<size_t>(sr.cursor());
    if (sr.waiting() && !ReadTime(sr.next_pass_nanos(), false, &run.next_pass)) {
      return SnapshotOutOfRange("schedule run time");
    }
    if (sr.skipped() && !ReadTime(sr.pass_min_nanos(), false, &run.pass_min)) {
      return SnapshotOutOfRange("schedule run time");
    }
    run.restored_position = sr.position();
    schedule_runs_.push_back(std::move(run));
  }
  schedule_clocks_.push_back(clock);
  return absl::OkStatus();
}

absl::Status Engine::Impl::FinishRestoredSchedules() {
  // Clocks in journey order, as deploys make them; a scheduled journey the
  // snapshot holds no clock for (written before it had a schedule) starts
  // from the restored engine time.
  std::sort(schedule_clocks_.begin(), schedule_clocks_.end(),
            [](const ScheduleClock& a, const ScheduleClock& b) { return a.journey < b.journey; });
  // Runs in the order they were in, which is the order they are evaluated.
  std::sort(schedule_runs_.begin(), schedule_runs_.end(),
            [](const ScheduleRun& a, const ScheduleRun& b) { return a.restored_position < b.restored_position; });
  for (size_t i = 0; i < schedule_runs_.size(); ++i) {
    if (schedule_runs_[i].restored_position != i) return SnapshotOutOfRange("schedule run positions");
  }
  for (uint32_t j = 0; j < journeys_.size(); ++j) {
    if (ScheduleTriggerOf(j) == nullptr) continue;
    const bool restored =
        std::any_of(schedule_clocks_.begin(), schedule_clocks_.end(),
                    [&](const ScheduleClock& c) { return c.journey == j; });
    if (!restored) SetScheduleClock(j);
  }
  UpdateScheduleDue();
  return absl::OkStatus();
}

}  // namespace cairn
