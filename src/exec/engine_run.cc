// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: running an enrollment node by node (Run dispatches each
// arrival to its node kind, exec/node_<kind>.cc), entering and leaving
// nodes, exits, goal counts and journey goal trackers, and what an event
// does to the enrollments of its subject (exit-on rules, then the event
// hook of the node each one waits at).

#include "exec/engine_impl.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cairn/hash.h"
#include "cairn/options.h"
#include "compile/journey_graph.h"
#include "exec/bindings.h"
#include "exec/engine_state.h"
#include "exec/variant.h"
#include "predicate/predicate.h"
#include "timer/local_time.h"
#include "util/proto_time.h"

namespace cairn {

using internal::CompiledMatcher;
using internal::CountReason;
using internal::Enrollment;
using internal::FindSorted;
using internal::GoalCounters;
using internal::GoalStats;
using internal::GoalTracker;
using internal::GraphNode;
using internal::JourneyGraph;
using internal::JourneyHistory;
using internal::JourneyVersion;
using internal::kExitEdge;
using internal::PathRoot;
using internal::RenderValue;
using internal::SetSorted;
using internal::StepBindings;
using internal::SubjectState;
using internal::TimerKind;

bool Engine::Impl::Matches(const CompiledMatcher& m, const JourneyVersion& v, int32_t event_id,
                           const internal::Bindings& bindings) const {
  if (m.event < 0 || v.global_event[m.event] != event_id) return false;
  if (m.same_key) {
    const std::string& key = v.graph->instance_key;
    Value their_scratch, our_scratch;
    const Value* theirs = bindings.Find(PathRoot::kEvent, key, &their_scratch);
    const Value* ours = bindings.Find(PathRoot::kEntry, key, &our_scratch);
    if (theirs == nullptr || ours == nullptr ||
        RenderValue(*theirs) != RenderValue(*ours)) {
      return false;
    }
  }
  return m.where.Evaluate(bindings);
}

void Engine::Impl::ApplyToEnrollments(uint32_t subject, int32_t event_id, const Event& event) {
  // Copied (inline, no allocation for the usual few) because visiting may
  // end enrollments.
  const absl::InlinedVector<uint32_t, 8> live(subjects_[subject].enrollments.begin(),
                                              subjects_[subject].enrollments.end());
  for (uint32_t slot : live) {
    Enrollment& e = enrollments_[slot];
    if (!e.live || e.subject != subject) continue;
    const JourneyVersion& v = versions_[e.version];
    StepBindings bindings(&subjects_[subject].profile, &event, &ContextOf(e), StepNow(),
                          subject);
    bool exited = false;
    for (const CompiledMatcher& m : v.graph->exit_on) {
      if (Matches(m, v, event_id, bindings)) {
        Exit(slot, absl::StrCat("exit_on:", event.name));
        exited = true;
        break;
      }
    }
    if (exited) continue;
    const NodeHooks& hooks = HooksOf(v.graph->nodes[e.node].kind);
    if (hooks.on_event != nullptr && (this->*hooks.on_event)(slot, event_id, bindings)) {
      Run(slot, &event);
    }
  }
  const absl::InlinedVector<uint32_t, 8> trackers(subjects_[subject].trackers.begin(),
                                                  subjects_[subject].trackers.end());
  for (uint32_t t : trackers) {
    GoalTracker& tr = trackers_[t];
    if (!tr.live) continue;
    const JourneyVersion& v = versions_[tr.version];
    StepBindings bindings(&subjects_[subject].profile, &event, &tr.entry, StepNow(), subject);
    if (Matches(v.graph->goals[tr.goal].conversion, v, event_id, bindings)) {
      ResolveTracker(t, &GoalCounters::converted);
    }
  }
}

void Engine::Impl::CountGoal(GoalStats* stats, uint32_t version, int32_t split_node,
                             int32_t variant, uint32_t subject, int64_t GoalCounters::*field) {
  ++(stats->overall.*field);
  VariantCounters(stats, version, split_node, variant).*field += 1;
  if (GoalCounters* group = HoldoutCounters(stats, subject)) ++(group->*field);
}

GoalCounters* Engine::Impl::HoldoutCounters(GoalStats* stats, uint32_t subject) const {
  if (options_.holdout_percent <= 0) return nullptr;
  return HeldOut(subjects_[subject]) ? &stats->held_out : &stats->not_held_out;
}

GoalCounters& Engine::Impl::VariantCounters(GoalStats* stats, uint32_t version,
                                            int32_t split_node, int32_t variant) {
  std::pair<std::string, std::string> key;
  if (split_node >= 0) {
    const GraphNode& split = versions_[version].graph->nodes[split_node];
    key = {split.id, split.def->split().variants(variant).name()};
  }
  return stats->by_variant[key];
}

void Engine::Impl::Trace(TraceStep::Kind kind, const Enrollment& e, int32_t node,
                         absl::string_view detail) {
  if (observer_ == nullptr) return;
  const JourneyVersion& v = versions_[e.version];
  TraceStep step;
  step.kind = kind;
  step.time = now_;
  step.journey_id = v.graph->definition.id();
  step.journey_version = v.compiled->version();
  step.subject_id = subjects_[e.subject].id;
  step.node_id = v.graph->nodes[node].id;
  step.detail = detail;
  observer_->OnStep(step);
}

void Engine::Impl::Enter(uint32_t slot, int32_t node) {
  Enrollment& e = enrollments_[slot];
  e.node = node;
  e.rate_reserved = false;  // A slot reserved at the node it left is not its.
  e.since_nanos = absl::ToUnixNanos(now_);
  ++e.visits;
  internal::NodeCounters& c = versions_[e.version].counters.nodes[node];
  ++c.entered;
  ++c.current;
  Trace(TraceStep::Kind::kEnter, e, node, "");
}

void Engine::Impl::Leave(uint32_t slot, int edge) {
  Enrollment& e = enrollments_[slot];
  ++e.generation;
  e.due_nanos = Enrollment::kNoDueNanos;
  StopAwaiting(slot);
  const GraphNode& node = versions_[e.version].graph->nodes[e.node];
  internal::NodeCounters& c = versions_[e.version].counters.nodes[e.node];
  ++c.left[edge];
  const internal::Edge& out = node.edges[edge];
  Trace(TraceStep::Kind::kLeave, e, e.node, out.label);
  if (out.target == kExitEdge) {
    Exit(slot, "completed");
    return;
  }
  --c.current;
  Enter(slot, out.target);
}

void Engine::Impl::Exit(uint32_t slot, absl::string_view reason) {
  Enrollment& e = enrollments_[slot];
  JourneyVersion& v = versions_[e.version];
  internal::NodeCounters& c = v.counters.nodes[e.node];
  --c.current;
  CountReason(&c.exits, reason);
  CountReason(&v.counters.exits, reason);
  ++v.counters.exited;
  CountDay(e.version, &internal::DayCounter::exited);
  --in_flight_;
  Trace(TraceStep::Kind::kExit, e, e.node, reason);
  std::string key;  // Empty for unkeyed journeys, without InstanceKey's copies.
  if (!v.graph->instance_key.empty()) key = InstanceKey(*v.graph, ContextOf(e)).value_or("");
  JourneyHistory& h = History(e.subject, v.journey, key);
  --h.active;
  internal::SetLastExit(&h, now_);
  internal::SubjectState& s = subjects_[e.subject];
  s.enrollments.erase(std::find(s.enrollments.begin(), s.enrollments.end(), slot));
  // Its journey goals go on measuring; they no longer follow its split arm.
  for (uint32_t t : s.trackers) {
    if (trackers_[t].enrollment == slot) trackers_[t].enrollment = internal::kNoSlot;
  }
  e.live = false;
  e.rate_reserved = false;
  ++e.generation;
  e.due_nanos = Enrollment::kNoDueNanos;
  StopAwaiting(slot);
  ClearContext(slot);
  free_enrollments_.push_back(slot);
}

void Engine::Impl::ResolveTracker(uint32_t t, int64_t GoalCounters::*field) {
  GoalTracker& tr = trackers_[t];
  GoalStats& stats = versions_[tr.version].counters.journey_goals[tr.goal];
  ++(stats.overall.*field);
  // Per-variant counts are attributed when the goal resolves, to the most
  // recent split the enrollment had passed by then.
  GoalCounters& by_variant = VariantCounters(&stats, tr.version, tr.split_node, tr.variant);
  ++by_variant.reached;
  ++(by_variant.*field);
  if (GoalCounters* group = HoldoutCounters(&stats, tr.subject)) {
    ++group->reached;
    ++(group->*field);
  }
  if (field == &GoalCounters::converted) {
    CountDayConversion(tr.version, versions_[tr.version].graph->goal_nodes +
                                       static_cast<int32_t>(tr.goal));
  }
  internal::SlotList& list = subjects_[tr.subject].trackers;
  list.erase(std::find(list.begin(), list.end(), t));
  ReleaseTracker(t);
}

void Engine::Impl::ReleaseTracker(uint32_t t) {
  GoalTracker& tr = trackers_[t];
  tr.live = false;
  tr.enrollment = internal::kNoSlot;
  tr.entry.clear();
  ++tr.generation;  // Its window's timer is now stale.
  free_trackers_.push_back(t);
}

void Engine::Impl::ReleasePending(uint32_t slot) {
  internal::PendingSequence& pending = pending_[slot];
  pending.live = false;
  pending.context.clear();
  ++pending.generation;  // Its absent window's timer is now stale.
  free_pending_.push_back(slot);
}

void Engine::Impl::Run(uint32_t slot, const Event* event) {
  int steps = 0;
  while (enrollments_[slot].live) {
    if (++steps > options_.max_steps_per_input) {
      Exit(slot, "step_limit");
      return;
    }
    const Enrollment& e = enrollments_[slot];
    StepBindings bindings(&subjects_[e.subject].profile, event, &ContextOf(e), StepNow(),
                          e.subject);
    if ((this->*HooksOf(NodeOf(e).kind).arrive)(slot, bindings)) return;  // It waits here.
  }
}

absl::TimeZone Engine::Impl::SubjectZone(const Enrollment& e) {
  const JourneyGraph& g = *versions_[e.version].graph;
  return internal::ZoneNamedBy(FindSorted(subjects_[e.subject].profile, g.time_zone_attribute),
                               g.default_time_zone, &zone_cache_, &stats_.unknown_time_zones);
}

}  // namespace cairn
