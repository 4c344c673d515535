// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Fuzz target: snapshot bytes -> Restore into an engine with the fixed
// journeys. A refused stream must leave the engine fresh (a later good
// restore still works); an accepted one must hold the counter invariants,
// snapshot again to the same bytes, and keep running (timers fire, inputs
// apply) without breaking them.
//
// Each input is restored twice: as it is, and with every record's checksum
// recomputed. Mutations of record contents would almost all fail the
// checksum; the second pass lets them reach the consistency checks behind
// it, where a corrupt but well-framed snapshot must still be refused.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "fuzz_support.h"
#include "util/record_io.h"

namespace {

// `bytes` read as length-delimited records (varint length, body, 4 checksum
// bytes) with each checksum replaced by the body's real one. Stops at the
// first record that does not fit; the rest is kept as it is.
std::string WithValidChecksums(const std::string& bytes) {
  std::string out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    uint64_t len = 0;
    int shift = 0;
    size_t p = pos;
    bool ok = false;
    while (p < bytes.size() && shift < 64) {
      const uint8_t c = static_cast<uint8_t>(bytes[p++]);
      len |= static_cast<uint64_t>(c & 0x7f) << shift;
      shift += 7;
      if ((c & 0x80) == 0) {
        ok = true;
        break;
      }
    }
    if (!ok || len > bytes.size() - p || bytes.size() - p - len < 4) break;
    const uint32_t crc = cairn::internal::Crc32c(absl::string_view(bytes).substr(p, len));
    out.append(bytes, pos, p + len - pos);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
    pos = p + len + 4;
  }
  out.append(bytes, pos, std::string::npos);
  return out;
}

void RestoreAndCheck(const std::string& bytes) {
  using cairn::fuzz::Check;
  cairn::fuzz::RecordingSinks sinks;
  std::unique_ptr<cairn::Engine> engine = cairn::fuzz::MakeEngine(&sinks);
  std::stringstream in(bytes);
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
    return;
  }
  // The restored state's counters are consistent with themselves.
  const cairn::EngineStats s = engine->stats();
  cairn::fuzz::InputCounts counts;
  counts.events = s.events_applied + s.events_ignored + s.events_rejected;
  counts.enrollments = s.enrollments_applied + s.enrollments_rejected;
  counts.profile_updates = s.profile_updates_applied + s.profile_updates_rejected;
  counts.delivery_reports = s.delivery_reports_applied + s.delivery_reports_rejected;
  counts.behavior_seeds = s.behavior_seeds_applied + s.behavior_seeds_rejected;
  counts.erasures = s.erasures_applied + s.erasures_rejected;
  counts.merges = s.merges_applied + s.merges_rejected;
  cairn::fuzz::CheckInvariants(*engine, counts);

  // Snapshot -> restore -> snapshot is a fixed point.
  std::stringstream first;
  Check(engine->Snapshot(first).ok(), "snapshot of a restored engine");
  cairn::fuzz::RecordingSinks second_sinks;
  std::unique_ptr<cairn::Engine> second = cairn::fuzz::MakeEngine(&second_sinks);
  const absl::Status retaken = second->Restore(first);
  Check(retaken.ok(), absl::StrCat("restore of a re-taken snapshot: ", retaken.ToString()));
  std::stringstream again;
  Check(second->Snapshot(again).ok(), "second snapshot");
  Check(first.str() == again.str(), "snapshot is not a fixed point of restore");

  // Inputs apply to the restored state (sequence steps, keyed instances,
  // consent, counters counting on) without breaking anything.
  for (const char* name : {"view", "cart", "buy", "shipped", "opt_out", "pay"}) {
    for (const char* subject : {"s0", "s1", "big0", "many0"}) {
      cairn::Event event;
      event.subject_id = subject;
      event.name = name;
      event.time = engine->now();
      event.properties = {{"order", cairn::Value::String("o0")}};
      ++counts.events;
      const absl::Status status = engine->Ingest(event);
      Check(status.ok(), absl::StrCat("an event after a restore: ", status.ToString()));
    }
  }
  cairn::fuzz::CheckInvariants(*engine, counts);

  // Time moves on: every pending timer fires without breaking anything
  // (but for a snapshot taken at the end of the range: nothing to move).
  const absl::Time later = std::min(engine->now() + absl::Hours(24 * 30),
                                    cairn::LatestInputTime() - absl::Nanoseconds(1));
  Check(engine->AdvanceTo(later).ok(), "advance");
  cairn::fuzz::CheckInvariants(*engine, counts);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::fuzz::SilenceProtobufLogs();
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  RestoreAndCheck(bytes);
  const std::string fixed = WithValidChecksums(bytes);
  if (fixed != bytes) RestoreAndCheck(fixed);
  return 0;
}
