// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Journeys whose predicates nest deep, for the tests of the nesting bounds
// (cairn::kMaxPredicateDepth, cairn::kMaxJourneyMessageDepth). The predicate
// sits where predicates nest deepest in a journey, a sequence step's matcher,
// and ends in the deepest comparison (a string-list value), so that a
// journey of a given predicate depth is as deep a message as it can be.

#ifndef CAIRN_TESTS_TESTING_DEEP_JOURNEY_H_
#define CAIRN_TESTS_TESTING_DEEP_JOURNEY_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "cairn/v1/journey.pb.h"
#include "google/protobuf/text_format.h"

namespace cairn::testing {

// How a level of nesting is written.
enum class Nesting {
  kAll,  // all { predicates { ... } }: two message levels per level
  kNot,  // not { ... }: one message level per level
};

// The node and field the deep predicate is in.
inline constexpr char kDeepNode[] = "t";
inline constexpr char kDeepField[] = "trigger.sequence.steps[1].where";

// The predicate alone, `depth` levels deep (1: the comparison alone).
inline std::string DeepPredicateText(int depth, Nesting nesting) {
  const char* open = nesting == Nesting::kAll ? "all { predicates { " : "not { ";
  const char* close = nesting == Nesting::kAll ? "} } " : "} ";
  std::string out;
  out.reserve(static_cast<size_t>(depth) * 20 + 100);
  for (int i = 1; i < depth; ++i) out += open;
  out += R"pb(compare { path: "event.tier" op: IN value { string_list_value { values: "gold" } } } )pb";
  for (int i = 1; i < depth; ++i) out += close;
  return out;
}

// A valid journey but for the depth, in text format.
inline std::string DeepJourneyText(int depth, Nesting nesting) {
  return absl::StrCat(R"pb(id: "deep" version: 1
    settings { state: ACTIVE }
    nodes { id: "t" trigger { sequence { steps { event: "view" }
      steps { event: "cart" where { )pb",
                      DeepPredicateText(depth, nesting), R"pb(} }
      within { seconds: 3600 } } next: "done" } }
    nodes { id: "done" exit { reason: "done" } }
  )pb");
}

// The same journey in JSON, nested with `not` (JSON nests three levels per
// `all`, so `not` reaches a depth with less text).
inline std::string DeepJourneyJson(int depth) {
  std::string predicate;
  for (int i = 1; i < depth; ++i) predicate += R"({"not":)";
  predicate += R"({"compare":{"path":"event.tier","op":"IN","value":{"string_list_value":{"values":["gold"]}}}})";
  predicate.append(static_cast<size_t>(depth - 1), '}');
  return absl::StrCat(
      R"({"id":"deep","version":1,"settings":{"state":"ACTIVE"},"nodes":[)",
      R"({"id":"t","trigger":{"sequence":{"steps":[{"event":"view"},{"event":"cart","where":)",
      predicate, R"(}],"within":"3600s"},"next":"done"}},{"id":"done","exit":{"reason":"done"}}]})");
}

// The journey of DeepJourneyText(depth, Nesting::kNot), built in memory, as
// a program can build it: deeper than any loader accepts.
inline v1::Journey DeepJourneyInMemory(int depth) {
  v1::Journey journey;
  if (!google::protobuf::TextFormat::ParseFromString(DeepJourneyText(1, Nesting::kNot),
                                                     &journey)) {
    return journey;  // Cannot happen; the tests then fail on a journey without nodes.
  }
  v1::Predicate* p =
      journey.mutable_nodes(0)->mutable_trigger()->mutable_sequence()->mutable_steps(1)
          ->mutable_where();
  const v1::Predicate leaf = *p;
  for (int i = 1; i < depth; ++i) p = p->mutable_not_();
  *p = leaf;
  return journey;
}

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_TESTING_DEEP_JOURNEY_H_
