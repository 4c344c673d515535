// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The internal, compiled form of a journey: nodes by dense index, edges
// resolved to indices, event names interned, predicates compiled. Built only
// by the compiler (JourneyCompiler, compiler_internal.h) from a journey that
// has no problems, and immutable afterwards.
//
// Thread-safety: immutable; safe to share.

#ifndef CAIRN_COMPILE_JOURNEY_GRAPH_H_
#define CAIRN_COMPILE_JOURNEY_GRAPH_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "timer/local_time.h"
#include "timer/schedule.h"
#include "cairn/journey.h"
#include "cairn/v1/journey.pb.h"
#include "predicate/predicate.h"

namespace cairn::internal {

// The target of an edge that leaves the journey.
inline constexpr int32_t kExitEdge = -1;

// The most variants a split may have. An enrollment holds its variant in 16
// bits (it is one of the few fields of the record kept per subject in
// flight); real A/B/n tests have a handful.
inline constexpr int kMaxSplitVariants = 1024;

// Split rules (v1::SplitRule): the defaults, and the largest minimum sample.
inline constexpr int64_t kDefaultRuleMinPerArm = 100;
inline constexpr int64_t kMaxRuleMinPerArm = 1'000'000'000;
inline constexpr double kDefaultRuleAlpha = 0.05;
inline constexpr absl::Duration kDefaultRuleMinDuration = absl::Hours(7 * 24);
inline constexpr absl::Duration kDefaultRuleCheckEvery = absl::Hours(24);

// The most nodes a journey may have: an enrollment holds its node (and its
// last split's) in 16 bits. Real journeys have tens; Braze allows 200 steps.
inline constexpr int kMaxJourneyNodes = 32767;

// The most branches a switch may have. Every arrival tries the branches in
// order, so the bound keeps a step's cost small; real multi-way branches
// (Braze Audience Paths, Customer.io multi-splits) have a handful.
inline constexpr int kMaxSwitchBranches = 64;

// The most days of per-day counts a journey may keep
// (JourneySettings.trend_days).
inline constexpr int kMaxTrendDays = 366;

// Best-time delays: the longest look-ahead (a week: every hour of the week
// once, each arrival steps through them), and the history they need before
// trusting a subject's hours, by default and at most.
inline constexpr int64_t kMaxBestTimeHours = 168;
inline constexpr int32_t kDefaultBestTimeMinEvents = 10;
inline constexpr int32_t kMaxBestTimeMinEvents = 10000;

// The label of a switch's default edge in reports and pictures; no branch
// may take the name.
inline constexpr char kSwitchDefaultLabel[] = "default";

// One outgoing edge of a node.
struct Edge {
  // The proto field that holds it, relative to the node: "trigger.next",
  // "split.variants[1].next".
  std::string field;
  // A short label for reports and pictures: "next", "on_true", a variant or
  // branch name.
  std::string label;
  // Dense index of the target node, or kExitEdge.
  int32_t target = kExitEdge;
};

// An event name (interned) plus an optional predicate.
struct CompiledMatcher {
  int32_t event = -1;  // Index into JourneyGraph::event_names.
  CompiledPredicate where;
  bool same_key = false;  // event.<instance_key> must equal entry.<instance_key>
};

// A value read from a path or given as a literal (update assignments).
struct CompiledOperand {
  std::optional<Path> path;  // Set for path operands.
  Value literal;             // Otherwise.
};

// One action parameter: literal text and {{path}} placeholders, in order.
struct CompiledParam {
  struct Part {
    std::string text;          // Literal text, when path is unset.
    std::optional<Path> path;  // A placeholder.
  };
  std::string key;
  std::vector<Part> parts;
};

struct GraphNode {
  std::string id;
  NodeKind kind = NodeKind::kExit;
  // The node's definition, inside JourneyGraph::definition.
  const v1::Node* def = nullptr;
  // Outgoing edges, in field order.
  std::vector<Edge> edges;
  // True for nodes where an enrollment waits for time or input: delay,
  // wait, goal, and action with await_delivery.
  bool blocking = false;

