// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: splits' experiment rules (v1::SplitRule) and bandits
// (v1::SplitBandit). Each is checked at engine time, every check_every from
// its version's deploy, on the goal counts the version holds then; a rule's
// decision, or a bandit's update, changes how new entries are assigned.
// Checks are timers, not reactions to inputs, so that their times depend
// on the rule alone: a replay, a restored snapshot and a Kafka partition's
// next owner check at the same instants on the same counts
// (docs/semantics.md, "Winner roll-out" and "Bandit splits").

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/hash.h"
#include "cairn/v1/report.pb.h"
#include "compile/journey_graph.h"
#include "exec/engine_impl.h"
#include "exec/engine_state.h"
#include "exec/variant.h"
#include "stats/experiments.h"
#include "stats/stats.h"
#include "util/proto_time.h"

namespace cairn {

using internal::GoalCounters;
using internal::GoalStats;
using internal::JourneyVersion;
using internal::RolloutState;
using internal::SplitRuleSpec;

namespace {

// The goal counters rule `rule` judges on.
const GoalStats& RuleGoal(const JourneyVersion& v, const SplitRuleSpec& rule) {
  return rule.journey_goal >= 0 ? v.counters.journey_goals[rule.journey_goal]
                                : v.counters.node_goals[rule.goal_node];
}

// Each arm's share of new entries, in percent, from running sums.
std::vector<double> Shares(const std::vector<int64_t>& cumulative) {
  std::vector<double> shares;
  int64_t previous = 0;
  for (int64_t c : cumulative) {
    shares.push_back(100.0 * static_cast<double>(c - previous) /
                     static_cast<double>(cumulative.back()));
    previous = c;
  }
  return shares;
}

// The first k >= 0 with first + k * every >= at.
int64_t FirstInstantAtOrAfter(absl::Time first, absl::Duration every, absl::Time at) {
  if (at <= first) return 0;
  absl::Duration rest;
  return absl::IDivDuration(at - first, every, &rest) + (rest > absl::ZeroDuration() ? 1 : 0);
}

// One arm of a rule's or bandit's report: its name and control flag, its
// share of new entries before and now, and the counts and rate of the last
// check.
v1::RolloutArm* AddArm(const v1::SplitVariant& variant, double share_before, double share_after,
                       const GoalCounters& last, v1::RolloutReport* out) {
  v1::RolloutArm* a = out->add_arms();
  a->set_variant(variant.name());
  a->set_control(variant.control());
  a->set_share_before(share_before);
  a->set_share_after(share_after);
  a->set_reached(last.reached);
  a->set_converted(last.converted);
  a->set_rate(internal::Rate(last.converted, last.reached));
  return a;
}

std::vector<internal::ArmCounts> ArmCountsOf(const RolloutState& r) {
  std::vector<internal::ArmCounts> arms;
  for (const GoalCounters& c : r.last) arms.push_back({c.reached, c.converted});
  return arms;
}

}  // namespace

RolloutState Engine::Impl::StartedRollout(const internal::JourneyGraph& graph,
                                          const SplitRuleSpec& rule) const {
  RolloutState r;
  r.started = now_;
  r.next_check = now_ + rule.check_every;
  r.last.resize(graph.nodes[rule.split_node].cumulative_weights.size());
  return r;
}

void Engine::Impl::StartRollouts(JourneyVersion* v) {
  v->rollouts.clear();
  for (const SplitRuleSpec& rule : v->graph->split_rules) {
    v->rollouts.push_back(StartedRollout(*v->graph, rule));
  }
}

void Engine::Impl::UpdateRolloutDue() {
  absl::Time due = absl::InfiniteFuture();
  for (const JourneyVersion& v : versions_) {
    if (v.retired) continue;
    for (const RolloutState& r : v.rollouts) due = std::min(due, r.next_check);
  }
  rollout_due_ = due;
}

void Engine::Impl::FireRolloutDue(absl::Time limit) {
  if (rollout_due_ > now_) now_ = rollout_due_;
  // The checks up to `limit` that come before the next timer and the next
  // scheduled occurrence see the counts of now: nothing else changes them
  // (an input would have ended the call; a decision or an update changes
  // only how entries are assigned, and nothing enters in between).
  const absl::Time other = std::min(timers_.NextDue(), schedule_due_);
  // Versions in deploy order, rules in node order.
  for (uint32_t v = 0; v < versions_.size(); ++v) {
    if (versions_[v].retired) continue;
    for (size_t i = 0; i < versions_[v].rollouts.size(); ++i) {
      const RolloutState& r = versions_[v].rollouts[i];
      if (r.next_check > now_) continue;
      const absl::Duration every = versions_[v].graph->split_rules[i].check_every;
      // Instants next_check + k * every with k >= 0, at most `limit` and
      // before `other`: at least this one.
      absl::Duration rest;
      int64_t instants = absl::IDivDuration(limit - r.next_check, every, &rest) + 1;
      if (other != absl::InfiniteFuture()) {
        instants = std::min(instants, FirstInstantAtOrAfter(r.next_check, every, other));
      }
      CheckRollout(v, i, std::max<int64_t>(instants, 1));
    }
  }
  UpdateRolloutDue();
}

void Engine::Impl::CheckRollout(uint32_t version, size_t index, int64_t instants) {
  JourneyVersion& v = versions_[version];
  const SplitRuleSpec& rule = v.graph->split_rules[index];
  const internal::GraphNode& split = v.graph->nodes[rule.split_node];
  const v1::Split& def = v.graph->definition.nodes(rule.split_node).split();
  RolloutState& r = v.rollouts[index];
  const GoalStats& goal = RuleGoal(v, rule);
  for (int arm = 0; arm < def.variants_size(); ++arm) {
    auto it = goal.by_variant.find({split.id, def.variants(arm).name()});
    r.last[arm] = it != goal.by_variant.end() ? it->second : GoalCounters();
  }
  const absl::Time first = r.next_check;
  if (rule.kind == SplitRuleSpec::Kind::kBandit) {
    // Each update replaces the shares, and nobody is assigned between
    // these: only the last one's draws matter.
    r.checks += instants;
    r.next_check = first + instants * rule.check_every;
    UpdateBandit(v, rule, &r);
    return;
  }
  // The counts are the same at every one of these instants, so the
  // judgement is too: the rule concludes at the first instant past
  // min_duration if there is a winner, else at the first past
  // max_duration (never before min_duration: it is at least that).
  const internal::RolloutJudgement judged =
      internal::JudgeArms(ArmCountsOf(r), rule.control, rule.alpha, rule.min_per_arm);
  int64_t concludes = instants;  // None of these instants.
  if (judged.winner >= 0) {
    concludes = FirstInstantAtOrAfter(first, rule.check_every, r.started + rule.min_duration);
  } else if (rule.max_duration > absl::ZeroDuration()) {
    concludes = FirstInstantAtOrAfter(first, rule.check_every, r.started + rule.max_duration);
  }
  if (concludes >= instants) {
    r.checks += instants;
    r.next_check = first + instants * rule.check_every;
    return;
  }
  r.checks += concludes + 1;
  r.concluded = first + concludes * rule.check_every;
  r.next_check = absl::InfiniteFuture();
  if (judged.winner < 0) {
    r.status = RolloutState::Status::kNoWinner;
    return;
  }
  r.status = RolloutState::Status::kDecided;
  r.winner = judged.winner;
  // The control keeps its share, to the same subjects (or control_percent,
  // assigned afresh); the winner takes the rest; the other arms none. A
  // winning control takes everything.
  const std::vector<int64_t>& cumulative = split.cumulative_weights;
  if (judged.winner == rule.control) {
    r.modulus = 1;
    r.control_begin = 0;
    r.control_end = 1;
  } else if (rule.control_percent >= 0) {
    r.modulus = 100;
    r.control_begin = 0;
    r.control_end = rule.control_percent;
  } else {
    r.modulus = cumulative.back();
    r.control_begin = rule.control == 0 ? 0 : cumulative[rule.control - 1];
    r.control_end = cumulative[rule.control];
  }
}

void Engine::Impl::UpdateBandit(const JourneyVersion& v, const SplitRuleSpec& bandit,
                                RolloutState* r) const {
  const internal::GraphNode& split = v.graph->nodes[bandit.split_node];
  // The update's own stream: documented in docs/semantics.md, so that a
  // host can reproduce the shares.
  internal::CounterRandom random(StableHash64({"bandit", v.seed_text, v.graph->definition.id(),
                                               v.version_text, split.id,
                                               absl::StrCat(r->checks)}));
  r->probability_best = internal::ProbabilityBest(ArmCountsOf(*r), bandit.draws, &random);
  const double arms = static_cast<double>(r->probability_best.size());
  const double floor = bandit.min_percent / 100;
  r->bandit_cumulative.clear();
  int64_t sum = 0;
  for (double p : r->probability_best) {
    const double share = floor + (1 - arms * floor) * p;
    sum += std::llround(share * static_cast<double>(internal::kBanditWeightTotal));
    r->bandit_cumulative.push_back(sum);
  }
  // (The probabilities sum to 1, so some arm has a weight.)
}

int Engine::Impl::AssignVariant(const JourneyVersion& v, const internal::GraphNode& split,
                                uint64_t hash) const {
  if (split.split_rule >= 0) {
    const RolloutState& r = v.rollouts[split.split_rule];
    if (r.modulus > 0) {
      const int64_t point = static_cast<int64_t>(hash % static_cast<uint64_t>(r.modulus));
      const int32_t control = v.graph->split_rules[split.split_rule].control;
      return point >= r.control_begin && point < r.control_end ? control : r.winner;
    }
    if (!r.bandit_cumulative.empty()) return internal::PickVariant(hash, r.bandit_cumulative);
  }
  return internal::PickVariant(hash, split.cumulative_weights);
}

void Engine::Impl::AddRolloutReports(const JourneyVersion& v, v1::VersionReport* vr) const {
  for (size_t i = 0; i < v.rollouts.size(); ++i) {
    const SplitRuleSpec& rule = v.graph->split_rules[i];
    const RolloutState& r = v.rollouts[i];
    const internal::GraphNode& split = v.graph->nodes[rule.split_node];
    const v1::Split& def = v.graph->definition.nodes(rule.split_node).split();
    v1::RolloutReport* out = vr->add_rollouts();
    out->set_split_node_id(split.id);
    out->set_goal(rule.goal);
    if (rule.kind == SplitRuleSpec::Kind::kBandit) {
      AddBanditReport(v, rule, r, out);
      continue;
    }
    out->set_kind("rule");
    switch (r.status) {
      case RolloutState::Status::kTesting:
        out->set_status("testing");
        out->set_next_check(internal::FormatTimeUtc(r.next_check));
        break;
      case RolloutState::Status::kDecided:
        out->set_status("decided");
        out->set_winner(def.variants(r.winner).name());
        break;
      case RolloutState::Status::kNoWinner:
        out->set_status("no_winner");
        break;
    }
    if (r.status != RolloutState::Status::kTesting) {
      out->set_concluded_at(internal::FormatTimeUtc(r.concluded));
    }
    out->set_checks(r.checks);
    const internal::RolloutJudgement judged =
        internal::JudgeArms(ArmCountsOf(r), rule.control, rule.alpha, rule.min_per_arm);
    out->set_alpha_per_test(judged.alpha_per_test);
    const std::vector<double> before = Shares(split.cumulative_weights);
    std::vector<double> after = before;
    if (r.modulus > 0) {
      const double control_share = 100.0 * static_cast<double>(r.control_end - r.control_begin) /
                                   static_cast<double>(r.modulus);
      after.assign(after.size(), 0);
      after[r.winner] += 100.0 - control_share;
      after[rule.control] += control_share;
    }
    for (int arm = 0; arm < def.variants_size(); ++arm) {
      v1::RolloutArm* a = AddArm(def.variants(arm), before[arm], after[arm], r.last[arm], out);
      if (judged.p_values[arm] >= 0) a->set_p_value(judged.p_values[arm]);
    }
  }
}

void Engine::Impl::AddBanditReport(const JourneyVersion& v, const SplitRuleSpec& bandit,
                                   const RolloutState& r, v1::RolloutReport* out) const {
  const internal::GraphNode& split = v.graph->nodes[bandit.split_node];
  const v1::Split& def = v.graph->definition.nodes(bandit.split_node).split();
  out->set_kind("bandit");
  out->set_status("adapting");
  out->set_checks(r.checks);
  out->set_next_check(internal::FormatTimeUtc(r.next_check));
  const std::vector<double> before = Shares(split.cumulative_weights);
  const std::vector<double> after =
      r.bandit_cumulative.empty() ? before : Shares(r.bandit_cumulative);
  std::vector<double> means;
  for (const GoalCounters& c : r.last) {
    means.push_back((1 + static_cast<double>(c.converted)) /
                    (2 + static_cast<double>(c.reached)));
  }
  const double best = means.empty() ? 0 : *std::max_element(means.begin(), means.end());
  double regret = 0;
  for (int arm = 0; arm < def.variants_size(); ++arm) {
    v1::RolloutArm* a = AddArm(def.variants(arm), before[arm], after[arm], r.last[arm], out);
    a->set_posterior_mean(means[arm]);
    if (!r.probability_best.empty()) a->set_probability_best(r.probability_best[arm]);
    regret += static_cast<double>(r.last[arm].reached) * (best - means[arm]);
  }
  out->set_regret(regret);
}

}  // namespace cairn
