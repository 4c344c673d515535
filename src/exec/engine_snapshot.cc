// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: snapshots (write, restore, and the consistency check of what
// was restored).

#include "exec/engine_impl.h"

#include <algorithm>
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

// The largest count (a stat, a report counter, an enrollment id) a
// snapshot may hold: far more than any engine reaches (2^53 inputs at a
// million a second take 285 years), and far enough below INT64_MAX that the
// sums and differences restore checks and the running engine compute on
// restored counts cannot overflow.
constexpr int64_t kMaxRestoredCount = int64_t{1} << 53;

// Whether every int64 in `m` (a report: all counts) is in
// [0, kMaxRestoredCount].
bool CountsInRange(const google::protobuf::Message& m) {
  const google::protobuf::Reflection* reflection = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(m, &fields);
  for (const google::protobuf::FieldDescriptor* f : fields) {
    const int n = f->is_repeated() ? reflection->FieldSize(m, f) : 1;
    for (int i = 0; i < n; ++i) {
      if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_INT64) {
        const int64_t v = f->is_repeated() ? reflection->GetRepeatedInt64(m, f, i)
                                           : reflection->GetInt64(m, f);
        if (v < 0 || v > kMaxRestoredCount) return false;
      } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
        if (!CountsInRange(f->is_repeated() ? reflection->GetRepeatedMessage(m, f, i)
                                            : reflection->GetMessage(m, f))) {
          return false;
        }
      }
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

// A restored record that points outside what the engine holds.
absl::Status OutOfRange(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("snapshot: ", what, " is out of range"));
}

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

uint64_t DefinitionFingerprint(const v1::Journey& j) {
  absl::StatusOr<std::string> bytes = SerializeJourney(j, JourneyFormat::kBinary);
  return StableHash64({bytes.ok() ? *bytes : std::string()});
}

}  // namespace

uint64_t Engine::Impl::OptionsFingerprint() const {
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
                                       v1::SnapshotRecord* r) const {
  r->Clear();
  v1::SnapshotHeader* h = r->mutable_header();
  h->set_format_version(kSnapshotFormat);
  h->set_options_fingerprint(OptionsFingerprint());
  for (const JourneyVersion& v : versions_) {
    v1::SnapshotDeployedVersion* d = h->add_versions();
    d->set_journey_id(v.graph->definition.id());
    d->set_version(v.compiled->version());
    d->set_definition_fingerprint(DefinitionFingerprint(v.graph->definition));
  }
  CAIRN_RETURN_IF_ERROR(w->Write(*r));
  return absl::OkStatus();
}

