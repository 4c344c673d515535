// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "exec/migration.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cairn/journey.h"

namespace cairn::internal {
namespace {

// True when some rule of `quiet_hours` can defer a send on `channel`.
bool QuietHoursDefer(absl::string_view channel, absl::Span<const QuietRule> quiet_hours) {
  for (const QuietRule& q : quiet_hours) {
    if (!q.channel.empty() && q.channel != channel) continue;
    // A rule that ends when it starts covers no minute (the engine never
    // finds a time inside it), so it defers nothing.
    if (q.window.opens != q.window.closes) return true;
  }
  return false;
}

// The quiet hours that apply to `graph`'s actions.
absl::Span<const QuietRule> QuietHoursOf(const JourneyGraph& graph,
                                         absl::Span<const QuietRule> engine_quiet_hours) {
  return graph.has_quiet_hours ? absl::Span<const QuietRule>(graph.quiet_hours)
                               : engine_quiet_hours;
}

// True when some rate limit applies to sends of `graph` on `channel`.
bool RateLimited(const JourneyGraph& graph, absl::string_view channel,
                 absl::Span<const RateLimit> rate_limits) {
  if (graph.rate_max > 0) return true;
  for (const RateLimit& l : rate_limits) {
    if (l.channel.empty() || l.channel == channel) return true;
  }
  return false;
}

// The node's kind, and for an action why an enrollment waits there.
std::string Describe(const JourneyGraph& graph, const GraphNode& node,
                     absl::Span<const QuietRule> quiet_hours) {
  if (node.kind != NodeKind::kAction) return std::string(NodeKindName(node.kind));
  if (node.def->action().has_await_delivery()) return "action awaiting delivery";
  if (node.send_window) return "action with a send window";
  if (node.defer_over_cap) return "action deferred over a frequency cap";
  const absl::string_view channel = graph.channels[node.channel];
  if (!node.transactional && QuietHoursDefer(channel, QuietHoursOf(graph, quiet_hours))) {
    return absl::StrCat("action on \"", channel, "\", which quiet hours defer");
  }
  return absl::StrCat("action on \"", channel, "\", which a rate limit defers");
}

}  // namespace

bool CanHoldEnrollment(const JourneyGraph& graph, const GraphNode& node,
                       absl::Span<const QuietRule> engine_quiet_hours,
                       absl::Span<const RateLimit> engine_rate_limits) {
  if (node.blocking) return true;
  if (node.kind != NodeKind::kAction) return false;
  if (node.send_window || node.defer_over_cap) return true;
  const absl::string_view channel = graph.channels[node.channel];
  if (RateLimited(graph, channel, engine_rate_limits)) return true;
  return !node.transactional &&
         QuietHoursDefer(channel, QuietHoursOf(graph, engine_quiet_hours));
}

absl::Status CheckMigration(const JourneyGraph& to, absl::string_view to_subject_type,
                            absl::Span<const MigrationSource> from,
                            absl::Span<const QuietRule> quiet_hours,
                            absl::Span<const RateLimit> rate_limits) {
  std::vector<std::string> problems;
  for (const MigrationSource& source : from) {
    const JourneyGraph& old = *source.graph;
    const std::string where = absl::StrCat("version ", source.version);
    bool holds = false;
    for (const GraphNode& node : old.nodes) {
      if (!CanHoldEnrollment(old, node, quiet_hours, rate_limits)) continue;
      holds = true;
      auto target = to.migration.find(node.id);
      if (target == to.migration.end()) {
        problems.push_back(absl::StrCat(where, ", node \"", node.id, "\" (",
                                        Describe(old, node, quiet_hours),
                                        "), field migration.node_map: not mapped"));
      } else if (to.nodes[target->second].kind != node.kind) {
        const GraphNode& into = to.nodes[target->second];
        problems.push_back(absl::StrCat(where, ", node \"", node.id, "\" (",
                                        Describe(old, node, quiet_hours),
                                        "), field migration.node_map[\"", node.id,
                                        "\"]: maps to \"", into.id, "\", a ",
                                        NodeKindName(into.kind), " node"));
      }
    }
    // A version where no enrollment can wait never holds one to move.
    if (!holds) continue;
    if (old.instance_key != to.instance_key) {
      problems.push_back(absl::StrCat(
          where, ", field settings.instance_key: \"", old.instance_key, "\", not \"",
          to.instance_key, "\"; enrollments cannot move between versions keyed differently"));
    }
    if (source.subject_type != to_subject_type) {
      problems.push_back(
          absl::StrCat(where, ", field settings.subject_type: \"", source.subject_type,
                       "\", not \"", to_subject_type,
                       "\"; enrollments cannot move between versions of different subject types"));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "journey ", to.definition.id(), ": version ", to.definition.version(),
      " cannot take the enrollments older versions may hold: ", absl::StrJoin(problems, "; "),
      " (every node where an enrollment can wait must map to a node of the same kind, "
      "whether or not one waits there now)"));
}

}  // namespace cairn::internal
