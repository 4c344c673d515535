// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: behaviour declarations (what a new set may change, given
// the journeys that read them), the check a journey's behaviour reads pass
// at deploy, and a host's read of one value.

#include "exec/engine_impl.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "behavior/behavior_spec.h"
#include "cairn/status_macros.h"
#include "compile/compiler_internal.h"
#include "compile/journey_graph.h"
#include "exec/bindings.h"
#include "exec/engine_state.h"
#include "exec/input_checks.h"
#include "google/protobuf/util/message_differencer.h"
#include "util/proto_time.h"
#include "util/utf8.h"

namespace cairn {

using internal::BehaviorSpec;
using internal::JourneyGraph;
using internal::JourneyVersion;
using internal::ListProblems;

absl::Status Engine::Impl::CheckBehaviorReads(const JourneyGraph& graph) const {
  if (graph.declaration_reads.empty()) return absl::OkStatus();
  const std::vector<JourneyProblem> problems = internal::ValidateJourneyReads(
      graph.definition, internal::TypesOf(behaviors_.specs()),
      internal::SegmentTypesOf(behaviors_.segments()));
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(ListProblems(
      absl::StrCat("journey ", graph.definition.id(), " reads behaviours this engine does not "
                                                      "declare as it uses them:"),
      problems));
}

absl::Status Engine::Impl::DeclareBehaviors(const v1::BehaviorSet& set) {
  CAIRN_ASSIGN_OR_RETURN(internal::Declarations declared, internal::CompileBehaviorSet(set));
  // Every version that can still run must read the new set as it read the
  // old one: checked by compiling it against the new types.
  const internal::BehaviorTypes types = internal::TypesOf(declared.behaviors);
  const internal::BehaviorTypes segment_types = internal::SegmentTypesOf(declared.segments);
  for (const JourneyVersion& v : versions_) {
    if (v.retired || v.graph->declaration_reads.empty()) continue;
    const std::vector<JourneyProblem> problems =
        internal::ValidateJourneyReads(v.graph->definition, types, segment_types);
    if (!problems.empty()) {
      return absl::FailedPreconditionError(ListProblems(
          absl::StrCat("behaviours: journey ", v.graph->definition.id(), " version ",
                       v.graph->definition.version(),
                       " reads behaviours the new set removes or changes; retire or replace "
                       "it first:"),
          problems));
    }
  }
  // The segments declared exactly as before keep their counts.
  std::vector<int> kept_from;
  for (const internal::SegmentSpec& s : declared.segments) {
    const int old = behaviors_.FindSegment(s.def.name());
    const bool same =
        old >= 0 &&
        google::protobuf::util::MessageDifferencer::Equals(behaviors_.segments()[old].def, s.def);
    kept_from.push_back(same ? old : -1);
  }
  behaviors_.Declare(std::move(declared.behaviors), now_);
  behaviors_.SetSegments(std::move(declared.segments));
  RebuildSegmentMembers(kept_from);
  return absl::OkStatus();
}

absl::StatusOr<Value> Engine::Impl::BehaviorValue(absl::string_view subject_type,
                                                  absl::string_view subject_id,
                                                  absl::string_view behavior) {
  if (behaviors_.Find(behavior) < 0) {
    return absl::NotFoundError(absl::StrCat("no behaviour \"", internal::Escaped(behavior),
                                            "\" is declared"));
  }
  const std::optional<uint32_t> subject =
      subjects_.Find(internal::SubjectTypeOrDefault(subject_type), subject_id);
  const Attributes* profile = subject ? &subjects_[*subject].profile : nullptr;
  Value scratch;
  const Value* value =
      behaviors_.Read(behavior, subject ? *subject : internal::BehaviorStore::kNoSubject,
                      profile, StepNow().read, &scratch);
  return value != nullptr ? *value : Value();
}

absl::Status Engine::Impl::SeedBehavior(const BehaviorSeed& seed) {
  const auto reject = [this](absl::Status status) {
    ++stats_.behavior_seeds_rejected;
    return status;
  };
  if (absl::Status valid = internal::CheckBehaviorSeed(seed, options_.max_input_bytes);
      !valid.ok()) {
    return reject(std::move(valid));
  }
  const int index = behaviors_.Find(seed.behavior);
  if (index < 0) {
    return reject(absl::NotFoundError(
        absl::StrCat("SeedBehavior for ", internal::Escaped(seed.subject_id), ": no behaviour \"",
                     internal::Escaped(seed.behavior), "\" is declared")));
  }
  if (absl::Status valid = behaviors_.CheckSeed(index, seed); !valid.ok()) {
    return reject(std::move(valid));
  }
  CAIRN_RETURN_IF_ERROR(CheckTime(seed.time, &stats_.behavior_seeds_rejected, "behaviour seed"));
  ApplyTime(seed.time);
  ++stats_.behavior_seeds_applied;
  const uint32_t subject =
      subjects_.Intern(internal::SubjectTypeOrDefault(seed.subject_type), seed.subject_id);
  CatchUpScheduled(subject);
  behaviors_.Seed(index, subject, seed, subjects_[subject].profile, StepNow().read);
  if (!segment_members_.empty()) {
    QueueSegmentChecks(subject, segment_members_.ReadingBehavior(index), /*triggers=*/true);
  }
  MarkStateChanged(subject);
  CheckSegments();
  return absl::OkStatus();
}

v1::BehaviorsReport Engine::Impl::BehaviorsReport() const {
  v1::BehaviorsReport report;
  for (size_t i = 0; i < behaviors_.size(); ++i) {
    const BehaviorSpec& spec = behaviors_.spec(i);
    v1::BehaviorReport* b = report.add_behaviors();
    b->set_name(spec.def.name());
    b->set_function(std::string(internal::FunctionName(spec.function)));
    b->set_event(spec.def.event().event());
    b->set_window(internal::DescribeWindow(spec));
    b->set_since(internal::FormatTimeUtc(behaviors_.since(i)));
    b->set_subjects(behaviors_.column(i).subjects());
    b->set_bytes(behaviors_.column(i).bytes());
  }
  for (size_t i = 0; i < segment_members_.size(); ++i) {
    v1::SegmentReport* s = report.add_segments();
    s->set_name(segment_members_.name(i));
    s->set_subject_type(segment_members_.subject_type(i));
    s->set_members(segment_members_.members(i));
    s->set_entered(segment_members_.entered(i));
    s->set_left(segment_members_.left(i));
    s->set_time_driven(segment_members_.time_driven(i));
  }
  return report;
}

absl::Status Engine::Impl::CheckDeployedBehaviorReads() const {
  for (const JourneyVersion& v : versions_) {
    if (v.retired) continue;
    absl::Status s = CheckBehaviorReads(*v.graph);
    if (!s.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("snapshot: its behaviours do not fit the deployed journeys: ",
                       s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace cairn
