// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The delay node: holds an enrollment until a time: a duration from now, the
// next local time of day (in the subject's zone, on allowed weekdays), a
// time relative to a timestamp in the profile, the event or the entry
// context, the next anniversary of a date, or a calendar date, both at a
// local time in the subject's zone. Its timer takes the one edge. A host's
// change of the subject's zone moves a local-time delay into the new zone.

#include <optional>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cairn/options.h"
#include "compile/journey_graph.h"
#include "exec/engine_impl.h"
#include "exec/bindings.h"
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

std::optional<absl::Time> Engine::Impl::LocalDelayDue(uint32_t slot,
                                                     const internal::Bindings& bindings,
                                                     absl::TimeZone zone) {
  const internal::GraphNode& node = NodeOf(enrollments_[slot]);
  const v1::Delay& delay = node.def->delay();
  if (delay.kind_case() == v1::Delay::kUntilTimeOfDay) {
    return internal::NextLocalTime(now_, zone, node.hour, node.minute, node.weekday_mask);
  }
  std::optional<absl::CivilDay> date = node.date;
  if (!date) {
    Value scratch;
    if (const Value* v = bindings.Find(node.relative_path->root, node.relative_path->key,
                                       &scratch)) {
      date = internal::CalendarDateOf(*v, zone);
    }
  }
  if (!date) return std::nullopt;
  if (delay.kind_case() == v1::Delay::kUntilAnniversary) {
    return internal::NextAnniversary(now_, zone, *date, node.days_before, node.hour, node.minute,
                                     node.leap_day_march_1 ? internal::LeapDayRule::kMarch1
                                                           : internal::LeapDayRule::kFebruary28);
  }
  return internal::AtLocal(*date - node.days_before, node.hour, node.minute, zone);
}

bool Engine::Impl::ArriveDelay(uint32_t slot, const internal::Bindings& bindings) {
  internal::Enrollment& e = enrollments_[slot];
  const internal::GraphNode& node = NodeOf(e);
  const v1::Delay& delay = node.def->delay();
  absl::Time due = now_;
  switch (delay.kind_case()) {
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
      if (!DelayTimeUsable(slot, due, delay.relative().if_past())) return false;
      break;
    }
    case v1::Delay::kUntilTimeOfDay:
    case v1::Delay::kUntilAnniversary:
    case v1::Delay::kUntilDate: {
      const std::optional<absl::Time> local = LocalDelayDue(slot, bindings, SubjectZone(e));
      if (!local) {
        Exit(slot, "delay_time_missing");
        return false;
      }
      due = *local;
      if (!DelayTimeUsable(slot, due,
                           delay.kind_case() == v1::Delay::kUntilDate
                               ? delay.until_date().if_past()
                               : v1::RelativeDelay::CONTINUE)) {
        return false;
      }
      break;
    }
    case v1::Delay::kUntilBestTime:
      due = BestTimeDue(e, node);
      break;
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

absl::Time Engine::Impl::BestTimeDue(const internal::Enrollment& e,
                                     const internal::GraphNode& node) {
  // Deploying, declaring and restoring keep the behaviour declared, as an
  // HOUR_OF_WEEK one, while a version that reads it can run.
  const int behavior = behaviors_.Find(node.relative_path->key);
  uint32_t counts[internal::kHoursPerWeek];
  absl::TimeZone zone;
  if (behavior >= 0 && behaviors_.HourCounts(behavior, e.subject, &subjects_[e.subject].profile,
                                             StepNow().read, counts, &zone)) {
    int64_t events = 0;
    for (uint32_t n : counts) events += n;
    if (events >= node.min_events) {
      if (std::optional<absl::Time> best =
              internal::BusiestHourStart(counts, zone, now_, now_ + node.duration)) {
        return *best;
      }
    }
  }
  if (!node.local_fallback) return now_;
  return internal::NextLocalTime(now_, SubjectZone(e), node.hour, node.minute, node.weekday_mask);
}

void Engine::Impl::NoteLocalDelays(uint32_t subject, const Attributes& update) {
  moving_delays_.clear();
  for (uint32_t slot : subjects_[subject].enrollments) {
    const internal::Enrollment& e = enrollments_[slot];
    const internal::GraphNode& node = NodeOf(e);
    if (node.kind != NodeKind::kDelay) continue;
    const v1::Delay::KindCase kind = node.def->delay().kind_case();
    if (kind != v1::Delay::kUntilTimeOfDay && kind != v1::Delay::kUntilAnniversary &&
        kind != v1::Delay::kUntilDate) {
      continue;
    }
    const std::string& attribute = versions_[e.version].graph->time_zone_attribute;
    const Value* now_named = internal::FindSorted(subjects_[subject].profile, attribute);
    for (const auto& [name, value] : update) {
      if (name == attribute && !internal::SameAttributeValue(now_named, value)) {
        moving_delays_.push_back({slot, e.generation, SubjectZone(e)});
        break;
      }
    }
  }
}

void Engine::Impl::MoveLocalDelays() {
  for (const MovingDelay& m : moving_delays_) {
    internal::Enrollment& e = enrollments_[m.slot];
    // An earlier move in this loop may have run the subject on.
    if (!e.live || e.generation != m.generation) continue;
    const internal::StepBindings bindings(&subjects_[e.subject].profile, nullptr, &ContextOf(e),
                                          StepNow(), e.subject);
    const std::optional<absl::Time> old_due = LocalDelayDue(m.slot, bindings, m.old_zone);
    if (!old_due) continue;  // It waits for a date it no longer has: as set.
    // A time of day is the next one in the new zone; a date (a birthday,
    // an expiry) keeps its local date and time, in the new zone.
    const absl::Time due =
        NodeOf(e).def->delay().kind_case() == v1::Delay::kUntilTimeOfDay
            ? *LocalDelayDue(m.slot, bindings, SubjectZone(e))
            : internal::ResolveLocal(absl::ToCivilSecond(*old_due, m.old_zone), SubjectZone(e));
    if (due == *old_due) continue;
    ++e.generation;  // The timer set in the old zone is stale now.
    if (due <= now_) {
      Leave(m.slot, 0);
      Run(m.slot, nullptr);
    } else {
      ScheduleTimer(due, m.slot, e.generation, internal::TimerKind::kNode);
    }
  }
  moving_delays_.clear();
}

bool Engine::Impl::DelayTimeUsable(uint32_t slot, absl::Time due,
                                   v1::RelativeDelay::IfPast if_past) {
  // A time from a profile or event may lie anywhere; a timer must be one
  // the engine can hold (and a snapshot store exactly).
  if (due >= LatestInputTime() + internal::MaxJourneyDuration()) {
    Exit(slot, "delay_time_out_of_range");
    return false;
  }
  if (due <= now_ && if_past == v1::RelativeDelay::EXIT) {
    Exit(slot, "delay_in_past");
    return false;
  }
  return true;
}

void Engine::Impl::DelayTimer(uint32_t slot) { Leave(slot, 0); }

}  // namespace cairn
