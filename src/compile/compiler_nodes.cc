// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The journey compiler, node by node: node ids are indexed, then each node
// kind's fields are checked and compiled into its GraphNode. Edges are only
// recorded here; compiler_graph.cc resolves them once every node is known.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/journey.h"
#include "cairn/v1/journey.pb.h"
#include "compile/compiler_internal.h"
#include "compile/journey_graph.h"
#include "predicate/predicate.h"
#include "util/problems.h"
#include "util/proto_time.h"

namespace cairn::internal {
namespace {

// What a calendar delay's path must hold, for a type problem.
constexpr absl::string_view kNeedsDate =
    "a calendar delay needs a date (\"YYYY-MM-DD\"), a timestamp or an RFC 3339 string";

}  // namespace

void JourneyCompiler::IndexNodes() {
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

void JourneyCompiler::AddEdge(int node, std::string field, std::string label,
                              const std::string& target) {
  Edge& e = graph_->nodes[node].edges.emplace_back();
  e.field = std::move(field);
  e.label = std::move(label);
  pending_targets_.push_back({node, graph_->nodes[node].edges.size() - 1,
                              &target});
}

void JourneyCompiler::CompileMatcher(const v1::EventMatcher& m, bool allow_entry,
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
    out->where = CompiledPredicate::Compile(m.where(), Scope(allow_entry), scope.Child("where"));
  }
}

void JourneyCompiler::CompileNode(int index) {
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
        g.predicate = CompiledPredicate::Compile(n.filter().predicate(), Scope(true),
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
      g.branch_predicates.resize(n.wait().branches_size());
      for (int i = 0; i < n.wait().branches_size(); ++i) {
        const v1::WaitBranch& b = n.wait().branches(i);
        const FieldScope bs = w.Element("branches", i);
        if (b.has_until()) {
          // Wait until: no matcher, so no event takes the branch
          // (CompiledMatcher::event stays -1).
          if (b.has_matcher()) {
            bs.AddAt("until", "wait branch has both matcher and until: set one");
          }
          g.branch_predicates[i] = CompileStateCondition(
              b.until(), /*allow_entry=*/true, bs.Child("until"),
              "a wait-until condition is about the subject's state, with no event in hand; "
              "read profile.*, behavior.*, segment.* or entry.*, or wait for the event with "
              "a matcher");
          g.waits_until = true;
        } else if (!b.has_matcher()) {
          bs.AddAt("matcher", "wait branch has no matcher and no until condition");
        } else {
          CompileMatcher(b.matcher(), true, bs.Child("matcher"), &g.matchers[i]);
        }
        const std::string label =
            !b.name().empty() ? b.name() : (b.has_until() ? "until" : b.matcher().event());
        AddEdge(index, absl::StrCat(bs.field(), ".next"), label, b.next());
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
    case v1::Node::kSwitch:
      g.kind = NodeKind::kSwitch;
      CompileSwitch(index, n.switch_(), node.Child("switch"));
      break;
    case v1::Node::KIND_NOT_SET:
      node.AddAt("kind", "node has no kind: set one of trigger, filter, delay, split, "
               "action, wait, goal, update, exit, switch");
      break;
  }
}

void JourneyCompiler::CompileTrigger(int index, const v1::Trigger& t,
                                     const FieldScope& scope) {
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
        g.predicate = CompiledPredicate::Compile(
            t.event().profile_filter(), Scope(false), ev.Child("profile_filter"));
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
    case v1::Trigger::kAttributeChange: {
      const FieldScope ac = scope.Child("attribute_change");
      const v1::AttributeChangeTrigger& a = t.attribute_change();
      if (a.attribute().empty()) {
        ac.AddAt("attribute", "attribute_change names no attribute");
      }
      g.attribute = a.attribute();
      g.change_from = CompileProfileCondition(a, a.from(), a.has_from(), ac.Child("from"));
      g.predicate = CompileProfileCondition(a, a.to(), a.has_to(), ac.Child("to"));
      break;
    }
    case v1::Trigger::kSegment: {
      const FieldScope st = scope.Child("segment");
      const v1::SegmentTrigger& seg = t.segment();
      g.segment = seg.segment();
      g.segment_left = seg.on() == v1::SegmentTrigger::LEFT;
      g.existing_members = seg.existing_members();
      if (seg.segment().empty()) {
        st.AddAt("segment", "segment trigger names no segment");
      } else {
        // Checked against the engine's declarations like any segment.* read.
        CheckBehaviorRead(Path{PathRoot::kSegment, seg.segment()}, st.Child("segment"));
      }
      if (seg.on() != v1::SegmentTrigger::ENTERED && seg.on() != v1::SegmentTrigger::LEFT) {
        st.AddAt("on", "segment trigger needs on: ENTERED or LEFT");
      } else if (g.segment_left && g.existing_members) {
        st.AddAt("existing_members",
                 "existing_members is for on: ENTERED (members who are in the segment "
                 "cannot have left it)");
      }
      break;
    }
    case v1::Trigger::kSchedule:
      CompileScheduleTrigger(index, t.schedule(), scope.Child("schedule"));
      break;
    case v1::Trigger::KIND_NOT_SET:
      scope.Add(
          "trigger has no kind: set event, audience, sequence, attribute_change, segment or "
          "schedule");
      break;
  }
  if (t.next().empty()) {
    scope.AddAt("next", "trigger leads nowhere: set next");
  }
  AddEdge(index, "trigger.next", "next", t.next());
}

void JourneyCompiler::CompileScheduleTrigger(int index, const v1::ScheduleTrigger& t,
                                             const FieldScope& scope) {
  GraphNode& g = graph_->nodes[index];
  if (graph_->schedule_trigger >= 0) {
    scope.Add(absl::StrCat("a journey has one schedule trigger at most; node \"",
                           graph_->nodes[graph_->schedule_trigger].id,
                           "\" has one (put every occurrence in one schedule)"));
  } else {
    graph_->schedule_trigger = index;
  }
  if (!t.has_schedule()) {
    scope.AddAt("schedule", "schedule trigger has no schedule: say when (frequency, at)");
  } else {
    g.recurrence = CompileRecurrence(t.schedule(), scope.Child("schedule"));
    g.subject_time_zone = t.schedule().subject_time_zone();
  }
  if (!t.segment().empty()) {
    g.segment = t.segment();
    CheckBehaviorRead(Path{PathRoot::kSegment, t.segment()}, scope.Child("segment"));
  }
  if (t.has_condition()) {
    g.predicate = CompileStateCondition(
        t.condition(), /*allow_entry=*/false, scope.Child("condition"),
        "a scheduled entry has no event in hand; read profile.*, behavior.* or segment.*");
  }
}

std::optional<Recurrence> JourneyCompiler::CompileRecurrence(const v1::Schedule& s,
                                                             const FieldScope& scope) {
  Recurrence r;
  bool ok = true;
  auto problem = [&](absl::string_view field, std::string message) {
    scope.AddAt(field, std::move(message));
    ok = false;
  };
  switch (s.frequency()) {
    case v1::Schedule::ONCE:
      r.frequency = Recurrence::Frequency::kOnce;
      break;
    case v1::Schedule::DAILY:
      r.frequency = Recurrence::Frequency::kDaily;
      break;
    case v1::Schedule::WEEKLY:
      r.frequency = Recurrence::Frequency::kWeekly;
      break;
    case v1::Schedule::MONTHLY:
      r.frequency = Recurrence::Frequency::kMonthly;
      break;
    default:
      problem("frequency", "frequency is not set; say ONCE, DAILY, WEEKLY or MONTHLY");
      break;
  }
  const bool once = s.frequency() == v1::Schedule::ONCE;
  if (!s.start_date().empty()) {
    if (std::optional<absl::CivilDay> day =
            CompileDate(s.start_date(), scope.Child("start_date"))) {
      r.first = *day;
    } else {
      ok = false;
    }
  } else if (once) {
    problem("start_date", "a ONCE schedule needs start_date, the date it runs on");
  }
  if (!s.end_date().empty()) {
    if (once) {
      problem("end_date", "end_date does not apply to a ONCE schedule");
    } else {
      r.last = CompileDate(s.end_date(), scope.Child("end_date"));
      ok = ok && r.last.has_value();
    }
  }
  GraphNode at;
  CompileLocalTime(s.at(), /*allow_weekdays=*/true, scope.Child("at"), &at);
  r.hour = at.hour;
  r.minute = at.minute;
  r.weekday_mask = at.weekday_mask;
  if (s.frequency() == v1::Schedule::WEEKLY) {
    if (s.at().weekdays_size() == 0) {
      problem("at.weekdays", "a WEEKLY schedule needs the weekdays it runs on");
    }
  } else if (s.at().weekdays_size() > 0) {
    problem("at.weekdays", "weekdays apply to WEEKLY schedules only");
  }
  if (s.frequency() == v1::Schedule::MONTHLY) {
    if (s.day_of_month() < 1 || s.day_of_month() > 31) {
      problem("day_of_month", absl::StrCat("day_of_month ", s.day_of_month(),
                                           " is not in 1..31"));
    }
    r.day_of_month = s.day_of_month();
  } else if (s.day_of_month() != 0) {
    problem("day_of_month", "day_of_month applies to MONTHLY schedules only");
  }
  if (!ok) return std::nullopt;
  if (r.last && *r.last < r.first) {
    scope.AddAt("end_date", "end_date is before start_date: the schedule never runs");
    return std::nullopt;
  }
  if (!OccurrenceOnOrAfter(r, r.first)) {
    scope.AddAt("end_date",
                "no occurrence falls between start_date and end_date: the schedule never runs");
    return std::nullopt;
  }
  return r;
}

CompiledPredicate JourneyCompiler::CompileProfileCondition(const v1::AttributeChangeTrigger& t,
                                                           const v1::Predicate& p, bool present,
                                                           const FieldScope& scope) {
  if (!present) return CompiledPredicate();
  return CompileStateCondition(
      p, /*allow_entry=*/false, scope,
      absl::StrCat("a change of profile.", t.attribute(), " has no event; read profile.* or "
                   "behavior.*"));
}

CompiledPredicate JourneyCompiler::CompileStateCondition(const v1::Predicate& p,
                                                         bool allow_entry,
                                                         const FieldScope& scope,
                                                         absl::string_view no_event) {
  CompiledPredicate compiled = CompiledPredicate::Compile(p, Scope(allow_entry), scope);
  // With no event in hand an event.* path would never be present, so the
  // condition could never hold.
  for (const Path& path : compiled.Paths()) {
    if (path.root == PathRoot::kEvent) {
      scope.Add(absl::StrCat("event.", path.key, ": ", no_event));
      break;
    }
  }
  return compiled;
}

void JourneyCompiler::CompileLocalTime(const v1::TimeOfDay& t, bool allow_weekdays,
                                       const FieldScope& scope, GraphNode* g) {
  if (t.hour() < 0 || t.hour() > 23) {
    scope.AddAt("hour", absl::StrCat("hour ", t.hour(), " is not in 0..23"));
  }
  if (t.minute() < 0 || t.minute() > 59) {
    scope.AddAt("minute", absl::StrCat("minute ", t.minute(), " is not in 0..59"));
  }
  if (!allow_weekdays && t.weekdays_size() > 0) {
    scope.AddAt("weekdays", "weekdays do not apply here");
  }
  g->hour = t.hour();
  g->minute = t.minute();
  g->weekday_mask = WeekdayMask(t.weekdays(), scope);
}

uint8_t JourneyCompiler::WeekdayMask(const google::protobuf::RepeatedField<int>& days,
                                     const FieldScope& scope) {
  uint8_t mask = 0;
  std::set<int> seen;
  for (int i = 0; i < days.size(); ++i) {
    const int day = days[i];
    if (day == v1::WEEKDAY_UNSPECIFIED) {
      scope.Element("weekdays", i).Add("weekday is WEEKDAY_UNSPECIFIED");
    } else if (!seen.insert(day).second) {
      scope.Element("weekdays", i)
          .Add(absl::StrCat(v1::Weekday_Name(day), " is listed twice"));
    } else if (day >= v1::MONDAY && day <= v1::SUNDAY) {
      mask |= static_cast<uint8_t>(1u << (day - v1::MONDAY));
    }
  }
  return mask;
}

std::optional<LocalWindow> JourneyCompiler::CompileSendWindow(const v1::SendWindow& w,
                                                             const FieldScope& scope) {
  GraphNode opens;
  GraphNode closes;
  CompileLocalTime(w.opens(), /*allow_weekdays=*/false, scope.Child("opens"), &opens);
  CompileLocalTime(w.closes(), /*allow_weekdays=*/false, scope.Child("closes"), &closes);
  LocalWindow window;
  window.opens = opens.hour * 60 + opens.minute;
  window.closes = closes.hour * 60 + closes.minute;
  window.weekday_mask = WeekdayMask(w.weekdays(), scope);
  if (window.opens == window.closes) {
    scope.AddAt("closes", "the window closes when it opens, so it never opens; "
                          "drop send_window to allow any time");
    return std::nullopt;
  }
  return window;
}

std::optional<QuietRule> JourneyCompiler::CompileQuietHours(const v1::QuietHours& q,
                                                            const FieldScope& scope) {
  GraphNode start;
  GraphNode end;
  CompileLocalTime(q.start(), /*allow_weekdays=*/false, scope.Child("start"), &start);
  CompileLocalTime(q.end(), /*allow_weekdays=*/false, scope.Child("end"), &end);
  QuietRule rule;
  if (!q.channel().empty()) {
    if (std::string e = CheckId(q.channel(), "channel name"); !e.empty()) {
      scope.AddAt("channel", e);
    }
    rule.channel = q.channel();
  }
  rule.window.opens = start.hour * 60 + start.minute;
  rule.window.closes = end.hour * 60 + end.minute;
  rule.window.weekday_mask = WeekdayMask(q.weekdays(), scope);
  if (rule.window.opens == rule.window.closes) {
    scope.AddAt("end", "the quiet hours end when they start, so they hold nothing back; "
                       "drop them or give a different end");
    return std::nullopt;
  }
  return rule;
}

std::optional<absl::CivilDay> JourneyCompiler::CompileDate(const std::string& text,
                                                          const FieldScope& scope) {
  std::optional<absl::CivilDay> day = ParseDate(text);
  if (!day || day->year() < 1970 || day->year() > 2261) {
    scope.Add(absl::StrCat("\"", text, "\" is not a date YYYY-MM-DD in 1970..2261"));
    return std::nullopt;
  }
  return day;
}

void JourneyCompiler::CheckIfPast(v1::RelativeDelay::IfPast if_past, const FieldScope& scope) {
  if (if_past == v1::RelativeDelay::IF_PAST_UNSPECIFIED) {
    scope.AddAt("if_past",
                "if_past is not set; say CONTINUE or EXIT for a time that has already passed");
  }
}

void JourneyCompiler::CompileTimePath(const std::string& text, const FieldScope& scope,
                                      absl::string_view needs, GraphNode* g) {
  std::string error;
  std::optional<Path> path = ParsePath(text, &error);
  if (!path) {
    scope.Add(error);
    return;
  }
  if (path->root == PathRoot::kEvent) {
    scope.Add(absl::StrCat("\"", text, "\": a delay cannot read event.*; use profile.* or entry.*"));
    return;
  }
  g->relative_path = *path;
  Value::Type type = CheckBehaviorRead(*path, scope);
  if (auto it = graph_->declarations.find(text); it != graph_->declarations.end()) {
    type = it->second;
  }
  if (type != Value::Type::kNull && type != Value::Type::kTimestamp &&
      type != Value::Type::kString) {
    scope.Add(absl::StrCat("\"", text, "\" is ",
                           path->root == PathRoot::kBehavior ? "" : "declared ", TypeName(type),
                           "; ", needs));
  }
}

void JourneyCompiler::CompileDelay(int index, const v1::Delay& d,
                                   const FieldScope& scope) {
  GraphNode& g = graph_->nodes[index];
  switch (d.kind_case()) {
    case v1::Delay::kDuration:
      g.duration = PositiveDuration(true, d.duration(),
                                    scope.Child("duration"), "delay");
      break;
    case v1::Delay::kUntilTimeOfDay:
      CompileLocalTime(d.until_time_of_day(), /*allow_weekdays=*/true,
                       scope.Child("until_time_of_day"), &g);
      break;
    case v1::Delay::kRelative: {
      const FieldScope rel = scope.Child("relative");
      const v1::RelativeDelay& r = d.relative();
      CompileTimePath(r.path(), rel.Child("path"),
                      "a relative delay needs a timestamp (or an RFC 3339 string)", &g);
      if (r.has_offset()) {
        if (std::optional<absl::Duration> off = JourneyDuration(r.offset(), rel.Child("offset"))) {
          g.duration = *off;
        }
      }
      CheckIfPast(r.if_past(), rel);
      break;
    }
    case v1::Delay::kUntilAnniversary: {
      const FieldScope at = scope.Child("until_anniversary");
      const v1::AnniversaryDelay& a = d.until_anniversary();
      if (a.path().empty()) {
        at.AddAt("path", "path is empty; name the date, e.g. profile.birthday");
      } else {
        CompileTimePath(a.path(), at.Child("path"), kNeedsDate, &g);
      }
      if (a.days_before() < 0 || a.days_before() > 365) {
        at.AddAt("days_before", absl::StrCat("days_before ", a.days_before(),
                                             " is not in 0..365"));
      }
      g.days_before = a.days_before();
      g.leap_day_march_1 = a.leap_day() == v1::AnniversaryDelay::MARCH_1;
      CompileLocalTime(a.at(), /*allow_weekdays=*/false, at.Child("at"), &g);
      break;
    }
    case v1::Delay::kUntilDate: {
      const FieldScope at = scope.Child("until_date");
      const v1::DateDelay& date = d.until_date();
      switch (date.date_case()) {
        case v1::DateDelay::kOn:
          g.date = CompileDate(date.on(), at.Child("on"));
          break;
        case v1::DateDelay::kPath:
          CompileTimePath(date.path(), at.Child("path"), kNeedsDate, &g);
          break;
        case v1::DateDelay::DATE_NOT_SET:
          at.Add("until_date has no date: set on (\"YYYY-MM-DD\") or path");
          break;
      }
      if (date.days_before() < 0 || date.days_before() > 3660) {
        at.AddAt("days_before", absl::StrCat("days_before ", date.days_before(),
                                             " is not in 0..3660"));
      }
      g.days_before = date.days_before();
      CompileLocalTime(date.at(), /*allow_weekdays=*/false, at.Child("at"), &g);
      CheckIfPast(date.if_past(), at);
      break;
    }
    case v1::Delay::kUntilBestTime:
      CompileBestTime(d.until_best_time(), scope.Child("until_best_time"), &g);
      break;
    case v1::Delay::KIND_NOT_SET:
      scope.Add("delay has no kind: set duration, until_time_of_day, relative, "
                "until_anniversary, until_date or until_best_time");
      break;
  }
  AddEdge(index, "delay.next", "next", d.next());
}

void JourneyCompiler::CompileBestTime(const v1::BestTimeDelay& b, const FieldScope& scope,
                                      GraphNode* g) {
  if (b.behavior().empty()) {
    scope.AddAt("behavior", "behavior is empty; name an HOUR_OF_WEEK behaviour to learn from");
  } else {
    // Read as behavior.<name>, so that deploying, declaring and restoring
    // check it as they check every other behaviour a journey reads.
    std::string error;
    g->relative_path = ParsePath(absl::StrCat("behavior.", b.behavior()), &error);
    if (!g->relative_path) {
      scope.AddAt("behavior", error);
    } else if (CheckBehaviorRead(*g->relative_path, scope.Child("behavior")) !=
                   Value::Type::kNull &&
               !behaviors_->at(b.behavior()).hour_of_week) {
      scope.AddAt("behavior", absl::StrCat("behaviour \"", b.behavior(),
                                           "\" is not an HOUR_OF_WEEK behaviour, which "
                                           "until_best_time learns from"));
    }
  }
  const FieldScope within = scope.Child("within");
  if (!b.has_within()) {
    within.Add("within is not set; say how far ahead to look, e.g. { seconds: 86400 }");
  } else if (std::optional<absl::Duration> w = JourneyDuration(b.within(), within)) {
    absl::Duration rest;
    const int64_t hours = absl::IDivDuration(*w, absl::Hours(1), &rest);
    if (rest != absl::ZeroDuration() || hours < 1 || hours > kMaxBestTimeHours) {
      within.Add(absl::StrCat("within is ", FormatDurationShort(*w),
                              "; it must be a whole number of hours from 1h to ",
                              kMaxBestTimeHours, "h (7 days)"));
    } else {
      g->duration = *w;
    }
  }
  if (b.min_events() < 0 || b.min_events() > kMaxBestTimeMinEvents) {
    scope.AddAt("min_events", absl::StrCat("min_events ", b.min_events(), " is not in 0..",
                                           kMaxBestTimeMinEvents));
  }
  g->min_events = b.min_events() == 0 ? kDefaultBestTimeMinEvents : b.min_events();
  if (b.has_fallback_time()) {
    CompileLocalTime(b.fallback_time(), /*allow_weekdays=*/true, scope.Child("fallback_time"),
                     g);
    g->local_fallback = true;
  }
}

void JourneyCompiler::CompileSplit(int index, const v1::Split& s,
                                   const FieldScope& scope) {
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
  int control = -1;
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
    if (v.control()) {
      if (++controls == 2) vs.AddAt("control", "more than one variant is marked control");
      control = i;
    }
    AddEdge(index, absl::StrCat(vs.field(), ".next"), v.name(), v.next());
  }
  if (s.has_rule() && s.has_bandit()) {
    scope.AddAt("bandit", "a split has a rule or a bandit, not both");
  } else if (s.has_rule()) {
    CompileSplitRule(index, s.rule(), control, scope.Child("rule"));
  } else if (s.has_bandit()) {
    CompileSplitBandit(index, s.bandit(), scope.Child("bandit"));
  }
}

