// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl, the executor behind cairn::Engine: its state and the
// operations on it. One class spread over several files by concern (see
// docs/architecture.md):
//   engine.cc           construction, and the public Engine forwarding to it
//   engine_deploy.cc    deploy, versions, migration, journey states
//   engine_inputs.cc    inputs at the door, time rules, subjects, timers firing
//   engine_entry.cc     entry rules, keyed histories, sequence triggers
//   engine_run.cc       running an enrollment through its nodes
//   engine_send.cc      the send path and the send policies
//   engine_report.cc    reports and stats
//   engine_behaviors.cc behaviour declarations, and the reads journeys make
//   engine_segments.cc  segment membership, exit criteria, wait-until: the
//                       checks of a subject's state, and their re-checks
//   engine_schedule.cc  scheduled entry: occurrences, runs in slices
//   engine_privacy.cc   erasure (Forget) and identity merge (MergeSubjects)
//   engine_rollout.cc   splits' rules and bandits: checks, decisions, shares
//   node_<kind>.cc      each node kind's hooks (node_kinds.cc the table)
//   snapshot/*.cc       snapshot records written, read and checked
// Its state that a restore rebuilds is internal::EngineState, below; the
// subjects are an internal::SubjectTable (exec/subject_table.h).
//
// Internal to the engine's own sources; not installed.
//
// Thread-safety: none; an Engine is used from one thread at a time.

#ifndef CAIRN_EXEC_ENGINE_IMPL_H_
#define CAIRN_EXEC_ENGINE_IMPL_H_

#include <cstdint>
#include <deque>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/engine.h"
#include "cairn/event.h"
#include "cairn/journey.h"
#include "cairn/options.h"
#include "cairn/sink.h"
#include "cairn/v1/journey.pb.h"
#include "cairn/v1/report.pb.h"
#include "cairn/v1/behavior.pb.h"
#include "cairn/v1/snapshot.pb.h"
#include "behavior/behavior_store.h"
#include "behavior/segment_members.h"
#include "compile/journey_graph.h"
#include "exec/bindings.h"
#include "exec/engine_state.h"
#include "exec/migration.h"
#include "exec/sent_messages.h"
#include "exec/subject_table.h"
#include "predicate/predicate.h"
#include "util/record_io.h"
#include "timer/local_time.h"
#include "timer/timer_queue.h"

namespace cairn {
namespace internal {

class RecordArena;  // snapshot/record_arena.h

// What a timer in the engine's queue is for, and what its target is.
enum class TimerKind : uint8_t {
  kNode = 0,      // A delay's end, a wait's or goal's timeout, a delivery wait,
                  // quiet hours' end: target is the enrollment slot.
  kTracker = 1,   // A journey goal's window: target is the goal tracker slot.
  kSequence = 2,  // A sequence's absent window: target is the pending slot.
  kSubject = 3,   // The subject's own timer: target is the subject slot, and
                  // the generation says what for (SubjectTimer).
};
static_assert(static_cast<uint8_t>(TimerKind::kSubject) <= TimerQueue::kMaxKind,
              "timer kinds fit in the queue's two bits");

// What a TimerKind::kSubject timer is for, held in its generation.
enum SubjectTimer : uint32_t {
  kProgress = 0,  // Housekeeping: frees the subject's expired partial matches.
  kRecheck = 1,   // Re-checks its time-driven conditions (recheck_at_).
};

// The largest count (a stat, a report counter, an enrollment id) a
// snapshot may hold: far more than any engine reaches (2^53 inputs at a
// million a second take 285 years), and far enough below INT64_MAX that the
// sums and differences restore checks and the running engine compute on
// restored counts cannot overflow.
inline constexpr int64_t kMaxRestoredCount = int64_t{1} << 53;

// A restored record that points outside what the engine holds.
inline absl::Status SnapshotOutOfRange(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("snapshot: ", what, " is out of range"));
}

// The counters of one version in the report's shape (Engine::Report and the
// snapshot's counters record) at engine time `now` (the per-day counts
// within the journey's trend_days of it), and back (Restore: false when
// the per-day counts are not ones the engine could have written at `now`).
void FillVersionReport(const JourneyVersion& v, absl::Time now, v1::VersionReport* vr);
bool ReadVersionReport(const v1::VersionReport& vr, absl::Time now, JourneyVersion* v);

// The engine's mutable state that a restore rebuilds: the containers and
// counters Restore reads from a snapshot's records and, when a restore
// fails, puts back as new (Reset). Not in it, because a restore does not
// rebuild them: what the host set up (options, sinks, observer), the
// deployed journeys and versions with their indexes, journey states,
// version counters and stats (Restore saves those and puts them back
// itself), and caches (time zones, the message being sent).
//
// Engine::Impl inherits it privately and uses its fields as its own members,
// which is why they keep a member's trailing underscore. Google style would
// have a member `state_`; inheriting leaves the engine's sources, with some
// 330 uses of these names, as they were, while the fields are still one
// named, documented type. Nothing converts an Impl to an EngineState.
//
// Reset, not assignment from a fresh EngineState, puts it back: the subject
// table cannot move (its index reaches the records through a pointer), and
// Reset is exactly the field-by-field clearing the engine did before.
// Nothing holds a pointer into these containers across a Reset.
struct EngineState {
  explicit EngineState(absl::Time start) : now_(start) {}
  EngineState(const EngineState&) = delete;
  EngineState& operator=(const EngineState&) = delete;

  // Puts every field back as the constructor left it, with engine time
  // `start`. A field added below is reset here too.
  void Reset(absl::Time start) {
    now_ = start;
    in_flight_ = 0;
    restored_uid_bound_ = 0;
    restored_uids_.clear();
    subjects_.Clear();
    enrollments_.clear();
    awaiting_messages_.clear();
    contexts_.clear();
    free_contexts_.clear();
    free_enrollments_.clear();
    trackers_.clear();
    free_trackers_.clear();
    pending_.clear();
    free_pending_.clear();
    timers_ = TimerQueue();
    dedup_seen_.clear();
    dedup_order_.clear();
    messages_.Clear();
    recheck_at_.clear();
    segments_checked_subjects_ = 0;
    schedule_clocks_.clear();
    schedule_runs_.clear();
    schedule_due_ = absl::InfiniteFuture();
    rollout_due_ = absl::InfiniteFuture();
    for (std::deque<absl::Time>& sends : rate_sends_) sends.clear();
  }

