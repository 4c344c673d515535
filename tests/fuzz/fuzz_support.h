// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Shared pieces of Cairn's fuzz targets and of the snapshot property test: a
// reader that turns bytes into choices, a fixed engine set-up (journeys over
// every node kind and policy), a generator that decodes bytes into engine
// inputs (hostile strings, extreme times, oversized per-subject state), the
// invariants checked after every input, and the snapshot -> restore ->
// identical continuation check. Used by the libFuzzer targets, by the corpus
// replay tests that run under the ordinary test presets, and, fed seeded
// random bytes, by tests/snapshot_property_test.cc.

#ifndef CAIRN_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define CAIRN_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/cairn.h"

namespace cairn::fuzz {

// Prints `what` and aborts when `condition` is false, so that libFuzzer (and
// the replay tests) report the input as a crash.
void Check(bool condition, absl::string_view what);

// Stops protobuf's own logging (it reports invalid UTF-8 on stderr for every
// such input); the status returned is what the targets check. Idempotent.
void SilenceProtobufLogs();

// Reads choices from bytes. Past the end every read returns 0.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  // A value in [0, n). REQUIRES: 0 < n <= 65536.
  int Pick(int n) {
    if (n <= 256) return Byte() % n;
    // (The high byte first, in its own statement: the order of two reads in
    // one expression is the compiler's choice, and the replay tests (GCC)
    // must decode a byte string as the fuzzer (clang) did.)
    const int high = Byte();
    return ((high << 8) | Byte()) % n;
  }
  // Up to `max_size` raw bytes.
  std::string Bytes(size_t max_size);
  // Up to `n` (<= 4) bytes taken from the end, the last one lowest, as a
  // number (0 past the start); reads from the front no longer see them. (As
  // LLVM's FuzzedDataProvider takes its integers: bytes added to the end of
  // an older input leave what its front decodes to as it was.)
  uint32_t TakeFromEnd(int n);
  // How many bytes from the front have been read.
  size_t position() const { return pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// How much one byte string may ask for. The fuzz target keeps these small
// so that it runs fast, and runs engines whose limits they reach
// (SmallLimitsEngineOptions); the property test raises them.
struct GeneratorLimits {
  // Inputs decoded from one byte string (bursts included).
  size_t max_inputs = 32;
  // Inputs (or attributes) one oversized-state choice expands to.
  int max_burst = 8;
  // Bytes in a "very long" string: past SmallLimitsEngineOptions'
  // max_input_bytes.
  int max_string = 1100;
  // Snapshot cut points checked by CheckSnapshotContinuation.
  int max_cuts = 1;
};

// One engine input, decoded from bytes.
struct Input {
  enum class Kind {
    kEvent,
    kEnroll,
    kReportDelivery,
    kUpsertProfile,
    kAdvanceTo,
    kSetJourneyState,
    kSeedBehavior,
    kDeclareBehaviors,
    kForget,
    kMerge,
    kCut,  // No input: where CheckSnapshotContinuation snapshots.
  };
  Kind kind = Kind::kEvent;
  Event event;             // kEvent
  std::string journey_id;  // kEnroll, kSetJourneyState
  std::string subject_id;  // kEnroll, kUpsertProfile, kForget
  std::string subject_type;  // kForget, kMerge
  std::string merge_from;    // kMerge: merged into subject_id
  absl::Time time;         // every kind with a time
  Attributes attributes;   // kEnroll's context, kUpsertProfile's attributes
  // kReportDelivery: the id is the sent_index-th id a sink accepted (modulo
  // their number) when there is one and sent_index >= 0, else message_id.
  int sent_index = -1;
  std::string message_id;
  DeliveryOutcome outcome = DeliveryOutcome::kDelivered;
  std::string reason;
  v1::JourneyState state = v1::ACTIVE;  // kSetJourneyState
  BehaviorSeed seed;                    // kSeedBehavior
  // kDeclareBehaviors: which of the fixed sets (at `time`), or kChosenSet.
  static constexpr int kChosenSet = -1;
  int behavior_set = 0;
  // With kChosenSet: bit i declares the full set's i-th behaviour (of 12),
  // bit 12 + j its j-th segment (of 5) if what the segment reads is
  // declared too (ChosenBehaviorSet).
  uint32_t chosen = 0;
};

// The behaviours and segments of the full fixed set that `chosen` names (see
// Input::chosen), in their order: any part of it that compiles.
v1::BehaviorSet ChosenBehaviorSet(uint32_t chosen);
// `chosen` naming every behaviour and segment: the full set.
inline constexpr uint32_t kChooseAll = (1u << 18) - 1;

// Decodes bytes into engine inputs. The first declares the behaviours and
// segments the last three bytes choose (TakeFromEnd, Input::chosen: any
// part of the full fixed set, from none (then no input) to all, so that an
// execution pays only for the ones it declares). Then events, enrollments,
// profile updates, delivery reports, time moves, journey state changes,
// behaviour seeds (by value and by history, fitting their behaviour or
// not) and declarations (the fixed set, part of it, a changed one, none, an
// invalid one), with strings that are sometimes empty, very long, invalid
// UTF-8 or full of control characters; times that are sometimes year 1,
// before 1970, 2099, at or past 2200 and 2262, infinite, or far ahead of
// engine time (with and without an AdvanceTo first); and bursts that build
// oversized per-subject state (many first steps of a sequence trigger with
// properties, many keyed instances, many profile attributes, many distinct
// opt-out channels).
std::vector<Input> DecodeInputs(ByteReader* reader, const GeneratorLimits& limits);

// A channel sink, profile sink and observer that logs every output, and
// refuses some sends (decided by the message id, so that an engine and its
// restored copy get the same answers).
class RecordingSinks : public ChannelSink, public ProfileSink, public Observer {
 public:
  SendResult Send(const Message& message) override;
  void Write(const ProfileWrite& write) override;
  void OnStep(const TraceStep& step) override;

  std::vector<std::string> sent_ids;  // Accepted, for delivery reports.
  std::string log;                    // Every output and status, in order.
};

// The options every fuzzed engine uses: a start time, a frequency cap, quiet
// hours and a holdout, so every policy path is reachable.
EngineOptions FuzzEngineOptions();

// FuzzEngineOptions with the limits on one input and on one subject's state
// lowered to where a burst of a few inputs reaches each of them (the
// defaults take hundreds to millions), and enforcing its share of every
// entry and rate limit as one of two engines: what the engine-inputs fuzz
// target runs. (Snapshots record the limits, so the snapshot seeds, written with
// FuzzEngineOptions, restore only into engines with those.)
EngineOptions SmallLimitsEngineOptions();

// A fresh engine with the fixed behaviours (every function, windowed and
// not) declared, the fixed journeys deployed and `sinks` on every channel,
// with FuzzEngineOptions or `options`. Aborts if the set-up fails
// (a bug, not an input).
// An engine about to restore a snapshot may skip the declarations
// (`declare_behaviors` false): Restore replaces them with the snapshot's.
std::unique_ptr<Engine> MakeEngine(RecordingSinks* sinks);
std::unique_ptr<Engine> MakeEngine(RecordingSinks* sinks, const EngineOptions& options,
                                   bool declare_behaviors = true);

// What must hold after any input: per journey version entered = exited + in
// flight and in flight = the sum of node occupancy; per action sent =
// delivered + undelivered + unreported + awaiting_report with no negative
// count; the engine's in-flight total equals the reports'; every input
// counted in exactly one applied/rejected counter of its kind. Internal
// naming the first that does not.
struct InputCounts {
  int64_t events = 0;
  int64_t enrollments = 0;
  int64_t profile_updates = 0;
  int64_t delivery_reports = 0;
  int64_t behavior_seeds = 0;
  int64_t erasures = 0;
  int64_t merges = 0;
};
absl::Status CheckCounters(const Engine& engine, const InputCounts& counts);
// Only what the stats say: every input counted exactly once, nothing
// negative. Cheap enough for every input.
absl::Status CheckInputCounts(const EngineStats& stats, const InputCounts& counts);
// The same, aborting.
void CheckInvariants(const Engine& engine, const InputCounts& counts);

// An engine with its sinks and the counts of the inputs given to it.
// Internal when Engine::Inspect of `subject` fails or says what cannot
// be: an arrival after engine time, an overdue timer, a missing node.
// `what`: the input just applied, for the message.
absl::Status CheckInspect(const Engine& e, const std::string& subject, absl::string_view what);

class FuzzRun {
 public:
  FuzzRun();  // With FuzzEngineOptions.
  // `declare_behaviors` false (MakeEngine's): for an engine that restores a
  // snapshot first, or whose inputs declare its behaviours (DecodeInputs').
  explicit FuzzRun(const EngineOptions& options, bool declare_behaviors = true);
  FuzzRun(const FuzzRun&) = delete;
  FuzzRun& operator=(const FuzzRun&) = delete;

  // Applies `input`. Internal when its status is not a documented one, when
  // engine time moved backwards, when a rejected input changed anything, or
  // when an input is not counted exactly once (CheckInputCounts; the
  // reports' balances are left to the caller, see CheckCounters).
  absl::Status Apply(const Input& input);

  Engine& engine() { return *engine_; }
  RecordingSinks& sinks() { return sinks_; }
  InputCounts counts;

 private:
  RecordingSinks sinks_;  // Declared first: outlives the engine.
  std::unique_ptr<Engine> engine_;
};

// Applies `inputs` to a fresh engine that declares no behaviours but the
// inputs' own (DecodeInputs' first input), snapshotting at the last
// limits.max_cuts kCut inputs (at the end when there is none). Each
// snapshot must restore into a fresh engine (Restore itself checks that the
// counters agree with the enrollments) that, given the remaining inputs,
// makes the same sink calls, statuses and trace steps, and ends with the
// same stats, time and snapshot bytes as the original (so the same reports:
// Report() gives the version counters and journey states a snapshot
// holds). Every input is checked as FuzzRun::Apply says, and the balances
// CheckCounters checks hold at the end of the original run (read from its
// final snapshot's version counters). Internal naming the first
// difference. The engines run with FuzzEngineOptions or `options`.
absl::Status CheckSnapshotContinuation(const std::vector<Input>& inputs,
                                       const GeneratorLimits& limits);
absl::Status CheckSnapshotContinuation(const std::vector<Input>& inputs,
                                       const GeneratorLimits& limits,
                                       const EngineOptions& options);

}  // namespace cairn::fuzz

#endif  // CAIRN_TESTS_FUZZ_FUZZ_SUPPORT_H_
