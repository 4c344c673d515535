// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Shared pieces of Cairn's fuzz targets: a reader that turns fuzzer bytes
// into choices, a fixed engine set-up (journeys over every node kind and
// policy), a decoder from bytes to engine inputs, and the invariants checked
// after every input. Used by the libFuzzer targets and by the corpus replay
// tests that run under the ordinary test presets.

#ifndef CAIRN_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define CAIRN_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cairn/cairn.h"

namespace cairn::fuzz {

// Prints `what` and aborts when `condition` is false, so that libFuzzer (and
// the replay tests) report the input as a crash.
void Check(bool condition, absl::string_view what);

// Stops protobuf's own logging (it reports invalid UTF-8 on stderr for every
// such input); the status returned is what the targets check. Idempotent.
void SilenceProtobufLogs();

// Reads choices from fuzzer bytes. Past the end every read returns 0.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  // A value in [0, n). REQUIRES: n > 0.
  int Pick(int n) { return Byte() % n; }
  // Up to `max_size` raw bytes.
  std::string Bytes(size_t max_size);

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// A channel sink, profile sink and observer that remembers accepted message
// ids (for delivery reports) and refuses some sends, as the bytes choose.
class RecordingSinks : public ChannelSink, public ProfileSink {
 public:
  SendResult Send(const Message& message) override;
  void Write(const ProfileWrite&) override {}

  // Set by the driver: where refusals are decided.
  ByteReader* reader = nullptr;
  std::vector<std::string> sent_ids;
  int64_t refused = 0;
};

// The options every fuzzed engine uses: a start time, a frequency cap, quiet
// hours and a holdout, so every policy path is reachable.
EngineOptions FuzzEngineOptions();

// A fresh engine with the fixed journeys deployed and `sinks` on every
// channel. Aborts if the set-up fails (a bug, not an input).
std::unique_ptr<Engine> MakeEngine(RecordingSinks* sinks);

// Checks what must hold after any input: per journey version entered =
// exited + in flight and in flight = the sum of node occupancy; per action
// sent = delivered + undelivered + unreported + awaiting_report with no
// negative count; the engine's in-flight total equals the reports'; every
// input counted in exactly one applied/rejected counter of its kind.
struct InputCounts {
  int64_t events = 0;
  int64_t enrollments = 0;
  int64_t profile_updates = 0;
  int64_t delivery_reports = 0;
};
void CheckInvariants(const Engine& engine, const InputCounts& counts);

// Decodes `reader` into a sequence of engine inputs (events, enrollments,
// profile updates, delivery reports, time moves, journey state changes,
// snapshot-and-restore round trips) applied to `*engine`, checking the
// invariants after each one. Statuses must be OK or one of the documented
// error codes. The engine may be replaced by a restored copy.
void RunInputs(ByteReader* reader, std::unique_ptr<Engine>* engine, RecordingSinks* sinks);

}  // namespace cairn::fuzz

#endif  // CAIRN_TESTS_FUZZ_FUZZ_SUPPORT_H_
