// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: the engine-wide snapshot records: the header (format,
// options and deployed versions, which Restore compares), the clock (time,
// id counters, stats), and each journey's state and each version's
// counters, with the check that the counters agree with the enrollments.

#include "exec/engine_impl.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/hash.h"
#include "cairn/journey_io.h"
#include "cairn/options.h"
#include "cairn/status_macros.h"
#include "cairn/v1/snapshot.pb.h"
#include "compile/journey_graph.h"
#include "exec/engine_state.h"
#include "snapshot/record_arena.h"
#include "snapshot/snapshot_internal.h"
#include "timer/local_time.h"
#include "util/record_io.h"

namespace cairn {

using internal::ActionCounters;
using internal::CountsInRange;
using internal::GoalCounters;
using internal::Enrollment;
using internal::JourneyEntry;
using internal::JourneyVersion;
using internal::kMaxRestoredCount;
using internal::Nanos;
using internal::ReadTime;
using internal::SnapshotOutOfRange;
using internal::StatFields;
using internal::SumCounts;

namespace {

constexpr uint32_t kSnapshotFormat = 1;

// A hash of the graph's definition in binary form, computed once per
// compiled journey (see JourneyGraph::definition_fingerprint).
uint64_t DefinitionFingerprint(const internal::JourneyGraph& g) {
  uint64_t fingerprint = g.definition_fingerprint.load(std::memory_order_relaxed);
  if (fingerprint == 0) {
    // (Threads that race here compute the same value.)
    absl::StatusOr<std::string> bytes = SerializeJourney(g.definition, JourneyFormat::kBinary);
    fingerprint = StableHash64({bytes.ok() ? *bytes : std::string()});
    g.definition_fingerprint.store(fingerprint, std::memory_order_relaxed);
  }
  return fingerprint;
}

}  // namespace

uint64_t Engine::Impl::ComputeOptionsFingerprint() const {
  std::string text = absl::StrCat(
      absl::FormatDuration(options_.max_lateness), "|", absl::FormatDuration(options_.dedup_window),
      "|", absl::FormatDuration(options_.delivery_report_window), "|",
      options_.max_steps_per_input, "|", options_.opt_out_attribute, "|", options_.opt_out_event,
      "|", options_.opt_in_event, "|", options_.holdout_percent, "|", options_.holdout_seed);
  // Named only when not the default, so that snapshots written before these
  // options existed still restore into an engine that keeps the defaults.
  const EngineOptions defaults;
  if (options_.max_input_lead != defaults.max_input_lead) {
    absl::StrAppend(&text, "|lead:", absl::FormatDuration(options_.max_input_lead));
  }
  if (options_.max_input_bytes != defaults.max_input_bytes ||
      options_.max_profile_attributes != defaults.max_profile_attributes ||
      options_.max_profile_bytes != defaults.max_profile_bytes ||
      options_.max_opt_out_channels != defaults.max_opt_out_channels ||
      options_.max_instances_per_subject != defaults.max_instances_per_subject ||
      options_.max_dedup_ids != defaults.max_dedup_ids) {
    absl::StrAppend(&text, "|limits:", options_.max_input_bytes, ",",
                    options_.max_profile_attributes, ",", options_.max_profile_bytes, ",",
                    options_.max_opt_out_channels, ",", options_.max_instances_per_subject,
                    ",", options_.max_dedup_ids);
  }
  if (options_.scheduled_run_slice != defaults.scheduled_run_slice) {
    // When each subject of a scheduled run is evaluated, hence when it
    // enters, depends on the slice.
    absl::StrAppend(&text, "|slice:", options_.scheduled_run_slice);
  }
  for (const FrequencyCap& c : options_.frequency_caps) {
    absl::StrAppend(&text, "|cap:", c.channel, ",", c.max_messages, ",",
                    absl::FormatDuration(c.window));
  }
  for (const RateLimit& l : options_.rate_limits) {
    absl::StrAppend(&text, "|rate:", l.channel, ",", l.max_messages, ",",
                    absl::FormatDuration(l.per));
  }
  for (const QuietHours& q : options_.quiet_hours) {
    absl::StrAppend(&text, "|quiet:", q.channel, ",", q.start_hour, ":", q.start_minute, "-",
                    q.end_hour, ":", q.end_minute);
    // Named only when given, so that older snapshots keep their fingerprint.
    for (absl::Weekday day : q.weekdays) {
      absl::StrAppend(&text, ",day", internal::WeekdayBit(day));
    }
  }
  return StableHash64({text});
}

// The header: format, options fingerprint, and the deployed versions.
absl::Status Engine::Impl::WriteHeader(internal::RecordWriter* w,
                                       internal::RecordArena* records) const {
  v1::SnapshotRecord* r = records->Next();
  v1::SnapshotHeader* h = r->mutable_header();
  h->set_format_version(kSnapshotFormat);
  h->set_options_fingerprint(options_fingerprint_);
  for (const JourneyVersion& v : versions_) {
    v1::SnapshotDeployedVersion* d = h->add_versions();
    d->set_journey_id(v.graph->definition.id());
    d->set_version(v.compiled->version());
    d->set_definition_fingerprint(DefinitionFingerprint(*v.graph));
  }
  CAIRN_RETURN_IF_ERROR(w->Write(*r));
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadHeader(const v1::SnapshotHeader& header) const {
  if (header.format_version() > kSnapshotFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot: format version ", header.format_version(), " is newer than this engine's (",
        kSnapshotFormat, ")"));
  }
  if (header.options_fingerprint() != options_fingerprint_) {
    return absl::FailedPreconditionError(
        "snapshot: taken with different EngineOptions (policies, windows or limits)");
  }
  for (int i = 0; i < header.versions_size(); ++i) {
    const v1::SnapshotDeployedVersion& d = header.versions(i);
    if (static_cast<size_t>(i) >= versions_.size() ||
        versions_[i].graph->definition.id() != d.journey_id() ||
        versions_[i].compiled->version() != d.version()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "snapshot: journey ", d.journey_id(), " version ", d.version(),
          " is not deployed (deploy the snapshot's journeys, in the same order, first)"));
    }
    if (DefinitionFingerprint(*versions_[i].graph) != d.definition_fingerprint()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "snapshot: journey ", d.journey_id(), " version ", d.version(),
          " is deployed with a different definition"));
    }
  }
  if (static_cast<size_t>(header.versions_size()) != versions_.size()) {
    return absl::FailedPreconditionError(
        "snapshot: the engine has journeys deployed that the snapshot does not know");
  }
  return absl::OkStatus();
}

