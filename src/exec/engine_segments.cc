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

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
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
  const std::string& type = subjects_.TypeOf(subjects_[subject]);
  for (const auto& [name, value] : update) {
    const std::vector<int>* segments = segment_members_.ReadingAttribute(type, name);
    if (segments == nullptr || internal::SameAttributeValue(FindSorted(profile, name), value)) {
      continue;
    }
    QueueSegmentChecks(subject, *segments, triggers);
  }
}

void Engine::Impl::CheckSegmentsNow() {
  if (segment_members_.empty()) return;
  // Subjects seen for the first time. Each is recorded in no segment,
  // which is right for every segment a subject holding nothing is not in:
  // whatever a new subject holds came from an input that queued a check of
  // each segment reading it (an event counted, a profile or attribute
  // written, a seed, a merge). So only the segments a subject holding
  // nothing is in are queued here, and every check of a new subject
  // triggers, as its first check would have.
  const size_t first_new = segments_checked_subjects_;
  for (; segments_checked_subjects_ < subjects_.size(); ++segments_checked_subjects_) {
    const uint32_t subject = static_cast<uint32_t>(segments_checked_subjects_);
    if (subjects_[subject].erased) continue;
    if (const std::vector<int>* all =
            segment_members_.OfType(subjects_.TypeOf(subjects_[subject]))) {
      for (int segment : *all) {
        if (behaviors_.InSegmentWhenBlank(segment)) {
          segment_checks_.push_back({subject, segment, /*triggers=*/true});
        }
      }
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
    // Whether a time-driven segment was checked: only then can the
    // subject's re-check time have moved (what the others read changed
    // nothing a time-driven segment reads, or it would be checked too).
    bool timed = false;
    if (subjects_[subject].erased) {  // Forgotten since the check was queued.
      while (i < segment_batch_.size() && segment_batch_[i].subject == subject) ++i;
      continue;
    }
    while (i < segment_batch_.size() && segment_batch_[i].subject == subject) {
      const int32_t segment = segment_batch_[i].segment;
      timed = timed || segment_members_.time_driven(segment);
      bool triggers = subject >= first_new;
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
    if (timed) ScheduleRecheck(subject);
  }
  segment_batch_.clear();
}

void Engine::Impl::CheckSegments() {
  if (segment_members_.empty() && state_changed_.empty()) return;
  CheckSegmentsNow();
  CheckStateConditions();
  // Journeys entered or moved on below may write profiles, which queues
  // more checks. Those never trigger, but they may release other waits,
  // which may write again: journeys releasing each other's waits in a loop
  // are stopped after kMaxRounds, what is left dropped and counted.
  constexpr int kMaxRounds = 16;
  for (int round = 0; !segment_entries_.empty() || !state_changed_.empty(); ++round) {
    if (round == kMaxRounds) {
      ++stats_.limits_reached;
      segment_entries_.clear();
      state_changed_.clear();
      segment_checks_.clear();
      break;
    }
    segment_entries_batch_.swap(segment_entries_);
    for (const SegmentChange& e : segment_entries_batch_) {
      EnterOnSegmentChange(e.subject, e.segment, e.entered);
    }
    segment_entries_batch_.clear();
    CheckSegmentsNow();
    CheckStateConditions();
  }
}

const internal::JourneyGraph::ExitCriterion* Engine::Impl::MetExitCriterion(uint32_t slot) {
  const internal::Enrollment& e = enrollments_[slot];
  const internal::JourneyGraph& graph = *versions_[e.version].graph;
  if (graph.exit_when.empty()) return nullptr;
  const internal::StepBindings bindings(&subjects_[e.subject].profile, nullptr, &ContextOf(e),
                                        StepNow(), e.subject);
  for (const internal::JourneyGraph::ExitCriterion& c : graph.exit_when) {
    if (c.condition.Evaluate(bindings)) return &c;
  }
  return nullptr;
}

int Engine::Impl::MetUntilBranch(uint32_t slot) {
  const internal::Enrollment& e = enrollments_[slot];
  const GraphNode& node = NodeOf(e);
  if (!node.waits_until) return -1;
  const internal::StepBindings bindings(&subjects_[e.subject].profile, nullptr, &ContextOf(e),
                                        StepNow(), e.subject);
  for (size_t b = 0; b < node.branch_predicates.size(); ++b) {
    if (node.def->wait().branches(static_cast<int>(b)).has_until() &&
        node.branch_predicates[b].Evaluate(bindings)) {
      return static_cast<int>(b);
    }
  }
  return -1;
}

void Engine::Impl::CheckStateConditions() {
  if (state_changed_.empty()) return;
  // (Not re-entered: nothing below calls CheckStateConditions, so the
  // batch's memory is reused from call to call.)
  std::vector<uint32_t>& subjects = state_changed_batch_;
  subjects.swap(state_changed_);
  std::sort(subjects.begin(), subjects.end());
  subjects.erase(std::unique(subjects.begin(), subjects.end()), subjects.end());
  for (uint32_t subject : subjects) {
    // Copied: visiting may end enrollments.
    const absl::InlinedVector<uint32_t, 8> live(subjects_[subject].enrollments.begin(),
                                                subjects_[subject].enrollments.end());
    for (uint32_t slot : live) {
      const internal::Enrollment& e = enrollments_[slot];
      if (!e.live || e.subject != subject || !versions_[e.version].graph->watches_state) {
        continue;
      }
      if (const internal::JourneyGraph::ExitCriterion* c = MetExitCriterion(slot)) {
        Exit(slot, absl::StrCat("exit_when:", c->name));
        continue;
      }
      if (const int branch = MetUntilBranch(slot); branch >= 0) {
        Leave(slot, branch);
        Run(slot, nullptr);
      }
    }
    ScheduleRecheck(subject);
  }
  subjects.clear();
}

void Engine::Impl::ScheduleRecheck(uint32_t subject) {
  absl::Time next = absl::InfiniteFuture();
  const internal::StepContext step = StepNow();
  const Attributes& profile = subjects_[subject].profile;
  if (const std::vector<int>* timed =
          segment_members_.TimeDrivenOfType(subjects_.TypeOf(subjects_[subject]))) {
    for (int i : *timed) {
      next = std::min(next, behaviors_.SegmentNextChange(i, subject, &profile, step.read));
    }
  }
  if (state_watchers_ > 0) {
    for (uint32_t slot : subjects_[subject].enrollments) {
      const internal::Enrollment& e = enrollments_[slot];
      const internal::JourneyGraph& graph = *versions_[e.version].graph;
      if (!graph.watches_state) continue;
      const internal::StepBindings bindings(&profile, nullptr, &ContextOf(e), step, subject);
      for (const internal::JourneyGraph::ExitCriterion& c : graph.exit_when) {
        next = std::min(next, c.condition.NextChange(bindings));
      }
      const GraphNode& node = graph.nodes[e.node];
      if (!node.waits_until) continue;
      for (const internal::CompiledPredicate& until : node.branch_predicates) {
        next = std::min(next, until.NextChange(bindings));
      }
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
  if (it != recheck_at_.end()) {
    if (it->second == next) return;
    it->second = next;
  } else {
    recheck_at_.emplace(subject, next);
  }
  // The one it replaces, if any, is left to fire stale.
  ScheduleTimer(next, subject, internal::kRecheck, TimerKind::kSubject);
}

void Engine::Impl::FireRecheck(uint32_t subject, absl::Time due) {
  auto it = recheck_at_.find(subject);
  if (it == recheck_at_.end() || it->second != due) return;  // Stale.
  recheck_at_.erase(it);
  MarkStateChanged(subject);
  if (const std::vector<int>* timed =
          segment_members_.TimeDrivenOfType(subjects_.TypeOf(subjects_[subject]))) {
    QueueSegmentChecks(subject, *timed, /*triggers=*/true);
  }
}

void Engine::Impl::RebuildSegmentMembers(const std::vector<int>& kept_from) {
  // Counts of the segments declared as they were, read before the index
  // (still the old set's) is rebuilt.
  std::vector<std::pair<int64_t, int64_t>> counts(kept_from.size(), {0, 0});
  for (size_t i = 0; i < kept_from.size(); ++i) {
    if (kept_from[i] >= 0) {
      counts[i] = {segment_members_.entered(kept_from[i]), segment_members_.left(kept_from[i])};
    }
  }
  segment_members_.Index(behaviors_);
  for (size_t i = 0; i < counts.size(); ++i) {
    segment_members_.SetCounts(i, counts[i].first, counts[i].second);
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
