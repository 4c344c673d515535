// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The rule a migration deploy must pass, judged on the journeys' graphs and
// the engine's options alone, never on where enrollments happen to be. A
// version that carries a migration must map every node of the older versions
// where an enrollment can wait between inputs, to a node of the same kind,
// whether or not one waits there now, and must agree with them on
// settings.instance_key and settings.subject_type. So every engine that has
// the same versions (every Kafka partition, every shard, a restarted host)
// accepts or refuses the same deploy, with the same message.
//
// Thread-safety: pure functions.

#ifndef CAIRN_EXEC_MIGRATION_H_
#define CAIRN_EXEC_MIGRATION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "cairn/options.h"
#include "compile/journey_graph.h"

namespace cairn::internal {

// An older version of a journey whose enrollments a migration would move.
struct MigrationSource {
  const JourneyGraph* graph = nullptr;  // not owned
  int64_t version = 0;
  // settings.subject_type with the default filled in ("user").
  std::string subject_type;
};

// True when an enrollment can wait at `node` of `graph` between inputs: a
// delay, a wait, a goal, an action that awaits its delivery report, an
// action with a send window, one that defers over a frequency cap, and a
// non-transactional action on a channel that quiet hours defer (the
// journey's own, else `engine_quiet_hours`): it waits at the action until
// they end, the window opens or the cap frees; and any action a rate limit
// applies to (the journey's, or the engine's on its channel or on every
// channel). Every other node is passed through within one input.
bool CanHoldEnrollment(const JourneyGraph& graph, const GraphNode& node,
                       absl::Span<const QuietRule> engine_quiet_hours,
                       absl::Span<const RateLimit> engine_rate_limits);

// OK when the migration of `to` (a new version, deployed with `to_subject_type`
// after the default is filled in) can take every enrollment that `from` (the
// older versions that may hold enrollments, oldest first) could hold, at any
// node. Otherwise FailedPrecondition naming the journey, the new version and,
// for each problem, the older version, the node and the field:
//
//   journey onboarding: version 2 cannot take the enrollments older versions
//   may hold: version 1, node "bought" (goal), field migration.node_map: not
//   mapped; ... (every node where an enrollment can wait must map to a node
//   of the same kind, whether or not one waits there now)
//
// The message depends on the graphs and the engine's `quiet_hours` and
// `rate_limits` only.
absl::Status CheckMigration(const JourneyGraph& to, absl::string_view to_subject_type,
                            absl::Span<const MigrationSource> from,
                            absl::Span<const QuietRule> quiet_hours,
                            absl::Span<const RateLimit> rate_limits);

}  // namespace cairn::internal

#endif  // CAIRN_EXEC_MIGRATION_H_