absl::Duration JourneyCompiler::RuleDuration(bool has, const google::protobuf::Duration& d,
                                             absl::Duration fallback, absl::Duration least,
                                             const FieldScope& scope, absl::string_view what) {
  if (!has) return fallback;
  std::optional<absl::Duration> v = JourneyDuration(d, scope);
  if (!v) return fallback;
  if (*v < least) {
    scope.Add(absl::StrCat(what, " is ", FormatDurationShort(*v), "; it must be at least ",
                           FormatDurationShort(least)));
    return std::max(least, fallback);
  }
  return *v;
}

void JourneyCompiler::CompileSplitBandit(int index, const v1::SplitBandit& b,
                                         const FieldScope& scope) {
  SplitRuleSpec bandit;
  bandit.kind = SplitRuleSpec::Kind::kBandit;
  bandit.split_node = index;
  bandit.goal = b.goal();
  bandit.check_every = RuleDuration(b.has_update_every(), b.update_every(),
                                    kDefaultRuleCheckEvery, absl::Minutes(1),
                                    scope.Child("update_every"), "update_every");
  if (b.draws() != 0 && (b.draws() < kMinBanditDraws || b.draws() > kMaxBanditDraws)) {
    scope.AddAt("draws", absl::StrCat("draws is ", b.draws(), "; it must be 0 (the default, ",
                                      kDefaultBanditDraws, ") or ", kMinBanditDraws, " to ",
                                      kMaxBanditDraws));
  }
  bandit.draws = b.draws() == 0 ? kDefaultBanditDraws : b.draws();
  bandit.min_percent = b.has_min_percent() ? b.min_percent() : kDefaultBanditMinPercent;
  const int arms = static_cast<int>(graph_->nodes[index].cumulative_weights.size());
  if (!(bandit.min_percent >= 0) || (arms > 0 && bandit.min_percent * arms > 100)) {
    scope.AddAt("min_percent", absl::StrCat("min_percent is ", bandit.min_percent,
                                            "; it must be 0 to 100 / arms (",
                                            arms > 0 ? 100.0 / arms : 100.0, ")"));
    bandit.min_percent = 0;
  }
  graph_->nodes[index].split_rule = static_cast<int32_t>(graph_->split_rules.size());
  graph_->split_rules.push_back(std::move(bandit));
}

