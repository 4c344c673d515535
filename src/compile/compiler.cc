// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The journey compiler. One pass over the definition both checks it and
// builds the JourneyGraph; Compile() hands the graph out only when the pass
// found no problem, so nothing unvalidated ever runs.
//
// This file runs the pass in order and holds the journey-level checks
// (strings, ids, declarations, settings) and the public API; the nodes are
// compiled in compiler_nodes.cc and the graph-wide checks made in
// compiler_graph.cc (see compiler_internal.h).

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/journey.h"
#include "cairn/v1/journey.pb.h"
#include "compile/compiler_internal.h"
#include "compile/journey_graph.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "predicate/predicate.h"
#include "timer/local_time.h"
#include "util/problems.h"
#include "util/proto_time.h"
#include "util/utf8.h"

namespace cairn {
namespace internal {
namespace {

constexpr size_t kMaxIdLength = 128;

// Whether every string in `message`, its nested messages' included, is
// valid UTF-8. Reads the strings in place and names no field, so that the
// valid messages CheckUtf8 nearly always sees cost no allocation: it
// listed each message's set fields into a new vector, copied each string
// and built a scope for each nested message. (Behaviour sets are checked
// on every declaration and every Restore.)
bool AllUtf8(const google::protobuf::Message& message) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::string scratch;  // Only for a string GetStringReference cannot refer to.
  for (int f = 0; f < descriptor->field_count(); ++f) {
    const FieldDescriptor* field = descriptor->field(f);
    const FieldDescriptor::CppType type = field->cpp_type();
    if (type != FieldDescriptor::CPPTYPE_STRING && type != FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(message, field);
      for (int i = 0; i < n; ++i) {
        const bool valid =
            type == FieldDescriptor::CPPTYPE_STRING
                ? IsValidUtf8(reflection->GetRepeatedStringReference(message, field, i, &scratch))
                : AllUtf8(reflection->GetRepeatedMessage(message, field, i));
        if (!valid) return false;
      }
    } else if (reflection->HasField(message, field)) {
      const bool valid = type == FieldDescriptor::CPPTYPE_STRING
                             ? IsValidUtf8(reflection->GetStringReference(message, field, &scratch))
                             : AllUtf8(reflection->GetMessage(message, field));
      if (!valid) return false;
    }
  }
  return true;
}

}  // namespace

void CheckUtf8(const google::protobuf::Message& message, const FieldScope& scope) {
  if (AllUtf8(message)) return;
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      const int n = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
      for (int i = 0; i < n; ++i) {
        const std::string value = field->is_repeated()
                                      ? reflection->GetRepeatedString(message, field, i)
                                      : reflection->GetString(message, field);
        if (!IsValidUtf8(value)) {
          const FieldScope at = field->is_repeated() ? scope.Element(field->name(), i)
                                                     : scope.Child(field->name());
          at.Add("not valid UTF-8; strings must be UTF-8 text");
        }
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
          CheckUtf8(reflection->GetRepeatedMessage(message, field, i),
                    scope.Element(field->name(), i));
        }
      } else {
        CheckUtf8(reflection->GetMessage(message, field), scope.Child(field->name()));
      }
    }
  }
}

std::string CheckId(absl::string_view id, absl::string_view what) {
  if (id.empty()) return absl::StrCat(what, " is empty");
  if (id.size() > kMaxIdLength) {
    return absl::StrCat(what, " \"", internal::Escaped(id.substr(0, 32)), "...\" is longer than ",
                        kMaxIdLength, " characters");
  }
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) {
      // The id is the journey author's, or a deploy record's: escaped, it
      // cannot forge a line of the log this message ends up in.
      return absl::StrCat(what, " \"", internal::Escaped(id),
                          "\" may only contain letters, digits, '_', '-' and "
                          "'.'");
    }
  }
  return "";
}

