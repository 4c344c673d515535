// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The split node: an A/B split assigns the subject a variant by a stable
// hash (docs/semantics.md documents it, so a host can reproduce it) and
// takes that variant's edge. The enrollment and the journey goals it
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
  const int variant = internal::PickVariant(
      StableHash64({v.seed_text, v.graph->definition.id(), node.id, subjects_.TypeOf(s), s.id}),
      node.cumulative_weights);
  e.split_node = e.node;
  e.variant = static_cast<int16_t>(variant);
  for (uint32_t t : subjects_[e.subject].trackers) {
    // The subject's live trackers that this enrollment started.
    if (trackers_[t].live && trackers_[t].enrollment_uid == e.uid) {
      trackers_[t].split_node = e.node;
      trackers_[t].variant = variant;
    }
  }
  Leave(slot, variant);
  return false;
}

}  // namespace cairn
