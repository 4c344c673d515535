// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: deploying journey versions, migrations, retiring versions and
// journey states, and the trigger index they feed.

#include "exec/engine_impl.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cairn/options.h"
#include "cairn/status_macros.h"
#include "compile/journey_graph.h"
#include "exec/bindings.h"
#include "exec/engine_state.h"
#include "exec/migration.h"
#include "exec/sent_messages.h"
#include "util/stable_hasher.h"
#include "util/proto_time.h"
#include "util/utf8.h"

namespace cairn {

using internal::CompiledMatcher;
using internal::CountReason;
using internal::Enrollment;
using internal::GoalCounters;
using internal::GoalTracker;
using internal::GraphNode;
using internal::JourneyEntry;
using internal::JourneyGraph;
using internal::JourneyVersion;
using internal::SentMessage;
using internal::SubjectTypeOrDefault;

absl::Status Engine::Impl::RegisterChannel(absl::string_view channel, ChannelSink* sink) {
  if (channel.empty()) return absl::InvalidArgumentError("channel name is empty");
  if (sink == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel ", channel, ": sink is null"));
  }
  if (!sinks_.emplace(std::string(channel), sink).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("channel ", channel, " already has a sink"));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::Deploy(const v1::Journey& journey) {
  absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled = Compile(journey);
  if (!compiled.ok()) return compiled.status();
  return Deploy(*std::move(compiled));
}

absl::Status Engine::Impl::DeployForRestore(const v1::Journey& journey) {
  if (!Fresh()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "DeployForRestore of journey ", internal::Escaped(journey.id()),
        " needs a fresh engine: it rebuilds a snapshot's versions before Restore, before "
        "any input; use Deploy"));
  }
  absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled = Compile(journey);
  if (!compiled.ok()) return compiled.status();
  return Deploy(*std::move(compiled), /*check_migration=*/false);
}

