// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// cairn::EngineInput: every input an Engine takes, as one value. A host that
// stores, forwards or replays inputs (a log, a queue, the Kafka records of
// cairn/kafka/record.h, the simulator) holds them as EngineInput values and
// hands each to Engine::Apply, which calls the Engine method its kind names:
//
//   Event               Engine::Ingest
//   ProfileUpdate       Engine::UpsertProfile
//   EnrollRequest       Engine::Enroll
//   DeliveryReport      Engine::ReportDelivery
//   ClockTick           Engine::AdvanceTo
//   JourneyDeploy       Engine::Deploy, at its time
//   JourneyStateChange  Engine::SetJourneyState, at its time
//   BehaviorSeed        Engine::SeedBehavior
//   BehaviorDeclaration Engine::DeclareBehaviors, at its time
//   SubjectErasure      Engine::Forget
//   SubjectMerge        Engine::MergeSubjects
//
// Every kind carries its own time. The structs hold the methods' arguments
// and nothing is checked when one is built: Engine::Apply checks an input as
// the method it calls does, and refuses it with the same status.
//
// Example:
//   std::vector<cairn::EngineInput> log;
//   log.push_back(cairn::ProfileUpdate{"u1", "", {{"tier", Value::String("gold")}}, t0});
//   log.push_back(cairn::EnrollRequest{"winback", "u1", {}, t0});
//   log.push_back(cairn::ClockTick{t0 + absl::Hours(1)});
//   for (const cairn::EngineInput& input : log) (void)engine.Apply(input);
//
// Thread-safety: plain value types and pure functions.

#ifndef CAIRN_INPUT_H_
#define CAIRN_INPUT_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/event.h"
#include "cairn/v1/behavior.pb.h"
#include "cairn/v1/journey.pb.h"

