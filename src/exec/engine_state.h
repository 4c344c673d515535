// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The engine's internal state: deployed journey versions and their counters,
// subjects, enrollments and journey-goal trackers (sent messages are in
// exec/sent_messages.h). Plain data; the behaviour lives in engine.cc.
//
// Thread-safety: owned by one Engine; not thread-safe.

#ifndef CAIRN_EXEC_ENGINE_STATE_H_
#define CAIRN_EXEC_ENGINE_STATE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cairn/engine.h"
#include "cairn/event.h"
#include "cairn/journey.h"
#include "cairn/sink.h"
#include "compile/journey_graph.h"
#include "util/packed_time.h"
#include "util/stable_hasher.h"

namespace cairn::internal {

// A count per reason, ordered by reason so reports are deterministic.
using ReasonCounts = absl::btree_map<std::string, int64_t>;

struct NodeCounters {
  int64_t entered = 0;
  int64_t current = 0;
  std::vector<int64_t> left;  // Per edge, in GraphNode::edges order.
  ReasonCounts exits;
  int64_t sequence_completed = 0;  // Sequence triggers: matches completed,
  int64_t sequence_cancelled = 0;  // ... and then cancelled by the absent event.
};

struct ActionCounters {
  int64_t sent = 0;
  int64_t delivered = 0;
  ReasonCounts failed;
  ReasonCounts undelivered;
  ReasonCounts suppressed;
  ReasonCounts deferred;
  int64_t unreported = 0;  // Forgotten after delivery_report_window unreported.
  // What rate limits put sends off by, in milliseconds: in total, at most.
  int64_t rate_delay_ms_total = 0;
  int64_t rate_delay_ms_max = 0;
};

// What a journey's schedule did (v1::ScheduleCounts).
struct ScheduleCounters {
  int64_t occurrences = 0;
  int64_t skipped = 0;
  int64_t completed = 0;
  int64_t evaluated = 0;
  int64_t matched = 0;
};

struct GoalCounters {
  int64_t reached = 0;
  int64_t converted = 0;
  int64_t expired = 0;
  int64_t erased = 0;  // Overall only: trackers of forgotten subjects.
};

// A goal's counters overall, per (split node id, variant name), and for
// subjects in and out of the engine's global holdout (counted only when
// there is one).
struct GoalStats {
  GoalCounters overall;
  absl::btree_map<std::pair<std::string, std::string>, GoalCounters> by_variant;
  GoalCounters held_out;
  GoalCounters not_held_out;
};

// One day's counts of a version (JourneySettings.trend_days,
// v1::DayCounts).
struct DayCounter {
  absl::CivilDay day;
  int64_t entered = 0;
  int64_t exited = 0;
  int64_t sent = 0;
  int64_t delivered = 0;
  std::vector<int64_t> converted;  // Per goal, in the report's goal order.
};

// Everything counted for one deployed version.
struct VersionCounters {
  // Moves are declared noexcept, as std::deque's is not in libstdc++ (it
  // allocates an empty map for the source): without it every vector of
  // versions copied all their counters each time it grew.
  VersionCounters() = default;
  VersionCounters(const VersionCounters&) = default;
  VersionCounters& operator=(const VersionCounters&) = default;
  VersionCounters(VersionCounters&&) noexcept = default;
  VersionCounters& operator=(VersionCounters&&) noexcept = default;