  // Kind-specific compiled parts; unused ones stay empty.
  // trigger: the event (1) or the sequence steps; wait: one per branch;
  // goal: the conversion.
  std::vector<CompiledMatcher> matchers;
  // Sequence trigger's "and then no ..." event, if any.
  std::optional<CompiledMatcher> absent;
  // filter: the condition; event trigger: the profile filter;
  // attribute_change trigger: `to`, the condition after the update.
  CompiledPredicate predicate;
  // attribute_change trigger: the attribute, and `from`, the condition on
  // the profile before the update.
  std::string attribute;
  CompiledPredicate change_from;
  // segment trigger: the segment, whether leaving it (not entering) enters
  // the journey, and whether its members at first deploy enter.
  std::string segment;
  bool segment_left = false;
  bool existing_members = false;
  // switch: one condition per branch, in order; edge i is branch i's, and
  // the last edge is the default. wait: per branch, its `until` condition
  // (always true, unused, for a branch with a matcher).
  std::vector<CompiledPredicate> branch_predicates;
  // wait: some branch waits until a condition (branch_predicates) holds.
  bool waits_until = false;
  // Fixed delay, wait timeout, goal window, sequence `within`, await
  // timeout, relative delay offset (may be negative).
  absl::Duration duration = absl::ZeroDuration();
  // Sequence trigger's absent_within.
  absl::Duration absent_within = absl::ZeroDuration();
  // split: running sums of the variant weights (last = total), and its
  // experiment rule's index in JourneyGraph::split_rules, or -1.
  std::vector<int64_t> cumulative_weights;
  int32_t split_rule = -1;
  // action: index into JourneyGraph::channels.
  int32_t channel = -1;
  // action: template parameters, sorted by key.
  std::vector<CompiledParam> params;
  // update: the assigned values, in definition order.
  std::vector<CompiledOperand> assignments;
  // delay until_time_of_day: local hour and minute; allowed weekdays as bits
  // (Monday = bit 0), 0 meaning every day.
  int32_t hour = 0;
  int32_t minute = 0;
  uint8_t weekday_mask = 0;
  // delay relative: the timestamp's path (the offset is in `duration`);
  // delay until_anniversary / until_date (path): the date's path. The
  // calendar delays' local time is in hour and minute.
  std::optional<Path> relative_path;
  // delay until_date with a literal date.
  std::optional<absl::CivilDay> date;
  // delay until_anniversary / until_date: days before the date.
  int32_t days_before = 0;
  // delay until_anniversary: 29 February falls on 1 March in common years
  // (else on 28 February).
  bool leap_day_march_1 = false;
  // delay until_best_time: its behaviour is at relative_path, its
  // look-ahead in `duration`; the events it needs before it trusts a
  // subject's hours; whether too little history waits for the local time
  // in hour, minute and weekday_mask (else it continues at once).
  int32_t min_events = 0;
  bool local_fallback = false;
  // schedule trigger: when its occurrences fall, and whether at the local
  // time in each subject's zone (else in the journey's). Its audience is
  // `segment` (when not empty) and `predicate`.
  std::optional<Recurrence> recurrence;
  bool subject_time_zone = false;
  // action: the local hours it may send in (its own send window, else the
  // journey's unless transactional); unset when it may send at any time.
  std::optional<LocalWindow> send_window;
  // action: exempt from the holdout, quiet hours and frequency caps, and not
  // counted against caps (v1::Action.transactional).
  bool transactional = false;
  // action: a send over a frequency cap waits until the cap frees (else it
  // is suppressed).
  bool defer_over_cap = false;
};

// Quiet hours on one channel (empty: every channel): the local window in
// which sends wait. The engine's (EngineOptions::quiet_hours) and a
// journey's (JourneySettings.quiet_hours) compile to this one form.
struct QuietRule {
  std::string channel;
  LocalWindow window;  // opens: when they start; closes: when they end.
};

// Caps on entries into a journey id (JourneySettings.entry_limits); 0: no
// cap of that kind.
struct EntryLimitSpec {
  int64_t per_day = 0;
  int64_t total = 0;
  int64_t per_occurrence = 0;
  bool any() const { return per_day > 0 || total > 0 || per_occurrence > 0; }
};

// A split's experiment rule (v1::SplitRule) or bandit (v1::SplitBandit),
// compiled with its defaults.
struct SplitRuleSpec {
  enum class Kind : uint8_t { kRule, kBandit };
  Kind kind = Kind::kRule;
  int32_t split_node = -1;
  // The goal judged on: a journey goal (index into JourneyGraph::goals) or
  // a goal node; the other is -1. `goal` is its name as reports give it.
  int32_t journey_goal = -1;
  int32_t goal_node = -1;
  std::string goal;
  int32_t control = -1;  // The control arm's index.
  int64_t min_per_arm = 0;
  absl::Duration min_duration;
  absl::Duration check_every;  // A bandit's update_every.
  absl::Duration max_duration;  // Zero: none.
  double alpha = 0;
  int32_t control_percent = -1;  // -1: the share its weight gives.
  // Bandits: posterior samples per update, and each arm's least share.
  int32_t draws = 0;
  double min_percent = 0;
};

// Bandits: the defaults and bounds of SplitBandit's fields, and the total of
// the weights an update assigns by.
inline constexpr int32_t kDefaultBanditDraws = 10000;
inline constexpr int32_t kMinBanditDraws = 100;
inline constexpr int32_t kMaxBanditDraws = 1000000;
inline constexpr double kDefaultBanditMinPercent = 1;
inline constexpr int64_t kBanditWeightTotal = 1000000;

struct JourneyGoalSpec {
  std::string name;
  CompiledMatcher conversion;
  absl::Duration window = absl::ZeroDuration();
};

struct JourneyGraph {
  v1::Journey definition;
  std::vector<GraphNode> nodes;
  absl::flat_hash_map<std::string, int32_t> node_index;
  std::vector<int32_t> triggers;
  // The schedule trigger's node, or -1 (a journey has at most one).
  int32_t schedule_trigger = -1;
  // Journey.migration: older node id -> node index here. Empty without one.
  absl::flat_hash_map<std::string, int32_t> migration;

