// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The goal node: counts the enrollment as having reached the goal on
// arrival, then holds it until the goal's event converts it (edge 0) or its
// window passes and it expires (edge 1). Each outcome is counted overall
// and for the enrollment's split variant.

#include "compile/journey_graph.h"
#include "exec/engine_impl.h"
#include "exec/engine_state.h"

namespace cairn {

bool Engine::Impl::ArriveGoal(uint32_t slot, const internal::Bindings& /*bindings*/) {
  const internal::Enrollment& e = enrollments_[slot];
  internal::JourneyVersion& v = versions_[e.version];
  CountGoal(&v.counters.node_goals[e.node], e.version, e.split_node, e.variant, e.subject,
            &internal::GoalCounters::reached);
  ScheduleTimer(now_ + v.graph->nodes[e.node].duration, slot, e.generation,
                internal::TimerKind::kNode);
  return true;
}

bool Engine::Impl::GoalEvent(uint32_t slot, int32_t event_id,
                             const internal::Bindings& bindings) {
  const internal::Enrollment& e = enrollments_[slot];
  const internal::JourneyVersion& v = versions_[e.version];
  if (!Matches(v.graph->nodes[e.node].matchers[0], v, event_id, bindings)) return false;
  CountGoal(&versions_[e.version].counters.node_goals[e.node], e.version, e.split_node,
            e.variant, e.subject, &internal::GoalCounters::converted);
  CountDayConversion(e.version, v.graph->report_goal[e.node]);
  Leave(slot, 0);
  return true;
}

void Engine::Impl::GoalTimer(uint32_t slot) {
  const internal::Enrollment& e = enrollments_[slot];
  CountGoal(&versions_[e.version].counters.node_goals[e.node], e.version, e.split_node,
            e.variant, e.subject, &internal::GoalCounters::expired);
  Leave(slot, 1);
}

}  // namespace cairn