  // Engine time: the latest time applied (EngineOptions::start_time at
  // first). Inputs older than it are late; it never moves back.
  absl::Time now_;
  // Enrollments live now (EngineStats::enrollments_in_flight).
  int64_t in_flight_ = 0;
  // Only while restoring: a snapshot names each live enrollment by a
  // number (its slot + 1 since Cairn links goal trackers by slot; a count
  // of enrollments before), at most the bound its clock gives, and its
  // trackers by that number: number -> slot.
  uint64_t restored_uid_bound_ = 0;
  absl::flat_hash_map<uint64_t, uint32_t> restored_uids_;

  // Every subject seen, by slot, and its index by (type, id).
  SubjectTable subjects_;

  // Enrollments by slot, live or free; a slot is reused (free_enrollments_)
  // and its `generation` tells a stale timer.
  std::vector<Enrollment> enrollments_;
  // Enrollment slot -> the message whose delivery report it awaits (while
  // its `awaiting` is set): few enrollments wait on one, so the id is not
  // kept in every Enrollment.
  absl::flat_hash_map<uint32_t, uint64_t> awaiting_messages_;
  // The entry contexts (entry.*) of live enrollments whose context is not
  // empty, by Enrollment::context (0 is never used), and the free numbers.
  // Each is held by pointer, so that a context stays in place while the
  // pool grows.
  std::vector<std::unique_ptr<Attributes>> contexts_;
  std::vector<uint32_t> free_contexts_;
  // Free enrollment slots, the next to reuse last.
  std::vector<uint32_t> free_enrollments_;
  // Journey-goal trackers by slot, live or free, and the free slots.
  std::vector<GoalTracker> trackers_;
  std::vector<uint32_t> free_trackers_;
  // Completed sequence matches waiting out their absent window, by slot,
  // live or free, and the free slots.
  std::vector<PendingSequence> pending_;
  std::vector<uint32_t> free_pending_;
  // Every timer scheduled and not yet fired (stale ones included), each
  // with its TimerKind and target slot.
  TimerQueue timers_;

  // The de-duplication ledger: StableHash64 of (subject type, subject id,
  // event id) -> when it was last seen, and the keys in the order seen, to
  // forget them once out of the dedup window or past max_dedup_ids.
  absl::flat_hash_map<uint64_t, absl::Time> dedup_seen_;
  std::deque<std::pair<absl::Time, uint64_t>> dedup_order_;
  // Sent messages for delivery reports, oldest first.
  SentMessages messages_;
  // Subjects with a time-driven re-check pending, and when (a whole
  // nanosecond: what the timer queue holds). The subject timer due then
  // (TimerKind::kSubject, generation kRecheck) fires it; one due at any
  // other time is stale.
  absl::flat_hash_map<uint32_t, absl::Time> recheck_at_;
  // Subjects below this slot have had every segment of their type checked
  // at least once; the next check takes the newer ones (CheckSegments).
  size_t segments_checked_subjects_ = 0;
  // Scheduled journeys' clocks, in journey order, and the runs in
  // progress, oldest first; the soonest time one begins an occurrence or a
  // pass (derived: UpdateScheduleDue).
  std::vector<ScheduleClock> schedule_clocks_;
  std::vector<ScheduleRun> schedule_runs_;
  absl::Time schedule_due_ = absl::InfiniteFuture();
  // The soonest check of a split's experiment rule (derived:
  // UpdateRolloutDue).
  absl::Time rollout_due_ = absl::InfiniteFuture();
  // Per engine rate limit (EngineOptions::rate_limits, in order): its
  // sends and reserved slots (RateSends). Sized by the engine.
  std::vector<std::deque<absl::Time>> rate_sends_;
};

}  // namespace internal

// What an event name reaches: the journeys' engine-wide event id (-1 when
// no journey names it) and the behaviours counting it, in declaration
// order.
struct EventRoute {
  int32_t id = -1;
  internal::BehaviorStore::Listeners behaviors;
};

// The state a restore rebuilds is the base's (see internal::EngineState);
// the members below are set up once, or restored on their own.
class Engine::Impl : private internal::EngineState {
 public:
  explicit Impl(EngineOptions options);

  // ---- Set-up ----

  absl::Status RegisterChannel(absl::string_view channel, ChannelSink* sink);

  void SetProfileSink(ProfileSink* sink) { profile_sink_ = sink; }
  void SetObserver(Observer* observer) { observer_ = observer; }

  absl::Status Deploy(const v1::Journey& journey);

  absl::Status DeployForRestore(const v1::Journey& journey);

  // Deploys `compiled`. `check_migration` false skips the graph check of a
  // migration (CheckMigration) for DeployForRestore: the version passed the
  // check of its time when it was first deployed, and a fresh engine has
  // nothing to move; so does the check of its behaviour reads, which
  // Restore makes against the snapshot's declarations.
  absl::Status Deploy(std::shared_ptr<const CompiledJourney> compiled,
                      bool check_migration = true);

  // The older versions of journey `journey_slot` whose enrollments a new
  // version's migration must be able to take, oldest first: those from the
  // newest version deployed with a migration on (that deploy moved every
  // enrollment of the versions before it, and only the newest version takes
  // entries, so they stay empty), less retired ones. Decided by the deploy
  // history alone, which is the same wherever the same deploys were made.
  std::vector<internal::MigrationSource> MigrationSources(uint32_t journey_slot) const;

  // Lists, in slot order, the enrollments in flight in the older versions of
  // journey `journey_slot`, which `journey`'s migration moves. CheckMigration
  // has already made sure that every node they can wait at is mapped, so an
  // enrollment that cannot move is a broken invariant: Internal, and nothing
  // moves.
  absl::Status PlanMigration(const v1::Journey& journey, const internal::JourneyGraph& graph,
                             uint32_t journey_slot, std::vector<uint32_t>* moving);

  // Moves a live enrollment into `to_version` at the node its current node
  // maps to. It keeps its timers (the generation is unchanged, so a delay's
  // end or a timeout still fires), its context, entry time and ordinal, and
  // its split variant where the split still exists by name. Re-entry history
  // is per journey id, so it does not change.
  void Migrate(uint32_t slot, uint32_t to_version);

  absl::Status RetireVersion(absl::string_view journey_id, int64_t version);

  absl::Status SetJourneyState(absl::string_view journey_id, v1::JourneyState state);

  absl::Status DeclareBehaviors(const v1::BehaviorSet& behaviors);

  absl::Status SeedBehavior(const BehaviorSeed& seed);
  absl::StatusOr<Value> BehaviorValue(absl::string_view subject_type,
                                      absl::string_view subject_id,
                                      absl::string_view behavior);

  v1::BehaviorsReport BehaviorsReport() const;

  absl::StatusOr<v1::SubjectReport> Inspect(absl::string_view subject_type,
                                            absl::string_view subject_id) const;

  // ---- Inputs ----

  absl::Status Ingest(const Event& event);

