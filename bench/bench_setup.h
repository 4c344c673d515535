// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// What every engine benchmark sets up: the cart-abandonment example plus two
// journeys that keep subjects waiting (a one-hour delay before a push, and a
// week-long wait for a second login), a push sink that accepts everything,
// the common start time, the event stream they are fed, the three
// behaviours the behaviour benchmarks declare on that stream, and the
// segments (with two behaviours and some profiles more) the segment
// benchmark declares.

#ifndef CAIRN_BENCH_BENCH_SETUP_H_
#define CAIRN_BENCH_BENCH_SETUP_H_

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/cairn.h"

namespace cairn::bench {

class NullSink : public ChannelSink {
 public:
  SendResult Send(const Message&) override { return SendResult::Accepted(); }
};

inline const char kCartPath[] = CAIRN_SOURCE_DIR "/examples/cart_abandonment/journey.textproto";

inline const char kReminder[] = R"pb(
  id: "reminder" version: 1 settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "t" trigger { event { matcher { event: "signup" } } next: "d" } }
  nodes { id: "d" delay { duration { seconds: 3600 } next: "p" } }
  nodes { id: "p" action { channel: "push" template_id: "welcome" } })pb";

inline const char kWinBack[] = R"pb(
  id: "win_back" version: 1 settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "t" trigger { event { matcher { event: "login" } } next: "w" } }
  nodes { id: "w" wait { branches { matcher { event: "login" } next: "" }
          timeout { seconds: 604800 } on_timeout: "p" } }
  nodes { id: "p" action { channel: "push" template_id: "gift" } })pb";

inline const absl::Time kStart = absl::FromUnixSeconds(1767225600);

// Exits with the error: a benchmark with a broken set-up measures nothing.
inline void CheckOrDie(const absl::Status& status) {
  if (status.ok()) return;
  std::fprintf(stderr, "benchmark set-up failed: %s\n", status.ToString().c_str());
  std::exit(1);
}

inline v1::Journey ParseOrDie(const char* text) {
  absl::StatusOr<v1::Journey> journey = ParseJourney(text, JourneyFormat::kText);
  CheckOrDie(journey.status());
  return *std::move(journey);
}

inline v1::Journey LoadOrDie(const std::string& path) {
  absl::StatusOr<v1::Journey> journey = LoadJourneyFile(path);
  CheckOrDie(journey.status());
  return *std::move(journey);
}

// The cart example, the reminder and the win-back journey.
inline std::vector<v1::Journey> BenchJourneys() {
  return {LoadOrDie(kCartPath), ParseOrDie(kReminder), ParseOrDie(kWinBack)};
}

// Registers `sink` on "push" and deploys BenchJourneys().
inline absl::Status SetUpBenchEngine(Engine& engine, NullSink* sink) {
  CAIRN_RETURN_IF_ERROR(engine.RegisterChannel("push", sink));
  for (const v1::Journey& journey : BenchJourneys()) CAIRN_RETURN_IF_ERROR(engine.Deploy(journey));
  return absl::OkStatus();
}

// An engine with BenchJourneys() deployed.
struct Fixture {
  NullSink sink;
  Engine engine;
  explicit Fixture(EngineOptions options = EngineOptions()) : engine(std::move(options)) {
    CheckOrDie(SetUpBenchEngine(engine, &sink));
  }
};

// The behaviours of the behaviour benchmarks (docs/performance.md,
// "Behaviours"): the three kinds the roadmap's target names, each listening
// to a name that is 10% of EventStream's mix, so that each does real work:
// product views in the last 7 days at 1-hour resolution, the amount paid in
// the last 30 days at 1-day resolution (31 buckets at most, where 1 hour
// would allow 721 for no gain to a "last 30 days" condition), and the
// current streak of daily logins (UTC days: no profile has a zone).
inline const char kBenchBehaviors[] = R"pb(
  behaviors {
    name: "views_7d"
    event { event: "product_view" }
    function: COUNT
    window { last { seconds: 604800 } resolution { seconds: 3600 } }
  }
  behaviors {
    name: "spent_30d"
    event { event: "payment" }
    function: SUM
    property: "amount"
    window { last { seconds: 2592000 } resolution { seconds: 86400 } }
  }
  behaviors {
    name: "login_streak"
    event { event: "login" }
    function: CURRENT_STREAK
  })pb";

inline v1::BehaviorSet BenchBehaviors() {
  absl::StatusOr<v1::BehaviorSet> set = ParseBehaviorSet(kBenchBehaviors, JourneyFormat::kText);
  CheckOrDie(set.status());
  return *std::move(set);
}

// The segment benchmark's behaviours: BenchBehaviors() and two more on
// `payment` that its segments read, the payments ever (an all-time count)
// and the time of the last one.
inline const char kBenchSegmentBehaviors[] = R"pb(
  behaviors { name: "payments" event { event: "payment" } function: COUNT }
  behaviors { name: "last_payment" event { event: "payment" } function: LAST_TIME })pb";

