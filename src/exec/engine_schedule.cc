// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: scheduled entry (Trigger.schedule). Each journey whose
// newest version has a schedule trigger has a clock: the date of its next
// occurrence not yet begun. When engine time reaches an occurrence (ordered
// with the timers), a run begins over every subject of the journey's type
// the engine knows then, one bit per subject slot, and is evaluated in
// slices of EngineOptions::scheduled_run_slice subjects: one when it
// begins, one per input after that, and as many as a host asks for with
// Engine::RunScheduled. A subject an input or a timer is about to touch is
// evaluated first, if its run has not reached it, and every evaluation reads
// the subject as of the occurrence's instant: so slicing never changes who
// enters. A run in the subjects' own zones evaluates each subject once its
// local time has come, in passes at each such instant.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "compile/journey_graph.h"
#include "exec/bindings.h"
#include "exec/engine_impl.h"
#include "exec/engine_state.h"
#include "timer/local_time.h"
#include "timer/schedule.h"

namespace cairn {

using internal::JourneyVersion;
using internal::ScheduleClock;
using internal::ScheduleRun;

namespace {

bool TestBit(const std::vector<uint64_t>& bits, size_t i) {
  return (bits[i / 64] >> (i % 64)) & 1;
}

void ClearBit(std::vector<uint64_t>* bits, size_t i) {
  (*bits)[i / 64] &= ~(uint64_t{1} << (i % 64));
}

}  // namespace

const internal::GraphNode* Engine::Impl::ScheduleTriggerOf(uint32_t journey) const {
  const JourneyVersion& v = versions_[journeys_[journey].versions.back()];
  if (v.graph->schedule_trigger < 0) return nullptr;
  return &v.graph->nodes[v.graph->schedule_trigger];
}

absl::Time Engine::Impl::OccurrenceBegins(uint32_t journey, absl::CivilDay date) const {
  const JourneyVersion& v = versions_[journeys_[journey].versions.back()];
  const internal::GraphNode& trigger = v.graph->nodes[v.graph->schedule_trigger];
  if (trigger.subject_time_zone) return internal::EarliestInstant(*trigger.recurrence, date);
  return internal::OccurrenceInstant(*trigger.recurrence, date, v.graph->default_time_zone);
}

void Engine::Impl::SetScheduleClock(uint32_t journey) {
  auto clock = std::find_if(schedule_clocks_.begin(), schedule_clocks_.end(),
                            [&](const ScheduleClock& c) { return c.journey == journey; });
  const internal::GraphNode* trigger = ScheduleTriggerOf(journey);
  if (trigger == nullptr) {
    // A version without a schedule ends the journey's runs too: nobody is
    // left to evaluate them for.
    if (clock != schedule_clocks_.end()) schedule_clocks_.erase(clock);
    schedule_runs_.erase(std::remove_if(schedule_runs_.begin(), schedule_runs_.end(),
                                        [&](const ScheduleRun& r) { return r.journey == journey; }),
                         schedule_runs_.end());
    UpdateScheduleDue();
    return;
  }
  // The first occurrence not yet begun: from the clock's own next date (a
  // new version never repeats an occurrence already run), or from the day
  // before today in the journey's zone (a subject-zone occurrence begins up
  // to 14 hours before the date reaches that zone).
  const JourneyVersion& v = versions_[journeys_[journey].versions.back()];
  absl::CivilDay from = absl::ToCivilDay(now_, v.graph->default_time_zone) - 1;
  if (clock != schedule_clocks_.end()) {
    if (!clock->next) return;  // Nothing left to run.
    from = *clock->next;
  } else {
    // Kept in journey order: occurrences due at the same instant begin in
    // that order.
    clock = schedule_clocks_.insert(
        std::find_if(schedule_clocks_.begin(), schedule_clocks_.end(),
                     [&](const ScheduleClock& c) { return c.journey > journey; }),
        ScheduleClock{journey, {}});
  }
  std::optional<absl::CivilDay> next = internal::OccurrenceOnOrAfter(*trigger->recurrence, from);
  while (next && OccurrenceBegins(journey, *next) < now_) {
    next = internal::OccurrenceOnOrAfter(*trigger->recurrence, *next + 1);
  }
  clock->next = next;
  UpdateScheduleDue();
}

void Engine::Impl::UpdateScheduleDue() {
  absl::Time due = absl::InfiniteFuture();
  for (const ScheduleClock& c : schedule_clocks_) {
    if (c.next) due = std::min(due, OccurrenceBegins(c.journey, *c.next));
  }
  for (const ScheduleRun& r : schedule_runs_) {
    if (r.next_pass > now_) due = std::min(due, r.next_pass);
  }
  schedule_due_ = due;
}

void Engine::Impl::FireScheduleDue() {
  const absl::Time due = schedule_due_;
  if (due > now_) now_ = due;
  // Occurrences that begin now, in journey order.
  for (ScheduleClock& c : schedule_clocks_) {
    if (c.next && OccurrenceBegins(c.journey, *c.next) <= now_) BeginOccurrence(&c);
  }
  UpdateScheduleDue();
  RunScheduledSlice(options_.scheduled_run_slice);
}

void Engine::Impl::BeginOccurrence(ScheduleClock* clock) {
  const uint32_t journey = clock->journey;
  const absl::CivilDay date = *clock->next;
  const internal::GraphNode* trigger = ScheduleTriggerOf(journey);
  clock->next = internal::OccurrenceOnOrAfter(*trigger->recurrence, date + 1);
  // The journey's earlier runs first evaluate, whole, every subject whose
  // occurrence has come: so a journey never holds more than the runs whose
  // subjects' local times are still to come (at most two a day, in the
  // subjects' own zones), however far one input moves time.
  for (size_t i = 0; i < schedule_runs_.size(); ++i) {
    ScheduleRun& earlier = schedule_runs_[i];
    if (earlier.journey != journey) continue;
    earlier.cursor = 0;
    earlier.next_pass = absl::InfinitePast();
    earlier.pass_min = absl::InfiniteFuture();
    int64_t all = std::numeric_limits<int64_t>::max();
    AdvanceRun(i, &all);
  }
  RemoveFinishedRuns();
  internal::ScheduleCounters& counts =
      versions_[journeys_[journey].versions.back()].counters.schedule;
  ++counts.occurrences;
  if (journeys_[journey].state != v1::ACTIVE) {
    ++counts.skipped;
    return;
  }
  const size_t n = subjects_.size();
  if (n == 0) {
    ++counts.completed;
    return;
  }
  ScheduleRun run;
  run.journey = journey;
  run.date = date;
  run.begins = now_;
  // Every slot: a subject of another type is passed over when the run
  // reaches it. (Marking only the journey's type would read every
  // subject's record now, a pause of its own over millions.)
  run.pending.assign((n + 63) / 64, ~uint64_t{0});
  if (n % 64 != 0) run.pending.back() = (uint64_t{1} << (n % 64)) - 1;
  run.remaining = n;
  schedule_runs_.push_back(std::move(run));
}

absl::Time Engine::Impl::SubjectOccurrence(const ScheduleRun& run, uint32_t subject) {
  const JourneyVersion& v = versions_[journeys_[run.journey].versions.back()];
  const internal::GraphNode& trigger = v.graph->nodes[v.graph->schedule_trigger];
  if (!trigger.subject_time_zone) return run.begins;
  const absl::TimeZone zone =
      internal::ZoneNamedBy(internal::FindSorted(subjects_[subject].profile,
                                                 v.graph->time_zone_attribute),
                            v.graph->default_time_zone, &zone_cache_, /*unknown_zones=*/nullptr);
  return internal::OccurrenceInstant(*trigger.recurrence, run.date, zone);
}

void Engine::Impl::EvaluateScheduled(ScheduleRun* run, uint32_t subject, absl::Time as_of) {
  ClearBit(&run->pending, subject);
  --run->remaining;
  if (subjects_[subject].erased) return;  // Forgotten: in no audience.
  const uint32_t version = journeys_[run->journey].versions.back();
  JourneyVersion& v = versions_[version];
  const int32_t trigger_node = v.graph->schedule_trigger;
  if (trigger_node < 0 || subjects_.TypeOf(subjects_[subject]) != v.subject_type) return;
  const internal::GraphNode& trigger = v.graph->nodes[trigger_node];
  ++v.counters.schedule.evaluated;
  // The audience as of the occurrence: behaviours and segments read at its
  // instant, the profile as it was then (nothing of the subject has
  // changed since, or it would have been evaluated before the change).
  internal::StepContext context = StepNow();
  context.read.now = as_of;
  const internal::SubjectState& s = subjects_[subject];
  internal::StepBindings bindings(&s.profile, nullptr, nullptr, context, subject);
  if (!trigger.segment.empty()) {
    Value scratch;
    const Value* member = bindings.Find(internal::PathRoot::kSegment, trigger.segment, &scratch);
    if (member == nullptr || member->type() != Value::Type::kBool || !member->bool_value()) {
      return;
    }
  }
  if (!trigger.predicate.Evaluate(bindings)) return;
  ++v.counters.schedule.matched;
  Attributes entry;
  entry.emplace_back("occurrence", Value::String(absl::FormatCivilTime(run->date)));
  TryEnter(version, trigger_node, subject, nullptr, entry, run->date);
}

void Engine::Impl::AdvanceRun(size_t index, int64_t* budget) {
  ScheduleRun& run = schedule_runs_[index];
  // (Entering runs journeys, which never begin or end a run: `run` stays
  // valid.)
  const size_t end = run.pending.size() * 64;
  while (*budget > 0 && run.remaining > 0 && run.cursor < end) {
    const uint64_t word = run.pending[run.cursor / 64] >> (run.cursor % 64);
    if (word == 0) {
      run.cursor = (run.cursor / 64 + 1) * 64;
      continue;
    }
    const uint32_t subject = static_cast<uint32_t>(run.cursor + __builtin_ctzll(word));
    run.cursor = subject + 1;
    --*budget;
    const absl::Time at = SubjectOccurrence(run, subject);
    if (at > now_) {
      run.pass_min = std::min(run.pass_min, at);
      continue;
    }
    EvaluateScheduled(&run, subject, at);
    CheckSegments();
  }
  if (run.remaining > 0 && run.cursor >= end) {
    // A pass is over and subjects remain whose local time has not come:
    // the next pass is at the earliest of them.
    run.cursor = 0;
    run.next_pass = run.pass_min;
    run.pass_min = absl::InfiniteFuture();
  }
}

void Engine::Impl::RemoveFinishedRuns() {
  for (size_t i = 0; i < schedule_runs_.size();) {
    const ScheduleRun& run = schedule_runs_[i];
    if (run.remaining > 0) {
      ++i;
      continue;
    }
    ++versions_[journeys_[run.journey].versions.back()].counters.schedule.completed;
    schedule_runs_.erase(schedule_runs_.begin() + static_cast<ptrdiff_t>(i));
  }
}

int64_t Engine::Impl::RunScheduledSlice(int64_t budget) {
  for (size_t i = 0; i < schedule_runs_.size() && budget > 0; ++i) {
    // Waiting for the next subjects' local time.
    if (schedule_runs_[i].next_pass > now_) continue;
    AdvanceRun(i, &budget);
  }
  RemoveFinishedRuns();
  UpdateScheduleDue();
  int64_t remaining = 0;
  for (const ScheduleRun& r : schedule_runs_) remaining += static_cast<int64_t>(r.remaining);
  return remaining;
}

void Engine::Impl::CatchUpScheduledNow(uint32_t subject) {
  bool finished = false;
  for (size_t i = 0; i < schedule_runs_.size(); ++i) {
    ScheduleRun& run = schedule_runs_[i];
    if (subject / 64 >= run.pending.size() || !TestBit(run.pending, subject)) continue;
    const absl::Time at = SubjectOccurrence(run, subject);
    if (at > now_) continue;  // Its occurrence has not come yet.
    EvaluateScheduled(&run, subject, at);
    finished |= run.remaining == 0;
  }
  // A run whose last subject this was is complete now, not at the next
  // slice: counted when it is, and never written to a snapshot with no
  // subject left (which Restore refuses as no run could be so).
  if (finished) {
    RemoveFinishedRuns();
    UpdateScheduleDue();
  }
}

}  // namespace cairn