  absl::Status Enroll(absl::string_view journey_id, absl::string_view subject_id,
                      absl::Time time, const Attributes& context);

  absl::Status UpsertProfile(absl::string_view subject_id, const Attributes& attrs,
                             absl::Time time, absl::string_view subject_type);

  absl::Status ReportDelivery(absl::string_view message_id, DeliveryOutcome outcome,
                              absl::Time time, absl::string_view reason);

  // Erasure and identity merge (exec/engine_privacy.cc).
  absl::Status Forget(absl::string_view subject_id, absl::Time time,
                      absl::string_view subject_type);
  absl::Status MergeSubjects(absl::string_view from_id, absl::string_view into_id,
                             absl::Time time, absl::string_view subject_type);

  absl::Status AdvanceTo(absl::Time time);

  int64_t RunScheduled(int64_t max_subjects);

  // ---- Outputs ----

  absl::Time now() const { return now_; }
  // The next timer, scheduled occurrence or pass, or rule check, whichever
  // is soonest: when a host that only advances time must call AdvanceTo.
  absl::Time next_timer_time() const {
    return std::min({timers_.NextDue(), schedule_due_, rollout_due_});
  }

  EngineStats stats() const;

  std::vector<std::string> journey_ids() const;

  absl::StatusOr<v1::JourneyReport> Report(absl::string_view journey_id) const;

  absl::Status Snapshot(std::ostream& out) const;
  absl::Status Restore(std::istream& in);

 private:
  // True until the engine takes its first input: what Restore and
  // DeployForRestore need.
  bool Fresh() const;

  // A hash of the options, which a snapshot records and Restore compares.
  // Computed once, by the constructor (options_fingerprint_): it formats
  // every option, which was a good part of a small snapshot's cost.
  uint64_t ComputeOptionsFingerprint() const;
  // Snapshot's records, kind by kind, each through `w` (each record comes
  // from `records`).
  absl::Status WriteHeader(internal::RecordWriter* w, internal::RecordArena* records) const;
  absl::Status WriteClock(internal::RecordWriter* w, internal::RecordArena* records) const;
  absl::Status WriteJourneys(internal::RecordWriter* w, internal::RecordArena* records) const;
  absl::Status WriteBehaviors(internal::RecordWriter* w, internal::RecordArena* records) const;
  absl::Status WriteSubjects(internal::RecordWriter* w, internal::RecordArena* records) const;
  absl::Status WriteEnrollments(internal::RecordWriter* w, internal::RecordArena* records) const;
  absl::Status WriteTrackers(internal::RecordWriter* w, internal::RecordArena* records) const;
  absl::Status WritePendingSequences(internal::RecordWriter* w, internal::RecordArena* records) const;
  absl::Status WriteFreeSlots(internal::RecordWriter* w, internal::RecordArena* records) const;
  absl::Status WriteTimers(internal::RecordWriter* w, internal::RecordArena* records) const;
  absl::Status WriteSeen(internal::RecordWriter* w, internal::RecordArena* records) const;
  absl::Status WriteMessages(internal::RecordWriter* w, internal::RecordArena* records) const;
  absl::Status WriteSchedules(internal::RecordWriter* w, internal::RecordArena* records) const;
  absl::Status RestoreRecords(internal::RecordReader* reader);
  // RestoreRecords' records, kind by kind.
  absl::Status ReadHeader(const v1::SnapshotHeader& header) const;
  absl::Status ReadClock(const v1::SnapshotClock& c);
  absl::Status ReadJourney(const v1::SnapshotJourney& j);
  absl::Status ReadBehaviors(const v1::SnapshotBehaviors& b);
  // A subject's behaviour cells, segments and pending re-check (its
  // index: `subject`).
  absl::Status ReadSubjectBehaviors(uint32_t subject, const v1::SnapshotSubject& s);
  void WriteSubjectBehaviors(uint32_t subject, v1::SnapshotSubject* s) const;
  absl::Status ReadCounters(const v1::SnapshotVersionCounters& vc);
  absl::Status ReadSubject(const v1::SnapshotSubject& s);
  absl::Status ReadForgotten(const v1::SnapshotForgotten& f);
  absl::Status ReadRateLimit(const v1::SnapshotRateLimit& r);
  // A rate limit's sends, in time order and in range, into *sends.
  absl::Status ReadRateSends(const google::protobuf::RepeatedField<int64_t>& nanos,
                             std::deque<absl::Time>* sends) const;
  absl::Status ReadEnrollment(const v1::SnapshotEnrollment& se);
  absl::Status ReadTracker(const v1::SnapshotTracker& st);
  absl::Status ReadPendingSequence(const v1::SnapshotPendingSequence& sp);
  absl::Status ReadFreeSlots(const v1::SnapshotFreeSlots& fs);
  absl::Status ReadSeen(const v1::SnapshotSeen& seen);
  absl::Status ReadMessage(const v1::SnapshotMessage& sm);
  absl::Status ReadSchedule(const v1::SnapshotSchedule& s);
  // At the trailer: the runs in their snapshot order, and a clock for each
  // scheduled journey the snapshot had none for.
  absl::Status FinishRestoredSchedules();
  // Timers read, with their sequence numbers, scheduled at the trailer.
  using RestoredTimers = std::vector<std::pair<uint64_t, internal::Timer>>;
  absl::Status ReadTimer(const v1::SnapshotTimer& st, RestoredTimers* restored);
  void ScheduleRestoredTimers(RestoredTimers* restored);
  absl::Status CheckRestoredState() const;
  // CheckRestoredState's checks, part by part.
  absl::Status CheckEnrollments() const;
  absl::Status CheckCounters() const;
  absl::Status CheckTrackers() const;
  absl::Status CheckPendingSequences() const;
  absl::Status CheckSubjects() const;
  absl::Status CheckFreeSlots() const;
  absl::Status CheckMessages() const;
  absl::Status CheckTimers() const;
  // Every deployed version's behaviour reads fit the restored declarations.
  absl::Status CheckDeployedBehaviorReads() const;
  void ResetToPristine();

  // What every step reads besides the subject's own data: engine time and
  // the behaviours.
  internal::StepContext StepNow() {
    return internal::StepContext{&behaviors_, {now_, &zone_cache_, &stats_.unknown_time_zones}};
  }

  // OK when every behaviour `graph` reads is declared, for its subject
  // type, with a type every use of it fits; else InvalidArgument naming
  // the journey, node and field of each bad read.
  absl::Status CheckBehaviorReads(const internal::JourneyGraph& graph) const;
  struct TriggerListener {
    uint32_t version;
    int32_t node;
  };

  static absl::Status UnknownJourney(absl::string_view id);

