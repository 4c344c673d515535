// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The offline simulator behind `cairn sim`: replays an event log (JSON
// lines) through one journey on a fresh Engine, with simulated channels that
// refuse, delay or lose delivery reports at given rates, reproducibly for a
// seed.
//
// Thread-safety: Simulate() is a pure function of its inputs.

#ifndef CAIRN_SIM_SIMULATOR_H_
#define CAIRN_SIM_SIMULATOR_H_

#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/engine.h"
#include "cairn/v1/behavior.pb.h"
#include "cairn/v1/journey.pb.h"
#include "cairn/v1/report.pb.h"

namespace cairn::sim {

// How a simulated channel behaves. Each decision is a stable hash of (seed,
// message id), so a run is reproducible and independent of event order.
struct ChannelModel {
  // Share of sends the channel refuses at once (reason "simulated_failure").
  double fail = 0;
  // When the delivery report of an accepted send arrives.
  absl::Duration delay = absl::Minutes(1);
  // Share of accepted sends whose delivery report never arrives.
  double timeout = 0;
};

// Parses "CHANNEL:fail=0.1,delay=5m,timeout=0.02" (every key optional).
absl::StatusOr<std::pair<std::string, ChannelModel>> ParseChannelModel(
    absl::string_view spec);

// A simulated response (--effect): subjects a split assigns to `arm`
// convert on `goal` more often than the log makes them, so that an analyst
// can see whether a test would detect an effect, and watch a rule roll a
// winner out. Exactly one of `points` and `relative` is set, and positive.
//
// How: the simulator follows each enrollment that leaves a split by `arm`
// and, when the goal's window (a journey goal's from entry, a goal node's
// from arrival) is 1 ms from its end and the log has not converted it,
// feeds it the goal's conversion event with probability p, decided by a
// stable hash of (seed, subject, arm, goal, window start). p is worked out
// from the arm's own conversions by the log so far (r, over the windows
// ended): points / (1 - r), or r * relative / (1 - r), so that the arm's
// rate becomes r + points, or r * (1 + relative). The goal's conversion
// must be an event name alone (no condition, not same_key).
struct Effect {
  std::string arm;
  std::string goal;
  double points = 0;    // 0.025 for "+2.5pp".
  double relative = 0;  // 0.2 for "+20%".

