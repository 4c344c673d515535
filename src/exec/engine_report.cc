// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: reports and stats.

#include "exec/engine_impl.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cairn/options.h"
#include "compile/journey_graph.h"
#include "exec/engine_state.h"
#include "stats/experiments.h"
#include "util/proto_time.h"

namespace cairn {

using internal::ActionCounters;
using internal::GoalCounters;
using internal::GoalStats;
using internal::GraphNode;
using internal::JourneyEntry;
using internal::JourneyGraph;
using internal::JourneyVersion;
using internal::kExitEdge;

EngineStats Engine::Impl::stats() const {
  EngineStats s = stats_;
  s.subjects = static_cast<int64_t>(subjects_.size() - subjects_.erased());
  s.enrollments_in_flight = in_flight_;
  return s;
}

std::vector<std::string> Engine::Impl::journey_ids() const {
  std::vector<std::string> ids;
  for (const JourneyEntry& j : journeys_) ids.push_back(j.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

namespace {

void AddReasons(const internal::ReasonCounts& counts,
                google::protobuf::RepeatedPtrField<v1::ReasonCount>* out) {
  for (const auto& [reason, count] : counts) {
    v1::ReasonCount* rc = out->Add();
    rc->set_reason(reason);
    rc->set_count(count);
  }
}

bool Counted(const GoalCounters& c) {
  return c.reached != 0 || c.converted != 0 || c.expired != 0 || c.erased != 0;
}

void FillCounts(const GoalCounters& c, v1::GoalCounts* out) {
  out->set_reached(c.reached);
  out->set_converted(c.converted);
  out->set_expired(c.expired);
  out->set_erased(c.erased);
}

// The inverse of FillCounts.
GoalCounters CountsOf(const v1::GoalCounts& in) {
  return GoalCounters{in.reached(), in.converted(), in.expired(), in.erased()};
}

void FillGoal(const GoalStats& stats, v1::GoalReport* out) {
  FillCounts(stats.overall, out->mutable_overall());
  for (const auto& [key, c] : stats.by_variant) {
    v1::GoalCounts* g = out->add_by_variant();
    g->set_split_node_id(key.first);
    g->set_variant(key.second);
    FillCounts(c, g);
  }
  // Only with a holdout, so that a snapshot of an engine without one is as
  // it was.
  if (Counted(stats.held_out) || Counted(stats.not_held_out)) {
    FillCounts(stats.held_out, out->mutable_held_out());
    FillCounts(stats.not_held_out, out->mutable_not_held_out());
  }
}

// The first day of `g`'s per-day counts whose last day is `today`: the
// trend_days days up to it. (One rule for counting, reporting and
// restoring.)
absl::CivilDay FirstTrendDay(const JourneyGraph& g, absl::CivilDay today) {
  return today - g.trend_days + 1;
}

}  // namespace

internal::DayCounter* Engine::Impl::Today(internal::JourneyVersion* v) {
  const internal::JourneyGraph& g = *v->graph;
  if (g.trend_days == 0) return nullptr;
  std::deque<internal::DayCounter>& days = v->counters.days;
  if (days.empty() || now_ >= v->day_ends) {
    // Engine time only moves forward: the day ends once, then a new one
    // begins.
    const absl::CivilDay today = absl::ToCivilDay(now_, g.default_time_zone);
    if (days.empty() || days.back().day != today) {
      internal::DayCounter& d = days.emplace_back();
      d.day = today;
      d.converted.assign(static_cast<size_t>(g.goal_nodes) + g.goals.size(), 0);
    }
    while (days.front().day < FirstTrendDay(g, today)) days.pop_front();
    v->day_ends = absl::FromCivil(today + 1, g.default_time_zone);
  }
  return &days.back();
}

void Engine::Impl::CountDay(uint32_t version, int64_t internal::DayCounter::*field) {
  if (internal::DayCounter* d = Today(&versions_[version])) ++(d->*field);
}

void Engine::Impl::CountDayConversion(uint32_t version, int32_t report_goal) {
  if (internal::DayCounter* d = Today(&versions_[version])) ++d->converted[report_goal];
}

namespace internal {

// The counters of one version in the report's shape.
void FillVersionReport(const JourneyVersion& v, absl::Time now, v1::VersionReport* vr) {
  const JourneyGraph& g = *v.graph;
  const internal::VersionCounters& c = v.counters;
  vr->set_version(v.compiled->version());
  vr->set_entered(c.entered);
  vr->set_exited(c.exited);
  vr->set_in_flight(c.entered - c.exited);
  vr->set_migrated_in(c.migrated_in);
  vr->set_retired(v.retired);
  if (g.schedule_trigger >= 0 || c.schedule.occurrences > 0) {
    v1::ScheduleCounts* sc = vr->mutable_schedule();
    sc->set_occurrences(c.schedule.occurrences);
    sc->set_skipped(c.schedule.skipped);
    sc->set_completed(c.schedule.completed);
    sc->set_evaluated(c.schedule.evaluated);
    sc->set_matched(c.schedule.matched);
  }
  AddReasons(c.exits, vr->mutable_exits());
  AddReasons(c.entries_refused, vr->mutable_entries_refused());
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const GraphNode& node = g.nodes[n];
    v1::NodeReport* nr = vr->add_nodes();
    nr->set_node_id(node.id);
    nr->set_kind(std::string(NodeKindName(node.kind)));
    nr->set_entered(c.nodes[n].entered);
    nr->set_current(c.nodes[n].current);
    for (size_t e = 0; e < node.edges.size(); ++e) {
      v1::EdgeCount* ec = nr->add_left();
      ec->set_label(node.edges[e].label);
      if (node.edges[e].target != kExitEdge) {
        ec->set_target(g.nodes[node.edges[e].target].id);
      }
      ec->set_count(c.nodes[n].left[e]);
    }
    AddReasons(c.nodes[n].exits, nr->mutable_exits());
    nr->set_sequence_completed(c.nodes[n].sequence_completed);
    nr->set_sequence_cancelled(c.nodes[n].sequence_cancelled);
    if (node.kind == NodeKind::kAction) {
      const ActionCounters& a = c.actions[n];
      v1::ActionReport* ar = vr->add_actions();
      ar->set_node_id(node.id);
      ar->set_channel(node.def->action().channel());
      ar->set_sent(a.sent);
      AddReasons(a.failed, ar->mutable_failed());
      ar->set_delivered(a.delivered);
      AddReasons(a.undelivered, ar->mutable_undelivered());
      AddReasons(a.suppressed, ar->mutable_suppressed());
      AddReasons(a.deferred, ar->mutable_deferred());
      ar->set_unreported(a.unreported);
      int64_t awaiting = a.sent - a.delivered - a.unreported;
      for (const auto& [reason, count] : a.undelivered) awaiting -= count;
      ar->set_awaiting_report(awaiting);
      ar->set_rate_delay_ms_total(a.rate_delay_ms_total);
      ar->set_rate_delay_ms_max(a.rate_delay_ms_max);
    } else if (node.kind == NodeKind::kGoal) {
      v1::GoalReport* gr = vr->add_goals();
      gr->set_name(node.id);
      FillGoal(c.node_goals[n], gr);
    }
  }
  for (size_t goal = 0; goal < g.goals.size(); ++goal) {
    v1::GoalReport* gr = vr->add_goals();
    gr->set_name(g.goals[goal].name);
    gr->set_journey_goal(true);
    FillGoal(c.journey_goals[goal], gr);
  }
  if (!c.days.empty()) {
    // Days that have left the window since the last count are dropped
    // here: counts drop them only when they count.
    const absl::CivilDay first = FirstTrendDay(g, absl::ToCivilDay(now, g.default_time_zone));
    for (const DayCounter& d : c.days) {
      if (d.day < first) continue;
      v1::DayCounts* out = vr->add_days();
      out->set_date(absl::FormatCivilTime(d.day));
      out->set_entered(d.entered);
      out->set_exited(d.exited);
      out->set_sent(d.sent);
      out->set_delivered(d.delivered);
      for (size_t i = 0; i < d.converted.size(); ++i) {
        v1::GoalDay* goal = out->add_goals();
        goal->set_name(vr->goals(static_cast<int>(i)).name());
        goal->set_converted(d.converted[i]);
      }
    }
  }
}

// The inverse of FillVersionReport, for restoring snapshots.
bool ReadVersionReport(const v1::VersionReport& vr, absl::Time now, JourneyVersion* v) {
  const JourneyGraph& g = *v->graph;
  internal::VersionCounters& c = v->counters;
  auto read_reasons = [](const google::protobuf::RepeatedPtrField<v1::ReasonCount>& in,
                         internal::ReasonCounts* out) {
    out->clear();
    for (const v1::ReasonCount& r : in) (*out)[r.reason()] = r.count();
  };
  auto read_goal = [](const v1::GoalReport& in, GoalStats* out) {
    out->overall = CountsOf(in.overall());
    out->by_variant.clear();
    for (const v1::GoalCounts& gc : in.by_variant()) {
      out->by_variant[{gc.split_node_id(), gc.variant()}] = CountsOf(gc);
    }
    out->held_out = CountsOf(in.held_out());
    out->not_held_out = CountsOf(in.not_held_out());
  };
  c.entered = vr.entered();
  c.exited = vr.exited();
  c.migrated_in = vr.migrated_in();
  v->retired = vr.retired();
  c.schedule.occurrences = vr.schedule().occurrences();
  c.schedule.skipped = vr.schedule().skipped();
  c.schedule.completed = vr.schedule().completed();
  c.schedule.evaluated = vr.schedule().evaluated();
  c.schedule.matched = vr.schedule().matched();
  read_reasons(vr.exits(), &c.exits);
  read_reasons(vr.entries_refused(), &c.entries_refused);
  int action = 0, goal = 0;
  for (size_t n = 0; n < g.nodes.size() && static_cast<int>(n) < vr.nodes_size(); ++n) {
    const v1::NodeReport& nr = vr.nodes(static_cast<int>(n));
    internal::NodeCounters& nc = c.nodes[n];
    nc.entered = nr.entered();
    nc.current = nr.current();
    for (int e = 0; e < nr.left_size() && e < static_cast<int>(nc.left.size()); ++e) {
      nc.left[e] = nr.left(e).count();
    }
    read_reasons(nr.exits(), &nc.exits);
    nc.sequence_completed = nr.sequence_completed();
    nc.sequence_cancelled = nr.sequence_cancelled();
    if (g.nodes[n].kind == NodeKind::kAction && action < vr.actions_size()) {
      const v1::ActionReport& ar = vr.actions(action++);
      ActionCounters& a = c.actions[n];
      a.sent = ar.sent();
      a.delivered = ar.delivered();
      read_reasons(ar.failed(), &a.failed);
      read_reasons(ar.undelivered(), &a.undelivered);
      read_reasons(ar.suppressed(), &a.suppressed);
      read_reasons(ar.deferred(), &a.deferred);
      a.unreported = ar.unreported();
      a.rate_delay_ms_total = ar.rate_delay_ms_total();
      a.rate_delay_ms_max = ar.rate_delay_ms_max();
    } else if (g.nodes[n].kind == NodeKind::kGoal && goal < vr.goals_size()) {
      read_goal(vr.goals(goal++), &c.node_goals[n]);
    }
  }
  for (size_t j = 0; j < g.goals.size() && goal < vr.goals_size(); ++j) {
    read_goal(vr.goals(goal++), &c.journey_goals[j]);
  }
  // Per-day counts: days in the window, in order, each with every goal.
  c.days.clear();
  v->day_ends = absl::InfinitePast();
  if (vr.days_size() > g.trend_days) return false;
  const absl::CivilDay today = absl::ToCivilDay(now, g.default_time_zone);
  const size_t goals = static_cast<size_t>(g.goal_nodes) + g.goals.size();
  for (const v1::DayCounts& in : vr.days()) {
    DayCounter& d = c.days.emplace_back();
    if (!absl::ParseCivilTime(in.date(), &d.day) || d.day > today ||
        d.day < FirstTrendDay(g, today) || (c.days.size() > 1 && d.day <= c.days.end()[-2].day) ||
        static_cast<size_t>(in.goals_size()) != goals) {
      return false;
    }
    d.entered = in.entered();
    d.exited = in.exited();
    d.sent = in.sent();
    d.delivered = in.delivered();
    for (const v1::GoalDay& goal_day : in.goals()) d.converted.push_back(goal_day.converted());
  }
  return true;
}

}  // namespace internal

absl::StatusOr<v1::JourneyReport> Engine::Impl::Report(
    absl::string_view journey_id) const {
  auto it = journey_index_.find(journey_id);
  if (it == journey_index_.end()) return UnknownJourney(journey_id);
  const JourneyEntry& j = journeys_[it->second];
  v1::JourneyReport report;
  report.set_journey_id(j.id);
  report.set_state(v1::JourneyState_Name(j.state));
  for (uint32_t index : j.versions) {
    v1::VersionReport* vr = report.add_versions();
    internal::FillVersionReport(versions_[index], now_, vr);
    // Derived from the counters: in reports, not in snapshots.
    internal::AddExperiments(versions_[index].graph->definition, vr);
    AddRolloutReports(versions_[index], vr);
  }
  for (const internal::ScheduleClock& c : schedule_clocks_) {
    if (c.journey != it->second) continue;
    v1::ScheduleStatus* status = report.mutable_schedule();
    if (c.next) {
      status->set_next_date(absl::FormatCivilTime(*c.next));
      status->set_next_begins(internal::FormatTimeUtc(OccurrenceBegins(c.journey, *c.next)));
    }
    for (const internal::ScheduleRun& r : schedule_runs_) {
      if (r.journey != c.journey) continue;
      v1::ScheduleRunStatus* run = status->add_runs();
      run->set_date(absl::FormatCivilTime(r.date));
      run->set_pending(static_cast<int64_t>(r.remaining));
    }
  }
  return report;
}

}  // namespace cairn
