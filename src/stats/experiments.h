// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Experiments: each goal of a journey version compared across the arms of
// each split it has counts for (cairn.v1.ExperimentReport), computed from
// the version's goal counters. Engine::Report, the merging of reports from
// shards or partitions, and `cairn sim` all use these, so that a host
// reading Report() sees what an analyst sees in the simulator.
//
// Thread-safety: pure functions.

#ifndef CAIRN_STATS_EXPERIMENTS_H_
#define CAIRN_STATS_EXPERIMENTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cairn/v1/journey.pb.h"
#include "cairn/v1/report.pb.h"

namespace cairn::internal {

// The significance level of ExperimentReport.significant.
inline constexpr double kExperimentAlpha = 0.05;

// Replaces version->experiments with one ExperimentReport per (goal, split)
// that the goal has per-variant counts for, in goal order then split node
// id order: every arm of the split as `journey` (the version's definition)
// declares it, its counts, and the statistics; and, before a goal's splits,
// one for the global holdout when the goal has holdout counts.
void AddExperiments(const v1::Journey& journey, v1::VersionReport* version);

// Adds `from`'s arm counts to `into`'s (experiments of the same version on
// other subjects: reports of shards or partitions), appending experiments
// `into` lacks and keeping goal then split order, and computes every
// statistic again from the sums.
void MergeExperiments(const v1::VersionReport& from, v1::VersionReport* into);

// A p-value as a number in a table: 4 decimals, or "< 0.0001".
std::string FormatPValue(double p);
// The same in a sentence: "p = 0.0272", or "p < 0.0001".
std::string PValuePhrase(double p);

// Computes every statistic of `e` (rates, intervals, lifts, the test, the
// leader and the verdict) from its arms' variants, control flags, reached
// and converted.
void ComputeExperiment(v1::ExperimentReport* e);

// One arm's counts on a goal.
struct ArmCounts {
  int64_t reached = 0;
  int64_t converted = 0;
};

// What an experiment rule (v1::SplitRule) concludes from its arms' counts.
struct RolloutJudgement {
  // The winning arm, or -1: no decision yet.
  int winner = -1;
  // alpha / (arms - 1): the level each arm is tested at against the control.
  double alpha_per_test = 0;
  // Per arm, the two-sided p-value of the two-proportion z-test against the
  // control; -1 for the control and where the test is undefined.
  std::vector<double> p_values;
};

// Judges `arms` (two or more) against arm `control`: no winner while an arm
// has fewer than `min_per_arm` reached; else the arm with the highest rate
// (the first on a tie) among those that convert better than the control at
// p < alpha / (arms - 1); else the control, when every other arm converts
// worse at that level; else none. Pure and deterministic: the same counts
// give the same judgement on every machine.
RolloutJudgement JudgeArms(const std::vector<ArmCounts>& arms, int control, double alpha,
                           int64_t min_per_arm);

// A counter-based random stream: the k-th number of stream `key` is a pure
// function of (key, k), so a bandit's update gives the same shares on
// every machine and after a restore. Uniform() is the 53 high bits of
// SplitMix64's output for the state key + (k + 1) * 0x9e3779b97f4a7c15, as
// a number in [0, 1); the other draws are made from it.
class CounterRandom {
 public:
  explicit CounterRandom(uint64_t key) : key_(key) {}
  double Uniform();
  // Standard normal (Box-Muller, two uniforms each).
  double Normal();
  // Gamma(shape, 1) for shape >= 1 (Marsaglia and Tsang's method).
  double Gamma(double shape);
  // Beta(a, b) for a, b >= 1, as Gamma(a) / (Gamma(a) + Gamma(b)).
  double Beta(double a, double b);

 private:
  uint64_t key_;
  uint64_t counter_ = 0;
};

// Thompson sampling's shares: for each arm, the probability that it
// converts best under Beta(1 + converted, 1 + reached - converted)
// posteriors, estimated from `draws` rounds of one sample per arm from
// `random` (ties to the first arm). Sums to 1.
std::vector<double> ProbabilityBest(const std::vector<ArmCounts>& arms, int draws,
                                    CounterRandom* random);

}  // namespace cairn::internal

#endif  // CAIRN_STATS_EXPERIMENTS_H_
