// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The delay node: holds an enrollment until a time: a duration from now, the
// next local time of day (in the subject's zone, on allowed weekdays), or a
// time relative to a timestamp in the profile, the event or the entry
// context. Its timer takes the one edge.

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "cairn/options.h"
#include "compile/journey_graph.h"
#include "exec/engine_impl.h"
#include "exec/engine_state.h"
#include "predicate/predicate.h"
#include "timer/local_time.h"
#include "util/proto_time.h"

namespace cairn {
namespace {

// A timestamp, or an RFC 3339 string, as a time.
std::optional<absl::Time> AsTime(const Value& v) {
  if (v.type() == Value::Type::kTimestamp) return v.timestamp_value();
  if (v.type() == Value::Type::kString) {
    absl::Time t;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, v.string_value(), &t, &error)) return t;
  }
  return std::nullopt;
}

}  // namespace

bool Engine::Impl::ArriveDelay(uint32_t slot, const internal::Bindings& bindings) {
  internal::Enrollment& e = enrollments_[slot];
  const internal::GraphNode& node = NodeOf(e);
  const v1::Delay& delay = node.def->delay();
  absl::Time due = now_;
  switch (delay.kind_case()) {
    case v1::Delay::kUntilTimeOfDay:
      due = internal::NextLocalTime(now_, SubjectZone(e), node.hour, node.minute,
                                    node.weekday_mask);
      break;
    case v1::Delay::kRelative: {
      std::optional<absl::Time> base;
      Value scratch;
      if (const Value* v = bindings.Find(node.relative_path->root, node.relative_path->key,
                                         &scratch)) {
        base = AsTime(*v);
      }
      if (!base) {
        Exit(slot, "delay_time_missing");
        return false;
      }
      due = *base + node.duration;
      // A time from a profile or event may lie anywhere; a timer must be
      // one the engine can hold (and a snapshot store exactly).
      if (due >= LatestInputTime() + internal::MaxJourneyDuration()) {
        Exit(slot, "delay_time_out_of_range");
        return false;
      }
      if (due <= now_ && delay.relative().if_past() == v1::RelativeDelay::EXIT) {
        Exit(slot, "delay_in_past");
        return false;
      }
      break;
    }
    default:
      due = now_ + node.duration;
      break;
  }
  if (due <= now_) {
    Leave(slot, 0);
    return false;
  }
  ScheduleTimer(due, slot, e.generation, internal::TimerKind::kNode);
  return true;
}

void Engine::Impl::DelayTimer(uint32_t slot) { Leave(slot, 0); }

}  // namespace cairn
