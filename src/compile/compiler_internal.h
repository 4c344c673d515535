// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// JourneyCompiler, the one pass behind Compile() and ValidateJourney(). One
// class spread over several files by concern (see docs/architecture.md):
//   compiler.cc        the pass in order, journey-level checks (strings,
//                      ids, declarations, settings), the public API
//   compiler_nodes.cc  node ids, then each node kind's fields: matchers,
//                      templates, durations, edges recorded
//   compiler_graph.cc  what needs every node compiled: edges resolved, the
//                      migration map, reachability, instant cycles, event
//                      and channel names interned, entry keys collected
//
// Internal to the compiler's own sources; not installed.
//
// Thread-safety: none; a JourneyCompiler is used once, on one thread.

#ifndef CAIRN_COMPILE_COMPILER_INTERNAL_H_
#define CAIRN_COMPILE_COMPILER_INTERNAL_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/v1/journey.pb.h"
#include "compile/journey_graph.h"
#include "google/protobuf/duration.pb.h"
#include "util/problems.h"

namespace cairn::internal {

// Ids: letters, digits, '_', '-', '.'; non-empty; at most 128 characters.
// Returns an empty string when valid, else what is wrong. Journey, node,
// variant, channel, instance-key and subject-type ids all follow it.
std::string CheckId(absl::string_view id, absl::string_view what);

// Reports every string field of `message` (recursively) that is not valid
// UTF-8: the text format accepts such bytes in escapes, but the wire format
// and JSON cannot carry them, so the definition could not be saved and
// loaded.
void CheckUtf8(const google::protobuf::Message& message, const FieldScope& scope);

// `heading`, then each problem on a line of its own, indented: the message
// of a status that lists a journey's problems.
std::string ListProblems(absl::string_view heading, const std::vector<JourneyProblem>& problems);

// Every problem of `journey` with its behavior.* and segment.* reads
// checked against `behaviors` and `segments` (name, type, subject type):
// what Engine::Deploy adds to Compile() for a journey that reads them.
std::vector<JourneyProblem> ValidateJourneyReads(const v1::Journey& journey,
                                                 const BehaviorTypes& behaviors,
                                                 const BehaviorTypes& segments);

// Checks a journey and builds its JourneyGraph in one pass, so that nothing
// unvalidated ever runs: the graph is handed out only when no problem was
// found.
class JourneyCompiler {
 public:
  // `behaviors`, `segments`: the behaviours and segments the journey may
  // read, checked by name, type and subject type; null accepts every
  // behavior.* / segment.* path untyped (an engine checks them when the
  // journey is deployed there).
  explicit JourneyCompiler(const v1::Journey& journey, const BehaviorTypes* behaviors = nullptr,
                           const BehaviorTypes* segments = nullptr)
      : graph_(std::make_unique<JourneyGraph>()),
        problems_(journey.id()),
        behaviors_(behaviors),
        segments_(segments) {
    graph_->definition = journey;
  }

  // Checks everything and builds the graph; afterwards problems() and
  // TakeGraph() tell the outcome.
  void Run();

  // Every problem found, in the order found.
  ProblemList& problems() { return problems_; }
  // The graph built; meaningful only when problems() is empty.
  std::unique_ptr<JourneyGraph> TakeGraph() { return std::move(graph_); }

 private:
  // An event matcher whose event name is interned after the pass.
  struct PendingEvent {
    CompiledMatcher* matcher;
    std::string name;
  };

  // An edge whose target id is resolved once every node is indexed.
  struct PendingTarget {
    int node;
    size_t edge;
    const std::string* target;
  };

  // An edge to a node id the journey does not have, whose problem learns,
  // once reachability is known, which nodes are unreachable because of it.
  struct UnknownEdge {
    int node;
    // The problem's index in problems_.
    size_t problem;
    std::string target;
  };

  // compiler.cc: journey-level checks.

