// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "fuzz_support.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <istream>
#include <ostream>
#include <streambuf>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_join.h"
#include "cairn/status_macros.h"
#include "cairn/v1/snapshot.pb.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/stubs/logging.h"
#include "util/record_io.h"
#include "testing/journeys.h"

namespace cairn::fuzz {
namespace {

const auto& kJourneys = testing::kStatefulJourneys;

const char* const kJourneyIds[] = {"cart", "promo", "orders", "daily", "unknown"};

// A scheduled journey, deployed with the stateful ones: every morning at
// 09:00 in each subject's zone, everyone with a zone attribute (valid or
// not) enters, in slices of FuzzEngineOptions().scheduled_run_slice, so that
// inputs, snapshots and restores land in the middle of runs. For the first
// 60 days only: the generator's clock jumps years ahead, and every day of a
// jump is an occurrence to begin and finish (which made an execution some
// thirty times slower).
constexpr char kScheduledJourney[] = R"pb(id: "daily" version: 1
  settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "t" trigger { schedule {
            schedule { frequency: DAILY at { hour: 9 } subject_time_zone: true
                       start_date: "2026-01-01" end_date: "2026-03-01" }
            condition { compare { path: "profile.time_zone" op: EXISTS } } }
          next: "send" } }
  nodes { id: "send" action { channel: "push" template_id: "daily" next: "noon" } }
  nodes { id: "noon" delay { until_time_of_day { hour: 12 } next: "" } })pb";
const char* const kEventNames[] = {"view",    "cart",  "pay",     "visit",  "refund", "buy",
                                   "shipped", "noise", "opt_out", "opt_in", ""};
const char* const kZones[] = {"Asia/Shanghai", "America/New_York", "UTC", "Not/AZone", ""};

constexpr int64_t kStartSeconds = 1767225600;  // 2026-01-01T00:00:00Z

// The behaviours every fuzzed engine declares (every function, windowed and
// not, another subject type) with segments over them (time-driven and not,
// one reading another), over the events the journeys hear, and the
// sets a declaration input picks from: the same, a part (dropping state), a
// changed window (restarting one), none, and an invalid one.
constexpr char kBehaviors[] = R"pb(
  behaviors { name: "views" event { event: "view" } function: COUNT }
  behaviors { name: "views_1h" event { event: "view" } function: COUNT
              window { last { seconds: 3600 } resolution { seconds: 60 } } }
  behaviors { name: "sku_sum" event { event: "buy" } function: SUM property: "sku" }
  behaviors { name: "sku_max_1d" event { event: "buy" } function: MAX property: "sku"
              window { last { seconds: 86400 } } }
  behaviors { name: "orders" event { event: "pay" } function: DISTINCT_COUNT property: "order"
              distinct_limit: 3 }
  behaviors { name: "skus_1d" event { event: "pay" } function: DISTINCT_COUNT property: "sku"
              distinct_limit: 3 window { last { seconds: 86400 } } }
  behaviors { name: "first_visit" event { event: "visit" } function: FIRST_TIME }
  behaviors { name: "last_visit" event { event: "visit" } function: LAST_TIME }
  behaviors { name: "visit_days_7d" event { event: "visit" } function: ACTIVE_DAYS
              window { last { seconds: 604800 } } }
  behaviors { name: "streak" event { event: "visit" } function: CURRENT_STREAK
              default_time_zone: "Asia/Shanghai" }
  behaviors { name: "best_streak" event { event: "visit" } function: LONGEST_STREAK }
  behaviors { name: "device_views" subject_type: "device" event { event: "view" }
              function: COUNT }
  behaviors { name: "visit_hours" event { event: "visit" } function: HOUR_OF_WEEK }
  segments { name: "browsing" condition {
    compare { path: "behavior.views_1h" op: GE value { int_value: 2 } } } }
  segments { name: "away" condition { all {
    predicates { compare { path: "behavior.last_visit" op: LT now_minus { seconds: 3600 } } }
    predicates { compare { path: "segment.on_a_roll" op: EQ value { bool_value: false } } } } } }
  segments { name: "on_a_roll" condition {
    compare { path: "behavior.streak" op: GE value { int_value: 2 } } } }
  segments { name: "in_utc" condition {
    compare { path: "profile.time_zone" op: EQ value { string_value: "UTC" } } } }
  segments { name: "busy_device" subject_type: "device" condition {
    compare { path: "behavior.device_views" op: GT value { int_value: 3 } } } }
)pb";
constexpr char kPartBehaviors[] = R"pb(
  behaviors { name: "views" event { event: "view" } function: COUNT }
  behaviors { name: "streak" event { event: "visit" } function: CURRENT_STREAK
              default_time_zone: "Asia/Shanghai" }
)pb";
constexpr char kChangedBehaviors[] = R"pb(
  behaviors { name: "views_1h" event { event: "view" } function: COUNT
              window { last { seconds: 7200 } resolution { seconds: 60 } } }
  behaviors { name: "orders" event { event: "pay" } function: DISTINCT_COUNT property: "order"
              distinct_limit: 3 }
)pb";
constexpr char kInvalidBehaviors[] = R"pb(
  behaviors { name: "views" event { event: "view" } function: COUNT }
  behaviors { name: "views" event { event: "pay" } function: SUM }
)pb";
// The full set's behaviours, and what each of its segments reads (bit i:
// behaviour i, bit kBehaviorCount + j: segment j), for ChosenBehaviorSet.
constexpr int kBehaviorCount = 13;
// (With what the segments it reads read: a part that leaves any of it out
// would not compile. MakeEngine checks that each segment compiles with just
// these.)
constexpr uint32_t kSegmentReads[] = {
    1u << 1,                                              // browsing: views_1h
    (1u << 7) | (1u << 9) | (1u << (kBehaviorCount + 2)),  // away: last_visit, on_a_roll
    1u << 9,                                              // on_a_roll: streak
    0,                                                    // in_utc: a profile attribute
    1u << 11,                                             // busy_device: device_views
};
const char* const kBehaviorSets[] = {kBehaviors, kPartBehaviors, kChangedBehaviors, "",
                                     kInvalidBehaviors};
const char* const kBehaviorNames[] = {"views",      "views_1h",    "sku_sum",       "sku_max_1d",
                                      "orders",     "skus_1d",     "first_visit",   "last_visit",
                                      "visit_days_7d", "streak",   "best_streak",   "device_views",
                                      "visit_hours", "unknown"};