void JourneyCompiler::CompileSplitRule(int index, const v1::SplitRule& r, int control,
                                       const FieldScope& scope) {
  SplitRuleSpec rule;
  rule.split_node = index;
  rule.goal = r.goal();
  rule.control = control;
  if (control < 0) {
    scope.Add("a split with a rule needs a control arm (a variant with control: true) to "
              "judge the others against");
  }
  if (r.min_per_arm() < 0 || r.min_per_arm() > kMaxRuleMinPerArm) {
    scope.AddAt("min_per_arm", absl::StrCat("min_per_arm is ", r.min_per_arm(),
                                            "; it must be 0 (the default, ",
                                            kDefaultRuleMinPerArm, ") to ", kMaxRuleMinPerArm));
  }
  rule.min_per_arm = r.min_per_arm() == 0 ? kDefaultRuleMinPerArm : r.min_per_arm();
  if (!(r.alpha() >= 0 && r.alpha() <= 0.5)) {  // (NaN fails too.)
    scope.AddAt("alpha", absl::StrCat("alpha is ", r.alpha(),
                                      "; it must be in (0, 0.5], or 0 for the default 0.05"));
  }
  rule.alpha = r.alpha() == 0 ? kDefaultRuleAlpha : r.alpha();
  if (r.has_control_percent()) {
    if (r.control_percent() < 0 || r.control_percent() > 99) {
      scope.AddAt("control_percent", absl::StrCat("control_percent is ", r.control_percent(),
                                                  "; it must be 0 to 99"));
    }
    rule.control_percent = r.control_percent();
  }
  rule.min_duration = RuleDuration(r.has_min_duration(), r.min_duration(),
                                   kDefaultRuleMinDuration, absl::ZeroDuration(),
                                   scope.Child("min_duration"), "min_duration");
  rule.check_every = RuleDuration(r.has_check_every(), r.check_every(), kDefaultRuleCheckEvery,
                                  absl::Minutes(1), scope.Child("check_every"), "check_every");
  if (r.has_max_duration()) {
    const FieldScope at = scope.Child("max_duration");
    if (std::optional<absl::Duration> d = JourneyDuration(r.max_duration(), at)) {
      if (*d != absl::ZeroDuration() && *d < rule.min_duration) {
        at.Add(absl::StrCat("max_duration is ", FormatDurationShort(*d),
                            ", shorter than min_duration (", FormatDurationShort(rule.min_duration),
                            "): no decision could ever be made"));
      }
      rule.max_duration = *d;
    }
  }
  graph_->nodes[index].split_rule = static_cast<int32_t>(graph_->split_rules.size());
  graph_->split_rules.push_back(std::move(rule));
}

