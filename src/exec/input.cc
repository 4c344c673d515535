// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/input.h"

#include <variant>

#include "util/overloaded.h"

namespace cairn {

using internal::Overloaded;

absl::string_view InputKindName(const EngineInput& input) {
  return std::visit(Overloaded{
                        [](const Event&) { return absl::string_view("event"); },
                        [](const ProfileUpdate&) { return absl::string_view("profile"); },
                        [](const EnrollRequest&) { return absl::string_view("enroll"); },
                        [](const DeliveryReport&) { return absl::string_view("delivery"); },
                        [](const ClockTick&) { return absl::string_view("tick"); },
                        [](const JourneyDeploy&) { return absl::string_view("deploy"); },
                        [](const JourneyStateChange&) { return absl::string_view("state"); },
                        [](const BehaviorSeed&) { return absl::string_view("seed"); },
                        [](const BehaviorDeclaration&) { return absl::string_view("behaviors"); },
                        [](const SubjectErasure&) { return absl::string_view("forget"); },
                        [](const SubjectMerge&) { return absl::string_view("merge"); },
                    },
                    input);
}

absl::Time InputTime(const EngineInput& input) {
  return std::visit([](const auto& i) { return i.time; }, input);
}

absl::string_view InputSubject(const EngineInput& input) {
  return std::visit(Overloaded{
                        [](const ClockTick&) { return absl::string_view(); },
                        [](const JourneyDeploy&) { return absl::string_view(); },
                        [](const JourneyStateChange&) { return absl::string_view(); },
                        [](const BehaviorDeclaration&) { return absl::string_view(); },
                        [](const auto& i) { return absl::string_view(i.subject_id); },
                    },
                    input);
}

bool IsBroadcast(const EngineInput& input) {
  return std::holds_alternative<ClockTick>(input) ||
         std::holds_alternative<JourneyDeploy>(input) ||
         std::holds_alternative<JourneyStateChange>(input) ||
         std::holds_alternative<BehaviorDeclaration>(input);
}

}  // namespace cairn