// Engine time, id counters and stats.
absl::Status Engine::Impl::WriteClock(internal::RecordWriter* w,
                                      v1::SnapshotRecord* r) const {
  r->Clear();
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
                                         v1::SnapshotRecord* r) const {
  for (const JourneyEntry& j : journeys_) {
    r->Clear();
    r->mutable_journey()->set_journey_id(j.id);
    r->mutable_journey()->set_state(j.state);
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  for (size_t i = 0; i < versions_.size(); ++i) {
    r->Clear();
    r->mutable_counters()->set_version_index(static_cast<uint32_t>(i));
    internal::FillVersionReport(versions_[i], r->mutable_counters()->mutable_report());
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

// Each subject: profile, enrollment and tracker slots, histories,
// partial sequence matches, send ledgers.
absl::Status Engine::Impl::WriteSubjects(internal::RecordWriter* w,
                                         v1::SnapshotRecord* r) const {
  for (const SubjectState& subject : subjects_) {
    r->Clear();
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
                                            v1::SnapshotRecord* r) const {
  for (uint32_t slot = 0; slot < enrollments_.size(); ++slot) {
    const Enrollment& e = enrollments_[slot];
    r->Clear();
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
                                         v1::SnapshotRecord* r) const {
  for (const GoalTracker& t : trackers_) {
    r->Clear();
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
                                                 v1::SnapshotRecord* r) const {
  for (const internal::PendingSequence& p : pending_) {
    r->Clear();
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
                                          v1::SnapshotRecord* r) const {
  const std::pair<v1::SnapshotFreeSlots::Kind, const std::vector<uint32_t>*> free_lists[] = {
      {v1::SnapshotFreeSlots::ENROLLMENT, &free_enrollments_},
      {v1::SnapshotFreeSlots::TRACKER, &free_trackers_},
      {v1::SnapshotFreeSlots::PENDING_SEQUENCE, &free_pending_}};
  for (const auto& [kind, list] : free_lists) {
    for (size_t i = 0; i < list->size(); i += kFreeSlotsPerRecord) {
      r->Clear();
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
                                       v1::SnapshotRecord* r) const {
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
    r->Clear();
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
                                     v1::SnapshotRecord* r) const {
  for (const auto& [at, key] : dedup_order_) {
    r->Clear();
    r->mutable_seen()->set_key(key);
    r->mutable_seen()->set_at_nanos(Nanos(at));
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

// The sent-message table, oldest first.
absl::Status Engine::Impl::WriteMessages(internal::RecordWriter* w,
                                         v1::SnapshotRecord* r) const {
  absl::Status written = absl::OkStatus();
  messages_.ForEach([&](uint64_t id, absl::Time sent, const SentMessage& m) {
    if (!written.ok()) return;
    r->Clear();
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
  v1::SnapshotRecord r;
  CAIRN_RETURN_IF_ERROR(WriteHeader(&w, &r));
  CAIRN_RETURN_IF_ERROR(WriteClock(&w, &r));
  CAIRN_RETURN_IF_ERROR(WriteJourneys(&w, &r));
  CAIRN_RETURN_IF_ERROR(WriteSubjects(&w, &r));
  CAIRN_RETURN_IF_ERROR(WriteEnrollments(&w, &r));
  CAIRN_RETURN_IF_ERROR(WriteTrackers(&w, &r));
  CAIRN_RETURN_IF_ERROR(WritePendingSequences(&w, &r));
  CAIRN_RETURN_IF_ERROR(WriteFreeSlots(&w, &r));
  CAIRN_RETURN_IF_ERROR(WriteTimers(&w, &r));
  CAIRN_RETURN_IF_ERROR(WriteSeen(&w, &r));
  CAIRN_RETURN_IF_ERROR(WriteMessages(&w, &r));
  r.Clear();
  r.mutable_trailer()->set_records(w.records());
  CAIRN_RETURN_IF_ERROR(w.Write(r));
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

// Live enrollments: their subject, id, counts and split, and their place in
// their subject's list; and their number.
absl::Status Engine::Impl::CheckEnrollments() const {
  int64_t live = 0;
  for (uint32_t slot = 0; slot < enrollments_.size(); ++slot) {
    const Enrollment& e = enrollments_[slot];
    if (!e.live) continue;
    ++live;
    if (e.subject >= subjects_.size()) return OutOfRange("enrollment subject");
    // Ids are handed out by counting up: one at or past the next would be
    // handed out again.
    if (e.uid == 0 || e.uid > next_enrollment_uid_) return OutOfRange("enrollment id");
    // Counted up per node arrival and per entry into message ids: at the
    // top they would wrap and repeat an id already sent.
    if (e.visits == UINT32_MAX || e.ordinal == UINT32_MAX) return OutOfRange("enrollment visit count");
    // (The node index was checked when the record was read.)
    if (!SplitOk(versions_, e.version, e.split_node, e.variant)) return OutOfRange("enrollment split");
    const internal::SlotList& list = subjects_[e.subject].enrollments;
    if (std::find(list.begin(), list.end(), slot) == list.end()) {
      return OutOfRange("enrollment's subject list");
    }
  }
  if (live != in_flight_) return OutOfRange("in-flight count");
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
        return OutOfRange("node counters");
      }
      in_version += at_node[v][n];
      const ActionCounters& a = c.actions[n];
      const int64_t undelivered = SumCounts(a.undelivered);
      if (a.sent < 0 || a.delivered < 0 || a.unreported < 0 || undelivered < 0 ||
          SumCounts(a.failed) < 0 || a.sent < a.delivered + undelivered + a.unreported) {
        return OutOfRange("action counters");
      }
    }
    if (c.exited < 0 || c.migrated_in < 0 || c.migrated_in > c.entered ||
        c.entered - c.exited != in_version || SumCounts(c.exits) != c.exited) {
      return OutOfRange("version counters");
    }
  }
  return absl::OkStatus();
}

// Live journey-goal trackers: their subject, enrollment id, goal and split.
absl::Status Engine::Impl::CheckTrackers() const {
  for (const GoalTracker& t : trackers_) {
    if (!t.live) continue;
    if (t.subject >= subjects_.size()) return OutOfRange("tracker subject");
    if (t.enrollment_uid > next_enrollment_uid_) return OutOfRange("tracker's enrollment id");
    if (t.version >= versions_.size() || t.goal >= versions_[t.version].graph->goals.size()) {
      return OutOfRange("tracker goal");
    }
    if (!SplitOk(versions_, t.version, t.split_node, t.variant)) return OutOfRange("tracker split");
  }
  return absl::OkStatus();
}

// Completed sequence matches waiting for silence: subject and trigger.
absl::Status Engine::Impl::CheckPendingSequences() const {
  for (const internal::PendingSequence& p : pending_) {
    if (!p.live) continue;
    if (p.subject >= subjects_.size() || !IsSequence(versions_, p.version, p.node)) {
      return OutOfRange("pending sequence");
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
        return OutOfRange("subject's enrollment");
      }
    }
    for (uint32_t t : s.trackers) {
      if (t >= trackers_.size() || !trackers_[t].live || trackers_[t].subject != i) {
        return OutOfRange("subject's tracker");
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
      if (h.journey >= journeys_.size()) return OutOfRange("history journey");
      // Entries number the next entry's message ids: they must not wrap.
      if (h.entries == UINT32_MAX || h.active > h.entries) return OutOfRange("history entry count");
    }
    for (const internal::SequenceProgress& p : s.sequences) {
      if (!IsSequence(versions_, p.version, p.node) ||
          p.starts.size() != versions_[p.version].graph->nodes[p.node].matchers.size()) {
        return OutOfRange("sequence progress");
      }
      if (p.pending != internal::kNoSlot &&
          (p.pending >= pending_.size() || !pending_[p.pending].live ||
           pending_[p.pending].subject != i)) {
        return OutOfRange("sequence's pending match");
      }
    }
    for (const auto& [channel, times] : s.send_ledger) {
      if (channel < 0 || static_cast<size_t>(channel) >= ledgers) return OutOfRange("send ledger");
    }
    if (s.type >= subject_types_.size()) return OutOfRange("subject type");
    if (subject_index_.Find(s.type, s.id) != i) return OutOfRange("subject (a repeated id)");
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
    return OutOfRange("free slot");
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
  if (!messages_ok) return OutOfRange("message");
  for (const auto& [where, count] : unresolved) {
    const ActionCounters& a = versions_[where.first].counters.actions[where.second];
    // (Every term is in [0, kMaxRestoredCount], checked above.)
    const int64_t awaiting = a.sent - a.delivered - a.unreported - SumCounts(a.undelivered);
    if (count > awaiting) return OutOfRange("message (more unreported than its action sent)");
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
  if (!timers_ok) return OutOfRange("timer target");
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

absl::Status Engine::Impl::ReadHeader(const v1::SnapshotHeader& header) const {
  if (header.format_version() > kSnapshotFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot: format version ", header.format_version(), " is newer than this engine's (",
        kSnapshotFormat, ")"));
  }
  if (header.options_fingerprint() != OptionsFingerprint()) {
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
    if (DefinitionFingerprint(versions_[i].graph->definition) != d.definition_fingerprint()) {
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
  if (!ReadTime(c.now_nanos(), false, &now_)) return OutOfRange("engine time");
  if (c.next_enrollment_uid() > static_cast<uint64_t>(kMaxRestoredCount)) {
    return OutOfRange("next enrollment id");
  }
  next_enrollment_uid_ = c.next_enrollment_uid();
  if (c.in_flight() < 0 || c.in_flight() > kMaxRestoredCount) {
    return OutOfRange("in-flight count");
  }
  in_flight_ = c.in_flight();
  std::vector<int64_t*> fields = StatFields(&stats_);
  for (int i = 0; i < c.stats_size() && i < static_cast<int>(fields.size()); ++i) {
    if (c.stats(i) < 0 || c.stats(i) > kMaxRestoredCount) return OutOfRange("engine stat");
    *fields[i] = c.stats(i);
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadJourney(const v1::SnapshotJourney& j) {
  auto it = journey_index_.find(j.journey_id());
  if (it == journey_index_.end()) return OutOfRange("journey id");
  journeys_[it->second].state = j.state();
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadCounters(const v1::SnapshotVersionCounters& vc) {
  if (vc.version_index() >= versions_.size()) return OutOfRange("version index");
  if (!CountsInRange(vc.report())) return OutOfRange("journey report count");
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
    if (!ReadTime(sh.last_exit_nanos(), true, &last_exit)) return OutOfRange("last exit time");
    internal::SetLastExit(&h, last_exit);
    state.history.push_back(std::move(h));
  }
  for (const v1::SnapshotSequence& sp : s.sequences()) {
    if (sp.version() >= versions_.size()) return OutOfRange("sequence version");
    internal::SequenceProgress p;
    p.version = sp.version();
    p.node = sp.node();
    for (int64_t n : sp.starts_nanos()) {
      if (!ReadTime(n, true, &p.starts.emplace_back())) return OutOfRange("sequence start time");
    }
    CAIRN_RETURN_IF_ERROR(ReadValues(sp.context(), &p.context));
    p.pending = sp.pending();
    state.sequences.push_back(std::move(p));
  }
  for (const v1::SnapshotLedger& l : s.ledgers()) {
    std::vector<absl::Time> times;
    for (int64_t n : l.sends_nanos()) {
      if (!ReadTime(n, false, &times.emplace_back())) return OutOfRange("send ledger time");
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
    return OutOfRange("enrollment node");
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
    return OutOfRange("enrollment split");
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
  if (st.live() && st.version() >= versions_.size()) return OutOfRange("tracker version");
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
  if (list == nullptr) return OutOfRange("free-slot kind");
  list->insert(list->end(), fs.slots().begin(), fs.slots().end());
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadSeen(const v1::SnapshotSeen& seen) {
  absl::Time at;
  if (!ReadTime(seen.at_nanos(), false, &at)) return OutOfRange("de-duplication time");
  dedup_seen_[seen.key()] = at;
  dedup_order_.emplace_back(at, seen.key());
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadMessage(const v1::SnapshotMessage& sm) {
  // The engine never holds two messages with one id, so neither does
  // a snapshot it wrote.
  if (messages_.Find(sm.id()) != nullptr) return OutOfRange("message (a repeated id)");
  absl::Time sent;
  if (!ReadTime(sm.sent_nanos(), false, &sent)) return OutOfRange("message send time");
  if (!messages_.Insert(sm.id(), sent,
                        SentMessage{sm.version(), sm.node(), sm.enrollment(),
                                    sm.generation(), sm.awaiting(), sm.resolved()})) {
    return OutOfRange("message count");
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::RestoreRecords(internal::RecordReader* reader) {
  v1::SnapshotRecord r;
  CAIRN_ASSIGN_OR_RETURN(bool have, reader->Read(&r));
  if (!have || r.kind_case() != v1::SnapshotRecord::kHeader) {
    return absl::DataLossError("snapshot: does not start with a header");
  }
  CAIRN_RETURN_IF_ERROR(ReadHeader(r.header()));
  std::vector<std::pair<uint64_t, internal::Timer>> restored_timers;  // (seq, timer)
  while (true) {
    r.Clear();
    CAIRN_ASSIGN_OR_RETURN(bool more, reader->Read(&r));
    if (!more) return absl::DataLossError("snapshot: truncated (no trailer)");
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
        if (st.kind() > internal::TimerQueue::kMaxKind) return OutOfRange("timer target");
        absl::Time due;
        if (!ReadTime(st.due_nanos(), false, &due)) return OutOfRange("timer due time");
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
