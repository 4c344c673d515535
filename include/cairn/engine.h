// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// cairn::Engine: runs deployed journeys for every subject, deterministically.
//
// Inputs each carry their own time: Ingest (events), Enroll (audience
// entries), UpsertProfile, ReportDelivery, AdvanceTo, or any of them as one
// EngineInput value (cairn/input.h) through Apply. Engine time only moves
// forward: each input first fires every timer due at or before its time (in
// due-time, then scheduling order), then is applied. The engine never reads a
// clock, uses no randomness and lets no hash-map order reach an output: the
// same inputs give the same sink calls and reports, byte for byte.
//
// Every input returns a Status: OK when applied, an error naming what was
// wrong when rejected. Rejected inputs change nothing but the counters
// (stats()), except that a well-formed delivery report is judged at its own
// time: the timers due by then fire first (see ReportDelivery).
//
// Thread-safety: an Engine is single-threaded; it may be moved between
// threads but not used concurrently. Engines share nothing.
//
// Example:
//   cairn::Engine engine(cairn::EngineOptions{});
//   MyPushSink push;
//   CAIRN_RETURN_IF_ERROR(engine.RegisterChannel("push", &push));
//   CAIRN_RETURN_IF_ERROR(engine.Deploy(journey));
//   CAIRN_RETURN_IF_ERROR(engine.Ingest(event));
//   CAIRN_RETURN_IF_ERROR(engine.AdvanceTo(event.time + absl::Hours(24)));
//   CAIRN_ASSIGN_OR_RETURN(cairn::v1::JourneyReport report,
//                          engine.Report("cart_abandonment"));

#ifndef CAIRN_ENGINE_H_
#define CAIRN_ENGINE_H_

#include <cstdint>
#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/event.h"
#include "cairn/input.h"  // IWYU pragma: export (EngineInput, DeliveryOutcome)
#include "cairn/journey.h"
#include "cairn/options.h"
#include "cairn/sink.h"
#include "cairn/v1/behavior.pb.h"
#include "cairn/v1/journey.pb.h"
#include "cairn/v1/report.pb.h"

namespace cairn {

// Engine-wide input counters. Every input lands in exactly one of
// applied / rejected per kind; late and duplicate inputs are also counted.
struct EngineStats {
  int64_t events_applied = 0;    // matched at least one journey or enrollment
  int64_t events_ignored = 0;    // valid, but nothing listens to the name
  int64_t events_rejected = 0;   // invalid, too late, or duplicate
  int64_t events_duplicate = 0;  // of events_rejected: repeated event ids
  int64_t enrollments_applied = 0;   // Enroll() calls accepted (entered or refused by policy)
  int64_t enrollments_rejected = 0;  // Enroll() calls with bad arguments
  int64_t profile_updates_applied = 0;
  int64_t profile_updates_rejected = 0;
  int64_t delivery_reports_applied = 0;
  int64_t delivery_reports_rejected = 0;  // unknown, repeated, too late
  int64_t behavior_seeds_applied = 0;     // SeedBehavior() calls that replaced a subject's state
  int64_t behavior_seeds_rejected = 0;    // SeedBehavior() calls with bad arguments
  int64_t erasures_applied = 0;   // Forget() calls that forgot a subject
  int64_t erasures_rejected = 0;  // Forget() calls with bad arguments or an unknown subject
  int64_t merges_applied = 0;     // MergeSubjects() calls that merged two subjects
  int64_t merges_rejected = 0;    // MergeSubjects() calls with bad arguments or an unknown subject
  int64_t late_inputs = 0;      // applied at engine time though older
  int64_t too_late_inputs = 0;  // rejected: older than max_lateness
  int64_t future_inputs = 0;    // rejected: further ahead than max_input_lead
  // Limits reached (EngineOptions "Limits"): profile updates refused,
  // opt-out lists collapsed to "all", keyed histories evicted or entries
  // refused for instance_limit, event ids forgotten early by the
  // de-duplication ledger.
  int64_t limits_reached = 0;
  int64_t timers_fired = 0;
  int64_t messages_sent = 0;     // accepted by a sink
  int64_t messages_failed = 0;   // refused by a sink
  // Lookups of a subject's zone (a delay until a local time, a quiet-hours
  // check) whose profile attribute held no well-formed, known IANA zone name
  // (not a string, a path, an unknown name): the journey's default zone was
  // used instead. Absent attributes are not counted.
  int64_t unknown_time_zones = 0;
  int64_t subjects = 0;          // known subjects
  int64_t enrollments_in_flight = 0;

  // Adds every counter of `other` to this one: the stats of several
  // engines (shards, partitions) as one.
  EngineStats& operator+=(const EngineStats& other);
};

class Engine {
 public:
  // Checks the options first: InvalidArgument naming the bad option.
  static absl::StatusOr<Engine> Create(EngineOptions options);