// The fixed behaviour sets, parsed once.
const v1::BehaviorSet& BehaviorSetNumber(int i) {
  static const std::vector<v1::BehaviorSet>* const sets = [] {
    auto* parsed = new std::vector<v1::BehaviorSet>();
    for (const char* text : kBehaviorSets) {
      absl::StatusOr<v1::BehaviorSet> set = ParseBehaviorSet(text, JourneyFormat::kText);
      Check(set.ok(), set.status().ToString());
      parsed->push_back(*std::move(set));
    }
    return parsed;
  }();
  return (*sets)[static_cast<size_t>(i) % sets->size()];
}

bool IsDocumentedError(Input::Kind kind, absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition:
      return true;
    case absl::StatusCode::kResourceExhausted:  // A profile over its limits.
      return kind == Input::Kind::kUpsertProfile;
    default:
      return false;
  }
}

// A string an attacker or a broken client might send in place of `plain`:
// mostly `plain` itself (so that journeys still match), otherwise empty,
// invalid UTF-8, control characters, valid non-ASCII, raw bytes or very
// long.
std::string Hostile(ByteReader* r, absl::string_view plain, const GeneratorLimits& limits) {
  // Invalid UTF-8: a lone continuation byte, a truncated sequence, an
  // overlong '/', a surrogate, a code point past U+10FFFF, Latin-1.
  static const char* const kInvalid[] = {"\x80", "\xc3", "\xc0\xaf", "\xed\xa0\x80",
                                         "\xf4\x90\x80\x80", "caf\xe9", "\xff\xfe"};
  static const char* const kControl[] = {"\n", "\r\n", "\x1b[31m", "\t", "\x7f", "\x01"};
  static const char* const kValid[] = {"\xe7\x94\xa8\xe6\x88\xb7",  // 用户
                                       "\xc3\xa9", "\xf0\x9f\x98\x80", "\xef\xbb\xbf"};
  // One string in ten or so is hostile: an input has several, and one bad
  // one rejects it.
  switch (r->Pick(64)) {
    case 0: return "";
    case 1: return absl::StrCat(plain, kInvalid[r->Pick(7)]);
    case 2: return absl::StrCat(kControl[r->Pick(6)], plain);
    case 3: return absl::StrCat(plain, std::string(1, '\0'), plain);
    case 4: return absl::StrCat(plain, kValid[r->Pick(4)]);
    case 5: return r->Bytes(12);
    case 6: {
      const int size = 1 + r->Pick(limits.max_string);  // (Read before the byte.)
      return std::string(size, "xa\xff"[r->Pick(3)]);
    }
    default: return std::string(plain);
  }
}

// A value of any type, as the bytes choose, with hostile strings.
Value AnyValue(ByteReader* r, const GeneratorLimits& limits) {
  switch (r->Pick(8)) {
    case 0: return Value::String(Hostile(r, absl::StrCat("k", r->Pick(4)), limits));
    case 1: return Value::Int(static_cast<int8_t>(r->Byte()));
    case 2: return Value::Double(r->Byte() / 7.0);
    case 3: return Value::Bool(r->Pick(2) == 1);
    case 4: return Value::StringList({"push", Hostile(r, "all", limits)});
    case 5: {
      // Timestamps a snapshot can hold, and the ends of that range.
      static const int64_t kSeconds[] = {-62135596800, -1, 0, kStartSeconds, 4102444800,
                                         7258118400, 9223372036, 253402300799};
      return Value::Timestamp(absl::FromUnixSeconds(kSeconds[r->Pick(8)]));
    }
    case 6: return Value::Timestamp(r->Pick(2) == 0 ? absl::InfiniteFuture()
                                                    : absl::InfinitePast());
    default: return Value();
  }
}

// Times at and around the ends of what the engine accepts.
absl::Time ExtremeTime(ByteReader* r) {
  switch (r->Pick(12)) {
    case 0: return absl::InfinitePast();
    case 1: return absl::InfiniteFuture();
    case 2: return absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone());
    case 3: return absl::UnixEpoch() - absl::Nanoseconds(1);
    case 4: return absl::FromCivil(absl::CivilSecond(1969, 7, 20, 20, 17, 0), absl::UTCTimeZone());
    case 5: return absl::FromCivil(absl::CivilSecond(2099, 1, 1, 0, 0, 0), absl::UTCTimeZone());
    case 6: return LatestInputTime() - absl::Nanoseconds(1);
    case 7: return LatestInputTime();
    case 8: return absl::FromCivil(absl::CivilSecond(2262, 4, 12, 0, 0, 0), absl::UTCTimeZone());
    case 9: return absl::FromUnixNanos(INT64_MAX);
    case 10: return absl::UnixEpoch();
    default: return LatestInputTime() - absl::Hours(1 + r->Pick(48));
  }
}

// The generator's idea of engine time: inputs are mostly a little after it,
// sometimes late, too late, too far ahead, or at an extreme time.
class Clock {
 public:
  absl::Time Next(ByteReader* r) {
    const uint8_t b = r->Byte();
    switch (b >> 5) {
      case 0:
        if ((b & 0x1f) == 0) return ExtremeTime(r);
        return now_ - absl::Seconds((b & 0x1f) * (b & 0x1f) * 13);  // Late, maybe too late.
      case 1:
        return now_ + absl::Hours(1) + absl::Seconds(1 + (b & 0x1f) * 997);  // Too far ahead.
      default: {
        // Up to 16 minutes: rejected inputs move this clock but not the
        // engine's, and a drift past max_input_lead (1 hour) would have
        // every later input rejected until the next AdvanceTo.
        const int64_t step = (b & 0x1f) * (b & 0x1f);
        // At the end of the range, inputs stay at its last instant, so the
        // engine keeps running there instead of refusing every input.
        now_ = std::min(now_ + absl::Seconds(step), LatestInputTime() - absl::Nanoseconds(1));
        return now_;
      }
    }
  }

  // For AdvanceTo: also jumps of hours to days, and to the end of the range.
  absl::Time Jump(ByteReader* r) {
    absl::Time t;
    switch (r->Pick(8)) {
      case 0: t = ExtremeTime(r); break;
      case 1: t = now_ - absl::Hours(r->Pick(30)); break;
      default: t = now_ + absl::Seconds(r->Pick(65536) * 13); break;  // Up to ~10 days.
    }
    if (t >= EarliestInputTime() && t < LatestInputTime() && t > now_) now_ = t;
    return t;
  }

  absl::Time now() const { return now_; }

 private:
  absl::Time now_ = absl::FromUnixSeconds(kStartSeconds);
};

