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
// loyalty: members of a loyalty programme, each in a time zone of their own
//   (Asia/Shanghai, America/New_York, Europe/London, Asia/Kolkata), named in
//   their profile (GenerateProfiles). Each day is the member's local day:
//   they check in at a habitual local time while a habit holds, which
//   sometimes breaks and later restarts (streaks of all lengths, counted in
//   local days across DST changes); they share products (a few share several
//   times a day, so pass 10 shares within a week), and pay for orders with an
//   amount (regulars several times a week). The events are those the
//   behaviour examples listen to: check_in, share, order_paid.
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

enum class Scenario { kEcommerce, kGame, kLoyalty };

// "ecommerce", "game" or "loyalty"; InvalidArgument otherwise.
absl::StatusOr<Scenario> ParseScenario(absl::string_view name);

struct GeneratorOptions {
  Scenario scenario = Scenario::kEcommerce;
  int64_t subjects = 1000;  // REQUIRES: > 0
  int days = 7;             // REQUIRES: > 0
  uint64_t seed = 1;
  // Midnight UTC of the first day. Default: Monday 2026-01-05. (The
  // ecommerce and game scenarios' days are China time: they begin 8 hours
  // before it, and so does their log.)
  absl::Time start = absl::FromUnixSeconds(1767571200);
};

// Writes the log as JSON lines (see json/event_lines.h) and returns the number of
// events written. InvalidArgument for bad options; FailedPrecondition when a
// loyalty member's zone is missing from the zone database.
absl::StatusOr<int64_t> GenerateEvents(const GeneratorOptions& options, std::ostream& out);

// InvalidArgument naming the option when `options` cannot make a log (no
// subjects, no days): what GenerateEvents and GenerateProfiles check first,
// for a caller to check before it opens any output.
absl::Status CheckOptions(const GeneratorOptions& options);

// Writes one profile line (json/event_lines.h) per subject of the log
// GenerateEvents writes with the same options, in subject order, and returns
// the number written. Only loyalty members have profiles: their
// "time_zone" (the attribute behaviours' local days and journeys' local
// times read) and "vip" (a bool). A profile depends only on the seed and
// the subject's number, so it can be written before, after or without the
// events. InvalidArgument for bad options or a scenario without profiles;
// FailedPrecondition when a member's zone is missing from the zone database.
absl::StatusOr<int64_t> GenerateProfiles(const GeneratorOptions& options, std::ostream& out);

}  // namespace cairn::sim

#endif  // CAIRN_SIM_GENERATOR_H_
