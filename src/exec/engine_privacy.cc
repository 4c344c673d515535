// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: erasure (Forget). A subject is forgotten in one step: its
// enrollments exit (reason "erased"), its journey goals stop measuring
// (counted as erased), and everything the engine held about it is dropped:
// profile, re-entry histories, partial sequence matches and completed ones
// waiting for silence, send ledgers, behaviour state, segment memberships,
// pending re-checks. Its record keeps only its type and the mark `erased`
// (exec/subject_table.h), so no snapshot written afterwards holds a byte of
// its id or data (docs/semantics.md, "Erasure").

#include "exec/engine_impl.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cairn/status_macros.h"
#include "exec/engine_state.h"
#include "exec/input_checks.h"
#include "predicate/event_bindings.h"
#include "util/utf8.h"

namespace cairn {

absl::Status Engine::Impl::Forget(absl::string_view subject_id, absl::Time time,
                                  absl::string_view subject_type) {
  if (absl::Status valid = internal::CheckErasure(subject_id, subject_type,
                                                  options_.max_input_bytes);
      !valid.ok()) {
    ++stats_.erasures_rejected;
    return valid;
  }
  // An erasure is never too late (a request must not be lost to a clock),
  // but it may not move time further than any other input.
  if (time >= now_) {
    CAIRN_RETURN_IF_ERROR(CheckTime(time, &stats_.erasures_rejected, "erasure"));
  } else if (absl::Status s = internal::CheckInputTimeRange(time, "erasure"); !s.ok()) {
    ++stats_.erasures_rejected;
    return s;
  }
  const absl::string_view type = internal::SubjectTypeOrDefault(subject_type);
  // Timers due by its time fire first, as for any input: what they do is
  // part of the subject's history, which the erasure then removes.
  ApplyTime(time);
  const std::optional<uint32_t> found = subjects_.Find(type, subject_id);
  if (!found) {
    ++stats_.erasures_rejected;
    return absl::NotFoundError(absl::StrCat("Forget: no subject ", internal::Escaped(type), "/",
                                            internal::Escaped(subject_id),
                                            " is known (never seen, or already forgotten)"));
  }
  EraseSubject(*found);
  ++stats_.erasures_applied;
  return absl::OkStatus();
}

void Engine::Impl::EraseSubject(uint32_t subject) {
  // Enrollments exit where they are, counted like any exit.
  const internal::SlotList enrollments = subjects_[subject].enrollments;
  for (uint32_t slot : enrollments) {
    if (enrollments_[slot].live) Exit(slot, "erased");
  }
  // Journey goals still measuring: counted as erased, never as converted
  // or expired, and not attributed to a split arm (an arm's counts are
  // attributed when a goal resolves).
  const internal::SlotList trackers = subjects_[subject].trackers;
  for (uint32_t t : trackers) {
    internal::GoalTracker& tr = trackers_[t];
    ++versions_[tr.version].counters.journey_goals[tr.goal].overall.erased;
    tr.live = false;
    tr.enrollment = internal::kNoSlot;
    ++tr.generation;  // Its window's timer is now stale.
    free_trackers_.push_back(t);
  }
  // Completed sequence matches waiting for their absent window.
  for (const internal::SequenceProgress& p : subjects_[subject].sequences) {
    if (p.pending == internal::kNoSlot) continue;
    internal::PendingSequence& pending = pending_[p.pending];
    pending.live = false;
    pending.context.clear();
    ++pending.generation;
    free_pending_.push_back(p.pending);
  }
  // Behaviour state and segment memberships. Leaving a segment this way is
  // counted as leaving (so entered - left stays the members), but enters or
  // exits no journey: there is nobody left to act on.
  for (size_t b = 0; b < behaviors_.size(); ++b) behaviors_.column(b).Remove(subject);
  for (size_t i = 0; i < segment_members_.size(); ++i) {
    if (!segment_members_.Contains(i, subject)) continue;
    segment_members_.Set(i, subject, false);
    segment_members_.CountTransition(i, false);
  }
  recheck_at_.erase(subject);  // Its re-check timer, if any, is now stale.
  const auto drop = [subject](std::vector<uint32_t>* list) {
    list->erase(std::remove(list->begin(), list->end(), subject), list->end());
  };
  drop(&state_changed_);
  segment_checks_.erase(std::remove_if(segment_checks_.begin(), segment_checks_.end(),
                                       [subject](const SegmentCheck& c) {
                                         return c.subject == subject;
                                       }),
                        segment_checks_.end());
  subjects_.Erase(subject);
}

}  // namespace cairn