// A host's seed: of a fixed behaviour (or an unknown or hostile name), by a
// value of any type or a history of up to max_burst entries whose times,
// counts (0, huge) and values may or may not fit the behaviour.
BehaviorSeed AnySeed(ByteReader* r, Clock* clock, const std::string& subject,
                     const GeneratorLimits& limits) {
  BehaviorSeed seed;
  seed.subject_id = Hostile(r, subject, limits);
  seed.subject_type = r->Pick(8) == 0 ? Hostile(r, "device", limits) : "";
  seed.behavior = Hostile(r, kBehaviorNames[r->Pick(static_cast<int>(std::size(kBehaviorNames)))],
                          limits);
  seed.time = clock->Next(r);
  if (r->Pick(3) == 0) {
    seed.value = r->Pick(2) == 0 ? Value::Int(r->Pick(5)) : AnyValue(r, limits);
    return seed;
  }
  const int n = r->Pick(limits.max_burst + 1);
  for (int i = 0; i < n; ++i) {
    BehaviorSeedEntry entry;
    switch (r->Pick(6)) {
      case 0: entry.time = ExtremeTime(r); break;
      case 1: entry.time = seed.time + absl::Seconds(1 + r->Pick(100)); break;  // After it.
      default: entry.time = seed.time - absl::Minutes(r->Pick(65536)); break;  // Up to ~45 days.
    }
    switch (r->Pick(8)) {
      case 0: entry.count = 0; break;
      case 1: entry.count = INT64_MAX - r->Pick(2); break;
      default: entry.count = 1 + r->Pick(4); break;
    }
    if (r->Pick(2) == 0) entry.value = AnyValue(r, limits);
    seed.history.push_back(std::move(entry));
  }
  return seed;
}

// Bursts that grow one subject's state: what the per-subject limits are
// about, and what once made snapshots that did not restore.
void AddBurst(ByteReader* r, Clock* clock, const GeneratorLimits& limits,
              std::vector<Input>* out) {
  const std::string subject = absl::StrCat("big", r->Pick(3));
  const int n = 1 + r->Pick(limits.max_burst);
  const int kind = r->Pick(5);
  if (kind == 3) {
    // One profile update with many attributes.
    Input in;
    in.kind = Input::Kind::kUpsertProfile;
    in.subject_id = subject;
    in.time = clock->Next(r);
    for (int i = 0; i < n; ++i) {
      in.attributes.emplace_back(absl::StrCat("a", n - i), AnyValue(r, limits));
    }
    out->push_back(std::move(in));
    return;
  }
  for (int i = 0; i < n && out->size() < limits.max_inputs; ++i) {
    Input in;
    in.kind = Input::Kind::kEvent;
    in.event.subject_id = kind == 4 ? absl::StrCat("many", i) : subject;
    in.event.time = clock->Next(r);
    switch (kind) {
      case 0:  // First steps of cart's sequence trigger, with properties.
        in.event.name = "view";
        in.event.properties.emplace_back("sku", Value::String(absl::StrCat("k", i)));
        in.event.properties.emplace_back("note", AnyValue(r, limits));
        break;
      case 1:  // Keyed instances of orders.
        in.event.name = "buy";
        in.event.properties.emplace_back("order", Value::String(absl::StrCat("o", i)));
        break;
      case 2:  // Distinct opt-out channels.
        in.event.name = "opt_out";
        in.event.properties.emplace_back("channel", Value::String(absl::StrCat("ch", i)));
        break;
      default:  // Many subjects entering at once.
        in.event.name = i % 2 == 0 ? "view" : "buy";
        in.event.properties.emplace_back("order", Value::String("o"));
        break;
    }
    out->push_back(std::move(in));
  }
}

}  // namespace