absl::Status Engine::Impl::Deploy(std::shared_ptr<const CompiledJourney> compiled,
                                  bool check_migration) {
  if (compiled == nullptr) return absl::InvalidArgumentError("Deploy: journey is null");
  const JourneyGraph& graph = compiled->graph();
  const v1::Journey& journey = compiled->definition();
  const std::string& id = journey.id();

  auto existing = journey_index_.find(id);
  if (existing != journey_index_.end()) {
    const JourneyEntry& entry = journeys_[existing->second];
    const int64_t latest = versions_[entry.versions.back()].compiled->version();
    if (journey.version() <= latest) {
      return absl::AlreadyExistsError(absl::StrCat(
          "journey ", id, ": version ", journey.version(),
          " is not newer than the deployed version ", latest));
    }
  }

  // A snapshot's versions (check_migration off) are checked against the
  // snapshot's behaviours once Restore has read them.
  if (check_migration) CAIRN_RETURN_IF_ERROR(CheckBehaviorReads(graph));

  JourneyVersion v;
  v.sinks.resize(graph.channels.size());
  for (size_t c = 0; c < graph.channels.size(); ++c) {
    auto it = sinks_.find(graph.channels[c]);
    if (it == sinks_.end()) {
      // Name the first node that uses the channel.
      std::string node_id;
      for (const GraphNode& n : graph.nodes) {
        if (n.kind == NodeKind::kAction && n.channel == static_cast<int32_t>(c)) {
          node_id = n.id;
          break;
        }
      }
      return absl::FailedPreconditionError(absl::StrCat(
          "journey ", id, ", node ", node_id, ", field action.channel: channel \"",
          graph.channels[c], "\" has no registered sink; call RegisterChannel first"));
    }
    v.sinks[c] = it->second;
  }

  // An awaited send must stay known until its wait ends.
  for (const GraphNode& n : graph.nodes) {
    if (n.kind == NodeKind::kAction && n.def->action().has_await_delivery() &&
        n.duration > options_.delivery_report_window) {
      return absl::FailedPreconditionError(absl::StrCat(
          "journey ", id, ", node ", n.id, ", field action.await_delivery.timeout: ",
          internal::FormatDurationShort(n.duration),
          " is longer than the engine's delivery_report_window (",
          internal::FormatDurationShort(options_.delivery_report_window),
          "), after which the report could not be matched"));
    }
  }

  if (graph.rate_max > 0 && graph.rate_max < options_.limit_share.parts) {
    return absl::FailedPreconditionError(absl::StrCat(
        "journey ", id, ", field settings.rate_limit.max_messages: ", graph.rate_max,
        " cannot be shared by the ", options_.limit_share.parts,
        " engines of EngineOptions::limit_share (shards or partitions): each needs at least "
        "one message per interval"));
  }

  std::vector<uint32_t> moving;  // Enrollment slots a migration moves.
  if (existing != journey_index_.end() && journey.has_migration()) {
    // The graphs decide, never where enrollments are now: every engine
    // with these versions (each Kafka partition, each shard) must agree.
    if (check_migration) {
      CAIRN_RETURN_IF_ERROR(internal::CheckMigration(
          graph, SubjectTypeOrDefault(journey.settings().subject_type()),
          MigrationSources(existing->second), quiet_rules_, options_.rate_limits));
    }
    CAIRN_RETURN_IF_ERROR(PlanMigration(journey, graph, existing->second, &moving));
  }

  // All checks passed: from here on nothing fails.
  uint32_t journey_slot;
  if (existing == journey_index_.end()) {
    journey_slot = static_cast<uint32_t>(journeys_.size());
    JourneyEntry& entry = journeys_.emplace_back();
    entry.id = id;
    entry.state = journey.settings().state();
    journey_index_.emplace(id, journey_slot);
  } else {
    journey_slot = existing->second;
    journeys_[journey_slot].state = journey.settings().state();
  }
  v.graph = &graph;
  v.compiled = std::move(compiled);
  v.journey = journey_slot;
  v.subject_type =
      std::string(SubjectTypeOrDefault(journey.settings().subject_type()));
  v.version_text = absl::StrCat(journey.version());
  v.message_id_prefix =
      internal::StableHasher().Add(graph.definition.id()).Add(v.version_text);
  v.seed_text = absl::StrCat(journey.settings().split_seed());
  for (const std::string& name : graph.event_names) {
    v.global_event.push_back(InternEvent(name));
  }
  internal::VersionCounters& c = v.counters;
  c.nodes.resize(graph.nodes.size());
  c.actions.resize(graph.nodes.size());
  c.node_goals.resize(graph.nodes.size());
  c.journey_goals.resize(graph.goals.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    c.nodes[i].left.assign(graph.nodes[i].edges.size(), 0);
  }
  if (graph.watches_state) ++state_watchers_;
  const uint32_t new_version = static_cast<uint32_t>(versions_.size());
  journeys_[journey_slot].versions.push_back(new_version);
  StartRollouts(&v);
  versions_.push_back(std::move(v));
  RebuildTriggerIndex();
  SetScheduleClock(journey_slot);
  UpdateRolloutDue();
  for (uint32_t slot : moving) Migrate(slot, new_version);
  // (Not for a snapshot's versions: their entries are in the snapshot.)
  if (existing == journey_index_.end() && check_migration) EnterExistingMembers(new_version);
  return absl::OkStatus();
}

std::vector<internal::MigrationSource> Engine::Impl::MigrationSources(uint32_t journey_slot) const {
  const std::vector<uint32_t>& versions = journeys_[journey_slot].versions;
  size_t first = 0;
  for (size_t i = 1; i < versions.size(); ++i) {
    if (versions_[versions[i]].graph->definition.has_migration()) first = i;
  }
  std::vector<internal::MigrationSource> sources;
  for (size_t i = first; i < versions.size(); ++i) {
    const JourneyVersion& v = versions_[versions[i]];
    if (v.retired) continue;
    sources.push_back({v.graph, v.compiled->version(), v.subject_type});
  }
  return sources;
}

