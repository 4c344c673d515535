// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "predicate/predicate.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cairn/journey.h"
#include "predicate/event_bindings.h"
#include "util/proto_time.h"

namespace cairn::internal {
namespace {

using Type = Value::Type;

bool IsOrdering(v1::Operator op) {
  return op == v1::LT || op == v1::LE || op == v1::GT || op == v1::GE;
}

bool IsNumber(Type t) { return t == Type::kInt || t == Type::kDouble; }

// Which operand types an operator accepts on each side, and how to say so.
bool IsOrderable(Type t) {
  return t == Type::kString || IsNumber(t) || t == Type::kTimestamp;
}

bool LeftAccepts(v1::Operator op, Type t) {
  if (IsOrdering(op)) return IsOrderable(t);
  switch (op) {
    case v1::IN:
    case v1::PREFIX:
      return t == Type::kString;
    case v1::CONTAINS:
      return t == Type::kString || t == Type::kStringList;
    default:
      return true;
  }
}

bool RightAccepts(v1::Operator op, Type t) {
  if (IsOrdering(op)) return IsOrderable(t);
  switch (op) {
    case v1::IN:
      return t == Type::kStringList;
    case v1::CONTAINS:
    case v1::PREFIX:
      return t == Type::kString;
    default:
      return true;
  }
}

absl::string_view LeftExpectation(v1::Operator op) {
  switch (op) {
    case v1::IN:
    case v1::PREFIX:
      return "a string";
    case v1::CONTAINS:
      return "a string or a string_list";
    default:
      return "a string, a number or a timestamp";
  }
}

absl::string_view RightExpectation(v1::Operator op) {
  switch (op) {
    case v1::IN:
      return "a string_list";
    case v1::CONTAINS:
    case v1::PREFIX:
      return "a string";
    default:
      return "a string, a number or a timestamp";
  }
}

// EQ, NE and the orderings need both sides of one type (numbers mix).
bool PairCompatible(v1::Operator op, Type l, Type r) {
  if (op == v1::EQ || op == v1::NE || IsOrdering(op)) {
    return l == r || (IsNumber(l) && IsNumber(r));
  }
  return true;
}

// The declarations a behavior.* or segment.* path is checked against
// (null when unchecked or another root).
const BehaviorTypes* DeclaredFor(const Path& path, const PredicateScope& context) {
  if (path.root == PathRoot::kBehavior) return context.behaviors;
  if (path.root == PathRoot::kSegment) return context.segments;
  return nullptr;
}

// The behaviour or segment `path` names, if it is one the scope may read.
const BehaviorType* FindBehavior(const Path& path, const PredicateScope& context) {
  const BehaviorTypes* declared = DeclaredFor(path, context);
  if (declared == nullptr) return nullptr;
  auto it = declared->find(path.key);
  if (it == declared->end()) return nullptr;
  return SubjectTypeOrDefault(context.subject_type) ==
                 SubjectTypeOrDefault(it->second.subject_type)
             ? &it->second
             : nullptr;
}

// The statically known type of a path; kNull when it is not known.
Type KnownType(const Path& path, absl::string_view text,
               const PredicateScope& context) {
  if (std::optional<Type> t = BuiltinType(path)) return *t;
  if (path.root == PathRoot::kSegment) return Type::kBool;
  if (path.root == PathRoot::kBehavior) {
    const BehaviorType* b = FindBehavior(path, context);
    return b != nullptr ? b->type : Type::kNull;
  }
  if (context.declarations != nullptr) {
    auto it = context.declarations->find(text);
    if (it != context.declarations->end()) return it->second;
  }
  return Type::kNull;
}

// Parses and scope-checks a path, reporting problems at `scope`.
std::optional<Path> CheckPath(absl::string_view text,
                              const PredicateScope& context,
                              const FieldScope& scope) {
  std::string error;
  std::optional<Path> path = ParsePath(text, &error);
  if (!path) {
    scope.Add(std::move(error));
    return std::nullopt;
  }
  if (path->root == PathRoot::kEntry && !context.allow_entry) {
    scope.Add(absl::StrCat("path \"", text,
                           "\" reads entry.*, which is empty in a trigger: "
                           "the subject has not entered yet"));
    return std::nullopt;
  }
  if (path->root == PathRoot::kBehavior) {
    if (!context.allow_behavior) {
      scope.Add(absl::StrCat("path \"", text,
                             "\" reads behavior.*: a behaviour's matcher may read event.* "
                             "and profile.* only"));
      return std::nullopt;
    }
    CheckBehaviorPath(*path, context, scope);
  }
  if (path->root == PathRoot::kSegment) {
    if (!context.allow_segment) {
      scope.Add(absl::StrCat("path \"", text,
                             "\" reads segment.*: a behaviour's matcher may read event.* "
                             "and profile.* only"));
      return std::nullopt;
    }
    CheckBehaviorPath(*path, context, scope);
  }
  return path;
}

std::string Describe(absl::string_view path_text, Type t) {
  return absl::StrCat(path_text, " (", TypeName(t), ")");
}

}  // namespace

absl::string_view PathRootName(PathRoot root) {
  switch (root) {
    case PathRoot::kProfile:
      return "profile";
    case PathRoot::kEvent:
      return "event";
    case PathRoot::kEntry:
      return "entry";
    case PathRoot::kBehavior:
      return "behavior";
    case PathRoot::kSegment:
      return "segment";
  }
  return "?";
}

std::optional<Path> ParsePath(absl::string_view text, std::string* error) {
  if (text.empty()) {
    *error =
        "path is empty; write e.g. profile.tier, event.amount, entry.order_id, "
        "behavior.purchases_7d or segment.lapsed_whales";
    return std::nullopt;
  }
  const size_t dot = text.find('.');
  const absl::string_view root =
      dot == absl::string_view::npos ? text : text.substr(0, dot);
  Path path;
  if (root == "profile") {
    path.root = PathRoot::kProfile;
  } else if (root == "event") {
    path.root = PathRoot::kEvent;
  } else if (root == "entry") {
    path.root = PathRoot::kEntry;
  } else if (root == "behavior") {
    path.root = PathRoot::kBehavior;
  } else if (root == "segment") {
    path.root = PathRoot::kSegment;
  } else {
    *error = absl::StrCat("path \"", text, "\" has unknown root \"", root,
                          "\"; use profile., event., entry., behavior. or segment.");
    return std::nullopt;
  }
  if (dot == absl::string_view::npos || dot + 1 == text.size()) {
    *error = absl::StrCat("path \"", text, "\" names no attribute after \"",
                          root, ".\"");
    return std::nullopt;
  }
  path.key = std::string(text.substr(dot + 1));
  return path;
}

Value::Type CheckBehaviorPath(const Path& path, const PredicateScope& context,
                              const FieldScope& field) {
  const BehaviorTypes* declared = DeclaredFor(path, context);
  if (declared == nullptr) return Type::kNull;
  if (const BehaviorType* b = FindBehavior(path, context)) return b->type;
  const bool segment = path.root == PathRoot::kSegment;
  auto it = declared->find(path.key);
  if (it != declared->end()) {
    field.Add(absl::StrCat(segment ? "segment \"" : "behaviour \"", path.key,
                           segment ? "\" is for subject type \""
                                   : "\" aggregates the events of subject type \"",
                           SubjectTypeOrDefault(it->second.subject_type), "\", not \"",
                           SubjectTypeOrDefault(context.subject_type), "\""));
  } else {
    // Named in order, so the message is the same on every run.
    std::vector<absl::string_view> known;
    for (const auto& [name, type] : *declared) known.push_back(name);
    std::sort(known.begin(), known.end());
    field.Add(absl::StrCat(segment ? "unknown segment \"" : "unknown behaviour \"", path.key,
                           "\"; ",
                           known.empty() ? std::string("the engine declares none")
                                         : absl::StrCat("declared: ", absl::StrJoin(known, ", "))));
  }
  return Type::kNull;
}

std::optional<Value::Type> BuiltinType(const Path& path) {
  if (path.root != PathRoot::kEvent) return std::nullopt;
  if (path.key == "name" || path.key == "id" || path.key == "subject_id" ||
      path.key == "subject_type") {
    return Type::kString;
  }
  if (path.key == "time") return Type::kTimestamp;
  return std::nullopt;
}

int PredicateDepthUpTo(const v1::Predicate& proto, int limit) {
  // An explicit stack, not recursion: this runs before anything else looks
  // at the predicate, on input that may nest without bound when a program
  // builds it. Stops below `limit`, so it costs at most the terms within it.
  std::vector<std::pair<const v1::Predicate*, int>> pending = {{&proto, 1}};
  int deepest = 0;
  while (!pending.empty()) {
    const auto [p, depth] = pending.back();
    pending.pop_back();
    deepest = std::max(deepest, depth);
    if (depth > limit) return depth;
    switch (p->kind_case()) {
      case v1::Predicate::kAll:
        for (const v1::Predicate& c : p->all().predicates()) pending.emplace_back(&c, depth + 1);
        break;
      case v1::Predicate::kAny:
        for (const v1::Predicate& c : p->any().predicates()) pending.emplace_back(&c, depth + 1);
        break;
      case v1::Predicate::kNot:
        pending.emplace_back(&p->not_(), depth + 1);
        break;
      case v1::Predicate::kCompare:
      case v1::Predicate::KIND_NOT_SET:
        break;
    }
  }
  return deepest;
}

CompiledPredicate CompiledPredicate::Compile(const v1::Predicate& proto,
                                             const PredicateScope& context,
                                             const FieldScope& scope) {
  CompiledPredicate compiled;
  // Checked first: compiling (and evaluating) recurses once per level, and a
  // deployed journey must stay decodable where it is stored in binary (see
  // kMaxPredicateDepth).
  if (PredicateDepthUpTo(proto, kMaxPredicateDepth) > kMaxPredicateDepth) {
    scope.Add(absl::StrCat("predicate nests more than ", kMaxPredicateDepth,
                           " levels deep (each all, any and not is a level); flatten it"));
    return compiled;
  }
  compiled.CompileTerm(proto, context, scope);
  return compiled;
}

int32_t CompiledPredicate::CompileTerm(const v1::Predicate& proto,
                                       const PredicateScope& context,
                                       const FieldScope& scope) {
  Term term;
  switch (proto.kind_case()) {
    case v1::Predicate::kAll:
    case v1::Predicate::kAny: {
      const bool all = proto.kind_case() == v1::Predicate::kAll;
      term.kind = all ? Kind::kAll : Kind::kAny;
      const FieldScope list = scope.Child(all ? "all" : "any");
      const auto& items = all ? proto.all().predicates() : proto.any().predicates();
      for (int i = 0; i < items.size(); ++i) {
        term.children.push_back(
            CompileTerm(items[i], context, list.Element("predicates", i)));
      }
      break;
    }
    case v1::Predicate::kNot:
      term.kind = Kind::kNot;
      term.children.push_back(
          CompileTerm(proto.not_(), context, scope.Child("not")));
      break;
    case v1::Predicate::kCompare: {
      const FieldScope cmp = scope.Child("compare");
      const v1::Comparison& c = proto.compare();
      term.kind = Kind::kCompare;
      term.op = c.op();
      std::optional<Path> left = CheckPath(c.path(), context, cmp.Child("path"));
      if (left) term.left = *left;
      if (c.op() == v1::OPERATOR_UNSPECIFIED) {
        cmp.AddAt("op",
                  "operator is not set; use EQ, NE, LT, LE, GT, GE, IN, "
                  "CONTAINS, PREFIX or EXISTS");
        break;
      }
      const std::string op_name = v1::Operator_Name(c.op());
      if (c.op() == v1::EXISTS) {
        if (c.right_case() != v1::Comparison::RIGHT_NOT_SET) {
          cmp.Add("EXISTS takes no right-hand side; remove value / other_path");
        }
        break;
      }
      // Static types; kNull where unknown (undeclared or invalid).
      Type left_type = left ? KnownType(*left, c.path(), context) : Type::kNull;
      if (left_type != Type::kNull && !LeftAccepts(c.op(), left_type)) {
        cmp.AddAt("path", absl::StrCat("operator ", op_name,
                                       " does not apply to ",
                                       Describe(c.path(), left_type),
                                       "; it needs ", LeftExpectation(c.op())));
        left_type = Type::kNull;  // Reported; do not pile on a pair error.
      }
      Type right_type = Type::kNull;
      std::string right_desc;
      switch (c.right_case()) {
        case v1::Comparison::kValue: {
          absl::StatusOr<Value> v = Value::FromProto(c.value());
          if (!v.ok()) {
            cmp.AddAt("value", std::string(v.status().message()));
            break;
          }
          term.right_value = *std::move(v);
          right_type = term.right_value.type();
          right_desc = absl::StrCat(TypeName(right_type), " ",
                                    term.right_value.DebugString());
          break;
        }
        case v1::Comparison::kOtherPath: {
          std::optional<Path> right =
              CheckPath(c.other_path(), context, cmp.Child("other_path"));
          if (!right) break;
          term.right_is_path = true;
          term.right_path = *right;
          right_type = KnownType(*right, c.other_path(), context);
          right_desc = Describe(c.other_path(), right_type);
          break;
        }
        case v1::Comparison::kNowMinus: {
          absl::StatusOr<absl::Duration> d = DurationFromProto(c.now_minus());
          if (!d.ok()) {
            cmp.AddAt("now_minus", std::string(d.status().message()));
            break;
          }
          if (absl::AbsDuration(*d) > MaxJourneyDuration()) {
            cmp.AddAt("now_minus", absl::StrCat("now_minus ", FormatDurationShort(*d),
                                                " is further than ",
                                                FormatDurationShort(MaxJourneyDuration()),
                                                " from now, the most a journey may reach"));
            break;
          }
          term.now_minus = *d;
          right_type = Type::kTimestamp;
          right_desc = absl::StrCat("now_minus ", FormatDurationShort(*d), " (timestamp)");
          break;
        }
        case v1::Comparison::RIGHT_NOT_SET:
          cmp.Add(absl::StrCat("operator ", op_name,
                               " needs a right-hand side: set value, other_path "
                               "or now_minus"));
          break;
      }
      if (right_type == Type::kNull) break;
      const absl::string_view right_field =
          c.right_case() == v1::Comparison::kValue       ? "value"
          : c.right_case() == v1::Comparison::kNowMinus ? "now_minus"
                                                        : "other_path";
      if (!RightAccepts(c.op(), right_type)) {
        cmp.AddAt(right_field,
                  absl::StrCat("operator ", op_name, " needs ",
                               RightExpectation(c.op()),
                               " on the right, not ", right_desc));
      } else if (left_type != Type::kNull &&
                 !PairCompatible(c.op(), left_type, right_type)) {
        cmp.AddAt(right_field,
                  absl::StrCat("operator ", op_name, " compares ",
                               Describe(c.path(), left_type), " with ",
                               right_desc, ": incompatible types"));
      }
      break;
    }
    case v1::Predicate::KIND_NOT_SET:
      scope.Add("predicate is empty: set compare, all, any or not");
      break;
  }
  terms_.push_back(std::move(term));
  return static_cast<int32_t>(terms_.size() - 1);
}

namespace {

// The value at `path` (resolved to `slot`, or -1) from `bindings`.
const Value* Read(const Path& path, int32_t slot, const Bindings& bindings, Value* scratch) {
  return slot >= 0 ? bindings.FindResolved(path.root, path.key, slot, scratch)
                   : bindings.Find(path.root, path.key, scratch);
}

absl::Time NextChangeOf(const Path& path, int32_t slot, const Bindings& bindings) {
  return slot >= 0 ? bindings.NextChangeResolved(path.root, path.key, slot)
                   : bindings.NextChange(path.root, path.key);
}

}  // namespace

bool CompiledPredicate::Evaluate(const Bindings& bindings) const {
  if (terms_.empty()) return true;
  return EvaluateTerm(static_cast<int32_t>(terms_.size() - 1), bindings);
}

bool CompiledPredicate::EvaluateTerm(int32_t index,
                                     const Bindings& bindings) const {
  const Term& term = terms_[index];
  switch (term.kind) {
    case Kind::kAll:
      for (int32_t child : term.children) {
        if (!EvaluateTerm(child, bindings)) return false;
      }
      return true;
    case Kind::kAny:
      for (int32_t child : term.children) {
        if (EvaluateTerm(child, bindings)) return true;
      }
      return false;
    case Kind::kNot:
      return !EvaluateTerm(term.children[0], bindings);
    case Kind::kCompare: {
      Value left_scratch;
      const Value* left = Read(term.left, term.left_slot, bindings, &left_scratch);
      if (left == nullptr || left->is_null()) return false;
      if (term.op == v1::EXISTS) return true;
      const Value* right = &term.right_value;
      Value right_scratch;
      if (term.right_is_path) {
        right = Read(term.right_path, term.right_slot, bindings, &right_scratch);
        if (right == nullptr) return false;
      } else if (term.now_minus) {
        const std::optional<absl::Time> now = bindings.Now();
        if (!now) return false;
        right_scratch = Value::Timestamp(*now - *term.now_minus);
        right = &right_scratch;
      }
      if (right->is_null()) return false;
      return CompareValues(term.op, *left, *right);
    }
  }
  return false;
}

bool CompiledPredicate::reads_now() const {
  for (const Term& term : terms_) {
    if (term.now_minus) return true;
  }
  return false;
}

namespace {

// When `left OP (now - d)` next changes its answer after `now`, for a
// timestamp `left`: the comparison turns at now = left + d. LE and GT
// answer differently from then on; LT and GE from just after (the
// smallest step an input time or a timer takes, a nanosecond); EQ and NE
// at both.
absl::Time NowMinusTurn(v1::Operator op, absl::Time left, absl::Duration d, absl::Time now) {
  const absl::Time at = left + d;
  const absl::Time after = at + absl::Nanoseconds(1);
  switch (op) {
    case v1::LE:
    case v1::GT:
      return at > now ? at : absl::InfiniteFuture();
    case v1::LT:
    case v1::GE:
      return after > now ? after : absl::InfiniteFuture();
    case v1::EQ:
    case v1::NE:
      return at > now ? at : (after > now ? after : absl::InfiniteFuture());
    default:
      return absl::InfiniteFuture();
  }
}

}  // namespace

absl::Time CompiledPredicate::NextChange(const Bindings& bindings) const {
  const std::optional<absl::Time> now = bindings.Now();
  if (!now) return absl::InfiniteFuture();
  absl::Time next = absl::InfiniteFuture();
  for (size_t i = 0; i < terms_.size(); ++i) {
    const Term& term = terms_[i];
    if (term.kind != Kind::kCompare) continue;
    if (term.left_slot >= 0 && !term.right_is_path && !term.now_minus &&
        (term.op == v1::GE || term.op == v1::GT || term.op == v1::LT || term.op == v1::LE) &&
        bindings.FallsWithTimeResolved(term.left.root, term.left.key, term.left_slot)) {
      // A value that only falls keeps "at least" false and "below" true:
      // time alone cannot change this comparison. (A 7-day count of 1
      // against GE 2 needs no re-check when its bucket leaves the window.)
      const bool at_least = term.op == v1::GE || term.op == v1::GT;
      if (EvaluateTerm(static_cast<int32_t>(i), bindings) != at_least) continue;
    }
    next = std::min(next, NextChangeOf(term.left, term.left_slot, bindings));
    if (term.right_is_path) {
      next = std::min(next, NextChangeOf(term.right_path, term.right_slot, bindings));
    }
    if (!term.now_minus) continue;
    Value scratch;
    const Value* left = Read(term.left, term.left_slot, bindings, &scratch);
    if (left == nullptr || left->type() != Value::Type::kTimestamp) continue;
    next = std::min(next, NowMinusTurn(term.op, left->timestamp_value(), *term.now_minus, *now));
  }
  return next;
}

void CompiledPredicate::ResolveDeclarations(absl::FunctionRef<int32_t(const Path&)> slot_of) {
  const auto resolve = [&](const Path& path) {
    return path.root == PathRoot::kBehavior || path.root == PathRoot::kSegment ? slot_of(path)
                                                                                : -1;
  };
  for (Term& term : terms_) {
    if (term.kind != Kind::kCompare) continue;
    term.left_slot = resolve(term.left);
    term.right_slot = term.right_is_path ? resolve(term.right_path) : -1;
  }
}

std::vector<Path> CompiledPredicate::Paths() const {
  std::vector<Path> paths;
  for (const Term& term : terms_) {
    if (term.kind != Kind::kCompare) continue;
    paths.push_back(term.left);
    if (term.right_is_path) paths.push_back(term.right_path);
  }
  return paths;
}

namespace {

// -1, 0, 1 for ordered comparison of same-kind values; nullopt if unordered.
template <typename T>
int Order(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

std::optional<int> Compare3(const Value& l, const Value& r) {
  if (l.is_number() && r.is_number()) {
    if (l.type() == Type::kInt && r.type() == Type::kInt) {
      return Order(l.int_value(), r.int_value());
    }
    const double a = l.AsDouble();
    const double b = r.AsDouble();
    if (a != a || b != b) return std::nullopt;  // NaN is unordered.
    return Order(a, b);
  }
  if (l.type() != r.type()) return std::nullopt;
  switch (l.type()) {
    case Type::kString:
      return Order(l.string_value(), r.string_value());
    case Type::kTimestamp:
      return Order(l.timestamp_value(), r.timestamp_value());
    case Type::kBool:
      return Order(l.bool_value(), r.bool_value());
    case Type::kStringList:
      return Order(l.string_list_value(), r.string_list_value());
    default:
      return std::nullopt;
  }
}

}  // namespace

bool CompareValues(v1::Operator op, const Value& left, const Value& right) {
  switch (op) {
    case v1::EQ:
    case v1::NE: {
      std::optional<int> c = Compare3(left, right);
      if (!c) return false;  // Mismatched types: neither equal nor unequal.
      return op == v1::EQ ? *c == 0 : *c != 0;
    }
    case v1::LT:
    case v1::LE:
    case v1::GT:
    case v1::GE: {
      if (!LeftAccepts(op, left.type())) return false;
      std::optional<int> c = Compare3(left, right);
      if (!c) return false;
      if (op == v1::LT) return *c < 0;
      if (op == v1::LE) return *c <= 0;
      if (op == v1::GT) return *c > 0;
      return *c >= 0;
    }
    case v1::IN:
      if (left.type() != Type::kString || right.type() != Type::kStringList) {
        return false;
      }
      for (const std::string& s : right.string_list_value()) {
        if (s == left.string_value()) return true;
      }
      return false;
    case v1::CONTAINS:
      if (right.type() != Type::kString) return false;
      if (left.type() == Type::kString) {
        return absl::StrContains(left.string_value(), right.string_value());
      }
      if (left.type() == Type::kStringList) {
        for (const std::string& s : left.string_list_value()) {
          if (s == right.string_value()) return true;
        }
      }
      return false;
    case v1::PREFIX:
      return left.type() == Type::kString && right.type() == Type::kString &&
             absl::StartsWith(left.string_value(), right.string_value());
    default:
      return false;
  }
}

std::optional<Value::Type> TypeFromDeclaration(v1::ValueType t) {
  switch (t) {
    case v1::VALUE_TYPE_STRING:
      return Type::kString;
    case v1::VALUE_TYPE_INT:
      return Type::kInt;
    case v1::VALUE_TYPE_DOUBLE:
      return Type::kDouble;
    case v1::VALUE_TYPE_BOOL:
      return Type::kBool;
    case v1::VALUE_TYPE_TIMESTAMP:
      return Type::kTimestamp;
    case v1::VALUE_TYPE_STRING_LIST:
      return Type::kStringList;
    default:
      return std::nullopt;
  }
}


bool SameAttributeValue(const Value* before, const Value& after) {
  if (before == nullptr || before->is_null()) return after.is_null();
  if (before->is_number() && after.is_number()) {
    // NaN is unequal to itself, but writing NaN over NaN changes nothing.
    if (std::isnan(before->AsDouble()) || std::isnan(after.AsDouble())) {
      return std::isnan(before->AsDouble()) && std::isnan(after.AsDouble());
    }
    return CompareValues(v1::EQ, *before, after);
  }
  return *before == after;
}

}  // namespace cairn::internal
