// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Node kinds that only route: a trigger passes its enrollment on, a filter
// chooses an edge by its predicate, a switch by the first of its branches'
// predicates that holds, an exit ends the enrollment with its reason. None
// of them holds an enrollment, so they have no event, timer or delivery
// hooks.

#include <cstddef>
#include <string>

#include "compile/journey_graph.h"
#include "exec/engine_impl.h"
#include "exec/engine_state.h"
#include "predicate/predicate.h"

namespace cairn {

bool Engine::Impl::ArriveTrigger(uint32_t slot, const internal::Bindings& /*bindings*/) {
  Leave(slot, 0);
  return false;
}

bool Engine::Impl::ArriveFilter(uint32_t slot, const internal::Bindings& bindings) {
  const internal::GraphNode& node = NodeOf(enrollments_[slot]);
  Leave(slot, node.predicate.Evaluate(bindings) ? 0 : 1);
  return false;
}

bool Engine::Impl::ArriveSwitch(uint32_t slot, const internal::Bindings& bindings) {
  const internal::GraphNode& node = NodeOf(enrollments_[slot]);
  // Branch i leaves by edge i; the default is the edge after the branches.
  // Evaluated once, now: a branch that would hold later is never revisited.
  size_t edge = 0;
  while (edge < node.branch_predicates.size() &&
         !node.branch_predicates[edge].Evaluate(bindings)) {
    ++edge;
  }
  Leave(slot, static_cast<int>(edge));
  return false;
}

bool Engine::Impl::ArriveExit(uint32_t slot, const internal::Bindings& /*bindings*/) {
  const internal::GraphNode& node = NodeOf(enrollments_[slot]);
  const std::string& reason = node.def->exit().reason();
  Exit(slot, reason.empty() ? absl::string_view(node.id) : reason);
  return false;
}

}  // namespace cairn