void JourneyCompiler::CompileSwitch(int index, const v1::Switch& s,
                                    const FieldScope& scope) {
  GraphNode& g = graph_->nodes[index];
  if (s.branches_size() == 0) {
    scope.AddAt("branches",
                "switch has no branches; add at least one, each a name, a predicate and "
                "where it leads");
  } else if (s.branches_size() > kMaxSwitchBranches) {
    scope.AddAt("branches", absl::StrCat("a switch may have at most ", kMaxSwitchBranches,
                                         " branches, has ", s.branches_size()));
  }
  absl::flat_hash_set<std::string> names;
  bool any_edge = false;
  g.branch_predicates.resize(s.branches_size());
  for (int i = 0; i < s.branches_size(); ++i) {
    const v1::SwitchBranch& b = s.branches(i);
    const FieldScope bs = scope.Element("branches", i);
    // Reports count per branch name, so each must name one branch only.
    if (std::string e = CheckId(b.name(), "branch name"); !e.empty()) {
      bs.AddAt("name", e);
    } else if (b.name() == kSwitchDefaultLabel) {
      bs.AddAt("name", absl::StrCat("branch name \"", kSwitchDefaultLabel,
                                    "\" is reserved for the default edge"));
    } else if (!names.insert(b.name()).second) {
      bs.AddAt("name", absl::StrCat("branch name \"", b.name(), "\" is used twice"));
    }
    if (!b.has_predicate()) {
      bs.AddAt("predicate", "switch branch has no predicate");
    } else {
      g.branch_predicates[i] =
          CompiledPredicate::Compile(b.predicate(), Scope(true), bs.Child("predicate"));
    }
    any_edge = any_edge || !b.next().empty();
    AddEdge(index, absl::StrCat(bs.field(), ".next"), b.name(), b.next());
  }
  // Without a default, a subject no branch matches would have nowhere to
  // go; leaving the journey must be asked for (`default {}`), never implied.
  if (!s.has_default_()) {
    scope.AddAt("default",
                "switch has no default: set default { next: \"...\" } for subjects no branch "
                "matches (default {} lets them leave the journey)");
  } else if (!any_edge && s.default_().next().empty() && s.branches_size() > 0) {
    scope.Add("every branch of the switch and its default leave the journey: every "
              "enrollment would exit here; use an exit node instead");
  }
  AddEdge(index, "switch.default.next", kSwitchDefaultLabel, s.default_().next());
}

