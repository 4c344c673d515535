// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Compiled predicates: a cairn.v1.Predicate checked for shape and types once,
// at compile time, and stored as a flat array of terms that evaluates without
// allocating.
//
// Run-time rules (docs/journeys.md): a comparison whose left or right path is
// absent is false, whatever the operator; so is one whose operand types turn
// out not to fit the operator (an undeclared attribute holding the wrong
// type). Numbers compare across int and double. A right-hand side of
// `now_minus` D is engine time minus D (Bindings::Now), a timestamp.
//
// Thread-safety: a CompiledPredicate is immutable after compilation and may
// be evaluated concurrently.

#ifndef CAIRN_PREDICATE_PREDICATE_H_
#define CAIRN_PREDICATE_PREDICATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "cairn/v1/journey.pb.h"
#include "cairn/value.h"
#include "util/problems.h"

namespace cairn::internal {

// Where a path looks.
enum class PathRoot : uint8_t { kProfile, kEvent, kEntry, kBehavior, kSegment };

// A parsed path such as "event.amount".
struct Path {
  PathRoot root = PathRoot::kProfile;
  std::string key;

  friend bool operator==(const Path& a, const Path& b) {
    return a.root == b.root && a.key == b.key;
  }
};

// "profile", "event", "entry", "behavior" or "segment".
absl::string_view PathRootName(PathRoot root);

// Parses "root.key". On failure returns nullopt and sets *error to a message
// naming the path and what is wrong with it.
std::optional<Path> ParsePath(absl::string_view text, std::string* error);

// Declared types, keyed by full path ("profile.vip_level").
using TypeDeclarations = absl::flat_hash_map<std::string, Value::Type>;

// The Value type of a declared ValueType; nullopt for UNSPECIFIED.
std::optional<Value::Type> TypeFromDeclaration(v1::ValueType type);

// The type of a built-in event field (event.name, event.time...), if `path`
// is one.
std::optional<Value::Type> BuiltinType(const Path& path);

// A behaviour as journeys see it: the type it reads as, and the subject
// type whose events it aggregates. Also a segment (always kBool) and the
// subject type it is for.
struct BehaviorType {
  Value::Type type = Value::Type::kNull;
  std::string subject_type;
  // An activity profile by hour of the week (HOUR_OF_WEEK), which
  // Delay.until_best_time learns from.
  bool hour_of_week = false;
};

// Behaviours by name.
using BehaviorTypes = absl::flat_hash_map<std::string, BehaviorType>;

// What a predicate may refer to where it appears.
struct PredicateScope {
  // False in triggers: the subject has not entered, so entry.* is empty.
  bool allow_entry = true;
  // Declared attribute types; may be null.
  const TypeDeclarations* declarations = nullptr;
  // False in behaviour matchers: a behaviour is not computed from others.
  bool allow_behavior = true;
  // The behaviours that may be read, and the subject type reading them
  // (empty: "user"). Null: behavior.* paths are accepted untyped, to be
  // checked against an engine's declarations when deployed there.
  const BehaviorTypes* behaviors = nullptr;
  absl::string_view subject_type;
  // As `behaviors`, for segment.* paths; allow_segment false where no
  // segment may be read (a behaviour's matcher).
  bool allow_segment = true;
  const BehaviorTypes* segments = nullptr;
};

// Checks a behavior.* path against `scope.behaviors` (when set): the
// behaviour exists and aggregates `scope.subject_type`'s events; or a
// segment.* path against `scope.segments`. Returns its type (kNull when
// unchecked or unknown); reports a problem to `field`.
Value::Type CheckBehaviorPath(const Path& path, const PredicateScope& context,
                              const FieldScope& field);

// Supplies the values a predicate reads. Implemented by the engine.
class Bindings {
 public:
  virtual ~Bindings() = default;
  // The value at root.key, or nullptr when absent. Must also answer the
  // built-in event fields (event.name...) for the event root. A value that
  // is computed rather than held (a built-in, a behaviour) may be written
  // to *scratch and `scratch` returned: a caller reading two values at once
  // passes two scratch values.
  virtual const Value* Find(PathRoot root, absl::string_view key, Value* scratch) const = 0;
  // Engine time, for `now_minus`; nullopt where there is none (then such a
  // comparison is false).
  virtual std::optional<absl::Time> Now() const { return std::nullopt; }
  // The earliest time after Now() at which the value at root.key can change
  // with no input (a sliding window's oldest bucket leaving it, a streak
  // breaking, a segment reading such values): InfiniteFuture for values
  // that only inputs change, which is all of them unless overridden.
  virtual absl::Time NextChange(PathRoot /*root*/, absl::string_view /*key*/) const {
    return absl::InfiniteFuture();
  }
  // As Find and NextChange, for a behavior.* or segment.* path that
  // CompiledPredicate::ResolveDeclarations resolved to `slot` (>= 0): its
  // index among the declarations these bindings read. Bindings that read
  // declarations by index answer from `slot` with no lookup of `key`; the
  // defaults read by name.
  virtual const Value* FindResolved(PathRoot root, absl::string_view key, int32_t /*slot*/,
                                    Value* scratch) const {
    return Find(root, key, scratch);
  }
  virtual absl::Time NextChangeResolved(PathRoot root, absl::string_view key,
                                        int32_t /*slot*/) const {
    return NextChange(root, key);
  }
  // Whether the value at a resolved path can only fall (or stay) as time
  // passes with no input, and is never absent: a count or the active days
  // in a sliding window, a current streak. CompiledPredicate::NextChange
  // then passes over a comparison that time can only keep as it is (GE or
  // GT while false, LT or LE while true). The default: not known to fall.
  virtual bool FallsWithTimeResolved(PathRoot /*root*/, absl::string_view /*key*/,
                                     int32_t /*slot*/) const {
    return false;
  }
};

// A type-checked predicate. A default-constructed one (no predicate given)
// always holds.
class CompiledPredicate {
 public:
  CompiledPredicate() = default;

