// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: the inputs (events, enrollments, profile updates, delivery
// reports, time moves): their checks at the door, the time rules, event
// de-duplication, subjects, consent, and the timers that time moves fire.

#include "exec/engine_impl.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cairn/hash.h"
#include "cairn/options.h"
#include "cairn/status_macros.h"
#include "compile/journey_graph.h"
#include "exec/bindings.h"
#include "exec/engine_state.h"
#include "exec/input_checks.h"
#include "exec/sent_messages.h"
#include "predicate/predicate.h"
#include "timer/timer_queue.h"
#include "util/proto_time.h"
#include "util/utf8.h"

namespace cairn {

using internal::ActionCounters;
using internal::CountReason;
using internal::Enrollment;
using internal::FindSorted;
using internal::GoalCounters;
using internal::GraphNode;
using internal::JourneyGraph;
using internal::JourneyVersion;
using internal::SentMessage;
using internal::SetSorted;
using internal::StepBindings;
using internal::SubjectState;
using internal::SubjectTypeOrDefault;
using internal::TimerKind;

absl::Status Engine::Impl::Ingest(const Event& event) {
  absl::Status valid = internal::CheckEvent(event, options_.max_input_bytes);
  if (!valid.ok()) {
    ++stats_.events_rejected;
    return valid;
  }
  CAIRN_RETURN_IF_ERROR(CheckTime(event.time, &stats_.events_rejected, "event"));
  const bool consent_event = !options_.opt_out_attribute.empty() &&
                             ((!options_.opt_out_event.empty() &&
                               event.name == options_.opt_out_event) ||
                              (!options_.opt_in_event.empty() &&
                               event.name == options_.opt_in_event));
  // (Nothing below deploys or declares: `route` stays valid.)
  const EventRoute* route = RouteOf(event.name);
  const int32_t event_id = route != nullptr ? route->id : -1;
  const internal::BehaviorStore::Listeners* behavior_listeners =
      route != nullptr && !route->behaviors.empty() ? &route->behaviors : nullptr;
  if (event_id < 0 && !consent_event && behavior_listeners == nullptr) {
    ApplyTime(event.time);
    ++stats_.events_ignored;
    return absl::OkStatus();
  }
  const absl::string_view type = SubjectTypeOrDefault(event.subject_type);
  // The subject's index entry, looked up below, is another likely cache
  // miss: start fetching it so that it overlaps the dedup ledger's. (No
  // subject type is added before that lookup: timers fired by ApplyTime
  // never add subjects.)
  const std::optional<uint32_t> type_number = subjects_.TypeNumber(type);
  if (type_number) subjects_.Prefetch(*type_number, event.subject_id);
  if (!event.id.empty() && options_.dedup_window > absl::ZeroDuration() &&
      IsDuplicate(type, event.subject_id, event.id, std::max(event.time, now_))) {
    ++stats_.events_rejected;
    ++stats_.events_duplicate;
    return absl::AlreadyExistsError(absl::StrCat(
        "event ", event.id, " of ", type, " ", event.subject_id,
        " was already applied within the dedup window"));
  }
  ApplyTime(event.time);
  ++stats_.events_applied;
  std::optional<uint32_t> subject =
      type_number ? subjects_.Find(*type_number, event.subject_id) : std::nullopt;
  // Makes the subject known (the type's number, when known, spares a
  // lookup of its name).
  auto intern = [&] {
    return type_number ? subjects_.Intern(*type_number, event.subject_id)
                       : subjects_.Intern(type, event.subject_id);
  };
  if (subject) {
    // What the steps below read first and cannot find from the record
    // alone, each likely a cache miss: the subject's state in the
    // behaviours counting the event, its partial sequence matches, its
    // oldest enrollment. Fetched together, their misses overlap instead of
    // following one another.
    const SubjectState& record = subjects_[*subject];
    if (behavior_listeners != nullptr) behaviors_.Prefetch(*behavior_listeners, *subject);
    if (record.extra) __builtin_prefetch(record.extra.get());
    if (!record.enrollments.empty() && record.enrollments[0] < enrollments_.size()) {
      __builtin_prefetch(enrollments_.data() + record.enrollments[0]);
    }
    CatchUpScheduled(*subject);
  }
  if (consent_event) {
    if (!subject) subject = intern();
    ApplyConsent(*subject, event, event.name == options_.opt_out_event);
  }
  if (behavior_listeners != nullptr) {
    // Counted before anything reads them: a trigger on the 11th share sees
    // 11 shares.
    static const Attributes* const kNoProfile = new Attributes();
    const int counted = behaviors_.Add(
        *behavior_listeners,
        [&] {
          if (!subject) subject = intern();
          return *subject;
        },
        type, event, subject ? subjects_[*subject].profile : *kNoProfile, StepNow().read);
    // The segments reading what it counted are re-checked before any
    // journey acts on the event.
    if (counted > 0) {
      MarkStateChanged(*subject);
      for (int b : *behavior_listeners) {
        if (segment_members_.empty()) break;
        QueueSegmentChecks(*subject, segment_members_.ReadingBehavior(b), /*triggers=*/true);
      }
    }
  }
  CheckSegmentsNow();
  if (event_id < 0) {
    CheckSegments();
    return absl::OkStatus();
  }
  if (subject) ApplyToEnrollments(*subject, event_id, event);
  for (const TriggerListener& l : trigger_listeners_[event_id]) {
    const JourneyVersion& v = versions_[l.version];
    if (v.subject_type != type) continue;
    const GraphNode& trigger = v.graph->nodes[l.node];
    if (trigger.def->trigger().kind_case() == v1::Trigger::kSequence) {
      AdvanceSequence(l.version, l.node, type, &subject, event_id, event);
      continue;
    }
    // Profile predicates need the subject; an unknown one has no profile.
    const Attributes* profile = subject ? &subjects_[*subject].profile : nullptr;
    StepBindings bindings(profile, &event, nullptr, StepNow(),
                          subject ? *subject : internal::BehaviorStore::kNoSubject);
    if (!trigger.matchers[0].where.Evaluate(bindings) ||
        !trigger.predicate.Evaluate(bindings)) {
      continue;
    }
    if (!subject) subject = intern();
    TryEnter(l.version, l.node, *subject, &event, event.properties);
  }
  CheckSegments();
  return absl::OkStatus();
}

absl::Status Engine::Impl::Enroll(absl::string_view journey_id, absl::string_view subject_id,
                                  absl::Time time, const Attributes& context) {
  auto it = journey_index_.find(journey_id);
  if (it == journey_index_.end()) {
    ++stats_.enrollments_rejected;
    return UnknownJourney(journey_id);
  }
  if (absl::Status subject = internal::CheckEnrollSubject(journey_id, subject_id);
      !subject.ok()) {
    ++stats_.enrollments_rejected;
    return subject;
  }
  if (absl::Status valid = internal::CheckEnrollment(journey_id, subject_id, context,
                                                     options_.max_input_bytes);
      !valid.ok()) {
    ++stats_.enrollments_rejected;
    return valid;
  }
  const uint32_t version = journeys_[it->second].versions.back();
  const JourneyGraph& graph = *versions_[version].graph;
  int32_t audience = -1;
  for (int32_t t : graph.triggers) {
    if (graph.nodes[t].def->trigger().kind_case() == v1::Trigger::kAudience) {
      audience = t;
      break;
    }
  }
  if (audience < 0) {
    ++stats_.enrollments_rejected;
    return absl::FailedPreconditionError(absl::StrCat(
        "journey ", journey_id, " has no audience trigger; subjects enter it "
        "through events only"));
  }
  CAIRN_RETURN_IF_ERROR(CheckTime(time, &stats_.enrollments_rejected, "enrollment"));
  ApplyTime(time);
  ++stats_.enrollments_applied;
  const uint32_t subject = subjects_.Intern(versions_[version].subject_type, subject_id);
  CatchUpScheduled(subject);
  TryEnter(version, audience, subject, nullptr, context);
  CheckSegments();
  return absl::OkStatus();
}

absl::Status Engine::Impl::UpsertProfile(absl::string_view subject_id, const Attributes& attrs,
                                         absl::Time time, absl::string_view subject_type) {
  if (absl::Status valid = internal::CheckProfileUpdate(subject_id, subject_type, attrs,
                                                        options_.max_input_bytes);
      !valid.ok()) {
    ++stats_.profile_updates_rejected;
    return valid;
  }
  CAIRN_RETURN_IF_ERROR(
      CheckTime(time, &stats_.profile_updates_rejected, "profile update"));
  const absl::string_view type = SubjectTypeOrDefault(subject_type);
  if (absl::Status fits = CheckProfileLimits(type, subject_id, attrs); !fits.ok()) {
    ++stats_.profile_updates_rejected;
    ++stats_.limits_reached;
    return fits;
  }
  ApplyTime(time);
  ++stats_.profile_updates_applied;
  const uint32_t subject = subjects_.Intern(type, subject_id);
  CatchUpScheduled(subject);
  Attributes& profile = subjects_[subject].profile;
  // The profile as it was, copied only when the update changes an
  // attribute that some attribute_change trigger watches.
  std::optional<Attributes> before;
  if (!attribute_listeners_.empty()) {
    for (const auto& [name, value] : attrs) {
      if (attribute_listeners_.contains(name) &&
          !internal::SameAttributeValue(FindSorted(profile, name), value)) {
        before = profile;
        break;
      }
    }
  }
  QueueAttributeChecks(subject, profile, attrs, /*triggers=*/true);
  NoteLocalDelays(subject, attrs);
  for (const auto& [name, value] : attrs) SetSorted(&profile, name, value);
  MarkStateChanged(subject);
  CheckSegmentsNow();
  // The journeys act on it: delays waiting for a local time in the old zone
  // move to the new one.
  if (!moving_delays_.empty()) MoveLocalDelays();
  if (before) EnterOnAttributeChanges(subject, type, *before, attrs);
  CheckSegments();
  return absl::OkStatus();
}

void Engine::Impl::EnterOnAttributeChanges(uint32_t subject, absl::string_view type,
                                           const Attributes& before, const Attributes& update) {
  // The watched attributes the update names, each once (an attribute
  // named twice changed once, to its last value), in name order.
  absl::InlinedVector<absl::string_view, 4> names;
  for (const auto& [name, value] : update) {
    if (attribute_listeners_.contains(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (absl::string_view name : names) {
    auto listeners = attribute_listeners_.find(name);
    const Value* from = FindSorted(before, name);
    const Value* to = FindSorted(subjects_[subject].profile, name);
    if (internal::SameAttributeValue(from, to != nullptr ? *to : Value())) continue;
    Attributes context;  // Sorted by name: "from" < "to".
    if (from != nullptr) context.emplace_back("from", *from);
    if (to != nullptr) context.emplace_back("to", *to);
    const StepBindings was(&before, nullptr, nullptr, StepNow(), subject);
    const StepBindings is(&subjects_[subject].profile, nullptr, nullptr, StepNow(), subject);
    for (const TriggerListener& l : listeners->second) {
      const JourneyVersion& v = versions_[l.version];
      if (v.subject_type != type) continue;
      const GraphNode& trigger = v.graph->nodes[l.node];
      if (!trigger.change_from.Evaluate(was) || !trigger.predicate.Evaluate(is)) continue;
      TryEnter(l.version, l.node, subject, nullptr, context);
    }
  }
}

absl::Status Engine::Impl::ReportDelivery(absl::string_view message_id, DeliveryOutcome outcome,
                                          absl::Time time, absl::string_view reason) {
  uint64_t key = 0;
  // Exactly the form Cairn writes: 16 lower-case hex digits (SimpleHexAtoi
  // alone would also take "0x", signs, spaces and upper case).
  const bool well_formed =
      message_id.size() == 16 &&
      std::all_of(message_id.begin(), message_id.end(),
                  [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  if (!well_formed || !absl::SimpleHexAtoi(message_id, &key)) {
    ++stats_.delivery_reports_rejected;
    return absl::NotFoundError(absl::StrCat(
        "delivery report: \"", internal::Escaped(message_id), "\" is not a Cairn message id"));
  }
  if (absl::Status valid =
          internal::CheckDeliveryReason(message_id, reason, options_.max_input_bytes);
      !valid.ok()) {
    ++stats_.delivery_reports_rejected;
    return valid;
  }
  CAIRN_RETURN_IF_ERROR(
      CheckTime(time, &stats_.delivery_reports_rejected, "delivery report"));
  // Judged at its own time: timers due by then fire first, since they may
  // send the message, or end its delivery wait. (So a report refused as
  // unknown or repeated still moves time, as any later input would; the
  // outcome never depends on which other inputs came before it.)
  ApplyTime(time);
  SentMessage* const found = messages_.Find(key);
  if (found == nullptr) {
    ++stats_.delivery_reports_rejected;
    return absl::NotFoundError(absl::StrCat(
        "delivery report: unknown message id ", message_id,
        " (never sent, or older than the delivery report window)"));
  }
  if (found->resolved) {
    ++stats_.delivery_reports_rejected;
    return absl::AlreadyExistsError(absl::StrCat(
        "delivery report: message ", message_id,
        " is already resolved (reported before, or its delivery wait timed out)"));
  }
  SentMessage& m = *found;
  ++stats_.delivery_reports_applied;
  if (m.awaiting) CatchUpScheduled(enrollments_[m.enrollment].subject);
  m.resolved = true;
  ActionCounters& counters = versions_[m.version].counters.actions[m.node];
  const bool delivered = outcome == DeliveryOutcome::kDelivered;
  if (delivered) {
    ++counters.delivered;
    CountDay(m.version, &internal::DayCounter::delivered);
  } else {
    CountReason(&counters.undelivered, reason.empty() ? "unspecified" : reason);
  }
  if (m.awaiting) {
    Enrollment& e = enrollments_[m.enrollment];
    if (e.live && e.generation == m.generation && AwaitingMessage(m.enrollment) == key) {
      const uint32_t slot = m.enrollment;
      void (Impl::*on_delivery)(uint32_t, bool) = HooksOf(NodeOf(e).kind).on_delivery;
      if (on_delivery != nullptr) {
        (this->*on_delivery)(slot, delivered);
        Run(slot, nullptr);
      }
    }
  }
  CheckSegments();
  return absl::OkStatus();
}

absl::Status Engine::Impl::AdvanceTo(absl::Time time) {
  if (time == absl::InfiniteFuture() || time == absl::InfinitePast()) {
    return absl::InvalidArgumentError(
        "advance: time must be finite (next_timer_time() is InfiniteFuture when no "
        "timer is pending)");
  }
  CAIRN_RETURN_IF_ERROR(internal::CheckInputTimeRange(time, "advance"));
  if (time > now_) ApplyTime(time);  // An earlier time is no input: not late.
  return absl::OkStatus();
}

int64_t Engine::Impl::RunScheduled(int64_t max_subjects) {
  const int64_t remaining = RunScheduledSlice(std::max<int64_t>(max_subjects, 0));
  CheckSegments();
  return remaining;
}

absl::Status Engine::Impl::UnknownJourney(absl::string_view id) {
  return absl::NotFoundError(
      absl::StrCat("journey ", internal::Escaped(id), " is not deployed"));
}

absl::Status Engine::Impl::CheckProfileLimits(absl::string_view type, absl::string_view id,
                                              const Attributes& attrs) const {
  static const Attributes* const kNoProfile = new Attributes();
  const Attributes* profile = kNoProfile;
  if (const std::optional<uint32_t> slot = subjects_.Find(type, id)) {
    profile = &subjects_[*slot].profile;
  }
  int64_t count = static_cast<int64_t>(profile->size());
  int64_t bytes = internal::TextBytes(*profile);
  // The last value given for a name is the one that stays. A short update
  // (the usual) finds repeats by looking ahead; a long one by a set.
  const bool short_update = attrs.size() <= 16;
  absl::flat_hash_set<absl::string_view> later;
  for (size_t i = attrs.size(); i-- > 0;) {
    const auto& [name, value] = attrs[i];
    const bool repeated =
        short_update
            ? std::any_of(attrs.begin() + i + 1, attrs.end(),
                          [&](const auto& other) { return other.first == attrs[i].first; })
            : !later.insert(name).second;
    if (repeated) continue;
    if (const Value* old = FindSorted(*profile, name)) {
      --count;
      bytes -= internal::TextBytes(name, *old);
    }
    if (!value.is_null()) {
      ++count;
      bytes += internal::TextBytes(name, value);
    }
  }
  const auto input = [&] { return absl::StrCat("UpsertProfile for ", internal::Escaped(id)); };
  if (count > options_.max_profile_attributes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        input(), ": the profile would hold ", count, " attributes, more than "
        "max_profile_attributes ", options_.max_profile_attributes));
  }
  if (bytes > options_.max_profile_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        input(), ": the profile would hold ", bytes, " bytes of text, more than "
        "max_profile_bytes ", options_.max_profile_bytes));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::CheckTime(absl::Time time, int64_t* rejected, absl::string_view what) {
  if (absl::Status s = internal::CheckInputTimeRange(time, what); !s.ok()) {
    ++*rejected;
    return s;
  }
  if (time > now_ && time - now_ > options_.max_input_lead) {
    ++*rejected;
    ++stats_.future_inputs;
    return absl::OutOfRangeError(absl::StrCat(
        what, " at ", internal::FormatTimeUtc(time), " is ",
        internal::FormatDurationShort(time - now_), " ahead of engine time ",
        internal::FormatTimeUtc(now_), ", beyond max_input_lead ",
        internal::FormatDurationShort(options_.max_input_lead),
        ": inputs may not move the clock that far; call AdvanceTo() with the host's "
        "clock first"));
  }
  if (time < now_ && now_ - time > options_.max_lateness) {
    ++*rejected;
    ++stats_.too_late_inputs;
    return absl::OutOfRangeError(absl::StrCat(
        what, " at ", internal::FormatTimeUtc(time), " is ",
        internal::FormatDurationShort(now_ - time), " older than engine time ",
        internal::FormatTimeUtc(now_), ", beyond max_lateness ",
        internal::FormatDurationShort(options_.max_lateness)));
  }
  return absl::OkStatus();
}

void Engine::Impl::ApplyTime(absl::Time time) {
  if (time < now_) {
    ++stats_.late_inputs;
    return;
  }
  FireTimersUntil(time);
  now_ = time;
  // `time`, not now_ read back: GCC stores the Time in two parts and then
  // reloads it whole, which stalls on every input.
  ForgetOldMessages(time);
  // Every input takes a slice of the scheduled runs in progress.
  if (!schedule_runs_.empty()) RunScheduledSlice(options_.scheduled_run_slice);
}

uint32_t Engine::Impl::SubjectOfTimer(const internal::Timer& t) const {
  switch (static_cast<TimerKind>(t.kind)) {
    case TimerKind::kNode:
      return enrollments_[t.target].subject;
    case TimerKind::kTracker:
      return trackers_[t.target].subject;
    case TimerKind::kSequence:
      return pending_[t.target].subject;
    case TimerKind::kSubject:
      break;
  }
  return t.target;
}

bool Engine::Impl::IsDuplicate(absl::string_view type, absl::string_view subject,
                               absl::string_view id, absl::Time at) {
  const absl::Time horizon = at - options_.dedup_window;
  const uint64_t key = StableHash64({type, subject, id});
  // Looking up `key` and forgetting the oldest entry (usually out of the
  // window by now, in time-ordered input) each miss the cache in a large
  // table; fetching both at once overlaps the two waits.
  dedup_seen_.prefetch(key);
  if (!dedup_order_.empty()) dedup_seen_.prefetch(dedup_order_.front().second);
  auto seen = dedup_seen_.find(key);
  // Decided before anything is forgotten: a rejected duplicate changes
  // nothing but the counters.
  if (seen != dedup_seen_.end() && seen->second > horizon) return true;
  while (!dedup_order_.empty() && dedup_order_.front().first <= horizon) {
    auto it = dedup_seen_.find(dedup_order_.front().second);
    if (it != dedup_seen_.end() && it->second <= horizon) dedup_seen_.erase(it);
    dedup_order_.pop_front();
  }
  // Bounded by count too: past max_dedup_ids the oldest ids go early.
  while (!dedup_order_.empty() &&
         static_cast<int64_t>(dedup_seen_.size()) >= options_.max_dedup_ids) {
    auto it = dedup_seen_.find(dedup_order_.front().second);
    if (it != dedup_seen_.end() && it->second == dedup_order_.front().first) {
      dedup_seen_.erase(it);
      ++stats_.limits_reached;
    }
    dedup_order_.pop_front();
  }
  // A table that grew for a burst keeps its slots after the burst's ids
  // expire: give them back once it is three-quarters empty.
  if (dedup_seen_.capacity() > 4096 && dedup_seen_.size() * 4 < dedup_seen_.capacity()) {
    dedup_seen_.rehash(0);
    dedup_order_.shrink_to_fit();
  }
  dedup_seen_[key] = at;
  dedup_order_.emplace_back(at, key);
  return false;
}

void Engine::Impl::ApplyConsent(uint32_t subject, const Event& event, bool opt_out) {
  const Value* named = FindAttribute(event.properties, "channel");
  const std::string channel =
      named != nullptr && named->type() == Value::Type::kString ? named->string_value()
                                                                 : "all";
  Attributes& profile = subjects_[subject].profile;
  std::vector<std::string> list;
  if (const Value* v = FindSorted(profile, options_.opt_out_attribute);
      v != nullptr && v->type() == Value::Type::kStringList) {
    list = v->string_list_value();
  }
  list.erase(std::remove(list.begin(), list.end(), channel), list.end());
  if (opt_out) AddOptOut(&list, channel);
  SetSorted(&profile, options_.opt_out_attribute, Value::StringList(std::move(list)));
  MarkStateChanged(subject);
  if (const std::vector<int>* segments = segment_members_.ReadingAttribute(
          subjects_.TypeOf(subjects_[subject]), options_.opt_out_attribute)) {
    QueueSegmentChecks(subject, *segments, /*triggers=*/true);
  }
}

void Engine::Impl::AddOptOut(std::vector<std::string>* list, const std::string& channel) {
  if (std::find(list->begin(), list->end(), channel) != list->end()) return;
  if (static_cast<int>(list->size()) < options_.max_opt_out_channels) {
    list->push_back(channel);
  } else if (std::find(list->begin(), list->end(), "all") == list->end()) {
    // One channel too many to name: out of all of them, rather than keep
    // sending to someone who asked not to be contacted.
    ++stats_.limits_reached;
    list->assign({"all"});
  }
}

void Engine::Impl::FireTimersUntil(absl::Time limit) {
  internal::Timer t;
  while (true) {
    // A schedule's occurrence (or pass), and then a rule's check, go
    // before the timers due after them, and after those due at the same
    // time.
    if (schedule_due_ <= limit && schedule_due_ < timers_.NextDue() &&
        schedule_due_ <= rollout_due_) {
      FireScheduleDue();
      continue;
    }
    if (rollout_due_ <= limit && rollout_due_ < timers_.NextDue()) {
      FireRolloutDue(limit);
      continue;
    }
    if (!timers_.PopDue(limit, &t)) break;
    if (t.due > now_) now_ = t.due;
    if (!schedule_runs_.empty()) CatchUpScheduledNow(SubjectOfTimer(t));
    // A timer whose target's generation moved on was cancelled: it neither
    // fires nor counts.
    switch (static_cast<TimerKind>(t.kind)) {
      case TimerKind::kNode:
        FireNodeTimer(t.target, t.generation);
        break;
      case TimerKind::kTracker:
        if (trackers_[t.target].live && trackers_[t.target].generation == t.generation) {
          ++stats_.timers_fired;
          ResolveTracker(t.target, &GoalCounters::expired);
        }
        break;
      case TimerKind::kSequence:
        if (pending_[t.target].live && pending_[t.target].generation == t.generation) {
          ++stats_.timers_fired;
          FireSequence(t.target);
        }
        break;
      case TimerKind::kSubject:
        if (t.generation == internal::kRecheck) {
          FireRecheck(t.target, t.due);
        } else {
          FireProgressTimer(t.target);
        }
        break;
    }
    // What the timer changed may have moved subjects in or out of segments.
    CheckSegments();
  }
}

void Engine::Impl::FireNodeTimer(uint32_t slot, uint32_t generation) {
  Enrollment& e = enrollments_[slot];
  if (!e.live || e.generation != generation) return;
  e.due_nanos = Enrollment::kNoDueNanos;  // Its hook may schedule the next.
  ++stats_.timers_fired;
  void (Impl::*on_timer)(uint32_t) = HooksOf(NodeOf(e).kind).on_timer;
  if (on_timer == nullptr) return;
  (this->*on_timer)(slot);
  Run(slot, nullptr);
}

}  // namespace cairn
