// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "sim/render.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/util/json_util.h"
#include "json/event_lines.h"
#include "json/json.h"
#include "json/proto_json.h"
#include "stats/experiments.h"

namespace cairn::sim {
namespace {

const v1::VersionReport* LatestVersion(const v1::JourneyReport& report) {
  return report.versions_size() == 0 ? nullptr
                                     : &report.versions(report.versions_size() - 1);
}

std::string Percent(double x) { return absl::StrFormat("%.2f%%", 100 * x); }

std::string Reasons(const google::protobuf::RepeatedPtrField<v1::ReasonCount>& counts) {
  std::vector<std::string> parts;
  for (const v1::ReasonCount& c : counts) {
    parts.push_back(absl::StrCat(c.reason(), " ", WithCommas(c.count())));
  }
  return absl::StrJoin(parts, ", ");
}

// The text and the pictures show every branch of a switch with its count,
// including branches that leave the journey.
bool IsSwitch(const v1::NodeReport& n) { return n.kind() == "switch"; }

}  // namespace

std::string WithCommas(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

namespace {

// The run's header: the journey, the input read, the engine's counts and the
// bad lines.
void AppendRunSummary(const v1::Journey& journey, const SimResult& r, std::string* out) {
  absl::StrAppend(out, "Journey ", journey.id(), " v", journey.version(),
                  journey.name().empty() ? "" : absl::StrCat("  \"", journey.name(), "\""),
                  "\n");
  absl::StrAppend(out, "Input    ", WithCommas(r.event_lines), " event lines (",
                  WithCommas(r.bad_event_lines), " bad",
                  r.profile_updates > 0
                      ? absl::StrCat(", ", WithCommas(r.profile_updates), " profile updates")
                      : "",
                  r.erasures > 0 ? absl::StrCat(", ", WithCommas(r.erasures),
                                                r.erasures == 1 ? " erasure" : " erasures")
                                 : "",
                  r.merges > 0 ? absl::StrCat(", ", WithCommas(r.merges),
                                              r.merges == 1 ? " merge" : " merges")
                               : "",
                  "), ");
  if (r.first_event != absl::InfinitePast()) {
    absl::StrAppend(out, json::FormatEventTime(r.first_event), " .. ",
                    json::FormatEventTime(r.last_event));
  }
  absl::StrAppend(out, "; simulated until ", json::FormatEventTime(r.until), "\n");
  if (r.profile_lines > 0) {
    absl::StrAppend(out, "Profiles ", WithCommas(r.profile_lines), " lines (",
                    WithCommas(r.bad_profile_lines), " bad)\n");
  }
  absl::StrAppend(out, "Engine   ", WithCommas(r.engine.events_applied), " events applied, ",
                  WithCommas(r.engine.events_ignored), " ignored, ",
                  WithCommas(r.engine.events_rejected), " rejected (",
                  WithCommas(r.engine.events_duplicate), " duplicate, ",
                  WithCommas(r.engine.too_late_inputs), " too late), ",
                  WithCommas(r.engine.late_inputs), " late inputs applied\n");
  if (r.engine.unknown_time_zones > 0) {
    // Shown only when it happens, so that the usual summary stays short.
    absl::StrAppend(out, "         ", WithCommas(r.engine.unknown_time_zones),
                    " zone lookups fell back to the journey's zone (the subject's zone "
                    "attribute is not a known IANA zone name)\n");
  }
  for (const std::string& e : r.errors) absl::StrAppend(out, "  bad line  ", e, "\n");
  const int64_t unlisted = r.bad_event_lines + r.bad_profile_lines -
                           static_cast<int64_t>(r.errors.size());
  if (unlisted > 0) absl::StrAppend(out, "  ... and ", WithCommas(unlisted), " more bad lines\n");
}

// The funnel: one row per node (entered, now, left by edge or exit), then
// the journey's exits and refused entries.
void AppendFunnel(const v1::VersionReport& v, std::string* out) {
  absl::StrAppend(out, "\nFunnel: ", WithCommas(v.entered()), " entered, ",
                  WithCommas(v.exited()), " exited, ", WithCommas(v.in_flight()),
                  " in flight\n");
  absl::StrAppend(out, absl::StrFormat("  %-22s %-8s %10s %8s  %s\n", "node", "kind", "entered",
                                       "now", "left by edge / exits"));
  for (const v1::NodeReport& n : v.nodes()) {
    std::vector<std::string> parts;
    for (const v1::EdgeCount& e : n.left()) {
      if (e.target().empty()) {
        // Elsewhere such an edge shows as the exit "completed"; a switch's
        // count per branch is what it is for, so each branch is shown.
        if (!IsSwitch(n)) continue;
        parts.push_back(absl::StrCat(e.label(), " (leaves) ", WithCommas(e.count())));
        continue;
      }
      parts.push_back(absl::StrCat(e.label(), " ", WithCommas(e.count())));
    }
    for (const v1::ReasonCount& c : n.exits()) {
      parts.push_back(absl::StrCat("exit:", c.reason(), " ", WithCommas(c.count())));
    }
    if (n.sequence_completed() > 0) {
      parts.push_back(absl::StrCat("(matches ", WithCommas(n.sequence_completed()),
                                   ", cancelled ", WithCommas(n.sequence_cancelled()), ")"));
    }
    absl::StrAppend(out, absl::StrFormat("  %-22s %-8s %10s %8s  %s\n", n.node_id(), n.kind(),
                                         WithCommas(n.entered()), WithCommas(n.current()),
                                         absl::StrJoin(parts, " | ")));
  }
  if (v.exits_size() > 0) absl::StrAppend(out, "  exits: ", Reasons(v.exits()), "\n");
  if (v.entries_refused_size() > 0) {
    absl::StrAppend(out, "  entries refused: ", Reasons(v.entries_refused()), "\n");
  }
}

// The channels table, one row per action; nothing when there is no action.
void AppendChannels(const v1::VersionReport& v, std::string* out) {
  if (v.actions_size() == 0) return;
  absl::StrAppend(out, "\nChannels\n");
  absl::StrAppend(out, absl::StrFormat("  %-18s %-14s %10s %10s %10s  %s\n", "action", "channel",
                                       "sent", "delivered", "failed", "reasons"));
  for (const v1::ActionReport& a : v.actions()) {
    int64_t failed = 0;
    for (const auto& c : a.failed()) failed += c.count();
    std::string reasons = Reasons(a.failed());
    if (a.undelivered_size() > 0) {
      absl::StrAppend(&reasons, reasons.empty() ? "" : "; ", "undelivered: ",
                      Reasons(a.undelivered()));
    }
    if (a.suppressed_size() > 0) {
      absl::StrAppend(&reasons, reasons.empty() ? "" : "; ", "suppressed: ",
                      Reasons(a.suppressed()));
    }
    if (a.deferred_size() > 0) {
      absl::StrAppend(&reasons, reasons.empty() ? "" : "; ", "deferred: ",
                      Reasons(a.deferred()));
    }
    absl::StrAppend(out, absl::StrFormat("  %-18s %-14s %10s %10s %10s  %s\n", a.node_id(),
                                         a.channel(), WithCommas(a.sent()),
                                         WithCommas(a.delivered()), WithCommas(failed),
                                         reasons));
  }
}

// One line per goal: converted of reached, the rate, how many expired and
// (when any) how many were erased.
void AppendGoals(const v1::VersionReport& v, std::string* out) {
  for (const v1::GoalReport& g : v.goals()) {
    absl::StrAppend(out, "\nGoal ", g.name(), g.journey_goal() ? " (journey goal)" : "", ": ",
                    WithCommas(g.overall().converted()), " of ", WithCommas(g.overall().reached()),
                    " converted",
                    g.overall().reached() > 0
                        ? absl::StrCat(" (", Percent(static_cast<double>(g.overall().converted()) /
                                                     g.overall().reached()),
                                       ")")
                        : "",
                    ", ", WithCommas(g.overall().expired()), " expired",
                    g.overall().erased() > 0
                        ? absl::StrCat(", ", WithCommas(g.overall().erased()), " erased")
                        : "",
                    "\n");
  }
}

// The per-day counts (JourneySettings.trend_days), one line a day, each
// goal's conversions in a column of its own.
void AppendDays(const v1::VersionReport& v, std::string* out) {
  if (v.days_size() == 0) return;
  absl::StrAppend(out, "\nBy day (the journey's zone)\n");
  absl::StrAppend(out, absl::StrFormat("  %-10s %9s %9s %9s %9s", "date", "entered", "exited",
                                       "sent", "delivered"));
  for (const v1::GoalReport& g : v.goals()) absl::StrAppend(out, absl::StrFormat(" %12s", g.name()));
  absl::StrAppend(out, "\n");
  for (const v1::DayCounts& d : v.days()) {
    absl::StrAppend(out, absl::StrFormat("  %-10s %9s %9s %9s %9s", d.date(),
                                         WithCommas(d.entered()), WithCommas(d.exited()),
                                         WithCommas(d.sent()), WithCommas(d.delivered())));
    for (const v1::GoalDay& g : d.goals()) {
      absl::StrAppend(out, absl::StrFormat(" %12s", WithCommas(g.converted())));
    }
    absl::StrAppend(out, "\n");
  }
}

// One table per goal and split: each arm's rate, interval and lift, the
// test statistic, and the verdict (the report's experiments).
void AppendAbResults(const v1::VersionReport& v, std::string* out) {
  for (const v1::ExperimentReport& ab : v.experiments()) {
    absl::StrAppend(out, "\nA/B  goal ", ab.goal(),
                    ab.holdout() ? " by the global holdout" : absl::StrCat(" by split ",
                                                                          ab.split_node_id()),
                    "\n");
    absl::StrAppend(out, absl::StrFormat("  %-14s %10s %10s %8s   %-18s %s\n", "arm", "reached",
                                         "converted", "rate", "95% CI (Wilson)", "lift"));
    for (const v1::ArmReport& arm : ab.arms()) {
      absl::StrAppend(
          out,
          absl::StrFormat("  %-14s %10s %10s %8s   [%6.2f%%, %6.2f%%]  %s\n",
                          arm.variant() + (arm.control() ? "*" : ""), WithCommas(arm.reached()),
                          WithCommas(arm.converted()), Percent(arm.rate()),
                          100 * arm.rate_low(), 100 * arm.rate_high(),
                          arm.control()    ? "control"
                          : arm.has_lift() ? absl::StrCat(arm.lift() >= 0 ? "+" : "",
                                                          Percent(arm.lift()))
                                           : "n/a"));
    }
    if (ab.valid()) {
      const bool chi_square = ab.test() == "chi_square";
      absl::StrAppend(out, "  ", chi_square ? "chi-square" : "z", " = ",
                      absl::StrFormat("%.3f", ab.statistic()),
                      chi_square ? absl::StrCat(" (df ", ab.degrees_of_freedom(), ")") : "",
                      ", ", internal::PValuePhrase(ab.p_value()), "\n");
    }
    absl::StrAppend(out, "  ", ab.verdict(), "\n");
  }
}

// Each split rule's state: what it decided and when, or where its test
// stands, with each arm's shares and the last check's numbers; and each
// bandit's shares, posteriors and regret.
void AppendRollouts(const v1::VersionReport& v, std::string* out) {
  for (const v1::RolloutReport& r : v.rollouts()) {
    if (r.kind() == "bandit") {
      absl::StrAppend(out, "\nBandit  split ", r.split_node_id(), " rewarded on ", r.goal(), ": ",
                      r.checks(), " updates, next at ", r.next_check(), "; regret ",
                      absl::StrFormat("%.1f", r.regret()), " conversions\n");
      absl::StrAppend(out, absl::StrFormat("  %-14s %9s %9s %10s %10s %8s %9s %7s\n", "arm",
                                           "share", "now", "reached", "converted", "rate",
                                           "posterior", "P(best)"));
      for (const v1::RolloutArm& a : r.arms()) {
        absl::StrAppend(out, absl::StrFormat("  %-14s %8.1f%% %8.1f%% %10s %10s %8s %9s %7.3f\n",
                                             a.variant(), a.share_before(), a.share_after(),
                                             WithCommas(a.reached()), WithCommas(a.converted()),
                                             Percent(a.rate()), Percent(a.posterior_mean()),
                                             a.probability_best()));
      }
      continue;
    }
    absl::StrAppend(out, "\nRoll-out  split ", r.split_node_id(), " judged on ", r.goal(), ": ");
    if (r.status() == "decided") {
      absl::StrAppend(out, r.winner(), " won at ", r.concluded_at(), " (check ", r.checks(),
                      ")\n");
    } else if (r.status() == "no_winner") {
      absl::StrAppend(out, "no winner by ", r.concluded_at(), " (", r.checks(),
                      " checks); the weights stay\n");
    } else {
      absl::StrAppend(out, "testing after ", r.checks(), " checks, next at ", r.next_check(),
                      "\n");
    }
    absl::StrAppend(out, absl::StrFormat("  %-14s %9s %9s %10s %10s %8s  %s\n", "arm", "share",
                                         "now", "reached", "converted", "rate",
                                         absl::StrFormat("p vs control (alpha %.4g)",
                                                         r.alpha_per_test())));
    for (const v1::RolloutArm& a : r.arms()) {
      absl::StrAppend(
          out, absl::StrFormat("  %-14s %8.1f%% %8.1f%% %10s %10s %8s  %s\n",
                               a.variant() + (a.control() ? "*" : ""), a.share_before(),
                               a.share_after(), WithCommas(a.reached()),
                               WithCommas(a.converted()), Percent(a.rate()),
                               a.control()       ? "control"
                               : a.has_p_value() ? internal::FormatPValue(a.p_value())
                                                 : "n/a"));
    }
  }
}

// What each --effect did, and the sample a test needs to see it.
void AppendEffects(const SimResult& r, std::string* out) {
  for (const EffectResult& e : r.effects) {
    const std::string size =
        e.effect.points > 0 ? absl::StrFormat("+%.4gpp", 100 * e.effect.points)
                            : absl::StrFormat("+%.4g%%", 100 * e.effect.relative);
    absl::StrAppend(out, "\nEffect  ", e.effect.arm, " on ", e.effect.goal, " ", size, ": ");
    if (e.windows == 0) {
      absl::StrAppend(out, "no window of the arm on the goal ended\n");
      continue;
    }
    const double windows = static_cast<double>(e.windows);
    absl::StrAppend(out, WithCommas(e.windows), " windows ended, ",
                    WithCommas(e.converted_by_log), " converted by the log (",
                    Percent(e.converted_by_log / windows), "), ",
                    WithCommas(e.converted_by_effect), " more by the effect: ",
                    Percent((e.converted_by_log + e.converted_by_effect) / windows), "\n");
    if (e.sample_per_arm > 0) {
      absl::StrAppend(out, "  a test needs about ", WithCommas(e.sample_per_arm),
                      " per arm to detect it (two-sided, alpha 0.05, power 80%)\n");
    }
  }
}

// The behaviours declared for the run, with what they hold at its end;
// nothing when there are none.
void AppendBehaviors(const SimResult& r, std::string* out) {
  if (r.behaviors.behaviors().empty()) return;
  absl::StrAppend(out, "\nBehaviours (values cover the run from its first event)\n");
  for (const v1::BehaviorReport& b : r.behaviors.behaviors()) {
    absl::StrAppend(out, "  ", absl::StrFormat("%-20s %-15s %-14s on %-16s", b.name(), b.function(),
                                               b.window(), b.event()),
                    "  ", WithCommas(b.subjects()), " subjects, ", WithCommas(b.bytes()),
                    " bytes\n");
  }
}

// The segments declared for the run: each one's members at its end, the
// subjects that entered and left during it, and whether time alone moves
// subjects in and out; nothing when there are none.
void AppendSegments(const SimResult& r, std::string* out) {
  if (r.behaviors.segments().empty()) return;
  absl::StrAppend(out, "\nSegments (members at the end; entered and left during the run)\n");
  for (const v1::SegmentReport& s : r.behaviors.segments()) {
    absl::StrAppend(out, "  ",
                    absl::StrFormat("%-20s %10s members %10s entered %10s left", s.name(),
                                    WithCommas(s.members()), WithCommas(s.entered()),
                                    WithCommas(s.left())),
                    s.time_driven() ? "  time-driven" : "", "\n");
  }
}

// The traced subject's steps; nothing when no subject was traced.
void AppendTrace(const SimResult& r, std::string* out) {
  if (r.trace.empty()) return;
  absl::StrAppend(out, "\nTrace of ", r.trace_subject, "\n");
  for (const std::string& line : r.trace) absl::StrAppend(out, "  ", line, "\n");
}

}  // namespace

std::string RenderText(const v1::Journey& journey, const SimResult& r) {
  std::string out;
  AppendRunSummary(journey, r, &out);
  const v1::VersionReport* v = LatestVersion(r.report);
  if (v == nullptr) return out;
  AppendFunnel(*v, &out);
  AppendChannels(*v, &out);
  AppendGoals(*v, &out);
  AppendDays(*v, &out);
  AppendAbResults(*v, &out);
  AppendRollouts(*v, &out);
  AppendEffects(r, &out);
  AppendBehaviors(r, &out);
  AppendSegments(r, &out);
  AppendTrace(r, &out);
  return out;
}

namespace {

// `message` in protobuf's JSON mapping, field names as in the proto and
// fields at their default values included, indented.
std::string ProtoJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // Printing a message of a linked-in type cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

void StripTrailingSpace(std::string* s) {
  while (!s->empty() && absl::ascii_isspace(static_cast<unsigned char>(s->back()))) {
    s->pop_back();
  }
}

}  // namespace

std::string RenderJson(const SimResult& result) {
  std::string out = "{";
  bool first = true;
  json::AppendProtoFields(result.report, 1, &first, &out);
  out.append(first ? "\n" : ",\n");
  out.append("  \"behaviors\": {");
  bool behaviors_first = true;
  json::AppendProtoFields(result.behaviors, 2, &behaviors_first, &out);
  out.append(behaviors_first ? "}" : "\n  }");
  out.append(",\n  \"effects\": [");
  for (size_t i = 0; i < result.effects.size(); ++i) {
    const EffectResult& e = result.effects[i];
    out.append(i == 0 ? "\n    {" : ",\n    {");
    out.append("\"arm\": ");
    json::AppendJsonString(e.effect.arm, &out);
    out.append(", \"goal\": ");
    json::AppendJsonString(e.effect.goal, &out);
    absl::StrAppend(&out, e.effect.points > 0 ? ", \"points\": " : ", \"relative\": ",
                    e.effect.points > 0 ? e.effect.points : e.effect.relative,
                    ", \"windows\": ", e.windows, ", \"converted_by_log\": ", e.converted_by_log,
                    ", \"converted_by_effect\": ", e.converted_by_effect,
                    ", \"sample_per_arm\": ", e.sample_per_arm, "}");
  }
  out.append(result.effects.empty() ? "]" : "\n  ]");
  // What went in: the lines read and what the engine made of them.
  const auto time_or_null = [](absl::Time t) {
    if (t == absl::InfinitePast()) return std::string("null");
    std::string s;
    json::AppendJsonString(json::FormatEventTime(t), &s);
    return s;
  };
  const EngineStats& e = result.engine;
  absl::StrAppend(
      &out, ",\n  \"input\": {\"event_lines\": ", result.event_lines,
      ", \"bad_event_lines\": ", result.bad_event_lines,
      ", \"profile_updates\": ", result.profile_updates,
      ", \"erasures\": ", result.erasures, ", \"erasures_applied\": ", result.engine.erasures_applied,
      ", \"merges\": ", result.merges, ", \"merges_applied\": ", result.engine.merges_applied,
      ", \"profile_lines\": ", result.profile_lines,
      ", \"bad_profile_lines\": ", result.bad_profile_lines,
      ", \"first_event\": ", time_or_null(result.first_event),
      ", \"last_event\": ", time_or_null(result.last_event),
      ", \"until\": ", time_or_null(result.until),
      ",\n    \"events_applied\": ", e.events_applied, ", \"events_ignored\": ", e.events_ignored,
      ", \"events_rejected\": ", e.events_rejected, ", \"events_duplicate\": ", e.events_duplicate,
      ", \"too_late_inputs\": ", e.too_late_inputs, ", \"late_inputs\": ", e.late_inputs,
      ", \"unknown_time_zones\": ", e.unknown_time_zones,
      ", \"messages_written\": ", result.messages_written, "}");
  if (!result.trace_subject.empty()) {
    out.append(",\n  \"trace\": {\"subject_id\": ");
    json::AppendJsonString(result.trace_subject, &out);
    out.append(", \"steps\": [");
    for (size_t i = 0; i < result.trace.size(); ++i) {
      out.append(i == 0 ? "\n    " : ",\n    ");
      json::AppendJsonString(result.trace[i], &out);
    }
    out.append(result.trace.empty() ? "]}" : "\n  ]}");
  }
  out.append(",\n  \"warnings\": [");
  for (size_t i = 0; i < result.warnings.size(); ++i) {
    out.append(i == 0 ? "\n    " : ",\n    ");
    json::AppendJsonString(result.warnings[i], &out);
  }
  out.append(result.warnings.empty() ? "]" : "\n  ]");
  out.append("\n}\n");
  return out;
}

std::string RenderProtoJson(const SimResult& result) {
  std::string json = ProtoJson(result.report);
  std::string behaviors = ProtoJson(result.behaviors);
  StripTrailingSpace(&json);
  StripTrailingSpace(&behaviors);
  // The report's own members are indented by the printer's unit: the
  // behaviours, one level down, get one more of it on every line.
  std::string indent = " ";
  const size_t newline = json.find('\n');
  if (newline != std::string::npos) {
    const size_t first_member = json.find_first_not_of(' ', newline + 1);
    if (first_member != std::string::npos) indent.assign(first_member - newline - 1, ' ');
  }
  json.pop_back();  // The report's closing brace.
  StripTrailingSpace(&json);
  absl::StrAppend(&json, ",\n", indent, "\"behaviors\": ",
                  absl::StrReplaceAll(behaviors, {{"\n", absl::StrCat("\n", indent)}}), "\n}\n");
  return json;
}

namespace {

std::string DotEscape(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"\\", "\\\\"}, {"\"", "\\\""}});
}

