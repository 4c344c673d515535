// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Validating and compiling journeys. ValidateJourney() finds every problem in
// a cairn.v1.Journey; Compile() turns a valid journey into an immutable
// CompiledJourney: nodes resolved to dense indices, event names interned,
// predicates type-checked and compiled. Engines run CompiledJourneys only.
//
// Thread-safety: the functions are safe to call concurrently; a
// CompiledJourney is immutable and may be shared between threads.

#ifndef CAIRN_JOURNEY_H_
#define CAIRN_JOURNEY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "cairn/v1/journey.pb.h"

namespace cairn {

namespace internal {
struct JourneyGraph;
}  // namespace internal

// The kind of a node, mirroring cairn.v1.Node's `kind` oneof.
enum class NodeKind {
  kTrigger,
  kFilter,
  kDelay,
  kSplit,
  kAction,
  kWait,
  kGoal,
  kUpdate,
  kExit,
  // Last, so that the kinds before it keep their numbers.
  kSwitch,
};

// The deepest a predicate may nest: a comparison is one level, and each
// all, any and not around it adds one. The compiler refuses deeper ones,
// naming the node and field. Journeys are stored in binary (Kafka deploy
// records, checkpoints) and protobuf refuses to decode messages nested more
// than 100 deep; a predicate level costs two message levels (Predicate,
// PredicateList), and the deepest place a predicate can sit (a sequence
// step's or a wait branch's matcher) is five levels down, so this leaves
// room for the records that wrap a journey. Real journeys nest a handful.
inline constexpr int kMaxPredicateDepth = 24;

// The number of NodeKind values, for tables indexed by kind.
inline constexpr int kNodeKindCount = 10;

// The lower-case name of a kind, as in the proto: "trigger", "filter", ...
absl::string_view NodeKindName(NodeKind kind);

// One thing wrong with a journey definition.
struct JourneyProblem {
  // The journey's id as written (may itself be empty or invalid).
  std::string journey_id;
  // The id of the node at fault; empty for journey-level fields.
  std::string node_id;
  // The path of the offending field inside the node (or inside the journey
  // when node_id is empty), e.g. "split.variants[1].weight".
  std::string field;
  // What is wrong and, where it helps, what to do instead.
  std::string message;

  // "journey J, node N, field F: message" (node part omitted when empty).
  std::string ToString() const;

  friend bool operator==(const JourneyProblem& a, const JourneyProblem& b) {
    return a.journey_id == b.journey_id && a.node_id == b.node_id &&
           a.field == b.field && a.message == b.message;
  }
};

// Every problem in `journey`, in a stable order (journey-level settings
// first, then nodes in definition order, then whole-graph checks). Empty
// means the journey compiles.
std::vector<JourneyProblem> ValidateJourney(const v1::Journey& journey);

// A validated, immutable journey ready to run. Obtain one from Compile().
class CompiledJourney {
 public:
  CompiledJourney(const CompiledJourney&) = delete;
  CompiledJourney& operator=(const CompiledJourney&) = delete;
  ~CompiledJourney();

  // The definition this was compiled from.
  const v1::Journey& definition() const;
  const std::string& id() const { return definition().id(); }
  int64_t version() const { return definition().version(); }

  // Nodes are numbered 0..node_count()-1 in definition order.
  int node_count() const;
  NodeKind node_kind(int index) const;
  const std::string& node_id(int index) const;
  // The dense index of the node with this id, or -1.
  int FindNode(absl::string_view id) const;

  // Every event name the journey reacts to (triggers, waits, goals,
  // exit-on, journey goals), sorted and de-duplicated. An event's interned id
  // is its position here.
  absl::Span<const std::string> event_names() const;
  // The interned id of an event name, or -1 when the journey ignores it.
  int FindEvent(absl::string_view name) const;

  // Every channel an action node uses, sorted and de-duplicated.
  absl::Span<const std::string> channels() const;

  // Indices of the trigger nodes, in definition order.
  absl::Span<const int> triggers() const;

  // The internal graph, for Cairn's own engine. Not a stable API.
  const internal::JourneyGraph& graph() const { return *graph_; }

 private:
  friend absl::StatusOr<std::shared_ptr<const CompiledJourney>> Compile(
      const v1::Journey& journey);
  explicit CompiledJourney(std::unique_ptr<internal::JourneyGraph> graph);

  std::unique_ptr<const internal::JourneyGraph> graph_;
};

// Validates and compiles `journey`. On failure returns InvalidArgument whose
// message lists every problem ValidateJourney() finds, one per line.
//
// Example:
//   CAIRN_ASSIGN_OR_RETURN(cairn::v1::Journey def,
//                          cairn::LoadJourneyFile("cart.textproto"));
//   absl::StatusOr<std::shared_ptr<const cairn::CompiledJourney>> compiled =
//       cairn::Compile(def);
//   if (!compiled.ok()) std::cerr << compiled.status().message();
absl::StatusOr<std::shared_ptr<const CompiledJourney>> Compile(
    const v1::Journey& journey);

}  // namespace cairn

#endif  // CAIRN_JOURNEY_H_
