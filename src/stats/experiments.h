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

#include <string>

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

// A p-value as verdicts and `cairn sim` print it: 4 decimals, or
// "< 0.0001".
std::string FormatPValue(double p);

// Computes every statistic of `e` (rates, intervals, lifts, the test, the
// leader and the verdict) from its arms' variants, control flags, reached
// and converted.
void ComputeExperiment(v1::ExperimentReport* e);

}  // namespace cairn::internal

#endif  // CAIRN_STATS_EXPERIMENTS_H_