namespace cairn {

// What a delivery report says about a message.
enum class DeliveryOutcome {
  kDelivered,
  kFailed,
};

// A change of a subject's profile: Engine::UpsertProfile's arguments. A
// null Value removes the attribute.
struct ProfileUpdate {
  std::string subject_id;    // required
  std::string subject_type;  // empty means "user"
  Attributes attributes;
  absl::Time time = absl::InfinitePast();  // required (InfinitePast: unset)
};

// A request to enroll a subject in a journey through its audience trigger:
// Engine::Enroll's arguments. The journey's entry rules may still refuse the
// entry (counted in its report); `context` becomes the entry context
// (entry.*).
struct EnrollRequest {
  std::string journey_id;  // required
  std::string subject_id;  // required
  Attributes context;
  absl::Time time = absl::InfinitePast();  // required
};

// What became of a message a sink accepted: Engine::ReportDelivery's
// arguments, and the subject the message went to. The engine finds the
// message by its id alone; `subject_id` is for hosts that route inputs by
// subject (ShardedEngine, Kafka keys).
struct DeliveryReport {
  std::string message_id;  // Message::message_id
  DeliveryOutcome outcome = DeliveryOutcome::kDelivered;
  std::string reason;      // why it failed; optional
  std::string subject_id;  // Message::subject_id
  absl::Time time = absl::InfinitePast();  // required
};

// The host's clock: Engine::AdvanceTo's argument. Lets time pass, and
// timers fire, where no other input arrives.
struct ClockTick {
  absl::Time time = absl::InfinitePast();
};

// A journey to deploy (Engine::Deploy) once engine time has moved to `time`.
struct JourneyDeploy {
  v1::Journey journey;
  absl::Time time = absl::InfinitePast();
};

// A journey's new state (Engine::SetJourneyState) once engine time has moved
// to `time`.
struct JourneyStateChange {
  std::string journey_id;
  v1::JourneyState state = v1::JOURNEY_STATE_UNSPECIFIED;
  absl::Time time = absl::InfinitePast();
};

// Part of a subject's history in one behaviour (BehaviorSeed): `count`
// matching events at `time`, as the host's own records tell them.
struct BehaviorSeedEntry {
  absl::Time time = absl::InfinitePast();  // required; at or before the seed's time
  int64_t count = 1;                       // >= 1
  // SUM, MIN, MAX: the sum, smallest or largest property value of those
  // events (a number, required). DISTINCT_COUNT: the property value they
  // carried (a string, number or bool, required). Other functions: null.
  Value value;
};

// A subject's history in one behaviour, from the host's own records:
// Engine::SeedBehavior's arguments. It replaces whatever the subject held
// in the behaviour, so that a host that seeds from its data warehouse when
// it starts Cairn does not wait 30 days for "the last 30 days" to mean
// something, and seeding twice is the same as seeding once. Give either:
// - `value`, the behaviour's value itself, for the behaviours that need no
//   times: COUNT (an int >= 0), SUM, MIN or MAX (a number) over all time;
// - or `history`, for any behaviour: entries each counted as `count`
//   events at their time, oldest first (in any order given), by the rules
//   events are counted by: an entry before a sliding window's start does
//   not count. FIRST_TIME and LAST_TIME take one entry at the time;
//   ACTIVE_DAYS and the streaks one entry per active day (read in the
//   subject's zone as of the seed).
struct BehaviorSeed {
  std::string subject_id;    // required
  std::string subject_type;  // empty means "user"; the behaviour's subject type
  std::string behavior;      // the name of a declared behaviour
  Value value;               // null: none
  std::vector<BehaviorSeedEntry> history;
  absl::Time time = absl::InfinitePast();  // required
};

// The most entries a BehaviorSeed's history may hold: more than a year of
// daily entries, or two weeks of hourly ones.
inline constexpr int kMaxBehaviorSeedEntries = 10000;

// Behaviour declarations (Engine::DeclareBehaviors) made once engine time
// has moved to `time`.
struct BehaviorDeclaration {
  v1::BehaviorSet behaviors;
  absl::Time time = absl::InfinitePast();
};

// A request to forget a subject (Engine::Forget's arguments): a person's
// right to erasure.
struct SubjectErasure {
  std::string subject_id;    // required
  std::string subject_type;  // empty means "user"
  absl::Time time = absl::InfinitePast();  // required
};

// An anonymous subject found to be a known one (a visitor who logs in):
// Engine::MergeSubjects's arguments. Hosts that split inputs by subject
// route it by `subject_id`, the subject merged into; both subjects must be
// on the same engine.
struct SubjectMerge {
  std::string from_subject_id;  // required: merged away
  std::string subject_id;       // required: merged into
  std::string subject_type;     // empty means "user"
  absl::Time time = absl::InfinitePast();  // required
};

// One engine input, of any kind.
using EngineInput =
    std::variant<Event, ProfileUpdate, EnrollRequest, DeliveryReport, ClockTick, JourneyDeploy,
                 JourneyStateChange, BehaviorSeed, BehaviorDeclaration, SubjectErasure,
                 SubjectMerge>;

// The name of the input's kind: "event", "profile", "enroll", "delivery",
// "tick", "deploy", "state", "seed", "behaviors", "forget" or "merge" (also the "kind" of a
// Kafka JSON record).
absl::string_view InputKindName(const EngineInput& input);

// The input's time, as it was given (unchecked).
absl::Time InputTime(const EngineInput& input);

// The id of the subject the input concerns: the subject_id of an event,
// profile update, enroll request or delivery report (empty if unset), and
// empty for the broadcast kinds; a seed's or an erasure's subject_id; a
// merge's subject_id (the subject merged into).
absl::string_view InputSubject(const EngineInput& input);

// True for the kinds that concern every subject rather than one: clock
// ticks, journey deploys, journey state changes and behaviour
// declarations. A host that splits
// inputs by subject (shards, Kafka partitions) gives these to every part,
// at the same point of each part's input order, so that every engine
// applies them alike.
bool IsBroadcast(const EngineInput& input);

}  // namespace cairn

#endif  // CAIRN_INPUT_H_
