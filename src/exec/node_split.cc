// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The split node: an A/B split assigns the subject a variant by a stable
// hash (docs/semantics.md documents it, so a host can reproduce it) and
// takes that variant's edge, by the split's weights or, once its
// experiment rule has decided, the decision's (exec/engine_rollout.cc). The enrollment and the journey goals it
// started remember the variant for per-variant counts.

#include "cairn/hash.h"
#include "compile/journey_graph.h"
#include "exec/engine_impl.h"
#include "exec/engine_state.h"
#include "exec/variant.h"

namespace cairn {

bool Engine::Impl::ArriveSplit(uint32_t slot, const internal::Bindings& /*bindings*/) {
  internal::Enrollment& e = enrollments_[slot];
  const internal::JourneyVersion& v = versions_[e.version];
  const internal::GraphNode& node = v.graph->nodes[e.node];
  const internal::SubjectState& s = subjects_[e.subject];
  const int variant = AssignVariant(
      v, node,
      StableHash64({v.seed_text, v.graph->definition.id(), node.id, subjects_.TypeOf(s), s.id}));
  e.split_node = e.node;
  e.variant = static_cast<int16_t>(variant);
  for (uint32_t t : subjects_[e.subject].trackers) {
    // The subject's live trackers that this enrollment started.
    if (trackers_[t].live && trackers_[t].enrollment == slot) {
      trackers_[t].split_node = e.node;
      trackers_[t].variant = variant;
    }
  }
  Leave(slot, variant);
  return false;
}

}  // namespace cairn
