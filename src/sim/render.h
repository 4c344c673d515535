// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Turning a simulation into something to read: A/B analysis of every goal
// per split, the text and JSON reports, and a Graphviz picture of the
// journey with its counts.
//
// Thread-safety: pure functions.

#ifndef CAIRN_SIM_RENDER_H_
#define CAIRN_SIM_RENDER_H_

#include <optional>
#include <string>
#include <vector>

#include "cairn/v1/journey.pb.h"
#include "cairn/v1/report.pb.h"
#include "sim/simulator.h"

namespace cairn::sim {

// The human report `cairn sim` prints.
std::string RenderText(const v1::Journey& journey, const SimResult& result);

// The JSON report `cairn sim --format json` prints: the cairn.v1.JourneyReport
// (experiments included) in protobuf's JSON mapping with proto field names,
// every scalar field printed, and 64-bit counts as JSON numbers
// (json::AppendProtoFields), with more members: "behaviors", the run's
// cairn.v1.BehaviorsReport (each behaviour, and each segment's members,
// entered, left and time_driven); "effects", one object per --effect (arm,
// goal, points or relative, windows, converted_by_log,
// converted_by_effect, sample_per_arm); and "warnings",
// SimResult::warnings.
std::string RenderJson(const SimResult& result);

// The same in protobuf's own JSON mapping (`--format proto-json`), where
// 64-bit integers are strings: what a protobuf JSON parser reads back.
std::string RenderProtoJson(const SimResult& result);

// The journey as a Graphviz digraph with counts on nodes and edges and the
// A/B result on each split.
std::string RenderDot(const v1::Journey& journey, const v1::JourneyReport& report);

// 1234567 -> "1,234,567".
std::string WithCommas(int64_t n);

}  // namespace cairn::sim

#endif  // CAIRN_SIM_RENDER_H_
