// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Segment declarations (cairn.v1.Segment in a BehaviorSet) checked and
// compiled against the set's behaviours.

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "behavior/behavior_spec.h"
#include "compile/compiler_internal.h"
#include "util/problems.h"
#include "util/utf8.h"

namespace cairn::internal {
namespace {

// The segments each segment's condition reads, by index (unknown names are
// reported by the predicate compiler, not here).
std::vector<std::vector<int>> SegmentReads(const std::vector<SegmentSpec>& specs,
                                           const absl::flat_hash_map<std::string, int>& index) {
  std::vector<std::vector<int>> reads(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    for (const Path& path : specs[i].condition.Paths()) {
      if (path.root != PathRoot::kSegment) continue;
      auto it = index.find(path.key);
      if (it != index.end()) reads[i].push_back(it->second);
    }
  }
  return reads;
}

// Reports each cycle of segments reading each other once, at the segment
// that closes it, naming the whole loop. Iterative depth-first search, so a
// long chain cannot exhaust the stack.
void ReportCycles(const std::vector<SegmentSpec>& specs, const std::vector<std::vector<int>>& reads,
                  const std::vector<FieldScope>& scopes) {
  enum State : uint8_t { kUnseen, kOnPath, kDone };
  std::vector<State> state(specs.size(), kUnseen);
  for (size_t root = 0; root < specs.size(); ++root) {
    if (state[root] != kUnseen) continue;
    // (segment, next read to follow)
    std::vector<std::pair<int, size_t>> path = {{static_cast<int>(root), 0}};
    state[root] = kOnPath;
    while (!path.empty()) {
      auto& [at, next] = path.back();
      if (next == reads[at].size()) {
        state[at] = kDone;
        path.pop_back();
        continue;
      }
      const int to = reads[at][next++];
      if (state[to] == kUnseen) {
        state[to] = kOnPath;
        path.emplace_back(to, 0);
      } else if (state[to] == kOnPath) {
        std::vector<std::string> loop;
        size_t from = 0;
        while (path[from].first != to) ++from;
        for (size_t k = from; k < path.size(); ++k) {
          loop.push_back(specs[path[k].first].def.name());
        }
        loop.push_back(specs[to].def.name());
        scopes[at].AddAt("condition",
                         absl::StrCat("segments may not read each other in a loop: ",
                                      absl::StrJoin(loop, " -> ")));
      }
    }
  }
}

}  // namespace

std::vector<SegmentSpec> CompileSegments(const v1::BehaviorSet& set,
                                         const BehaviorTypes& behaviors, ProblemList* problems) {
  std::vector<SegmentSpec> specs;
  if (set.segments_size() > kMaxSegments) {
    problems->Add("", "segments", absl::StrCat(set.segments_size(), " segments, more than ",
                                               kMaxSegments, " an engine may hold"));
    return specs;
  }
  // Every segment's name and type first: a condition may read a segment
  // declared after it.
  BehaviorTypes segment_types;
  absl::flat_hash_map<std::string, int> index;
  std::vector<std::string> labels;
  for (int i = 0; i < set.segments_size(); ++i) {
    const v1::Segment& s = set.segments(i);
    labels.push_back(absl::StrCat("segments[", i, "] (", Escaped(s.name()), ")"));
    segment_types.emplace(s.name(),
                          BehaviorType{Value::Type::kBool,
                                       std::string(SubjectTypeOrDefault(s.subject_type()))});
  }
  std::vector<FieldScope> scopes;
  for (int i = 0; i < set.segments_size(); ++i) scopes.emplace_back(problems, labels[i], "");
  for (int i = 0; i < set.segments_size(); ++i) {
    const v1::Segment& s = set.segments(i);
    const FieldScope& scope = scopes[i];
    SegmentSpec& spec = specs.emplace_back();
    spec.def = s;
    spec.subject_type = std::string(SubjectTypeOrDefault(s.subject_type()));
    CheckUtf8(s, scope);
    if (std::string e = CheckDeclaredName(s.name(), "segment"); !e.empty()) {
      scope.AddAt("name", std::move(e));
    }
    if (!s.subject_type().empty()) {
      if (std::string e = CheckId(s.subject_type(), "subject type"); !e.empty()) {
        scope.AddAt("subject_type", std::move(e));
      }
    }
    if (!s.name().empty() && !index.emplace(s.name(), i).second) {
      scope.AddAt("name", absl::StrCat("segment \"", s.name(), "\" is declared twice"));
    }
    if (!s.has_condition()) {
      scope.AddAt("condition", "a segment needs a condition");
      continue;
    }
    PredicateScope context;
    context.allow_entry = false;
    context.behaviors = &behaviors;
    context.segments = &segment_types;
    context.subject_type = spec.subject_type;
    const FieldScope at = scope.Child("condition");
    spec.condition = CompiledPredicate::Compile(s.condition(), context, at);
    // Membership belongs to the subject, not to an event: an event.* path
    // would never be present, so the condition could never hold.
    for (const Path& path : spec.condition.Paths()) {
      if (path.root == PathRoot::kEvent) {
        at.Add(absl::StrCat("event.", path.key,
                            ": a segment is about the subject, not an event; read profile.*, "
                            "behavior.* or segment.*"));
        break;
      }
    }
  }
  ReportCycles(specs, SegmentReads(specs, index), scopes);
  return specs;
}

BehaviorTypes SegmentTypesOf(const std::vector<SegmentSpec>& specs) {
  BehaviorTypes types;
  for (const SegmentSpec& s : specs) {
    types.emplace(s.def.name(), BehaviorType{Value::Type::kBool, s.subject_type});
  }
  return types;
}

}  // namespace cairn::internal