absl::Status Engine::Impl::PlanMigration(const v1::Journey& journey, const JourneyGraph& graph,
                                         uint32_t journey_slot, std::vector<uint32_t>* moving) {
  for (uint32_t slot = 0; slot < enrollments_.size(); ++slot) {
    const Enrollment& e = enrollments_[slot];
    if (!e.live || versions_[e.version].journey != journey_slot) continue;
    const JourneyVersion& from = versions_[e.version];
    const GraphNode& node = from.graph->nodes[e.node];
    auto to = graph.migration.find(node.id);
    if (from.graph->instance_key != graph.instance_key ||
        from.subject_type != SubjectTypeOrDefault(journey.settings().subject_type()) ||
        to == graph.migration.end() || graph.nodes[to->second].kind != node.kind) {
      moving->clear();
      return absl::InternalError(absl::StrCat(
          "journey ", journey.id(), ": version ", journey.version(),
          " passed the migration check, yet an enrollment at node \"", node.id,
          "\" of version ", from.compiled->version(), " cannot move; nothing was deployed"));
    }
    moving->push_back(slot);
  }
  return absl::OkStatus();
}

void Engine::Impl::Migrate(uint32_t slot, uint32_t to_version) {
  Enrollment& e = enrollments_[slot];
  JourneyVersion& from = versions_[e.version];
  const GraphNode& node = from.graph->nodes[e.node];
  internal::NodeCounters& c = from.counters.nodes[e.node];
  --c.current;
  CountReason(&c.exits, "migrated");
  CountReason(&from.counters.exits, "migrated");
  ++from.counters.exited;
  CountDay(e.version, &internal::DayCounter::exited);
  Trace(TraceStep::Kind::kExit, e, e.node, "migrated");

  JourneyVersion& to = versions_[to_version];
  const int32_t target = to.graph->migration.at(node.id);
  int32_t split_node = -1;
  int32_t variant = -1;
  if (e.split_node >= 0) {
    const GraphNode& split = from.graph->nodes[e.split_node];
    const std::string& name = split.def->split().variants(e.variant).name();
    auto it = to.graph->node_index.find(split.id);
    if (it != to.graph->node_index.end() &&
        to.graph->nodes[it->second].kind == NodeKind::kSplit) {
      const auto& variants = to.graph->nodes[it->second].def->split().variants();
      for (int i = 0; i < variants.size(); ++i) {
        if (variants[i].name() == name) {
          split_node = it->second;
          variant = i;
          break;
        }
      }
    }
  }
  e.version = to_version;
  e.split_node = split_node;
  e.variant = static_cast<int16_t>(variant);
  ++to.counters.entered;
  CountDay(to_version, &internal::DayCounter::entered);
  ++to.counters.migrated_in;
  Enter(slot, target);
  if (to.graph->nodes[target].kind == NodeKind::kGoal) {
    CountGoal(&to.counters.node_goals[target], to_version, split_node, variant, e.subject,
              &GoalCounters::reached);
  }
}

