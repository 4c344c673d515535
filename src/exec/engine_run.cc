// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: running an enrollment node by node: arrival, leaving by an
// edge, exits, waits, goals, delays and profile updates, and what an event
// does to the enrollments of its subject.

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
    const Value* theirs = bindings.Find(PathRoot::kEvent, key);
    const Value* ours = bindings.Find(PathRoot::kEntry, key);
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
    StepBindings bindings(&subjects_[subject].profile, &event, &ContextOf(e));
    bool exited = false;
    for (const CompiledMatcher& m : v.graph->exit_on) {
      if (Matches(m, v, event_id, bindings)) {
        Exit(slot, absl::StrCat("exit_on:", event.name));
        exited = true;
        break;
      }
    }
    if (exited) continue;
    const GraphNode& node = v.graph->nodes[e.node];
    if (node.kind == NodeKind::kWait) {
      for (size_t b = 0; b < node.matchers.size(); ++b) {
        if (Matches(node.matchers[b], v, event_id, bindings)) {
          Leave(slot, static_cast<int>(b));
          Run(slot, &event);
          break;
        }
      }
    } else if (node.kind == NodeKind::kGoal) {
      if (Matches(node.matchers[0], v, event_id, bindings)) {
        CountGoal(&versions_[e.version].counters.node_goals[e.node], e.version,
                  e.split_node, e.variant, &GoalCounters::converted);
        Leave(slot, 0);
        Run(slot, &event);
      }
    }
  }
  const absl::InlinedVector<uint32_t, 8> trackers(subjects_[subject].trackers.begin(),
                                                  subjects_[subject].trackers.end());
  for (uint32_t t : trackers) {
    GoalTracker& tr = trackers_[t];
    if (!tr.live) continue;
    const JourneyVersion& v = versions_[tr.version];
    StepBindings bindings(&subjects_[subject].profile, &event, &tr.entry);
    if (Matches(v.graph->goals[tr.goal].conversion, v, event_id, bindings)) {
      ResolveTracker(t, &GoalCounters::converted);
    }
  }
}

void Engine::Impl::CountGoal(GoalStats* stats, uint32_t version, int32_t split_node,
                             int32_t variant, int64_t GoalCounters::*field) {
  ++(stats->overall.*field);
  VariantCounters(stats, version, split_node, variant).*field += 1;
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
  ++e.visits;
  internal::NodeCounters& c = versions_[e.version].counters.nodes[node];
  ++c.entered;
  ++c.current;
  Trace(TraceStep::Kind::kEnter, e, node, "");
}

void Engine::Impl::Leave(uint32_t slot, int edge) {
  Enrollment& e = enrollments_[slot];
  ++e.generation;
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
  --in_flight_;
  Trace(TraceStep::Kind::kExit, e, e.node, reason);
  std::string key;  // Empty for unkeyed journeys, without InstanceKey's copies.
  if (!v.graph->instance_key.empty()) key = InstanceKey(*v.graph, ContextOf(e)).value_or("");
  JourneyHistory& h = History(e.subject, v.journey, key);
  --h.active;
  internal::SetLastExit(&h, now_);
  internal::SlotList& list = subjects_[e.subject].enrollments;
  list.erase(std::find(list.begin(), list.end(), slot));
  e.live = false;
  ++e.generation;
  StopAwaiting(slot);
  e.context.reset();
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
  tr.live = false;
  ++tr.generation;
  internal::SlotList& list = subjects_[tr.subject].trackers;
  list.erase(std::find(list.begin(), list.end(), t));
  // The enrollment, if still running, keeps the index; the uid check at
  // splits ignores it once the slot is reused.
  free_trackers_.push_back(t);
}