void JourneyCompiler::Run() {
  const v1::Journey& j = graph_->definition;
  const FieldScope top(&problems_, "", "");
  if (j.nodes_size() > kMaxJourneyNodes) {
    // Nothing else is checked: an enrollment could not hold its place.
    top.AddAt("nodes", absl::StrCat("a journey may have at most ", kMaxJourneyNodes,
                                    " nodes; this one has ", j.nodes_size()));
    return;
  }
  CheckStrings();
  if (std::string e = CheckId(j.id(), "journey id"); !e.empty()) {
    top.AddAt("id", e);
  }
  if (j.version() < 1) {
    top.AddAt("version", absl::StrCat("version is ", j.version(),
                                      "; versions start at 1"));
  }
  CheckDeclarations(top.Child("settings"));
  CheckSettings(top.Child("settings"));
  IndexNodes();
  for (int i = 0; i < j.nodes_size(); ++i) CompileNode(i);
  graph_->report_goal.assign(graph_->nodes.size(), -1);
  for (size_t n = 0; n < graph_->nodes.size(); ++n) {
    if (graph_->nodes[n].kind == NodeKind::kGoal) graph_->report_goal[n] = graph_->goal_nodes++;
  }
  ResolveEdges();
  CheckMigration(top.Child("migration"));
  CheckGraph();
  CheckSplitRules();
  if (graph_->entry_limits.per_occurrence > 0 && graph_->schedule_trigger < 0) {
    top.Child("settings").Child("entry_limits").AddAt(
        "per_occurrence", "per_occurrence counts entries per run of a schedule trigger, and "
                          "this journey has none; use per_day or total");
  }
  InternNames();
  CollectReadKeys();
}

void JourneyCompiler::CheckStrings() {
  const v1::Journey& j = graph_->definition;
  const FieldScope top(&problems_, "", "");
  for (const char* name : {"id", "name", "description"}) {
    const google::protobuf::FieldDescriptor* field = j.GetDescriptor()->FindFieldByName(name);
    if (!IsValidUtf8(j.GetReflection()->GetString(j, field))) {
      top.AddAt(name, "not valid UTF-8; strings must be UTF-8 text");
    }
  }
  CheckUtf8(j.settings(), top.Child("settings"));
  CheckUtf8(j.migration(), top.Child("migration"));
  for (int i = 0; i < j.nodes_size(); ++i) {
    const v1::Node& node = j.nodes(i);
    if (IsValidUtf8(node.id())) {
      CheckUtf8(node, FieldScope(&problems_, node.id(), ""));
    } else {
      CheckUtf8(node, top.Element("nodes", i));
    }
  }
}

void JourneyCompiler::CheckDeclarations(const FieldScope& settings) {
  const auto& decls = graph_->definition.settings().attributes();
  for (int i = 0; i < decls.size(); ++i) {
    const FieldScope at = settings.Element("attributes", i);
    const v1::AttributeDeclaration& d = decls[i];
    std::string error;
    std::optional<Path> path = ParsePath(d.path(), &error);
    if (!path) {
      at.AddAt("path", error);
      continue;
    }
    if (BuiltinType(*path)) {
      at.AddAt("path", absl::StrCat("\"", d.path(),
                                    "\" is a built-in event field; its "
                                    "type cannot be declared"));
      continue;
    }
    if (path->root == PathRoot::kBehavior) {
      at.AddAt("path", absl::StrCat("\"", d.path(),
                                    "\" is a behaviour; its type comes from its declaration"));
      continue;
    }
    std::optional<Value::Type> type = TypeFromDeclaration(d.type());
    if (!type) {
      at.AddAt("type", absl::StrCat("type of \"", d.path(),
                                    "\" is not set; use VALUE_TYPE_STRING, "
                                    "_INT, _DOUBLE, _BOOL, _TIMESTAMP or "
                                    "_STRING_LIST"));
      continue;
    }
    if (!graph_->declarations.emplace(d.path(), *type).second) {
      at.AddAt("path", absl::StrCat("\"", d.path(), "\" is declared twice"));
    }
  }
}

std::optional<absl::Duration> JourneyCompiler::JourneyDuration(
    const google::protobuf::Duration& d, const FieldScope& scope) {
  absl::StatusOr<absl::Duration> v = DurationFromProto(d);
  if (!v.ok()) {
    scope.Add(std::string(v.status().message()));
    return std::nullopt;
  }
  if (absl::AbsDuration(*v) > MaxJourneyDuration()) {
    scope.Add(absl::StrCat("duration ", FormatDurationShort(*v), " is longer than ",
                           FormatDurationShort(MaxJourneyDuration()),
                           ", the most a journey may hold (50 years)"));
    return std::nullopt;
  }
  return *v;
}