  // Checks `proto` and compiles it. Every problem found is reported to
  // `scope` (fields relative to it); the result is only meaningful when no
  // problem was reported.
  static CompiledPredicate Compile(const v1::Predicate& proto,
                                   const PredicateScope& context,
                                   const FieldScope& scope);

  // True when there is no predicate (it always holds).
  bool always_true() const { return terms_.empty(); }

  // Evaluates against `bindings`.
  bool Evaluate(const Bindings& bindings) const;

  // Every path the predicate reads, in order of appearance (for tools).
  std::vector<Path> Paths() const;

  // Whether some comparison is against `now_minus`: its answer can change
  // as engine time passes, with nothing it reads changing.
  bool reads_now() const;

  // The earliest time after bindings.Now() at which Evaluate(bindings) can
  // answer differently with no input: the soonest change of a value it
  // reads (Bindings::NextChange), or the instant a `now_minus` comparison
  // flips (for `t LT now_minus D`, just after t + D), passing over a
  // comparison whose value only falls with time where falling keeps its
  // answer (Bindings::FallsWithTimeResolved). Never later than the
  // change; may be earlier (the answer then may not have changed).
  // InfiniteFuture when only inputs can change it, or without Now().
  absl::Time NextChange(const Bindings& bindings) const;

  // Resolves every behavior.* and segment.* path to `slot_of(path)`, its
  // index among the declarations the predicate will be evaluated against
  // (-1: read it by name), so that Evaluate and NextChange pass it to
  // Bindings::FindResolved and NextChangeResolved instead of having the
  // name looked up on every read. The caller re-resolves whenever those
  // declarations change: a slot is not checked against them.
  void ResolveDeclarations(absl::FunctionRef<int32_t(const Path&)> slot_of);

 private:
  enum class Kind : uint8_t { kCompare, kAll, kAny, kNot };
  struct Term {
    Kind kind = Kind::kCompare;
    v1::Operator op = v1::OPERATOR_UNSPECIFIED;
    Path left;
    bool right_is_path = false;
    Path right_path;
    // ResolveDeclarations' slots of `left` and `right_path`; -1: by name.
    int32_t left_slot = -1;
    int32_t right_slot = -1;
    Value right_value;
    // Set for `now_minus`: the right-hand side is Now() minus this.
    std::optional<absl::Duration> now_minus;
    // Children (kAll, kAny, kNot): indices into terms_, all smaller than the
    // term's own index (terms are stored children first).
    std::vector<int32_t> children;
  };

  int32_t CompileTerm(const v1::Predicate& proto, const PredicateScope& context,
                      const FieldScope& scope);
  bool EvaluateTerm(int32_t index, const Bindings& bindings) const;

  std::vector<Term> terms_;  // The root is the last term.
};

// The nesting depth of `proto` (a comparison or an empty list is 1; each
// all, any and not adds 1), or any value above `limit` once it exceeds it.
// Does not recurse.
int PredicateDepthUpTo(const v1::Predicate& proto, int limit);

// Applies `op` to two present values (EXISTS is not handled here). False
// when the types do not fit the operator.
bool CompareValues(v1::Operator op, const Value& left, const Value& right);

// Whether an attribute holding `before` (nullptr: absent) and `after` (null:
// absent) holds the same value: numbers are equal by value across int and
// double, everything else by type and value. What an attribute_change
// trigger calls no change.
bool SameAttributeValue(const Value* before, const Value& after);

}  // namespace cairn::internal

#endif  // CAIRN_PREDICATE_PREDICATE_H_
