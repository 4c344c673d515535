// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: snapshots, record kind by record kind: writing them, and
// reading them back (engine_snapshot_check.cc checks what was read).

#include "exec/engine_impl.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cairn/hash.h"
#include "cairn/journey_io.h"
#include "cairn/options.h"
#include "cairn/status_macros.h"
#include "cairn/v1/snapshot.pb.h"
#include "compile/journey_graph.h"
#include "exec/engine_state.h"
#include "exec/sent_messages.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "snapshot/record_arena.h"
#include "snapshot/record_io.h"
#include "timer/timer_queue.h"
#include "util/proto_time.h"

namespace cairn {

using internal::ActionCounters;
using internal::Enrollment;
using internal::GoalTracker;
using internal::JourneyEntry;
using internal::JourneyHistory;
using internal::JourneyVersion;
using internal::SentMessage;
using internal::StatFields;
using internal::kMaxRestoredCount;
using internal::SnapshotOutOfRange;
using internal::SubjectState;
using internal::TimerKind;

// ---- Snapshots ----

namespace {

constexpr uint32_t kSnapshotFormat = 1;
constexpr size_t kFreeSlotsPerRecord = 4096;

int64_t Nanos(absl::Time t) {
  return t == absl::InfinitePast() ? INT64_MIN : absl::ToUnixNanos(t);
}

void WriteValues(const Attributes& attrs,
                 google::protobuf::RepeatedPtrField<v1::SnapshotNamedValue>* out) {
  for (const auto& [name, value] : attrs) {
    v1::SnapshotNamedValue* nv = out->Add();
    nv->set_name(name);
    if (!value.is_null()) *nv->mutable_value() = value.ToProto();
  }
}

absl::Status ReadValues(const google::protobuf::RepeatedPtrField<v1::SnapshotNamedValue>& in,
                        Attributes* out) {
  out->clear();
  for (const v1::SnapshotNamedValue& nv : in) {
    Value value;
    if (nv.has_value()) {
      absl::StatusOr<Value> v = Value::FromProto(nv.value());
      if (!v.ok()) return absl::DataLossError(absl::StrCat("snapshot: ", v.status().message()));
      value = *std::move(v);
    }
    out->emplace_back(nv.name(), std::move(value));
  }
  return absl::OkStatus();
}

// Whether every int64 in `m` (a report: all counts) is in
// [0, kMaxRestoredCount].
bool CountsInRange(const google::protobuf::Message& m) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Descriptor* descriptor = m.GetDescriptor();
  const google::protobuf::Reflection* reflection = m.GetReflection();
  auto in_range = [](int64_t v) { return v >= 0 && v <= kMaxRestoredCount; };
  // Field by field, asking reflection only about counts (an unset one reads
  // 0) and messages: a report has many messages, most of whose fields are
  // names, and listing each one's set fields was a good part of a restore.
  for (int k = 0; k < descriptor->field_count(); ++k) {
    const FieldDescriptor* f = descriptor->field(k);
    const FieldDescriptor::CppType type = f->cpp_type();
    if (type != FieldDescriptor::CPPTYPE_INT64 && type != FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    if (f->is_repeated()) {
      const int n = reflection->FieldSize(m, f);
      for (int i = 0; i < n; ++i) {
        const bool ok = type == FieldDescriptor::CPPTYPE_INT64
                            ? in_range(reflection->GetRepeatedInt64(m, f, i))
                            : CountsInRange(reflection->GetRepeatedMessage(m, f, i));
        if (!ok) return false;
      }
    } else if (type == FieldDescriptor::CPPTYPE_INT64) {
      if (!in_range(reflection->GetInt64(m, f))) return false;
    } else if (reflection->HasField(m, f) && !CountsInRange(reflection->GetMessage(m, f))) {
      return false;
    }
  }
  return true;
}

// A time read from a snapshot, which must be one this engine could have
// stored: from EarliestInputTime() up to the longest journey duration past
// LatestInputTime() (a timer's due time), or, where `may_be_never`,
// INT64_MIN for "never". Anything else is a forgery, and the engine's
// arithmetic on it (a window's end, a minute bucket) could overflow.
bool ReadTime(int64_t nanos, bool may_be_never, absl::Time* out) {
  if (may_be_never && nanos == INT64_MIN) {
    *out = absl::InfinitePast();
    return true;
  }
  *out = absl::FromUnixNanos(nanos);
  return *out >= EarliestInputTime() &&
         *out < LatestInputTime() + internal::MaxJourneyDuration();
}

// A hash of the graph's definition in binary form, computed once per
// compiled journey (see JourneyGraph::definition_fingerprint).
uint64_t DefinitionFingerprint(const internal::JourneyGraph& g) {
  uint64_t fingerprint = g.definition_fingerprint.load(std::memory_order_relaxed);
  if (fingerprint == 0) {
    // (Threads that race here compute the same value.)
    absl::StatusOr<std::string> bytes = SerializeJourney(g.definition, JourneyFormat::kBinary);
    fingerprint = StableHash64({bytes.ok() ? *bytes : std::string()});
    g.definition_fingerprint.store(fingerprint, std::memory_order_relaxed);
  }
  return fingerprint;
}

}  // namespace

uint64_t Engine::Impl::ComputeOptionsFingerprint() const {
  std::string text = absl::StrCat(
      absl::FormatDuration(options_.max_lateness), "|", absl::FormatDuration(options_.dedup_window),
      "|", absl::FormatDuration(options_.delivery_report_window), "|",
      options_.max_steps_per_input, "|", options_.opt_out_attribute, "|", options_.opt_out_event,
      "|", options_.opt_in_event, "|", options_.holdout_percent, "|", options_.holdout_seed);
  // Named only when not the default, so that snapshots written before these
  // options existed still restore into an engine that keeps the defaults.
  const EngineOptions defaults;
  if (options_.max_input_lead != defaults.max_input_lead) {
    absl::StrAppend(&text, "|lead:", absl::FormatDuration(options_.max_input_lead));
  }
  if (options_.max_input_bytes != defaults.max_input_bytes ||
      options_.max_profile_attributes != defaults.max_profile_attributes ||
      options_.max_profile_bytes != defaults.max_profile_bytes ||
      options_.max_opt_out_channels != defaults.max_opt_out_channels ||
      options_.max_instances_per_subject != defaults.max_instances_per_subject ||
      options_.max_dedup_ids != defaults.max_dedup_ids) {
    absl::StrAppend(&text, "|limits:", options_.max_input_bytes, ",",
                    options_.max_profile_attributes, ",", options_.max_profile_bytes, ",",
                    options_.max_opt_out_channels, ",", options_.max_instances_per_subject,
                    ",", options_.max_dedup_ids);
  }
  for (const FrequencyCap& c : options_.frequency_caps) {
    absl::StrAppend(&text, "|cap:", c.channel, ",", c.max_messages, ",",
                    absl::FormatDuration(c.window));
  }
  for (const QuietHours& q : options_.quiet_hours) {
    absl::StrAppend(&text, "|quiet:", q.channel, ",", q.start_hour, ":", q.start_minute, "-",
                    q.end_hour, ":", q.end_minute);
  }
  return StableHash64({text});
}

// The header: format, options fingerprint, and the deployed versions.
absl::Status Engine::Impl::WriteHeader(internal::RecordWriter* w,
                                       internal::RecordArena* records) const {
  v1::SnapshotRecord* r = records->Next();
  v1::SnapshotHeader* h = r->mutable_header();
  h->set_format_version(kSnapshotFormat);
  h->set_options_fingerprint(options_fingerprint_);
  for (const JourneyVersion& v : versions_) {
    v1::SnapshotDeployedVersion* d = h->add_versions();
    d->set_journey_id(v.graph->definition.id());
    d->set_version(v.compiled->version());
    d->set_definition_fingerprint(DefinitionFingerprint(*v.graph));
  }
  CAIRN_RETURN_IF_ERROR(w->Write(*r));
  return absl::OkStatus();
}

// Engine time, id counters and stats.
absl::Status Engine::Impl::WriteClock(internal::RecordWriter* w,
                                      internal::RecordArena* records) const {
  v1::SnapshotRecord* r = records->Next();
  v1::SnapshotClock* c = r->mutable_clock();
  c->set_now_nanos(Nanos(now_));
  c->set_next_enrollment_uid(next_enrollment_uid_);
  // Timers are written in firing order, numbered from 0 (see below).
  c->set_next_timer_seq(timers_.size());
  c->set_in_flight(in_flight_);
  EngineStats stats = stats_;
  for (int64_t* f : StatFields(&stats)) c->add_stats(*f);
  CAIRN_RETURN_IF_ERROR(w->Write(*r));
  return absl::OkStatus();
}

// Each journey id's state, then each version's counters.
absl::Status Engine::Impl::WriteJourneys(internal::RecordWriter* w,
                                         internal::RecordArena* records) const {
  for (const JourneyEntry& j : journeys_) {
    v1::SnapshotRecord* r = records->Next();
    r->mutable_journey()->set_journey_id(j.id);
    r->mutable_journey()->set_state(j.state);
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  for (size_t i = 0; i < versions_.size(); ++i) {
    v1::SnapshotRecord* r = records->Next();
    r->mutable_counters()->set_version_index(static_cast<uint32_t>(i));
    internal::FillVersionReport(versions_[i], r->mutable_counters()->mutable_report());
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

// Each subject: profile, enrollment and tracker slots, histories,
// partial sequence matches, send ledgers.
absl::Status Engine::Impl::WriteSubjects(internal::RecordWriter* w,
                                         internal::RecordArena* records) const {
  for (const SubjectState& subject : subjects_) {
    v1::SnapshotRecord* r = records->Next();
    v1::SnapshotSubject* s = r->mutable_subject();
    s->set_type(TypeOf(subject));
    s->set_id(subject.id);
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
    for (const internal::SequenceProgress& p : subject.sequences) {
      v1::SnapshotSequence* sp = s->add_sequences();
      sp->set_version(p.version);
      sp->set_node(p.node);
      for (absl::Time t : p.starts) sp->add_starts_nanos(Nanos(t));
      WriteValues(p.context, sp->mutable_context());
      sp->set_pending(p.pending);
    }
    for (const auto& [channel, times] : subject.send_ledger) {
      v1::SnapshotLedger* l = s->add_ledgers();
      l->set_channel(channel);
      for (absl::Time t : times) l->add_sends_nanos(Nanos(t));
    }
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

// Every enrollment slot, live or free.
absl::Status Engine::Impl::WriteEnrollments(internal::RecordWriter* w,
                                            internal::RecordArena* records) const {
  for (uint32_t slot = 0; slot < enrollments_.size(); ++slot) {
    const Enrollment& e = enrollments_[slot];
    v1::SnapshotRecord* r = records->Next();
    v1::SnapshotEnrollment* se = r->mutable_enrollment();
    se->set_live(e.live);
    se->set_generation(e.generation);
    se->set_uid(e.uid);
    se->set_subject(e.subject);
    se->set_version(e.version);
    se->set_node(e.node);
    se->set_ordinal(e.ordinal);
    se->set_visits(e.visits);
    se->set_split_node(e.split_node);
    se->set_variant(e.variant);
    se->set_awaiting_message(AwaitingMessage(slot));
    WriteValues(ContextOf(e), se->mutable_context());
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
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
    st->set_enrollment_uid(t.enrollment_uid);
    st->set_split_node(t.split_node);
    st->set_variant(t.variant);
    WriteValues(t.entry, st->mutable_entry());
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
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

absl::Status Engine::Impl::WriteTimers(internal::RecordWriter* w,
                                       internal::RecordArena* records) const {
  // Timers in firing order, so a snapshot's bytes do not depend on how
  // buckets happened to be sorted; seq numbers that order from 0 (the queue
  // keeps no numbers: ties fire in the order they were scheduled).
  std::vector<internal::Timer> timers;
  timers.reserve(timers_.size());
  timers_.ForEach([&](const internal::Timer& t) { timers.push_back(t); });
  std::stable_sort(timers.begin(), timers.end(),
                   [](const internal::Timer& a, const internal::Timer& b) { return a.due < b.due; });
  uint64_t seq = 0;
  for (const internal::Timer& t : timers) {
    v1::SnapshotRecord* r = records->Next();
    v1::SnapshotTimer* st = r->mutable_timer();
    st->set_due_nanos(Nanos(t.due));
    st->set_seq(seq++);
    st->set_target(t.target);
    st->set_generation(t.generation);
    st->set_kind(t.kind);
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

// The de-duplication ledger, oldest first.
absl::Status Engine::Impl::WriteSeen(internal::RecordWriter* w,
                                     internal::RecordArena* records) const {
  for (const auto& [at, key] : dedup_order_) {
    v1::SnapshotRecord* r = records->Next();
    r->mutable_seen()->set_key(key);
    r->mutable_seen()->set_at_nanos(Nanos(at));
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

// The sent-message table, oldest first.
absl::Status Engine::Impl::WriteMessages(internal::RecordWriter* w,
                                         internal::RecordArena* records) const {
  absl::Status written = absl::OkStatus();
  messages_.ForEach([&](uint64_t id, absl::Time sent, const SentMessage& m) {
    if (!written.ok()) return;
    v1::SnapshotRecord* r = records->Next();
    v1::SnapshotMessage* sm = r->mutable_message();
    sm->set_id(id);
    sm->set_sent_nanos(Nanos(sent));
    sm->set_version(m.version);
    sm->set_node(m.node);
    sm->set_enrollment(m.enrollment);
    sm->set_generation(m.generation);
    sm->set_awaiting(m.awaiting);
    sm->set_resolved(m.resolved);
    written = w->Write(*r);
  });
  return written;
}

absl::Status Engine::Impl::Snapshot(std::ostream& out) const {
  internal::RecordWriter w(&out);
  internal::RecordArena records;
  CAIRN_RETURN_IF_ERROR(WriteHeader(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteClock(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteJourneys(&w, &records));
  CAIRN_RETURN_IF_ERROR(WriteSubjects(&w, &records));
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
  now_ = options_.start_time;
  next_enrollment_uid_ = 0;
  in_flight_ = 0;
  // (Journey states, version counters and stats are put back by Restore,
  // which saved them before reading.)
  subjects_.clear();
  subject_index_.Clear();
  subject_types_.clear();
  subject_type_numbers_.clear();
  enrollments_.clear();
  awaiting_messages_.clear();
  free_enrollments_.clear();
  trackers_.clear();
  free_trackers_.clear();
  pending_.clear();
  free_pending_.clear();
  timers_ = internal::TimerQueue();
  dedup_seen_.clear();
  dedup_order_.clear();
  messages_.Clear();
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

  internal::RecordReader reader(&in);
  absl::Status status = RestoreRecords(&reader);
  if (!status.ok()) {
    ResetToPristine();  // Nothing half-restored survives.
    for (size_t j = 0; j < journeys_.size(); ++j) journeys_[j].state = states[j];
    for (size_t v = 0; v < versions_.size(); ++v) {
      versions_[v].counters = std::move(counters[v].first);
      versions_[v].retired = counters[v].second;
    }
    stats_ = stats;
  }
  return status;
}


absl::Status Engine::Impl::ReadHeader(const v1::SnapshotHeader& header) const {
  if (header.format_version() > kSnapshotFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot: format version ", header.format_version(), " is newer than this engine's (",
        kSnapshotFormat, ")"));
  }
  if (header.options_fingerprint() != options_fingerprint_) {
    return absl::FailedPreconditionError(
        "snapshot: taken with different EngineOptions (policies, windows or limits)");
  }
  for (int i = 0; i < header.versions_size(); ++i) {
    const v1::SnapshotDeployedVersion& d = header.versions(i);
    if (static_cast<size_t>(i) >= versions_.size() ||
        versions_[i].graph->definition.id() != d.journey_id() ||
        versions_[i].compiled->version() != d.version()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "snapshot: journey ", d.journey_id(), " version ", d.version(),
          " is not deployed (deploy the snapshot's journeys, in the same order, first)"));
    }
    if (DefinitionFingerprint(*versions_[i].graph) != d.definition_fingerprint()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "snapshot: journey ", d.journey_id(), " version ", d.version(),
          " is deployed with a different definition"));
    }
  }
  if (static_cast<size_t>(header.versions_size()) != versions_.size()) {
    return absl::FailedPreconditionError(
        "snapshot: the engine has journeys deployed that the snapshot does not know");
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadClock(const v1::SnapshotClock& c) {
  if (!ReadTime(c.now_nanos(), false, &now_)) return SnapshotOutOfRange("engine time");
  if (c.next_enrollment_uid() > static_cast<uint64_t>(kMaxRestoredCount)) {
    return SnapshotOutOfRange("next enrollment id");
  }
  next_enrollment_uid_ = c.next_enrollment_uid();
  if (c.in_flight() < 0 || c.in_flight() > kMaxRestoredCount) {
    return SnapshotOutOfRange("in-flight count");
  }
  in_flight_ = c.in_flight();
  std::vector<int64_t*> fields = StatFields(&stats_);
  for (int i = 0; i < c.stats_size() && i < static_cast<int>(fields.size()); ++i) {
    if (c.stats(i) < 0 || c.stats(i) > kMaxRestoredCount) return SnapshotOutOfRange("engine stat");
    *fields[i] = c.stats(i);
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadJourney(const v1::SnapshotJourney& j) {
  auto it = journey_index_.find(j.journey_id());
  if (it == journey_index_.end()) return SnapshotOutOfRange("journey id");
  journeys_[it->second].state = j.state();
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadCounters(const v1::SnapshotVersionCounters& vc) {
  if (vc.version_index() >= versions_.size()) return SnapshotOutOfRange("version index");
  if (!CountsInRange(vc.report())) return SnapshotOutOfRange("journey report count");
  internal::ReadVersionReport(vc.report(), &versions_[vc.version_index()]);
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadSubject(const v1::SnapshotSubject& s) {
  const uint32_t slot = static_cast<uint32_t>(subjects_.size());
  SubjectState state;
  state.type = InternSubjectType(s.type());
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
    state.sequences.push_back(std::move(p));
  }
  for (const v1::SnapshotLedger& l : s.ledgers()) {
    std::vector<absl::Time> times;
    for (int64_t n : l.sends_nanos()) {
      if (!ReadTime(n, false, &times.emplace_back())) return SnapshotOutOfRange("send ledger time");
    }
    state.send_ledger.emplace_back(l.channel(), std::move(times));
  }
  subjects_.push_back(std::move(state));
  subject_index_.Insert(slot);  // A repeated id fails Validate.
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
  e.uid = se.uid();
  e.subject = se.subject();
  e.version = se.version();
  e.node = se.node();
  e.ordinal = se.ordinal();
  e.visits = se.visits();
  e.split_node = se.split_node();
  if (se.variant() < -1 || se.variant() >= internal::kMaxSplitVariants) {
    return SnapshotOutOfRange("enrollment split");
  }
  e.variant = static_cast<int16_t>(se.variant());
  if (se.live() && se.awaiting_message() != 0) {
    e.awaiting = true;
    awaiting_messages_[static_cast<uint32_t>(enrollments_.size())] = se.awaiting_message();
  }
  Attributes context;
  CAIRN_RETURN_IF_ERROR(ReadValues(se.context(), &context));
  if (!context.empty()) e.context = std::make_unique<Attributes>(std::move(context));
  enrollments_.push_back(std::move(e));
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
  t.enrollment_uid = st.enrollment_uid();
  t.split_node = st.split_node();
  t.variant = st.variant();
  CAIRN_RETURN_IF_ERROR(ReadValues(st.entry(), &t.entry));
  trackers_.push_back(std::move(t));
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

absl::Status Engine::Impl::ReadSeen(const v1::SnapshotSeen& seen) {
  absl::Time at;
  if (!ReadTime(seen.at_nanos(), false, &at)) return SnapshotOutOfRange("de-duplication time");
  dedup_seen_[seen.key()] = at;
  dedup_order_.emplace_back(at, seen.key());
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadMessage(const v1::SnapshotMessage& sm) {
  // The engine never holds two messages with one id, so neither does
  // a snapshot it wrote.
  if (messages_.Find(sm.id()) != nullptr) return SnapshotOutOfRange("message (a repeated id)");
  absl::Time sent;
  if (!ReadTime(sm.sent_nanos(), false, &sent)) return SnapshotOutOfRange("message send time");
  if (!messages_.Insert(sm.id(), sent,
                        SentMessage{sm.version(), sm.node(), sm.enrollment(),
                                    sm.generation(), sm.awaiting(), sm.resolved()})) {
    return SnapshotOutOfRange("message count");
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::RestoreRecords(internal::RecordReader* reader) {
  internal::RecordArena records;
  v1::SnapshotRecord* first = records.Next();
  CAIRN_ASSIGN_OR_RETURN(bool have, reader->Read(first));
  if (!have || first->kind_case() != v1::SnapshotRecord::kHeader) {
    return absl::DataLossError("snapshot: does not start with a header");
  }
  CAIRN_RETURN_IF_ERROR(ReadHeader(first->header()));
  std::vector<std::pair<uint64_t, internal::Timer>> restored_timers;  // (seq, timer)
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
      case v1::SnapshotRecord::kTimer: {
        const v1::SnapshotTimer& st = r.timer();
        if (st.kind() > internal::TimerQueue::kMaxKind) return SnapshotOutOfRange("timer target");
        absl::Time due;
        if (!ReadTime(st.due_nanos(), false, &due)) return SnapshotOutOfRange("timer due time");
        restored_timers.push_back({st.seq(), internal::Timer{due, st.target(), st.generation(),
                                                             static_cast<uint8_t>(st.kind())}});
        break;
      }
      case v1::SnapshotRecord::kSeen:
        CAIRN_RETURN_IF_ERROR(ReadSeen(r.seen()));
        break;
      case v1::SnapshotRecord::kMessage:
        CAIRN_RETURN_IF_ERROR(ReadMessage(r.message()));
        break;
      case v1::SnapshotRecord::kTrailer: {
        if (r.trailer().records() + 1 != reader->records()) {
          return absl::DataLossError("snapshot: record count does not match the trailer");
        }
        // Scheduled in firing order, (due, seq), whatever order they came in,
        // so that ties fire as they would have.
        std::sort(restored_timers.begin(), restored_timers.end(),
                  [](const auto& a, const auto& b) {
                    return a.second.due != b.second.due ? a.second.due < b.second.due
                                                        : a.first < b.first;
                  });
        for (const auto& [seq, t] : restored_timers) {
          timers_.Schedule(t.due, t.target, t.generation, t.kind);
          if (static_cast<TimerKind>(t.kind) == TimerKind::kProgress && t.target < subjects_.size()) {
            subjects_[t.target].progress_timer = true;
          }
        }
        return CheckRestoredState();
      }
      default:
        return absl::DataLossError("snapshot: unexpected record");
    }
  }
}

}  // namespace cairn
