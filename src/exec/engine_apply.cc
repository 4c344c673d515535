// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Apply: an EngineInput (cairn/input.h) of any kind, through the
// public method its kind names. Every check stays in that method, so an
// input applied here and the same input passed to the method directly are
// judged alike.

#include <variant>

#include "absl/status/status.h"
#include "cairn/engine.h"
#include "cairn/input.h"
#include "util/overloaded.h"

namespace cairn {

absl::Status Engine::Apply(const EngineInput& input) {
  return std::visit(
      internal::Overloaded{
          [this](const Event& e) { return Ingest(e); },
          [this](const ProfileUpdate& p) {
            return UpsertProfile(p.subject_id, p.attributes, p.time, p.subject_type);
          },
          [this](const EnrollRequest& e) {
            return Enroll(e.journey_id, e.subject_id, e.time, e.context);
          },
          [this](const DeliveryReport& d) {
            return ReportDelivery(d.message_id, d.outcome, d.time, d.reason);
          },
          [this](const ClockTick& t) { return AdvanceTo(t.time); },
          // A deploy or state change happens at its time: the timers due by
          // then fire first, whether the change is then taken or refused.
          [this](const JourneyDeploy& d) {
            absl::Status advanced = AdvanceTo(d.time);
            return advanced.ok() ? Deploy(d.journey) : advanced;
          },
          [this](const JourneyStateChange& c) {
            absl::Status advanced = AdvanceTo(c.time);
            return advanced.ok() ? SetJourneyState(c.journey_id, c.state) : advanced;
          },
          [this](const BehaviorSeed& s) { return SeedBehavior(s); },
          [this](const BehaviorDeclaration& d) {
            absl::Status advanced = AdvanceTo(d.time);
            return advanced.ok() ? DeclareBehaviors(d.behaviors) : advanced;
          },
          [this](const SubjectErasure& f) { return Forget(f.subject_id, f.time, f.subject_type); },
          [this](const SubjectMerge& m) {
            return MergeSubjects(m.from_subject_id, m.subject_id, m.time, m.subject_type);
          },
      },
      input);
}

}  // namespace cairn
