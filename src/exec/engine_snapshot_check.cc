// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: the consistency check of a restored snapshot, part by part.
// A checksum only proves the bytes are the ones written, not that a writer
// (or a fuzzer) wrote a consistent state: every index a record holds must
// point where the running engine relies on it pointing.

#include "exec/engine_impl.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cairn/journey.h"
#include "cairn/status_macros.h"
#include "exec/engine_state.h"

namespace cairn {

using internal::ActionCounters;
using internal::Enrollment;
using internal::GoalTracker;
using internal::JourneyHistory;
using internal::JourneyVersion;
using internal::kMaxRestoredCount;
using internal::SentMessage;
using internal::SnapshotOutOfRange;
using internal::SubjectState;
using internal::TimerKind;

namespace {

// Whether `node` of `version` exists and is of `kind`.
bool NodeIs(const std::vector<JourneyVersion>& versions, uint32_t version, int32_t node,
            NodeKind kind) {
  return version < versions.size() && node >= 0 &&
         static_cast<size_t>(node) < versions[version].graph->nodes.size() &&
         versions[version].graph->nodes[node].kind == kind;
}

// Whether (split, variant) names a variant of a split of `version`, or is
// (-1, -1): none.
bool SplitOk(const std::vector<JourneyVersion>& versions, uint32_t version, int32_t split,
             int32_t variant) {
  if (split == -1) return variant == -1;
  return NodeIs(versions, version, split, NodeKind::kSplit) && variant >= 0 &&
         variant < versions[version].graph->nodes[split].def->split().variants_size();
}

// Whether `node` of `version` is a sequence trigger.
bool IsSequence(const std::vector<JourneyVersion>& versions, uint32_t version, int32_t node) {
  return NodeIs(versions, version, node, NodeKind::kTrigger) &&
         versions[version].graph->nodes[node].def->trigger().has_sequence();
}

// The total of `counts`; -1 for a negative count or a total past
// kMaxRestoredCount (which could overflow the sums checks make).
int64_t SumCounts(const internal::ReasonCounts& counts) {
  int64_t total = 0;
  for (const auto& [reason, count] : counts) {
    if (count < 0 || count > kMaxRestoredCount - total) return -1;
    total += count;
  }
  return total;
}

}  // namespace

// Live enrollments: their subject, id, counts and split, and their place in
// their subject's list; and their number.
absl::Status Engine::Impl::CheckEnrollments() const {
  int64_t live = 0;
  for (uint32_t slot = 0; slot < enrollments_.size(); ++slot) {
    const Enrollment& e = enrollments_[slot];
    if (!e.live) continue;
    ++live;
    if (e.subject >= subjects_.size()) return SnapshotOutOfRange("enrollment subject");
    // Ids are handed out by counting up: one at or past the next would be
    // handed out again.
    if (e.uid == 0 || e.uid > next_enrollment_uid_) return SnapshotOutOfRange("enrollment id");
    // Counted up per node arrival and per entry into message ids: at the
    // top they would wrap and repeat an id already sent.
    if (e.visits == UINT32_MAX || e.ordinal == UINT32_MAX) return SnapshotOutOfRange("enrollment visit count");
    // (The node index was checked when the record was read.)
    if (!SplitOk(versions_, e.version, e.split_node, e.variant)) return SnapshotOutOfRange("enrollment split");
    const internal::SlotList& list = subjects_[e.subject].enrollments;
    if (std::find(list.begin(), list.end(), slot) == list.end()) {
      return SnapshotOutOfRange("enrollment's subject list");
    }
  }
  if (live != in_flight_) return SnapshotOutOfRange("in-flight count");
  return absl::OkStatus();
}

// Counters agree with the enrollments and with each other, as they do in a
// running engine.
absl::Status Engine::Impl::CheckCounters() const {
  std::vector<std::vector<int64_t>> at_node(versions_.size());
  for (size_t v = 0; v < versions_.size(); ++v) {
    at_node[v].assign(versions_[v].graph->nodes.size(), 0);
  }
  for (const Enrollment& e : enrollments_) {
    if (e.live) ++at_node[e.version][e.node];
  }
  for (size_t v = 0; v < versions_.size(); ++v) {
    const internal::VersionCounters& c = versions_[v].counters;
    int64_t in_version = 0;
    for (size_t n = 0; n < at_node[v].size(); ++n) {
      if (c.nodes[n].current != at_node[v][n] || c.nodes[n].entered < 0) {
        return SnapshotOutOfRange("node counters");
      }
      in_version += at_node[v][n];
      const ActionCounters& a = c.actions[n];
      const int64_t undelivered = SumCounts(a.undelivered);
      if (a.sent < 0 || a.delivered < 0 || a.unreported < 0 || undelivered < 0 ||
          SumCounts(a.failed) < 0 || a.sent < a.delivered + undelivered + a.unreported) {
        return SnapshotOutOfRange("action counters");
      }
    }
    if (c.exited < 0 || c.migrated_in < 0 || c.migrated_in > c.entered ||
        c.entered - c.exited != in_version || SumCounts(c.exits) != c.exited) {
      return SnapshotOutOfRange("version counters");
    }
  }
  return absl::OkStatus();
}

// Live journey-goal trackers: their subject, enrollment id, goal and split.
absl::Status Engine::Impl::CheckTrackers() const {
  for (const GoalTracker& t : trackers_) {
    if (!t.live) continue;
    if (t.subject >= subjects_.size()) return SnapshotOutOfRange("tracker subject");
    if (t.enrollment_uid > next_enrollment_uid_) return SnapshotOutOfRange("tracker's enrollment id");
    if (t.version >= versions_.size() || t.goal >= versions_[t.version].graph->goals.size()) {
      return SnapshotOutOfRange("tracker goal");
    }
    if (!SplitOk(versions_, t.version, t.split_node, t.variant)) return SnapshotOutOfRange("tracker split");
  }
  return absl::OkStatus();
}

// Completed sequence matches waiting for silence: subject and trigger.
absl::Status Engine::Impl::CheckPendingSequences() const {
  for (const internal::PendingSequence& p : pending_) {
    if (!p.live) continue;
    if (p.subject >= subjects_.size() || !IsSequence(versions_, p.version, p.node)) {
      return SnapshotOutOfRange("pending sequence");
    }
  }
  return absl::OkStatus();
}

// Subjects: their enrollment and tracker lists point back to them, profiles
// are sorted, histories, partial matches and send ledgers are in range,
// and each subject is found under its own id.
absl::Status Engine::Impl::CheckSubjects() const {
  const size_t ledgers = capped_channels_.size();
  for (uint32_t i = 0; i < subjects_.size(); ++i) {
    const SubjectState& s = subjects_[i];
    for (uint32_t e : s.enrollments) {
      if (e >= enrollments_.size() || !enrollments_[e].live || enrollments_[e].subject != i) {
        return SnapshotOutOfRange("subject's enrollment");
      }
    }
    for (uint32_t t : s.trackers) {
      if (t >= trackers_.size() || !trackers_[t].live || trackers_[t].subject != i) {
        return SnapshotOutOfRange("subject's tracker");
      }
    }
    // Looked up by binary search, and written back in order.
    for (size_t a = 1; a < s.profile.size(); ++a) {
      if (!(s.profile[a - 1].first < s.profile[a].first)) {
        return absl::DataLossError(absl::StrCat(
            "snapshot: profile of subject ", i, " is not sorted by name, or repeats one"));
      }
    }
    for (const JourneyHistory& h : s.history) {
      if (h.journey >= journeys_.size()) return SnapshotOutOfRange("history journey");
      // Entries number the next entry's message ids: they must not wrap.
      if (h.entries == UINT32_MAX || h.active > h.entries) return SnapshotOutOfRange("history entry count");
    }
    for (const internal::SequenceProgress& p : s.sequences) {
      if (!IsSequence(versions_, p.version, p.node) ||
          p.starts.size() != versions_[p.version].graph->nodes[p.node].matchers.size()) {
        return SnapshotOutOfRange("sequence progress");
      }
      if (p.pending != internal::kNoSlot &&
          (p.pending >= pending_.size() || !pending_[p.pending].live ||
           pending_[p.pending].subject != i)) {
        return SnapshotOutOfRange("sequence's pending match");
      }
    }
    for (const auto& [channel, times] : s.send_ledger) {
      if (channel < 0 || static_cast<size_t>(channel) >= ledgers) return SnapshotOutOfRange("send ledger");
    }
    if (s.type >= subject_types_.size()) return SnapshotOutOfRange("subject type");
    if (subject_index_.Find(s.type, s.id) != i) return SnapshotOutOfRange("subject (a repeated id)");
  }
  return absl::OkStatus();
}

// Free slots: in range, not live, each once.
absl::Status Engine::Impl::CheckFreeSlots() const {
  auto free_ok = [](const std::vector<uint32_t>& free, size_t size, auto is_live) {
    std::vector<bool> seen(size, false);
    for (uint32_t slot : free) {
      if (slot >= size || seen[slot] || is_live(slot)) return false;
      seen[slot] = true;
    }
    return true;
  };
  if (!free_ok(free_enrollments_, enrollments_.size(),
               [&](uint32_t i) { return enrollments_[i].live; }) ||
      !free_ok(free_trackers_, trackers_.size(), [&](uint32_t i) { return trackers_[i].live; }) ||
      !free_ok(free_pending_, pending_.size(), [&](uint32_t i) { return pending_[i].live; })) {
    return SnapshotOutOfRange("free slot");
  }
  return absl::OkStatus();
}

// A remembered message still unreported is one of its action's sends
// awaiting a report.
absl::Status Engine::Impl::CheckMessages() const {
  std::map<std::pair<uint32_t, int32_t>, int64_t> unresolved;
  bool messages_ok = true;
  messages_.ForEach([&](uint64_t, absl::Time, const SentMessage& m) {
    if (!NodeIs(versions_, m.version, m.node, NodeKind::kAction) || m.enrollment >= enrollments_.size()) {
      messages_ok = false;
    } else if (!m.resolved) {
      ++unresolved[{m.version, m.node}];
    }
  });
  if (!messages_ok) return SnapshotOutOfRange("message");
  for (const auto& [where, count] : unresolved) {
    const ActionCounters& a = versions_[where.first].counters.actions[where.second];
    // (Every term is in [0, kMaxRestoredCount], checked above.)
    const int64_t awaiting = a.sent - a.delivered - a.unreported - SumCounts(a.undelivered);
    if (count > awaiting) return SnapshotOutOfRange("message (more unreported than its action sent)");
  }
  return absl::OkStatus();
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
      case TimerKind::kProgress: limit = subjects_.size(); break;
    }
    timers_ok = timers_ok && t.target < limit;
  });
  if (!timers_ok) return SnapshotOutOfRange("timer target");
  return absl::OkStatus();
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
  return absl::OkStatus();
}

}  // namespace cairn
