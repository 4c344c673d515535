// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Fuzz target: snapshot bytes -> Restore into an engine with the fixed
// journeys. A refused stream must leave the engine fresh (a later good
// restore still works); an accepted one must hold the counter invariants,
// snapshot again to the same bytes, and keep running (timers fire, inputs
// apply) without breaking them.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cairn::fuzz::Check;
  cairn::fuzz::SilenceProtobufLogs();
  cairn::fuzz::RecordingSinks sinks;
  std::unique_ptr<cairn::Engine> engine = cairn::fuzz::MakeEngine(&sinks);
  std::stringstream in(std::string(reinterpret_cast<const char*>(data), size));
  const absl::Status restored = engine->Restore(in);
  if (!restored.ok()) {
    Check(restored.code() == absl::StatusCode::kDataLoss ||
              restored.code() == absl::StatusCode::kFailedPrecondition,
          absl::StrCat("restore: undocumented status ", restored.ToString()));
    // Left fresh: its own (empty) snapshot restores into another engine.
    std::stringstream empty;
    Check(engine->Snapshot(empty).ok(), "snapshot after a refused restore");
    cairn::fuzz::RecordingSinks other_sinks;
    Check(cairn::fuzz::MakeEngine(&other_sinks)->Restore(empty).ok(),
          "a refused restore left the engine not fresh");
    return 0;
  }
  // The restored state's counters are consistent with themselves.
  const cairn::EngineStats s = engine->stats();
  cairn::fuzz::InputCounts counts;
  counts.events = s.events_applied + s.events_ignored + s.events_rejected;
  counts.enrollments = s.enrollments_applied + s.enrollments_rejected;
  counts.profile_updates = s.profile_updates_applied + s.profile_updates_rejected;
  counts.delivery_reports = s.delivery_reports_applied + s.delivery_reports_rejected;
  cairn::fuzz::CheckInvariants(*engine, counts);

  // Snapshot -> restore -> snapshot is a fixed point.
  std::stringstream first;
  Check(engine->Snapshot(first).ok(), "snapshot of a restored engine");
  cairn::fuzz::RecordingSinks second_sinks;
  std::unique_ptr<cairn::Engine> second = cairn::fuzz::MakeEngine(&second_sinks);
  Check(second->Restore(first).ok(), "restore of a re-taken snapshot");
  std::stringstream again;
  Check(second->Snapshot(again).ok(), "second snapshot");
  Check(first.str() == again.str(), "snapshot is not a fixed point of restore");

  // Time moves on: every pending timer fires without breaking anything.
  Check(engine->AdvanceTo(engine->now() + absl::Hours(24 * 30)).ok(), "advance");
  cairn::fuzz::CheckInvariants(*engine, counts);
  return 0;
}