  // UTF-8 everywhere: journey-level fields in the journey's scope, node
  // fields in their node's (a node whose own id is not UTF-8 is named by
  // its index).
  void CheckStrings();
  // settings.attributes: each a valid, non-built-in path with a type,
  // declared once; fills graph_->declarations.
  void CheckDeclarations(const FieldScope& settings);
  // The rest of settings: state, re-entry, exit_on, journey goals, active
  // window, time zone, instance key, subject type.
  void CheckSettings(const FieldScope& scope);
  // A duration a journey may hold (within MaxJourneyDuration() either
  // way, so the times computed from it fit a snapshot), or a problem at
  // `scope` and nullopt.
  static std::optional<absl::Duration> JourneyDuration(const google::protobuf::Duration& d,
                                                       const FieldScope& scope);
  // A positive duration, or a problem at `scope`. Returns zero when absent
  // or invalid.
  absl::Duration PositiveDuration(bool has, const google::protobuf::Duration& d,
                                  const FieldScope& scope, absl::string_view what);

  // compiler_nodes.cc: node by node.

  // Checks node ids and fills graph_->nodes and graph_->node_index.
  void IndexNodes();
  // Records an edge; resolution happens once every node is indexed.
  void AddEdge(int node, std::string field, std::string label, const std::string& target);
  // A best-time delay: its behaviour (an HOUR_OF_WEEK one when the
  // engine's declarations are known), look-ahead, history threshold and
  // fallback time.
  void CompileBestTime(const v1::BestTimeDelay& b, const FieldScope& scope, GraphNode* g);
  // Compiles an event matcher into *out; `allow_entry` says whether its
  // condition may read entry.* (not in a trigger: there is no entry yet).
  void CompileMatcher(const v1::EventMatcher& m, bool allow_entry, const FieldScope& scope,
                      CompiledMatcher* out);
  // Sets the node's kind and checks its fields, kind by kind.
  void CompileNode(int index);
  // A trigger: event, audience or sequence, and where it leads.
  void CompileTrigger(int index, const v1::Trigger& t, const FieldScope& scope);
  // A delay: fixed duration, until a time of day, relative to a timestamp,
  // until an anniversary or until a date.
  void CompileDelay(int index, const v1::Delay& d, const FieldScope& scope);
  // A local time of day into g->hour, g->minute and g->weekday_mask; its
  // weekdays are a problem unless `allow_weekdays`.
  void CompileLocalTime(const v1::TimeOfDay& t, bool allow_weekdays, const FieldScope& scope,
                        GraphNode* g);
  // Weekdays as bits (Monday = bit 0); duplicates and UNSPECIFIED are
  // problems at `scope`.weekdays.
  static uint8_t WeekdayMask(const google::protobuf::RepeatedField<int>& days,
                             const FieldScope& scope);
  // A schedule trigger: one per journey, its schedule and its audience.
  void CompileScheduleTrigger(int index, const v1::ScheduleTrigger& t, const FieldScope& scope);
  // A schedule's frequency, dates, time, weekdays and day of month, checked
  // to have an occurrence; nullopt (and problems) otherwise.
  std::optional<Recurrence> CompileRecurrence(const v1::Schedule& s, const FieldScope& scope);
  // A send window: opening and closing times that differ, weekdays.
  // nullopt (and a problem) when it could never open.
  std::optional<LocalWindow> CompileSendWindow(const v1::SendWindow& w, const FieldScope& scope);
  // Quiet hours: a start and an end that differ, weekdays, a channel name
  // (or none). nullopt (and a problem) when they could hold nothing back.
  std::optional<QuietRule> CompileQuietHours(const v1::QuietHours& q, const FieldScope& scope);
  // A literal date, "YYYY-MM-DD" in 1970..2261, or nullopt and a problem
  // at `scope`.
  static std::optional<absl::CivilDay> CompileDate(const std::string& text,
                                                   const FieldScope& scope);
  // A problem at `scope`.if_past when it is not set.
  static void CheckIfPast(v1::RelativeDelay::IfPast if_past, const FieldScope& scope);
  // A delay's time path (`text`) into g->relative_path: no event.*, and a
  // timestamp, string or untyped value, else a problem ending in `needs`.
  void CompileTimePath(const std::string& text, const FieldScope& scope, absl::string_view needs,
                       GraphNode* g);
  // A split: its variants' names, weights, control flag and edges.
  void CompileSplit(int index, const v1::Split& s, const FieldScope& scope);
  // A split's experiment rule or bandit, but for its goal
  // (CheckSplitRules).
  void CompileSplitRule(int index, const v1::SplitRule& r, int control,
                        const FieldScope& scope);
  void CompileSplitBandit(int index, const v1::SplitBandit& b, const FieldScope& scope);
  // A duration of a split rule or bandit: `fallback` when unset, at least
  // `least`; a problem at `scope` otherwise.
  absl::Duration RuleDuration(bool has, const google::protobuf::Duration& d,
                              absl::Duration fallback, absl::Duration least,
                              const FieldScope& scope, absl::string_view what);
  // A switch: its branches' names, predicates and edges, and its default.
  void CompileSwitch(int index, const v1::Switch& s, const FieldScope& scope);
  // An action: channel, template, parameters, delivery wait and edges.
  void CompileAction(int index, const v1::Action& a, const FieldScope& scope);
  // Splits a template parameter into literal text and {{path}}
  // placeholders, checking every placeholder.
  void CompileTemplate(const std::string& text, const FieldScope& scope,
                       std::vector<CompiledParam::Part>* parts);
  // An update: its assignments, and that it changes something.
  void CompileUpdate(int index, const v1::Update& u, const FieldScope& scope);

