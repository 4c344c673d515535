// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: segment membership. Which known subjects are in each
// declared segment is kept up to date: an input queues a re-check of the
// segments that read what it changed (the behaviours that counted an
// event, the attributes a profile update changed), a subject seen for the
// first time is checked against every segment of its type, and a segment
// whose answer time alone can change schedules the subject's re-check at
// the exact instant it can (a subject timer). Transitions are counted and
// enter the journeys whose segment triggers ask for them.

#include "exec/engine_impl.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "cairn/options.h"
#include "compile/journey_graph.h"
#include "exec/bindings.h"
#include "exec/engine_state.h"
#include "predicate/predicate.h"

namespace cairn {

using internal::FindSorted;
using internal::GraphNode;
using internal::JourneyVersion;
using internal::TimerKind;

void Engine::Impl::QueueAttributeChecks(uint32_t subject, const Attributes& profile,
                                        const std::vector<std::pair<std::string, Value>>& update,
                                        bool triggers) {
  if (segment_members_.empty()) return;
  for (const auto& [name, value] : update) {
    const std::vector<int>* segments = segment_members_.ReadingAttribute(name);
    if (segments == nullptr || internal::SameAttributeValue(FindSorted(profile, name), value)) {
      continue;
    }
    QueueSegmentChecks(subject, *segments, triggers);
  }
}

void Engine::Impl::CheckSegmentsNow() {
  if (segment_members_.empty()) return;
  // Subjects seen for the first time: every segment of their type.
  for (; segments_checked_subjects_ < subjects_.size(); ++segments_checked_subjects_) {
    const uint32_t subject = static_cast<uint32_t>(segments_checked_subjects_);
    if (const std::vector<int>* all =
            segment_members_.OfType(subjects_.TypeOf(subjects_[subject]))) {
      QueueSegmentChecks(subject, *all, /*triggers=*/true);
    }
  }
  if (segment_checks_.empty()) return;
  segment_batch_.swap(segment_checks_);
  segment_checks_.clear();
  std::sort(segment_batch_.begin(), segment_batch_.end(),
            [](const SegmentCheck& a, const SegmentCheck& b) {
              return a.subject != b.subject ? a.subject < b.subject : a.segment < b.segment;
            });
  const internal::StepContext step = StepNow();
  size_t i = 0;
  while (i < segment_batch_.size()) {
    const uint32_t subject = segment_batch_[i].subject;
    while (i < segment_batch_.size() && segment_batch_[i].subject == subject) {
      const int32_t segment = segment_batch_[i].segment;
      bool triggers = false;
      for (; i < segment_batch_.size() && segment_batch_[i].subject == subject &&
             segment_batch_[i].segment == segment;
           ++i) {
        triggers = triggers || segment_batch_[i].triggers;
      }
      const bool in =
          behaviors_.InSegment(segment, subject, &subjects_[subject].profile, step.read);
      if (in == segment_members_.Contains(segment, subject)) continue;
      segment_members_.Set(segment, subject, in);
      segment_members_.CountTransition(segment, in);
      if (triggers) segment_entries_.push_back({subject, segment, in});
    }
    ScheduleRecheck(subject);
  }
  segment_batch_.clear();
}

void Engine::Impl::CheckSegments() {
  if (segment_members_.empty()) return;
  CheckSegmentsNow();
  // Journeys entered below may queue more checks (their update nodes);
  // those never trigger, so this ends.
  while (!segment_entries_.empty()) {
    std::vector<SegmentChange> entries;
    entries.swap(segment_entries_);
    for (const SegmentChange& e : entries) EnterOnSegmentChange(e.subject, e.segment, e.entered);
    CheckSegmentsNow();
  }
}

void Engine::Impl::ScheduleRecheck(uint32_t subject) {
  absl::Time next = absl::InfiniteFuture();
  if (const std::vector<int>* timed =
          segment_members_.TimeDrivenOfType(subjects_.TypeOf(subjects_[subject]))) {
    const internal::StepContext step = StepNow();
    for (int i : *timed) {
      next = std::min(next, behaviors_.SegmentNextChange(i, subject, &subjects_[subject].profile,
                                                         step.read));
    }
  }
  auto it = recheck_at_.find(subject);
  if (next >= LatestInputTime()) {
    // Never, or past what the engine can hold: no time can reach it.
    if (it != recheck_at_.end()) recheck_at_.erase(it);
    return;
  }
  // Up to a whole nanosecond, what the timer queue holds: a timer must
  // not fire before the change it is for.
  const absl::Time floor = absl::FromUnixNanos(absl::ToUnixNanos(next));
  if (floor < next) next = floor + absl::Nanoseconds(1);
  if (it != recheck_at_.end() && it->second == next) return;
  recheck_at_[subject] = next;
  // The one it replaces, if any, is left to fire stale.
  ScheduleTimer(next, subject, internal::kRecheck, TimerKind::kSubject);
}

void Engine::Impl::FireRecheck(uint32_t subject, absl::Time due) {
  auto it = recheck_at_.find(subject);
  if (it == recheck_at_.end() || it->second != due) return;  // Stale.
  recheck_at_.erase(it);
  if (const std::vector<int>* timed =
          segment_members_.TimeDrivenOfType(subjects_.TypeOf(subjects_[subject]))) {
    QueueSegmentChecks(subject, *timed, /*triggers=*/true);
  }
}

void Engine::Impl::RebuildSegmentMembers(const std::vector<std::string>& kept) {
  // Counts of the segments declared as they were, by name.
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> counts;
  for (size_t i = 0; i < segment_members_.size(); ++i) {
    if (std::find(kept.begin(), kept.end(), segment_members_.name(i)) != kept.end()) {
      counts.push_back({segment_members_.name(i),
                        {segment_members_.entered(i), segment_members_.left(i)}});
    }
  }
  segment_members_.Index(behaviors_);
  for (size_t i = 0; i < segment_members_.size(); ++i) {
    for (const auto& [name, c] : counts) {
      if (name == segment_members_.name(i)) segment_members_.SetCounts(i, c.first, c.second);
    }
  }
  const internal::StepContext step = StepNow();
  for (uint32_t subject = 0; subject < subjects_.size(); ++subject) {
    if (const std::vector<int>* all =
            segment_members_.OfType(subjects_.TypeOf(subjects_[subject]))) {
      for (int i : *all) {
        segment_members_.Set(i, subject,
                             behaviors_.InSegment(i, subject, &subjects_[subject].profile,
                                                  step.read));
      }
    }
    ScheduleRecheck(subject);
  }
  segments_checked_subjects_ = subjects_.size();
}

void Engine::Impl::EnterOnSegmentChange(uint32_t subject, int segment, bool entered) {
  auto listeners = segment_listeners_.find(segment_members_.name(segment));
  if (listeners == segment_listeners_.end()) return;
  const Attributes context = {{"segment", Value::String(segment_members_.name(segment))}};
  const std::string& type = subjects_.TypeOf(subjects_[subject]);
  for (const TriggerListener& l : listeners->second) {
    const JourneyVersion& v = versions_[l.version];
    if (v.subject_type != type) continue;
    const GraphNode& trigger = v.graph->nodes[l.node];
    if (trigger.segment_left == entered) continue;
    TryEnter(l.version, l.node, subject, nullptr, context);
  }
}

void Engine::Impl::EnterExistingMembers(uint32_t version) {
  const JourneyVersion& v = versions_[version];
  for (int32_t t : v.graph->triggers) {
    const GraphNode& trigger = v.graph->nodes[t];
    if (trigger.segment.empty() || !trigger.existing_members) continue;
    const int segment = behaviors_.FindSegment(trigger.segment);
    if (segment < 0) continue;  // Deploy checked it is declared.
    const Attributes context = {{"segment", Value::String(trigger.segment)}};
    for (uint32_t subject : segment_members_.Members(segment)) {
      TryEnter(version, t, subject, nullptr, context);
    }
  }
  CheckSegments();
}

}  // namespace cairn
