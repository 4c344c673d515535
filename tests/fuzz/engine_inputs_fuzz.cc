// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Fuzz target: bytes -> a sequence of engine inputs (events, enrollments,
// profile updates, delivery reports, time moves, journey state changes,
// snapshot/restore restarts) against a fixed set of journeys. After every
// input the counters must balance and every status must be a documented one.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::fuzz::RecordingSinks sinks;
  std::unique_ptr<cairn::Engine> engine = cairn::fuzz::MakeEngine(&sinks);
  cairn::fuzz::ByteReader reader(data, size);
  cairn::fuzz::RunInputs(&reader, &engine, &sinks);
  return 0;
}