  int64_t entered = 0;
  int64_t exited = 0;
  int64_t migrated_in = 0;  // Of entered: moved in from older versions.
  ReasonCounts exits;
  ReasonCounts entries_refused;
  std::vector<NodeCounters> nodes;
  std::vector<ActionCounters> actions;   // Indexed by node; used for actions.
  std::vector<GoalStats> node_goals;     // Indexed by node; used for goals.
  std::vector<GoalStats> journey_goals;  // Indexed like JourneyGraph::goals.
  ScheduleCounters schedule;
  // The days counted on, oldest first, at most the journey's trend_days.
  std::deque<DayCounter> days;
};

// Adds one to the count of `reason`, looked up by string_view: operator[]
// builds a std::string key on every call, and every enrollment exit counts
// two reasons (about 8% of a timer fire in BM_TimerFires).
//
// Reasons also come from hosts (a sink's failure reason, a delivery
// report's): a counter keeps at most kMaxReasonsPerCounter distinct ones and
// counts any further new reason as "(other)", so that a host passing, say,
// a provider's message text cannot grow a report without bound.
inline constexpr size_t kMaxReasonsPerCounter = 1000;

inline void CountReason(ReasonCounts* counts, absl::string_view reason) {
  auto it = counts->find(reason);
  if (it == counts->end()) {
    if (counts->size() >= kMaxReasonsPerCounter) reason = "(other)";
    it = counts->try_emplace(std::string(reason), 0).first;
  }
  ++it->second;
}

// The input counters of EngineStats as a flat list, in field order (the
// derived subjects and enrollments_in_flight are not among them).
inline std::vector<int64_t*> StatFields(EngineStats* s) {
  return {&s->events_applied, &s->events_ignored, &s->events_rejected,
          &s->events_duplicate, &s->enrollments_applied, &s->enrollments_rejected,
          &s->profile_updates_applied, &s->profile_updates_rejected,
          &s->delivery_reports_applied, &s->delivery_reports_rejected, &s->late_inputs,
          &s->too_late_inputs, &s->timers_fired, &s->messages_sent, &s->messages_failed,
          // Appended: a snapshot from before a counter existed restores it as 0.
          &s->future_inputs, &s->unknown_time_zones, &s->limits_reached,
          &s->behavior_seeds_applied, &s->behavior_seeds_rejected, &s->erasures_applied,
          &s->erasures_rejected, &s->merges_applied, &s->merges_rejected};
}

// Where one split's experiment rule stands (JourneyGraph::split_rules,
// docs/semantics.md "Winner roll-out").
struct RolloutState {
  enum class Status : uint8_t { kTesting = 0, kDecided = 1, kNoWinner = 2 };
  Status status = Status::kTesting;
  absl::Time started;     // The version's deploy: durations count from it.
  absl::Time next_check;  // InfiniteFuture once concluded.
  absl::Time concluded = absl::InfinitePast();
  int64_t checks = 0;
  int32_t winner = -1;
  // Decided: a new entry's split hash modulo `modulus` in [control_begin,
  // control_end) goes to the control, any other to the winner (modulus 0
  // before: the split's weights assign).
  int64_t modulus = 0;
  int64_t control_begin = 0;
  int64_t control_end = 0;
  // Per arm, the goal's counts at the last check.
  std::vector<GoalCounters> last;
  // Bandits, after an update: the running sums of the weights new entries
  // are assigned by (empty before: the split's own), and per arm the
  // probability that it converts best.
  std::vector<int64_t> bandit_cumulative;
  std::vector<double> probability_best;
};

// One deployed version of a journey.
struct JourneyVersion {
  std::shared_ptr<const CompiledJourney> compiled;
  const JourneyGraph* graph = nullptr;
  uint32_t journey = 0;  // Index into Engine's journeys.
  std::string subject_type;
  std::string version_text;  // decimal version, for message ids
  // StableHash64's state after the journey id and version_text, the parts
  // every message id of this version starts with.
  StableHasher message_id_prefix;
  std::string seed_text;     // decimal split seed, for split hashes
  // Local (per-journey) event id -> engine-wide event id.
  std::vector<int32_t> global_event;
  // Per local channel index, the sink.
  std::vector<ChannelSink*> sinks;
  VersionCounters counters;
  // Indexed like graph->split_rules.
  std::vector<RolloutState> rollouts;
  // When counters.days.back()'s day ends (InfinitePast: not known yet).
  absl::Time day_ends = absl::InfinitePast();
  bool retired = false;  // Engine::RetireVersion: empty for good.
};

// One journey id and its versions.
struct JourneyEntry {
  // Moves are noexcept (see VersionCounters: rate_sends is a deque).
  JourneyEntry() = default;
  JourneyEntry(const JourneyEntry&) = default;
  JourneyEntry& operator=(const JourneyEntry&) = default;
  JourneyEntry(JourneyEntry&&) noexcept = default;
  JourneyEntry& operator=(JourneyEntry&&) noexcept = default;