absl::Status Engine::Impl::RetireVersion(absl::string_view journey_id, int64_t version) {
  auto it = journey_index_.find(journey_id);
  if (it == journey_index_.end()) return UnknownJourney(journey_id);
  const JourneyEntry& entry = journeys_[it->second];
  uint32_t index = 0;
  bool found = false;
  for (uint32_t v : entry.versions) {
    if (versions_[v].compiled->version() == version) {
      index = v;
      found = true;
    }
  }
  const std::string name = absl::StrCat("journey ", journey_id, " version ", version);
  if (!found) return absl::NotFoundError(absl::StrCat(name, " is not deployed"));
  if (index == entry.versions.back()) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " is the newest version; deploy a newer one first"));
  }
  JourneyVersion& v = versions_[index];
  if (v.retired) return absl::OkStatus();
  int64_t enrollments = 0, matches = 0, trackers = 0;
  for (const Enrollment& e : enrollments_) enrollments += e.live && e.version == index;
  for (const internal::PendingSequence& p : pending_) matches += p.live && p.version == index;
  for (const GoalTracker& t : trackers_) trackers += t.live && t.version == index;
  if (enrollments + matches + trackers > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        name, " is not empty: ", enrollments, " enrollments in flight, ", matches,
        " completed sequence matches waiting, ", trackers, " journey goals still measuring"));
  }
  v.retired = true;
  UpdateRolloutDue();  // Its rules check no more.
  // Its sends that still await a report are forgotten now (counted as
  // unreported): the counters are final. (Awaited sends cannot be among
  // them: their enrollments would still be in flight.)
  messages_.RemoveIf([&](const SentMessage& m) {
    if (m.version != index) return false;
    if (!m.resolved) ++v.counters.actions[m.node].unreported;
    return true;
  });
  // Partial sequence matches can no longer lead anywhere: free them.
  for (internal::SubjectState& subject : subjects_) {
    if (subject.extra == nullptr) continue;
    auto& seqs = subject.extra->sequences;
    seqs.erase(std::remove_if(seqs.begin(), seqs.end(),
                              [&](const internal::SequenceProgress& p) {
                                return p.version == index;
                              }),
               seqs.end());
    subject.ReleaseExtraIfEmpty();
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::SetJourneyState(absl::string_view journey_id, v1::JourneyState state) {
  auto it = journey_index_.find(journey_id);
  if (it == journey_index_.end()) return UnknownJourney(journey_id);
  if (state != v1::ACTIVE && state != v1::PAUSED && state != v1::STOPPED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "journey ", journey_id, ": state must be ACTIVE, PAUSED or STOPPED"));
  }
  journeys_[it->second].state = state;
  if (state == v1::STOPPED) {
    for (uint32_t e = 0; e < enrollments_.size(); ++e) {
      if (enrollments_[e].live &&
          versions_[enrollments_[e].version].journey == it->second) {
        Exit(e, "journey_stopped");
      }
    }
  }
  return absl::OkStatus();
}

bool Engine::Impl::Fresh() const {
  return subjects_.empty() && enrollments_.empty() && timers_.size() == 0 &&
         stats_.events_applied == 0 && now_ == options_.start_time;
}

int32_t Engine::Impl::InternEvent(const std::string& name) {
  EventRoute& route = event_index_[name];
  if (route.id < 0) {
    route.id = static_cast<int32_t>(trigger_listeners_.size());
    trigger_listeners_.emplace_back();
  }
  return route.id;
}

const EventRoute* Engine::Impl::RouteOf(absl::string_view name) {
  if (routes_generation_ != behaviors_.generation()) RerouteBehaviors();
  auto it = event_index_.find(name);
  return it == event_index_.end() ? nullptr : &it->second;
}

void Engine::Impl::RerouteBehaviors() {
  for (auto it = event_index_.begin(); it != event_index_.end();) {
    if (it->second.id < 0) {
      event_index_.erase(it++);
    } else {
      it->second.behaviors.clear();
      ++it;
    }
  }
  for (const auto& [name, listeners] : behaviors_.listeners_by_event()) {
    event_index_[name].behaviors = listeners;
  }
  routes_generation_ = behaviors_.generation();
}

void Engine::Impl::RebuildTriggerIndex() {
  for (auto& listeners : trigger_listeners_) listeners.clear();
  attribute_listeners_.clear();
  segment_listeners_.clear();
  for (const JourneyEntry& j : journeys_) {
    const uint32_t version = j.versions.back();
    const JourneyVersion& v = versions_[version];
    for (int32_t t : v.graph->triggers) {
      const GraphNode& n = v.graph->nodes[t];
      if (n.def->trigger().kind_case() == v1::Trigger::kAttributeChange) {
        attribute_listeners_[n.attribute].push_back({version, t});
        continue;
      }
      if (n.def->trigger().kind_case() == v1::Trigger::kSegment) {
        segment_listeners_[n.segment].push_back({version, t});
        continue;
      }
      // Event triggers listen for their event; sequences for every step
      // and the absent event, once per distinct name.
      std::vector<int32_t> events;
      for (const CompiledMatcher& m : n.matchers) events.push_back(v.global_event[m.event]);
      if (n.absent) events.push_back(v.global_event[n.absent->event]);
      std::sort(events.begin(), events.end());
      events.erase(std::unique(events.begin(), events.end()), events.end());
      for (int32_t e : events) trigger_listeners_[e].push_back({version, t});
    }
  }
}

}  // namespace cairn
