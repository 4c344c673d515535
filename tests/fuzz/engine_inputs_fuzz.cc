// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Fuzz target: bytes -> a sequence of engine inputs (events, enrollments,
// profile updates, delivery reports, time moves, journey state changes,
// behaviour seeds and declarations),
// with hostile strings, extreme times and bursts of oversized per-subject
// state, against a fixed set of journeys. After every input the counters
// must balance, every status must be a documented one and a rejected input
// must change nothing; a snapshot taken at a cut point must restore into a
// fresh engine that continues exactly as the original (same outputs,
// reports, stats and final snapshot bytes).
//
// Speed: the decoded inputs are bounded (GeneratorLimits::max_inputs), the
// journeys are compiled once for every engine, and the reports are checked
// every eighth input rather than after each: executions of a thousand
// inputs, each followed by three JourneyReports, ran at 7 a second, most of
// it in ASan's allocator and libFuzzer's per-feature bookkeeping. Coverage
// feedback comes from Cairn's own code and the generated parsers only
// (coverage_ignorelist.txt): with the standard library's, Abseil's and
// protobuf's accessors, and this harness's, the corpus hit 7,300 edges, not
// 3,400, and each edge an execution hits is libFuzzer bookkeeping.
// scripts/fuzz runs this target in the fuzz-explore build, without
// sanitizers, and then every input it kept once under ASan + UBSan: on
// 2026-12-07, back to back from the committed corpus for 30 seconds, it
// ran 417 executions a second under ASan + UBSan, 800 under UBSan alone,
// 1,150 under UBSan without its vptr check, and 1,350 to 1,530 with no
// sanitizer. What a sanitizer reports about an input that reached new
// code is still reported; one that only repeats known coverage is not
// checked again (the HOUR_OF_WEEK overflow was found this way).
//
// Behaviours and segments: each execution declares only those its last
// three bytes choose (DecodeInputs), from none to all. Declaring all twelve
// behaviours and five segments in every execution, compiling them again in
// Restore and writing them into every snapshot, took a quarter of its CPU
// time. The seeds from before behaviours existed declare none (as when
// they were found), the behaviours' seeds all (bytes ff ff ff at the end).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::fuzz::SilenceProtobufLogs();
  cairn::fuzz::ByteReader reader(data, size);
  const cairn::fuzz::GeneratorLimits limits;
  const std::vector<cairn::fuzz::Input> inputs = cairn::fuzz::DecodeInputs(&reader, limits);
  static const cairn::EngineOptions* const options =
      new cairn::EngineOptions(cairn::fuzz::SmallLimitsEngineOptions());
  const absl::Status status = cairn::fuzz::CheckSnapshotContinuation(inputs, limits, *options);
  cairn::fuzz::Check(status.ok(), status.message());
  return 0;
}