  std::string id;
  v1::JourneyState state = v1::ACTIVE;
  std::vector<uint32_t> versions;  // Indices into versions, oldest first.
  // Entries, as entry limits (JourneySettings.entry_limits) count them
  // (the total is the versions' counters': Engine::Impl::EntriesTotal):
  // the entries on local day `entry_day` (days since 1970-01-01 in the
  // journey's zone), kept while a per-day limit is set; the entries in
  // schedule occurrence `occurrence_day`, kept while a per-occurrence
  // limit is set.
  int64_t entry_day = 0;
  int64_t entries_on_day = 0;
  int64_t occurrence_day = 0;
  int64_t entries_in_occurrence = 0;
  // Its rate limit's sends (JourneySettings.rate_limit; RateSends).
  std::deque<absl::Time> rate_sends;
};

// The sends a rate limit ("at most `max` within any `per`") counts, in time
// order: those made, and slots reserved ahead for deferred ones. A send at
// `now` fits when fewer than `max` lie in (now - per, now]; a deferred one
// takes the first instant it fits, which is never before the last
// reserved, so the list stays in order and sends over the rate go out in
// the order they were deferred, at exactly the rate.
class RateSends {
 public:
  // The first instant at or after `now` a send fits, given `sends` (pruned
  // to those after now - per).
  static absl::Time NextFree(std::deque<absl::Time>* sends, int32_t max, absl::Duration per,
                             absl::Time now) {
    while (!sends->empty() && sends->front() <= now - per) sends->pop_front();
    if (sends->size() < static_cast<size_t>(max)) return now;
    return std::max(now, (*sends)[sends->size() - static_cast<size_t>(max)] + per);
  }
};

// What a subject has done in one journey id (per instance key value for
// keyed journeys), for re-entry rules. Kept small (32 bytes): every subject
// that ever entered a journey holds one for good. So the last exit is split
// into whole seconds and ticks rather than held as a 16-byte absl::Time (the
// ticks fill the slot after `active`), and the key, empty unless the journey
// is keyed, lives behind a pointer. Read and write them with LastExit,
// SetLastExit and KeyOf.
struct JourneyHistory {
  uint32_t journey = 0;
  uint32_t entries = 0;  // Also the ordinal of the latest entry.
  uint32_t active = 0;
  // The last exit as Unix seconds (floored) plus quarter-nanosecond ticks,
  // absl::Time's own resolution (util/packed_time.h), so that the round trip
  // is exact: re-entry cooldowns compare against it. Never exited:
  // InfinitePast.
  uint32_t last_exit_ticks = kInfiniteTicks;
  int64_t last_exit_seconds = INT64_MIN;
  std::unique_ptr<std::string> key;  // Instance key value; null when empty.
};

static_assert(sizeof(JourneyHistory) <= 32,
              "JourneyHistory is one per subject and journey entered, kept for good; "
              "keep it within 32 bytes");

inline absl::Time LastExit(const JourneyHistory& h) {
  return UnpackTime(h.last_exit_seconds, h.last_exit_ticks);
}

inline void SetLastExit(JourneyHistory* h, absl::Time t) {
  PackTime(t, &h->last_exit_seconds, &h->last_exit_ticks);
}

// The instance key value of `h` ("" for unkeyed journeys).
inline absl::string_view KeyOf(const JourneyHistory& h) {
  return h.key != nullptr ? absl::string_view(*h.key) : absl::string_view();
}

// A history record for `journey` and instance key value `key`, never exited.
inline JourneyHistory MakeJourneyHistory(uint32_t journey, absl::string_view key) {
  JourneyHistory h;
  h.journey = journey;
  if (!key.empty()) h.key = std::make_unique<std::string>(key);
  return h;
}

// A journey's schedule (Trigger.schedule): the date of its next occurrence
// not yet begun.
struct ScheduleClock {
  uint32_t journey = 0;  // Index into the engine's journeys.
  std::optional<absl::CivilDay> next;  // nullopt: no occurrence remains.
};

// One occurrence of a schedule being evaluated: a bit per subject slot
// that is still to evaluate (exec/engine_schedule.cc).
struct ScheduleRun {
  uint32_t journey = 0;
  absl::CivilDay date;
  // When it began: the occurrence's instant in the journey's zone, or the
  // earliest in any zone for one in the subjects' own zones.
  absl::Time begins;
  std::vector<uint64_t> pending;
  size_t remaining = 0;  // Bits set in `pending`.
  size_t cursor = 0;     // The next slot the current pass looks at.
  // In the subjects' own zones: when the next pass begins (InfinitePast:
  // not waiting), and the earliest local occurrence this pass skipped.
  absl::Time next_pass = absl::InfinitePast();
  absl::Time pass_min = absl::InfiniteFuture();
  // Only while restoring: its place in the snapshot's order of runs.
  uint64_t restored_position = 0;
};

// "No slot" for optional slot indices.
inline constexpr uint32_t kNoSlot = UINT32_MAX;

// A subject's progress through one sequence trigger (see AdvanceSequence).
struct SequenceProgress {
  uint32_t version = 0;
  int32_t node = -1;
  // Per step. Two inline: most sequences have two or three steps, and a
  // match begun and dropped with every first step should not allocate.
  absl::InlinedVector<absl::Time, 2> starts;
  Attributes context;              // Properties of the steps so far.
  uint32_t pending = kNoSlot;      // A completed match awaiting silence.
};

// A completed sequence waiting for its absent window to pass.
struct PendingSequence {
  bool live = false;
  uint32_t generation = 0;
  uint32_t subject = 0;
  uint32_t version = 0;
  int32_t node = -1;
  Attributes context;
};

// A short list of slot indices.
using SlotList = absl::InlinedVector<uint32_t, 4>;
static_assert(sizeof(SlotList) == sizeof(std::vector<uint32_t>),
              "four slots fit where a std::vector's pointers would be");

// What a subject holds only while it is partway through a sequence
// trigger or has been sent something on a frequency-capped channel. Kept
// out of line, behind one pointer: most subjects hold neither, and the two
// vectors inline made every subject's record 40 bytes larger (a subject
// known only to behaviours, say, of which an engine may hold millions).
struct SubjectExtra {
  // Accepted sends per capped channel (engine channel id), oldest first.
  using SendLedger = std::vector<std::pair<int32_t, std::vector<absl::Time>>>;
  // One inline: a subject is rarely partway through two sequences at once,
  // and a partial match is begun and dropped often (each first step), so
  // the extra and its one match are one allocation, not three.
  using Sequences = absl::InlinedVector<SequenceProgress, 1>;

