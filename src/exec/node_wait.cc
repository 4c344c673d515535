// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The wait node: holds an enrollment until one of its branches' events
// comes (the first matching branch, in order, takes its edge), one of its
// wait-until conditions holds (checked on arrival here, and later by
// Engine::Impl::CheckStateConditions) or its timeout passes (the edge after
// the branches).

#include "compile/journey_graph.h"
#include "exec/engine_impl.h"
#include "exec/engine_state.h"

namespace cairn {

bool Engine::Impl::ArriveWait(uint32_t slot, const internal::Bindings& /*bindings*/) {
  const internal::Enrollment& e = enrollments_[slot];
  if (NodeOf(e).waits_until) {
    // A condition that already holds takes its branch at once.
    if (const int branch = MetUntilBranch(slot); branch >= 0) {
      Leave(slot, branch);
      return false;
    }
    MarkStateChanged(e.subject);  // Its re-check now covers this wait.
  }
  ScheduleTimer(now_ + NodeOf(e).duration, slot, e.generation, internal::TimerKind::kNode);
  return true;
}

bool Engine::Impl::WaitEvent(uint32_t slot, int32_t event_id,
                             const internal::Bindings& bindings) {
  const internal::Enrollment& e = enrollments_[slot];
  const internal::JourneyVersion& v = versions_[e.version];
  const internal::GraphNode& node = v.graph->nodes[e.node];
  for (size_t b = 0; b < node.matchers.size(); ++b) {
    if (Matches(node.matchers[b], v, event_id, bindings)) {
      Leave(slot, static_cast<int>(b));
      return true;
    }
  }
  return false;
}

void Engine::Impl::WaitTimer(uint32_t slot) {
  Leave(slot, static_cast<int>(NodeOf(enrollments_[slot]).edges.size()) - 1);
}

}  // namespace cairn