  // compiler_graph.cc: once every node is compiled.

  // Resolves recorded edges to node indices; edges into unknown nodes or
  // into triggers are problems.
  void ResolveEdges();
  // Checks the migration map and fills graph_->migration.
  void CheckMigration(const FieldScope& scope);
  // A trigger exists, every node is reachable from one, and no cycle runs
  // without a blocking node.
  void CheckGraph();
  // The nodes some path from `starts` reaches (`starts` included).
  std::vector<bool> ReachableFrom(std::vector<int32_t> starts) const;
  // Each split rule's goal: a journey goal, or a goal node the split leads
  // to.
  void CheckSplitRules();
  // Reports the nodes that no path from a trigger reaches (`reached`
  // false), and adds to each unknown edge's problem the id it was likely
  // meant to be. When an edge from a reachable node leads to an unknown
  // id, the unreachable nodes are most likely a typo's cascade: they are
  // named in that edge's problem instead of each having its own.
  void ReportUnreachable(const std::vector<bool>& reached);
  // Reports each cycle through non-blocking nodes only.
  void FindInstantCycles();
  // Interns event names (into matchers) and channel names (into actions).
  void InternNames();
  // Fills graph_->entry_keys and graph_->behavior_reads with every
  // entry.* and behavior.* name the journey reads.
  void CollectReadKeys();
  // An attribute_change trigger's `from` or `to` (`present`: set): compiled
  // as a trigger condition, with event.* paths refused.
  CompiledPredicate CompileProfileCondition(const v1::AttributeChangeTrigger& t,
                                            const v1::Predicate& p, bool present,
                                            const FieldScope& scope);
  // A condition on the subject's state, read with no event in hand (an
  // attribute change's from/to, a wait-until branch, an exit criterion):
  // compiled (entry.* where `allow_entry`), with an event.* path reported
  // as "event.<key>: " + `no_event`.
  CompiledPredicate CompileStateCondition(const v1::Predicate& p, bool allow_entry,
                                          const FieldScope& scope, absl::string_view no_event);
  // What a predicate may read here: entry.* where `allow_entry`.
  PredicateScope Scope(bool allow_entry) const;
  // Checks a behavior.* path outside predicates (templates, assignments,
  // delays); other paths pass. Returns the behaviour's type when known.
  Value::Type CheckBehaviorRead(const Path& path, const FieldScope& scope) const;

  std::unique_ptr<JourneyGraph> graph_;
  ProblemList problems_;
  const BehaviorTypes* behaviors_;
  const BehaviorTypes* segments_;
  std::vector<PendingTarget> pending_targets_;
  std::vector<UnknownEdge> unknown_edges_;
  // Points into vectors that are sized before their matchers are compiled.
  std::vector<PendingEvent> pending_events_;
  std::set<std::string> channel_names_;
};

}  // namespace cairn::internal

#endif  // CAIRN_COMPILE_COMPILER_INTERNAL_H_