  Sequences sequences;
  // For frequency caps; pruned to the longest cap window.
  SendLedger send_ledger;

  // The send times of capped channel `channel`, or null when it has none.
  std::vector<absl::Time>* FindLedger(int32_t channel) {
    for (auto& [id, times] : send_ledger) {
      if (id == channel) return &times;
    }
    return nullptr;
  }
  // The same, added (empty, last) when it has none.
  std::vector<absl::Time>& LedgerOf(int32_t channel) {
    if (std::vector<absl::Time>* times = FindLedger(channel)) return *times;
    return send_ledger.emplace_back(channel, std::vector<absl::Time>()).second;
  }
};

struct SubjectState {
  std::string id;
  uint32_t type = 0;  // Index into the engine's subject type names.
  // A housekeeping timer for its partial sequence matches is pending
  // (derived from the timers on restore).
  bool progress_timer = false;
  // Forgotten (Engine::Forget): every other field but `type` is empty, and
  // no input, timer or check reaches it again.
  bool erased = false;
  // How many times its (type, id) had been forgotten when this record was
  // made (SubjectTable): a returning subject's message ids differ from
  // those of its former selves. Saturates at 65,535.
  uint16_t incarnation = 0;
  Attributes profile;                // Sorted by name.
  // Live enrollment slots, oldest first, and live journey-goal trackers.
  // Up to four of each are held inline, in the bytes a std::vector would
  // take, so a subject in a few journeys needs no heap block for them.
  SlotList enrollments;
  SlotList trackers;
  // Most subjects enter one journey: its record is held inline.
  absl::InlinedVector<JourneyHistory, 1> history;
  // Partial sequence matches and send ledger; null when it holds neither
  // (see ReleaseExtraIfEmpty).
  std::unique_ptr<SubjectExtra> extra;