void Check(bool condition, absl::string_view what) {
  if (condition) return;
  std::fprintf(stderr, "invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

void SilenceProtobufLogs() {
  static const bool silenced = [] {
    google::protobuf::SetLogHandler(
        [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
    return true;
  }();
  (void)silenced;
}

std::string ByteReader::Bytes(size_t max_size) {
  const size_t n =
      std::min<size_t>(Pick(static_cast<int>(max_size) + 1), size_ - std::min(pos_, size_));
  std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
  pos_ += n;
  return out;
}

uint32_t ByteReader::TakeFromEnd(int n) {
  uint32_t value = 0;
  for (int i = 0; i < n && size_ > pos_; ++i) value |= uint32_t{data_[--size_]} << (8 * i);
  return value;
}

v1::BehaviorSet ChosenBehaviorSet(uint32_t chosen) {
  const v1::BehaviorSet& all = BehaviorSetNumber(0);
  v1::BehaviorSet set;
  for (int i = 0; i < all.behaviors_size(); ++i) {
    if (chosen & (1u << i)) *set.add_behaviors() = all.behaviors(i);
  }
  const int segments = std::min(all.segments_size(), static_cast<int>(std::size(kSegmentReads)));
  for (int j = 0; j < segments; ++j) {
    const uint32_t needs = (1u << (kBehaviorCount + j)) | kSegmentReads[j];
    if ((chosen & needs) == needs) *set.add_segments() = all.segments(j);
  }
  return set;
}

std::vector<Input> DecodeInputs(ByteReader* r, const GeneratorLimits& limits) {
  std::vector<Input> inputs;
  inputs.reserve(limits.max_inputs + 1);  // (An Input is large to move.)
  Clock clock;
  // First the declarations the end of the bytes chooses: each execution
  // declares, snapshots and restores only those (all thirteen behaviours and
  // five segments, every time, were about a quarter of an execution's CPU
  // time: compiled twice, in every snapshot, restored).
  if (const uint32_t chosen = r->TakeFromEnd(3) & kChooseAll; chosen != 0) {
    Input in;
    in.kind = Input::Kind::kDeclareBehaviors;
    in.behavior_set = Input::kChosenSet;
    in.chosen = chosen;
    in.time = clock.now();
    inputs.push_back(std::move(in));
  }
  // (Not counted in limits.max_inputs: bytes that decoded to some inputs
  // before the declarations came first still do.)
  GeneratorLimits bounds = limits;
  bounds.max_inputs += inputs.size();
  while (!r->empty() && inputs.size() < bounds.max_inputs) {
    const std::string subject = absl::StrCat("s", r->Pick(12));
    Input in;
    // Events are five choices in thirteen; a cut (where the last snapshot is
    // taken) one; behaviour seeds and declarations one.
    switch (r->Pick(13)) {
      case 0: case 1: case 2: case 3: case 10: {
        in.kind = Input::Kind::kEvent;
        Event& e = in.event;
        e.subject_id = Hostile(r, subject, limits);
        e.subject_type = r->Pick(8) == 0 ? Hostile(r, "device", limits) : "";
        e.name = Hostile(r, kEventNames[r->Pick(11)], limits);
        e.time = clock.Next(r);
        if (r->Pick(2) == 0) e.id = Hostile(r, absl::StrCat("e", r->Pick(8)), limits);
        e.properties.emplace_back("sku", AnyValue(r, limits));
        e.properties.emplace_back("order",
                                  Value::String(Hostile(r, absl::StrCat("o", r->Pick(3)), limits)));
        if (r->Pick(4) == 0) {
          // (Named first: the order of reads must not depend on the order a
          // compiler evaluates arguments in.)
          std::string name = Hostile(r, "channel", limits);
          e.properties.emplace_back(std::move(name), AnyValue(r, limits));
        }
        break;
      }
      case 4: {
        in.kind = Input::Kind::kEnroll;
        in.journey_id = Hostile(r, kJourneyIds[r->Pick(5)], limits);
        in.subject_id = Hostile(r, subject, limits);
        in.time = clock.Next(r);
        std::string name = Hostile(r, "sku", limits);
        in.attributes.emplace_back(std::move(name), AnyValue(r, limits));
        break;
      }
      case 5:
        in.kind = Input::Kind::kReportDelivery;
        if (r->Pick(4) != 0) {
          in.sent_index = r->Byte();
        } else {
          in.message_id = r->Pick(2) == 0 ? r->Bytes(17) : Hostile(r, "0123456789abcdef", limits);
        }
        in.outcome = r->Pick(3) == 0 ? DeliveryOutcome::kFailed : DeliveryOutcome::kDelivered;
        in.time = clock.Next(r);
        in.reason = r->Pick(2) == 0 ? Hostile(r, "bounced", limits) : "";
        break;
      case 6:
        in.kind = Input::Kind::kUpsertProfile;
        in.subject_id = Hostile(r, subject, limits);
        in.time = clock.Next(r);
        in.attributes.emplace_back("time_zone", Value::String(Hostile(r, kZones[r->Pick(5)], limits)));
        if (r->Pick(2) == 0) in.attributes.emplace_back("opted_out_channels", AnyValue(r, limits));
        if (r->Pick(4) == 0) {
          std::string name = Hostile(r, "", limits);
          in.attributes.emplace_back(std::move(name), AnyValue(r, limits));
        }
        break;
      case 7:
        in.kind = Input::Kind::kAdvanceTo;
        in.time = clock.Jump(r);
        break;
      case 8: {
        in.kind = Input::Kind::kSetJourneyState;
        const v1::JourneyState states[] = {v1::ACTIVE, v1::PAUSED, v1::STOPPED,
                                           v1::JOURNEY_STATE_UNSPECIFIED};
        // Stopping is rare so that journeys mostly keep running.
        const int pick = r->Pick(16);
        in.journey_id = kJourneyIds[r->Pick(5)];
        in.state = states[pick < 7 ? 0 : pick < 13 ? 1 : pick < 15 ? 2 : 3];
        break;
      }
      case 9:
        AddBurst(r, &clock, bounds, &inputs);
        continue;
      case 11:
        if (r->Pick(8) == 0) {
          in.kind = Input::Kind::kDeclareBehaviors;
          in.behavior_set = r->Pick(static_cast<int>(std::size(kBehaviorSets)));
          in.time = clock.Next(r);
          break;
        }
        in.kind = Input::Kind::kSeedBehavior;
        in.seed = AnySeed(r, &clock, subject, limits);
        break;
      default:
        // One in three: a subject forgotten, or merged into another
        // (with the cuts, so that the other kinds keep their share).
        if (r->Pick(3) == 0) {
          const bool merge = r->Pick(2) == 0;
          in.kind = merge ? Input::Kind::kMerge : Input::Kind::kForget;
          in.subject_id = Hostile(r, subject, limits);
          if (merge) in.merge_from = Hostile(r, absl::StrCat("s", r->Pick(12)), limits);
          in.subject_type = r->Pick(8) == 0 ? Hostile(r, "device", limits) : "";
          in.time = clock.Next(r);
          break;
        }
        in.kind = Input::Kind::kCut;
        break;
    }
    inputs.push_back(std::move(in));
  }
  return inputs;
}

SendResult RecordingSinks::Send(const Message& message) {
  // Refused by the id, not by a counter or a random draw: a restored engine
  // sends the same ids and must get the same answers.
  const char last = message.message_id.empty() ? '0' : message.message_id.back();
  // (The time as a number: formatting it, on every send, was a good part of
  // an execution's cost.)
  absl::StrAppend(&log, "send ", message.message_id, " ", message.channel, " ",
                  message.subject_id, " ", message.node_id, " ", absl::ToUnixNanos(message.time),
                  "\n");
  if (last == '0' || last == '7') return SendResult::Failed(last == '0' ? "no_token" : "");
  sent_ids.push_back(message.message_id);
  return SendResult::Accepted();
}

void RecordingSinks::Write(const ProfileWrite& write) {
  absl::StrAppend(&log, "profile ", write.subject_id, " ", write.node_id, " ",
                  write.set.size(), " ", write.add_tags.size(), "\n");
}

void RecordingSinks::OnStep(const TraceStep& step) {
  absl::StrAppend(&log, static_cast<int>(step.kind), " ", step.journey_id, " ",
                  step.subject_id, " ", step.node_id, " ", step.detail, "\n");
}

EngineOptions FuzzEngineOptions() {
  EngineOptions o;
  o.start_time = absl::FromUnixSeconds(kStartSeconds);
  o.frequency_caps.push_back({"sms", 2, absl::Hours(6)});
  o.quiet_hours.push_back({"push", 23, 0, 7, 0, {}});
  o.rate_limits.push_back({"email", 2, absl::Minutes(10)});
  o.holdout_percent = 3;
  o.delivery_report_window = absl::Hours(48);
  o.scheduled_run_slice = 2;
  return o;
}

EngineOptions SmallLimitsEngineOptions() {
  EngineOptions o = FuzzEngineOptions();
  // Each a little below what the generator's bursts (up to
  // GeneratorLimits::max_burst inputs or attributes) and long strings (up
  // to max_string bytes) reach.
  o.max_input_bytes = 1024;  // The least allowed.
  o.max_profile_attributes = 6;
  o.max_profile_bytes = 2048;
  o.max_opt_out_channels = 3;
  o.max_instances_per_subject = 3;
  o.max_dedup_ids = 4;
  // One of two engines sharing every entry and rate limit (as a shard of
  // two would be): the journeys' limits and the email rate apply as their
  // shares (per_day 5 as 2, the email rate of 2 as 1).
  o.limit_share = {1, 2};
  return o;
}

std::unique_ptr<Engine> MakeEngine(RecordingSinks* sinks) {
  return MakeEngine(sinks, FuzzEngineOptions());
}

std::unique_ptr<Engine> MakeEngine(RecordingSinks* sinks, const EngineOptions& options,
                                   bool declare_behaviors) {
  auto engine = std::make_unique<Engine>(options);
  for (const char* channel : {"push", "sms", "email"}) {
    Check(engine->RegisterChannel(channel, sinks).ok(), "register channel");
  }
  engine->SetProfileSink(sinks);
  engine->SetObserver(sinks);
  if (declare_behaviors) {
    absl::Status declared = engine->DeclareBehaviors(BehaviorSetNumber(0));
    Check(declared.ok(), declared.ToString());
  }
  // Once: the full set is what ChosenBehaviorSet's bits say, and each
  // segment compiles with only what kSegmentReads says it reads.
  static const bool parts_checked = [] {
    const v1::BehaviorSet& all = BehaviorSetNumber(0);
    Check(all.behaviors_size() == kBehaviorCount &&
              all.segments_size() == static_cast<int>(std::size(kSegmentReads)) &&
              ChosenBehaviorSet(kChooseAll).SerializeAsString() == all.SerializeAsString(),
          "the full behaviour set and its bits disagree");
    for (size_t j = 0; j < std::size(kSegmentReads); ++j) {
      const v1::BehaviorSet part =
          ChosenBehaviorSet((1u << (kBehaviorCount + j)) | kSegmentReads[j]);
      Check(part.segments_size() >= 1, "a segment without what it reads");
      Engine engine(FuzzEngineOptions());
      const absl::Status declared = engine.DeclareBehaviors(part);
      Check(declared.ok(), declared.ToString());
    }
    return true;
  }();
  (void)parts_checked;
  // Compiled once: each execution builds two engines, and compiling the
  // journeys for each was most of the cost of an empty one.
  static const std::vector<std::shared_ptr<const CompiledJourney>>* const journeys = [] {
    auto* compiled = new std::vector<std::shared_ptr<const CompiledJourney>>();
    std::vector<std::string> texts(std::begin(kJourneys), std::end(kJourneys));
    texts.push_back(kScheduledJourney);
    // The cart split decides itself: checked hourly, on one resolved goal
    // per arm, giving up after two days, so that snapshots land before, at
    // and after decisions and give-ups, and clock jumps of years cross
    // thousands of checks at once.
    const auto edit = [](std::string* text, absl::string_view from, const std::string& to) {
      Check(absl::StrContains(*text, from), absl::StrCat("a fuzzed journey changed: ", from));
      absl::StrReplaceAll({{from, to}}, text);
    };
    const std::string kControlArm =
        R"pb(variants { name: "control" weight: 30 control: true next: "goal" })pb";
    edit(&texts[0], kControlArm, absl::StrCat(kControlArm, R"pb(
        rule { goal: "paid_2d" min_per_arm: 1 min_duration {} check_every { seconds: 3600 }
               alpha: 0.5 max_duration { seconds: 172800 } })pb"));
    // The send policies and entry limits: the promo's SMS fallback waits
    // out the SMS cap, its mails keep weekend quiet hours of their own, and
    // at most five subjects a day enter it; the orders' late notice is
    // transactional; each daily run enters two at most, forty in all.
    edit(&texts[1], R"pb(template_id: "m2" next: "visit")pb",
         R"pb(template_id: "m2" next: "visit" over_cap: DEFER)pb");
    edit(&texts[1], "reentry { mode: CONCURRENT max_concurrent: 2 }",
         R"pb(reentry { mode: CONCURRENT max_concurrent: 2 } entry_limits { per_day: 5 }
              quiet_hours { channel: "email" start { hour: 20 } end { hour: 8 }
                            weekdays: SATURDAY weekdays: SUNDAY })pb");
    edit(&texts[2], R"pb(template_id: "late")pb", R"pb(template_id: "late" transactional: true)pb");
    edit(&texts[2], "instance_key: \"order\"",
         "instance_key: \"order\" rate_limit { max_messages: 3 per { seconds: 3600 } }");
    edit(&texts[3], "reentry { mode: AFTER_EXIT }",
         "reentry { mode: AFTER_EXIT } entry_limits { per_occurrence: 2 total: 40 }");
    for (const std::string& text : texts) {
      absl::StatusOr<v1::Journey> journey = ParseJourney(text, JourneyFormat::kText);
      Check(journey.ok(), journey.status().ToString());
      absl::StatusOr<std::shared_ptr<const CompiledJourney>> c = Compile(*journey);
      Check(c.ok(), c.status().ToString());
      compiled->push_back(*std::move(c));
    }
    return compiled;
  }();
  for (const std::shared_ptr<const CompiledJourney>& journey : *journeys) {
    absl::Status deployed = engine->Deploy(journey);
    Check(deployed.ok(), deployed.ToString());
  }
  return engine;
}

namespace {

// The balances one version's report must hold (see CheckCounters); adds
// its in-flight count to *in_flight.
absl::Status CheckVersionReport(absl::string_view journey_id, const v1::VersionReport& v,
                                int64_t* in_flight) {
  auto broken = [&](absl::string_view node, absl::string_view what) {
    return absl::InternalError(absl::StrCat(journey_id, " v", v.version(),
                                            node.empty() ? "" : " ", node, ": ", what));
  };
  if (v.entered() != v.exited() + v.in_flight()) {
    return broken("", "entered != exited + in_flight");
  }
  if (v.in_flight() < 0) return broken("", "negative in_flight");
  int64_t occupied = 0;
  for (const v1::NodeReport& n : v.nodes()) {
    if (n.current() < 0) return broken(n.node_id(), "negative current");
    occupied += n.current();
  }
  if (occupied != v.in_flight()) return broken("", "node occupancy != in_flight");
  int64_t exits = 0;
  for (const v1::ReasonCount& r : v.exits()) exits += r.count();
  if (exits != v.exited()) return broken("", "exit reasons != exited");
  for (const v1::ActionReport& a : v.actions()) {
    int64_t undelivered = 0;
    for (const v1::ReasonCount& r : a.undelivered()) undelivered += r.count();
    if (a.awaiting_report() < 0 || a.unreported() < 0) {
      return broken(a.node_id(), "negative delivery counts");
    }
    if (a.sent() != a.delivered() + undelivered + a.unreported() + a.awaiting_report()) {
      return broken(a.node_id(), "sends do not balance");
    }
  }
  *in_flight += v.in_flight();
  return absl::OkStatus();
}

// What the whole engine must hold once its versions' in-flight counts are
// summed: its own in-flight count agrees, and every input counted once.
absl::Status CheckTotals(const EngineStats& s, int64_t in_flight, const InputCounts& counts) {
  if (s.enrollments_in_flight != in_flight) {
    return absl::InternalError("stats in flight != reports in flight");
  }
  return CheckInputCounts(s, counts);
}

}  // namespace

absl::Status CheckCounters(const Engine& engine, const InputCounts& counts) {
  int64_t in_flight = 0;
  for (const std::string& id : engine.journey_ids()) {
    absl::StatusOr<v1::JourneyReport> report = engine.Report(id);
    if (!report.ok()) return absl::InternalError(report.status().ToString());
    for (const v1::VersionReport& v : report->versions()) {
      CAIRN_RETURN_IF_ERROR(CheckVersionReport(id, v, &in_flight));
    }
  }
  return CheckTotals(engine.stats(), in_flight, counts);
}

absl::Status CheckInputCounts(const EngineStats& s, const InputCounts& counts) {
  auto broken = [](absl::string_view what) { return absl::InternalError(what); };
  if (s.enrollments_in_flight < 0) return broken("negative enrollments in flight");
  if (s.events_applied + s.events_ignored + s.events_rejected != counts.events) {
    return broken("events not counted exactly once");
  }
  if (s.enrollments_applied + s.enrollments_rejected != counts.enrollments) {
    return broken("enrollments not counted exactly once");
  }
  if (s.profile_updates_applied + s.profile_updates_rejected != counts.profile_updates) {
    return broken("profile updates not counted exactly once");
  }
  if (s.delivery_reports_applied + s.delivery_reports_rejected != counts.delivery_reports) {
    return broken("delivery reports not counted exactly once");
  }
  if (s.behavior_seeds_applied + s.behavior_seeds_rejected != counts.behavior_seeds) {
    return broken("behaviour seeds not counted exactly once");
  }
  if (s.erasures_applied + s.erasures_rejected != counts.erasures) {
    return broken("erasures not counted exactly once");
  }
  if (s.merges_applied + s.merges_rejected != counts.merges) {
    return broken("merges not counted exactly once");
  }
  return absl::OkStatus();
}

void CheckInvariants(const Engine& engine, const InputCounts& counts) {
  const absl::Status status = CheckCounters(engine, counts);
  Check(status.ok(), status.message());
}

FuzzRun::FuzzRun() : FuzzRun(FuzzEngineOptions()) {}

FuzzRun::FuzzRun(const EngineOptions& options, bool declare_behaviors)
    : engine_(MakeEngine(&sinks_, options, declare_behaviors)) {}

namespace {

const char* KindName(Input::Kind kind) {
  switch (kind) {
    case Input::Kind::kEvent: return "Ingest";
    case Input::Kind::kEnroll: return "Enroll";
    case Input::Kind::kReportDelivery: return "ReportDelivery";
    case Input::Kind::kUpsertProfile: return "UpsertProfile";
    case Input::Kind::kAdvanceTo: return "AdvanceTo";
    case Input::Kind::kSetJourneyState: return "SetJourneyState";
    case Input::Kind::kSeedBehavior: return "SeedBehavior";
    case Input::Kind::kDeclareBehaviors: return "DeclareBehaviors";
    case Input::Kind::kForget: return "Forget";
    case Input::Kind::kMerge: return "MergeSubjects";
    case Input::Kind::kCut: return "cut";
  }
  return "?";
}

// What a rejected input must leave as it was (its own rejected counter
// aside). Compared as numbers and formatted only when they differ: taken
// before every input, as a string it cost more than most inputs.
struct Unchanged {
  explicit Unchanged(const Engine& engine) : now(engine.now()) {
    const EngineStats s = engine.stats();
    counts = {s.subjects, s.enrollments_in_flight, s.timers_fired, s.messages_sent,
              s.messages_failed, s.events_applied, s.enrollments_applied,
              s.profile_updates_applied, s.delivery_reports_applied, s.late_inputs};
  }
  bool operator==(const Unchanged& o) const { return now == o.now && counts == o.counts; }
  bool operator!=(const Unchanged& o) const { return !(*this == o); }
  std::string ToString() const {
    return absl::StrCat(absl::FormatTime(now), " ", absl::StrJoin(counts, " "));
  }

  absl::Time now;
  std::array<int64_t, 10> counts;
};

std::string StatsText(const EngineStats& s) {
  return absl::StrCat(
      s.events_applied, " ", s.events_ignored, " ", s.events_rejected, " ", s.events_duplicate,
      " ", s.enrollments_applied, " ", s.enrollments_rejected, " ", s.profile_updates_applied,
      " ", s.profile_updates_rejected, " ", s.delivery_reports_applied, " ",
      s.delivery_reports_rejected, " ", s.late_inputs, " ", s.too_late_inputs, " ",
      s.future_inputs, " ", s.timers_fired, " ", s.messages_sent, " ", s.messages_failed, " ",
      s.unknown_time_zones, " ", s.limits_reached, " ", s.behavior_seeds_applied, " ",
      s.behavior_seeds_rejected, " ", s.erasures_applied, " ", s.erasures_rejected, " ",
      s.merges_applied, " ", s.merges_rejected, " ",
      s.subjects, " ", s.enrollments_in_flight);
}

// Stream buffers over a string, so that a snapshot is written straight
// into the string that holds it and read from there, not copied out of an
// ostringstream and into an istringstream.
class AppendToString : public std::streambuf {
 public:
  explicit AppendToString(std::string* out) : out_(out) {}

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    out_->append(s, static_cast<size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      out_->push_back(traits_type::to_char_type(c));
    }
    return traits_type::not_eof(c);
  }

 private:
  std::string* out_;
};

class ReadFromString : public std::streambuf {
 public:
  explicit ReadFromString(const std::string& bytes) {
    char* begin = const_cast<char*>(bytes.data());  // Only read.
    setg(begin, begin, begin + bytes.size());
  }
};

// CheckCounters on what `snapshot`, of an engine whose stats are `stats`,
// holds: each version's counters as the VersionReport that Report() gives,
// so the same balances hold. Read in place on the stack instead of built by
// Report() on the heap: three reports were a quarter of an execution's
// allocations. The counters, one record per version in version order,
// follow the header and the journeys, before any per-subject record
// (Engine::Impl::Snapshot), so reading stops at the last version's: parsing
// the subjects' records too, which this check does not look at, was most of
// its cost.
absl::Status CheckSnapshotCounters(const std::string& snapshot, const EngineStats& stats,
                                   const InputCounts& counts) {
  ReadFromString buffer(snapshot);
  std::istream in(&buffer);
  internal::RecordReader reader(&in);
  std::vector<std::string> journey_ids;  // By version index, from the header.
  size_t versions_counted = 0;
  int64_t in_flight = 0;
  while (versions_counted == 0 || versions_counted < journey_ids.size()) {
    alignas(8) char block[4096];  // A record's messages: on the heap only past this.
    google::protobuf::Arena arena(block, sizeof(block));
    auto* record = google::protobuf::Arena::CreateMessage<v1::SnapshotRecord>(&arena);
    absl::StatusOr<bool> more = reader.Read(record);
    if (!more.ok()) return absl::InternalError(more.status().ToString());
    if (!*more) break;
    if (record->has_header()) {
      for (const v1::SnapshotDeployedVersion& v : record->header().versions()) {
        journey_ids.push_back(v.journey_id());
      }
    } else if (record->has_counters()) {
      const v1::SnapshotVersionCounters& c = record->counters();
      if (c.version_index() != versions_counted || c.version_index() >= journey_ids.size()) {
        return absl::InternalError(
            "snapshot: counters out of version order, or of a version the header does not name");
      }
      CAIRN_RETURN_IF_ERROR(
          CheckVersionReport(journey_ids[c.version_index()], c.report(), &in_flight));
      ++versions_counted;
    } else if (versions_counted > 0) {
      break;  // Past the counters, with versions left out: refused below.
    }
  }
  if (versions_counted != journey_ids.size()) {
    return absl::InternalError(absl::StrCat("snapshot: counters of ", versions_counted,
                                            " versions, the header names ",
                                            journey_ids.size()));
  }
  return CheckTotals(stats, in_flight, counts);
}

// `expected_size`: what the snapshot probably takes (an earlier one's
// size), reserved up front: grown by doubling, each snapshot was copied
// into a fresh allocation about five times.
absl::StatusOr<std::string> SnapshotOf(const Engine& engine, size_t expected_size) {
  std::string snapshot;
  snapshot.reserve(expected_size);
  AppendToString buffer(&snapshot);
  std::ostream out(&buffer);
  absl::Status status = engine.Snapshot(out);
  if (!status.ok()) return absl::InternalError(absl::StrCat("Snapshot: ", status.ToString()));
  return snapshot;
}

}  // namespace

absl::Status FuzzRun::Apply(const Input& in) {
  if (in.kind == Input::Kind::kCut) return absl::OkStatus();
  Engine& e = *engine_;
  const absl::Time before = e.now();
  Unchanged unchanged(e);
  absl::Status status;
  switch (in.kind) {
    case Input::Kind::kEvent:
      ++counts.events;
      status = e.Ingest(in.event);
      break;
    case Input::Kind::kEnroll:
      ++counts.enrollments;
      status = e.Enroll(in.journey_id, in.subject_id, in.time, in.attributes);
      break;
    case Input::Kind::kReportDelivery: {
      const std::vector<std::string>& sent = sinks_.sent_ids;
      const std::string& id = in.sent_index >= 0 && !sent.empty()
                                  ? sent[static_cast<size_t>(in.sent_index) % sent.size()]
                                  : in.message_id;
      ++counts.delivery_reports;
      status = e.ReportDelivery(id, in.outcome, in.time, in.reason);
      break;
    }
    case Input::Kind::kUpsertProfile:
      ++counts.profile_updates;
      status = e.UpsertProfile(in.subject_id, in.attributes, in.time);
      break;
    case Input::Kind::kAdvanceTo:
      status = e.AdvanceTo(in.time);
      break;
    case Input::Kind::kSetJourneyState:
      status = e.SetJourneyState(in.journey_id, in.state);
      break;
    case Input::Kind::kSeedBehavior:
      ++counts.behavior_seeds;
      status = e.SeedBehavior(in.seed);
      break;
    case Input::Kind::kDeclareBehaviors:
      // As Engine::Apply does it: time moves first, then the set is
      // declared or refused, and a refused one changes nothing from there.
      status = e.AdvanceTo(in.time);
      if (status.ok()) {
        unchanged = Unchanged(e);
        const bool chosen = in.behavior_set == Input::kChosenSet;
        const v1::BehaviorSet part = chosen ? ChosenBehaviorSet(in.chosen) : v1::BehaviorSet();
        status = e.DeclareBehaviors(chosen ? part : BehaviorSetNumber(in.behavior_set));
      }
      break;
    case Input::Kind::kForget:
      ++counts.erasures;
      status = e.Forget(in.subject_id, in.time, in.subject_type);
      break;
    case Input::Kind::kMerge:
      ++counts.merges;
      status = e.MergeSubjects(in.merge_from, in.subject_id, in.time, in.subject_type);
      break;
    case Input::Kind::kCut:
      break;
  }
  absl::StrAppend(&sinks_.log, "= ", KindName(in.kind), " ", static_cast<int>(status.code()), " ",
                  status.message(), "\n");
  const char* what = KindName(in.kind);
  if (!IsDocumentedError(in.kind, status.code())) {
    return absl::InternalError(
        absl::StrCat(what, " returned an undocumented status: ", status.ToString()));
  }
  if (e.now() < before) return absl::InternalError(absl::StrCat(what, " moved time backwards"));
  // (A delivery report refused as unknown or repeated was judged at its own
  // time, so it moved time as any input would: documented in ReportDelivery.)
  // Nor did an erasure of a subject not known.
  const bool judged_at_its_time =
      (in.kind == Input::Kind::kReportDelivery &&
       (status.code() == absl::StatusCode::kNotFound ||
        status.code() == absl::StatusCode::kAlreadyExists)) ||
      ((in.kind == Input::Kind::kForget || in.kind == Input::Kind::kMerge) &&
       status.code() == absl::StatusCode::kNotFound);
  if (!status.ok() && !judged_at_its_time && Unchanged(e) != unchanged) {
    return absl::InternalError(absl::StrCat(what, " was rejected (", status.ToString(),
                                            ") but changed the engine: ", unchanged.ToString(),
                                            " -> ", Unchanged(e).ToString()));
  }
  // Every input is counted exactly once, checked after each one. The
  // reports' balances are checked where CheckSnapshotContinuation says.
  absl::Status counted = CheckInputCounts(e.stats(), counts);
  if (!counted.ok()) {
    return absl::InternalError(absl::StrCat("after ", what, ": ", counted.message()));
  }
  if ((in.kind == Input::Kind::kForget || in.kind == Input::Kind::kMerge) && status.ok()) {
    // Forgotten, or merged away: found no more.
    const std::string& gone = in.kind == Input::Kind::kForget ? in.subject_id : in.merge_from;
    absl::StatusOr<v1::SubjectReport> report = e.Inspect(in.subject_type, gone);
    if (!report.ok() || report->known()) {
      return absl::InternalError(absl::StrCat("after ", what, ": Inspect still knows ", gone));
    }
  }
  return CheckInspect(e, in.kind == Input::Kind::kEvent ? in.event.subject_id : in.subject_id,
                      what);
}

absl::Status CheckInspect(const Engine& e, const std::string& subject, absl::string_view what) {
  if (subject.empty()) return absl::OkStatus();
  absl::StatusOr<v1::SubjectReport> report = e.Inspect("", subject);
  if (!report.ok()) {
    return absl::InternalError(absl::StrCat("after ", what, ": Inspect: ", report.status().ToString()));
  }
  // Where each enrollment is: it arrived by now, and its timer is not
  // overdue (timers due by engine time have fired).
  for (const v1::EnrollmentStatus& s : report->enrollments()) {
    absl::Time since, next;
    std::string error;
    if (!s.since().empty() &&
        (!absl::ParseTime(absl::RFC3339_full, s.since(), &since, &error) || since > e.now())) {
      return absl::InternalError(absl::StrCat("after ", what, ": Inspect: since ", s.since()));
    }
    if (!s.next_timer().empty() &&
        (!absl::ParseTime(absl::RFC3339_full, s.next_timer(), &next, &error) || next < e.now())) {
      return absl::InternalError(
          absl::StrCat("after ", what, ": Inspect: next timer ", s.next_timer()));
    }
    if (s.node_id().empty() || s.journey_id().empty() || s.entry() < 1) {
      return absl::InternalError(absl::StrCat("after ", what, ": Inspect: incomplete"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSnapshotContinuation(const std::vector<Input>& inputs,
                                       const GeneratorLimits& limits) {
  return CheckSnapshotContinuation(inputs, limits, FuzzEngineOptions());
}

absl::Status CheckSnapshotContinuation(const std::vector<Input>& inputs,
                                       const GeneratorLimits& limits,
                                       const EngineOptions& options) {
  struct Cut {
    size_t next;  // The first input after the snapshot.
    std::string snapshot;
    absl::Time now;
    std::vector<std::string> sent_ids;
    size_t log_size;
    InputCounts counts;
  };
  FuzzRun original(options, /*declare_behaviors=*/false);
  // The cuts are the last limits.max_cuts kCut inputs: the state there is
  // the most the inputs build, and the restored engine replays only what
  // follows (the first ones, usually a few inputs in, had it replay nearly
  // all of them).
  size_t first_cut = inputs.size();
  for (int seen = 0; first_cut > 0 && seen < limits.max_cuts;) {
    if (inputs[--first_cut].kind == Input::Kind::kCut) ++seen;
  }
  std::vector<Cut> cuts;
  // The snapshots grow with the inputs: each is expected as large as the
  // last, a restored engine's final one as the original's.
  size_t last_snapshot_size = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].kind == Input::Kind::kCut && i >= first_cut) {
      CAIRN_ASSIGN_OR_RETURN(std::string snapshot,
                             SnapshotOf(original.engine(), last_snapshot_size));
      last_snapshot_size = snapshot.size();
      cuts.push_back(Cut{i + 1, std::move(snapshot), original.engine().now(),
                         original.sinks().sent_ids, original.sinks().log.size(),
                         original.counts});
    }
    absl::Status applied = original.Apply(inputs[i]);
    if (!applied.ok()) {
      return absl::InternalError(absl::StrCat("input ", i, ": ", applied.message()));
    }
  }
  CAIRN_ASSIGN_OR_RETURN(const std::string final_snapshot,
                         SnapshotOf(original.engine(), last_snapshot_size));
  // The reports balance at the end of the run. (At the cut, Restore checks
  // more: it holds the snapshot's counters against its enrollments.)
  if (absl::Status counters =
          CheckSnapshotCounters(final_snapshot, original.engine().stats(), original.counts);
      !counters.ok()) {
    return absl::InternalError(absl::StrCat("after the last input: ", counters.message()));
  }
  // Without a cut, the final snapshot is the one that must restore (to
  // itself: nothing follows it).
  if (cuts.empty()) {
    cuts.push_back(Cut{inputs.size(), final_snapshot, original.engine().now(),
                       original.sinks().sent_ids, original.sinks().log.size(), original.counts});
  }
  for (const Cut& cut : cuts) {
    const std::string where = absl::StrCat("restored from a snapshot before input ", cut.next);
    FuzzRun restored(options, /*declare_behaviors=*/false);
    ReadFromString buffer(cut.snapshot);
    std::istream in(&buffer);
    absl::Status status = restored.engine().Restore(in);
    if (!status.ok()) {
      return absl::InternalError(
          absl::StrCat("a snapshot Snapshot() wrote does not restore: ", status.ToString()));
    }
    if (restored.engine().now() != cut.now) {
      return absl::InternalError(absl::StrCat(where, ": engine time differs"));
    }
    restored.sinks().sent_ids = cut.sent_ids;
    restored.counts = cut.counts;
    for (size_t i = cut.next; i < inputs.size(); ++i) {
      absl::Status applied = restored.Apply(inputs[i]);
      if (!applied.ok()) {
        return absl::InternalError(absl::StrCat(where, ", input ", i, ": ", applied.message()));
      }
    }
    const std::string& expected_log = original.sinks().log;
    const std::string& log = restored.sinks().log;
    if (log != absl::string_view(expected_log).substr(cut.log_size)) {
      size_t at = 0;
      while (at < log.size() && cut.log_size + at < expected_log.size() &&
             log[at] == expected_log[cut.log_size + at]) {
        ++at;
      }
      return absl::InternalError(absl::StrCat(
          where, ": outputs differ at byte ", at, ": restored \"", log.substr(at, 120),
          "\" vs original \"", expected_log.substr(cut.log_size + at, 120), "\""));
    }
    if (restored.engine().now() != original.engine().now()) {
      return absl::InternalError(absl::StrCat(where, ": final engine time differs"));
    }
    if (StatsText(restored.engine().stats()) != StatsText(original.engine().stats())) {
      return absl::InternalError(absl::StrCat(where, ": stats differ: ",
                                              StatsText(restored.engine().stats()), " vs ",
                                              StatsText(original.engine().stats())));
    }
    // (The reports are not built again: Report() gives what the final
    // snapshot holds, each version's counters as a VersionReport and each
    // journey's state, and those bytes are compared below.)
    CAIRN_ASSIGN_OR_RETURN(const std::string snapshot,
                           SnapshotOf(restored.engine(), final_snapshot.size()));
    if (snapshot != final_snapshot) {
      return absl::InternalError(absl::StrCat(where, ": final snapshot bytes differ"));
    }
  }
  return absl::OkStatus();
}

}  // namespace cairn::fuzz
