// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "stats/experiments.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "stats/stats.h"
#include "util/stable_hasher.h"

namespace cairn::internal {
namespace {

std::string LiftText(double lift) {
  return absl::StrFormat("%s%.2f%%", lift > 0 ? "+" : "", 100 * lift);
}

// The position of goal `name` in `version`'s goals (the order experiments
// keep), or the number of goals.
int GoalPosition(const v1::VersionReport& version, const std::string& name) {
  for (int i = 0; i < version.goals_size(); ++i) {
    if (version.goals(i).name() == name) return i;
  }
  return version.goals_size();
}

void SortExperiments(v1::VersionReport* version) {
  auto* list = version->mutable_experiments();
  std::stable_sort(list->begin(), list->end(),
                   [version](const v1::ExperimentReport& a, const v1::ExperimentReport& b) {
                     const int ga = GoalPosition(*version, a.goal());
                     const int gb = GoalPosition(*version, b.goal());
                     if (ga != gb) return ga < gb;
                     return a.split_node_id() < b.split_node_id();
                   });
}

}  // namespace

std::string FormatPValue(double p) {
  return p < 0.0001 ? std::string("< 0.0001") : absl::StrFormat("%.4f", p);
}

std::string PValuePhrase(double p) {
  return p < 0.0001 ? std::string("p < 0.0001") : absl::StrCat("p = ", FormatPValue(p));
}

void ComputeExperiment(v1::ExperimentReport* e) {
  const int arms = e->arms_size();
  int control = 0;
  for (int i = 0; i < arms; ++i) {
    if (e->arms(i).control()) control = i;
  }
  for (int i = 0; i < arms; ++i) {
    v1::ArmReport* arm = e->mutable_arms(i);
    arm->set_control(i == control);
    arm->set_rate(Rate(arm->converted(), arm->reached()));
    const Interval interval = WilsonInterval(arm->converted(), arm->reached());
    arm->set_rate_low(interval.low);
    arm->set_rate_high(interval.high);
    arm->clear_lift();
  }
  if (arms == 0) return;
  const v1::ArmReport& base = e->arms(control);
  for (int i = 0; i < arms; ++i) {
    if (i != control && base.rate() > 0) {
      e->mutable_arms(i)->set_lift(e->arms(i).rate() / base.rate() - 1);
    }
  }
  TestResult test;
  if (arms == 2) {
    const v1::ArmReport& other = e->arms(control == 0 ? 1 : 0);
    test = TwoProportionZTest(other.converted(), other.reached(), base.converted(),
                              base.reached());
    e->set_test("z");
  } else {
    std::vector<int64_t> successes, trials;
    for (const v1::ArmReport& arm : e->arms()) {
      successes.push_back(arm.converted());
      trials.push_back(arm.reached());
    }
    test = ChiSquareTest(successes, trials);
    e->set_test("chi_square");
  }
  e->set_valid(test.valid);
  e->set_statistic(test.valid ? test.statistic : 0);
  e->set_degrees_of_freedom(test.valid ? test.degrees_of_freedom : 0);
  e->set_p_value(test.valid ? test.p_value : 1);
  e->set_significant(test.valid && test.p_value < kExperimentAlpha);
  const v1::ArmReport* leader = nullptr;
  for (int i = 0; i < arms; ++i) {
    if (i != control && (leader == nullptr || e->arms(i).rate() > leader->rate())) {
      leader = &e->arms(i);
    }
  }
  e->set_leader(leader != nullptr ? leader->variant() : "");
  if (!test.valid) {
    e->set_verdict("No verdict: an arm is empty or nobody (or everybody) converted.");
  } else if (!e->significant()) {
    e->set_verdict(absl::StrCat("Not significant (", PValuePhrase(test.p_value),
                                "): no reliable difference between the arms yet."));
  } else if (arms > 2) {
    // Chi-square says the arms differ, not which from which: the leader
    // is named as the best, not as better than the control (each arm
    // against the control is the rollout rule's test).
    const v1::ArmReport& best = leader != nullptr && leader->rate() >= base.rate() ? *leader : base;
    e->set_verdict(absl::StrCat(
        "Significant (", PValuePhrase(test.p_value), "): the arms differ; ", best.variant(),
        " converts best",
        &best != &base && best.has_lift()
            ? absl::StrCat(" (", LiftText(best.lift()), " against ", base.variant(), ")")
            : "",
        "."));
  } else if (leader != nullptr && leader->rate() >= base.rate()) {
    e->set_verdict(absl::StrCat(
        "Significant (", PValuePhrase(test.p_value), "): ", leader->variant(),
        " converts better than ", base.variant(),
        leader->has_lift() ? absl::StrCat(" (", LiftText(leader->lift()), " lift)") : "", "."));
  } else {
    e->set_verdict(absl::StrCat("Significant (", PValuePhrase(test.p_value), "): ",
                                base.variant(), " converts better than every other arm."));
  }
}

RolloutJudgement JudgeArms(const std::vector<ArmCounts>& arms, int control, double alpha,
                           int64_t min_per_arm) {
  RolloutJudgement j;
  const int n = static_cast<int>(arms.size());
  j.p_values.assign(arms.size(), -1);
  if (n < 2 || control < 0 || control >= n) return j;
  j.alpha_per_test = alpha / (n - 1);
  const auto rate = [&](int i) { return Rate(arms[i].converted, arms[i].reached); };
  bool enough = true;
  int better = -1;
  int worse = 0;
  for (int i = 0; i < n; ++i) {
    if (arms[i].reached < min_per_arm) enough = false;
    if (i == control) continue;
    const TestResult t = TwoProportionZTest(arms[i].converted, arms[i].reached,
                                            arms[control].converted, arms[control].reached);
    if (!t.valid) continue;
    j.p_values[i] = t.p_value;
    if (t.p_value >= j.alpha_per_test) continue;
    if (rate(i) > rate(control)) {
      if (better < 0 || rate(i) > rate(better)) better = i;
    } else if (rate(i) < rate(control)) {
      ++worse;
    }
  }
  if (!enough) return j;
  if (better >= 0) {
    j.winner = better;
  } else if (worse == n - 1) {
    j.winner = control;
  }
  return j;
}

double CounterRandom::Uniform() {
  return UnitInterval(SplitMix64Mix(key_ + (++counter_) * kSplitMix64Increment));
}

double CounterRandom::Normal() {
  // 1 - u is in (0, 1]: its log is finite.
  const double r = std::sqrt(-2 * std::log(1 - Uniform()));
  return r * std::cos(2 * M_PI * Uniform());
}

double CounterRandom::Gamma(double shape) {
  const double d = shape - 1.0 / 3;
  const double c = 1 / std::sqrt(9 * d);
  while (true) {
    double x, v;
    do {
      x = Normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = Uniform();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0 && std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
  }
}

double CounterRandom::Beta(double a, double b) {
  const double x = Gamma(a);
  const double y = Gamma(b);
  return x / (x + y);
}

std::vector<double> ProbabilityBest(const std::vector<ArmCounts>& arms, int draws,
                                    CounterRandom* random) {
  std::vector<double> wins(arms.size(), 0);
  if (arms.empty() || draws <= 0) return wins;
  for (int d = 0; d < draws; ++d) {
    size_t best = 0;
    double best_sample = -1;
    for (size_t i = 0; i < arms.size(); ++i) {
      const double sample =
          random->Beta(1 + static_cast<double>(arms[i].converted),
                       1 + static_cast<double>(arms[i].reached - arms[i].converted));
      if (sample > best_sample) {
        best = i;
        best_sample = sample;
      }
    }
    wins[best] += 1;
  }
  for (double& w : wins) w /= draws;
  return wins;
}

void AddExperiments(const v1::Journey& journey, v1::VersionReport* version) {
  version->clear_experiments();
  for (const v1::GoalReport& goal : version->goals()) {
    if (goal.has_held_out()) {
      // The holdout first: its split node id, empty, sorts first.
      v1::ExperimentReport* e = version->add_experiments();
      e->set_goal(goal.name());
      e->set_holdout(true);
      for (const v1::GoalCounts* counts : {&goal.held_out(), &goal.not_held_out()}) {
        v1::ArmReport* arm = e->add_arms();
        arm->set_variant(counts == &goal.held_out() ? "held_out" : "not_held_out");
        arm->set_control(counts == &goal.held_out());
        arm->set_reached(counts->reached());
        arm->set_converted(counts->converted());
      }
      ComputeExperiment(e);
    }
    // The goal's counts by split node, then variant (std::map: split node
    // order, whatever order the counters came in).
    std::map<std::string, std::map<std::string, const v1::GoalCounts*>> by_split;
    for (const v1::GoalCounts& c : goal.by_variant()) {
      if (!c.split_node_id().empty()) by_split[c.split_node_id()][c.variant()] = &c;
    }
    for (const auto& [split_id, counts] : by_split) {
      const v1::Node* split = nullptr;
      for (const v1::Node& n : journey.nodes()) {
        if (n.id() == split_id && n.kind_case() == v1::Node::kSplit) split = &n;
      }
      if (split == nullptr) continue;
      v1::ExperimentReport* e = version->add_experiments();
      e->set_goal(goal.name());
      e->set_split_node_id(split_id);
      for (const v1::SplitVariant& variant : split->split().variants()) {
        v1::ArmReport* arm = e->add_arms();
        arm->set_variant(variant.name());
        arm->set_control(variant.control());
        auto it = counts.find(variant.name());
        if (it != counts.end()) {
          arm->set_reached(it->second->reached());
          arm->set_converted(it->second->converted());
        }
      }
      ComputeExperiment(e);
    }
  }
}

void MergeExperiments(const v1::VersionReport& from, v1::VersionReport* into) {
  for (const v1::ExperimentReport& f : from.experiments()) {
    v1::ExperimentReport* same = nullptr;
    for (v1::ExperimentReport& e : *into->mutable_experiments()) {
      if (e.goal() == f.goal() && e.split_node_id() == f.split_node_id()) same = &e;
    }
    if (same == nullptr) {
      *into->add_experiments() = f;
      continue;
    }
    // The same version's split: the same arms in the same order.
    for (int i = 0; i < same->arms_size() && i < f.arms_size(); ++i) {
      v1::ArmReport* arm = same->mutable_arms(i);
      arm->set_reached(arm->reached() + f.arms(i).reached());
      arm->set_converted(arm->converted() + f.arms(i).converted());
    }
  }
  SortExperiments(into);
  for (v1::ExperimentReport& e : *into->mutable_experiments()) ComputeExperiment(&e);
}

}  // namespace cairn::internal