  // Its partial sequence matches (none when `extra` is null).
  const SubjectExtra::Sequences& sequences() const {
    static const SubjectExtra::Sequences* const kNone = new SubjectExtra::Sequences();
    return extra ? extra->sequences : *kNone;
  }
  // Its send ledger (empty when `extra` is null).
  const SubjectExtra::SendLedger& send_ledger() const {
    static const SubjectExtra::SendLedger* const kNone = new SubjectExtra::SendLedger();
    return extra ? extra->send_ledger : *kNone;
  }
  // `extra`, made when null.
  SubjectExtra& MutableExtra() {
    if (!extra) extra = std::make_unique<SubjectExtra>();
    return *extra;
  }
  // Frees `extra` when it holds nothing: a subject that started a sequence
  // and never finished it (most of them) gives the block back.
  void ReleaseExtraIfEmpty() {
    if (extra && extra->sequences.empty() && extra->send_ledger.empty()) extra.reset();
  }
};

static_assert(sizeof(SubjectState) <= 160,
              "SubjectState is one per subject known, millions of them: keep it within "
              "160 bytes (what few subjects hold goes in SubjectExtra)");

// One subject's pass through one journey version. Kept small (48 bytes):
// there is one per subject in flight. Its entry context, when it has one,
// is kept by the engine in a pool, by number (Engine::Impl::ContextOf), and
// the id of a message whose delivery report it awaits beside it, by slot,
// for the few enrollments that wait on one; the journey-goal trackers it
// started point at its slot. Its node and last split are 16 bits (a
// journey has at most kMaxJourneyNodes). What Engine::Inspect tells about
// it (since when it is at its node, when its node's timer is due) is kept
// as Unix nanoseconds: every time the engine computes fits (cairn/options.h,
// LatestInputTime()).
struct Enrollment {
  Enrollment() : live(false), awaiting(false), rate_reserved(false) {}
  // Not copyable: a copy would share its context's number.
  Enrollment(const Enrollment&) = delete;
  Enrollment& operator=(const Enrollment&) = delete;
  Enrollment(Enrollment&&) = default;
  Enrollment& operator=(Enrollment&&) = default;

  int64_t since_nanos = 0;        // Arrival at `node` (floored to the nanosecond).
  int64_t due_nanos = kNoDueNanos;  // The node's pending timer; kNoDueNanos: none.
  uint32_t generation = 0;  // Bumped on every move; stale timers compare it.
  uint32_t subject = 0;
  uint32_t version = 0;
  uint32_t ordinal = 0;  // Which entry of the subject into this journey id.
  uint32_t visits = 0;   // Node arrivals so far, for message ids.
  uint32_t context = 0;  // Its entry context in the engine's pool; 0: none.
  int16_t node = -1;
  int16_t split_node = -1;  // Most recent split passed and its variant
  int16_t variant = -1;     // (a split has at most kMaxSplitVariants).
  bool live : 1;
  bool awaiting : 1;  // An action awaits a delivery report.
  // Its action's send waits for a slot a rate limit reserved for it: when
  // it is tried again, that slot is its to use.
  bool rate_reserved : 1;

  static constexpr int64_t kNoDueNanos = INT64_MAX;
  // since_nanos of an enrollment restored from a snapshot written before
  // Cairn kept it.
  static constexpr int64_t kUnknownSinceNanos = INT64_MIN;
};

static_assert(sizeof(Enrollment) <= 48,
              "Enrollment is one per subject in flight; keep it within 48 bytes");

// Measures one journey goal for one enrollment, from entry until the window
// ends, even after the enrollment exits.
struct GoalTracker {
  bool live = false;
  uint32_t generation = 0;
  uint32_t subject = 0;
  uint32_t version = 0;
  uint32_t goal = 0;
  // The slot of the enrollment it measures while that is live (its split
  // arm is followed); kNoSlot once it has ended.
  uint32_t enrollment = kNoSlot;
  Attributes entry;  // Keyed journeys: the instance key, for same_key matchers.
  int32_t split_node = -1;
  int32_t variant = -1;
  // When its window ends (its timer), as Unix nanoseconds, for Inspect.
  int64_t ends_nanos = 0;
};

}  // namespace cairn::internal

#endif  // CAIRN_EXEC_ENGINE_STATE_H_
