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
    return n <= 256 ? Byte() % n : ((Byte() << 8) | Byte()) % n;
  }
  // Up to `max_size` raw bytes.
  std::string Bytes(size_t max_size);

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// How much one byte string may ask for. The fuzz target keeps these small
// so that it runs fast; the property test raises them.
struct GeneratorLimits {
  // Inputs decoded from one byte string (bursts included).
  size_t max_inputs = 64;
  // Inputs (or attributes) one oversized-state choice expands to.
  int max_burst = 32;
  // Bytes in a "very long" string.
  int max_string = 512;
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
    kCut,  // No input: where CheckSnapshotContinuation snapshots.
  };
  Kind kind = Kind::kEvent;
  Event event;             // kEvent
  std::string journey_id;  // kEnroll, kSetJourneyState
  std::string subject_id;  // kEnroll, kUpsertProfile
  absl::Time time;         // every kind with a time
  Attributes attributes;   // kEnroll's context, kUpsertProfile's attributes
  // kReportDelivery: the id is the sent_index-th id a sink accepted (modulo
  // their number) when there is one and sent_index >= 0, else message_id.
  int sent_index = -1;
  std::string message_id;
  DeliveryOutcome outcome = DeliveryOutcome::kDelivered;
  std::string reason;
  v1::JourneyState state = v1::ACTIVE;  // kSetJourneyState
};

// Decodes bytes into engine inputs: events, enrollments, profile updates,
// delivery reports, time moves and journey state changes, with strings that
// are sometimes empty, very long, invalid UTF-8 or full of control
// characters; times that are sometimes year 1, before 1970, 2099, at or
// past 2200 and 2262, infinite, or far ahead of engine time (with and
// without an AdvanceTo first); and bursts that build oversized per-subject
// state (many first steps of a sequence trigger with properties, many keyed
// instances, many profile attributes, many distinct opt-out channels).
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

// A fresh engine with the fixed journeys deployed and `sinks` on every
// channel. Aborts if the set-up fails (a bug, not an input).
std::unique_ptr<Engine> MakeEngine(RecordingSinks* sinks);

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
};
absl::Status CheckCounters(const Engine& engine, const InputCounts& counts);
// Only what the stats say: every input counted exactly once, nothing
// negative. Cheap enough for every input.
absl::Status CheckInputCounts(const EngineStats& stats, const InputCounts& counts);
// The same, aborting.
void CheckInvariants(const Engine& engine, const InputCounts& counts);

// An engine with its sinks and the counts of the inputs given to it.
class FuzzRun {
 public:
  FuzzRun();
  FuzzRun(const FuzzRun&) = delete;
  FuzzRun& operator=(const FuzzRun&) = delete;

  // Applies `input`. Internal when its status is not a documented one, when
  // engine time moved backwards, when a rejected input changed anything, or
  // when the counters no longer balance (the reports checked after every
  // eighth input, the input counts after each).
  absl::Status Apply(const Input& input);

  Engine& engine() { return *engine_; }
  RecordingSinks& sinks() { return sinks_; }
  InputCounts counts;

 private:
  RecordingSinks sinks_;  // Declared first: outlives the engine.
  std::unique_ptr<Engine> engine_;
  int64_t applied_ = 0;
};

// Applies `inputs` to a fresh engine, snapshotting at the first
// limits.max_cuts kCut inputs. Each snapshot must restore into a fresh
// engine that, given the remaining inputs, makes the same sink calls,
// statuses and trace steps, and ends with the same reports, stats, time and
// snapshot bytes as the original. Internal naming the first difference.
absl::Status CheckSnapshotContinuation(const std::vector<Input>& inputs,
                                       const GeneratorLimits& limits);

}  // namespace cairn::fuzz

#endif  // CAIRN_TESTS_FUZZ_FUZZ_SUPPORT_H_
