// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: the records of the engine's slot arrays: enrollments,
// journey-goal trackers and completed sequence matches, then the free
// lists of all three; each written, read and checked side by side.

#include "exec/engine_impl.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "cairn/status_macros.h"
#include "cairn/v1/snapshot.pb.h"
#include "compile/journey_graph.h"
#include "exec/engine_state.h"
#include "exec/sent_messages.h"
#include "snapshot/record_arena.h"
#include "snapshot/snapshot_internal.h"
#include "util/record_io.h"

namespace cairn {

using internal::Enrollment;
using internal::GoalTracker;
using internal::IsSequence;
using internal::ReadValues;
using internal::SnapshotOutOfRange;
using internal::SplitOk;
using internal::WriteValues;

namespace {

constexpr size_t kFreeSlotsPerRecord = 4096;

}  // namespace

// Every enrollment slot, live or free.
absl::Status Engine::Impl::WriteEnrollments(internal::RecordWriter* w,
                                            internal::RecordArena* records) const {
  for (uint32_t slot = 0; slot < enrollments_.size(); ++slot) {
    const Enrollment& e = enrollments_[slot];
    v1::SnapshotRecord* r = records->Next();
    v1::SnapshotEnrollment* se = r->mutable_enrollment();
    se->set_live(e.live);
    se->set_generation(e.generation);
    // Its number for the trackers that follow it (ReadTracker).
    if (e.live) se->set_uid(slot + 1);
    se->set_subject(e.subject);
    se->set_version(e.version);
    se->set_node(e.node);
    se->set_ordinal(e.ordinal);
    se->set_visits(e.visits);
    se->set_split_node(e.split_node);
    se->set_variant(e.variant);
    se->set_awaiting_message(AwaitingMessage(slot));
    if (e.live && e.since_nanos != Enrollment::kUnknownSinceNanos) {
      se->set_since_nanos(e.since_nanos);
    }
    se->set_rate_reserved(e.live && e.rate_reserved);
    WriteValues(ContextOf(e), se->mutable_context());
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadEnrollment(const v1::SnapshotEnrollment& se) {
  if (se.live() && (se.version() >= versions_.size() ||
                    se.node() < 0 ||
                    static_cast<size_t>(se.node()) >=
                        versions_[se.version()].graph->nodes.size())) {
    return SnapshotOutOfRange("enrollment node");
  }
  Enrollment e;
  e.live = se.live();
  e.generation = se.generation();
  const auto slot = static_cast<uint32_t>(enrollments_.size());
  if (se.live()) {
    // Numbers are handed out by counting up: one past the bound, or used
    // twice, would not name one enrollment.
    if (se.uid() == 0 || se.uid() > restored_uid_bound_ ||
        !restored_uids_.try_emplace(se.uid(), slot).second) {
      return SnapshotOutOfRange("enrollment id");
    }
    // Written since Cairn keeps it; before, unknown.
    absl::Time since;
    if (!se.has_since_nanos()) {
      e.since_nanos = Enrollment::kUnknownSinceNanos;
    } else if (!internal::ReadTime(se.since_nanos(), false, &since) || since > now_) {
      return SnapshotOutOfRange("enrollment arrival time");
    } else {
      e.since_nanos = se.since_nanos();
    }
  }
  e.subject = se.subject();
  e.version = se.version();
  e.node = static_cast<int16_t>(se.node());  // Checked above.
  e.ordinal = se.ordinal();
  e.visits = se.visits();
  if (se.split_node() < -1 || se.split_node() >= internal::kMaxJourneyNodes) {
    return SnapshotOutOfRange("enrollment split");
  }
  e.split_node = static_cast<int16_t>(se.split_node());
  if (se.variant() < -1 || se.variant() >= internal::kMaxSplitVariants) {
    return SnapshotOutOfRange("enrollment split");
  }
  e.variant = static_cast<int16_t>(se.variant());
  if (se.live() && se.awaiting_message() != 0) {
    e.awaiting = true;
    awaiting_messages_[slot] = se.awaiting_message();
  }
  if (se.rate_reserved()) {
    // Only an action's send waits on a reserved slot.
    if (!se.live() || versions_[e.version].graph->nodes[e.node].kind != NodeKind::kAction) {
      return SnapshotOutOfRange("enrollment's rate slot");
    }
    e.rate_reserved = true;
  }
  Attributes context;
  CAIRN_RETURN_IF_ERROR(ReadValues(se.context(), &context));
  enrollments_.push_back(std::move(e));
  SetContext(slot, std::move(context));
  return absl::OkStatus();
}

// Live enrollments: their subject, id, counts and split, and their place in
// their subject's list; and their number.
absl::Status Engine::Impl::CheckEnrollments() const {
  int64_t live = 0;
  for (uint32_t slot = 0; slot < enrollments_.size(); ++slot) {
    const Enrollment& e = enrollments_[slot];
    if (!e.live) continue;
    ++live;
    if (e.subject >= subjects_.size()) return SnapshotOutOfRange("enrollment subject");
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

// Every journey-goal tracker slot.
absl::Status Engine::Impl::WriteTrackers(internal::RecordWriter* w,
                                         internal::RecordArena* records) const {
  for (const GoalTracker& t : trackers_) {
    v1::SnapshotRecord* r = records->Next();
    v1::SnapshotTracker* st = r->mutable_tracker();
    st->set_live(t.live);
    st->set_generation(t.generation);
    st->set_subject(t.subject);
    st->set_version(t.version);
    st->set_goal(t.goal);
    // The number its enrollment has in this snapshot (WriteEnrollments);
    // 0 once that has ended.
    if (t.live && t.enrollment != internal::kNoSlot) st->set_enrollment_uid(t.enrollment + 1);
    st->set_split_node(t.split_node);
    st->set_variant(t.variant);
    WriteValues(t.entry, st->mutable_entry());
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadTracker(const v1::SnapshotTracker& st) {
  if (st.live() && st.version() >= versions_.size()) return SnapshotOutOfRange("tracker version");
  GoalTracker t;
  t.live = st.live();
  t.generation = st.generation();
  t.subject = st.subject();
  t.version = st.version();
  t.goal = st.goal();
  // A number no live enrollment has names one that has ended.
  if (auto it = restored_uids_.find(st.enrollment_uid()); st.live() && it != restored_uids_.end()) {
    t.enrollment = it->second;
  }
  t.split_node = st.split_node();
  t.variant = st.variant();
  CAIRN_RETURN_IF_ERROR(ReadValues(st.entry(), &t.entry));
  trackers_.push_back(std::move(t));
  return absl::OkStatus();
}

// Live journey-goal trackers: their subject, enrollment id, goal and split.
absl::Status Engine::Impl::CheckTrackers() const {
  for (const GoalTracker& t : trackers_) {
    if (!t.live) continue;
    if (t.subject >= subjects_.size()) return SnapshotOutOfRange("tracker subject");
    if (t.enrollment != internal::kNoSlot &&
        (t.enrollment >= enrollments_.size() || enrollments_[t.enrollment].subject != t.subject ||
         versions_[enrollments_[t.enrollment].version].journey != versions_[t.version].journey)) {
      return SnapshotOutOfRange("tracker's enrollment");
    }
    if (t.version >= versions_.size() || t.goal >= versions_[t.version].graph->goals.size()) {
      return SnapshotOutOfRange("tracker goal");
    }
    if (!SplitOk(versions_, t.version, t.split_node, t.variant)) return SnapshotOutOfRange("tracker split");
  }
  return absl::OkStatus();
}

// Every completed sequence match waiting for its absent window.
absl::Status Engine::Impl::WritePendingSequences(internal::RecordWriter* w,
                                                 internal::RecordArena* records) const {
  for (const internal::PendingSequence& p : pending_) {
    v1::SnapshotRecord* r = records->Next();
    v1::SnapshotPendingSequence* sp = r->mutable_pending_sequence();
    sp->set_live(p.live);
    sp->set_generation(p.generation);
    sp->set_subject(p.subject);
    sp->set_version(p.version);
    sp->set_node(p.node);
    WriteValues(p.context, sp->mutable_context());
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadPendingSequence(const v1::SnapshotPendingSequence& sp) {
  internal::PendingSequence p;
  p.live = sp.live();
  p.generation = sp.generation();
  p.subject = sp.subject();
  p.version = sp.version();
  p.node = sp.node();
  CAIRN_RETURN_IF_ERROR(ReadValues(sp.context(), &p.context));
  pending_.push_back(std::move(p));
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

// The free lists of the three slot arrays, in chunks.
absl::Status Engine::Impl::WriteFreeSlots(internal::RecordWriter* w,
                                          internal::RecordArena* records) const {
  const std::pair<v1::SnapshotFreeSlots::Kind, const std::vector<uint32_t>*> free_lists[] = {
      {v1::SnapshotFreeSlots::ENROLLMENT, &free_enrollments_},
      {v1::SnapshotFreeSlots::TRACKER, &free_trackers_},
      {v1::SnapshotFreeSlots::PENDING_SEQUENCE, &free_pending_}};
  for (const auto& [kind, list] : free_lists) {
    for (size_t i = 0; i < list->size(); i += kFreeSlotsPerRecord) {
      v1::SnapshotRecord* r = records->Next();
      r->mutable_free_slots()->set_kind(kind);
      for (size_t j = i; j < std::min(list->size(), i + kFreeSlotsPerRecord); ++j) {
        r->mutable_free_slots()->add_slots((*list)[j]);
      }
      CAIRN_RETURN_IF_ERROR(w->Write(*r));
    }
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadFreeSlots(const v1::SnapshotFreeSlots& fs) {
  std::vector<uint32_t>* list = nullptr;
  switch (fs.kind()) {
    case v1::SnapshotFreeSlots::ENROLLMENT: list = &free_enrollments_; break;
    case v1::SnapshotFreeSlots::TRACKER: list = &free_trackers_; break;
    case v1::SnapshotFreeSlots::PENDING_SEQUENCE: list = &free_pending_; break;
    default: break;
  }
  if (list == nullptr) return SnapshotOutOfRange("free-slot kind");
  list->insert(list->end(), fs.slots().begin(), fs.slots().end());
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

}  // namespace cairn