const char* FillColor(const std::string& kind) {
  if (kind == "trigger") return "#d9f2d9";
  if (kind == "action") return "#d6e6fa";
  if (kind == "split") return "#fde7c8";
  if (kind == "switch") return "#fbe0ef";
  if (kind == "goal") return "#eadcf5";
  if (kind == "exit") return "#f6d5d5";
  if (kind == "update") return "#fff6c7";
  return "#eeeeee";  // filter, delay, wait
}

}  // namespace

std::string RenderDot(const v1::Journey& journey, const v1::JourneyReport& report) {
  const v1::VersionReport* v = LatestVersion(report);
  // Labels are built as raw lines, escaped and joined with DOT's "\n".
  auto label = [](const std::vector<std::string>& lines) {
    return absl::StrJoin(lines, "\\n", [](std::string* out, const std::string& line) {
      out->append(DotEscape(line));
    });
  };
  std::vector<std::string> title = {absl::StrCat(journey.id(), " v", journey.version())};
  if (v != nullptr) {
    title.push_back(absl::StrCat(WithCommas(v->entered()), " entered, ",
                                 WithCommas(v->exited()), " exited, ",
                                 WithCommas(v->in_flight()), " in flight"));
  }
  std::string out;
  absl::StrAppend(&out, "digraph \"", DotEscape(journey.id()), "\" {\n");
  absl::StrAppend(&out, "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=14, labelloc=t, "
                        "label=\"", label(title), "\", nodesep=0.4, ranksep=0.5];\n");
  absl::StrAppend(&out, "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", "
                        "fontsize=11, color=\"#555555\"];\n");
  absl::StrAppend(&out, "  edge [fontname=\"Helvetica\", fontsize=10, color=\"#555555\"];\n");
  if (v == nullptr) {
    out += "}\n";
    return out;
  }
  std::map<std::string, std::vector<std::string>> ab_lines;  // split node -> lines
  for (const v1::ExperimentReport& ab : v->experiments()) {
    if (ab.holdout()) continue;  // Belongs to no node of the picture.
    std::vector<std::string>& lines = ab_lines[ab.split_node_id()];
    std::string rates = absl::StrCat(ab.goal(), ":");
    for (const v1::ArmReport& arm : ab.arms()) {
      absl::StrAppend(&rates, " ", arm.variant(), " ", Percent(arm.rate()));
    }
    lines.push_back(rates);
    lines.push_back(ab.valid()
                        ? absl::StrCat(internal::PValuePhrase(ab.p_value()),
                                       ab.significant() ? ", significant" : ", n.s.")
                        : "no verdict");
  }
  const int64_t max_count = std::max<int64_t>(1, v->entered());
  for (const v1::NodeReport& n : v->nodes()) {
    std::vector<std::string> lines = {n.node_id()};
    std::string counts = absl::StrCat(n.kind(), " | ", WithCommas(n.entered()));
    if (n.current() > 0) absl::StrAppend(&counts, " (", WithCommas(n.current()), " now)");
    lines.push_back(counts);
    for (const v1::ActionReport& a : v->actions()) {
      if (a.node_id() != n.node_id()) continue;
      int64_t failed = 0;
      for (const auto& c : a.failed()) failed += c.count();
      lines.push_back(absl::StrCat(a.channel(), ": sent ", WithCommas(a.sent()), ", failed ",
                                   WithCommas(failed)));
    }
    if (IsSwitch(n)) {
      // Edges that leave the journey are not drawn: their branches are
      // counted on the node.
      for (const v1::EdgeCount& e : n.left()) {
        if (e.target().empty()) {
          lines.push_back(absl::StrCat(e.label(), " (leaves): ", WithCommas(e.count())));
        }
      }
    }
    for (const v1::ReasonCount& c : n.exits()) {
      lines.push_back(absl::StrCat("exit ", c.reason(), ": ", WithCommas(c.count())));
    }
    auto ab = ab_lines.find(n.node_id());
    if (ab != ab_lines.end()) lines.insert(lines.end(), ab->second.begin(), ab->second.end());
    absl::StrAppend(&out, "  \"", DotEscape(n.node_id()), "\" [label=\"", label(lines),
                    "\", fillcolor=\"", FillColor(n.kind()), "\"];\n");
  }
  for (const v1::NodeReport& n : v->nodes()) {
    for (const v1::EdgeCount& e : n.left()) {
      if (e.target().empty()) continue;  // Exits are listed on the node.
      const double width =
          1 + 3 * std::log1p(static_cast<double>(e.count())) / std::log1p(max_count);
      absl::StrAppend(&out, "  \"", DotEscape(n.node_id()), "\" -> \"", DotEscape(e.target()),
                      "\" [label=\"", label({e.label(), WithCommas(e.count())}),
                      "\", penwidth=", absl::StrFormat("%.2f", width), "];\n");
    }
  }
  out += "}\n";
  return out;
}

}  // namespace cairn::sim
