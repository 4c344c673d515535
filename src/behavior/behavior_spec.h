// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Behaviour declarations (cairn.v1.BehaviorSet) checked and compiled: what
// each behaviour listens to, what it computes, its window, and the type
// journeys read it as. Internal to the library.
//
// Thread-safety: a BehaviorSpec is immutable once compiled.

#ifndef CAIRN_BEHAVIOR_BEHAVIOR_SPEC_H_
#define CAIRN_BEHAVIOR_BEHAVIOR_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/v1/behavior.pb.h"
#include "cairn/value.h"
#include "predicate/event_bindings.h"
#include "predicate/predicate.h"
#include "util/problems.h"

namespace cairn::internal {

// Bounds on declarations, so that per-subject state stays bounded.
inline constexpr int kMaxBehaviors = 1000;
inline constexpr size_t kMaxBehaviorNameLength = 64;
inline constexpr int64_t kMaxWindowBuckets = 10000;
inline constexpr int32_t kDefaultDistinctLimit = 100;
inline constexpr int32_t kMaxDistinctLimit = 10000;
// ACTIVE_DAYS windows, in days: the days a subject's day record holds.
inline constexpr int32_t kMaxActiveDaysWindow = 63;

// How a behaviour keeps its state, which follows from its function and
// window.
enum class BehaviorShape : uint8_t {
  kCount,      // COUNT, all time: one count.
  kNumber,     // SUM, MIN, MAX, all time: one number and a count.
  kTime,       // FIRST_TIME, LAST_TIME: one time.
  kBuckets,    // COUNT, SUM, MIN, MAX over a window: time buckets.
  kDistinct,   // DISTINCT_COUNT: value hashes (with a window: last buckets).
  kDays,       // ACTIVE_DAYS, streaks: a record of local days.
  kHours,      // HOUR_OF_WEEK: a count per local hour of the week.
};

// One compiled behaviour.
struct BehaviorSpec {
  v1::Behavior def;
  std::string subject_type;  // "user" when the declaration leaves it empty.
  CompiledPredicate where;   // The matcher's condition.
  Value::Type type = Value::Type::kNull;
  BehaviorShape shape = BehaviorShape::kCount;
  v1::Behavior::Function function = v1::Behavior::FUNCTION_UNSPECIFIED;
  bool windowed = false;
  // Windowed kBuckets and kDistinct: the bucket length in seconds and the
  // number of buckets in the window. ACTIVE_DAYS with a window: the days.
  int64_t resolution_seconds = 0;
  int64_t window_buckets = 0;
  int32_t distinct_limit = 0;
  std::string time_zone_attribute;  // "time_zone" when left empty.
  absl::TimeZone default_zone;      // UTC when left empty.
};

// At most this many segments per engine.
inline constexpr int kMaxSegments = 1000;

// One compiled segment.
struct SegmentSpec {
  v1::Segment def;
  std::string subject_type;  // "user" when the declaration leaves it empty.
  CompiledPredicate condition;
};

// Every problem in `set`, each as "behaviors[i] (name): field: message", in
// declaration order. Empty means it compiles.
std::vector<std::string> ValidateBehaviorSet(const v1::BehaviorSet& set);

// A compiled BehaviorSet.
struct Declarations {
  std::vector<BehaviorSpec> behaviors;
  std::vector<SegmentSpec> segments;
};

// Compiles `set`. InvalidArgument listing every problem, one per line.
absl::StatusOr<Declarations> CompileBehaviorSet(const v1::BehaviorSet& set);

// The name of a behaviour function as written in declarations ("COUNT").
absl::string_view FunctionName(v1::Behavior::Function function);

// The window in short: "all time", "7d at 1h", "30d" (ACTIVE_DAYS).
std::string DescribeWindow(const BehaviorSpec& spec);

// The journeys' view of `specs`: name -> type and subject type.
BehaviorTypes TypesOf(const std::vector<BehaviorSpec>& specs);

// "" when `name` is a valid behaviour or segment name (`what`: "behaviour"
// or "segment"), else what is wrong with it.
std::string CheckDeclaredName(absl::string_view name, absl::string_view what);

// Compiles the segments of `set`, reading `behaviors` (the set's own,
// compiled), reporting every problem to *problems under "segments[i]
// (name)": names, subject types, conditions (type-checked; no event.* or
// entry.*; unknown behaviours and segments named), and loops of segments
// reading each other.
std::vector<SegmentSpec> CompileSegments(const v1::BehaviorSet& set,
                                         const BehaviorTypes& behaviors, ProblemList* problems);

// The journeys' view of `specs`: name -> kBool and subject type.
BehaviorTypes SegmentTypesOf(const std::vector<SegmentSpec>& specs);

}  // namespace cairn::internal

#endif  // CAIRN_BEHAVIOR_BEHAVIOR_SPEC_H_