  // REQUIRES: ValidateEngineOptions(options) is OK (use Create() to check).
  explicit Engine(EngineOptions options = EngineOptions());
  Engine(Engine&& other) noexcept;
  Engine& operator=(Engine&& other) noexcept;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

  // ---- Set-up ----

  // Routes messages on `channel` to `sink` (not owned; must outlive the
  // engine). Register every channel before deploying journeys that use it.
  // InvalidArgument for an empty name or null sink; AlreadyExists if the
  // channel already has a sink.
  absl::Status RegisterChannel(absl::string_view channel, ChannelSink* sink);

  // Where update nodes' write-backs go (not owned; may be null: the engine
  // still updates its own copy of the profile).
  void SetProfileSink(ProfileSink* sink);

  // Receives every step (not owned; may be null).
  void SetObserver(Observer* observer);

  // Compiles and deploys a journey. A higher version of a deployed id takes
  // all new entries from then on; enrollments in older versions finish
  // there, unless the journey has a `migration`: then every enrollment in
  // flight in an older version moves now to the node its node maps to (see
  // cairn.v1.Migration). A migration is judged on the graphs alone, never
  // on where enrollments are now, so that every engine with the same
  // versions (each Kafka partition, each shard) gives the same answer: it
  // must map every node of the older versions that may still hold
  // enrollments where an enrollment can wait (delays, waits, goals, actions
  // awaiting delivery or deferred by quiet_hours), occupied or not, to a
  // node of the same kind, and agree with them on settings.instance_key and
  // settings.subject_type (docs/semantics.md, "Versions and migration").
  // The journey's settings.state becomes the id's state.
  // Errors: InvalidArgument (every compile problem listed), AlreadyExists
  // (this version or a newer one is deployed), FailedPrecondition (a
  // channel without a registered sink; a migration that leaves such a node
  // unmapped, maps it to a node of another kind, or crosses instance keys
  // or subject types: the message names the journey, both versions, each
  // node and the field). Nothing is deployed or moved on error.
  absl::Status Deploy(const v1::Journey& journey);

  // Deploys a journey compiled once with cairn::Compile(), as the overload
  // above does: a host that builds many engines with the same journeys
  // (one per shard, a restart, a test per case) shares one CompiledJourney
  // instead of compiling it for each. InvalidArgument when null; otherwise
  // the errors above but compile problems.
  absl::Status Deploy(std::shared_ptr<const CompiledJourney> journey);

  // Deploys one of a snapshot's versions again before Restore(), as Deploy
  // does but without judging its migration against the older versions:
  // that was done when the version was first deployed, under the rule of
  // its time, and a fresh engine has nothing to move. A snapshot written
  // before the rule above (Cairn judged migrations by the nodes occupied
  // then) may hold a version whose migration Deploy now refuses; rebuild
  // its versions with this. Restore still checks that every definition is
  // the snapshot's. Errors: those of Deploy but the migration's, and
  // FailedPrecondition once the engine has taken an input (use Deploy).
  absl::Status DeployForRestore(const v1::Journey& journey);

  // Retires an older version that is empty: no enrollment in flight, no
  // completed sequence match waiting, no journey goal measuring. Its
  // per-subject state (partial sequence matches) is freed, its sends still
  // without a delivery report are forgotten (counted as unreported; later
  // reports for them return NotFound), and its counters are final;
  // Report() marks it retired. OK if already retired. NotFound (unknown id or version),
  // FailedPrecondition (the newest version, or not empty: the message says
  // what is left).
  absl::Status RetireVersion(absl::string_view journey_id, int64_t version);

  // ACTIVE: takes entries. PAUSED: no new entries, enrollments go on.
  // STOPPED: every enrollment of every version exits now (reason
  // "journey_stopped"); no new entries. NotFound for an unknown id,
  // InvalidArgument for JOURNEY_STATE_UNSPECIFIED.
  absl::Status SetJourneyState(absl::string_view journey_id,
                               v1::JourneyState state);

  // Makes `behaviors` the engine's behaviours (cairn/v1/behavior.proto),
  // replacing the set declared before, at engine time. A behaviour declared
  // as before, field for field, keeps its state; a new or changed one
  // starts empty now: its values cover only the time since (BehaviorsReport()
  // says since when); one left out is dropped with its state. Journeys read them
  // as behavior.<name>. Errors: InvalidArgument (every problem of the set,
  // naming the behaviour and field), FailedPrecondition (a deployed
  // journey reads a behaviour the set removes, retypes or gives another
  // subject type: the message names the journey, node and field). Nothing
  // changes on error.
  absl::Status DeclareBehaviors(const v1::BehaviorSet& behaviors);