// Engine time, id counters and stats.
absl::Status Engine::Impl::WriteClock(internal::RecordWriter* w,
                                      internal::RecordArena* records) const {
  v1::SnapshotRecord* r = records->Next();
  v1::SnapshotClock* c = r->mutable_clock();
  c->set_now_nanos(Nanos(now_));
  // Live enrollments are numbered by slot + 1 (WriteEnrollments).
  c->set_next_enrollment_uid(enrollments_.size());
  // Timers are written in firing order, numbered from 0 (see below).
  c->set_next_timer_seq(timers_.size());
  c->set_in_flight(in_flight_);
  EngineStats stats = stats_;
  std::vector<int64_t*> fields = StatFields(&stats);
  // Zeros at the end are left out: they restore as 0, as a counter added
  // after a snapshot was written does, so adding a counter changes no
  // snapshot that never counted it.
  while (!fields.empty() && *fields.back() == 0) fields.pop_back();
  for (int64_t* f : fields) c->add_stats(*f);
  CAIRN_RETURN_IF_ERROR(w->Write(*r));
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadClock(const v1::SnapshotClock& c) {
  if (!ReadTime(c.now_nanos(), false, &now_)) return SnapshotOutOfRange("engine time");
  if (c.next_enrollment_uid() > static_cast<uint64_t>(kMaxRestoredCount)) {
    return SnapshotOutOfRange("next enrollment id");
  }
  restored_uid_bound_ = c.next_enrollment_uid();
  if (c.in_flight() < 0 || c.in_flight() > kMaxRestoredCount) {
    return SnapshotOutOfRange("in-flight count");
  }
  in_flight_ = c.in_flight();
  std::vector<int64_t*> fields = StatFields(&stats_);
  for (int i = 0; i < c.stats_size() && i < static_cast<int>(fields.size()); ++i) {
    if (c.stats(i) < 0 || c.stats(i) > kMaxRestoredCount) return SnapshotOutOfRange("engine stat");
    *fields[i] = c.stats(i);
  }
  return absl::OkStatus();
}

// Each journey id's state, then each version's counters.
absl::Status Engine::Impl::WriteJourneys(internal::RecordWriter* w,
                                         internal::RecordArena* records) const {
  for (const JourneyEntry& j : journeys_) {
    v1::SnapshotRecord* r = records->Next();
    v1::SnapshotJourney* sj = r->mutable_journey();
    sj->set_journey_id(j.id);
    sj->set_state(j.state);
    if (j.entries_on_day > 0) {
      sj->set_entry_day(j.entry_day);
      sj->set_entries_on_day(j.entries_on_day);
    }
    if (j.entries_in_occurrence > 0) {
      sj->set_occurrence_day(j.occurrence_day);
      sj->set_entries_in_occurrence(j.entries_in_occurrence);
    }
    for (absl::Time t : j.rate_sends) sj->add_rate_sends_nanos(Nanos(t));
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  for (size_t i = 0; i < rate_sends_.size(); ++i) {
    if (rate_sends_[i].empty()) continue;
    v1::SnapshotRecord* r = records->Next();
    r->mutable_rate_limit()->set_index(static_cast<uint32_t>(i));
    for (absl::Time t : rate_sends_[i]) r->mutable_rate_limit()->add_sends_nanos(Nanos(t));
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  for (size_t i = 0; i < versions_.size(); ++i) {
    v1::SnapshotRecord* r = records->Next();
    r->mutable_counters()->set_version_index(static_cast<uint32_t>(i));
    internal::FillVersionReport(versions_[i], now_, r->mutable_counters()->mutable_report());
    WriteRollouts(versions_[i], r->mutable_counters());
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

void Engine::Impl::WriteRollouts(const JourneyVersion& v, v1::SnapshotVersionCounters* out) const {
  for (size_t i = 0; i < v.rollouts.size(); ++i) {
    const internal::RolloutState& r = v.rollouts[i];
    v1::SnapshotRollout* s = out->add_rollouts();
    s->set_split_node_id(v.graph->nodes[v.graph->split_rules[i].split_node].id);
    s->set_started_nanos(Nanos(r.started));
    s->set_status(static_cast<uint32_t>(r.status));
    if (r.status == internal::RolloutState::Status::kTesting) {
      s->set_next_check_nanos(Nanos(r.next_check));
    } else {
      s->set_concluded_nanos(Nanos(r.concluded));
    }
    s->set_checks(r.checks);
    s->set_winner(r.winner);
    s->set_modulus(r.modulus);
    s->set_control_begin(r.control_begin);
    s->set_control_end(r.control_end);
    for (const GoalCounters& c : r.last) {
      s->add_last_reached(c.reached);
      s->add_last_converted(c.converted);
    }
    int64_t previous = 0;
    for (int64_t c : r.bandit_cumulative) {
      s->add_bandit_weights(c - previous);
      previous = c;
    }
    for (double p : r.probability_best) s->add_probability_best(p);
  }
}

absl::Status Engine::Impl::ReadRollouts(const v1::SnapshotVersionCounters& in, JourneyVersion* v) {
  using Status = internal::RolloutState::Status;
  const std::vector<internal::SplitRuleSpec>& rules = v->graph->split_rules;
  if (in.rollouts_size() != 0 && static_cast<size_t>(in.rollouts_size()) != rules.size()) {
    return SnapshotOutOfRange("split rules");
  }
  for (int i = 0; i < in.rollouts_size(); ++i) {
    const v1::SnapshotRollout& s = in.rollouts(i);
    const internal::GraphNode& split = v->graph->nodes[rules[i].split_node];
    const size_t arms = split.cumulative_weights.size();
    internal::RolloutState r;
    if (s.split_node_id() != split.id || s.status() > 2 ||
        !ReadTime(s.started_nanos(), false, &r.started) || s.checks() < 0 || s.checks() > kMaxRestoredCount ||
        static_cast<size_t>(s.last_reached_size()) != arms ||
        static_cast<size_t>(s.last_converted_size()) != arms) {
      return SnapshotOutOfRange("split rule");
    }
    r.status = static_cast<Status>(s.status());
    r.checks = s.checks();
    // (The times are checked against engine time once every record is
    // read: FinishRestoredRollouts.)
    if (r.status == Status::kTesting) {
      if (!ReadTime(s.next_check_nanos(), false, &r.next_check)) {
        return SnapshotOutOfRange("split rule check");
      }
    } else {
      r.next_check = absl::InfiniteFuture();
      if (!ReadTime(s.concluded_nanos(), false, &r.concluded)) {
        return SnapshotOutOfRange("split rule decision time");
      }
    }
    if (r.status == Status::kDecided) {
      // A winner, and the control's part of the points as a decision sets
      // it: all of one point when the control won, else within a modulus
      // of 100 or the split's total.
      const int32_t control = rules[i].control;
      const bool control_won = s.winner() == control;
      const int64_t modulus = s.modulus();
      if (s.winner() < 0 || static_cast<size_t>(s.winner()) >= arms ||
          (control_won ? modulus != 1
                       : modulus != 100 && modulus != split.cumulative_weights.back()) ||
          s.control_begin() < 0 || s.control_begin() > s.control_end() ||
          s.control_end() > modulus || (control_won && s.control_end() != 1)) {
        return SnapshotOutOfRange("split rule decision");
      }
      r.winner = s.winner();
      r.modulus = modulus;
      r.control_begin = s.control_begin();
      r.control_end = s.control_end();
    } else if (s.winner() != -1 || s.modulus() != 0 || s.control_begin() != 0 ||
               s.control_end() != 0) {
      return SnapshotOutOfRange("split rule decision");
    }
    if (rules[i].kind == internal::SplitRuleSpec::Kind::kBandit) {
      CAIRN_RETURN_IF_ERROR(ReadBanditState(s, arms, &r));
    } else if (s.bandit_weights_size() != 0 || s.probability_best_size() != 0) {
      return SnapshotOutOfRange("split rule bandit state");
    }
    for (size_t arm = 0; arm < arms; ++arm) {
      const int64_t reached = s.last_reached(static_cast<int>(arm));
      const int64_t converted = s.last_converted(static_cast<int>(arm));
      if (converted < 0 || reached < converted || reached > kMaxRestoredCount) {
        return SnapshotOutOfRange("split rule counts");
      }
      r.last.push_back(GoalCounters{reached, converted, 0});
    }
    v->rollouts[i] = std::move(r);
  }
  return absl::OkStatus();
}

// A bandit tests for ever (status 0, no decision); after an update it holds
// a weight per arm, within the total an update hands out, some arm's
// positive, and the probabilities they came from.
absl::Status Engine::Impl::ReadBanditState(const v1::SnapshotRollout& s, size_t arms,
                                           internal::RolloutState* r) {
  if (s.status() != 0 || s.bandit_weights_size() != s.probability_best_size() ||
      (s.bandit_weights_size() != 0 && static_cast<size_t>(s.bandit_weights_size()) != arms)) {
    return SnapshotOutOfRange("bandit state");
  }
  int64_t sum = 0;
  for (int i = 0; i < s.bandit_weights_size(); ++i) {
    const int64_t w = s.bandit_weights(i);
    const double p = s.probability_best(i);
    if (w < 0 || w > internal::kBanditWeightTotal || !(p >= 0 && p <= 1)) {
      return SnapshotOutOfRange("bandit weights");
    }
    sum += w;
    r->bandit_cumulative.push_back(sum);
    r->probability_best.push_back(p);
  }
  if (s.bandit_weights_size() != 0 && sum == 0) return SnapshotOutOfRange("bandit weights");
  return absl::OkStatus();
}

absl::Status Engine::Impl::FinishRestoredRollouts() {
  using Status = internal::RolloutState::Status;
  for (JourneyVersion& v : versions_) {
    for (size_t i = 0; i < v.rollouts.size(); ++i) {
      internal::RolloutState& r = v.rollouts[i];
      const absl::Duration every = v.graph->split_rules[i].check_every;
      if (r.started == absl::InfinitePast()) {
        // Nothing restored (a snapshot from before the rule existed): it
        // starts now, as at a deploy.
        r = StartedRollout(*v.graph, v.graph->split_rules[i]);
        continue;
      }
      if (r.started > now_) return SnapshotOutOfRange("split rule start");
      // A testing rule's next check is still to come (a due one was made
      // before the snapshot), a whole number of periods from its start
      // and at most one from now; a concluded one concluded in between.
      if (r.status == Status::kTesting
              ? r.next_check <= now_ || r.next_check > now_ + every ||
                    (r.next_check - r.started) % every != absl::ZeroDuration()
              : r.concluded < r.started || r.concluded > now_) {
        return SnapshotOutOfRange("split rule time");
      }
    }
  }
  UpdateRolloutDue();
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadJourney(const v1::SnapshotJourney& j) {
  auto it = journey_index_.find(j.journey_id());
  if (it == journey_index_.end()) return SnapshotOutOfRange("journey id");
  JourneyEntry& journey = journeys_[it->second];
  journey.state = j.state();
  // Local days an input can fall on; the counts no larger than the
  // journey's entries, once the counters have given those (CheckCounters).
  const int64_t last_day = internal::LastLocalDay();
  if (j.entries_on_day() < 0 || j.entries_in_occurrence() < 0 || j.entry_day() < 0 ||
      j.entry_day() > last_day || j.occurrence_day() < 0 || j.occurrence_day() > last_day) {
    return SnapshotOutOfRange("journey entry counts");
  }
  journey.entry_day = j.entry_day();
  journey.entries_on_day = j.entries_on_day();
  journey.occurrence_day = j.occurrence_day();
  journey.entries_in_occurrence = j.entries_in_occurrence();
  return ReadRateSends(j.rate_sends_nanos(), &journey.rate_sends);
}

absl::Status Engine::Impl::ReadRateSends(const google::protobuf::RepeatedField<int64_t>& nanos,
                                         std::deque<absl::Time>* sends) const {
  // In time order, each within what a reservation can reach (engine times,
  // and a slot at most a rate limit's reach ahead: bounded by the times
  // engine inputs and durations allow, checked as any time a timer holds).
  sends->clear();
  for (int64_t n : nanos) {
    absl::Time t;
    if (!ReadTime(n, true, &t) || (!sends->empty() && t < sends->back())) {
      return SnapshotOutOfRange("rate limit sends");
    }
    sends->push_back(t);
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadRateLimit(const v1::SnapshotRateLimit& r) {
  if (r.index() >= rate_sends_.size() || !rate_sends_[r.index()].empty()) {
    return SnapshotOutOfRange("rate limit");
  }
  return ReadRateSends(r.sends_nanos(), &rate_sends_[r.index()]);
}

absl::Status Engine::Impl::ReadCounters(const v1::SnapshotVersionCounters& vc) {
  if (vc.version_index() >= versions_.size()) return SnapshotOutOfRange("version index");
  if (!CountsInRange(vc.report())) return SnapshotOutOfRange("journey report count");
  JourneyVersion& v = versions_[vc.version_index()];
  if (!internal::ReadVersionReport(vc.report(), now_, &v)) {
    return SnapshotOutOfRange("per-day counts");
  }
  return ReadRollouts(vc, &v);
}

// Counters agree with the enrollments and with each other, as they do in a
// running engine.
absl::Status Engine::Impl::CheckCounters() const {
  std::vector<std::vector<int64_t>> at_node(versions_.size());
  for (size_t v = 0; v < versions_.size(); ++v) {
    at_node[v].assign(versions_[v].graph->nodes.size(), 0);
  }
  for (const Enrollment& e : enrollments_) {
    if (e.live) ++at_node[e.version][e.node];
  }
  for (size_t v = 0; v < versions_.size(); ++v) {
    const internal::VersionCounters& c = versions_[v].counters;
    int64_t in_version = 0;
    for (size_t n = 0; n < at_node[v].size(); ++n) {
      if (c.nodes[n].current != at_node[v][n] || c.nodes[n].entered < 0) {
        return SnapshotOutOfRange("node counters");
      }
      in_version += at_node[v][n];
      const ActionCounters& a = c.actions[n];
      const int64_t undelivered = SumCounts(a.undelivered);
      if (a.sent < 0 || a.delivered < 0 || a.unreported < 0 || undelivered < 0 ||
          SumCounts(a.failed) < 0 || a.sent < a.delivered + undelivered + a.unreported) {
        return SnapshotOutOfRange("action counters");
      }
    }
    const internal::ScheduleCounters& sc = c.schedule;
    if (sc.skipped < 0 || sc.completed < 0 || sc.occurrences < sc.skipped + sc.completed ||
        sc.matched < 0 || sc.evaluated < sc.matched) {
      return SnapshotOutOfRange("schedule counters");
    }
    if (c.exited < 0 || c.migrated_in < 0 || c.migrated_in > c.entered ||
        c.entered - c.exited != in_version || SumCounts(c.exits) != c.exited) {
      return SnapshotOutOfRange("version counters");
    }
  }
  for (uint32_t i = 0; i < journeys_.size(); ++i) {
    const JourneyEntry& j = journeys_[i];
    const int64_t total = EntriesTotal(i);
    if (j.entries_on_day > total || j.entries_in_occurrence > total) {
      return SnapshotOutOfRange("journey entry counts");
    }
  }
  return absl::OkStatus();
}

}  // namespace cairn
