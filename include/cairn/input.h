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

#include <string>
#include <variant>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/event.h"
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

// One engine input, of any kind.
using EngineInput = std::variant<Event, ProfileUpdate, EnrollRequest, DeliveryReport,
                                 ClockTick, JourneyDeploy, JourneyStateChange>;

// The name of the input's kind: "event", "profile", "enroll", "delivery",
// "tick", "deploy" or "state" (also the "kind" of a Kafka JSON record).
absl::string_view InputKindName(const EngineInput& input);

// The input's time, as it was given (unchecked).
absl::Time InputTime(const EngineInput& input);

// The id of the subject the input concerns: the subject_id of an event,
// profile update, enroll request or delivery report (empty if unset), and
// empty for the broadcast kinds.
absl::string_view InputSubject(const EngineInput& input);

// True for the kinds that concern every subject rather than one: clock
// ticks, journey deploys and journey state changes. A host that splits
// inputs by subject (shards, Kafka partitions) gives these to every part,
// at the same point of each part's input order, so that every engine
// applies them alike.
bool IsBroadcast(const EngineInput& input);

}  // namespace cairn

#endif  // CAIRN_INPUT_H_