absl::Duration JourneyCompiler::PositiveDuration(bool has, const google::protobuf::Duration& d,
                                                 const FieldScope& scope,
                                                 absl::string_view what) {
  if (!has) {
    scope.Add(absl::StrCat(what, " is not set; it must be positive"));
    return absl::ZeroDuration();
  }
  std::optional<absl::Duration> v = JourneyDuration(d, scope);
  if (!v) return absl::ZeroDuration();
  if (*v <= absl::ZeroDuration()) {
    scope.Add(absl::StrCat(what, " is ", FormatDurationShort(*v),
                           "; it must be positive"));
    return absl::ZeroDuration();
  }
  return *v;
}

void JourneyCompiler::CheckSettings(const FieldScope& scope) {
  const v1::JourneySettings& s = graph_->definition.settings();
  if (s.state() == v1::JOURNEY_STATE_UNSPECIFIED) {
    scope.AddAt("state",
                "journey state is not set; say ACTIVE, PAUSED or STOPPED");
  }
  if (s.has_reentry()) {
    const FieldScope re = scope.Child("reentry");
    const v1::ReentryPolicy& r = s.reentry();
    if (r.mode() == v1::ReentryPolicy::MODE_UNSPECIFIED) {
      re.AddAt("mode",
               "re-entry mode is not set; use NEVER, AFTER_EXIT or "
               "CONCURRENT (or drop reentry for NEVER)");
    }
    if (r.has_cooldown()) {
      std::optional<absl::Duration> cd = JourneyDuration(r.cooldown(), re.Child("cooldown"));
      if (cd && *cd < absl::ZeroDuration()) {
        re.AddAt("cooldown", "cooldown is negative");
      } else if (cd && r.mode() != v1::ReentryPolicy::AFTER_EXIT) {
        re.AddAt("cooldown",
                 absl::StrCat("cooldown only applies to AFTER_EXIT, not ",
                              v1::ReentryPolicy::Mode_Name(r.mode())));
      }
    }
    if (r.mode() == v1::ReentryPolicy::CONCURRENT) {
      if (r.max_concurrent() < 1) {
        re.AddAt("max_concurrent",
                 absl::StrCat("max_concurrent is ", r.max_concurrent(),
                              "; CONCURRENT needs at least 1"));
      }
    } else if (r.max_concurrent() != 0) {
      re.AddAt("max_concurrent", "max_concurrent only applies to CONCURRENT");
    }
  }
  if (s.has_send_window()) {
    graph_->send_window = CompileSendWindow(s.send_window(), scope.Child("send_window"));
  }
  graph_->has_quiet_hours = s.quiet_hours_size() > 0;
  for (int i = 0; i < s.quiet_hours_size(); ++i) {
    if (std::optional<QuietRule> rule =
            CompileQuietHours(s.quiet_hours(i), scope.Element("quiet_hours", i))) {
      graph_->quiet_hours.push_back(std::move(*rule));
    }
  }
  if (s.has_entry_limits()) {
    const v1::EntryLimits& l = s.entry_limits();
    const FieldScope ls = scope.Child("entry_limits");
    for (const auto& [value, field] : {std::pair{l.per_day(), "per_day"},
                                       std::pair{l.total(), "total"},
                                       std::pair{l.per_occurrence(), "per_occurrence"}}) {
      if (value < 0) {
        ls.AddAt(field, absl::StrCat(field, " is ", value, "; it must be 0 (no limit) or more"));
      }
    }
    graph_->entry_limits = {std::max<int64_t>(l.per_day(), 0), std::max<int64_t>(l.total(), 0),
                            std::max<int64_t>(l.per_occurrence(), 0)};
    if (!graph_->entry_limits.any()) {
      ls.Add("entry_limits sets no limit; set per_day, total or per_occurrence, or drop it");
    }
  }
  if (s.has_rate_limit()) {
    const FieldScope rs = scope.Child("rate_limit");
    if (s.rate_limit().max_messages() < 1) {
      rs.AddAt("max_messages", absl::StrCat("max_messages is ", s.rate_limit().max_messages(),
                                            "; it must be at least 1"));
    }
    const absl::Duration per = PositiveDuration(
        s.rate_limit().has_per(), s.rate_limit().per(), rs.Child("per"), "rate limit interval");
    if (per > absl::ZeroDuration() && s.rate_limit().max_messages() >= 1) {
      graph_->rate_max = s.rate_limit().max_messages();
      graph_->rate_per = per;
    }
  }
  if (s.trend_days() < 0 || s.trend_days() > kMaxTrendDays) {
    scope.AddAt("trend_days", absl::StrCat("trend_days is ", s.trend_days(), "; it must be 0 (none) to ",
                                           kMaxTrendDays));
  } else {
    graph_->trend_days = s.trend_days();
  }
  // Pending event pointers point into these vectors: size them once.
  graph_->exit_on.reserve(s.exit_on_size());
  graph_->goals.reserve(s.goals_size());
  for (int i = 0; i < s.exit_on_size(); ++i) {
    CompileMatcher(s.exit_on(i), /*allow_entry=*/true,
                   scope.Element("exit_on", i), &graph_->exit_on.emplace_back());
  }
  absl::flat_hash_set<std::string> exit_names;
  for (int i = 0; i < s.exit_when_size(); ++i) {
    const FieldScope at = scope.Element("exit_when", i);
    const v1::ExitCriterion& c = s.exit_when(i);
    if (c.name().empty()) {
      at.AddAt("name", "exit criterion has no name (the exit reason is exit_when:<name>)");
    } else if (!exit_names.insert(c.name()).second) {
      at.AddAt("name", absl::StrCat("exit criterion \"", c.name(), "\" is defined twice"));
    }
    if (!c.has_condition()) at.AddAt("condition", "exit criterion has no condition");
    graph_->exit_when.push_back(
        {c.name(), CompileStateCondition(
                       c.condition(), /*allow_entry=*/true, at.Child("condition"),
                       "an exit criterion is about the subject's state, with no event in "
                       "hand; read profile.*, behavior.*, segment.* or entry.*, or use "
                       "exit_on for an event")});
  }
  absl::flat_hash_set<std::string> goal_names;
  for (int i = 0; i < s.goals_size(); ++i) {
    const FieldScope at = scope.Element("goals", i);
    const v1::JourneyGoal& g = s.goals(i);
    if (g.name().empty()) {
      at.AddAt("name", "journey goal name is empty");
    } else if (!goal_names.insert(g.name()).second) {
      at.AddAt("name",
               absl::StrCat("journey goal \"", g.name(), "\" is defined twice"));
    }
    JourneyGoalSpec& spec = graph_->goals.emplace_back();
    spec.name = g.name();
    spec.window = PositiveDuration(g.has_window(), g.window(),
                                   at.Child("window"), "goal window");
    if (!g.has_conversion()) {
      at.AddAt("conversion", "journey goal has no conversion event");
    } else {
      CompileMatcher(g.conversion(), true, at.Child("conversion"),
                     &spec.conversion);
    }
  }
  if (s.has_active_window()) {
    const FieldScope aw = scope.Child("active_window");
    std::optional<absl::Time> start, end;
    if (s.active_window().has_start()) {
      absl::StatusOr<absl::Time> t = TimeFromProto(s.active_window().start());
      if (t.ok()) start = *t; else aw.AddAt("start", std::string(t.status().message()));
    }
    if (s.active_window().has_end()) {
      absl::StatusOr<absl::Time> t = TimeFromProto(s.active_window().end());
      if (t.ok()) end = *t; else aw.AddAt("end", std::string(t.status().message()));
    }
    if (start && end && *end <= *start) {
      aw.AddAt("end", "active window ends before it starts");
    }
  }
  if (!s.default_time_zone().empty()) {  // Else UTC, as the graph starts.
    if (std::string e = LoadDeclaredZone(s.default_time_zone(), &graph_->default_time_zone);
        !e.empty()) {
      scope.AddAt("default_time_zone", std::move(e));
    }
  }
  graph_->time_zone_attribute =
      s.time_zone_attribute().empty() ? "time_zone" : s.time_zone_attribute();
  graph_->instance_key = s.instance_key();
  if (!s.instance_key().empty()) {
    if (std::string e = CheckId(s.instance_key(), "instance key"); !e.empty()) {
      scope.AddAt("instance_key", e);
    }
  }
  if (!s.subject_type().empty()) {
    if (std::string e = CheckId(s.subject_type(), "subject type"); !e.empty()) {
      scope.AddAt("subject_type", e);
    }
  }
}

}  // namespace internal

