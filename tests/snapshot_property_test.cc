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

void CheckSeed(uint64_t seed, size_t size, const fuzz::GeneratorLimits& limits) {
  const std::string bytes = RandomBytes(seed, size);
  fuzz::ByteReader reader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  const std::vector<fuzz::Input> inputs = fuzz::DecodeInputs(&reader, limits);
  INFO("seed " << seed << ", " << inputs.size() << " inputs");
  const absl::Status status = fuzz::CheckSnapshotContinuation(inputs, limits);
  INFO(status.ToString());
  REQUIRE(status.ok());
}

TEST_CASE("Every snapshot restores and the restored engine continues identically") {
  fuzz::SilenceProtobufLogs();
  fuzz::GeneratorLimits limits;
  limits.max_inputs = 600;
  limits.max_burst = 400;
  limits.max_string = 20000;
  limits.max_cuts = 3;
  for (uint64_t seed = 1; seed <= 120; ++seed) CheckSeed(seed, 6000, limits);
}

TEST_CASE("Snapshots of oversized per-subject state restore and continue identically") {
  fuzz::SilenceProtobufLogs();
  fuzz::GeneratorLimits limits;
  limits.max_inputs = 3000;
  limits.max_burst = 2500;
  limits.max_string = 60000;
  limits.max_cuts = 2;
  for (uint64_t seed = 1000; seed <= 1007; ++seed) CheckSeed(seed, 20000, limits);
}

}  // namespace
}  // namespace cairn