  // ---- Segments (exec/engine_segments.cc) ----

  // A segment to re-check for a subject. `triggers`: a transition found
  // may enter journeys (segment triggers); false when only a journey's own
  // update node changed what the segment reads.
  struct SegmentCheck {
    uint32_t subject;
    int32_t segment;
    bool triggers;
  };

  // A membership change: `subject` entered (or left) `segment`.
  struct SegmentChange {
    uint32_t subject;
    int32_t segment;
    bool entered;
  };

  // Queues re-checks of `segments` for `subject`, applied by CheckSegments
  // when the input (or timer) that caused them has been applied.
  void QueueSegmentChecks(uint32_t subject, const std::vector<int>& segments, bool triggers) {
    for (int i : segments) segment_checks_.push_back({subject, i, triggers});
  }

  // Queues the segments reading an attribute of `update` whose value it
  // changes in `profile` (call before applying it).
  void QueueAttributeChecks(uint32_t subject, const Attributes& profile,
                            const std::vector<std::pair<std::string, Value>>& update,
                            bool triggers);

  // Applies the queued checks, and for subjects new since the last call
  // also checks the segments of their type that a subject holding nothing
  // is in (BehaviorStore::InSegmentWhenBlank; a new subject's checks all
  // may trigger): records each membership that
  // changed and counts it, and sets each checked subject's time-driven
  // re-check. A change found by a check that may trigger is kept for
  // CheckSegments to enter journeys with. Called once the host's own
  // change (an event counted, a profile written) is applied and before any
  // journey acts on it, so that what a journey then writes never passes as
  // the host's; subjects go in slot order.
  void CheckSegmentsNow();

  // CheckSegmentsNow, then enters the journeys whose segment triggers the
  // changes kept fire (in the order found: by subject, then segment; then
  // journey order), until nothing is left: at the end of every input and
  // timer.
  void CheckSegments();

  // Sets when `subject`'s time-driven conditions are next re-checked: the
  // soonest time any of them can change (InfiniteFuture: never).
  void ScheduleRecheck(uint32_t subject);

  // A kRecheck subject timer due at `due`: queues the subject's
  // time-driven segments, unless the timer is stale.
  void FireRecheck(uint32_t subject, absl::Time due);

  // Indexes the declared segments and computes every known subject's
  // membership afresh, entering no journey: a member already in a segment
  // when it is declared did not enter it. kept_from[i] is the index, among
  // the segments indexed until now, of the one new segment i is declared
  // exactly as (-1: none): its counts are kept; the rest start at 0.
  void RebuildSegmentMembers(const std::vector<int>& kept_from);

  // ---- Scheduled entry (exec/engine_schedule.cc) ----

  // The schedule trigger of journey `journey`'s newest version, or null.
  const internal::GraphNode* ScheduleTriggerOf(uint32_t journey) const;
  // When the occurrence of journey `journey`'s schedule on `date` begins.
  // REQUIRES: its newest version has a schedule trigger.
  absl::Time OccurrenceBegins(uint32_t journey, absl::CivilDay date) const;
  // After a deploy of journey `journey`: sets its clock to the first
  // occurrence of its newest version's schedule that is not yet begun and
  // not in the past, or drops the clock and runs of a version without one.
  void SetScheduleClock(uint32_t journey);
  // Recomputes schedule_due_.
  void UpdateScheduleDue();
  // At schedule_due_: begins the occurrences and passes due, then
  // evaluates one slice.
  void FireScheduleDue();
  // Begins the occurrence the clock is at and moves the clock on.
  void BeginOccurrence(internal::ScheduleClock* clock);
  // When `subject`'s occurrence in `run` comes: the run's instant, or in the
  // subject's own zone. (Looked up on every pass, so a zone that does not
  // load is not counted here: the journey's own lookups count it.)
  absl::Time SubjectOccurrence(const internal::ScheduleRun& run, uint32_t subject);
  // Evaluates `subject` for `run` as of `as_of` and enters it if it is in
  // the audience; clears its bit.
  void EvaluateScheduled(internal::ScheduleRun* run, uint32_t subject, absl::Time as_of);
  // Evaluates up to `budget` subjects of the runs in progress whose time
  // has come, oldest run first; returns the subjects the runs still hold.
  int64_t RunScheduledSlice(int64_t budget);
  // Scans run `index` from its cursor, evaluating up to *budget subjects
  // whose occurrence has come (each look costs one); at the end of a pass,
  // sets when the next one begins.
  void AdvanceRun(size_t index, int64_t* budget);
  // Drops the runs that hold no subject any more, counting each completed.
  void RemoveFinishedRuns();
  // Before an input or a timer touches `subject`: evaluates it for every run
  // that holds it and whose occurrence has come for it.
  void CatchUpScheduled(uint32_t subject) {
    if (!schedule_runs_.empty()) CatchUpScheduledNow(subject);
  }
  void CatchUpScheduledNow(uint32_t subject);
  // The subject a timer concerns.
  uint32_t SubjectOfTimer(const internal::Timer& t) const;

  // ---- Splits' experiment rules (exec/engine_rollout.cc) ----

  // At deploy: every rule of `v` starts testing now, its first check one
  // check_every later (StartedRollout: also a restored rule the snapshot
  // held nothing for).
  void StartRollouts(internal::JourneyVersion* v);
  internal::RolloutState StartedRollout(const internal::JourneyGraph& graph,
                                        const internal::SplitRuleSpec& rule) const;
  // Recomputes rollout_due_.
  void UpdateRolloutDue();
  // At rollout_due_, with time moving to `limit`: makes every check due,
  // in deploy then node order, each with the later ones that see the same
  // counts (CheckRollout).
  void FireRolloutDue(absl::Time limit);
  // Makes `instants` checks of rule `index` of version `version` (or a
  // bandit's updates), from its next_check on, one period apart: ones
  // that no timer, scheduled occurrence or input comes between, so that
  // they see the same counts. Exactly as making each in turn, in O(1): a
  // clock that jumps years costs no more than one check.
  void CheckRollout(uint32_t version, size_t index, int64_t instants);
  // A bandit's update: the shares from its counts in *r, by Thompson
  // sampling on the update's own random stream.
  void UpdateBandit(const internal::JourneyVersion& v, const internal::SplitRuleSpec& bandit,
                    internal::RolloutState* r) const;
  void AddBanditReport(const internal::JourneyVersion& v, const internal::SplitRuleSpec& bandit,
                       const internal::RolloutState& r, v1::RolloutReport* out) const;
  // The arm `split` of `v` assigns a new entry with split hash `hash`: by
  // its rule's decision once made, else by its weights.
  int AssignVariant(const internal::JourneyVersion& v, const internal::GraphNode& split,
                    uint64_t hash) const;
  // Appends a RolloutReport per rule of `v`.
  void AddRolloutReports(const internal::JourneyVersion& v, v1::VersionReport* vr) const;
  // Snapshot (snapshot/engine_records.cc): `v`'s rule states, and back.
  void WriteRollouts(const internal::JourneyVersion& v, v1::SnapshotVersionCounters* out) const;
  absl::Status ReadRollouts(const v1::SnapshotVersionCounters& in, internal::JourneyVersion* v);
  absl::Status ReadBanditState(const v1::SnapshotRollout& s, size_t arms,
                               internal::RolloutState* r);
  // After a restore: checks each restored rule's times against engine
  // time; a rule the snapshot held nothing for starts testing then.
  absl::Status FinishRestoredRollouts();