std::string JourneyProblem::ToString() const {
  std::string out = absl::StrCat("journey ", journey_id.empty() ? "\"\"" : journey_id);
  if (!node_id.empty()) absl::StrAppend(&out, ", node ", node_id);
  if (!field.empty()) absl::StrAppend(&out, ", field ", field);
  absl::StrAppend(&out, ": ", message);
  return out;
}

absl::string_view NodeKindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kTrigger:
      return "trigger";
    case NodeKind::kFilter:
      return "filter";
    case NodeKind::kDelay:
      return "delay";
    case NodeKind::kSplit:
      return "split";
    case NodeKind::kAction:
      return "action";
    case NodeKind::kWait:
      return "wait";
    case NodeKind::kGoal:
      return "goal";
    case NodeKind::kUpdate:
      return "update";
    case NodeKind::kExit:
      return "exit";
    case NodeKind::kSwitch:
      return "switch";
  }
  return "?";
}

namespace {

// Runs the compiler; on success *graph holds the result.
std::vector<JourneyProblem> RunCompiler(const v1::Journey& journey,
                                        std::unique_ptr<internal::JourneyGraph>* graph,
                                        const internal::BehaviorTypes* behaviors = nullptr,
                                        const internal::BehaviorTypes* segments = nullptr) {
  internal::JourneyCompiler compiler(journey, behaviors, segments);
  compiler.Run();
  std::vector<JourneyProblem> problems = std::move(compiler.problems()).Take();
  if (problems.empty() && graph != nullptr) *graph = compiler.TakeGraph();
  return problems;
}

}  // namespace

