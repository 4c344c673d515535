// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Inspect: where one subject is in every journey, read from the
// subject's own list of enrollments (a lookup and a few strings, cheap
// enough to call per request).

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "cairn/hash.h"
#include "cairn/journey.h"
#include "compile/journey_graph.h"
#include "exec/engine_impl.h"
#include "exec/engine_state.h"
#include "util/proto_time.h"

namespace cairn {
namespace {

// The split node `split_node` of `g` (-1: none) and the arm `variant` took
// there, into *split_node_id and *arm.
void SetSplitArm(const internal::JourneyGraph& g, int32_t split_node, int32_t variant,
                 std::string* split_node_id, std::string* arm) {
  if (split_node < 0) return;
  const internal::GraphNode& split = g.nodes[split_node];
  *split_node_id = split.id;
  *arm = split.edges[variant].label;
}

}  // namespace

absl::StatusOr<v1::SubjectReport> Engine::Impl::Inspect(absl::string_view subject_type,
                                                        absl::string_view subject_id) const {
  if (subject_id.empty()) return absl::InvalidArgumentError("Inspect: empty subject id");
  v1::SubjectReport report;
  const absl::string_view type = internal::SubjectTypeOrDefault(subject_type);
  report.set_subject_type(std::string(type));
  report.set_subject_id(std::string(subject_id));
  const std::optional<uint32_t> subject = subjects_.Find(type, subject_id);
  if (!subject) return report;
  report.set_known(true);
  for (uint32_t slot : subjects_[*subject].enrollments) {
    const internal::Enrollment& e = enrollments_[slot];
    const internal::JourneyVersion& v = versions_[e.version];
    const internal::JourneyGraph& g = *v.graph;
    const internal::GraphNode& node = g.nodes[e.node];
    v1::EnrollmentStatus* out = report.add_enrollments();
    out->set_journey_id(g.definition.id());
    out->set_version(v.compiled->version());
    out->set_entry(e.ordinal);
    if (!g.instance_key.empty()) out->set_instance_key(InstanceKey(g, ContextOf(e)).value_or(""));
    out->set_node_id(node.id);
    out->set_node_kind(std::string(NodeKindName(node.kind)));
    if (e.since_nanos != internal::Enrollment::kUnknownSinceNanos) {
      out->set_since(internal::FormatTimeUtc(absl::FromUnixNanos(e.since_nanos)));
    }
    if (e.due_nanos != internal::Enrollment::kNoDueNanos) {
      out->set_next_timer(internal::FormatTimeUtc(absl::FromUnixNanos(e.due_nanos)));
    }
    SetSplitArm(g, e.split_node, e.variant, out->mutable_split_node_id(), out->mutable_arm());
    if (const uint64_t message = AwaitingMessage(slot); message != 0) {
      out->set_awaiting_message_id(HashToHex(message));
    }
  }
  for (uint32_t t : subjects_[*subject].trackers) {
    const internal::GoalTracker& tr = trackers_[t];
    const internal::JourneyVersion& v = versions_[tr.version];
    const internal::JourneyGraph& g = *v.graph;
    v1::GoalWindowStatus* out = report.add_goals();
    out->set_journey_id(g.definition.id());
    out->set_version(v.compiled->version());
    out->set_goal(g.goals[tr.goal].name);
    out->set_ends(internal::FormatTimeUtc(absl::FromUnixNanos(tr.ends_nanos)));
    SetSplitArm(g, tr.split_node, tr.variant, out->mutable_split_node_id(), out->mutable_arm());
  }
  return report;
}

}  // namespace cairn
