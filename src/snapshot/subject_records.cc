// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: the subject records: profile, enrollment and tracker slots,
// re-entry histories, partial sequence matches and send ledgers; written,
// read, and checked against the rest of the state.

#include "exec/engine_impl.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/status_macros.h"
#include "cairn/v1/snapshot.pb.h"
#include "compile/journey_graph.h"
#include "exec/engine_state.h"
#include "snapshot/record_arena.h"
#include "snapshot/snapshot_internal.h"
#include "util/record_io.h"

namespace cairn {

using internal::IsSequence;
using internal::JourneyHistory;
using internal::Nanos;
using internal::ReadTime;
using internal::ReadValues;
using internal::SnapshotOutOfRange;
using internal::SubjectState;
using internal::WriteValues;

// Each subject: profile, enrollment and tracker slots, histories,
// partial sequence matches, send ledgers.
absl::Status Engine::Impl::WriteSubjects(internal::RecordWriter* w,
                                         internal::RecordArena* records) const {
  for (uint32_t index = 0; index < subjects_.size(); ++index) {
    const SubjectState& subject = subjects_[index];
    v1::SnapshotRecord* r = records->Next();
    v1::SnapshotSubject* s = r->mutable_subject();
    s->set_type(subjects_.TypeOf(subject));
    if (subject.erased) {
      // Forgotten: its type and the mark, nothing of the subject.
      s->set_erased(true);
      CAIRN_RETURN_IF_ERROR(w->Write(*r));
      continue;
    }
    s->set_id(subject.id);
    s->set_incarnation(subject.incarnation);
    WriteValues(subject.profile, s->mutable_profile());
    for (uint32_t e : subject.enrollments) s->add_enrollments(e);
    for (uint32_t t : subject.trackers) s->add_trackers(t);
    for (const JourneyHistory& h : subject.history) {
      v1::SnapshotHistory* sh = s->add_history();
      sh->set_journey(h.journey);
      sh->set_entries(h.entries);
      sh->set_active(h.active);
      sh->set_last_exit_nanos(Nanos(internal::LastExit(h)));
      if (h.key != nullptr) sh->set_key(*h.key);
    }
    for (const internal::SequenceProgress& p : subject.sequences()) {
      v1::SnapshotSequence* sp = s->add_sequences();
      sp->set_version(p.version);
      sp->set_node(p.node);
      for (absl::Time t : p.starts) sp->add_starts_nanos(Nanos(t));
      WriteValues(p.context, sp->mutable_context());
      sp->set_pending(p.pending);
    }
    for (const auto& [channel, times] : subject.send_ledger()) {
      v1::SnapshotLedger* l = s->add_ledgers();
      l->set_channel(channel);
      for (absl::Time t : times) l->add_sends_nanos(Nanos(t));
    }
    WriteSubjectBehaviors(index, s);
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  for (const auto& [key, times] : subjects_.Forgotten()) {
    v1::SnapshotRecord* r = records->Next();
    r->mutable_forgotten()->set_key(key);
    r->mutable_forgotten()->set_times(times);
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadForgotten(const v1::SnapshotForgotten& f) {
  if (f.times() > UINT16_MAX ||
      !subjects_.RestoreForgotten(f.key(), static_cast<uint16_t>(f.times()))) {
    return SnapshotOutOfRange("forgotten subject count");
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadSubject(const v1::SnapshotSubject& s) {
  SubjectState state;
  if (s.incarnation() > UINT16_MAX) return SnapshotOutOfRange("subject incarnation");
  state.incarnation = static_cast<uint16_t>(s.incarnation());
  if (s.erased()) {
    // Nothing but its type: a forgotten subject holds no data.
    v1::SnapshotSubject bare;
    bare.set_type(s.type());
    bare.set_erased(true);
    if (s.ByteSizeLong() != bare.ByteSizeLong()) return SnapshotOutOfRange("forgotten subject");
    state.erased = true;
    subjects_.AppendRestored(s.type(), std::move(state));
    return absl::OkStatus();
  }
  state.id = s.id();
  CAIRN_RETURN_IF_ERROR(ReadValues(s.profile(), &state.profile));
  state.enrollments.assign(s.enrollments().begin(), s.enrollments().end());
  state.trackers.assign(s.trackers().begin(), s.trackers().end());
  for (const v1::SnapshotHistory& sh : s.history()) {
    JourneyHistory h = internal::MakeJourneyHistory(sh.journey(), sh.key());
    h.entries = sh.entries();
    h.active = sh.active();
    absl::Time last_exit;
    if (!ReadTime(sh.last_exit_nanos(), true, &last_exit)) return SnapshotOutOfRange("last exit time");
    internal::SetLastExit(&h, last_exit);
    state.history.push_back(std::move(h));
  }
  for (const v1::SnapshotSequence& sp : s.sequences()) {
    if (sp.version() >= versions_.size()) return SnapshotOutOfRange("sequence version");
    internal::SequenceProgress p;
    p.version = sp.version();
    p.node = sp.node();
    for (int64_t n : sp.starts_nanos()) {
      if (!ReadTime(n, true, &p.starts.emplace_back())) return SnapshotOutOfRange("sequence start time");
    }
    CAIRN_RETURN_IF_ERROR(ReadValues(sp.context(), &p.context));
    p.pending = sp.pending();
    state.MutableExtra().sequences.push_back(std::move(p));
  }
  for (const v1::SnapshotLedger& l : s.ledgers()) {
    std::vector<absl::Time> times;
    for (int64_t n : l.sends_nanos()) {
      if (!ReadTime(n, false, &times.emplace_back())) return SnapshotOutOfRange("send ledger time");
    }
    state.MutableExtra().send_ledger.emplace_back(l.channel(), std::move(times));
  }
  CAIRN_RETURN_IF_ERROR(ReadSubjectBehaviors(static_cast<uint32_t>(subjects_.size()), s));
  subjects_.AppendRestored(s.type(), std::move(state));  // A repeated id fails CheckSubjects.
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
    for (const internal::SequenceProgress& p : s.sequences()) {
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
    for (const auto& [channel, times] : s.send_ledger()) {
      if (channel < 0 || static_cast<size_t>(channel) >= ledgers) return SnapshotOutOfRange("send ledger");
    }
    if (s.type >= subjects_.type_count()) return SnapshotOutOfRange("subject type");
    if (s.erased) continue;  // Holds nothing (ReadSubject), and is not indexed.
    if (subjects_.Find(s.type, s.id) != i) return SnapshotOutOfRange("subject (a repeated id)");
  }
  return absl::OkStatus();
}

}  // namespace cairn