  // The value of behaviour `behavior` for a subject (`subject_type` empty
  // means "user") as of engine time, as a journey would read it; a null
  // Value when it has none (MIN, MAX, FIRST_TIME and LAST_TIME before any
  // event; counts and sums are 0). NotFound for an undeclared behaviour.
  absl::StatusOr<Value> BehaviorValue(absl::string_view subject_type,
                                      absl::string_view subject_id,
                                      absl::string_view behavior);

  // Replaces a subject's state in one behaviour with history from the
  // host's own records (cairn/input.h, BehaviorSeed: a value, or entries of
  // counts at times), applied at seed.time like any other input of the
  // subject: engine time moves there first. Seeded history counts whatever
  // its time, also before the behaviour was declared; nothing else
  // happens (no trigger runs, no journey moves). Errors: NotFound (no such
  // behaviour), InvalidArgument (empty subject, text that is not UTF-8 or
  // too long, a subject type that is not the behaviour's, a value given
  // where the function needs times, a value or entry of the wrong type, an
  // entry count below 1, an entry after seed.time or out of range, more
  // than kMaxBehaviorSeedEntries entries), OutOfRange (too late or too far ahead).
  // Nothing changes on error.
  absl::Status SeedBehavior(const BehaviorSeed& seed);

  // Every behaviour: its definition in short, when its values start, and
  // the subjects and bytes it holds.
  v1::BehaviorsReport BehaviorsReport() const;

  // ---- Inputs ----

  // Applies an event: exit-on rules, waits and goals of the subject's
  // enrollments (oldest first), then triggers. Errors: InvalidArgument (no
  // subject, name or time; a string that is not UTF-8; a time outside
  // [EarliestInputTime(), LatestInputTime()); more than max_input_bytes of
  // text), OutOfRange (older than max_lateness, or further ahead of engine
  // time than max_input_lead), AlreadyExists (duplicate event id within
  // dedup_window).
  absl::Status Ingest(const Event& event);

  // Enrolls a subject in a journey with an audience trigger (the first one),
  // with `context` as its entry context (entry.*). Re-entry rules, state and
  // active window apply; a refused entry is OK and counted in the report.
  // Errors: NotFound (unknown journey), FailedPrecondition (no audience
  // trigger), InvalidArgument (empty subject, text that is not UTF-8, a
  // time out of range, too much text), OutOfRange (too late or too far
  // ahead).
  absl::Status Enroll(absl::string_view journey_id, absl::string_view subject_id,
                      absl::Time time, const Attributes& context = {});

  // Sets profile attributes (a null Value removes one). `subject_type`
  // empty means "user". Errors: InvalidArgument (empty subject or attribute
  // name, text that is not UTF-8, a time out of range, too much text),
  // OutOfRange (too late or too far ahead), ResourceExhausted (the profile
  // would exceed max_profile_attributes or max_profile_bytes; nothing of
  // the update applies).
  absl::Status UpsertProfile(absl::string_view subject_id,
                             const Attributes& attributes, absl::Time time,
                             absl::string_view subject_type = "");

  // Reports the delivery of a message a sink accepted. An action that awaits
  // delivery continues on next (delivered) or on_failure (failed). The
  // report is judged at `time`: timers due by then fire first (they may make
  // the send, or end its wait), so its answer does not depend on other
  // inputs. Errors: NotFound (not 16 lower-case hex digits, checked before
  // anything else; an unknown id, or sent more than delivery_report_window
  // before `time`), AlreadyExists (reported before, or its delivery wait had
  // ended), OutOfRange (too late).
  absl::Status ReportDelivery(absl::string_view message_id,
                              DeliveryOutcome outcome, absl::Time time,
                              absl::string_view reason = "");

  // Forgets a subject for good (a person's right to erasure): every
  // enrollment it has exits with reason "erased" (counted), its journey
  // goals stop measuring (counted as erased), and the engine drops its
  // profile, re-entry histories, partial sequence matches, send ledgers,
  // behaviour state and segment memberships. No snapshot written afterwards
  // holds a byte of its id or data; reports keep counts, never identities.
  // A later input naming the same id starts a new subject. Timers due by
  // `time` fire first; an erasure older than engine time is applied at
  // engine time, however late (it is never refused for lateness).
  // `subject_type` empty means "user". Errors: InvalidArgument (empty id,
  // text that is not UTF-8, too much text, a time out of range), OutOfRange
  // (further ahead than max_input_lead), NotFound (no such subject is
  // known: never seen, or already forgotten). See docs/semantics.md,
  // "Erasure".
  absl::Status Forget(absl::string_view subject_id, absl::Time time,
                      absl::string_view subject_type = "");

