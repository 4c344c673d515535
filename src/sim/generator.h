// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Synthetic event logs for demos, tests and benchmarks, deterministic for a
// seed. Each subject draws from its own random stream (seeded by the seed
// and the subject's number), so the log does not depend on how subjects
// interleave. Events are written in time order, streaming: memory grows with
// the number of subjects (one pending session each), not with the log.
//
// ecommerce: shoppers with sessions in an evening-heavy daily rhythm (China
//   time); product views, searches, add-to-cart for about a third of
//   sessions, and payments for some carts, in the session or hours later.
// game: players who register in the first third of the period, then log in
//   on a decaying share of days (churn), level up, and sometimes purchase.
//
// Thread-safety: pure function of its arguments.

#ifndef CAIRN_SIM_GENERATOR_H_
#define CAIRN_SIM_GENERATOR_H_

#include <cstdint>
#include <ostream>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace cairn::sim {

enum class Scenario { kEcommerce, kGame };

// "ecommerce" or "game"; InvalidArgument otherwise.
absl::StatusOr<Scenario> ParseScenario(absl::string_view name);

struct GeneratorOptions {
  Scenario scenario = Scenario::kEcommerce;
  int64_t subjects = 1000;  // REQUIRES: > 0
  int days = 7;             // REQUIRES: > 0
  uint64_t seed = 1;
  // Midnight UTC of the first day. Default: Monday 2026-01-05.
  absl::Time start = absl::FromUnixSeconds(1767571200);
};

// Writes the log as JSON lines (see json/event_lines.h) and returns the number of
// events written. InvalidArgument for bad options.
absl::StatusOr<int64_t> GenerateEvents(const GeneratorOptions& options, std::ostream& out);

}  // namespace cairn::sim

#endif  // CAIRN_SIM_GENERATOR_H_