  // ---- Exit criteria and wait-until (exec/engine_segments.cc) ----

  // The subject's profile or behaviours changed: the exit criteria and
  // wait-until branches of its enrollments are checked by CheckSegments.
  void MarkStateChanged(uint32_t subject) {
    if (state_watchers_ > 0) state_changed_.push_back(subject);
  }

  // The first exit criterion of the enrollment's journey that holds now,
  // or null.
  const internal::JourneyGraph::ExitCriterion* MetExitCriterion(uint32_t slot);

  // The first wait-until branch of the wait node the enrollment is at that
  // holds now, or -1.
  int MetUntilBranch(uint32_t slot);

  // For every marked subject, in slot order, each enrollment (oldest
  // first) whose journey watches state: exits by the first exit criterion
  // that holds, or else takes the first wait-until branch that holds and
  // runs on. Then sets the subject's re-check.
  void CheckStateConditions();

  // Enters `subject` into the journeys whose segment trigger on segment
  // `segment` fires for the change (`entered` or left).
  void EnterOnSegmentChange(uint32_t subject, int segment, bool entered);

  // A journey id deployed for the first time: its segment triggers that
  // ask for existing members enter the segment's current members.
  void EnterExistingMembers(uint32_t version);

  // Enters `subject` (of type `type`) into every journey with an
  // attribute_change trigger on an attribute of `update` whose value it
  // changed, given the profile `before` the update was applied.
  void EnterOnAttributeChanges(uint32_t subject, absl::string_view type,
                               const Attributes& before, const Attributes& update);

  // OK when applying `attrs` to the profile of (type, id) keeps it within
  // max_profile_attributes and max_profile_bytes; else ResourceExhausted.
  // Nothing changes either way. (Linear in the profile, which the limits
  // bound.)
  absl::Status CheckProfileLimits(absl::string_view type, absl::string_view id,
                                  const Attributes& attrs) const;

  // The time rules, part 1: rejects an input whose time the engine cannot
  // hold, one too old to apply, and one too far ahead to trust (counted in
  // *rejected). No other side effect, so later checks can still reject.
  absl::Status CheckTime(absl::Time time, int64_t* rejected, absl::string_view what);

  // Part 2, for an input that will be applied: an old one is applied at
  // engine time (counted late); a newer one first fires the timers due by
  // then.
  void ApplyTime(absl::Time time);

  // Records (type, subject, id) as seen at `at` unless it was seen within
  // the dedup window; returns true for a repeat.
  bool IsDuplicate(absl::string_view type, absl::string_view subject,
                   absl::string_view id, absl::Time at);

  // The engine-wide event id of `name`, which journeys name (given one if
  // it has none).
  int32_t InternEvent(const std::string& name);

  // What an event named `name` reaches, or null when nothing listens to it
  // (see EventRoute). Valid until the next deploy or declaration.
  const EventRoute* RouteOf(absl::string_view name);
  // Brings the behaviours' part of every route up to their declarations.
  void RerouteBehaviors();

  // Only the newest version of each journey takes entries; triggers are
  // indexed by engine-wide event id, in deploy then node order.
  void RebuildTriggerIndex();

  // The subject's history in a journey id, per instance key value for keyed
  // journeys (empty key otherwise).
  internal::JourneyHistory& History(uint32_t subject, uint32_t journey, absl::string_view key);

  internal::JourneyHistory* FindHistory(uint32_t subject, uint32_t journey, absl::string_view key);

  // Before a keyed journey remembers one more instance key for `subject`:
  // true when there is room under max_instances_per_subject, made if need be
  // by forgetting the oldest key with nothing in flight; false when every
  // key held has an enrollment in flight. Either limit case is counted.
  bool MakeRoomForInstance(uint32_t subject, uint32_t journey);

  // The instance key value in an entry context, as text; nullopt when the
  // journey is keyed and the context lacks it; "" for unkeyed journeys.
  static std::optional<std::string> InstanceKey(const internal::JourneyGraph& g,
                                                const Attributes& context);

  bool Matches(const internal::CompiledMatcher& m, const internal::JourneyVersion& v, int32_t event_id,
               const internal::Bindings& bindings) const;

  // Exit-on rules, waits, goals and journey goals of one subject, for one
  // event. Enrollments are visited oldest first.
  void ApplyToEnrollments(uint32_t subject, int32_t event_id, const Event& event);

  // Counts one goal outcome overall, for the enrollment's variant and for
  // the holdout group `subject` is in (when there is a holdout).
  void CountGoal(internal::GoalStats* stats, uint32_t version, int32_t split_node,
                 int32_t variant, uint32_t subject, int64_t internal::GoalCounters::*field);
  // The goal counters of the holdout group `subject` is in (held out or
  // not), or nullptr when the engine has no holdout.
  internal::GoalCounters* HoldoutCounters(internal::GoalStats* stats, uint32_t subject) const;

  internal::GoalCounters& VariantCounters(internal::GoalStats* stats, uint32_t version,
                                int32_t split_node, int32_t variant);

  // Sequence triggers. Per subject and trigger, starts[i] is the time of the
  // latest first step among partial matches that have completed steps 0..i
  // (InfinitePast: none). Keeping only the latest start per step bounds the
  // state by the number of steps and gives every later step the best chance
  // to fit in the window.
  internal::SequenceProgress& Progress(uint32_t subject, uint32_t version, int32_t node);
  // The same record if the subject has one, else nullptr (adds nothing).
  internal::SequenceProgress* FindProgress(uint32_t subject, uint32_t version, int32_t node);

  void AdvanceSequence(uint32_t version, int32_t node, absl::string_view type,
                       std::optional<uint32_t>* subject, int32_t event_id,
                       const Event& event);

  // Forgets partial matches whose window has passed, and the whole record
  // once nothing is left, so idle subjects hold no sequence state.
  void ExpireProgress(uint32_t subject, uint32_t version, int32_t node,
                      absl::Duration window);

