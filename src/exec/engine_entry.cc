// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: entering a journey: re-entry rules and keyed histories, and
// sequence triggers (partial matches, their housekeeping, the absent window).

#include "exec/engine_impl.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "cairn/options.h"
#include "compile/journey_graph.h"
#include "exec/bindings.h"
#include "exec/engine_state.h"
#include "predicate/predicate.h"
#include "timer/local_time.h"
#include "util/proto_time.h"

namespace cairn {

using internal::CountReason;
using internal::Enrollment;
using internal::EntryContext;
using internal::GoalTracker;
using internal::GraphNode;
using internal::JourneyEntry;
using internal::JourneyGraph;
using internal::JourneyHistory;
using internal::JourneyVersion;
using internal::ReadsEntry;
using internal::RenderValue;
using internal::StepBindings;
using internal::TimerKind;

JourneyHistory& Engine::Impl::History(uint32_t subject, uint32_t journey, absl::string_view key) {
  if (JourneyHistory* found = FindHistory(subject, journey, key)) return *found;
  auto& h = subjects_[subject].history;
  h.push_back(internal::MakeJourneyHistory(journey, key));
  return h.back();
}

JourneyHistory* Engine::Impl::FindHistory(uint32_t subject, uint32_t journey, absl::string_view key) {
  for (JourneyHistory& entry : subjects_[subject].history) {
    if (entry.journey == journey && internal::KeyOf(entry) == key) return &entry;
  }
  return nullptr;
}

bool Engine::Impl::MakeRoomForInstance(uint32_t subject, uint32_t journey) {
  auto& all = subjects_[subject].history;
  int held = 0;
  auto oldest_idle = all.end();
  for (auto it = all.begin(); it != all.end(); ++it) {
    if (it->journey != journey) continue;
    ++held;
    if (oldest_idle == all.end() && it->active == 0) oldest_idle = it;
  }
  if (held < options_.max_instances_per_subject) return true;
  ++stats_.limits_reached;
  if (oldest_idle == all.end()) return false;
  all.erase(oldest_idle);
  return true;
}

std::optional<std::string> Engine::Impl::InstanceKey(const JourneyGraph& g,
                                                     const Attributes& context) {
  if (g.instance_key.empty()) return std::string();
  const Value* v = FindAttribute(context, g.instance_key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  return RenderValue(*v);
}

internal::SequenceProgress* Engine::Impl::FindProgress(uint32_t subject, uint32_t version,
                                                      int32_t node) {
  internal::SubjectExtra* extra = subjects_[subject].extra.get();
  if (extra == nullptr) return nullptr;
  for (internal::SequenceProgress& p : extra->sequences) {
    if (p.version == version && p.node == node) return &p;
  }
  return nullptr;
}

internal::SequenceProgress& Engine::Impl::Progress(uint32_t subject, uint32_t version, int32_t node) {
  if (internal::SequenceProgress* p = FindProgress(subject, version, node)) return *p;
  internal::SequenceProgress& p = subjects_[subject].MutableExtra().sequences.emplace_back();
  p.version = version;
  p.node = node;
  p.starts.assign(versions_[version].graph->nodes[node].matchers.size(),
                  absl::InfinitePast());
  return p;
}

void Engine::Impl::AdvanceSequence(uint32_t version, int32_t node, absl::string_view type,
                                   std::optional<uint32_t>* subject, int32_t event_id,
                                   const Event& event) {
  const JourneyVersion& v = versions_[version];
  const GraphNode& trigger = v.graph->nodes[node];
  const Attributes* profile = *subject ? &subjects_[**subject].profile : nullptr;
  StepBindings bindings(profile, &event, nullptr, StepNow(),
                        *subject ? **subject : internal::BehaviorStore::kNoSubject);
  // The absent event cancels a completed match that waits for its silence.
  // Only an existing record can hold one: looking it up must not add one,
  // or every payment of a known subject with no match (most of them) would
  // allocate a record and its step list only for ExpireProgress to free
  // them at once.
  if (trigger.absent && *subject && Matches(*trigger.absent, v, event_id, bindings)) {
    internal::SequenceProgress* p = FindProgress(**subject, version, node);
    if (p != nullptr && p->pending != internal::kNoSlot) {
      ReleasePending(p->pending);
      p->pending = internal::kNoSlot;
      ++versions_[version].counters.nodes[node].sequence_cancelled;
    }
  }
  const size_t n = trigger.matchers.size();
  if (*subject) ExpireProgress(**subject, version, node, trigger.duration);
  // Later steps first, so one event advances a match by one step only.
  for (size_t i = n; i-- > 0;) {
    if (!Matches(trigger.matchers[i], v, event_id, bindings)) continue;
    if (!*subject) *subject = subjects_.Intern(type, event.subject_id);
    internal::SequenceProgress& p = Progress(**subject, version, node);
    if (i == 0) {
      p.starts[0] = now_;
      // Only what the journey reads: a product view's other properties
      // would be copied into every partial match for nothing.
      p.context = EntryContext(*v.graph, event.properties);
      // After this start's window has passed, free it even if the subject
      // never comes back. One housekeeping timer per subject at most: a
      // subject repeating the first step a million times must not queue
      // a million timers.
      if (!subjects_[**subject].progress_timer) {
        ScheduleProgressTimer(**subject, now_ + trigger.duration);
      }
    } else if (p.starts[i - 1] != absl::InfinitePast() &&
               now_ - p.starts[i - 1] <= trigger.duration) {
      p.starts[i] = p.starts[i - 1];
      // Later steps win. Replacing rather than appending keeps the context
      // as large as the distinct names of its steps, however often a
      // middle step repeats.
      for (const auto& property : event.properties) {
        const std::string& name = property.first;
        if (!ReadsEntry(*v.graph, name)) continue;
        p.context.erase(std::remove_if(p.context.begin(), p.context.end(),
                                       [&](const auto& nv) { return nv.first == name; }),
                        p.context.end());
        p.context.push_back(property);
      }
    } else {
      continue;
    }
    if (i + 1 == n) CompleteSequence(**subject, version, node, &p, &event);
  }
}

void Engine::Impl::ExpireProgress(uint32_t subject, uint32_t version, int32_t node,
                                  absl::Duration window) {
  internal::SubjectState& s = subjects_[subject];
  if (s.extra == nullptr) return;
  internal::SubjectExtra::Sequences& all = s.extra->sequences;
  for (size_t i = 0; i < all.size(); ++i) {
    internal::SequenceProgress& p = all[i];
    if (p.version != version || p.node != node) continue;
    bool any = false;
    for (absl::Time& start : p.starts) {
      if (start != absl::InfinitePast() && now_ - start > window) {
        start = absl::InfinitePast();
      }
      any = any || start != absl::InfinitePast();
    }
    if (!any && p.pending == internal::kNoSlot) {
      all.erase(all.begin() + i);
      // Most subjects that start a sequence never finish it: give the
      // block back, or every one of them keeps it for good.
      s.ReleaseExtraIfEmpty();
    } else if (!any) {
      p.context.clear();
    }
    return;
  }
}

void Engine::Impl::ScheduleProgressTimer(uint32_t subject, absl::Time end) {
  const int64_t seconds = absl::ToUnixSeconds(end);
  const int64_t minute = seconds / 60 - (seconds % 60 < 0 ? 1 : 0);
  ScheduleTimer(absl::FromUnixSeconds((minute + 1) * 60), subject, internal::kProgress,
                TimerKind::kSubject);
  subjects_[subject].progress_timer = true;
}

void Engine::Impl::FireProgressTimer(uint32_t subject) {
  subjects_[subject].progress_timer = false;
  ExpireAllProgress(subject);
  absl::Time latest = absl::InfinitePast();
  for (const internal::SequenceProgress& p : subjects_[subject].sequences()) {
    const absl::Duration window = versions_[p.version].graph->nodes[p.node].duration;
    for (absl::Time start : p.starts) {
      if (start != absl::InfinitePast()) latest = std::max(latest, start + window);
    }
  }
  if (latest != absl::InfinitePast()) ScheduleProgressTimer(subject, latest);
}

void Engine::Impl::ExpireAllProgress(uint32_t subject) {
  absl::InlinedVector<std::pair<uint32_t, int32_t>, 4> keys;
  for (const internal::SequenceProgress& p : subjects_[subject].sequences()) {
    keys.emplace_back(p.version, p.node);
  }
  for (const auto& [version, node] : keys) {
    ExpireProgress(subject, version, node, versions_[version].graph->nodes[node].duration);
  }
}

void Engine::Impl::CompleteSequence(uint32_t subject, uint32_t version, int32_t node,
                                    internal::SequenceProgress* p, const Event* event) {
  Attributes context = std::move(p->context);
  p->context.clear();
  std::fill(p->starts.begin(), p->starts.end(), absl::InfinitePast());
  const GraphNode& trigger = versions_[version].graph->nodes[node];
  ++versions_[version].counters.nodes[node].sequence_completed;
  if (!trigger.absent) {
    TryEnter(version, node, subject, event, context);
    return;
  }
  if (p->pending != internal::kNoSlot) return;  // Already waiting: one entry.
  const uint32_t slot = AllocateSlot(&pending_, &free_pending_);
  internal::PendingSequence& pending = pending_[slot];
  pending.live = true;
  pending.subject = subject;
  pending.version = version;
  pending.node = node;
  pending.context = std::move(context);
  p->pending = slot;
  ScheduleTimer(now_ + trigger.absent_within, slot, pending.generation, TimerKind::kSequence);
}

void Engine::Impl::FireSequence(uint32_t slot) {
  internal::PendingSequence pending = std::move(pending_[slot]);
  ReleasePending(slot);
  Progress(pending.subject, pending.version, pending.node).pending = internal::kNoSlot;
  JourneyVersion& v = versions_[pending.version];
  ExpireProgress(pending.subject, pending.version, pending.node,
                 v.graph->nodes[pending.node].duration);
  if (journeys_[v.journey].versions.back() != pending.version) {
    CountReason(&v.counters.entries_refused, "superseded_by_new_version");
    return;
  }
  TryEnter(pending.version, pending.node, pending.subject, nullptr, pending.context);
}

int64_t Engine::Impl::EntriesTotal(uint32_t journey) const {
  int64_t total = 0;
  for (uint32_t version : journeys_[journey].versions) {
    const internal::VersionCounters& c = versions_[version].counters;
    total += c.entered - c.migrated_in;
  }
  return total;
}

std::optional<absl::string_view> Engine::Impl::OverEntryLimit(
    const JourneyVersion& v, std::optional<absl::CivilDay> occurrence) {
  JourneyEntry& journey = journeys_[v.journey];
  const internal::EntryLimitSpec& limits = v.graph->entry_limits;
  if (!limits.any()) return std::nullopt;
  int64_t day = 0;
  if (limits.per_day > 0) {
    day = internal::LocalDayNumber(now_, v.graph->default_time_zone);
    if (day != journey.entry_day) {
      journey.entry_day = day;
      journey.entries_on_day = 0;
    }
  }
  int64_t occurrence_day = 0;
  if (limits.per_occurrence > 0 && occurrence) {
    occurrence_day = *occurrence - absl::CivilDay(1970, 1, 1);
    if (occurrence_day != journey.occurrence_day) {
      journey.occurrence_day = occurrence_day;
      journey.entries_in_occurrence = 0;
    }
  }
  // This engine's share of each limit (EngineOptions::limit_share).
  auto share = [&](int64_t limit) { return ShareOfLimit(limit, options_.limit_share); };
  if (limits.total > 0 && EntriesTotal(v.journey) >= share(limits.total)) {
    return "entry_limit_total";
  }
  if (limits.per_day > 0 && journey.entries_on_day >= share(limits.per_day)) {
    return "entry_limit_day";
  }
  if (limits.per_occurrence > 0 && occurrence &&
      journey.entries_in_occurrence >= share(limits.per_occurrence)) {
    return "entry_limit_occurrence";
  }
  if (limits.per_day > 0) ++journey.entries_on_day;
  if (limits.per_occurrence > 0 && occurrence) ++journey.entries_in_occurrence;
  return std::nullopt;
}

void Engine::Impl::TryEnter(uint32_t version, int32_t trigger, uint32_t subject,
                            const Event* event, const Attributes& context,
                            std::optional<absl::CivilDay> occurrence) {
  // A subject new to the engine is checked against the segments before
  // any journey can write its profile.
  CheckSegmentsNow();
  JourneyVersion& v = versions_[version];
  const JourneyEntry& journey = journeys_[v.journey];
  const v1::JourneySettings& settings = v.graph->definition.settings();
  auto refuse = [&](absl::string_view reason) {
    CountReason(&v.counters.entries_refused, reason);
  };
  if (journey.state == v1::PAUSED) return refuse("journey_paused");
  if (journey.state == v1::STOPPED) return refuse("journey_stopped");
  if (settings.has_active_window()) {
    const auto& w = settings.active_window();
    if ((w.has_start() && now_ < *internal::TimeFromProto(w.start())) ||
        (w.has_end() && now_ >= *internal::TimeFromProto(w.end()))) {
      return refuse("outside_active_window");
    }
  }
  const std::optional<std::string> key = InstanceKey(*v.graph, context);
  if (!key) return refuse("missing_instance_key");
  if (!key->empty() && FindHistory(subject, v.journey, *key) == nullptr &&
      !MakeRoomForInstance(subject, v.journey)) {
    return refuse("instance_limit");
  }
  JourneyHistory& h = History(subject, v.journey, *key);
  const v1::ReentryPolicy& policy = settings.reentry();
  switch (settings.has_reentry() ? policy.mode() : v1::ReentryPolicy::NEVER) {
    case v1::ReentryPolicy::CONCURRENT:
      if (h.active >= static_cast<uint32_t>(policy.max_concurrent())) {
        return refuse("reentry_concurrent");
      }
      break;
    case v1::ReentryPolicy::AFTER_EXIT:
      if (h.active > 0) return refuse("reentry_active");
      if (h.entries > 0 &&
          now_ < internal::LastExit(h) + *internal::DurationFromProto(policy.cooldown())) {
        return refuse("reentry_cooldown");
      }
      break;
    default:
      if (h.entries > 0) return refuse("reentry_never");
      break;
  }
  if (const std::optional<absl::string_view> limit = OverEntryLimit(v, occurrence)) {
    return refuse(*limit);
  }
  ++h.entries;
  ++h.active;
  const uint32_t ordinal = h.entries;

  const uint32_t slot = AllocateEnrollment();
  Enrollment& e = enrollments_[slot];
  e.live = true;
  e.subject = subject;
  e.version = version;
  e.node = -1;
  e.ordinal = ordinal;
  e.visits = 0;
  e.split_node = -1;
  e.variant = -1;
  e.awaiting = false;
  e.due_nanos = Enrollment::kNoDueNanos;
  SetContext(slot, EntryContext(*v.graph, context));
  subjects_[subject].enrollments.push_back(slot);
  ++v.counters.entered;
  CountDay(version, &internal::DayCounter::entered);
  ++in_flight_;
  for (uint32_t g = 0; g < v.graph->goals.size(); ++g) {
    const uint32_t t = AllocateTracker();
    GoalTracker& tr = trackers_[t];
    tr.live = true;
    tr.subject = subject;
    tr.version = version;
    tr.goal = g;
    tr.split_node = -1;
    tr.variant = -1;
    tr.enrollment = slot;
    tr.entry.clear();
    if (!v.graph->instance_key.empty()) {
      tr.entry.emplace_back(v.graph->instance_key, Value::String(*key));
    }
    ++v.counters.journey_goals[g].overall.reached;
    const absl::Time ends = now_ + v.graph->goals[g].window;
    tr.ends_nanos = absl::ToUnixNanos(ends);
    ScheduleTimer(ends, t, tr.generation, TimerKind::kTracker);
    subjects_[subject].trackers.push_back(t);
  }
  Enter(slot, trigger);
  if (v.graph->watches_state) {
    // One already meeting an exit criterion exits before any step.
    if (const internal::JourneyGraph::ExitCriterion* c = MetExitCriterion(slot)) {
      Exit(slot, absl::StrCat("exit_when:", c->name));
      return;
    }
    MarkStateChanged(subject);  // Its re-check now covers this enrollment.
  }
  Run(slot, event);
}

}  // namespace cairn
