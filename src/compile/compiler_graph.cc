// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The journey compiler's graph-wide steps, which need every node compiled
// first: recorded edges resolved to indices, the migration map checked,
// reachability from the triggers, cycles without a blocking node, event and
// channel names interned, and the entry.* keys the journey reads collected.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cairn/journey.h"
#include "compile/compiler_internal.h"
#include "compile/journey_graph.h"
#include "predicate/predicate.h"
#include "util/nearest.h"
#include "util/problems.h"
#include "util/utf8.h"

namespace cairn::internal {

namespace {

// A node on the path of FindInstantCycles, and its next edge to follow.
struct DfsFrame {
  int32_t node;
  size_t next_edge;
};

// A cycle of up to this many nodes is listed whole; a longer one by its
// first kCycleHead and last kCycleTail nodes. Listing every cycle whole
// made the problems of a journey quadratic in its size: 5,000 edges back
// to the start of a chain gave 108 MB of text.
constexpr size_t kMaxListedCycle = 8;
constexpr size_t kCycleHead = 4;
constexpr size_t kCycleTail = 3;
// The unreachable nodes an unknown edge's problem names, at most; the rest
// are counted.
constexpr size_t kMaxListedUnreachable = 8;

// "a -> b -> ... -> a": the cycle that path[from..] closes by leading back
// to path[from], naming nodes by their ids in `nodes`.
std::string CyclePath(const std::vector<GraphNode>& nodes, const std::vector<DfsFrame>& path,
                      size_t from) {
  auto id = [&](size_t i) -> const std::string& { return nodes[path[i].node].id; };
  const size_t length = path.size() - from;
  std::string out;
  for (size_t i = from; i < path.size(); ++i) {
    if (length > kMaxListedCycle && i == from + kCycleHead) {
      absl::StrAppend(&out, "... ", length - kCycleHead - kCycleTail, " more nodes ... -> ");
      i = path.size() - kCycleTail;
    }
    absl::StrAppend(&out, id(i), " -> ");
  }
  absl::StrAppend(&out, id(from));
  return out;
}

}  // namespace

void JourneyCompiler::ResolveEdges() {
  for (const PendingTarget& p : pending_targets_) {
    GraphNode& from = graph_->nodes[p.node];
    Edge& e = from.edges[p.edge];
    if (p.target->empty()) continue;  // Exit edge.
    auto it = graph_->node_index.find(*p.target);
    if (it == graph_->node_index.end()) {
      unknown_edges_.push_back({p.node, problems_.size(), *p.target});
      problems_.Add(from.id, e.field,
                    absl::StrCat("edge leads to unknown node \"", Escaped(*p.target),
                                 "\""));
      continue;
    }
    const int32_t target = it->second;
    if (graph_->definition.nodes(target).kind_case() == v1::Node::kTrigger) {
      problems_.Add(from.id, e.field,
                    absl::StrCat("edge leads into trigger \"", *p.target,
                                 "\"; triggers are entry points only"));
      continue;
    }
    e.target = target;
  }
}

// Every mapping must lead to a node of this version where an enrollment
// can rest (not a trigger). Which older nodes must be mapped, and to what
// kind, is checked at deploy time against the enrollments then in flight.
void JourneyCompiler::CheckMigration(const FieldScope& scope) {
  const auto& map = graph_->definition.migration().node_map();
  std::vector<std::pair<std::string, std::string>> sorted(map.begin(), map.end());
  std::sort(sorted.begin(), sorted.end());  // Problems in a stable order.
  for (const auto& [from, to] : sorted) {
    const FieldScope at = scope.Child(absl::StrCat("node_map[\"", from, "\"]"));
    if (from.empty()) {
      at.Add("an empty old node id; map the ids of an older version's nodes");
      continue;
    }
    auto it = graph_->node_index.find(to);
    if (it == graph_->node_index.end()) {
      at.Add(absl::StrCat("maps to unknown node \"", Escaped(to), "\""));
      continue;
    }
    if (graph_->nodes[it->second].kind == NodeKind::kTrigger) {
      at.Add(absl::StrCat("maps to trigger \"", to,
                          "\"; enrollments move to the node where they wait"));
      continue;
    }
    graph_->migration.emplace(from, it->second);
  }
}

void JourneyCompiler::CheckGraph() {
  const int n = static_cast<int>(graph_->nodes.size());
  if (n > 0 && graph_->triggers.empty()) {
    problems_.Add("", "nodes", "journey has no trigger node: nothing can enter it");
  }
  ReportUnreachable(ReachableFrom(graph_->triggers));
  FindInstantCycles();
}

std::vector<bool> JourneyCompiler::ReachableFrom(std::vector<int32_t> starts) const {
  std::vector<bool> reached(graph_->nodes.size(), false);
  for (int32_t t : starts) reached[t] = true;
  while (!starts.empty()) {
    const int32_t at = starts.back();
    starts.pop_back();
    for (const Edge& e : graph_->nodes[at].edges) {
      if (e.target != kExitEdge && !reached[e.target]) {
        reached[e.target] = true;
        starts.push_back(e.target);
      }
    }
  }
  return reached;
}

void JourneyCompiler::CheckSplitRules() {
  for (SplitRuleSpec& rule : graph_->split_rules) {
    const std::string& split_id = graph_->definition.nodes(rule.split_node).id();
    const bool bandit = rule.kind == SplitRuleSpec::Kind::kBandit;
    const FieldScope scope(&problems_, split_id, bandit ? "split.bandit.goal" : "split.rule.goal");
    if (rule.goal.empty()) {
      scope.Add(absl::StrCat(bandit ? "bandit" : "rule",
                             " has no goal; name a journey goal or a goal node to judge the "
                             "arms on"));
      continue;
    }
    for (size_t g = 0; g < graph_->goals.size(); ++g) {
      if (graph_->goals[g].name == rule.goal) rule.journey_goal = static_cast<int32_t>(g);
    }
    if (rule.journey_goal >= 0) continue;
    auto it = graph_->node_index.find(rule.goal);
    if (it == graph_->node_index.end() || graph_->nodes[it->second].kind != NodeKind::kGoal) {
      scope.Add(absl::StrCat("\"", Escaped(rule.goal),
                             "\" is neither a journey goal nor a goal node of this journey"));
      continue;
    }
    // A goal node counts per arm of the last split an enrollment passed:
    // only one that this split leads to can carry its arms.
    if (!ReachableFrom({rule.split_node})[it->second]) {
      scope.Add(absl::StrCat("goal node \"", rule.goal, "\" is not reached from split \"",
                             split_id, "\": its counts never carry this split's arms"));
      continue;
    }
    rule.goal_node = it->second;
  }
}

void JourneyCompiler::ReportUnreachable(const std::vector<bool>& reached) {
  const int n = static_cast<int>(graph_->nodes.size());
  std::vector<int32_t> unreachable;
  std::vector<std::string> unreachable_ids;
  std::vector<std::string> all_ids;
  for (int i = 0; i < n; ++i) {
    auto it = graph_->node_index.find(graph_->nodes[i].id);
    if (it == graph_->node_index.end() || it->second != i) continue;
    all_ids.push_back(graph_->nodes[i].id);
    // Without a trigger nothing is reachable, which is said once above.
    if (!reached[i] && !graph_->triggers.empty()) {
      unreachable.push_back(i);
      unreachable_ids.push_back(graph_->nodes[i].id);
    }
  }
  // The id each unknown one was likely meant to be: an unreachable node's
  // first (the typo would explain why it is unreachable), else any node's.
  std::vector<std::optional<std::string>> meant(unknown_edges_.size());
  for (size_t c = 0; c < unknown_edges_.size(); ++c) {
    // Past this length a misspelt id is not worth the edit distance.
    constexpr size_t kMaxGuessedId = 128;
    const std::string& target = unknown_edges_[c].target;
    if (target.size() > kMaxGuessedId) continue;
    meant[c] = Nearest(target, unreachable_ids);
    if (!meant[c]) meant[c] = Nearest(target, all_ids);
  }
  // Which reachable unknown edge each unreachable node is put down to: the
  // one meant to lead to it or to a node leading to it, else the first.
  // -1: none yet.
  std::vector<int> cause_of(n, -1);
  int first_cause = -1;
  for (size_t c = 0; c < unknown_edges_.size(); ++c) {
    if (!reached[unknown_edges_[c].node]) continue;
    if (first_cause == -1) first_cause = static_cast<int>(c);
    if (!meant[c]) continue;
    const int32_t target = graph_->node_index.at(*meant[c]);
    if (reached[target] || cause_of[target] != -1) continue;
    std::vector<int32_t> stack{target};
    cause_of[target] = static_cast<int>(c);
    while (!stack.empty()) {
      const int32_t at = stack.back();
      stack.pop_back();
      for (const Edge& e : graph_->nodes[at].edges) {
        if (e.target != kExitEdge && !reached[e.target] && cause_of[e.target] == -1) {
          cause_of[e.target] = static_cast<int>(c);
          stack.push_back(e.target);
        }
      }
    }
  }
  std::vector<std::vector<std::string>> owned(unknown_edges_.size());
  for (int32_t i : unreachable) {
    if (first_cause == -1) {
      problems_.Add(graph_->nodes[i].id, "id",
                    "node is unreachable: no path from a trigger leads here");
    } else {
      owned[cause_of[i] == -1 ? first_cause : cause_of[i]].push_back(graph_->nodes[i].id);
    }
  }
  for (size_t c = 0; c < unknown_edges_.size(); ++c) {
    std::string more;
    if (meant[c]) absl::StrAppend(&more, "; did you mean \"", *meant[c], "\"?");
    const std::vector<std::string>& ids = owned[c];
    if (!ids.empty()) {
      std::vector<std::string> listed(ids.begin(),
                                      ids.begin() + std::min(ids.size(), kMaxListedUnreachable));
      if (ids.size() > listed.size()) {
        listed.push_back(absl::StrCat("and ", ids.size() - listed.size(), " more"));
      }
      // The cause is a guess unless the unknown id is near one of them.
      const bool near = meant[c] && cause_of[graph_->node_index.at(*meant[c])] ==
                                        static_cast<int>(c);
      absl::StrAppend(&more, " (", ids.size(), ids.size() == 1 ? " node" : " nodes",
                      near ? " unreachable because of this: "
                           : " unreachable, perhaps because of this: ",
                      absl::StrJoin(listed, ", "), ")");
    }
    if (!more.empty()) problems_.AppendToMessage(unknown_edges_[c].problem, more);
  }
}

// A cycle through non-blocking nodes only would let an enrollment loop
// forever without time passing. Iterative DFS over the non-blocking
// subgraph; each back edge closes one cycle, reported at the edge.
void JourneyCompiler::FindInstantCycles() {
  const int n = static_cast<int>(graph_->nodes.size());
  enum Color : uint8_t { kWhite, kGray, kBlack };
  std::vector<Color> color(n, kWhite);
  // Where each gray node is on the path, so that the cycle a back edge
  // closes is found without walking the path.
  std::vector<size_t> depth(n, 0);
  for (int root = 0; root < n; ++root) {
    if (color[root] != kWhite || graph_->nodes[root].blocking) continue;
    std::vector<DfsFrame> path{{root, 0}};
    color[root] = kGray;
    while (!path.empty()) {
      DfsFrame& f = path.back();
      const GraphNode& node = graph_->nodes[f.node];
      if (f.next_edge == node.edges.size()) {
        color[f.node] = kBlack;
        path.pop_back();
        continue;
      }
      const Edge& e = node.edges[f.next_edge++];
      if (e.target == kExitEdge || graph_->nodes[e.target].blocking) continue;
      if (color[e.target] == kWhite) {
        color[e.target] = kGray;
        depth[e.target] = path.size();
        path.push_back({e.target, 0});
      } else if (color[e.target] == kGray) {
        problems_.Add(node.id, e.field,
                      absl::StrCat("cycle ", CyclePath(graph_->nodes, path, depth[e.target]),
                                   " has no blocking node (delay, wait, goal or an "
                                   "action awaiting delivery): an enrollment would "
                                   "loop without time passing"));
      }
    }
  }
}

void JourneyCompiler::InternNames() {
  std::set<std::string> names;
  for (const PendingEvent& p : pending_events_) {
    if (!p.name.empty()) names.insert(p.name);
  }
  graph_->event_names.assign(names.begin(), names.end());
  for (size_t i = 0; i < graph_->event_names.size(); ++i) {
    graph_->event_index.emplace(graph_->event_names[i], static_cast<int32_t>(i));
  }
  for (const PendingEvent& p : pending_events_) {
    auto it = graph_->event_index.find(p.name);
    if (it != graph_->event_index.end()) p.matcher->event = it->second;
  }
  graph_->channels.assign(channel_names_.begin(), channel_names_.end());
  for (GraphNode& g : graph_->nodes) {
    if (g.kind != NodeKind::kAction) continue;
    auto it = std::lower_bound(graph_->channels.begin(), graph_->channels.end(),
                               g.def->action().channel());
    if (it != graph_->channels.end() && *it == g.def->action().channel()) {
      g.channel = static_cast<int32_t>(it - graph_->channels.begin());
    }
  }
}

PredicateScope JourneyCompiler::Scope(bool allow_entry) const {
  PredicateScope scope;
  scope.allow_entry = allow_entry;
  scope.declarations = &graph_->declarations;
  scope.behaviors = behaviors_;
  scope.segments = segments_;
  scope.subject_type = graph_->definition.settings().subject_type();
  return scope;
}

Value::Type JourneyCompiler::CheckBehaviorRead(const Path& path, const FieldScope& scope) const {
  return CheckBehaviorPath(path, Scope(true), scope);
}

void JourneyCompiler::CollectReadKeys() {
  std::set<std::string> keys;
  std::set<std::string> declared;
  auto add_path = [&keys, &declared](const std::optional<Path>& path) {
    if (path && path->root == PathRoot::kEntry) keys.insert(path->key);
    if (path && (path->root == PathRoot::kBehavior || path->root == PathRoot::kSegment)) {
      declared.insert(absl::StrCat(PathRootName(path->root), ".", path->key));
    }
  };
  auto add_predicate = [&](const CompiledPredicate& predicate) {
    for (const Path& path : predicate.Paths()) add_path(path);
  };
  auto add_matcher = [&](const CompiledMatcher& matcher) { add_predicate(matcher.where); };
  for (const GraphNode& g : graph_->nodes) {
    for (const CompiledMatcher& m : g.matchers) add_matcher(m);
    if (g.absent) add_matcher(*g.absent);
    add_predicate(g.predicate);
    add_predicate(g.change_from);
    for (const CompiledPredicate& p : g.branch_predicates) add_predicate(p);
    for (const CompiledParam& param : g.params) {
      for (const CompiledParam::Part& part : param.parts) add_path(part.path);
    }
    for (const CompiledOperand& operand : g.assignments) add_path(operand.path);
    add_path(g.relative_path);
    if (!g.segment.empty()) add_path(Path{PathRoot::kSegment, g.segment});
  }
  for (const CompiledMatcher& m : graph_->exit_on) add_matcher(m);
  for (const JourneyGraph::ExitCriterion& c : graph_->exit_when) add_predicate(c.condition);
  graph_->watches_state = !graph_->exit_when.empty();
  for (const GraphNode& g : graph_->nodes) {
    graph_->watches_state = graph_->watches_state || g.waits_until;
  }
  for (const JourneyGoalSpec& goal : graph_->goals) add_matcher(goal.conversion);
  if (!graph_->instance_key.empty()) keys.insert(graph_->instance_key);
  graph_->entry_keys.assign(keys.begin(), keys.end());
  graph_->declaration_reads.assign(declared.begin(), declared.end());
}

}  // namespace cairn::internal
