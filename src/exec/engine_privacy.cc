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
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cairn/status_macros.h"
#include "exec/engine_state.h"
#include "exec/input_checks.h"
#include "predicate/event_bindings.h"
#include "util/utf8.h"

namespace cairn {

using internal::FindSorted;
using internal::JourneyVersion;
using internal::SetSorted;

absl::Status Engine::Impl::CheckTimeNeverLate(absl::Time time, int64_t* rejected,
                                              absl::string_view what) {
  // Never too late: a person's request, or an identity learnt late, is not
  // lost to a clock; but it may not move time further than any input.
  if (time >= now_) return CheckTime(time, rejected, what);
  if (absl::Status s = internal::CheckInputTimeRange(time, what); !s.ok()) {
    ++*rejected;
    return s;
  }
  return absl::OkStatus();
}

void Engine::Impl::DropTracker(uint32_t t) {
  const internal::GoalTracker& tr = trackers_[t];
  ++versions_[tr.version].counters.journey_goals[tr.goal].overall.erased;
  ReleaseTracker(t);
}

absl::Status Engine::Impl::Forget(absl::string_view subject_id, absl::Time time,
                                  absl::string_view subject_type) {
  if (absl::Status valid = internal::CheckErasure(subject_id, subject_type,
                                                  options_.max_input_bytes);
      !valid.ok()) {
    ++stats_.erasures_rejected;
    return valid;
  }
  CAIRN_RETURN_IF_ERROR(CheckTimeNeverLate(time, &stats_.erasures_rejected, "erasure"));
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
  for (uint32_t t : subjects_[subject].trackers) DropTracker(t);
  // Completed sequence matches waiting for their absent window.
  for (const internal::SequenceProgress& p : subjects_[subject].sequences()) {
    if (p.pending != internal::kNoSlot) ReleasePending(p.pending);
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

absl::Status Engine::Impl::MergeSubjects(absl::string_view from_id, absl::string_view into_id,
                                         absl::Time time, absl::string_view subject_type) {
  if (absl::Status valid = internal::CheckMerge(from_id, into_id, subject_type,
                                                options_.max_input_bytes);
      !valid.ok()) {
    ++stats_.merges_rejected;
    return valid;
  }
  CAIRN_RETURN_IF_ERROR(CheckTimeNeverLate(time, &stats_.merges_rejected, "merge"));
  const absl::string_view type = internal::SubjectTypeOrDefault(subject_type);
  ApplyTime(time);
  const std::optional<uint32_t> from = subjects_.Find(type, from_id);
  if (!from) {
    ++stats_.merges_rejected;
    return absl::NotFoundError(absl::StrCat(
        "MergeSubjects: no subject ", internal::Escaped(type), "/", internal::Escaped(from_id),
        " is known to merge into ", internal::Escaped(into_id),
        " (never seen, or already merged or forgotten)"));
  }
  const uint32_t into = subjects_.Intern(type, into_id);
  CatchUpScheduled(into);
  MergeSubject(*from, into);
  ++stats_.merges_applied;
  CheckSegments();
  return absl::OkStatus();
}

void Engine::Impl::MergeSubject(uint32_t from, uint32_t into) {
  // 1. Enrollments. One in a journey (and instance key) where the known
  // subject has one in flight exits, reason "merged": the known subject's
  // enrollment, and the split arm it took, are kept. The others move.
  const internal::SlotList enrollments = subjects_[from].enrollments;
  std::vector<uint32_t> moving;
  std::vector<uint32_t> merged_away;  // Trackers of enrollments that exit.
  for (uint32_t slot : enrollments) {
    const internal::Enrollment& e = enrollments_[slot];
    if (!e.live) continue;
    const JourneyVersion& v = versions_[e.version];
    const std::string key = InstanceKey(*v.graph, ContextOf(e)).value_or("");
    bool known_has_one = false;
    for (uint32_t mine : subjects_[into].enrollments) {
      const internal::Enrollment& m = enrollments_[mine];
      known_has_one = known_has_one ||
                      (versions_[m.version].journey == v.journey &&
                       InstanceKey(*versions_[m.version].graph, ContextOf(m)).value_or("") == key);
    }
    if (!known_has_one) {
      moving.push_back(slot);
      continue;
    }
    // Its journey goals go with it (Exit detaches them: noted first).
    for (uint32_t t : subjects_[from].trackers) {
      if (trackers_[t].enrollment == slot) merged_away.push_back(t);
    }
    Exit(slot, "merged");
  }
  // 2. Re-entry histories: the known subject has entered whatever either
  // entered. The moved enrollments take entry numbers after the known
  // subject's, so that no message id it has had repeats.
  absl::InlinedVector<internal::JourneyHistory, 1> histories;
  histories.swap(subjects_[from].history);
  for (internal::JourneyHistory& h : histories) {
    internal::JourneyHistory& mine = History(into, h.journey, internal::KeyOf(h));
    const uint32_t before = mine.entries;
    for (uint32_t slot : moving) {
      internal::Enrollment& e = enrollments_[slot];
      const JourneyVersion& v = versions_[e.version];
      if (v.journey != h.journey ||
          InstanceKey(*v.graph, ContextOf(e)).value_or("") != internal::KeyOf(h)) {
        continue;
      }
      e.ordinal = before + e.ordinal;
    }
    mine.entries = before + h.entries;
    mine.active += h.active;
    if (internal::LastExit(h) > internal::LastExit(mine)) {
      internal::SetLastExit(&mine, internal::LastExit(h));
    }
  }
  for (uint32_t slot : moving) {
    enrollments_[slot].subject = into;
    subjects_[into].enrollments.push_back(slot);
  }
  subjects_[from].enrollments.clear();
  // 3. Journey goals: those of moved enrollments (and of finished ones)
  // measure the known subject from now on; those of enrollments that
  // exited as merged are counted as erased (the known subject's own goal
  // measures the journey).
  const internal::SlotList trackers = subjects_[from].trackers;
  for (uint32_t t : trackers) {
    internal::GoalTracker& tr = trackers_[t];
    if (std::find(merged_away.begin(), merged_away.end(), t) == merged_away.end()) {
      tr.subject = into;
      subjects_[into].trackers.push_back(t);
      continue;
    }
    DropTracker(t);
  }
  subjects_[from].trackers.clear();
  // 4. Partial sequence matches the known subject has none of move; the
  // rest are the known subject's to keep.
  internal::SubjectExtra::Sequences sequences;
  if (subjects_[from].extra) sequences.swap(subjects_[from].extra->sequences);
  bool moved_progress = false;
  for (internal::SequenceProgress& p : sequences) {
    if (FindProgress(into, p.version, p.node) == nullptr) {
      if (p.pending != internal::kNoSlot) pending_[p.pending].subject = into;
      subjects_[into].MutableExtra().sequences.push_back(std::move(p));
      moved_progress = true;
    } else if (p.pending != internal::kNoSlot) {
      ReleasePending(p.pending);
    }
  }
  if (moved_progress && !subjects_[into].progress_timer) FireProgressTimer(into);
  // 5. Profile: the known subject's values win; the other's fill what it
  // lacks, within the profile limits (what does not fit is dropped and
  // counted). Consent is never lost: the opt-out lists are joined.
  MergeProfile(from, into);
  // 6. Frequency-cap ledgers: both subjects' sends count.
  if (subjects_[from].extra) {
    for (const auto& [channel, times] : subjects_[from].extra->send_ledger) {
      std::vector<absl::Time>& mine = subjects_[into].MutableExtra().LedgerOf(channel);
      const size_t middle = mine.size();
      mine.insert(mine.end(), times.begin(), times.end());
      std::inplace_merge(mine.begin(), mine.begin() + static_cast<std::ptrdiff_t>(middle),
                         mine.end());
    }
    subjects_[from].extra.reset();
  }
  // 7. Behaviours combine (BehaviorColumn::Merge); segments are checked
  // again for the known subject.
  for (size_t b = 0; b < behaviors_.size(); ++b) behaviors_.column(b).Merge(from, into);
  MarkStateChanged(into);
  if (const std::vector<int>* all = segment_members_.OfType(subjects_.TypeOf(subjects_[into]))) {
    QueueSegmentChecks(into, *all, /*triggers=*/true);
  }
  // 8. The anonymous subject is gone: what is left of it is erased.
  EraseSubject(from);
}

void Engine::Impl::MergeProfile(uint32_t from, uint32_t into) {
  Attributes taken;
  taken.swap(subjects_[from].profile);
  Attributes& profile = subjects_[into].profile;
  int64_t bytes = internal::TextBytes(profile);
  for (auto& [name, value] : taken) {
    const Value* mine = FindSorted(profile, name);
    if (name == options_.opt_out_attribute && mine != nullptr &&
        mine->type() == Value::Type::kStringList && value.type() == Value::Type::kStringList) {
      std::vector<std::string> joined = mine->string_list_value();
      for (const std::string& c : value.string_list_value()) AddOptOut(&joined, c);
      bytes -= internal::TextBytes(name, *mine);
      Value list = Value::StringList(std::move(joined));
      bytes += internal::TextBytes(name, list);
      SetSorted(&profile, name, std::move(list));
      continue;
    }
    if (mine != nullptr) continue;  // The known subject's value wins.
    const int64_t more = internal::TextBytes(name, value);
    if (static_cast<int64_t>(profile.size()) >= options_.max_profile_attributes ||
        bytes + more > options_.max_profile_bytes) {
      ++stats_.limits_reached;  // Dropped: the merged profile would be over its limits.
      continue;
    }
    bytes += more;
    SetSorted(&profile, name, std::move(value));
  }
  // (MergeSubject checks every segment of the subject's type afterwards.)
}

}  // namespace cairn