  // Schedules the subject's housekeeping timer on the first whole minute
  // after `end`, so that such timers share buckets (not counted in
  // timers_fired).
  void ScheduleProgressTimer(uint32_t subject, absl::Time end);

  // The housekeeping timer: frees the partial matches whose window has
  // passed, and comes back for the ones still open (a first step repeated
  // since the timer was set).
  void FireProgressTimer(uint32_t subject);

  // Expires every partial match of `subject` whose window has passed.
  void ExpireAllProgress(uint32_t subject);

  // A completed match enters now, or after the absent window stays silent.
  void CompleteSequence(uint32_t subject, uint32_t version, int32_t node,
                        internal::SequenceProgress* p, const Event* event);

  // The absent window ended in silence: enter, unless a newer version of
  // the journey has replaced the one the match was made in.
  void FireSequence(uint32_t slot);

  // Forgets subject `subject`: its enrollments exit ("erased"), its
  // journey goals are counted as erased, and every piece of state that
  // names or belongs to it is dropped; its record is erased
  // (SubjectTable::Erase).
  void EraseSubject(uint32_t subject);
  // A journey-goal tracker of a subject forgotten or merged away: counted
  // as erased and released.
  void DropTracker(uint32_t t);
  // The time rule of erasures and merges: CheckTime's, except that an
  // older time is never too late.
  absl::Status CheckTimeNeverLate(absl::Time time, int64_t* rejected, absl::string_view what);

  // Moves subject `from`'s enrollments, histories, journey goals, partial
  // matches, profile, ledgers and behaviour state to subject `into` by the
  // rules of docs/semantics.md ("Merging subjects"), then erases `from`.
  void MergeSubject(uint32_t from, uint32_t into);
  // The profile part: `into`'s values win, `from`'s fill in within the
  // profile limits, opt-out lists are joined. Queues no segment check:
  // MergeSubject queues every segment of the subject's type.
  void MergeProfile(uint32_t from, uint32_t into);

  // Journey state, active window, instance key, re-entry rules and entry
  // limits (docs/semantics.md, "Entry rules"), then a new enrollment at
  // `trigger`, run until it blocks or exits. `occurrence`: the schedule
  // occurrence a scheduled entry belongs to.
  void TryEnter(uint32_t version, int32_t trigger, uint32_t subject,
                const Event* event, const Attributes& context,
                std::optional<absl::CivilDay> occurrence = std::nullopt);

  // The entries into journey `journey` (an index into journeys_) since its
  // first deploy, as entry limits count them: its versions' entries less
  // their migrations in (which move an enrollment, not enter one).
  int64_t EntriesTotal(uint32_t journey) const;

  // The entry-limit reason ("entry_limit_total", "entry_limit_day",
  // "entry_limit_occurrence") when version `v`'s limits refuse one more
  // entry into its journey now; else nullopt, and the entry is counted.
  std::optional<absl::string_view> OverEntryLimit(const internal::JourneyVersion& v,
                                                  std::optional<absl::CivilDay> occurrence);

  // A slot in `slots`, reusing a freed one first.
  template <typename T>
  static uint32_t AllocateSlot(std::vector<T>* slots, std::vector<uint32_t>* free) {
    if (!free->empty()) {
      const uint32_t slot = free->back();
      free->pop_back();
      return slot;
    }
    slots->emplace_back();
    return static_cast<uint32_t>(slots->size() - 1);
  }
  uint32_t AllocateEnrollment() { return AllocateSlot(&enrollments_, &free_enrollments_); }
  uint32_t AllocateTracker() { return AllocateSlot(&trackers_, &free_trackers_); }

  void Trace(TraceStep::Kind kind, const internal::Enrollment& e, int32_t node,
             absl::string_view detail);

  void Enter(uint32_t slot, int32_t node);

  // Leaves the current node by edge `edge`: counts it, cancels the node's
  // timers, and enters the target (or exits, for an empty edge).
  void Leave(uint32_t slot, int edge);

  void Exit(uint32_t slot, absl::string_view reason);

  void ResolveTracker(uint32_t t, int64_t internal::GoalCounters::*field);
  // Frees a tracker slot, or a completed sequence match's, for reuse: not
  // live, its timer stale, and nothing of its subject left in it (a freed
  // slot is still written to snapshots, so its instance key or entry
  // context must not stay behind).
  void ReleaseTracker(uint32_t t);
  void ReleasePending(uint32_t slot);

  // Advances an enrollment from its current node until it blocks or exits.
  // `event` is the event that caused this run (event.* in predicates and
  // templates), or null for timers and delivery reports.
  void Run(uint32_t slot, const Event* event);

  // ---- Node kinds ----
  //
  // What each node kind does at each moment an enrollment can be at it,
  // one file per kind (exec/node_<kind>.cc) and one table (HooksOf, in
  // exec/node_kinds.cc). The engine's input paths only dispatch: Run on
  // arrival, ApplyToEnrollments on an event, FireTimersUntil on a node
  // timer, ReportDelivery on a delivery report.
  struct NodeHooks {
    // An enrollment arrives at the node. Returns true when it now waits
    // there (for a timer, an event or a delivery report); false when it has
    // left by an edge or exited (Run goes on from where it is).
    bool (Impl::*arrive)(uint32_t slot, const internal::Bindings& bindings);
    // An event of the subject, with the enrollment waiting at the node.
    // Returns true when the event made it leave (Run goes on). Null: the
    // kind does not listen.
    bool (Impl::*on_event)(uint32_t slot, int32_t event_id, const internal::Bindings& bindings);
    // The node's timer fired for the enrollment (not cancelled since). Run
    // goes on afterwards. Null: the kind sets no node timer.
    void (Impl::*on_timer)(uint32_t slot);
    // The delivery report of the message the enrollment awaits. Run goes on
    // afterwards. Null: the kind sends nothing.
    void (Impl::*on_delivery)(uint32_t slot, bool delivered);
  };
  static const NodeHooks& HooksOf(NodeKind kind);

  const internal::GraphNode& NodeOf(const internal::Enrollment& e) const {
    return versions_[e.version].graph->nodes[e.node];
  }

  // Trigger, filter, switch and exit (exec/node_flow.cc): they only choose
  // an edge, or end the enrollment.
  bool ArriveTrigger(uint32_t slot, const internal::Bindings& bindings);
  bool ArriveFilter(uint32_t slot, const internal::Bindings& bindings);
  bool ArriveSwitch(uint32_t slot, const internal::Bindings& bindings);
  bool ArriveExit(uint32_t slot, const internal::Bindings& bindings);

  // Split (exec/node_split.cc): the subject's variant, by stable hash.
  bool ArriveSplit(uint32_t slot, const internal::Bindings& bindings);

