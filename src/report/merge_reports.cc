// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// MergeJourneyReports: sums the reports of engines that ran the same journey
// versions on different subjects.

#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/strings/str_cat.h"
#include "cairn/report.h"
#include "google/protobuf/repeated_field.h"
#include "stats/experiments.h"

namespace cairn {
namespace {

using google::protobuf::RepeatedPtrField;

// Adds `from`'s reasons to `into`, keeping the list sorted by reason.
void MergeReasons(const RepeatedPtrField<v1::ReasonCount>& from,
                  RepeatedPtrField<v1::ReasonCount>* into) {
  absl::btree_map<std::string, int64_t> sum;
  for (const v1::ReasonCount& r : *into) sum[r.reason()] += r.count();
  for (const v1::ReasonCount& r : from) sum[r.reason()] += r.count();
  into->Clear();
  for (const auto& [reason, count] : sum) {
    v1::ReasonCount* r = into->Add();
    r->set_reason(reason);
    r->set_count(count);
  }
}

void AddCounts(const v1::GoalCounts& from, v1::GoalCounts* into) {
  into->set_reached(into->reached() + from.reached());
  into->set_converted(into->converted() + from.converted());
  into->set_expired(into->expired() + from.expired());
  into->set_erased(into->erased() + from.erased());
}

void MergeGoal(const v1::GoalReport& from, v1::GoalReport* into) {
  AddCounts(from.overall(), into->mutable_overall());
  absl::btree_map<std::pair<std::string, std::string>, v1::GoalCounts> sum;
  for (const RepeatedPtrField<v1::GoalCounts>* list : {&into->by_variant(), &from.by_variant()}) {
    for (const v1::GoalCounts& g : *list) {
      v1::GoalCounts& s = sum[{g.split_node_id(), g.variant()}];
      s.set_split_node_id(g.split_node_id());
      s.set_variant(g.variant());
      AddCounts(g, &s);
    }
  }
  into->clear_by_variant();
  for (auto& [key, g] : sum) *into->add_by_variant() = std::move(g);
  if (from.has_held_out()) {
    AddCounts(from.held_out(), into->mutable_held_out());
    AddCounts(from.not_held_out(), into->mutable_not_held_out());
  }
}

void MergeAction(const v1::ActionReport& from, v1::ActionReport* into) {
  into->set_sent(into->sent() + from.sent());
  into->set_delivered(into->delivered() + from.delivered());
  into->set_unreported(into->unreported() + from.unreported());
  into->set_awaiting_report(into->awaiting_report() + from.awaiting_report());
  into->set_rate_delay_ms_total(into->rate_delay_ms_total() + from.rate_delay_ms_total());
  into->set_rate_delay_ms_max(std::max(into->rate_delay_ms_max(), from.rate_delay_ms_max()));
  MergeReasons(from.failed(), into->mutable_failed());
  MergeReasons(from.undelivered(), into->mutable_undelivered());
  MergeReasons(from.suppressed(), into->mutable_suppressed());
  MergeReasons(from.deferred(), into->mutable_deferred());
}

void MergeNode(const v1::NodeReport& from, v1::NodeReport* into) {
  into->set_entered(into->entered() + from.entered());
  into->set_current(into->current() + from.current());
  into->set_sequence_completed(into->sequence_completed() + from.sequence_completed());
  into->set_sequence_cancelled(into->sequence_cancelled() + from.sequence_cancelled());
  for (int e = 0; e < into->left_size(); ++e) {
    into->mutable_left(e)->set_count(into->left(e).count() + from.left(e).count());
  }
  MergeReasons(from.exits(), into->mutable_exits());
}

// Adds `from`'s per-day counts to `into`'s, day by day (the union of their
// days, in date order: ISO dates sort as strings).
void MergeDays(const RepeatedPtrField<v1::DayCounts>& from,
               RepeatedPtrField<v1::DayCounts>* into) {
  if (from.empty()) return;
  absl::btree_map<std::string, v1::DayCounts> sum;
  for (const RepeatedPtrField<v1::DayCounts>* list : {&std::as_const(*into), &from}) {
    for (const v1::DayCounts& d : *list) {
      auto [it, first] = sum.try_emplace(d.date(), d);
      if (first) continue;
      v1::DayCounts& s = it->second;
      s.set_entered(s.entered() + d.entered());
      s.set_exited(s.exited() + d.exited());
      s.set_sent(s.sent() + d.sent());
      s.set_delivered(s.delivered() + d.delivered());
      for (int g = 0; g < s.goals_size() && g < d.goals_size(); ++g) {
        s.mutable_goals(g)->set_converted(s.goals(g).converted() + d.goals(g).converted());
      }
    }
  }
  into->Clear();
  for (auto& [date, d] : sum) *into->Add() = std::move(d);
}

// The shapes (ids, node lists, edges, actions, goals) must agree.
bool SameShape(const v1::VersionReport& a, const v1::VersionReport& b) {
  if (a.version() != b.version() || a.nodes_size() != b.nodes_size() ||
      a.actions_size() != b.actions_size() || a.goals_size() != b.goals_size()) {
    return false;
  }
  for (int n = 0; n < a.nodes_size(); ++n) {
    const v1::NodeReport& x = a.nodes(n);
    const v1::NodeReport& y = b.nodes(n);
    if (x.node_id() != y.node_id() || x.left_size() != y.left_size()) return false;
    for (int e = 0; e < x.left_size(); ++e) {
      if (x.left(e).label() != y.left(e).label() || x.left(e).target() != y.left(e).target()) {
        return false;
      }
    }
  }
  for (int i = 0; i < a.actions_size(); ++i) {
    if (a.actions(i).node_id() != b.actions(i).node_id()) return false;
  }
  for (int i = 0; i < a.goals_size(); ++i) {
    if (a.goals(i).name() != b.goals(i).name()) return false;
  }
  return true;
}

void MergeVersion(const v1::VersionReport& from, v1::VersionReport* into) {
  into->set_entered(into->entered() + from.entered());
  into->set_exited(into->exited() + from.exited());
  into->set_in_flight(into->in_flight() + from.in_flight());
  into->set_migrated_in(into->migrated_in() + from.migrated_in());
  into->set_retired(into->retired() && from.retired());
  MergeReasons(from.exits(), into->mutable_exits());
  MergeReasons(from.entries_refused(), into->mutable_entries_refused());
  for (int n = 0; n < into->nodes_size(); ++n) MergeNode(from.nodes(n), into->mutable_nodes(n));
  for (int i = 0; i < into->actions_size(); ++i) {
    MergeAction(from.actions(i), into->mutable_actions(i));
  }
  for (int i = 0; i < into->goals_size(); ++i) MergeGoal(from.goals(i), into->mutable_goals(i));
  internal::MergeExperiments(from, into);
  MergeDays(from.days(), into->mutable_days());
  // Each part judged its own subjects: every part's rule states, side by
  // side (their counts are not comparable sums).
  for (const v1::RolloutReport& r : from.rollouts()) *into->add_rollouts() = r;
  if (from.has_schedule()) {
    // Every shard sees each occurrence; it is complete when every shard has
    // evaluated its own subjects.
    const v1::ScheduleCounts& f = from.schedule();
    v1::ScheduleCounts* s = into->mutable_schedule();
    s->set_occurrences(std::max(s->occurrences(), f.occurrences()));
    s->set_skipped(std::max(s->skipped(), f.skipped()));
    s->set_completed(std::min(s->completed(), f.completed()));
    s->set_evaluated(s->evaluated() + f.evaluated());
    s->set_matched(s->matched() + f.matched());
  }
}

// The runs in progress on every shard, by occurrence date, their pending
// subjects summed.
void MergeSchedule(const v1::ScheduleStatus& from, v1::ScheduleStatus* into) {
  for (const v1::ScheduleRunStatus& run : from.runs()) {
    auto same = std::find_if(into->mutable_runs()->begin(), into->mutable_runs()->end(),
                             [&](const v1::ScheduleRunStatus& r) { return r.date() == run.date(); });
    if (same != into->mutable_runs()->end()) {
      same->set_pending(same->pending() + run.pending());
    } else {
      *into->add_runs() = run;
    }
  }
  std::sort(into->mutable_runs()->begin(), into->mutable_runs()->end(),
            [](const v1::ScheduleRunStatus& a, const v1::ScheduleRunStatus& b) {
              return a.date() < b.date();
            });
}

}  // namespace

absl::StatusOr<v1::JourneyReport> MergeJourneyReports(
    absl::Span<const v1::JourneyReport> reports) {
  if (reports.empty()) return absl::InvalidArgumentError("no reports to merge");
  v1::JourneyReport merged = reports[0];
  for (size_t i = 1; i < reports.size(); ++i) {
    const v1::JourneyReport& r = reports[i];
    if (r.journey_id() != merged.journey_id() || r.versions_size() != merged.versions_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "report ", i, " (journey ", r.journey_id(), ", ", r.versions_size(),
          " versions) does not match report 0 (journey ", merged.journey_id(), ", ",
          merged.versions_size(), " versions)"));
    }
    for (int v = 0; v < r.versions_size(); ++v) {
      if (!SameShape(r.versions(v), merged.versions(v))) {
        return absl::InvalidArgumentError(absl::StrCat(
            "report ", i, ": journey ", r.journey_id(), " version ", r.versions(v).version(),
            " has other nodes, edges, actions or goals than in report 0"));
      }
    }
  }
  for (size_t i = 1; i < reports.size(); ++i) {
    for (int v = 0; v < merged.versions_size(); ++v) {
      MergeVersion(reports[i].versions(v), merged.mutable_versions(v));
    }
    if (reports[i].has_schedule()) {
      MergeSchedule(reports[i].schedule(), merged.mutable_schedule());
    }
  }
  return merged;
}

}  // namespace cairn