std::vector<JourneyProblem> ValidateJourney(const v1::Journey& journey) {
  return RunCompiler(journey, nullptr);
}

namespace internal {

std::string ListProblems(absl::string_view heading, const std::vector<JourneyProblem>& problems) {
  std::string message(heading);
  for (const JourneyProblem& p : problems) absl::StrAppend(&message, "\n  ", p.ToString());
  return message;
}

std::vector<JourneyProblem> ValidateJourneyReads(const v1::Journey& journey,
                                                 const BehaviorTypes& behaviors,
                                                 const BehaviorTypes& segments) {
  return RunCompiler(journey, nullptr, &behaviors, &segments);
}

}  // namespace internal

absl::StatusOr<std::shared_ptr<const CompiledJourney>> Compile(
    const v1::Journey& journey) {
  std::unique_ptr<internal::JourneyGraph> graph;
  std::vector<JourneyProblem> problems = RunCompiler(journey, &graph);
  if (!problems.empty()) {
    return absl::InvalidArgumentError(internal::ListProblems(
        absl::StrCat("journey ", journey.id().empty() ? "\"\"" : journey.id(), " has ",
                     problems.size(), problems.size() == 1 ? " problem" : " problems", ":"),
        problems));
  }
  return std::shared_ptr<const CompiledJourney>(
      new CompiledJourney(std::move(graph)));
}

CompiledJourney::CompiledJourney(std::unique_ptr<internal::JourneyGraph> graph)
    : graph_(std::move(graph)) {}

CompiledJourney::~CompiledJourney() = default;

const v1::Journey& CompiledJourney::definition() const {
  return graph_->definition;
}

int CompiledJourney::node_count() const {
  return static_cast<int>(graph_->nodes.size());
}

NodeKind CompiledJourney::node_kind(int index) const {
  return graph_->nodes[index].kind;
}

const std::string& CompiledJourney::node_id(int index) const {
  return graph_->nodes[index].id;
}

int CompiledJourney::FindNode(absl::string_view id) const {
  auto it = graph_->node_index.find(id);
  return it == graph_->node_index.end() ? -1 : it->second;
}

absl::Span<const std::string> CompiledJourney::event_names() const {
  return graph_->event_names;
}

int CompiledJourney::FindEvent(absl::string_view name) const {
  auto it = graph_->event_index.find(name);
  return it == graph_->event_index.end() ? -1 : it->second;
}

absl::Span<const std::string> CompiledJourney::channels() const {
  return graph_->channels;
}

absl::Span<const int> CompiledJourney::triggers() const {
  return graph_->triggers;
}

}  // namespace cairn