  // How much the effect raises a rate `rate`: points, or rate * relative.
  double Rise(double rate) const { return points > 0 ? points : rate * relative; }
};

// Parses "ARM:GOAL=+2.5pp" or "ARM:GOAL=+20%".
absl::StatusOr<Effect> ParseEffect(absl::string_view spec);

// What an effect did, and the sample a test needs to detect it.
struct EffectResult {
  Effect effect;
  // Windows of the arm on the goal that ended (each counted once).
  int64_t windows = 0;
  // Of those: converted by the log, and converted by the simulation.
  int64_t converted_by_log = 0;
  int64_t converted_by_effect = 0;
  // The enrollments per arm a two-sided test at alpha 0.05 needs to detect
  // the effect with 80% power, from the log's rate (0 with no windows).
  int64_t sample_per_arm = 0;
};

// The enrollments per arm that a two-proportion z-test (two-sided, level
// `alpha`) needs to tell `rate` from `rate + difference` with probability
// `power`: (z_a * sqrt(2 q (1 - q)) + z_b * sqrt(p1 (1 - p1) + p2 (1 - p2)))^2
// / difference^2, q the mean rate, rounded up. 0 when undefined.
int64_t SamplePerArm(double rate, double difference, double alpha = 0.05, double power = 0.8);

// How long after the last event SimOptions::until_auto runs at most: a
// journey that loops for ever (a yearly greeting, a recurring schedule)
// never empties.
inline constexpr absl::Duration kAutoUntilLimit = absl::Hours(24 * 365);

struct SimOptions {
  // Per channel; channels not named use ChannelModel's defaults.
  std::map<std::string, ChannelModel> channels;
  uint64_t seed = 1;
  // When to stop. Default: 7 days after the last event, so that waits and
  // goals started near the end can finish.
  std::optional<absl::Time> until;
  // Instead of `until`: stop at the first moment, at or after the last
  // event, when nobody is in flight, and at the latest kAutoUntilLimit
  // after the last event.
  bool until_auto = false;
  // Treat a bad line as fatal instead of reporting and skipping it.
  bool strict = false;
  // Collect the path of this subject (empty: none), with each message it
  // was sent; times in the journey's default_time_zone.
  std::string trace_subject;
  // Where to write every message the journey sends, one JSON object per
  // line, in send order (null: nowhere). See docs/simulator.md, "Messages".
  std::ostream* messages = nullptr;
  // Called every 65536 lines with (lines read, bytes read).
  std::function<void(int64_t, int64_t)> progress;
  // How many bad-line messages to keep (all are counted).
  int max_errors = 20;
  // The engine's behaviours, declared before the journey is deployed.
  v1::BehaviorSet behaviors;
  // Simulated responses, in the order given (SimWarnings and the report
  // list them so).
  std::vector<Effect> effects;
  // Called with the simulated engine once the run has reached `until`,
  // before Simulate returns (may be empty): to read what the report does
  // not hold, such as a subject's behaviour values (Engine::BehaviorValue).
  std::function<void(Engine&)> on_finish;
};

// What a simulated channel saw.
struct ChannelStats {
  int64_t sends = 0;        // Send() calls
  int64_t refused = 0;      // refused at once
  int64_t delivered = 0;    // delivery reports fed back
  int64_t lost = 0;         // accepted, report never sent
};

struct SimResult {
  v1::JourneyReport report;
  EngineStats engine;
  v1::BehaviorsReport behaviors;
  int64_t event_lines = 0;  // Lines of the event log, timed profile lines included.
  int64_t bad_event_lines = 0;
  int64_t profile_updates = 0;  // Timed profile lines of the event log.
  int64_t erasures = 0;         // Erasure lines of the event log.
  int64_t merges = 0;           // Merge lines of the event log.
  int64_t profile_lines = 0;
  int64_t bad_profile_lines = 0;
  int64_t bytes = 0;
  // "file:line: message", the first SimOptions::max_errors of them.
  std::vector<std::string> errors;
  std::map<std::string, ChannelStats> channels;
  // Lines written to SimOptions::messages.
  int64_t messages_written = 0;
  // "time  step" lines for SimOptions::trace_subject.
  std::string trace_subject;
  std::vector<std::string> trace;
  absl::Time first_event = absl::InfinitePast();
  absl::Time last_event = absl::InfinitePast();
  absl::Time until = absl::InfinitePast();
  // Per SimOptions::effects, in order.
  std::vector<EffectResult> effects;
  // What the run suggests went differently from what its caller meant,
  // though nothing failed (SimWarnings), one sentence each, in a fixed
  // order.
  std::vector<std::string> warnings;
};

// The warnings of a finished run of `journey` with `options`: a --sink for
// a channel the journey never sends on (its model does nothing); an
// --effect whose arm never reached the end of a goal window; a --trace
// subject that took no step; nobody entered (naming the trigger events the
// log lacked); enrollments that exited because a delay's time was missing
// (delay_time_missing: not a timestamp or RFC 3339 string); profile zones
// that did not load; enrollments still in flight at the default end (or,
// with until_auto, at its limit).
std::vector<std::string> SimWarnings(const v1::Journey& journey, const SimOptions& options,
                                     const SimResult& result);

// Runs the simulation. Errors: the journey does not deploy; an effect names
// an arm no split has or a goal the journey lacks, or one whose conversion
// a simulated event cannot meet; a bad line with strict set
// (InvalidArgument naming file:line); an unreadable stream.
absl::StatusOr<SimResult> Simulate(const v1::Journey& journey, std::istream& events,
                                   absl::string_view events_name, std::istream* profiles,
                                   absl::string_view profiles_name,
                                   const SimOptions& options);

}  // namespace cairn::sim

#endif  // CAIRN_SIM_SIMULATOR_H_
