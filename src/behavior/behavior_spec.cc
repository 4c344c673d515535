// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "behavior/behavior_spec.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compile/compiler_internal.h"
#include "timer/local_time.h"
#include "util/problems.h"
#include "util/proto_time.h"
#include "util/utf8.h"

namespace cairn::internal {
namespace {

using Function = v1::Behavior::Function;

bool IsWindowable(Function f) {
  return f == v1::Behavior::COUNT || f == v1::Behavior::SUM || f == v1::Behavior::MIN ||
         f == v1::Behavior::MAX || f == v1::Behavior::DISTINCT_COUNT ||
         f == v1::Behavior::ACTIVE_DAYS;
}

bool ReadsProperty(Function f) {
  return f == v1::Behavior::SUM || f == v1::Behavior::MIN || f == v1::Behavior::MAX ||
         f == v1::Behavior::DISTINCT_COUNT;
}

// Whether `f` reads local time in the subject's zone.
bool UsesZone(Function f) {
  return f == v1::Behavior::ACTIVE_DAYS || f == v1::Behavior::CURRENT_STREAK ||
         f == v1::Behavior::LONGEST_STREAK || f == v1::Behavior::HOUR_OF_WEEK;
}

Value::Type TypeOf(Function f) {
  switch (f) {
    case v1::Behavior::SUM:
    case v1::Behavior::MIN:
    case v1::Behavior::MAX:
      return Value::Type::kDouble;
    case v1::Behavior::FIRST_TIME:
    case v1::Behavior::LAST_TIME:
      return Value::Type::kTimestamp;
    default:
      return Value::Type::kInt;
  }
}

// The default resolution for a window of `last` (see BehaviorWindow).
absl::Duration DefaultResolution(absl::Duration last) {
  absl::Duration rest;
  const int64_t hours = absl::IDivDuration(last, absl::Hours(1), &rest);
  if (rest == absl::ZeroDuration() && hours <= kMaxWindowBuckets) return absl::Hours(1);
  const int64_t days = absl::IDivDuration(last, absl::Hours(24), &rest);
  if (rest == absl::ZeroDuration() && days <= kMaxWindowBuckets) return absl::Hours(24);
  return absl::Minutes(1);
}

// Checks the window and sets the spec's resolution and bucket count.
void CompileWindow(const v1::BehaviorWindow& w, BehaviorSpec* spec, const FieldScope& scope) {
  absl::StatusOr<absl::Duration> last = DurationFromProto(w.last());
  if (!last.ok()) {
    scope.AddAt("last", std::string(last.status().message()));
    return;
  }
  if (*last <= absl::ZeroDuration() || *last > MaxJourneyDuration()) {
    scope.AddAt("last", absl::StrCat("window is ", FormatDurationShort(*last),
                                     "; it must be positive and at most ",
                                     FormatDurationShort(MaxJourneyDuration())));
    return;
  }
  if (spec->function == v1::Behavior::ACTIVE_DAYS) {
    absl::Duration rest;
    const int64_t days = absl::IDivDuration(*last, absl::Hours(24), &rest);
    if (rest != absl::ZeroDuration() || days > kMaxActiveDaysWindow) {
      scope.AddAt("last", absl::StrCat("ACTIVE_DAYS counts local days: its window must be a "
                                       "whole number of days, at most ",
                                       kMaxActiveDaysWindow, ", not ",
                                       FormatDurationShort(*last)));
      return;
    }
    if (w.has_resolution()) {
      scope.AddAt("resolution", "ACTIVE_DAYS counts local days: leave resolution unset");
      return;
    }
    spec->window_buckets = days;
    return;
  }
  absl::Duration resolution;
  if (w.has_resolution()) {
    absl::StatusOr<absl::Duration> r = DurationFromProto(w.resolution());
    if (!r.ok()) {
      scope.AddAt("resolution", std::string(r.status().message()));
      return;
    }
    resolution = *r;
  } else {
    resolution = DefaultResolution(*last);
  }
  absl::Duration rest;
  if (resolution < absl::Minutes(1) ||
      absl::IDivDuration(resolution, absl::Seconds(1), &rest) <= 0 || rest != absl::ZeroDuration()) {
    scope.AddAt("resolution", absl::StrCat("resolution ", FormatDurationShort(resolution),
                                           " must be whole seconds, at least one minute"));
    return;
  }
  const int64_t buckets = absl::IDivDuration(*last, resolution, &rest);
  if (rest != absl::ZeroDuration()) {
    scope.AddAt("resolution", absl::StrCat("resolution ", FormatDurationShort(resolution),
                                           " does not divide the window ",
                                           FormatDurationShort(*last)));
    return;
  }
  if (buckets > kMaxWindowBuckets) {
    scope.AddAt("resolution",
                absl::StrCat("a window of ", FormatDurationShort(*last), " at ",
                             FormatDurationShort(resolution), " holds ", buckets,
                             " buckets, more than ", kMaxWindowBuckets, "; use a coarser one"));
    return;
  }
  spec->resolution_seconds = absl::ToInt64Seconds(resolution);
  spec->window_buckets = buckets;
}

void CompileFunction(const v1::Behavior& b, BehaviorSpec* spec, const FieldScope& scope) {
  const Function f = b.function();
  spec->function = f;
  spec->type = TypeOf(f);
  if (f == v1::Behavior::FUNCTION_UNSPECIFIED) {
    scope.AddAt("function",
                "function is not set; use COUNT, SUM, MIN, MAX, DISTINCT_COUNT, FIRST_TIME, "
                "LAST_TIME, ACTIVE_DAYS, CURRENT_STREAK, LONGEST_STREAK or HOUR_OF_WEEK");
    return;
  }
  if (ReadsProperty(f) && b.property().empty()) {
    scope.AddAt("property", absl::StrCat(FunctionName(f),
                                         " needs the event property it reads"));
  } else if (!ReadsProperty(f) && !b.property().empty()) {
    scope.AddAt("property", absl::StrCat(FunctionName(f), " reads no property; remove it"));
  }
  if (b.has_window()) {
    if (!IsWindowable(f)) {
      scope.AddAt("window", absl::StrCat(FunctionName(f),
                                         " takes no window (FIRST_TIME and LAST_TIME compare "
                                         "with now_minus; streaks are runs of days; "
                                         "HOUR_OF_WEEK halves old counts as it fills)"));
    } else {
      spec->windowed = true;
      CompileWindow(b.window(), spec, scope.Child("window"));
    }
  }
  if (f == v1::Behavior::DISTINCT_COUNT) {
    spec->distinct_limit = b.distinct_limit() == 0 ? kDefaultDistinctLimit : b.distinct_limit();
    if (b.distinct_limit() < 0 || b.distinct_limit() > kMaxDistinctLimit) {
      scope.AddAt("distinct_limit", absl::StrCat("distinct_limit must be in [0, ",
                                                 kMaxDistinctLimit, "]"));
    }
  } else if (b.distinct_limit() != 0) {
    scope.AddAt("distinct_limit", "only DISTINCT_COUNT takes a distinct_limit");
  }
  switch (f) {
    case v1::Behavior::COUNT:
    case v1::Behavior::SUM:
    case v1::Behavior::MIN:
    case v1::Behavior::MAX:
      spec->shape = spec->windowed ? BehaviorShape::kBuckets
                    : f == v1::Behavior::COUNT ? BehaviorShape::kCount
                                               : BehaviorShape::kNumber;
      break;
    case v1::Behavior::DISTINCT_COUNT:
      spec->shape = BehaviorShape::kDistinct;
      break;
    case v1::Behavior::FIRST_TIME:
    case v1::Behavior::LAST_TIME:
      spec->shape = BehaviorShape::kTime;
      break;
    case v1::Behavior::HOUR_OF_WEEK:
      spec->shape = BehaviorShape::kHours;
      break;
    default:
      spec->shape = BehaviorShape::kDays;
      break;
  }
}

void CompileZone(const v1::Behavior& b, BehaviorSpec* spec, const FieldScope& scope) {
  spec->time_zone_attribute =
      b.time_zone_attribute().empty() ? "time_zone" : b.time_zone_attribute();
  spec->default_zone = absl::UTCTimeZone();
  const bool uses_zone = UsesZone(b.function());
  if (!uses_zone && !b.time_zone_attribute().empty()) {
    scope.AddAt("time_zone_attribute",
                "only ACTIVE_DAYS, the streaks and HOUR_OF_WEEK read local time; remove it");
  }
  if (!b.default_time_zone().empty()) {
    if (!uses_zone) {
      scope.AddAt("default_time_zone",
                  "only ACTIVE_DAYS, the streaks and HOUR_OF_WEEK read local time; remove it");
    } else if (std::string e = LoadDeclaredZone(b.default_time_zone(), &spec->default_zone);
               !e.empty()) {
      scope.AddAt("default_time_zone", std::move(e));
    }
  }
}

void CompileMatcher(const v1::Behavior& b, BehaviorSpec* spec, const FieldScope& scope) {
  if (!b.has_event() || b.event().event().empty()) {
    scope.AddAt("event.event", "the event name is not set: say which events count");
    return;
  }
  if (b.event().same_key()) {
    scope.AddAt("event.same_key", "a behaviour belongs to no journey: same_key does not apply");
  }
  if (b.event().has_where()) {
    PredicateScope context;
    context.allow_entry = false;
    context.allow_behavior = false;
    spec->where = CompiledPredicate::Compile(b.event().where(), context,
                                             scope.Child("event.where"));
  }
}

BehaviorSpec CompileOne(const v1::Behavior& b, const FieldScope& scope) {
  BehaviorSpec spec;
  spec.def = b;
  CheckUtf8(b, scope);
  if (std::string e = CheckDeclaredName(b.name(), "behaviour"); !e.empty()) {
    scope.AddAt("name", std::move(e));
  }
  spec.subject_type = std::string(SubjectTypeOrDefault(b.subject_type()));
  if (!b.subject_type().empty()) {
    if (std::string e = CheckId(b.subject_type(), "subject type"); !e.empty()) {
      scope.AddAt("subject_type", std::move(e));
    }
  }
  CompileMatcher(b, &spec, scope);
  CompileFunction(b, &spec, scope);
  CompileZone(b, &spec, scope);
  return spec;
}

// Compiles every behaviour of `set`, reporting problems to *problems (one
// "node" per behaviour, named by its position and name). A behaviour's
// problems are collected on their own and named only when there are some:
// building every name up front (escaped, then formatted) was about a third
// of the cost of compiling a set, which, declared by an engine or read back
// by Restore, is nearly always valid.
std::vector<BehaviorSpec> CompileAll(const v1::BehaviorSet& set, ProblemList* problems) {
  std::vector<BehaviorSpec> specs;
  if (set.behaviors_size() > kMaxBehaviors) {
    problems->Add("", "behaviors", absl::StrCat(set.behaviors_size(), " behaviours, more than ",
                                                kMaxBehaviors, " an engine may hold"));
    return specs;
  }
  specs.reserve(static_cast<size_t>(set.behaviors_size()));
  // (Views of the names in `set`, which outlives this.)
  absl::flat_hash_set<absl::string_view> names;
  names.reserve(static_cast<size_t>(set.behaviors_size()));
  for (int i = 0; i < set.behaviors_size(); ++i) {
    const v1::Behavior& b = set.behaviors(i);
    ProblemList found("");
    const FieldScope scope(&found, "", "");
    specs.push_back(CompileOne(b, scope));
    if (!b.name().empty() && !names.insert(b.name()).second) {
      scope.AddAt("name", absl::StrCat("behaviour \"", b.name(), "\" is declared twice"));
    }
    if (found.empty()) continue;
    const std::string label = absl::StrCat("behaviors[", i, "] (", Escaped(b.name()), ")");
    for (JourneyProblem& p : std::move(found).Take()) {
      problems->Add(label, std::move(p.field), std::move(p.message));
    }
  }
  return specs;
}

std::vector<std::string> Render(std::vector<JourneyProblem> problems) {
  std::vector<std::string> out;
  for (const JourneyProblem& p : problems) {
    std::string line = p.node_id.empty() ? std::string("behaviour set") : p.node_id;
    if (!p.field.empty()) absl::StrAppend(&line, ", field ", p.field);
    absl::StrAppend(&line, ": ", p.message);
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace

std::string CheckDeclaredName(absl::string_view name, absl::string_view what) {
  if (name.empty()) return absl::StrCat(what, " name is empty");
  if (name.size() > kMaxBehaviorNameLength) {
    return absl::StrCat(what, " name is longer than ", kMaxBehaviorNameLength, " characters");
  }
  bool ok = name[0] >= 'a' && name[0] <= 'z';
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok) {
    return absl::StrCat(what, " name \"", Escaped(name),
                        "\" must start with a lower-case letter and hold only lower-case "
                        "letters, digits and '_'");
  }
  return "";
}

absl::string_view FunctionName(v1::Behavior::Function function) {
  switch (function) {
    case v1::Behavior::COUNT:
      return "COUNT";
    case v1::Behavior::SUM:
      return "SUM";
    case v1::Behavior::MIN:
      return "MIN";
    case v1::Behavior::MAX:
      return "MAX";
    case v1::Behavior::DISTINCT_COUNT:
      return "DISTINCT_COUNT";
    case v1::Behavior::FIRST_TIME:
      return "FIRST_TIME";
    case v1::Behavior::LAST_TIME:
      return "LAST_TIME";
    case v1::Behavior::ACTIVE_DAYS:
      return "ACTIVE_DAYS";
    case v1::Behavior::CURRENT_STREAK:
      return "CURRENT_STREAK";
    case v1::Behavior::LONGEST_STREAK:
      return "LONGEST_STREAK";
    case v1::Behavior::HOUR_OF_WEEK:
      return "HOUR_OF_WEEK";
    default:
      return "FUNCTION_UNSPECIFIED";
  }
}

std::vector<std::string> ValidateBehaviorSet(const v1::BehaviorSet& set) {
  ProblemList problems("");
  const std::vector<BehaviorSpec> behaviors = CompileAll(set, &problems);
  CompileSegments(set, TypesOf(behaviors), &problems);
  return Render(std::move(problems).Take());
}

absl::StatusOr<Declarations> CompileBehaviorSet(const v1::BehaviorSet& set) {
  ProblemList problems("");
  Declarations out;
  out.behaviors = CompileAll(set, &problems);
  out.segments = CompileSegments(set, TypesOf(out.behaviors), &problems);
  if (!problems.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("behaviours: ", absl::StrJoin(Render(std::move(problems).Take()), "\n")));
  }
  return out;
}

std::string DescribeWindow(const BehaviorSpec& spec) {
  if (!spec.windowed) return "all time";
  if (spec.function == v1::Behavior::ACTIVE_DAYS) return absl::StrCat(spec.window_buckets, "d");
  const absl::Duration resolution = absl::Seconds(spec.resolution_seconds);
  return absl::StrCat(FormatDurationShort(resolution * spec.window_buckets), " at ",
                      FormatDurationShort(resolution));
}

BehaviorTypes TypesOf(const std::vector<BehaviorSpec>& specs) {
  BehaviorTypes types;
  for (const BehaviorSpec& s : specs) {
    types.emplace(s.def.name(), BehaviorType{s.type, s.subject_type,
                                             s.function == v1::Behavior::HOUR_OF_WEEK});
  }
  return types;
}

}  // namespace cairn::internal