// Five segments over those behaviours and BenchProfiles(): three that only
// an input can change (a profile attribute, two attributes, an all-time
// count) and two that time alone changes (a payer silent for 10 minutes,
// via now_minus on a LAST_TIME: the stream lasts 33 minutes, so most
// payers lapse during it; and a 7-day sliding window).
inline const char kBenchSegments[] = R"pb(
  segments {
    name: "gold"
    condition { compare { path: "profile.tier" op: EQ value { string_value: "gold" } } }
  }
  segments {
    name: "greater_china"
    condition {
      all {
        predicates {
          compare {
            path: "profile.country"
            op: IN
            value { string_list_value { values: "CN" values: "HK" values: "TW" } }
          }
        }
        predicates { not { compare { path: "profile.opted_out" op: EQ value { bool_value: true } } } }
      }
    }
  }
  segments {
    name: "repeat_payers"
    condition { compare { path: "behavior.payments" op: GE value { int_value: 2 } } }
  }
  segments {
    name: "lapsed_payers"
    condition {
      all {
        predicates { compare { path: "behavior.payments" op: GE value { int_value: 1 } } }
        predicates { compare { path: "behavior.last_payment" op: LT now_minus { seconds: 600 } } }
      }
    }
  }
  segments {
    name: "browsers_7d"
    condition { compare { path: "behavior.views_7d" op: GE value { int_value: 2 } } }
  })pb";

// BenchBehaviors() and kBenchSegmentBehaviors; with `segments`,
// kBenchSegments too.
inline v1::BehaviorSet BenchSegmentSet(bool segments) {
  v1::BehaviorSet set = BenchBehaviors();
  absl::StatusOr<v1::BehaviorSet> more =
      ParseBehaviorSet(kBenchSegmentBehaviors, JourneyFormat::kText);
  CheckOrDie(more.status());
  set.MergeFrom(*more);
  if (segments) {
    absl::StatusOr<v1::BehaviorSet> declared =
        ParseBehaviorSet(kBenchSegments, JourneyFormat::kText);
    CheckOrDie(declared.status());
    set.MergeFrom(*declared);
  }
  return set;
}

// Profiles for one subject in ten of EventStream's (u0, u10, ...): a tier
// (gold for one in two of them), a country (CN, US or DE in turn) and, for
// one in seven, opted_out. Upserted at kStart, before the stream.
inline absl::Status UpsertBenchProfiles(Engine& engine, int subjects) {
  static const char* const kCountries[] = {"CN", "US", "DE"};
  for (int i = 0; i < subjects; i += 10) {
    Attributes attributes = {
        {"tier", Value::String(i % 20 == 0 ? "gold" : "silver")},
        {"country", Value::String(kCountries[(i / 10) % 3])}};
    if ((i / 10) % 7 == 0) attributes.emplace_back("opted_out", Value::Bool(true));
    CAIRN_RETURN_IF_ERROR(engine.UpsertProfile(absl::StrCat("u", i), attributes, kStart));
  }
  return absl::OkStatus();
}

// Mostly searches and page views (no journey listens), some product views,
// carts, payments and logins: 60% of the events match nothing. Subjects are
// drawn uniformly from `subjects`; event i happens at start + i * `spacing`
// (1 ms unless told). The stream is produced in chunks so the 10M-subject
// run does not hold every event in memory; producing a chunk is never
// timed. With `amounts`, every payment carries an "amount" (a double, 0.01
// to 500.00), which the behaviour benchmarks sum; the rest of the stream is
// the same either way.
class EventStream {
 public:
  static constexpr int kChunk = 1'000'000;

  EventStream(int subjects, int64_t events, bool amounts = false,
              absl::Duration spacing = absl::Milliseconds(1))
      : subjects_(subjects), events_(events), amounts_(amounts), spacing_(spacing) {}

  // Fills *out with the next chunk; false when the stream is done.
  bool Next(std::vector<Event>* out) {
    out->clear();
    if (i_ >= events_) return false;
    static const char* const kNames[] = {"search",       "page_view",   "search",  "page_view",
                                         "page_view",    "product_view", "add_to_cart",
                                         "payment",      "login",        "search"};
    const int64_t end = std::min(events_, i_ + kChunk);
    out->reserve(static_cast<size_t>(end - i_));
    for (; i_ < end; ++i_) {
      x_ = x_ * 6364136223846793005ULL + 1442695040888963407ULL;
      Event e;
      e.subject_id = absl::StrCat("u", (x_ >> 20) % static_cast<uint64_t>(subjects_));
      e.name = kNames[(x_ >> 50) % 10];
      e.time = kStart + spacing_ * i_;
      if (amounts_ && e.name == "payment") {
        // Bits the subject and name do not use.
        const int64_t cents = 1 + static_cast<int64_t>((x_ >> 4) % 50'000);
        e.properties.emplace_back("amount", Value::Double(static_cast<double>(cents) / 100));
      }
      out->push_back(std::move(e));
    }
    return true;
  }

 private:
  int subjects_;
  int64_t events_;
  bool amounts_;
  absl::Duration spacing_;
  int64_t i_ = 0;
  uint64_t x_ = 42;
};

}  // namespace cairn::bench

#endif  // CAIRN_BENCH_BENCH_SETUP_H_
