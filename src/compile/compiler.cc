// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The journey compiler. One pass over the definition both checks it and
// builds the JourneyGraph; Compile() hands the graph out only when the pass
// found no problem, so nothing unvalidated ever runs.

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/journey.h"
#include "compile/journey_graph.h"
#include "util/problems.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "predicate/predicate.h"
#include "timer/local_time.h"
#include "util/proto_time.h"
#include "util/utf8.h"

namespace cairn {
namespace internal {
namespace {

constexpr size_t kMaxIdLength = 128;

// Ids: letters, digits, '_', '-', '.'; non-empty; at most 128 characters.
// Returns an empty string when valid, else what is wrong.
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

// Reports every string field of `message` (recursively) that is not valid
// UTF-8: the text format accepts such bytes in escapes, but the wire format
// and JSON cannot carry them, so the journey could not be saved and loaded.
void CheckUtf8(const google::protobuf::Message& message, const FieldScope& scope) {
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

class JourneyCompiler {
 public:
  explicit JourneyCompiler(const v1::Journey& journey)
      : graph_(std::make_unique<JourneyGraph>()), problems_(journey.id()) {
    graph_->definition = journey;
  }

  // Checks everything and builds the graph; afterwards problems() and
  // TakeGraph() tell the outcome.
  void Run() {
    const v1::Journey& j = graph_->definition;
    const FieldScope top(&problems_, "", "");
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
    ResolveEdges();
    CheckMigration(top.Child("migration"));
    CheckGraph();
    InternNames();
    CollectEntryKeys();
  }

  ProblemList& problems() { return problems_; }
  std::unique_ptr<JourneyGraph> TakeGraph() { return std::move(graph_); }

 private:
  // An event matcher whose event name is interned after the pass.
  struct PendingEvent {
    CompiledMatcher* matcher;
    std::string name;
  };

  // UTF-8 everywhere: journey-level fields in the journey's scope, node
  // fields in their node's (a node whose own id is not UTF-8 is named by
  // its index).
  void CheckStrings() {
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

  void CheckDeclarations(const FieldScope& settings) {
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

  // A duration a journey may hold (within MaxJourneyDuration() either
  // way, so the times computed from it fit a snapshot), or a problem at
  // `scope` and nullopt.
  static std::optional<absl::Duration> JourneyDuration(const google::protobuf::Duration& d,
                                                       const FieldScope& scope) {
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

  // A positive duration, or a problem at `scope`. Returns zero when absent
  // or invalid.
  absl::Duration PositiveDuration(bool has, const google::protobuf::Duration& d,
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

  void CheckSettings(const FieldScope& scope) {
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
    // Pending event pointers point into these vectors: size them once.
    graph_->exit_on.reserve(s.exit_on_size());
    graph_->goals.reserve(s.goals_size());
    for (int i = 0; i < s.exit_on_size(); ++i) {
      CompileMatcher(s.exit_on(i), /*allow_entry=*/true,
                     scope.Element("exit_on", i), &graph_->exit_on.emplace_back());
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
    if (s.default_time_zone().empty()) {
      // UTC, as the graph starts.
    } else if (!internal::IsWellFormedTimeZoneName(s.default_time_zone())) {
      // Checked before loading: absl reads any name as a path.
      scope.AddAt("default_time_zone",
                  absl::StrCat("malformed time zone name \"", s.default_time_zone(),
                               "\"; use an IANA name such as \"Asia/Shanghai\""));
    } else if (std::optional<absl::TimeZone> tz = internal::LoadZone(s.default_time_zone())) {
      graph_->default_time_zone = *tz;
    } else {
      scope.AddAt("default_time_zone",
                  absl::StrCat("unknown time zone \"", s.default_time_zone(),
                               "\"; use an IANA name such as "
                               "\"Asia/Shanghai\" (is tzdata installed?)"));
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

  void IndexNodes() {
    const v1::Journey& j = graph_->definition;
    graph_->nodes.resize(j.nodes_size());
    for (int i = 0; i < j.nodes_size(); ++i) {
      const v1::Node& n = j.nodes(i);
      GraphNode& g = graph_->nodes[i];
      g.id = n.id();
      g.def = &n;
      if (std::string e = CheckId(n.id(), "node id"); !e.empty()) {
        problems_.Add(n.id(), "id", absl::StrCat("node #", i, ": ", e));
        continue;
      }
      if (!graph_->node_index.emplace(n.id(), i).second) {
        problems_.Add(n.id(), "id",
                      absl::StrCat("node id \"", n.id(), "\" is used by node #",
                                   graph_->node_index[n.id()], " and node #", i));
      }
    }
    if (j.nodes_size() == 0) {
      problems_.Add("", "nodes", "journey has no nodes");
    }
  }

  // Records an edge; resolution happens once every node is indexed.
  void AddEdge(int node, std::string field, std::string label,
               const std::string& target) {
    Edge& e = graph_->nodes[node].edges.emplace_back();
    e.field = std::move(field);
    e.label = std::move(label);
    pending_targets_.push_back({node, graph_->nodes[node].edges.size() - 1,
                                &target});
  }

  void CompileMatcher(const v1::EventMatcher& m, bool allow_entry,
                      const FieldScope& scope, CompiledMatcher* out) {
    if (m.event().empty()) {
      scope.AddAt("event", "event name is empty");
    }
    pending_events_.push_back({out, m.event()});
    out->same_key = m.same_key();
    if (m.same_key()) {
      if (graph_->definition.settings().instance_key().empty()) {
        scope.AddAt("same_key", "same_key needs settings.instance_key");
      } else if (!allow_entry) {
        scope.AddAt("same_key",
                    "same_key is not allowed in a trigger: there is no entry yet");
      }
    }
    if (m.has_where()) {
      PredicateScope ctx{allow_entry, &graph_->declarations};
      out->where = CompiledPredicate::Compile(m.where(), ctx, scope.Child("where"));
    }
  }

  void CompileNode(int index) {
    const v1::Node& n = graph_->definition.nodes(index);
    GraphNode& g = graph_->nodes[index];
    const FieldScope node(&problems_, n.id(), "");
    switch (n.kind_case()) {
      case v1::Node::kTrigger:
        g.kind = NodeKind::kTrigger;
        graph_->triggers.push_back(index);
        CompileTrigger(index, n.trigger(), node.Child("trigger"));
        break;
      case v1::Node::kFilter: {
        g.kind = NodeKind::kFilter;
        const FieldScope f = node.Child("filter");
        if (!n.filter().has_predicate()) {
          f.AddAt("predicate", "filter has no predicate");
        } else {
          PredicateScope ctx{true, &graph_->declarations};
          g.predicate = CompiledPredicate::Compile(n.filter().predicate(), ctx,
                                                   f.Child("predicate"));
        }
        if (n.filter().on_true().empty() && n.filter().on_false().empty()) {
          f.Add("filter has neither on_true nor on_false: every enrollment "
                "would exit here; use an exit node instead");
        }
        AddEdge(index, "filter.on_true", "on_true", n.filter().on_true());
        AddEdge(index, "filter.on_false", "on_false", n.filter().on_false());
        break;
      }
      case v1::Node::kDelay:
        g.kind = NodeKind::kDelay;
        g.blocking = true;
        CompileDelay(index, n.delay(), node.Child("delay"));
        break;
      case v1::Node::kSplit:
        g.kind = NodeKind::kSplit;
        CompileSplit(index, n.split(), node.Child("split"));
        break;
      case v1::Node::kAction:
        g.kind = NodeKind::kAction;
        CompileAction(index, n.action(), node.Child("action"));
        break;
      case v1::Node::kWait: {
        g.kind = NodeKind::kWait;
        g.blocking = true;
        const FieldScope w = node.Child("wait");
        if (n.wait().branches_size() == 0) {
          w.AddAt("branches", "wait has no branches; add at least one event to wait for");
        }
        g.matchers.resize(n.wait().branches_size());
        for (int i = 0; i < n.wait().branches_size(); ++i) {
          const v1::WaitBranch& b = n.wait().branches(i);
          const FieldScope bs = w.Element("branches", i);
          if (!b.has_matcher()) {
            bs.AddAt("matcher", "wait branch has no matcher");
          } else {
            CompileMatcher(b.matcher(), true, bs.Child("matcher"), &g.matchers[i]);
          }
          AddEdge(index, absl::StrCat(bs.field(), ".next"),
                  b.name().empty() ? b.matcher().event() : b.name(), b.next());
        }
        g.duration = PositiveDuration(n.wait().has_timeout(), n.wait().timeout(),
                                      w.Child("timeout"), "wait timeout");
        AddEdge(index, "wait.on_timeout", "timeout", n.wait().on_timeout());
        break;
      }
      case v1::Node::kGoal: {
        g.kind = NodeKind::kGoal;
        g.blocking = true;
        const FieldScope gs = node.Child("goal");
        g.matchers.resize(1);
        if (!n.goal().has_conversion()) {
          gs.AddAt("conversion", "goal has no conversion event");
        } else {
          CompileMatcher(n.goal().conversion(), true, gs.Child("conversion"),
                         &g.matchers[0]);
        }
        g.duration = PositiveDuration(n.goal().has_window(), n.goal().window(),
                                      gs.Child("window"), "goal window");
        AddEdge(index, "goal.on_converted", "converted", n.goal().on_converted());
        AddEdge(index, "goal.on_expired", "expired", n.goal().on_expired());
        break;
      }
      case v1::Node::kUpdate:
        g.kind = NodeKind::kUpdate;
        CompileUpdate(index, n.update(), node.Child("update"));
        break;
      case v1::Node::kExit:
        g.kind = NodeKind::kExit;
        break;
      case v1::Node::KIND_NOT_SET:
        node.AddAt("kind", "node has no kind: set one of trigger, filter, delay, split, "
                 "action, wait, goal, update, exit");
        break;
    }
  }

  void CompileTrigger(int index, const v1::Trigger& t, const FieldScope& scope) {
    GraphNode& g = graph_->nodes[index];
    switch (t.kind_case()) {
      case v1::Trigger::kEvent: {
        const FieldScope ev = scope.Child("event");
        g.matchers.resize(1);
        if (!t.event().has_matcher()) {
          ev.AddAt("matcher", "event trigger has no matcher");
        } else {
          CompileMatcher(t.event().matcher(), false, ev.Child("matcher"),
                         &g.matchers[0]);
        }
        if (t.event().has_profile_filter()) {
          PredicateScope ctx{false, &graph_->declarations};
          g.predicate = CompiledPredicate::Compile(
              t.event().profile_filter(), ctx, ev.Child("profile_filter"));
        }
        break;
      }
      case v1::Trigger::kAudience:
        break;
      case v1::Trigger::kSequence: {
        const FieldScope seq = scope.Child("sequence");
        const v1::SequenceTrigger& s = t.sequence();
        if (s.steps_size() < 2) {
          seq.AddAt("steps", absl::StrCat("a sequence needs at least 2 steps, has ",
                                          s.steps_size(),
                                          "; use an event trigger for one"));
        }
        g.matchers.resize(s.steps_size());
        for (int i = 0; i < s.steps_size(); ++i) {
          CompileMatcher(s.steps(i), false, seq.Element("steps", i),
                         &g.matchers[i]);
        }
        g.duration = PositiveDuration(s.has_within(), s.within(),
                                      seq.Child("within"), "sequence window");
        if (s.has_absent()) {
          g.absent.emplace();
          CompileMatcher(s.absent(), false, seq.Child("absent"), &*g.absent);
          g.absent_within =
              PositiveDuration(s.has_absent_within(), s.absent_within(),
                               seq.Child("absent_within"), "absent_within");
        } else if (s.has_absent_within()) {
          seq.AddAt("absent_within", "absent_within is set but absent is not");
        }
        break;
      }
      case v1::Trigger::KIND_NOT_SET:
        scope.Add("trigger has no kind: set event, audience or sequence");
        break;
    }
    if (t.next().empty()) {
      scope.AddAt("next", "trigger leads nowhere: set next");
    }
    AddEdge(index, "trigger.next", "next", t.next());
  }

  void CompileDelay(int index, const v1::Delay& d, const FieldScope& scope) {
    GraphNode& g = graph_->nodes[index];
    switch (d.kind_case()) {
      case v1::Delay::kDuration:
        g.duration = PositiveDuration(true, d.duration(),
                                      scope.Child("duration"), "delay");
        break;
      case v1::Delay::kUntilTimeOfDay: {
        const FieldScope tod = scope.Child("until_time_of_day");
        const v1::TimeOfDay& t = d.until_time_of_day();
        if (t.hour() < 0 || t.hour() > 23) {
          tod.AddAt("hour", absl::StrCat("hour ", t.hour(), " is not in 0..23"));
        }
        if (t.minute() < 0 || t.minute() > 59) {
          tod.AddAt("minute",
                    absl::StrCat("minute ", t.minute(), " is not in 0..59"));
        }
        std::set<int> seen;
        for (int i = 0; i < t.weekdays_size(); ++i) {
          const int day = t.weekdays(i);
          if (day == v1::WEEKDAY_UNSPECIFIED) {
            tod.Element("weekdays", i).Add("weekday is WEEKDAY_UNSPECIFIED");
          } else if (!seen.insert(day).second) {
            tod.Element("weekdays", i)
                .Add(absl::StrCat(v1::Weekday_Name(t.weekdays(i)),
                                  " is listed twice"));
          } else if (day >= v1::MONDAY && day <= v1::SUNDAY) {
            g.weekday_mask |= static_cast<uint8_t>(1u << (day - v1::MONDAY));
          }
        }
        g.hour = t.hour();
        g.minute = t.minute();
        break;
      }
      case v1::Delay::kRelative: {
        const FieldScope rel = scope.Child("relative");
        const v1::RelativeDelay& r = d.relative();
        std::string error;
        std::optional<Path> path = ParsePath(r.path(), &error);
        if (!path) {
          rel.AddAt("path", error);
        } else if (path->root == PathRoot::kEvent) {
          rel.AddAt("path", absl::StrCat("\"", r.path(),
                                         "\": a delay cannot read event.*; use "
                                         "profile.* or entry.*"));
        } else {
          g.relative_path = *path;
          auto it = graph_->declarations.find(r.path());
          if (it != graph_->declarations.end() &&
              it->second != Value::Type::kTimestamp &&
              it->second != Value::Type::kString) {
            rel.AddAt("path", absl::StrCat("\"", r.path(), "\" is declared ",
                                           TypeName(it->second),
                                           "; a relative delay needs a timestamp "
                                           "(or an RFC 3339 string)"));
          }
        }
        if (r.has_offset()) {
          if (std::optional<absl::Duration> off = JourneyDuration(r.offset(), rel.Child("offset"))) {
            g.duration = *off;
          }
        }
        if (r.if_past() == v1::RelativeDelay::IF_PAST_UNSPECIFIED) {
          rel.AddAt("if_past",
                    "if_past is not set; say CONTINUE or EXIT for a time that "
                    "has already passed");
        }
        break;
      }
      case v1::Delay::KIND_NOT_SET:
        scope.Add("delay has no kind: set duration, until_time_of_day or relative");
        break;
    }
    AddEdge(index, "delay.next", "next", d.next());
  }

  void CompileSplit(int index, const v1::Split& s, const FieldScope& scope) {
    GraphNode& g = graph_->nodes[index];
    if (s.variants_size() < 2) {
      scope.AddAt("variants", absl::StrCat("a split needs at least 2 variants, has ",
                                           s.variants_size()));
    }
    if (s.variants_size() > kMaxSplitVariants) {
      scope.AddAt("variants", absl::StrCat("a split may have at most ", kMaxSplitVariants,
                                           " variants, has ", s.variants_size()));
    }
    absl::flat_hash_set<std::string> names;
    int controls = 0;
    int64_t total = 0;
    for (int i = 0; i < s.variants_size(); ++i) {
      const v1::SplitVariant& v = s.variants(i);
      const FieldScope vs = scope.Element("variants", i);
      if (std::string e = CheckId(v.name(), "variant name"); !e.empty()) {
        vs.AddAt("name", e);
      } else if (!names.insert(v.name()).second) {
        vs.AddAt("name", absl::StrCat("variant name \"", v.name(),
                                      "\" is used twice"));
      }
      if (v.weight() <= 0) {
        vs.AddAt("weight", absl::StrCat("weight is ", v.weight(),
                                        "; weights must be positive"));
      } else {
        total += v.weight();
      }
      g.cumulative_weights.push_back(total);
      if (v.control() && ++controls == 2) {
        vs.AddAt("control", "more than one variant is marked control");
      }
      AddEdge(index, absl::StrCat(vs.field(), ".next"), v.name(), v.next());
    }
  }

  void CompileAction(int index, const v1::Action& a, const FieldScope& scope) {
    GraphNode& g = graph_->nodes[index];
    if (a.channel().empty()) {
      scope.AddAt("channel",
                  "action has no channel; name the channel a sink is "
                  "registered for, e.g. \"push\"");
    } else if (std::string e = CheckId(a.channel(), "channel name"); !e.empty()) {
      scope.AddAt("channel", e);
    } else {
      channel_names_.insert(a.channel());
    }
    if (a.template_id().empty()) {
      scope.AddAt("template_id", "action has no template_id");
    }
    for (const auto& [key, value] : a.params()) {
      CompiledParam& param = g.params.emplace_back();
      param.key = key;
      CompileTemplate(value, scope.Child(absl::StrCat("params[\"", key, "\"]")),
                      &param.parts);
    }
    // Map order is unspecified; messages list parameters by key.
    std::sort(g.params.begin(), g.params.end(),
              [](const CompiledParam& x, const CompiledParam& y) { return x.key < y.key; });
    if (a.has_await_delivery()) {
      g.blocking = true;
      g.duration = PositiveDuration(a.await_delivery().has_timeout(),
                                    a.await_delivery().timeout(),
                                    scope.Child("await_delivery.timeout"),
                                    "delivery timeout");
    }
    AddEdge(index, "action.next", "next", a.next());
    if (!a.on_failure().empty()) {
      AddEdge(index, "action.on_failure", "on_failure", a.on_failure());
    }
  }

  // Splits a template parameter into literal text and {{path}}
  // placeholders, checking every placeholder.
  void CompileTemplate(const std::string& text, const FieldScope& scope,
                       std::vector<CompiledParam::Part>* parts) {
    size_t pos = 0;
    size_t open;
    while ((open = text.find("{{", pos)) != std::string::npos) {
      const size_t end = text.find("}}", open + 2);
      if (end == std::string::npos) {
        scope.Add(absl::StrCat("unterminated placeholder at offset ", open,
                               ": \"{{\" without \"}}\""));
        return;
      }
      if (open > pos) parts->push_back({text.substr(pos, open - pos), std::nullopt});
      std::string error;
      std::optional<Path> path = ParsePath(
          absl::StripAsciiWhitespace(absl::string_view(text).substr(open + 2, end - open - 2)),
          &error);
      if (!path) scope.Add(error);
      parts->push_back({std::string(), std::move(path)});
      pos = end + 2;
    }
    if (pos < text.size()) parts->push_back({text.substr(pos), std::nullopt});
  }

  void CompileUpdate(int index, const v1::Update& u, const FieldScope& scope) {
    for (int i = 0; i < u.assignments_size(); ++i) {
      const v1::Assignment& a = u.assignments(i);
      const FieldScope as = scope.Element("assignments", i);
      if (a.attribute().empty()) {
        as.AddAt("attribute", "attribute name is empty");
      } else if (a.attribute().find('.') != std::string::npos) {
        as.AddAt("attribute", absl::StrCat("attribute \"", a.attribute(),
                                           "\" contains '.'; write the bare "
                                           "profile attribute name"));
      }
      CompiledOperand& operand = graph_->nodes[index].assignments.emplace_back();
      switch (a.value().kind_case()) {
        case v1::Operand::kLiteral: {
          absl::StatusOr<Value> v = Value::FromProto(a.value().literal());
          if (!v.ok()) {
            as.AddAt("value.literal", std::string(v.status().message()));
          } else {
            operand.literal = *std::move(v);
          }
          break;
        }
        case v1::Operand::kPath: {
          std::string error;
          operand.path = ParsePath(a.value().path(), &error);
          if (!operand.path) as.AddAt("value.path", error);
          break;
        }
        case v1::Operand::KIND_NOT_SET:
          as.AddAt("value", "assignment has no value: set literal or path");
          break;
      }
    }
    if (u.assignments_size() == 0 && u.unset_size() == 0 &&
        u.add_tags_size() == 0 && u.remove_tags_size() == 0) {
      scope.Add("update changes nothing: set assignments, unset, add_tags or "
                "remove_tags");
    }
    AddEdge(index, "update.next", "next", u.next());
  }

  void ResolveEdges() {
    for (const PendingTarget& p : pending_targets_) {
      GraphNode& from = graph_->nodes[p.node];
      Edge& e = from.edges[p.edge];
      if (p.target->empty()) continue;  // Exit edge.
      auto it = graph_->node_index.find(*p.target);
      if (it == graph_->node_index.end()) {
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
  void CheckMigration(const FieldScope& scope) {
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

  void CheckGraph() {
    const int n = static_cast<int>(graph_->nodes.size());
    if (n > 0 && graph_->triggers.empty()) {
      problems_.Add("", "nodes", "journey has no trigger node: nothing can enter it");
    }
    // Reachability from the triggers.
    std::vector<bool> reached(n, false);
    std::vector<int32_t> stack(graph_->triggers.begin(), graph_->triggers.end());
    for (int32_t t : stack) reached[t] = true;
    while (!stack.empty()) {
      const int32_t at = stack.back();
      stack.pop_back();
      for (const Edge& e : graph_->nodes[at].edges) {
        if (e.target != kExitEdge && !reached[e.target]) {
          reached[e.target] = true;
          stack.push_back(e.target);
        }
      }
    }
    if (!graph_->triggers.empty()) {
      for (int i = 0; i < n; ++i) {
        auto it = graph_->node_index.find(graph_->nodes[i].id);
        const bool indexed = it != graph_->node_index.end() && it->second == i;
        if (!reached[i] && indexed) {
          problems_.Add(graph_->nodes[i].id, "id",
                        "node is unreachable: no path from a trigger leads here");
        }
      }
    }
    FindInstantCycles();
  }

  // A node on the path of FindInstantCycles, and its next edge to follow.
  struct DfsFrame {
    int32_t node;
    size_t next_edge;
  };

  // A cycle through non-blocking nodes only would let an enrollment loop
  // forever without time passing. Iterative DFS over the non-blocking
  // subgraph; each back edge closes one cycle, reported at the edge.
  void FindInstantCycles() {
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
                        absl::StrCat("cycle ", CyclePath(path, depth[e.target]),
                                     " has no blocking node (delay, wait, goal or an "
                                     "action awaiting delivery): an enrollment would "
                                     "loop without time passing"));
        }
      }
    }
  }

  // A cycle of up to this many nodes is listed whole; a longer one by its
  // first kCycleHead and last kCycleTail nodes. Listing every cycle whole
  // made the problems of a journey quadratic in its size: 5,000 edges back
  // to the start of a chain gave 108 MB of text.
  static constexpr size_t kMaxListedCycle = 8;
  static constexpr size_t kCycleHead = 4;
  static constexpr size_t kCycleTail = 3;

  // "a -> b -> ... -> a": the cycle that path[from..] closes by leading back
  // to path[from].
  std::string CyclePath(const std::vector<DfsFrame>& path, size_t from) const {
    auto id = [&](size_t i) -> const std::string& { return graph_->nodes[path[i].node].id; };
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

  void InternNames() {
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

  void CollectEntryKeys() {
    std::set<std::string> keys;
    auto add_path = [&keys](const std::optional<Path>& path) {
      if (path && path->root == PathRoot::kEntry) keys.insert(path->key);
    };
    auto add_predicate = [&](const CompiledPredicate& predicate) {
      for (const Path& path : predicate.Paths()) add_path(path);
    };
    auto add_matcher = [&](const CompiledMatcher& matcher) { add_predicate(matcher.where); };
    for (const GraphNode& g : graph_->nodes) {
      for (const CompiledMatcher& m : g.matchers) add_matcher(m);
      if (g.absent) add_matcher(*g.absent);
      add_predicate(g.predicate);
      for (const CompiledParam& param : g.params) {
        for (const CompiledParam::Part& part : param.parts) add_path(part.path);
      }
      for (const CompiledOperand& operand : g.assignments) add_path(operand.path);
      add_path(g.relative_path);
    }
    for (const CompiledMatcher& m : graph_->exit_on) add_matcher(m);
    for (const JourneyGoalSpec& goal : graph_->goals) add_matcher(goal.conversion);
    if (!graph_->instance_key.empty()) keys.insert(graph_->instance_key);
    graph_->entry_keys.assign(keys.begin(), keys.end());
  }

  struct PendingTarget {
    int node;
    size_t edge;
    const std::string* target;
  };

  std::unique_ptr<JourneyGraph> graph_;
  ProblemList problems_;
  std::vector<PendingTarget> pending_targets_;
  // Points into vectors that are sized before their matchers are compiled.
  std::vector<PendingEvent> pending_events_;
  std::set<std::string> channel_names_;
};

}  // namespace
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
  }
  return "?";
}

namespace {

// Runs the compiler; on success *graph holds the result.
std::vector<JourneyProblem> RunCompiler(
    const v1::Journey& journey, std::unique_ptr<internal::JourneyGraph>* graph) {
  internal::JourneyCompiler compiler(journey);
  compiler.Run();
  std::vector<JourneyProblem> problems = std::move(compiler.problems()).Take();
  if (problems.empty() && graph != nullptr) *graph = compiler.TakeGraph();
  return problems;
}

}  // namespace

std::vector<JourneyProblem> ValidateJourney(const v1::Journey& journey) {
  return RunCompiler(journey, nullptr);
}

absl::StatusOr<std::shared_ptr<const CompiledJourney>> Compile(
    const v1::Journey& journey) {
  std::unique_ptr<internal::JourneyGraph> graph;
  std::vector<JourneyProblem> problems = RunCompiler(journey, &graph);
  if (!problems.empty()) {
    std::string message = absl::StrCat(
        "journey ", journey.id().empty() ? "\"\"" : journey.id(), " has ",
        problems.size(), problems.size() == 1 ? " problem" : " problems", ":");
    for (const JourneyProblem& p : problems) {
      absl::StrAppend(&message, "\n  ", p.ToString());
    }
    return absl::InvalidArgumentError(message);
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