  std::vector<std::string> event_names;  // Sorted, unique.
  absl::flat_hash_map<std::string, int32_t> event_index;
  std::vector<std::string> channels;  // Sorted, unique.

  std::vector<CompiledMatcher> exit_on;
  // Exit criteria (JourneySettings.exit_when), in order.
  struct ExitCriterion {
    std::string name;
    CompiledPredicate condition;
  };
  std::vector<ExitCriterion> exit_when;
  // Some exit criterion or wait-until branch watches the subject's state.
  bool watches_state = false;
  std::vector<JourneyGoalSpec> goals;
  // The splits' experiment rules, in node order.
  std::vector<SplitRuleSpec> split_rules;
  TypeDeclarations declarations;
  absl::TimeZone default_time_zone;  // UTC when the journey names none.
  std::string time_zone_attribute;   // Profile attribute with the subject's zone.
  std::string instance_key;          // Keyed enrollments; empty when not keyed.
  // settings.send_window, compiled; each action holds its own copy.
  std::optional<LocalWindow> send_window;
  // settings.quiet_hours, compiled; when `has_quiet_hours`, they replace
  // the engine's for this journey's actions.
  bool has_quiet_hours = false;
  std::vector<QuietRule> quiet_hours;
  // settings.entry_limits.
  EntryLimitSpec entry_limits;
  // settings.rate_limit: at most rate_max sends within any rate_per (0:
  // none).
  int32_t rate_max = 0;
  absl::Duration rate_per;
  // settings.trend_days: days of per-day counts kept (0: none).
  int32_t trend_days = 0;
  // Per node, its goal's place in the report's goals (goal nodes in node
  // order, then the journey goals: goal g is at goal_nodes + g); -1 for
  // other nodes.
  std::vector<int32_t> report_goal;
  int32_t goal_nodes = 0;

  // The engine's fingerprint of `definition` (a hash of its binary form),
  // which every snapshot records per deployed version and Restore compares:
  // 0 until the engine first computes it, then kept, because serializing
  // the journey again for each snapshot was most of a small one's cost.
  // Atomic: engines on several threads may share one compiled journey.
  mutable std::atomic<uint64_t> definition_fingerprint{0};
  // The entry.* names the journey reads anywhere (conditions, placeholders,
  // assignments, relative delays, the instance key), sorted and unique. An
  // entry context keeps only these: the rest of a trigger event's
  // properties could never be read, and keeping them would cost memory per
  // enrollment and per partial sequence match.
  std::vector<std::string> entry_keys;
  // Every behaviour and segment the journey reads ("behavior.<name>",
  // "segment.<name>"), sorted: what an engine checks against its
  // declarations.
  std::vector<std::string> declaration_reads;
};

}  // namespace cairn::internal

#endif  // CAIRN_COMPILE_JOURNEY_GRAPH_H_
