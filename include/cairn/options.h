// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// EngineOptions: how an Engine treats time, duplicates and runaway journeys.

#ifndef CAIRN_OPTIONS_H_
#define CAIRN_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace cairn {

// At most `max_messages` accepted sends on `channel` per subject within any
// `window`, counted across all journeys; an empty `channel` caps the sends
// on every channel together ("at most 3 messages a day, any channel").
// Transactional actions (v1::Action.transactional) are neither capped nor
// counted. A send over a cap is suppressed (reason "frequency_cap") and the
// action takes its on_failure edge (or next), or, for an action with
// `over_cap: DEFER`, waits until the cap frees.
struct FrequencyCap {
  std::string channel;        // Empty: every channel. REQUIRES: not "all"
  int max_messages = 1;       // REQUIRES: >= 1
  absl::Duration window = absl::Hours(24);  // REQUIRES: > 0
};

// Do-not-disturb hours on `channel` (empty: every channel), in the subject's
// local time: a send that falls in [start, end) waits until `end` and is
// then tried again (counted as deferred, reason "quiet_hours"). A window
// with start after end wraps midnight (22:00-08:00); one that ends when it
// starts holds nothing back. A journey with quiet
// hours of its own (v1::JourneySettings.quiet_hours) uses those instead;
// transactional actions ignore both.
struct QuietHours {
  std::string channel;
  int start_hour = 22;  // REQUIRES: 0..23, minutes 0..59
  int start_minute = 0;
  int end_hour = 8;
  int end_minute = 0;
  // The local days on which the quiet hours begin (a window from 22:00 on
  // Friday runs into Saturday). Empty (the default): every day.
  // REQUIRES: no day twice.
  std::vector<absl::Weekday> weekdays;
};

// At most `max_messages` sends on `channel` (empty: every channel together)
// within any `per`, across all subjects and journeys: a gateway's capacity
// ("100 SMS a second"). A send over the rate is deferred, never dropped, to
// the first instant it fits, which is reserved for it: sends that exceed
// the rate together go out in the order they reached their actions, at
// exactly the rate (counted as deferred, reason "rate_limit", with the
// delay in ActionReport). Every send attempt counts, whatever the sink
// answers; transactional ones too.
struct RateLimit {
  std::string channel;  // Empty: every channel. REQUIRES: not "all"
  int max_messages = 100;                    // REQUIRES: >= 1
  absl::Duration per = absl::Seconds(1);     // REQUIRES: > 0
};

// Which part of shared limits an engine enforces, when it is one of
// `parts` engines that run the same journeys for disjoint subjects
// (ShardedEngine's shards, the Kafka worker's partitions). See
// EngineOptions::limit_share.
struct LimitShare {
  int part = 0;   // REQUIRES: 0 <= part < parts
  int parts = 1;  // REQUIRES: 1..1048576
};

// The share of `limit` that part `share.part` of `share.parts` enforces:
// limit / parts, plus one for the first limit % parts parts, so that the
// shares add up to exactly `limit`. ShareOfLimit(10, {p, 4}) is 3, 3, 2, 2
// for p = 0..3.
int64_t ShareOfLimit(int64_t limit, LimitShare share);

// `outer` split once more into `inner.parts`: part outer.part * inner.parts
// + inner.part of outer.parts * inner.parts. How a ShardedEngine in one of
// several processes splits the share its host gave it among its shards.
LimitShare ComposeShares(LimitShare outer, LimitShare inner);

struct EngineOptions {
  // ---- Time and order ----

  // Engine time before the first input. Inputs before it count as late.
  // Default: the Unix epoch.
  absl::Time start_time = absl::UnixEpoch();

  // An input older than engine time is applied at engine time and counted as
  // late; one older than engine time minus max_lateness is rejected with
  // OutOfRange. Default: 1 hour. REQUIRES: >= 0.
  absl::Duration max_lateness = absl::Hours(1);

  // Events with the same (subject type, subject id, event id) within this
  // window of each other are applied once; repeats return AlreadyExists and
  // are counted. Zero disables de-duplication. Default: 24 hours.
  absl::Duration dedup_window = absl::Hours(24);

  // How far ahead of engine time an input other than AdvanceTo() may be.
  // Event times come from clients and phones, whose clocks may be wrong; the
  // engine's clock is the host's, given by AdvanceTo(). An input up to this
  // far ahead moves engine time to its own time (the bounded disorder of
  // real clocks); one further ahead is rejected with OutOfRange and counted
  // in EngineStats::future_inputs, changing nothing, so a phone stamping
  // 2099 can neither fire other subjects' timers nor make later inputs
  // late. A host that feeds only events calls AdvanceTo() with its own clock
  // before an input after a quiet spell longer than this (overnight). Set
  // absl::InfiniteDuration() to let every input move time (a replay of a
  // trusted log). Default: 1 hour. REQUIRES: >= 0.
  absl::Duration max_input_lead = absl::Hours(1);

  // How long after a send ReportDelivery() may still name the message.
  // Later reports return NotFound. Default: 7 days.
  absl::Duration delivery_report_window = absl::Hours(24 * 7);

  // Scheduled entry (Trigger.schedule): the most subjects one slice of a
  // scheduled run evaluates. A run over every subject the engine knows is
  // done in slices: one when its occurrence begins, then one with each
  // input, and as many as the host asks for with Engine::RunScheduled; so
  // no input waits behind a scan of millions (each evaluation is a
  // predicate, and an entry into the journey for those in the audience).
  // Default: 4096. REQUIRES: >= 1.
  int64_t scheduled_run_slice = 4096;