void JourneyCompiler::CompileAction(int index, const v1::Action& a,
                                    const FieldScope& scope) {
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
  g.transactional = a.transactional();
  g.defer_over_cap = a.over_cap() == v1::Action::DEFER;
  if (a.transactional() && a.over_cap() != v1::Action::OVER_CAP_UNSPECIFIED) {
    scope.AddAt("over_cap", "a transactional action is never capped; drop over_cap");
  }
  if (!v1::Action::OverCap_IsValid(a.over_cap())) {
    scope.AddAt("over_cap", absl::StrCat("over_cap ", a.over_cap(), " is not SKIP or DEFER"));
  }
  // A transactional message goes at once: only its own window holds it.
  g.send_window = a.has_send_window()
                      ? CompileSendWindow(a.send_window(), scope.Child("send_window"))
                  : a.transactional() ? std::nullopt
                                      : graph_->send_window;
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

void JourneyCompiler::CompileTemplate(const std::string& text, const FieldScope& scope,
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
    if (!path) {
      scope.Add(error);
    } else {
      CheckBehaviorRead(*path, scope);
    }
    parts->push_back({std::string(), std::move(path)});
    pos = end + 2;
  }
  if (pos < text.size()) parts->push_back({text.substr(pos), std::nullopt});
}

void JourneyCompiler::CompileUpdate(int index, const v1::Update& u,
                                    const FieldScope& scope) {
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
        if (!operand.path) {
          as.AddAt("value.path", error);
        } else {
          CheckBehaviorRead(*operand.path, as.Child("value.path"));
        }
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

}  // namespace cairn::internal