  // Delay (exec/node_delay.cc): waits for a duration, a local time of day, a
  // time relative to a profile, event or entry timestamp, an anniversary, a
  // date, or the subject's busiest hour. Arrival returns
  // false when the time is already reached (it moves on at once) or the
  // enrollment exited (no usable time).
  bool ArriveDelay(uint32_t slot, const internal::Bindings& bindings);
  void DelayTimer(uint32_t slot);
  // When a best-time delay entered now ends: the start of the subject's
  // busiest local hour within the look-ahead, or with too little history
  // (or none in those hours) the fallback time (now when there is none).
  absl::Time BestTimeDue(const internal::Enrollment& e, const internal::GraphNode& node);
  // A local-time delay's time (until_time_of_day, until_anniversary,
  // until_date) for the enrollment at `slot` as if the subject were in
  // `zone`; nullopt when the date it needs is missing.
  std::optional<absl::Time> LocalDelayDue(uint32_t slot, const internal::Bindings& bindings,
                                          absl::TimeZone zone);
  // Before a profile update of `subject`: notes its enrollments waiting at
  // a local-time delay whose zone attribute `update` changes (in
  // moving_delays_), with the zone they wait in.
  void NoteLocalDelays(uint32_t subject, const Attributes& update);
  // After it: moves each noted delay into the subject's new zone: a time of
  // day to the next such time there; an anniversary or a date to the same
  // local date and time there (at once, if that has passed).
  void MoveLocalDelays();
  // Whether a delay may wait until `due`: false, having exited the
  // enrollment, when `due` lies beyond what the engine can hold
  // ("delay_time_out_of_range"), or has passed and `if_past` says EXIT
  // ("delay_in_past").
  bool DelayTimeUsable(uint32_t slot, absl::Time due, v1::RelativeDelay::IfPast if_past);

  // Wait (exec/node_wait.cc): the first branch whose event comes, else the
  // timeout edge (the one after the branches).
  bool ArriveWait(uint32_t slot, const internal::Bindings& bindings);
  bool WaitEvent(uint32_t slot, int32_t event_id, const internal::Bindings& bindings);
  void WaitTimer(uint32_t slot);

  // Goal (exec/node_goal.cc): counted reached on arrival; converted by its
  // event (edge 0) or expired by its timer (edge 1).
  bool ArriveGoal(uint32_t slot, const internal::Bindings& bindings);
  bool GoalEvent(uint32_t slot, int32_t event_id, const internal::Bindings& bindings);
  void GoalTimer(uint32_t slot);

  // Action (exec/node_action.cc): sends through SendMessage, then takes
  // next or on_failure, waits out quiet hours or for its send window to
  // open (its timer retries), or waits
  // for the delivery report (its timer is the report's timeout).
  bool ArriveAction(uint32_t slot, const internal::Bindings& bindings);
  void ActionTimer(uint32_t slot);
  void ActionDelivery(uint32_t slot, bool delivered);
  // Leaves an action node: next on success, on_failure (if any) otherwise.
  void FinishAction(uint32_t slot, bool ok);

  // Update (exec/node_update.cc): writes the profile, then next.
  bool ArriveUpdate(uint32_t slot, const internal::Bindings& bindings);

  // ---- Policies ----

  bool HeldOut(const internal::SubjectState& s) const;

  bool OptedOut(const internal::SubjectState& s, absl::string_view channel) const;

  // Applies an opt-out / opt-in event to the subject's consent list.
  void ApplyConsent(uint32_t subject, const Event& event, bool opt_out);

  // Adds `channel` to the opt-out list `list` unless it is there. A list
  // at max_opt_out_channels takes no more names: the subject is then out
  // of every channel ("all", counted in limits_reached), rather than kept
  // on one they asked to leave.
  void AddOptOut(std::vector<std::string>* list, const std::string& channel);

  // The end of the quiet hours the enrollment's subject is in now for this
  // channel: its journey's quiet hours if it has any, else the engine's.
  std::optional<absl::Time> QuietUntil(const internal::Enrollment& e, absl::string_view channel);

  // The ledger key of caps on every channel together (FrequencyCap with an
  // empty channel); a channel's own ledger has the channel's name.
  static constexpr absl::string_view kEveryChannel = "";

  // The subject's send times under ledger `key` (a channel, or
  // kEveryChannel), pruned to the longest window of the caps on it; null
  // when no cap has that key, or when the subject has none and not
  // `create`.
  std::vector<absl::Time>* Ledger(uint32_t subject, absl::string_view key, bool create);

  // When a send on `channel` would no longer be over any frequency cap
  // (its own channel's and every channel's) for the subject; nullopt when
  // it is over none now.
  std::optional<absl::Time> CapFreesAt(uint32_t subject, absl::string_view channel);

  // Counts a send on `channel` in the subject's ledgers.
  void RecordSend(uint32_t subject, absl::string_view channel);

  // The rate limits on a send of enrollment `e` on `channel` (the engine's
  // on the channel and on every channel, its journey's): nullopt when it
  // fits now, and it is counted in each; else the first instant it fits,
  // which is reserved for it in each.
  std::optional<absl::Time> RateSlot(const internal::Enrollment& e, absl::string_view channel);

  // This engine's share of a rate limit of `max` messages
  // (EngineOptions::limit_share): at least one, which options validation
  // and Deploy make sure of.
  int32_t RateShare(int32_t max) const {
    return static_cast<int32_t>(ShareOfLimit(max, options_.limit_share));
  }

  // The subject's time zone: the profile attribute the journey names, if it
  // holds a known IANA zone, else the journey's default. A value that is not
  // one (not a string, malformed, unknown) is counted on every lookup, so the
  // count does not depend on what the zone cache holds.
  absl::TimeZone SubjectZone(const internal::Enrollment& e);

  // What the send path did with an action's message (SendMessage).
  struct SendOutcome {
    enum class Kind {
      kHeldOut,     // The subject is in the holdout: nothing sent, as if sent.
      kSuppressed,  // Opted out or over a frequency cap: not sent.
      kDeferred,    // In quiet hours, outside its send window, over a cap
                    // (DEFER) or a rate until `retry_at`: not sent yet.
      kFailed,      // The sink refused it.
      kSent,        // The sink took it.
      kAwaitingDelivery,  // The sink took it; a delivery report decides.
    };
    Kind kind;
    absl::Time retry_at;   // kDeferred: when to try again.
    uint64_t message_id;   // kSent, kAwaitingDelivery: the id it went with.
  };