  // ---- Safety ----

  // Most node steps one enrollment may take for one input before the engine
  // ends it with exit reason "step_limit". The compiler already rejects
  // cycles without a blocking node, so this is a second line of defence.
  // Default: 1000. REQUIRES: >= 1.
  int max_steps_per_input = 1000;

  // ---- Limits ----
  //
  // What one input, and the state one subject can build up, may hold, so
  // that no input can grow the engine without bound and every snapshot
  // record stays far below what Restore reads (docs/durability.md). An
  // input over a limit is rejected (InvalidArgument or ResourceExhausted,
  // counted, nothing changes); a limit reached while applying an accepted
  // input is handled as each field says and counted in
  // EngineStats::limits_reached.

  // The most bytes of text one input may carry: the sum of its ids, names,
  // property or attribute names and string values. Default: 64 KiB.
  // REQUIRES: >= 1024.
  int64_t max_input_bytes = 64 * 1024;

  // The most attributes a subject's profile may hold, and the most bytes of
  // text in them. A profile update that would go beyond either is rejected
  // with ResourceExhausted. Defaults: 512 and 256 KiB. REQUIRES: >= 1.
  int max_profile_attributes = 512;
  int64_t max_profile_bytes = 256 * 1024;

  // The most channels a subject's opt-out list (opt_out_attribute) names.
  // An opt-out event for one more channel opts the subject out of "all"
  // instead: consent errs on the side of sending less. Default: 64.
  // REQUIRES: >= 1.
  int max_opt_out_channels = 64;

  // Keyed journeys (settings.instance_key): the most instance key values a
  // subject's re-entry history keeps per journey. A new key beyond it
  // evicts the history of the oldest key with no enrollment in flight (so
  // that key's re-entry rules start afresh); when every key has one in
  // flight, the entry is refused with reason "instance_limit".
  // Default: 1000. REQUIRES: >= 1.
  int max_instances_per_subject = 1000;

  // The most event ids the de-duplication ledger holds (about 65 bytes
  // each). When a new id would exceed it, the oldest is forgotten early, so
  // a repeat of that one id would no longer be caught; each is counted in
  // EngineStats::limits_reached. Size it above the events with ids you
  // expect within dedup_window. Default: 4,000,000 (about 260 MB).
  // REQUIRES: >= 1.
  int64_t max_dedup_ids = 4000000;

  // ---- Policies applied to every action of every journey ----

  // Frequency caps, per channel or across channels. Default: none.
  std::vector<FrequencyCap> frequency_caps;

  // Quiet hours. Default: none.
  std::vector<QuietHours> quiet_hours;

  // Rate limits, per channel or across channels. Default: none. (A
  // journey's own, JourneySettings.rate_limit, applies besides.)
  std::vector<RateLimit> rate_limits;

  // When this engine is one of several that run the same journeys for
  // different subjects, the part of every shared limit it enforces: each
  // entry limit (JourneySettings.entry_limits) and rate limit (rate_limits
  // above, JourneySettings.rate_limit) is enforced as ShareOfLimit(limit,
  // limit_share), so that all the parts together never exceed the limit.
  // Under an uneven load they may admit or send less than one engine
  // would: a part that used its share refuses (entry limits) or defers
  // (rate limits) while another still has room. ShardedEngine gives each
  // shard its part of this share, the Kafka worker each partition its
  // part; a host running its own engines side by side sets it itself.
  // Default: part 0 of 1, the whole limit. REQUIRES: every engine rate
  // limit's max_messages >= parts (each part must be able to send); a
  // journey whose rate limit is smaller is refused at Deploy.
  LimitShare limit_share;

  // Consent. A subject is opted out of a channel when the string-list
  // profile attribute `opt_out_attribute` holds the channel's name (or
  // "all"); sends to it are suppressed (reason "opted_out") and take the
  // action's on_failure edge (or next). Events named `opt_out_event` /
  // `opt_in_event` change that list, for the channel in their "channel"
  // property ("all" when absent). Empty names disable each mechanism.
  // Defaults: "opted_out_channels", "opt_out", "opt_in".
  std::string opt_out_attribute = "opted_out_channels";
  std::string opt_out_event = "opt_out";
  std::string opt_in_event = "opt_in";

  // Global holdout: this percentage of subjects (by the stable hash
  // StableHash64({"holdout", decimal(holdout_seed), subject type, subject
  // id}) % 10000 < holdout_percent * 100) enter journeys and are counted,
  // but every send to them is suppressed (reason "holdout") and the
  // enrollment continues on next as if it had been sent, so the host can
  // measure the total lift of its journeys. Default: 0. REQUIRES: 0..100.
  double holdout_percent = 0;
  uint64_t holdout_seed = 0;
};

// OK, or InvalidArgument naming the first option out of range.
absl::Status ValidateEngineOptions(const EngineOptions& options);

// The times an engine accepts: every input time (and start_time) must lie
// in [EarliestInputTime(), LatestInputTime()), i.e. from
// 1970-01-01T00:00:00Z up to, not including, 2200-01-01T00:00:00Z. Inputs
// outside are rejected with InvalidArgument, never clamped. The upper bound
// leaves room below the end of a snapshot's nanosecond clock (2262-04-11)
// for the longest duration a journey may hold (see docs/journeys.md), so
// every time the engine computes can be stored exactly.
absl::Time EarliestInputTime();
absl::Time LatestInputTime();

}  // namespace cairn

#endif  // CAIRN_OPTIONS_H_
