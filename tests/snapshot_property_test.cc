// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The snapshot property: for any inputs, every snapshot Snapshot() returns
// restores, and the restored engine continues exactly as the original (same
// sink calls, statuses and trace steps, reports, stats and later snapshot
// bytes). The inputs come from the engine-inputs fuzz target's generator
// (tests/fuzz/fuzz_support.h) fed seeded random bytes, with its limits
// raised: hostile strings (invalid UTF-8, control characters, empty, very
// long), extreme times (year 1, before 1970, 2099, 2200, 2262, infinite,
// far ahead with and without AdvanceTo) and oversized per-subject state.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "fuzz/fuzz_support.h"

namespace cairn {
namespace {

std::string RandomBytes(uint64_t seed, size_t size) {
  std::mt19937_64 rng(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  return bytes;
}

// Runs the property on the inputs decoded from `size` random bytes of each
// seed in [first, last], with the generator's limits raised as given.
void CheckSeeds(uint64_t first, uint64_t last, size_t size, size_t max_inputs, int max_burst,
                int max_string, int max_cuts) {
  fuzz::SilenceProtobufLogs();
  fuzz::GeneratorLimits limits;
  limits.max_inputs = max_inputs;
  limits.max_burst = max_burst;
  limits.max_string = max_string;
  limits.max_cuts = max_cuts;
  for (uint64_t seed = first; seed <= last; ++seed) {
    const std::string bytes = RandomBytes(seed, size);
    fuzz::ByteReader reader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    const std::vector<fuzz::Input> inputs = fuzz::DecodeInputs(&reader, limits);
    INFO("seed " << seed << ", " << inputs.size() << " inputs");
    const absl::Status status = fuzz::CheckSnapshotContinuation(inputs, limits);
    INFO(status.ToString());
    REQUIRE(status.ok());
  }
}

TEST_CASE("Every snapshot restores and the restored engine continues identically") {
  CheckSeeds(/*first=*/1, /*last=*/120, /*size=*/6000, /*max_inputs=*/600, /*max_burst=*/400,
             /*max_string=*/20000, /*max_cuts=*/3);
}

TEST_CASE("Snapshots of oversized per-subject state restore and continue identically") {
  CheckSeeds(/*first=*/1000, /*last=*/1007, /*size=*/20000, /*max_inputs=*/3000,
             /*max_burst=*/2500, /*max_string=*/60000, /*max_cuts=*/2);
}

}  // namespace
}  // namespace cairn