  // Merges subject `from_id` (an anonymous visitor) into `into_id` (the
  // known user it turned out to be; made if the engine does not know it),
  // both of `subject_type` (empty: "user"), by the rules of
  // docs/semantics.md, "Merging subjects": `from_id`'s enrollments move
  // to `into_id` (one in a journey where `into_id` already has one exits,
  // reason "merged", and `into_id`'s, with its split arm, is kept), its
  // re-entry history, journey goals, partial sequence matches, cap ledgers
  // and behaviour state join `into_id`'s, and its profile fills what
  // `into_id`'s lacks (opt-outs are joined). `from_id` is then forgotten as
  // by Forget. Timers due by `time` fire first; a merge older than engine
  // time is applied at engine time. Errors: InvalidArgument (an empty id,
  // the same id twice, text that is not UTF-8, too much text, a time out
  // of range), OutOfRange (further ahead than max_input_lead), NotFound
  // (`from_id` is not known).
  absl::Status MergeSubjects(absl::string_view from_id, absl::string_view into_id,
                             absl::Time time, absl::string_view subject_type = "");

  // Moves engine time to `time`, firing every timer due by then. A time
  // before engine time is OK and does nothing (nothing to fire).
  // InvalidArgument for an infinite time (check next_timer_time() first).
  absl::Status AdvanceTo(absl::Time time);

  // Evaluates up to `max_subjects` subjects of the scheduled runs in
  // progress (Trigger.schedule) whose occurrence has come, at engine time,
  // entering those in the audience; returns how many subjects the runs in
  // progress still hold (including, for schedules in the subjects' own
  // zones, those whose local time has not come). Every input already
  // evaluates one slice (EngineOptions::scheduled_run_slice); a host calls
  // this to finish a run sooner, e.g. between inputs when it is idle. Like
  // an input, it changes state and may send: a host replaying a log must
  // call it at the same points to get the same outputs.
  int64_t RunScheduled(int64_t max_subjects);

  // Applies an input of any kind (cairn/input.h) through the method its
  // kind names, with the input's fields as arguments: Ingest, UpsertProfile,
  // Enroll, ReportDelivery (a report's subject_id is not read) or
  // AdvanceTo. A deploy or state change first moves engine time to its
  // time with AdvanceTo, so that the timers due by then fire even when the
  // change is refused, and then calls Deploy or SetJourneyState (skipped
  // when AdvanceTo refuses the time). Returns the status of the method
  // that decided: the same as calling it directly.
  absl::Status Apply(const EngineInput& input);

  // ---- Outputs ----

  // Engine time: the latest input time (or timer fired).
  absl::Time now() const;

  // When the engine next has something to do without input: the due time of
  // the earliest pending timer, scheduled occurrence (Trigger.schedule) or
  // check of a split's rule (Split.rule), or InfiniteFuture. A host that drives time
  // itself can sleep until then and call AdvanceTo. (A timer whose
  // enrollment has moved on may still be pending; firing it does nothing.)
  absl::Time next_timer_time() const;

  // The counters of every deployed version of a journey. NotFound for an
  // unknown id.
  absl::StatusOr<v1::JourneyReport> Report(absl::string_view journey_id) const;

  // Where a subject is, now: each of its enrollments in flight, oldest
  // first, with its journey, version, entry number, instance key, node and
  // since when it is there, when its node's timer is due, the split arm it
  // took and the delivery report it awaits; and each journey goal it is
  // still measured on, with when its window ends (cairn.v1.SubjectReport). An
  // unknown subject gives a report with `known` false. Costs a lookup and
  // a few strings per enrollment: cheap enough to call per request. (It
  // does not fire timers due by a later time: AdvanceTo first.)
  // `subject_type` empty means "user". InvalidArgument for an empty id.
  absl::StatusOr<v1::SubjectReport> Inspect(absl::string_view subject_type,
                                            absl::string_view subject_id) const;

  // Input counters.
  EngineStats stats() const;

  // The ids of deployed journeys, sorted.
  std::vector<std::string> journey_ids() const;

  // ---- Durability ----

  // Writes the whole engine state (enrollments, timers, profiles, sequence
  // progress, de-duplication and policy ledgers, sent messages, counters)
  // to `out` as checksummed length-delimited records, one at a time, so
  // extra memory does not grow with the number of subjects. DataLoss if
  // the stream fails.
  absl::Status Snapshot(std::ostream& out) const;

  // Restores a snapshot into this engine, which must be fresh (no input
  // yet), have the same EngineOptions, and have deployed the snapshot's
  // journey versions, with the same definitions, in the same order (with
  // Deploy, or DeployForRestore for a version Deploy refuses). The
  // restored engine then behaves exactly as the one that took the snapshot:
  // the same later inputs give the same outputs.
  // Errors: FailedPrecondition (not fresh, other options, journeys missing
  // or different, a newer snapshot format), DataLoss (truncated, corrupted
  // or inconsistent stream). On error the engine is left fresh.
  absl::Status Restore(std::istream& in);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn

#endif  // CAIRN_ENGINE_H_