  // Applies the engine-wide policies to the action the enrollment at `slot`
  // is at, in the documented order (holdout, consent, quiet hours, the
  // send window, caps, rate limits),
  // and sends its message if they allow: counts the outcome on the action
  // and records the message, but leaves the enrollment where it is. The
  // action node decides what follows (exec/node_action.cc).
  SendOutcome SendMessage(uint32_t slot, const internal::Bindings& bindings);

  // The message enrollment `slot` awaits a delivery report for; 0 if none.
  uint64_t AwaitingMessage(uint32_t slot) const;

  void StopAwaiting(uint32_t slot);

  // Adds one to `field` of today's counts of version `version` (in the
  // journey's zone), when its journey keeps per-day counts; and one to
  // goal `report_goal`'s conversions (its place in the report's goals).
  void CountDay(uint32_t version, int64_t internal::DayCounter::*field);
  void CountDayConversion(uint32_t version, int32_t report_goal);
  // Today's counts of `v`, started if need be, the days past its window
  // dropped; null when its journey keeps none.
  internal::DayCounter* Today(internal::JourneyVersion* v);

  // The entry context of the enrollment `e` (empty when it has none). The
  // reference stays valid until the context is cleared (ClearContext) or
  // replaced.
  const Attributes& ContextOf(const internal::Enrollment& e) const;
  // Keeps `context` as the entry context of the enrollment at `slot` (none
  // when empty), replacing any it had.
  void SetContext(uint32_t slot, Attributes context);
  void ClearContext(uint32_t slot);

  // (A repeated id keeps the message first sent with it.) The table
  // prefetches the id's index slot itself and writes it a few sends later.
  void RememberMessage(uint64_t id, const internal::SentMessage& m);

  // Forgets messages sent more than delivery_report_window ago; one never
  // reported is counted as unreported on its action. (Deploy refuses an
  // await_delivery timeout longer than the window, so an awaited message is
  // always resolved before it is forgotten.)
  void ForgetOldMessages() { ForgetOldMessages(now_); }
  // REQUIRES: now == now_.
  void ForgetOldMessages(absl::Time now);

  // Fires every timer due by `limit`, in (due, scheduling) order, moving
  // engine time to each one's due time.
  void FireTimersUntil(absl::Time limit);

  // An enrollment's node timer: the node kind's timer hook, then Run.
  // Nothing when the enrollment has moved on since (`generation` differs).
  void FireNodeTimer(uint32_t slot, uint32_t generation);

  // An enrollment's node timer (kind kNode) is also noted in the
  // enrollment, for Inspect: its node has one pending timer at a time.
  void ScheduleTimer(absl::Time due, uint32_t target, uint32_t generation,
                     internal::TimerKind kind) {
    timers_.Schedule(due, target, generation, static_cast<uint8_t>(kind));
    if (kind == internal::TimerKind::kNode) {
      enrollments_[target].due_nanos = absl::ToUnixNanos(due);
    }
  }

  const EngineOptions options_;
  const std::string holdout_seed_text_;
  const uint64_t options_fingerprint_;  // ComputeOptionsFingerprint().
  // Ledger key (a capped channel, or kEveryChannel) -> (ledger id, longest
  // cap window).
  absl::flat_hash_map<std::string, std::pair<int32_t, absl::Duration>> capped_channels_;
  // options_.quiet_hours, compiled: the quiet hours of journeys that set
  // none of their own.
  std::vector<internal::QuietRule> quiet_rules_;
  // Rate-limited channel (or "" for every channel) -> its index in
  // options_.rate_limits and rate_sends_.
  absl::flat_hash_map<std::string, int32_t> rate_channels_;
  // Restored by Restore, but kept when a restore fails: not in EngineState.
  EngineStats stats_;

  absl::flat_hash_map<std::string, ChannelSink*> sinks_;
  ProfileSink* profile_sink_ = nullptr;
  Observer* observer_ = nullptr;

  std::vector<internal::JourneyEntry> journeys_;
  absl::flat_hash_map<std::string, uint32_t> journey_index_;
  std::vector<internal::JourneyVersion> versions_;

  // Every event name something listens to, and what: found with one
  // lookup per event. The behaviours' part is as the declarations of
  // BehaviorStore::generation() `routes_generation_` had it (RouteOf brings
  // it up to date).
  absl::flat_hash_map<std::string, EventRoute> event_index_;
  uint64_t routes_generation_ = 0;
  std::vector<std::vector<TriggerListener>> trigger_listeners_;  // By event id.
  // attribute_change triggers of the live versions, by attribute name, in
  // journey order.
  absl::flat_hash_map<std::string, std::vector<TriggerListener>> attribute_listeners_;
  // segment triggers of the live versions, by segment name, in journey order.
  absl::flat_hash_map<std::string, std::vector<TriggerListener>> segment_listeners_;

  // Subjects' zones by name (bounded; see TimeZoneCache).
  internal::TimeZoneCache zone_cache_;
  // The behaviour declarations and every subject's state in them. Not in
  // EngineState: like the journeys, declarations are the host's; Restore
  // replaces them with the snapshot's, and puts them back if it fails.
  internal::BehaviorStore behaviors_;
  // Who is in each of behaviors_' segments, with what each reads. Rebuilt
  // with the declarations; members restored from a snapshot's subjects.
  internal::SegmentMembers segment_members_;
  // Segment checks queued during the current input (QueueSegmentChecks),
  // and the batch being applied (CheckSegments): kept to reuse their memory.
  std::vector<SegmentCheck> segment_checks_;
  std::vector<SegmentCheck> segment_batch_;
  // Membership changes found that may enter journeys, for CheckSegments,
  // and the batch it is entering (kept to reuse their memory).
  std::vector<SegmentChange> segment_entries_;
  std::vector<SegmentChange> segment_entries_batch_;
  // Versions ever deployed whose journey watches state (exit criteria,
  // wait-until): while none is, no subject is marked.
  int state_watchers_ = 0;
  // Subjects marked by MarkStateChanged since the last CheckSegments.
  std::vector<uint32_t> state_changed_;
  std::vector<uint32_t> state_changed_batch_;

  // Local-time delays a profile update moves to a new zone
  // (NoteLocalDelays), kept to reuse their memory.
  struct MovingDelay {
    uint32_t slot;
    uint32_t generation;
    absl::TimeZone old_zone;
  };
  std::vector<MovingDelay> moving_delays_;

  // The message SendMessage fills and hands to a sink, reused from send to
  // send (sinks may not keep it; see ChannelSink::Send), and the action node
  // (version, node) its node-level fields were last filled from.
  Message message_;
  uint32_t message_version_ = UINT32_MAX;
  int32_t message_node_ = -1;

};

}  // namespace cairn

#endif  // CAIRN_EXEC_ENGINE_IMPL_H_