void Engine::Impl::Run(uint32_t slot, const Event* event) {
  int steps = 0;
  while (enrollments_[slot].live) {
    if (++steps > options_.max_steps_per_input) {
      Exit(slot, "step_limit");
      return;
    }
    Enrollment& e = enrollments_[slot];
    JourneyVersion& v = versions_[e.version];
    const GraphNode& node = v.graph->nodes[e.node];
    StepBindings bindings(&subjects_[e.subject].profile, event, &ContextOf(e));
    switch (node.kind) {
      case NodeKind::kTrigger:
        Leave(slot, 0);
        break;
      case NodeKind::kFilter:
        Leave(slot, node.predicate.Evaluate(bindings) ? 0 : 1);
        break;
      case NodeKind::kDelay:
        if (StartDelay(slot, bindings)) return;
        break;
      case NodeKind::kSplit: {
        const SubjectState& s = subjects_[e.subject];
        const int variant = internal::PickVariant(
            StableHash64({v.seed_text, v.graph->definition.id(), node.id, TypeOf(s), s.id}),
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
        break;
      }
      case NodeKind::kAction:
        if (SendAction(slot, bindings)) return;  // Awaiting delivery.
        break;
      case NodeKind::kWait:
        ScheduleTimer(now_ + node.duration, slot, e.generation, TimerKind::kNode);
        return;
      case NodeKind::kGoal:
        CountGoal(&v.counters.node_goals[e.node], e.version, e.split_node,
                  e.variant, &GoalCounters::reached);
        ScheduleTimer(now_ + node.duration, slot, e.generation, TimerKind::kNode);
        return;
      case NodeKind::kUpdate:
        ApplyUpdate(slot, bindings);
        Leave(slot, 0);
        break;
      case NodeKind::kExit: {
        const std::string& reason = node.def->exit().reason();
        Exit(slot, reason.empty() ? absl::string_view(node.id) : reason);
        return;
      }
    }
  }
}

absl::TimeZone Engine::Impl::SubjectZone(const Enrollment& e) {
  const JourneyGraph& g = *versions_[e.version].graph;
  const Value* name = FindSorted(subjects_[e.subject].profile, g.time_zone_attribute);
  if (name == nullptr) return g.default_time_zone;
  if (name->type() == Value::Type::kString) {
    if (std::optional<absl::TimeZone> tz = zone_cache_.Find(name->string_value())) return *tz;
  }
  ++stats_.unknown_time_zones;
  return g.default_time_zone;
}

bool Engine::Impl::StartDelay(uint32_t slot, const internal::Bindings& bindings) {
  Enrollment& e = enrollments_[slot];
  const GraphNode& node = versions_[e.version].graph->nodes[e.node];
  const v1::Delay& delay = node.def->delay();
  absl::Time due = now_;
  switch (delay.kind_case()) {
    case v1::Delay::kUntilTimeOfDay:
      due = internal::NextLocalTime(now_, SubjectZone(e), node.hour, node.minute,
                                    node.weekday_mask);
      break;
    case v1::Delay::kRelative: {
      std::optional<absl::Time> base;
      if (const Value* v = bindings.Find(node.relative_path->root,
                                         node.relative_path->key)) {
        base = AsTime(*v);
      }
      if (!base) {
        Exit(slot, "delay_time_missing");
        return false;
      }
      due = *base + node.duration;
      // A time from a profile or event may lie anywhere; a timer must be
      // one the engine can hold (and a snapshot store exactly).
      if (due >= LatestInputTime() + internal::MaxJourneyDuration()) {
        Exit(slot, "delay_time_out_of_range");
        return false;
      }
      if (due <= now_ && delay.relative().if_past() == v1::RelativeDelay::EXIT) {
        Exit(slot, "delay_in_past");
        return false;
      }
      break;
    }
    default:
      due = now_ + node.duration;
      break;
  }
  if (due <= now_) {
    Leave(slot, 0);
    return false;
  }
  ScheduleTimer(due, slot, e.generation, TimerKind::kNode);
  return true;
}

std::optional<absl::Time> Engine::Impl::AsTime(const Value& v) {
  if (v.type() == Value::Type::kTimestamp) return v.timestamp_value();
  if (v.type() == Value::Type::kString) {
    absl::Time t;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, v.string_value(), &t, &error)) return t;
  }
  return std::nullopt;
}

void Engine::Impl::ApplyUpdate(uint32_t slot, const internal::Bindings& bindings) {
  Enrollment& e = enrollments_[slot];
  const JourneyVersion& v = versions_[e.version];
  const GraphNode& node = v.graph->nodes[e.node];
  const v1::Update& u = node.def->update();
  SubjectState& s = subjects_[e.subject];
  ProfileWrite write;
  write.subject_id = s.id;
  write.subject_type = TypeOf(s);
  write.journey_id = v.graph->definition.id();
  write.node_id = node.id;
  write.time = now_;
  // Values are read before any is written, so assignments see the profile
  // as it was when the enrollment arrived.
  for (int i = 0; i < u.assignments_size(); ++i) {
    const internal::CompiledOperand& operand = node.assignments[i];
    Value value = operand.literal;
    if (operand.path) {
      const Value* found = bindings.Find(operand.path->root, operand.path->key);
      value = found != nullptr ? *found : Value();
    }
    write.set.emplace_back(u.assignments(i).attribute(), std::move(value));
  }
  for (const auto& [name, value] : write.set) SetSorted(&s.profile, name, value);
  for (const std::string& name : u.unset()) {
    SetSorted(&s.profile, name, Value());
    write.unset.push_back(name);
  }
  if (u.add_tags_size() > 0 || u.remove_tags_size() > 0) {
    std::vector<std::string> tags;
    if (const Value* t = FindSorted(s.profile, "tags");
        t != nullptr && t->type() == Value::Type::kStringList) {
      tags = t->string_list_value();
    }
    for (const std::string& tag : u.add_tags()) {
      if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
      write.add_tags.push_back(tag);
    }
    for (const std::string& tag : u.remove_tags()) {
      tags.erase(std::remove(tags.begin(), tags.end(), tag), tags.end());
      write.remove_tags.push_back(tag);
    }
    SetSorted(&s.profile, "tags", Value::StringList(std::move(tags)));
  }
  if (profile_sink_ != nullptr) profile_sink_->Write(write);
}

}  // namespace cairn
