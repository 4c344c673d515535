// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Behaviours (cairn/v1/behavior.proto) through the public API, as a user's
// journeys meet them: counts over all time and sliding windows (to the
// second at a bucket's edge), sums, smallest and largest, distinct values,
// first and last times with now_minus, active days and streaks in the
// subject's time zone (DST, midnight), late and duplicate events, journeys
// entering on the 11th share, what a new declaration keeps and what it may
// not change, every declaration problem, seeds from a host's own history,
// snapshots cut anywhere, and the bounds the store documents.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "google/protobuf/text_format.h"
#include "testing/snapshot_records.h"
#include "testing/test_util.h"
#include "util/record_io.h"

namespace Catch {
template <>
struct StringMaker<cairn::Value> {
  static std::string convert(const cairn::Value& v) {
    return v.is_null() ? std::string("null") : v.DebugString();
  }
};
}  // namespace Catch

namespace cairn {
namespace {

using testing::Harness;
using testing::IsOk;
using testing::TextJourney;

// ---- Helpers ----

v1::BehaviorSet Behaviors(const std::string& text) { return testing::TextBehaviors(text); }

absl::Duration Days(int64_t n) { return absl::Hours(24 * n); }

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

absl::Time Local(const char* zone, int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  absl::TimeZone tz;
  REQUIRE(absl::LoadTimeZone(zone, &tz));
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), tz);
}

// The value of a behaviour as a journey reads it now; fails the test when
// the engine refuses.
Value Read(Engine& engine, absl::string_view subject, absl::string_view name,
           absl::string_view subject_type = "") {
  absl::StatusOr<Value> v = engine.BehaviorValue(subject_type, subject, name);
  INFO("behavior." << name << " of " << subject << ": " << v.status().ToString());
  REQUIRE(v.ok());
  return *v;
}

// An int-typed behaviour's value (counts, distinct values, days).
int64_t Int(Engine& engine, absl::string_view subject, absl::string_view name,
            absl::string_view subject_type = "") {
  const Value v = Read(engine, subject, name, subject_type);
  INFO("behavior." << name << " of " << subject << " = " << Catch::Detail::stringify(v));
  REQUIRE(v.type() == Value::Type::kInt);
  return v.int_value();
}

// ---- The journeys users write against behaviours ----

// "Thank a subject on their 11th share": the share that makes it 11 enters.
constexpr char kAmbassadorJourney[] = R"pb(
  id: "ambassador" version: 1
  settings { state: ACTIVE reentry { mode: NEVER } }
  nodes { id: "eleventh_share" trigger { event {
            matcher { event: "share" }
            profile_filter { compare { path: "behavior.shares" op: GT value { int_value: 10 } } } }
          next: "thank" } }
  nodes { id: "thank" action { channel: "push" template_id: "ambassador"
          params { key: "shares" value: "{{behavior.shares}} shares, thank you" } } }
)pb";

constexpr char kSharesBehaviors[] = R"pb(
  behaviors { name: "shares" event { event: "share" } function: COUNT }
)pb";

// ---- 1. COUNT ----

constexpr char kViewCounts[] = R"pb(
  behaviors { name: "views" event { event: "view" } function: COUNT }
  behaviors { name: "views_7d" event { event: "view" } function: COUNT
              window { last { seconds: 604800 } resolution { seconds: 3600 } } }
  behaviors { name: "views_7d_default" event { event: "view" } function: COUNT
              window { last { seconds: 604800 } } }
  behaviors { name: "views_90m" event { event: "view" } function: COUNT
              window { last { seconds: 5400 } } }
  behaviors { name: "mobile_views" event { event: "view" where {
                compare { path: "event.platform" op: EQ value { string_value: "ios" } } } }
              function: COUNT }
  behaviors { name: "account_views" subject_type: "account" event { event: "view" }
              function: COUNT }
)pb";

TEST_CASE("COUNT over all time and over the last 7 days at 1 hour") {
  Harness h;  // Monday 2026-01-05 00:00 UTC.
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kViewCounts)), IsOk());
  const absl::Time day0 = Harness::DefaultStart();
  auto at = [&](int day, int hour, int minute = 0) {
    return day0 + absl::Hours(24 * day + hour) + absl::Minutes(minute);
  };

  // Nothing seen: counts are 0, for a known subject and an unknown one.
  CHECK(Int(e, "u1", "views") == 0);
  CHECK(Int(e, "nobody", "views_7d") == 0);

  REQUIRE_THAT(h.Event("u1", "view", at(0, 10), {{"platform", Value::String("ios")}}), IsOk());
  REQUIRE_THAT(h.Event("u1", "view", at(0, 10, 30)), IsOk());
  REQUIRE_THAT(h.Event("u1", "view", at(1, 12), {{"platform", Value::String("web")}}), IsOk());
  REQUIRE_THAT(h.Event("u2", "view", at(2, 8)), IsOk());
  REQUIRE_THAT(h.Event("u1", "view", at(3, 9, 15), {{"platform", Value::String("ios")}}), IsOk());
  // Another subject type's events are its own.
  Event account = testing::EventAt("u1", "view", at(3, 9, 20));
  account.subject_type = "account";
  REQUIRE_THAT(h.Ingest(account), IsOk());

  CHECK(Int(e, "u1", "views") == 4);
  CHECK(Int(e, "u1", "views_7d") == 4);
  CHECK(Int(e, "u1", "mobile_views") == 2);
  CHECK(Int(e, "u2", "views") == 1);
  CHECK(Int(e, "u1", "account_views") == 0);
  CHECK(Int(e, "u1", "account_views", "account") == 1);
  CHECK(Int(e, "u1", "views", "account") == 0);

  struct Expect {
    absl::Time now;
    int64_t views_7d;
  };
  const Expect expected[] = {
      {at(7, 9, 59), 4},   // Nothing is 7 days old yet.
      {at(7, 10), 4},      // Day 0 10:00 is exactly 7 days ago: in.
      {at(7, 10, 59), 4},  // Between edges: up to an hour more than 7 days.
      {at(7, 11), 2},      // The 10:00 bucket (10:00 and 10:30) has left.
      {at(8, 12, 59), 2},  // Day 1 12:00's bucket is the window's first.
      {at(8, 13), 1},
      {at(10, 9, 59), 1},
      {at(10, 10), 0},
  };
  for (const Expect& x : expected) {
    REQUIRE_THAT(h.AdvanceTo(x.now), IsOk());
    INFO("now " << absl::FormatTime(x.now, absl::UTCTimeZone()));
    CHECK(Int(e, "u1", "views_7d") == x.views_7d);
    // An unset resolution is an hour for a window of whole hours.
    CHECK(Int(e, "u1", "views_7d_default") == x.views_7d);
    CHECK(Int(e, "u1", "views") == 4);  // All time never drops.
  }
  // A window of 90 minutes is kept at one minute.
  REQUIRE_THAT(h.Event("u3", "view", at(11, 10)), IsOk());
  REQUIRE_THAT(h.AdvanceTo(at(11, 11, 30) + absl::Seconds(59)), IsOk());
  CHECK(Int(e, "u3", "views_90m") == 1);
  REQUIRE_THAT(h.AdvanceTo(at(11, 11, 31)), IsOk());
  CHECK(Int(e, "u3", "views_90m") == 0);  // An hour's bucket would still hold it.
}

TEST_CASE("A sliding window's edge is exact on a bucket edge and one resolution wide between") {
  Harness h;
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "views_1d" event { event: "view" } function: COUNT
                window { last { seconds: 86400 } resolution { seconds: 3600 } } }
  )pb")),
               IsOk());
  const absl::Time t = Utc(2026, 1, 5, 10);  // On an hour's edge.
  REQUIRE_THAT(h.Event("second_early", "view", t - absl::Seconds(1)), IsOk());
  REQUIRE_THAT(h.Event("on_edge", "view", t), IsOk());
  REQUIRE_THAT(h.Event("mid_bucket", "view", t + absl::Minutes(30)), IsOk());

  // Now on an edge: exactly the last 24 hours.
  REQUIRE_THAT(h.AdvanceTo(t + absl::Hours(24)), IsOk());
  CHECK(Int(e, "second_early", "views_1d") == 0);
  CHECK(Int(e, "on_edge", "views_1d") == 1);
  CHECK(Int(e, "mid_bucket", "views_1d") == 1);

  // Between edges: the window reaches back to the bucket holding now - 24h.
  REQUIRE_THAT(h.AdvanceTo(t + absl::Hours(24) + absl::Minutes(59) + absl::Seconds(59)),
               IsOk());
  CHECK(Int(e, "on_edge", "views_1d") == 1);    // 24h59m59s ago, still counted.
  CHECK(Int(e, "mid_bucket", "views_1d") == 1);  // 24h29m59s ago.
  REQUIRE_THAT(h.AdvanceTo(t + absl::Hours(25)), IsOk());
  CHECK(Int(e, "on_edge", "views_1d") == 0);
  CHECK(Int(e, "mid_bucket", "views_1d") == 0);  // Same bucket: leaves with it.

  // Buckets are aligned to the Unix epoch, not to the declaration: a
  // 7-hour resolution's buckets start at multiples of 7 hours since 1970.
  Harness h2;
  Engine& e2 = h2.engine();
  REQUIRE_THAT(e2.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "views_14h" event { event: "view" } function: COUNT
                window { last { seconds: 50400 } resolution { seconds: 25200 } } }
  )pb")),
               IsOk());
  const int64_t edge_seconds = (absl::ToUnixSeconds(h2.now()) / 25200 + 2) * 25200;
  const absl::Time edge = absl::FromUnixSeconds(edge_seconds);
  REQUIRE_THAT(h2.Event("u", "view", edge - absl::Seconds(1)), IsOk());  // Older bucket.
  REQUIRE_THAT(h2.Event("v", "view", edge), IsOk());
  REQUIRE_THAT(h2.AdvanceTo(edge + absl::Hours(14)), IsOk());
  CHECK(Int(e2, "u", "views_14h") == 0);
  CHECK(Int(e2, "v", "views_14h") == 1);
  REQUIRE_THAT(h2.AdvanceTo(edge + absl::Hours(21) - absl::Seconds(1)), IsOk());
  CHECK(Int(e2, "v", "views_14h") == 1);
  REQUIRE_THAT(h2.AdvanceTo(edge + absl::Hours(21)), IsOk());
  CHECK(Int(e2, "v", "views_14h") == 0);
}

// ---- 2. SUM, MIN, MAX ----

constexpr char kSpendBehaviors[] = R"pb(
  behaviors { name: "spent" event { event: "purchase" } function: SUM property: "amount" }
  behaviors { name: "smallest" event { event: "purchase" } function: MIN property: "amount" }
  behaviors { name: "largest" event { event: "purchase" } function: MAX property: "amount" }
  behaviors { name: "spent_24h" event { event: "purchase" } function: SUM property: "amount"
              window { last { seconds: 86400 } } }
  behaviors { name: "smallest_24h" event { event: "purchase" } function: MIN property: "amount"
              window { last { seconds: 86400 } } }
  behaviors { name: "largest_24h" event { event: "purchase" } function: MAX property: "amount"
              window { last { seconds: 86400 } } }
  behaviors { name: "eur_spent" event { event: "purchase" where {
                compare { path: "event.currency" op: EQ value { string_value: "EUR" } } } }
              function: SUM property: "amount" }
)pb";

TEST_CASE("SUM MIN and MAX of a number property over all time and a window") {
  Harness h;
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kSpendBehaviors)), IsOk());
  const absl::Time t = Utc(2026, 1, 5, 10);

  // Nothing yet: a sum is 0.0, a smallest or largest absent.
  for (const char* subject : {"u1", "never_seen"}) {
    CHECK(Read(e, subject, "spent") == Value::Double(0));
    CHECK(Read(e, subject, "spent_24h") == Value::Double(0));
    CHECK(Read(e, subject, "smallest").is_null());
    CHECK(Read(e, subject, "largest_24h").is_null());
  }
  // Events without a number in the property are not counted: they make no
  // smallest, and leave the sum at 0.
  REQUIRE_THAT(h.Event("u1", "purchase", t - absl::Hours(2),
                       {{"amount", Value::String("99")}}), IsOk());
  REQUIRE_THAT(h.Event("u1", "purchase", t - absl::Hours(1), {{"price", Value::Int(5)}}),
               IsOk());
  REQUIRE_THAT(h.Event("u1", "purchase", t - absl::Minutes(30),
                       {{"amount", Value::Bool(true)}}), IsOk());
  CHECK(Read(e, "u1", "spent") == Value::Double(0));
  CHECK(Read(e, "u1", "smallest").is_null());
  CHECK(Read(e, "u1", "largest").is_null());
  CHECK(Read(e, "u1", "smallest_24h").is_null());

  REQUIRE_THAT(h.Event("u1", "purchase", t,
                       {{"amount", Value::Int(10)}, {"currency", Value::String("EUR")}}),
               IsOk());
  REQUIRE_THAT(h.Event("u1", "purchase", t + absl::Hours(1),
                       {{"amount", Value::Double(2.5)}, {"currency", Value::String("USD")}}),
               IsOk());
  REQUIRE_THAT(h.Event("u1", "purchase", t + absl::Hours(2), {{"amount", Value::String("7")}}),
               IsOk());
  REQUIRE_THAT(h.Event("u1", "purchase", t + absl::Hours(5),
                       {{"amount", Value::Int(-4)}, {"currency", Value::String("EUR")}}),
               IsOk());
  // Ints are read as doubles.
  CHECK(Read(e, "u1", "spent") == Value::Double(8.5));
  CHECK(Read(e, "u1", "smallest") == Value::Double(-4));
  CHECK(Read(e, "u1", "largest") == Value::Double(10));
  CHECK(Read(e, "u1", "eur_spent") == Value::Double(6));
  CHECK(Read(e, "u1", "spent_24h") == Value::Double(8.5));
  CHECK(Read(e, "u1", "smallest_24h") == Value::Double(-4));
  CHECK(Read(e, "u1", "largest_24h") == Value::Double(10));

  // The 10 leaves the window an hour after it is 24 hours old (10:00's
  // bucket), the 2.5 an hour later, the -4 at 16:00 the next day.
  REQUIRE_THAT(h.AdvanceTo(t + absl::Hours(24) + absl::Minutes(59)), IsOk());
  CHECK(Read(e, "u1", "largest_24h") == Value::Double(10));
  REQUIRE_THAT(h.AdvanceTo(t + absl::Hours(25)), IsOk());
  CHECK(Read(e, "u1", "spent_24h") == Value::Double(-1.5));
  CHECK(Read(e, "u1", "largest_24h") == Value::Double(2.5));
  CHECK(Read(e, "u1", "smallest_24h") == Value::Double(-4));
  REQUIRE_THAT(h.AdvanceTo(t + absl::Hours(26)), IsOk());
  CHECK(Read(e, "u1", "spent_24h") == Value::Double(-4));
  CHECK(Read(e, "u1", "largest_24h") == Value::Double(-4));
  REQUIRE_THAT(h.AdvanceTo(t + absl::Hours(30)), IsOk());
  CHECK(Read(e, "u1", "spent_24h") == Value::Double(0));
  CHECK(Read(e, "u1", "smallest_24h").is_null());
  CHECK(Read(e, "u1", "largest_24h").is_null());
  // All time keeps everything.
  CHECK(Read(e, "u1", "spent") == Value::Double(8.5));
  CHECK(Read(e, "u1", "smallest") == Value::Double(-4));
  CHECK(Read(e, "u1", "largest") == Value::Double(10));

  // A new purchase in an emptied window starts it again.
  REQUIRE_THAT(h.Event("u1", "purchase", t + absl::Hours(31), {{"amount", Value::Int(3)}}),
               IsOk());
  CHECK(Read(e, "u1", "spent_24h") == Value::Double(3));
  CHECK(Read(e, "u1", "smallest_24h") == Value::Double(3));
  CHECK(Read(e, "u1", "spent") == Value::Double(11.5));
}

// ---- 3. DISTINCT_COUNT ----

TEST_CASE("DISTINCT_COUNT counts equal numbers once and stays at its limit") {
  Harness h;
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "skus" event { event: "view" } function: DISTINCT_COUNT property: "sku" }
    behaviors { name: "skus_3" event { event: "view" } function: DISTINCT_COUNT property: "sku"
                distinct_limit: 3 }
    behaviors { name: "skus_3_1d" event { event: "view" } function: DISTINCT_COUNT
                property: "sku" distinct_limit: 3
                window { last { seconds: 86400 } resolution { seconds: 3600 } } }
    behaviors { name: "skus_1d" event { event: "view" } function: DISTINCT_COUNT
                property: "sku" window { last { seconds: 86400 } } }
  )pb")),
               IsOk());
  const absl::Time t = Utc(2026, 1, 5, 10);
  auto view = [&](absl::Duration after, Value sku) {
    return h.Event("u1", "view", t + after, {{"sku", std::move(sku)}});
  };
  REQUIRE_THAT(view(absl::ZeroDuration(), Value::Int(3)), IsOk());
  REQUIRE_THAT(view(absl::Minutes(1), Value::Double(3.0)), IsOk());  // The same number.
  CHECK(Int(e, "u1", "skus") == 1);
  REQUIRE_THAT(view(absl::Minutes(2), Value::String("3")), IsOk());  // A string: another.
  REQUIRE_THAT(view(absl::Minutes(3), Value::Bool(true)), IsOk());
  REQUIRE_THAT(view(absl::Minutes(4), Value::Int(0)), IsOk());
  REQUIRE_THAT(view(absl::Minutes(5), Value::Double(-0.0)), IsOk());  // -0 == 0.
  REQUIRE_THAT(h.Event("u1", "view", t + absl::Minutes(6)), IsOk());  // No sku: not counted.
  CHECK(Int(e, "u1", "skus") == 4);
  CHECK(Int(e, "u1", "skus_3") == 3);
  CHECK(Int(e, "u1", "skus_3_1d") == 3);
  CHECK(Int(e, "u1", "skus_1d") == 4);

  // At the limit an all-time count stays there, whatever comes.
  for (int i = 0; i < 20; ++i) {
    REQUIRE_THAT(view(absl::Minutes(10 + i), Value::String(absl::StrCat("sku", i))), IsOk());
  }
  CHECK(Int(e, "u1", "skus") == 24);
  CHECK(Int(e, "u1", "skus_3") == 3);
  CHECK(Int(e, "u1", "skus_3_1d") == 3);
  REQUIRE_THAT(h.AdvanceTo(t + Days(30)), IsOk());
  CHECK(Int(e, "u1", "skus_3") == 3);
  CHECK(Int(e, "u1", "skus") == 24);
  // A window forgets: everything has left it.
  CHECK(Int(e, "u1", "skus_3_1d") == 0);
  CHECK(Int(e, "u1", "skus_1d") == 0);

  // A value seen again is in the window for as long as its latest sighting.
  const absl::Time t2 = t + Days(30);
  REQUIRE_THAT(view(Days(30), Value::String("a")), IsOk());
  REQUIRE_THAT(view(Days(30) + absl::Hours(1), Value::String("b")), IsOk());
  REQUIRE_THAT(view(Days(30) + absl::Hours(10), Value::String("a")), IsOk());
  CHECK(Int(e, "u1", "skus_1d") == 2);
  CHECK(Int(e, "u1", "skus_3_1d") == 2);
  REQUIRE_THAT(h.AdvanceTo(t2 + absl::Hours(26)), IsOk());  // b's hour has left.
  CHECK(Int(e, "u1", "skus_1d") == 1);
  CHECK(Int(e, "u1", "skus_3_1d") == 1);
  REQUIRE_THAT(h.AdvanceTo(t2 + absl::Hours(35)), IsOk());
  CHECK(Int(e, "u1", "skus_1d") == 0);
}

// ---- 4. FIRST_TIME, LAST_TIME and now_minus ----

constexpr char kPurchaseTimes[] = R"pb(
  behaviors { name: "first_purchase" event { event: "purchase" } function: FIRST_TIME }
  behaviors { name: "last_purchase" event { event: "purchase" } function: LAST_TIME }
)pb";

TEST_CASE("FIRST_TIME and LAST_TIME follow event times and a late event moves the first back") {
  EngineOptions options;
  options.max_lateness = absl::Hours(48);
  Harness h(Harness::DefaultStart(), options);
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kPurchaseTimes)), IsOk());
  CHECK(Read(e, "u1", "first_purchase").is_null());
  CHECK(Read(e, "u1", "last_purchase").is_null());
  const absl::Time t1 = Utc(2026, 1, 6, 9);
  const absl::Time t2 = Utc(2026, 1, 7, 18, 30);
  REQUIRE_THAT(h.Event("u1", "purchase", t1), IsOk());
  REQUIRE_THAT(h.Event("u1", "purchase", t2), IsOk());
  CHECK(Read(e, "u1", "first_purchase") == Value::Timestamp(t1));
  CHECK(Read(e, "u1", "last_purchase") == Value::Timestamp(t2));
  // A late event earlier than the first: the first moves back, the last
  // stays, since it counts at its own time.
  const absl::Time t0 = Utc(2026, 1, 6, 1);
  REQUIRE_THAT(h.Event("u1", "purchase", t0), IsOk());
  CHECK(h.engine().stats().late_inputs == 1);
  CHECK(Read(e, "u1", "first_purchase") == Value::Timestamp(t0));
  CHECK(Read(e, "u1", "last_purchase") == Value::Timestamp(t2));
  // A late event between them changes neither.
  REQUIRE_THAT(h.Event("u1", "purchase", Utc(2026, 1, 7, 9)), IsOk());
  CHECK(Read(e, "u1", "first_purchase") == Value::Timestamp(t0));
  CHECK(Read(e, "u1", "last_purchase") == Value::Timestamp(t2));
  // Times do not expire.
  REQUIRE_THAT(h.AdvanceTo(Utc(2027, 1, 1)), IsOk());
  CHECK(Read(e, "u1", "last_purchase") == Value::Timestamp(t2));
}

// "Win back whoever opens the app more than 14 days after their last
// purchase; tell recent buyers (last 30 days) about the loyalty scheme."
constexpr char kWinBackJourney[] = R"pb(
  id: "win_back" version: 1
  settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "opened" trigger { event {
            matcher { event: "app_open" }
            profile_filter { compare { path: "behavior.last_purchase" op: LT
                                       now_minus { seconds: 1209600 } } } }
          next: "come_back" } }
  nodes { id: "come_back" action { channel: "push" template_id: "we_miss_you" } }
)pb";

constexpr char kLoyaltyJourney[] = R"pb(
  id: "loyalty" version: 1
  settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "opened" trigger { event { matcher { event: "app_open" } } next: "recent" } }
  nodes { id: "recent" filter {
            predicate { compare { path: "behavior.last_purchase" op: GE
                                  now_minus { seconds: 2592000 } } }
            on_true: "tell" on_false: "" } }
  nodes { id: "tell" action { channel: "email" template_id: "loyalty"
          params { key: "since" value: "{{behavior.first_purchase}}" } } }
)pb";

TEST_CASE("now_minus: last purchase more than 14 days ago and within the last 30 days") {
  Harness h;
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kPurchaseTimes)), IsOk());
  REQUIRE_THAT(h.DeployText(kWinBackJourney), IsOk());
  REQUIRE_THAT(h.DeployText(kLoyaltyJourney), IsOk());
  const absl::Time t = Harness::DefaultStart();
  REQUIRE_THAT(h.Event("lapsed", "purchase", t), IsOk());
  REQUIRE_THAT(h.Event("on_the_day", "purchase", t + Days(6)), IsOk());
  REQUIRE_THAT(h.Event("recent", "purchase", t + Days(17)), IsOk());
  REQUIRE_THAT(h.AdvanceTo(t + Days(20)), IsOk());

  // Engine time is t + 20d: "14 days ago" is t + 6d.
  for (const char* s : {"lapsed", "recent", "on_the_day", "never_bought"}) {
    REQUIRE_THAT(h.Event(s, "app_open"), IsOk());
  }
  CHECK(h.SentTo("lapsed", "push") == 1);
  CHECK(h.SentTo("recent", "push") == 0);
  CHECK(h.SentTo("on_the_day", "push") == 0);    // Exactly 14 days: not more.
  CHECK(h.SentTo("never_bought", "push") == 0);  // No purchase: the path is missing.
  CHECK(h.SentTo("lapsed", "email") == 1);       // 20 days ago: within 30.
  CHECK(h.SentTo("recent", "email") == 1);
  CHECK(h.SentTo("never_bought", "email") == 0);
  const std::vector<Message> mail = h.Sent("recent", "email");
  REQUIRE(mail.size() == 1);
  REQUIRE(mail[0].params.size() == 1);
  CHECK(mail[0].params[0].second == "2026-01-22T00:00:00+00:00");

  // A second later, on_the_day's purchase is more than 14 days ago.
  REQUIRE_THAT(h.Advance(absl::Seconds(1)), IsOk());
  REQUIRE_THAT(h.Event("on_the_day", "app_open"), IsOk());
  CHECK(h.SentTo("on_the_day", "push") == 1);
  // 31 days on, lapsed is no longer a recent buyer.
  REQUIRE_THAT(h.AdvanceTo(t + Days(31)), IsOk());
  REQUIRE_THAT(h.Event("lapsed", "app_open"), IsOk());
  CHECK(h.SentTo("lapsed", "email") == 1);
  CHECK(h.SentTo("lapsed", "push") == 2);
}

TEST_CASE("now_minus in a behaviour's condition reads engine time") {
  // "Views by subjects who signed up in the last 30 days": a condition on
  // the profile relative to now. It must count the new subject's views and
  // not the old one's.
  Harness h;
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "new_user_views" function: COUNT event { event: "view" where {
                  compare { path: "profile.signed_up" op: GE now_minus { seconds: 2592000 } } } } }
    behaviors { name: "old_user_views" function: COUNT event { event: "view" where {
                  compare { path: "profile.signed_up" op: LT now_minus { seconds: 2592000 } } } } }
  )pb")),
               IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 3, 1)), IsOk());
  REQUIRE_THAT(h.Profile("new", {{"signed_up", Value::Timestamp(Utc(2026, 2, 25))}}), IsOk());
  REQUIRE_THAT(h.Profile("old", {{"signed_up", Value::Timestamp(Utc(2025, 6, 1))}}), IsOk());
  REQUIRE_THAT(h.Event("new", "view"), IsOk());
  REQUIRE_THAT(h.Event("old", "view"), IsOk());
  CHECK(Int(e, "new", "new_user_views") == 1);
  CHECK(Int(e, "new", "old_user_views") == 0);
  CHECK(Int(e, "old", "new_user_views") == 0);
  CHECK(Int(e, "old", "old_user_views") == 1);
}

// ---- 5. ACTIVE_DAYS and streaks ----

constexpr char kCheckInDays[] = R"pb(
  behaviors { name: "active_days" event { event: "check_in" } function: ACTIVE_DAYS }
  behaviors { name: "active_7d" event { event: "check_in" } function: ACTIVE_DAYS
              window { last { seconds: 604800 } } }
  behaviors { name: "streak" event { event: "check_in" } function: CURRENT_STREAK }
  behaviors { name: "best_streak" event { event: "check_in" } function: LONGEST_STREAK }
)pb";

TEST_CASE("Streaks across the New York DST changes count local days") {
  Harness h(Utc(2026, 3, 1));
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kCheckInDays)), IsOk());
  const char* ny = "America/New_York";
  REQUIRE_THAT(h.Profile("nyc", {{"time_zone", Value::String(ny)}}), IsOk());

  // Spring forward on Sunday 2026-03-08: a check-in at 23:30 local every
  // day from the 5th to the 11th, by a New Yorker and by a subject in UTC
  // at the same instants.
  for (int day = 5; day <= 11; ++day) {
    // The 23-hour day holds a second check-in, at 00:30 local (EST still).
    if (day == 8) REQUIRE_THAT(h.Event("nyc", "check_in", Local(ny, 2026, 3, 8, 0, 30)), IsOk());
    const absl::Time t = Local(ny, 2026, 3, day, 23, 30);
    REQUIRE_THAT(h.Event("nyc", "check_in", t), IsOk());
    REQUIRE_THAT(h.Event("utc", "check_in", t), IsOk());
  }
  CHECK(Int(e, "nyc", "active_days") == 7);
  CHECK(Int(e, "nyc", "streak") == 7);
  CHECK(Int(e, "nyc", "best_streak") == 7);

  // Just before local midnight on the 12th: the streak ends yesterday.
  REQUIRE_THAT(h.AdvanceTo(Local(ny, 2026, 3, 12, 23, 59)), IsOk());
  CHECK(Int(e, "nyc", "streak") == 7);
  // At 02:00 local on the 13th (06:00 UTC) the 12th had no check-in: the
  // New Yorker's streak is broken; the UTC subject's last day is the 12th
  // (03:30 UTC), so theirs still holds.
  REQUIRE_THAT(h.AdvanceTo(Local(ny, 2026, 3, 13, 2)), IsOk());
  CHECK(Int(e, "nyc", "streak") == 0);
  CHECK(Int(e, "utc", "streak") == 7);
  CHECK(Int(e, "nyc", "best_streak") == 7);
  CHECK(Int(e, "nyc", "active_7d") == 5);  // The 7th to the 13th: 7..11.
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 3, 14)), IsOk());
  CHECK(Int(e, "utc", "streak") == 0);

  // Fall back on Sunday 2026-11-01, a 25-hour day: check-ins at 00:30 and
  // 23:30 local that day are 24 hours apart and one local day.
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 10, 29)), IsOk());
  for (int day = 29; day <= 31; ++day) {
    REQUIRE_THAT(h.Event("nyc", "check_in", Local(ny, 2026, 10, day, 23, 30)), IsOk());
  }
  const absl::Time early = Local(ny, 2026, 11, 1, 0, 30);
  const absl::Time late = Local(ny, 2026, 11, 1, 23, 30);
  REQUIRE(late - early == absl::Hours(24));
  REQUIRE_THAT(h.Event("nyc", "check_in", early), IsOk());
  REQUIRE_THAT(h.Event("nyc", "check_in", late), IsOk());
  CHECK(Int(e, "nyc", "active_days") == 11);
  CHECK(Int(e, "nyc", "streak") == 4);
  REQUIRE_THAT(h.Event("nyc", "check_in", Local(ny, 2026, 11, 2, 23, 30)), IsOk());
  REQUIRE_THAT(h.Event("nyc", "check_in", Local(ny, 2026, 11, 3, 0, 5)), IsOk());
  CHECK(Int(e, "nyc", "streak") == 6);
  CHECK(Int(e, "nyc", "best_streak") == 7);
  CHECK(Int(e, "nyc", "active_days") == 13);
  CHECK(Int(e, "nyc", "active_7d") == 6);  // Oct 28 - Nov 3: 29, 30, 31, 1, 2, 3.
  REQUIRE_THAT(h.Event("nyc", "check_in", Local(ny, 2026, 11, 4, 12)), IsOk());
  CHECK(Int(e, "nyc", "streak") == 7);
  CHECK(Int(e, "nyc", "active_7d") == 7);
  REQUIRE_THAT(h.Event("nyc", "check_in", Local(ny, 2026, 11, 5, 12)), IsOk());
  CHECK(Int(e, "nyc", "best_streak") == 8);
}

TEST_CASE("A local day ends at local midnight: Asia/Shanghai and the behaviour's default zone") {
  Harness h(Utc(2026, 4, 1));
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "days_sh" event { event: "check_in" } function: ACTIVE_DAYS
                default_time_zone: "Asia/Shanghai" }
    behaviors { name: "streak_sh" event { event: "check_in" } function: CURRENT_STREAK
                default_time_zone: "Asia/Shanghai" }
    behaviors { name: "days_utc" event { event: "check_in" } function: ACTIVE_DAYS }
    behaviors { name: "days_tz" event { event: "check_in" } function: ACTIVE_DAYS
                time_zone_attribute: "tz" }
  )pb")),
               IsOk());
  const char* sh = "Asia/Shanghai";
  // 23:50 and 00:10 local are two local days, one UTC day.
  REQUIRE_THAT(h.Event("a", "check_in", Local(sh, 2026, 4, 2, 23, 50)), IsOk());
  REQUIRE_THAT(h.Event("a", "check_in", Local(sh, 2026, 4, 3, 0, 10)), IsOk());
  CHECK(Int(e, "a", "days_sh") == 2);
  CHECK(Int(e, "a", "streak_sh") == 2);
  CHECK(Int(e, "a", "days_utc") == 1);
  // 15:59 and 16:01 UTC: either side of midnight in Shanghai.
  REQUIRE_THAT(h.Event("b", "check_in", Utc(2026, 4, 5, 15, 59)), IsOk());
  REQUIRE_THAT(h.Event("b", "check_in", Utc(2026, 4, 5, 16, 1)), IsOk());
  CHECK(Int(e, "b", "days_sh") == 2);
  CHECK(Int(e, "b", "days_utc") == 1);
  // A profile zone overrides the default, read from the attribute the
  // behaviour names.
  REQUIRE_THAT(h.Profile("c", {{"time_zone", Value::String("UTC")},
                               {"tz", Value::String(sh)}}),
               IsOk());
  REQUIRE_THAT(h.Event("c", "check_in", Utc(2026, 4, 6, 15, 59)), IsOk());
  REQUIRE_THAT(h.Event("c", "check_in", Utc(2026, 4, 6, 16, 1)), IsOk());
  CHECK(Int(e, "c", "days_sh") == 1);
  CHECK(Int(e, "c", "days_tz") == 2);
  CHECK(Int(e, "c", "days_utc") == 1);
  // "Today" is local too: at 23:59 Shanghai on the 8th b's streak (last
  // day the 6th local) is broken; at 23:59 on the 7th it held.
  REQUIRE_THAT(h.AdvanceTo(Local(sh, 2026, 4, 7, 23, 59)), IsOk());
  CHECK(Int(e, "b", "streak_sh") == 2);
  REQUIRE_THAT(h.AdvanceTo(Local(sh, 2026, 4, 8, 0, 0)), IsOk());
  CHECK(Int(e, "b", "streak_sh") == 0);

  // An unknown zone in the profile: the default is used, and counted.
  const int64_t unknown = e.stats().unknown_time_zones;
  REQUIRE_THAT(h.Profile("d", {{"time_zone", Value::String("Mars/Olympus_Mons")}}), IsOk());
  REQUIRE_THAT(h.Event("d", "check_in", Utc(2026, 4, 8, 15, 59)), IsOk());
  REQUIRE_THAT(h.Event("d", "check_in", Utc(2026, 4, 8, 16, 1)), IsOk());
  CHECK(Int(e, "d", "days_sh") == 2);
  CHECK(e.stats().unknown_time_zones > unknown);
}

TEST_CASE("A skipped day breaks the current streak and a late check-in joins two runs") {
  EngineOptions options;
  options.max_lateness = absl::Hours(24 * 7);
  Harness h(Utc(2026, 1, 1), options);
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kCheckInDays)), IsOk());
  auto day = [](int d, int hour = 12) { return Utc(2026, 1, d, hour); };
  for (int d : {1, 2, 3}) REQUIRE_THAT(h.Event("u", "check_in", day(d)), IsOk());
  CHECK(Int(e, "u", "streak") == 3);
  // Nothing on the 4th: on the 4th the streak still ends yesterday.
  REQUIRE_THAT(h.AdvanceTo(day(4, 23)), IsOk());
  CHECK(Int(e, "u", "streak") == 3);
  REQUIRE_THAT(h.AdvanceTo(day(5, 0)), IsOk());
  CHECK(Int(e, "u", "streak") == 0);  // Two local days with none.
  CHECK(Int(e, "u", "best_streak") == 3);
  for (int d : {5, 6}) REQUIRE_THAT(h.Event("u", "check_in", day(d)), IsOk());
  CHECK(Int(e, "u", "streak") == 2);
  CHECK(Int(e, "u", "best_streak") == 3);
  CHECK(Int(e, "u", "active_days") == 5);

  // The 4th's check-in arrives late: 1..6 is one run.
  REQUIRE_THAT(h.Event("u", "check_in", day(4, 20)), IsOk());
  CHECK(Int(e, "u", "streak") == 6);
  CHECK(Int(e, "u", "best_streak") == 6);
  CHECK(Int(e, "u", "active_days") == 6);
  // A second check-in the same day changes nothing.
  REQUIRE_THAT(h.Event("u", "check_in", day(4, 21)), IsOk());
  CHECK(Int(e, "u", "active_days") == 6);
  CHECK(Int(e, "u", "streak") == 6);

  // Gaps on the 7th and 9th, then a late 7th: it joins 1..6 with the 8th,
  // but the current run (the 10th) stays 1 until the 9th comes too.
  for (int d : {8, 10}) REQUIRE_THAT(h.Event("u", "check_in", day(d)), IsOk());
  CHECK(Int(e, "u", "streak") == 1);
  REQUIRE_THAT(h.Event("u", "check_in", day(7)), IsOk());
  CHECK(Int(e, "u", "streak") == 1);
  CHECK(Int(e, "u", "best_streak") == 8);
  REQUIRE_THAT(h.Event("u", "check_in", day(9)), IsOk());
  CHECK(Int(e, "u", "streak") == 10);
  CHECK(Int(e, "u", "best_streak") == 10);
  CHECK(Int(e, "u", "active_days") == 10);
  // Last 7 days, today included: the 4th to the 10th.
  CHECK(Int(e, "u", "active_7d") == 7);
  REQUIRE_THAT(h.AdvanceTo(day(13)), IsOk());
  CHECK(Int(e, "u", "active_7d") == 4);  // The 7th to the 13th.
  CHECK(Int(e, "u", "streak") == 0);
  CHECK(Int(e, "u", "best_streak") == 10);
  REQUIRE_THAT(h.AdvanceTo(day(17)), IsOk());
  CHECK(Int(e, "u", "active_7d") == 0);
  CHECK(Int(e, "u", "active_days") == 10);
}

// ---- 6. Late and duplicate events ----

TEST_CASE("A late event counts in its own bucket and a duplicate counts once") {
  EngineOptions options;
  options.max_lateness = absl::Hours(3);
  Harness h(Utc(2026, 1, 5), options);
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "views" event { event: "view" } function: COUNT }
    behaviors { name: "views_2h" event { event: "view" } function: COUNT
                window { last { seconds: 7200 } resolution { seconds: 3600 } } }
  )pb")),
               IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 1, 5, 12, 30)), IsOk());
  // 10:10 is inside the window (it reaches back to 10:00's bucket).
  REQUIRE_THAT(h.Event("u", "view", Utc(2026, 1, 5, 10, 10)), IsOk());
  CHECK(Int(e, "u", "views_2h") == 1);
  // 09:50 is late but accepted; its bucket is outside the window.
  REQUIRE_THAT(h.Event("u", "view", Utc(2026, 1, 5, 9, 50)), IsOk());
  CHECK(e.stats().late_inputs == 2);
  CHECK(Int(e, "u", "views_2h") == 1);
  CHECK(Int(e, "u", "views") == 2);
  // Too late: rejected, not counted.
  CHECK(h.Event("u", "view", Utc(2026, 1, 5, 9, 29)).code() == absl::StatusCode::kOutOfRange);
  CHECK(Int(e, "u", "views") == 2);
  // Too far ahead: rejected, not counted.
  CHECK(e.Ingest(testing::EventAt("u", "view", Utc(2026, 1, 5, 14))).code() ==
        absl::StatusCode::kOutOfRange);
  CHECK(Int(e, "u", "views") == 2);
  // The late 10:10 leaves with 10:00's bucket, not with engine time's.
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 1, 5, 12, 59)), IsOk());
  CHECK(Int(e, "u", "views_2h") == 1);
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 1, 5, 13)), IsOk());
  CHECK(Int(e, "u", "views_2h") == 0);

  // The same event id within the dedup window counts once.
  Event dup = testing::EventAt("u", "view", Utc(2026, 1, 5, 13));
  dup.id = "evt-1";
  REQUIRE_THAT(h.Ingest(dup), IsOk());
  CHECK(h.Ingest(dup).code() == absl::StatusCode::kAlreadyExists);
  dup.time += absl::Minutes(5);  // A resend with another time: still a duplicate.
  CHECK(h.Ingest(dup).code() == absl::StatusCode::kAlreadyExists);
  CHECK(Int(e, "u", "views") == 3);
  CHECK(Int(e, "u", "views_2h") == 1);
  CHECK(e.stats().events_duplicate == 2);
  Event other = dup;
  other.id = "evt-2";
  REQUIRE_THAT(h.Ingest(other), IsOk());
  CHECK(Int(e, "u", "views") == 4);
  // Another subject may use the same id.
  dup.subject_id = "v";
  REQUIRE_THAT(h.Ingest(dup), IsOk());
  CHECK(Int(e, "v", "views") == 1);
}

// ---- 7. Journeys reading behaviours ----

TEST_CASE("The 11th share enters: the trigger sees the share it fires on") {
  Harness h;
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kSharesBehaviors)), IsOk());
  SECTION("in the trigger's profile_filter") {
    REQUIRE_THAT(h.DeployText(kAmbassadorJourney), IsOk());
  }
  SECTION("in the trigger matcher's where") {
    v1::Journey j = TextJourney(kAmbassadorJourney);
    v1::EventTrigger* t = j.mutable_nodes(0)->mutable_trigger()->mutable_event();
    *t->mutable_matcher()->mutable_where() = t->profile_filter();
    t->clear_profile_filter();
    REQUIRE_THAT(h.Deploy(j), IsOk());
  }
  for (int i = 0; i < 10; ++i) {
    REQUIRE_THAT(h.Event("fan", "share", h.now() + absl::Minutes(1)), IsOk());
  }
  CHECK(Int(e, "fan", "shares") == 10);
  CHECK(h.SentTo("fan", "push") == 0);
  CHECK(h.Report("ambassador")->versions(0).entered() == 0);
  REQUIRE_THAT(h.Event("fan", "share", h.now() + absl::Minutes(1)), IsOk());
  REQUIRE(h.SentTo("fan", "push") == 1);
  const Message m = h.Sent("fan", "push")[0];
  REQUIRE(m.params.size() == 1);
  CHECK(m.params[0].second == "11 shares, thank you");
  // Once only (NEVER), whatever the count.
  REQUIRE_THAT(h.Event("fan", "share", h.now() + absl::Minutes(1)), IsOk());
  CHECK(h.SentTo("fan", "push") == 1);
  // Another subject's shares are theirs.
  REQUIRE_THAT(h.Event("other", "share", h.now() + absl::Minutes(1)), IsOk());
  CHECK(h.SentTo("other", "push") == 0);
}

constexpr char kEngagementBehaviors[] = R"pb(
  behaviors { name: "views_7d" event { event: "view" } function: COUNT
              window { last { seconds: 604800 } } }
  behaviors { name: "purchases" event { event: "purchase" } function: COUNT }
  behaviors { name: "spent" event { event: "purchase" } function: SUM property: "amount" }
)pb";

// "A day after signup, nudge those who viewed 3 times this week; wait a
// week for a second purchase (VIP), and count as converted whoever spends
// 100 in all."
constexpr char kOnboardingJourney[] = R"pb(
  id: "onboarding" version: 1
  settings { state: ACTIVE }
  nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "a_day" } }
  nodes { id: "a_day" delay { duration { seconds: 86400 } next: "engaged" } }
  nodes { id: "engaged" filter {
            predicate { compare { path: "behavior.views_7d" op: GE value { int_value: 3 } } }
            on_true: "nudge" on_false: "second" } }
  nodes { id: "nudge" action { channel: "push" template_id: "nudge"
          params { key: "views" value: "{{behavior.views_7d}}" } next: "second" } }
  nodes { id: "second" wait {
            branches { name: "vip" matcher { event: "purchase" where {
              compare { path: "behavior.purchases" op: GE value { int_value: 2 } } } } next: "spend" }
            timeout { seconds: 604800 } on_timeout: "" } }
  nodes { id: "spend" goal {
            conversion { event: "purchase" where {
              compare { path: "behavior.spent" op: GE value { double_value: 100 } } } }
            window { seconds: 604800 } on_converted: "vip_mail" on_expired: "" } }
  nodes { id: "vip_mail" action { channel: "email" template_id: "vip"
          params { key: "spent" value: "{{behavior.spent}}" } } }
)pb";

TEST_CASE("Filters waits goals and templates read behaviours when they run") {
  Harness h;
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kEngagementBehaviors)), IsOk());
  REQUIRE_THAT(h.DeployText(kOnboardingJourney), IsOk());
  const absl::Time t = Harness::DefaultStart();
  auto purchase = [&](const char* s, absl::Duration after, double amount) {
    return h.Event(s, "purchase", t + after, {{"amount", Value::Double(amount)}});
  };
  REQUIRE_THAT(h.Event("keen", "signup", t), IsOk());
  REQUIRE_THAT(h.Event("idle", "signup", t), IsOk());
  // The views come after signup, before the filter runs (a day later).
  REQUIRE_THAT(h.Event("idle", "view", t + absl::Hours(1)), IsOk());
  for (int i = 1; i <= 3; ++i) {
    REQUIRE_THAT(h.Event("keen", "view", t + absl::Hours(i)), IsOk());
  }
  REQUIRE_THAT(h.AdvanceTo(t + absl::Hours(24)), IsOk());
  CHECK(h.SentTo("keen", "push") == 1);
  CHECK(h.SentTo("idle", "push") == 0);
  CHECK(h.Sent("keen", "push")[0].params[0].second == "3");

  // The first purchase does not take the wait's branch (1 purchase); the
  // second does, and is counted before the branch reads it.
  REQUIRE_THAT(purchase("keen", absl::Hours(30), 60), IsOk());
  CHECK(Int(e, "keen", "purchases") == 1);
  REQUIRE_THAT(purchase("keen", absl::Hours(31), 30), IsOk());
  // The goal: 90 spent is not yet 100; the next purchase makes it 105.
  REQUIRE_THAT(purchase("keen", absl::Hours(32), 15), IsOk());
  CHECK(h.SentTo("keen", "email") == 1);
  CHECK(h.Sent("keen", "email")[0].params[0].second == "105");
  const std::vector<std::string> path = h.Path("keen");
  CHECK(std::find(path.begin(), path.end(), "spend") != path.end());

  // Idle buys once: no second purchase within a week, the wait times out.
  REQUIRE_THAT(purchase("idle", absl::Hours(40), 500), IsOk());
  REQUIRE_THAT(h.AdvanceTo(t + Days(10)), IsOk());
  CHECK(h.SentTo("idle", "email") == 0);
  const v1::JourneyReport report = *h.Report("onboarding");
  CHECK(report.versions(0).entered() == 2);
}

// ---- 8. Declarations ----

TEST_CASE("A behaviour declared later starts empty and an identical redeclaration keeps state") {
  Harness h;
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kSharesBehaviors)), IsOk());
  for (int i = 0; i < 3; ++i) REQUIRE_THAT(h.Event("u", "share", h.now() + absl::Hours(1)), IsOk());
  CHECK(Int(e, "u", "shares") == 3);
  CHECK(e.BehaviorValue("", "u", "shares_again").status().code() == absl::StatusCode::kNotFound);

  // A second behaviour on the same events, declared now, covers only what
  // comes after; the first keeps its count.
  const std::string two = absl::StrCat(R"pb(
    behaviors { name: "shares_again" event { event: "share" } function: COUNT }
    behaviors { name: "first_share" event { event: "share" } function: FIRST_TIME }
  )pb", kSharesBehaviors);
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(two)), IsOk());
  CHECK(Int(e, "u", "shares") == 3);
  CHECK(Int(e, "u", "shares_again") == 0);
  CHECK(Read(e, "u", "first_share").is_null());
  REQUIRE_THAT(h.Event("u", "share", h.now() + absl::Hours(1)), IsOk());
  CHECK(Int(e, "u", "shares") == 4);
  CHECK(Int(e, "u", "shares_again") == 1);
  CHECK(Read(e, "u", "first_share") == Value::Timestamp(h.now()));

  // The same set again, in another order: everything kept.
  const std::string reordered = absl::StrCat(kSharesBehaviors, R"pb(
    behaviors { name: "first_share" event { event: "share" } function: FIRST_TIME }
    behaviors { name: "shares_again" event { event: "share" } function: COUNT }
  )pb");
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(reordered)), IsOk());
  CHECK(Int(e, "u", "shares") == 4);
  CHECK(Int(e, "u", "shares_again") == 1);
  CHECK(Read(e, "u", "first_share") == Value::Timestamp(h.now()));

  // A changed definition (a condition added) restarts empty.
  const std::string changed = absl::StrCat(kSharesBehaviors, R"pb(
    behaviors { name: "first_share" event { event: "share" } function: FIRST_TIME }
    behaviors { name: "shares_again" event { event: "share" where {
                  compare { path: "event.to" op: EXISTS } } } function: COUNT }
  )pb");
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(changed)), IsOk());
  CHECK(Int(e, "u", "shares_again") == 0);
  CHECK(Int(e, "u", "shares") == 4);
  CHECK(Read(e, "u", "first_share").is_null() == false);

  // Dropped, then declared again: empty.
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors("")), IsOk());
  CHECK(e.BehaviorValue("", "u", "shares").status().code() == absl::StatusCode::kNotFound);
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kSharesBehaviors)), IsOk());
  CHECK(Int(e, "u", "shares") == 0);
}

TEST_CASE("A late event from before a behaviour was declared is not counted") {
  // "Its values cover only the time since": an event older than the
  // declaration must not count, whether it arrived before or after it.
  EngineOptions options;
  options.max_lateness = absl::Hours(2);
  Harness h(Utc(2026, 1, 5), options);
  Engine& e = h.engine();
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 1, 5, 12)), IsOk());
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "shares" event { event: "share" } function: COUNT }
    behaviors { name: "first_share" event { event: "share" } function: FIRST_TIME }
  )pb")),
               IsOk());
  REQUIRE_THAT(h.Event("u", "share", Utc(2026, 1, 5, 11)), IsOk());  // Late, before.
  CHECK(Int(e, "u", "shares") == 0);
  CHECK(Read(e, "u", "first_share").is_null());
  REQUIRE_THAT(h.Event("u", "share", Utc(2026, 1, 5, 12)), IsOk());  // At the declaration.
  CHECK(Int(e, "u", "shares") == 1);
  CHECK(Read(e, "u", "first_share") == Value::Timestamp(Utc(2026, 1, 5, 12)));
}

// ---- Seeds: a host's own history ----

constexpr char kSeedBehaviors[] = R"pb(
  behaviors { name: "shares" event { event: "share" } function: COUNT }
  behaviors { name: "shares_7d" event { event: "share" } function: COUNT
              window { last { seconds: 604800 } resolution { seconds: 3600 } } }
  behaviors { name: "spent" event { event: "purchase" } function: SUM property: "amount" }
  behaviors { name: "spent_30d" event { event: "purchase" } function: SUM property: "amount"
              window { last { seconds: 2592000 } resolution { seconds: 86400 } } }
  behaviors { name: "largest" event { event: "purchase" } function: MAX property: "amount" }
  behaviors { name: "skus" event { event: "purchase" } function: DISTINCT_COUNT property: "sku" }
  behaviors { name: "first_purchase" event { event: "purchase" } function: FIRST_TIME }
  behaviors { name: "last_purchase" event { event: "purchase" } function: LAST_TIME }
  behaviors { name: "streak" event { event: "check_in" } function: CURRENT_STREAK
              time_zone_attribute: "time_zone" default_time_zone: "Asia/Shanghai" }
  behaviors { name: "best_streak" event { event: "check_in" } function: LONGEST_STREAK
              default_time_zone: "Asia/Shanghai" }
  behaviors { name: "seats" subject_type: "account" event { event: "seat_added" }
              function: COUNT }
)pb";

BehaviorSeed SeedValue(absl::string_view subject, absl::string_view behavior, Value value,
                       absl::Time time) {
  BehaviorSeed seed;
  seed.subject_id = std::string(subject);
  seed.behavior = std::string(behavior);
  seed.value = std::move(value);
  seed.time = time;
  return seed;
}

BehaviorSeed SeedHistory(absl::string_view subject, absl::string_view behavior,
                         std::vector<BehaviorSeedEntry> history, absl::Time time) {
  BehaviorSeed seed = SeedValue(subject, behavior, Value(), time);
  seed.history = std::move(history);
  return seed;
}

TEST_CASE("A host seeds counts sums and times from its own history") {
  // A service starting Cairn today, declared today: without seeds "the
  // last 7 days" would mean nothing for a week.
  Harness h(Utc(2026, 3, 1, 12));
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kSeedBehaviors)), IsOk());
  const absl::Time now = h.now();

  // All time, by value; a seed replaces, so seeding again is the same.
  REQUIRE_THAT(e.SeedBehavior(SeedValue("u1", "shares", Value::Int(40), now)), IsOk());
  REQUIRE_THAT(e.SeedBehavior(SeedValue("u1", "shares", Value::Int(40), now)), IsOk());
  CHECK(Int(e, "u1", "shares") == 40);
  REQUIRE_THAT(h.Event("u1", "share", now), IsOk());
  CHECK(Int(e, "u1", "shares") == 41);
  REQUIRE_THAT(e.SeedBehavior(SeedValue("u1", "shares", Value::Int(5), now)), IsOk());
  CHECK(Int(e, "u1", "shares") == 5);
  // A count of 0 leaves nothing held.
  REQUIRE_THAT(e.SeedBehavior(SeedValue("u1", "shares", Value::Int(0), now)), IsOk());
  CHECK(Int(e, "u1", "shares") == 0);
  REQUIRE_THAT(e.SeedBehavior(SeedValue("u2", "spent", Value::Int(250), now)), IsOk());
  CHECK(Read(e, "u2", "spent") == Value::Double(250));
  REQUIRE_THAT(e.SeedBehavior(SeedValue("u2", "largest", Value::Double(99.5), now)), IsOk());
  REQUIRE_THAT(h.Event("u2", "purchase", now, {{"amount", Value::Double(20)}}), IsOk());
  CHECK(Read(e, "u2", "spent") == Value::Double(270));
  CHECK(Read(e, "u2", "largest") == Value::Double(99.5));

  // A window, by history: counts at their times, by the window's rule.
  REQUIRE_THAT(e.SeedBehavior(SeedHistory("u3", "shares_7d",
                                          {{now - Days(8), 4, {}},       // Before the window.
                                           {now - Days(6), 3, {}},
                                           {now - absl::Hours(1), 2, {}}},
                                          now)),
               IsOk());
  CHECK(Int(e, "u3", "shares_7d") == 5);
  REQUIRE_THAT(h.AdvanceTo(now + Days(1) + absl::Hours(1)), IsOk());
  CHECK(Int(e, "u3", "shares_7d") == 2);  // The day-6 entry has left.
  const absl::Time later = h.now();
  REQUIRE_THAT(e.SeedBehavior(SeedHistory("u3", "spent_30d",
                                          {{later - Days(40), 1, Value::Double(500)},
                                           {later - Days(20), 2, Value::Double(80)},
                                           {later - Days(2), 1, Value::Int(20)}},
                                          later)),
               IsOk());
  CHECK(Read(e, "u3", "spent_30d") == Value::Double(100));

  // Distinct values are the values themselves; equal ones count once.
  REQUIRE_THAT(e.SeedBehavior(SeedHistory("u4", "skus",
                                          {{later - Days(3), 1, Value::String("A")},
                                           {later - Days(2), 2, Value::String("B")},
                                           {later - Days(1), 1, Value::String("A")}},
                                          later)),
               IsOk());
  CHECK(Int(e, "u4", "skus") == 2);
  REQUIRE_THAT(h.Event("u4", "purchase", later, {{"sku", Value::String("A")}}), IsOk());
  CHECK(Int(e, "u4", "skus") == 2);
  REQUIRE_THAT(h.Event("u4", "purchase", later, {{"sku", Value::String("C")}}), IsOk());
  CHECK(Int(e, "u4", "skus") == 3);

  // First and last times, from one entry each, also from before the
  // behaviour was declared (history is what seeds are for).
  const absl::Time first = Utc(2024, 11, 11, 20);
  REQUIRE_THAT(e.SeedBehavior(SeedHistory("u5", "first_purchase", {{first, 1, {}}}, later)),
               IsOk());
  REQUIRE_THAT(e.SeedBehavior(SeedHistory("u5", "last_purchase",
                                          {{first, 1, {}}, {later - Days(15), 1, {}}}, later)),
               IsOk());
  CHECK(Read(e, "u5", "first_purchase") == Value::Timestamp(first));
  CHECK(Read(e, "u5", "last_purchase") == Value::Timestamp(later - Days(15)));

  // Another subject type's behaviour takes that type's subjects.
  BehaviorSeed seats = SeedValue("acme", "seats", Value::Int(12), later);
  seats.subject_type = "account";
  REQUIRE_THAT(e.SeedBehavior(seats), IsOk());
  CHECK(Int(e, "acme", "seats", "account") == 12);
  CHECK(Int(e, "acme", "shares") == 0);

  CHECK(e.stats().behavior_seeds_applied == 12);
  CHECK(e.stats().behavior_seeds_rejected == 0);
  // Seeds are inputs of their subject: no event counted, none ignored.
  CHECK(e.stats().events_ignored == 0);
}

TEST_CASE("Seeded active days make a streak in the subject's zone that today's check-in extends") {
  Harness h(Utc(2026, 3, 9));
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kSeedBehaviors)), IsOk());
  REQUIRE_THAT(h.Profile("ny", {{"time_zone", Value::String("America/New_York")}}), IsOk());
  // Six New York evenings in a row, across the DST change of 8 March; in
  // UTC they fall on the next day, in Shanghai (the default) too.
  std::vector<BehaviorSeedEntry> evenings;
  for (int d = 3; d <= 8; ++d) {
    evenings.push_back({Local("America/New_York", 2026, 3, d, 21), 1, {}});
  }
  const absl::Time now = Local("America/New_York", 2026, 3, 9, 8);
  REQUIRE_THAT(h.AdvanceTo(now), IsOk());
  REQUIRE_THAT(e.SeedBehavior(SeedHistory("ny", "streak", evenings, now)), IsOk());
  REQUIRE_THAT(e.SeedBehavior(SeedHistory("ny", "best_streak", evenings, now)), IsOk());
  CHECK(Int(e, "ny", "streak") == 6);
  CHECK(Int(e, "ny", "best_streak") == 6);
  // The seventh day in a row, today.
  REQUIRE_THAT(h.Event("ny", "check_in", now), IsOk());
  CHECK(Int(e, "ny", "streak") == 7);
  // A gap in the history breaks the run it would have made.
  evenings.erase(evenings.begin() + 2);
  REQUIRE_THAT(e.SeedBehavior(SeedHistory("ny", "streak", evenings, now)), IsOk());
  CHECK(Int(e, "ny", "streak") == 3);
  // A history longer than a day record reaches back (64 days) still makes
  // its whole run: entries count oldest first, in whatever order given.
  std::vector<BehaviorSeedEntry> hundred;
  for (int d = 1; d <= 100; ++d) hundred.push_back({now - Days(d), 1, {}});
  REQUIRE_THAT(e.SeedBehavior(SeedHistory("ny", "streak", hundred, now)), IsOk());
  REQUIRE_THAT(e.SeedBehavior(SeedHistory("ny", "best_streak", hundred, now)), IsOk());
  CHECK(Int(e, "ny", "streak") == 100);
  CHECK(Int(e, "ny", "best_streak") == 100);
}

TEST_CASE("Ten seeded shares and one more enter the ambassador journey") {
  Harness h;
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kSharesBehaviors)), IsOk());
  REQUIRE_THAT(h.DeployText(kAmbassadorJourney), IsOk());
  // A seed moves no journey, even past the threshold.
  REQUIRE_THAT(e.SeedBehavior(SeedValue("fan", "shares", Value::Int(10), h.now())), IsOk());
  REQUIRE_THAT(e.SeedBehavior(SeedValue("big", "shares", Value::Int(500), h.now())), IsOk());
  CHECK(h.Report("ambassador")->versions(0).entered() == 0);
  REQUIRE_THAT(h.Event("fan", "share", h.now() + absl::Minutes(1)), IsOk());
  REQUIRE(h.SentTo("fan", "push") == 1);
  CHECK(h.Sent("fan", "push")[0].params[0].second == "11 shares, thank you");
}

TEST_CASE("A seed that does not fit its behaviour is refused naming the field and changes nothing") {
  EngineOptions options;
  options.max_lateness = absl::Hours(1);
  Harness h(Utc(2026, 3, 1, 12), options);
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kSeedBehaviors)), IsOk());
  const absl::Time now = h.now();
  REQUIRE_THAT(e.SeedBehavior(SeedValue("u1", "shares", Value::Int(7), now)), IsOk());

  std::vector<BehaviorSeedEntry> too_many(kMaxBehaviorSeedEntries + 1,
                                          BehaviorSeedEntry{now - Days(1), 1, {}});
  BehaviorSeed wrong_type = SeedValue("u1", "seats", Value::Int(1), now);
  struct Bad {
    BehaviorSeed seed;
    absl::StatusCode code;
    const char* says;
  };
  const Bad bad[] = {
      {SeedValue("u1", "nope", Value::Int(1), now), absl::StatusCode::kNotFound,
       "no behaviour \"nope\""},
      {SeedValue("", "shares", Value::Int(1), now), absl::StatusCode::kInvalidArgument,
       "subject id is empty"},
      {SeedValue("u\xff", "shares", Value::Int(1), now), absl::StatusCode::kInvalidArgument,
       "subject id"},
      {wrong_type, absl::StatusCode::kInvalidArgument, "subject_type is not the behaviour's"},
      {SeedValue("u1", "shares_7d", Value::Int(3), now), absl::StatusCode::kInvalidArgument,
       "shares_7d (COUNT): value cannot seed it"},
      {SeedValue("u1", "first_purchase", Value::Timestamp(now), now),
       absl::StatusCode::kInvalidArgument, "give history instead"},
      {SeedValue("u1", "shares", Value::Int(-1), now), absl::StatusCode::kInvalidArgument,
       "value must be an int >= 0"},
      {SeedValue("u1", "shares", Value::Double(2.5), now), absl::StatusCode::kInvalidArgument,
       "value must be an int >= 0"},
      {SeedValue("u1", "spent", Value::String("lots"), now), absl::StatusCode::kInvalidArgument,
       "value must be a finite number"},
      {SeedHistory("u1", "shares", {{now + absl::Seconds(1), 1, {}}}, now),
       absl::StatusCode::kInvalidArgument, "history[0].time is after the seed's time"},
      {SeedHistory("u1", "shares", {{now, 1, {}}, {absl::InfinitePast(), 1, {}}}, now),
       absl::StatusCode::kInvalidArgument, "history[1].time is not set"},
      {SeedHistory("u1", "shares", {{now, 0, {}}}, now), absl::StatusCode::kInvalidArgument,
       "history[0].count must be at least 1"},
      {SeedHistory("u1", "shares", {{now, 1, Value::Int(3)}}, now),
       absl::StatusCode::kInvalidArgument, "history[0].value must be null"},
      {SeedHistory("u1", "spent_30d", {{now, 1, {}}}, now), absl::StatusCode::kInvalidArgument,
       "history[0].value must be a finite number"},
      {SeedHistory("u1", "skus", {{now, 1, Value::StringList({"a"})}}, now),
       absl::StatusCode::kInvalidArgument, "history[0].value must be a string, number or bool"},
      {SeedHistory("u1", "skus", {{now, 1, Value::String("\xc3")}}, now),
       absl::StatusCode::kInvalidArgument, "history[0].value"},
      {[&] {
         BehaviorSeed both = SeedValue("u1", "shares", Value::Int(1), now);
         both.history = {{now, 1, {}}};
         return both;
       }(),
       absl::StatusCode::kInvalidArgument, "value and history are both given"},
      {SeedHistory("u1", "shares", too_many, now), absl::StatusCode::kInvalidArgument,
       "more than 10000"},
      {SeedValue("u1", "shares", Value::Int(1), now - absl::Hours(2)),
       absl::StatusCode::kOutOfRange, "older than engine time"},
      {SeedValue("u1", "shares", Value::Int(1), absl::InfiniteFuture()),
       absl::StatusCode::kInvalidArgument, "behaviour seed"},
  };
  for (const Bad& b : bad) {
    const absl::Status s = e.SeedBehavior(b.seed);
    INFO(s.ToString());
    CHECK(s.code() == b.code);
    CHECK_THAT(std::string(s.message()), Catch::Contains(b.says));
  }
  CHECK(e.stats().behavior_seeds_rejected == static_cast<int64_t>(std::size(bad)));
  CHECK(e.stats().behavior_seeds_applied == 1);
  CHECK(Int(e, "u1", "shares") == 7);
  CHECK(Read(e, "u1", "spent") == Value::Double(0));
  CHECK(h.now() == now);
}

TEST_CASE("Seeds and declarations are inputs: Apply and ShardedEngine take them") {
  Harness h;
  Engine& e = h.engine();
  const absl::Time t = h.now() + absl::Hours(1);
  // A declaration moves engine time first, like a deploy.
  REQUIRE_THAT(e.Apply(BehaviorDeclaration{Behaviors(kSeedBehaviors), t}), IsOk());
  CHECK(e.now() == t);
  CHECK(e.BehaviorsReport().behaviors(0).since() == "2026-01-05T01:00:00+00:00");
  REQUIRE_THAT(e.Apply(SeedValue("u1", "shares", Value::Int(3), t + absl::Minutes(5))), IsOk());
  CHECK(e.now() == t + absl::Minutes(5));
  CHECK(Int(e, "u1", "shares") == 3);
  CHECK(InputKindName(EngineInput(BehaviorSeed())) == "seed");
  CHECK(InputKindName(EngineInput(BehaviorDeclaration())) == "behaviors");
  CHECK(IsBroadcast(EngineInput(BehaviorDeclaration())));
  CHECK_FALSE(IsBroadcast(EngineInput(BehaviorSeed())));
  CHECK(InputSubject(EngineInput(SeedValue("u9", "shares", Value::Int(1), t))) == "u9");
  // A refused declaration still moved time, and changed nothing else.
  const absl::Status refused = e.Apply(BehaviorDeclaration{Behaviors(R"pb(
    behaviors { name: "" event { event: "share" } function: COUNT }
  )pb"), t + absl::Hours(1)});
  CHECK(refused.code() == absl::StatusCode::kInvalidArgument);
  CHECK(e.now() == t + absl::Hours(1));
  CHECK(Int(e, "u1", "shares") == 3);

  ShardedEngineOptions options;
  options.shards = 3;
  options.engine.start_time = Harness::DefaultStart();
  auto sharded = ShardedEngine::Create(options, nullptr);
  REQUIRE_THAT(sharded.status(), IsOk());
  REQUIRE_THAT((*sharded)->DeclareBehaviors(Behaviors(kSeedBehaviors)), IsOk());
  for (int i = 0; i < 9; ++i) {
    const std::string subject = absl::StrCat("s", i);
    REQUIRE_THAT(
        (*sharded)->SeedBehavior(SeedValue(subject, "shares", Value::Int(i), options.engine.start_time)),
        IsOk());
    REQUIRE_THAT((*sharded)->Ingest(testing::EventAt(subject, "share", options.engine.start_time)),
                 IsOk());
  }
  for (int i = 0; i < 9; ++i) {
    const absl::StatusOr<Value> v =
        (*sharded)->BehaviorValue("", absl::StrCat("s", i), "shares");
    REQUIRE_THAT(v.status(), IsOk());
    CHECK(*v == Value::Int(i + 1));
  }
  CHECK((*sharded)->stats().behavior_seeds_applied == 9);
  CHECK((*sharded)->SeedBehavior(SeedValue("s1", "nope", Value::Int(1), options.engine.start_time))
            .code() == absl::StatusCode::kNotFound);
}

TEST_CASE("Declarations a deployed journey reads cannot be removed or retyped") {
  Harness h;
  Engine& e = h.engine();
  const std::string with_unread = absl::StrCat(kSharesBehaviors, R"pb(
    behaviors { name: "likes" event { event: "like" } function: COUNT }
  )pb");
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(with_unread)), IsOk());
  REQUIRE_THAT(h.DeployText(kAmbassadorJourney), IsOk());
  for (int i = 0; i < 3; ++i) REQUIRE_THAT(h.Event("u", "share", h.now() + absl::Hours(1)), IsOk());

  auto refused = [&](const std::string& text) {
    const absl::Status s = e.DeclareBehaviors(Behaviors(text));
    INFO(s.ToString());
    CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(std::string(s.message()), Catch::Contains("journey ambassador"));
    CHECK_THAT(std::string(s.message()),
               Catch::Contains("node eleventh_share, field trigger.event.profile_filter"));
    // Nothing changed.
    CHECK(Int(e, "u", "shares") == 3);
    return std::string(s.message());
  };
  SECTION("removed") {
    const std::string m = refused(R"pb(
      behaviors { name: "likes" event { event: "like" } function: COUNT }
    )pb");
    CHECK_THAT(m, Catch::Contains("unknown behaviour \"shares\""));
    CHECK_THAT(m, Catch::Contains("node thank, field action.params"));  // The template.
  }
  SECTION("retyped COUNT to LAST_TIME") {
    refused(R"pb(behaviors { name: "shares" event { event: "share" } function: LAST_TIME })pb");
  }
  SECTION("retyped COUNT to SUM: every use still fits") {
    // GT 10 and a template read a double as well as an int: accepted, and
    // a changed definition restarts empty.
    REQUIRE_THAT(e.DeclareBehaviors(Behaviors(R"pb(
      behaviors { name: "shares" event { event: "share" } function: SUM property: "n" }
    )pb")),
                 IsOk());
    CHECK(Read(e, "u", "shares") == Value::Double(0));
  }
  SECTION("moved to another subject type") {
    const std::string m = refused(R"pb(
      behaviors { name: "shares" subject_type: "account" event { event: "share" }
                  function: COUNT }
    )pb");
    CHECK_THAT(m, Catch::Contains("subject type \"account\""));
    CHECK_THAT(m, Catch::Contains("node thank, field action.params"));
  }
  SECTION("changed but of the same type: accepted, restarts empty") {
    REQUIRE_THAT(e.DeclareBehaviors(Behaviors(R"pb(
      behaviors { name: "shares" event { event: "share" } function: COUNT
                  window { last { seconds: 86400 } } }
    )pb")),
                 IsOk());
    CHECK(Int(e, "u", "shares") == 0);
  }
  SECTION("an unread one removed: fine") {
    REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kSharesBehaviors)), IsOk());
    CHECK(Int(e, "u", "shares") == 3);
    CHECK(e.BehaviorValue("", "u", "likes").status().code() == absl::StatusCode::kNotFound);
  }
  SECTION("a newer version that reads nothing does not free the older one until retired") {
    v1::Journey v2 = TextJourney(kAmbassadorJourney);
    v2.set_version(2);
    v2.mutable_nodes(0)->mutable_trigger()->mutable_event()->clear_profile_filter();
    v2.mutable_nodes(1)->mutable_action()->clear_params();
    REQUIRE_THAT(h.Deploy(v2), IsOk());
    const std::string m = refused(R"pb(
      behaviors { name: "likes" event { event: "like" } function: COUNT }
    )pb");
    CHECK_THAT(m, Catch::Contains("version 1"));
    REQUIRE_THAT(e.RetireVersion("ambassador", 1), IsOk());
    REQUIRE_THAT(e.DeclareBehaviors(Behaviors(R"pb(
      behaviors { name: "likes" event { event: "like" } function: COUNT }
    )pb")),
                 IsOk());
  }
}

TEST_CASE("Deploying a journey that misreads a behaviour is InvalidArgument naming node and field") {
  Harness h;
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "shares" event { event: "share" } function: COUNT }
    behaviors { name: "last_purchase" event { event: "purchase" } function: LAST_TIME }
    behaviors { name: "seats" subject_type: "account" event { event: "seat_added" }
                function: COUNT }
  )pb")),
               IsOk());
  auto journey = [](const std::string& predicate) {
    return TextJourney(absl::StrCat(R"pb(
      id: "misread" version: 1
      settings { state: ACTIVE }
      nodes { id: "start" trigger { event { matcher { event: "app_open" } } next: "check" } }
      nodes { id: "check" filter { predicate { )pb",
                                    predicate, R"pb( } on_true: "done" } }
      nodes { id: "done" exit {} }
    )pb"));
  };
  struct Case {
    const char* what;
    std::string predicate;
    const char* message;
  };
  const Case cases[] = {
      {"unknown", R"pb(compare { path: "behavior.sharez" op: GT value { int_value: 1 } })pb",
       "unknown behaviour \"sharez\"; declared: last_purchase, seats, shares"},
      {"a COUNT compared with a string",
       R"pb(compare { path: "behavior.shares" op: EQ value { string_value: "10" } })pb",
       "behavior.shares (int)"},
      {"a LAST_TIME compared with a number",
       R"pb(compare { path: "behavior.last_purchase" op: GT value { int_value: 10 } })pb",
       "behavior.last_purchase (timestamp)"},
      {"a COUNT compared with now_minus",
       R"pb(compare { path: "behavior.shares" op: LT now_minus { seconds: 60 } })pb",
       "behavior.shares (int)"},
      {"another subject type's",
       R"pb(compare { path: "behavior.seats" op: GT value { int_value: 1 } })pb",
       "aggregates the events of subject type \"account\", not \"user\""},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const absl::Status s = h.Deploy(journey(c.predicate));
    INFO(s.ToString());
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(s.message()),
               Catch::Contains("journey misread, node check, field filter.predicate.compare"));
    CHECK_THAT(std::string(s.message()), Catch::Contains(c.message));
    CHECK(e.journey_ids().empty());
  }
  // A template reading an unknown one.
  const absl::Status s = h.DeployText(R"pb(
    id: "bad_template" version: 1
    settings { state: ACTIVE }
    nodes { id: "start" trigger { event { matcher { event: "app_open" } } next: "say" } }
    nodes { id: "say" action { channel: "push" template_id: "t"
            params { key: "n" value: "{{behavior.nope}}" } } }
  )pb");
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(s.message()), Catch::Contains("journey bad_template, node say, field"));
  CHECK_THAT(std::string(s.message()), Catch::Contains("unknown behaviour \"nope\""));
  // Compiled elsewhere (no engine's declarations), deployed here: checked
  // here all the same.
  absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled =
      Compile(journey(R"pb(compare { path: "behavior.sharez" op: GT value { int_value: 1 } })pb"));
  REQUIRE_THAT(testing::StatusOf(compiled), IsOk());
  CHECK(e.Deploy(*compiled).code() == absl::StatusCode::kInvalidArgument);
  // An engine that declares nothing.
  Harness bare;
  const absl::Status none = bare.DeployText(kAmbassadorJourney);
  CHECK(none.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(none.message()), Catch::Contains("the engine declares none"));
  // The right uses deploy.
  REQUIRE_THAT(h.Deploy(journey(R"pb(compare { path: "behavior.last_purchase" op: LT
                                               now_minus { seconds: 60 } })pb")),
               IsOk());
  v1::Journey account = TextJourney(R"pb(
    id: "accounts" version: 1
    settings { state: ACTIVE subject_type: "account" }
    nodes { id: "start" trigger { event { matcher { event: "seat_added" }
            profile_filter { compare { path: "behavior.seats" op: GE value { int_value: 5 } } } }
            next: "done" } }
    nodes { id: "done" exit {} }
  )pb");
  REQUIRE_THAT(h.Deploy(account), IsOk());
}

// ---- 9. Invalid sets ----

TEST_CASE("Every problem of a behaviour set is named with its behaviour and field") {
  Engine engine;
  REQUIRE_THAT(engine.DeclareBehaviors(Behaviors(kSharesBehaviors)), IsOk());
  const v1::BehaviorSet bad = Behaviors(R"pb(
    behaviors { name: "Shares" event { event: "share" } function: COUNT }
    behaviors { name: "dup" event { event: "a" } function: COUNT }
    behaviors { name: "dup" event { event: "b" } function: COUNT }
    behaviors { name: "no_event" function: COUNT }
    behaviors { name: "no_function" event { event: "a" } }
    behaviors { name: "sum_without" event { event: "a" } function: SUM }
    behaviors { name: "count_with" event { event: "a" } function: COUNT property: "x" }
    behaviors { name: "first_window" event { event: "a" } function: FIRST_TIME
                window { last { seconds: 3600 } } }
    behaviors { name: "not_dividing" event { event: "a" } function: COUNT
                window { last { seconds: 7200 } resolution { seconds: 4200 } } }
    behaviors { name: "too_many_buckets" event { event: "a" } function: COUNT
                window { last { seconds: 864000 } resolution { seconds: 60 } } }
    behaviors { name: "days_64" event { event: "a" } function: ACTIVE_DAYS
                window { last { seconds: 5529600 } } }
    behaviors { name: "days_half" event { event: "a" } function: ACTIVE_DAYS
                window { last { seconds: 129600 } } }
    behaviors { name: "limit_high" event { event: "a" } function: DISTINCT_COUNT
                property: "x" distinct_limit: 10001 }
    behaviors { name: "limit_low" event { event: "a" } function: DISTINCT_COUNT
                property: "x" distinct_limit: -1 }
    behaviors { name: "zone" event { event: "a" } function: CURRENT_STREAK
                default_time_zone: "Europe/Atlantis" }
    behaviors { name: "reads_behavior" event { event: "a" where {
                  compare { path: "behavior.dup" op: GT value { int_value: 1 } } } }
                function: COUNT }
    behaviors { name: "short_resolution" event { event: "a" } function: COUNT
                window { last { seconds: 3600 } resolution { seconds: 30 } } }
    behaviors { name: "no_last" event { event: "a" } function: COUNT window { } }
    behaviors { name: "days_resolution" event { event: "a" } function: ACTIVE_DAYS
                window { last { seconds: 86400 } resolution { seconds: 3600 } } }
    behaviors { name: "limit_on_count" event { event: "a" } function: COUNT distinct_limit: 5 }
    behaviors { name: "zone_on_count" event { event: "a" } function: COUNT
                default_time_zone: "UTC" time_zone_attribute: "tz" }
    behaviors { name: "same_key" event { event: "a" same_key: true } function: COUNT }
    behaviors { name: "streak_window" event { event: "a" } function: CURRENT_STREAK
                window { last { seconds: 86400 } } }
    behaviors { name: "entry_read" event { event: "a" where {
                  compare { path: "entry.x" op: EXISTS } } } function: COUNT }
    behaviors { name: "bad_type" subject_type: "no spaces please" event { event: "a" }
                function: COUNT }
    behaviors { name: "hours_window" event { event: "a" } function: HOUR_OF_WEEK
                window { last { seconds: 86400 } } }
    behaviors { name: "hours_property" event { event: "a" } function: HOUR_OF_WEEK
                property: "x" }
  )pb");
  const absl::Status s = engine.DeclareBehaviors(bad);
  REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
  const std::string m(s.message());
  INFO(m);
  const char* expected[] = {
      "behaviors[0] (Shares), field name: behaviour name \"Shares\" must start",
      "behaviors[2] (dup), field name: behaviour \"dup\" is declared twice",
      "behaviors[3] (no_event), field event.event: the event name is not set",
      "behaviors[4] (no_function), field function: function is not set",
      "behaviors[5] (sum_without), field property: SUM needs the event property it reads",
      "behaviors[6] (count_with), field property: COUNT reads no property",
      "behaviors[7] (first_window), field window: FIRST_TIME takes no window",
      "behaviors[8] (not_dividing), field window.resolution: resolution ",
      "does not divide the window",
      "behaviors[9] (too_many_buckets), field window.resolution: a window of ",
      "holds 14400 buckets, more than 10000; use a coarser one",
      "behaviors[10] (days_64), field window.last: ACTIVE_DAYS counts local days",
      "behaviors[11] (days_half), field window.last: ACTIVE_DAYS counts local days",
      "behaviors[12] (limit_high), field distinct_limit: distinct_limit must be in [0, 10000]",
      "behaviors[13] (limit_low), field distinct_limit: distinct_limit must be in [0, 10000]",
      "behaviors[14] (zone), field default_time_zone:",
      "behaviors[15] (reads_behavior), field event.where.compare.path: path \"behavior.dup\" "
      "reads behavior.*",
      "behaviors[16] (short_resolution), field window.resolution:",
      "behaviors[17] (no_last), field window.last:",
      "behaviors[18] (days_resolution), field window.resolution: ACTIVE_DAYS counts local "
      "days: leave resolution unset",
      "behaviors[19] (limit_on_count), field distinct_limit: only DISTINCT_COUNT",
      "behaviors[20] (zone_on_count), field time_zone_attribute:",
      "behaviors[20] (zone_on_count), field default_time_zone:",
      "behaviors[21] (same_key), field event.same_key:",
      "behaviors[22] (streak_window), field window: CURRENT_STREAK takes no window",
      "behaviors[23] (entry_read), field event.where.compare.path:",
      "behaviors[24] (bad_type), field subject_type:",
      "behaviors[25] (hours_window), field window: HOUR_OF_WEEK takes no window",
      "behaviors[26] (hours_property), field property: HOUR_OF_WEEK reads no property",
  };
  for (const char* line : expected) CHECK_THAT(m, Catch::Contains(line));
  // Behaviour 1 (the first "dup") is fine: no line names it.
  CHECK_THAT(m, !Catch::Contains("behaviors[1] "));
  // Nothing changed.
  CHECK(engine.BehaviorValue("", "u", "shares").ok());
  CHECK(engine.BehaviorValue("", "u", "dup").status().code() == absl::StatusCode::kNotFound);

  // The bounds themselves are accepted.
  REQUIRE_THAT(engine.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "a234567890123456789012345678901234567890123456789012345678901234"
                event { event: "a" } function: COUNT }
    behaviors { name: "days_63" event { event: "a" } function: ACTIVE_DAYS
                window { last { seconds: 5443200 } } }
    behaviors { name: "buckets_10000" event { event: "a" } function: COUNT
                window { last { seconds: 600000 } resolution { seconds: 60 } } }
    behaviors { name: "limit_max" event { event: "a" } function: DISTINCT_COUNT
                property: "x" distinct_limit: 10000 }
  )pb")),
               IsOk());
  const absl::Status long_name = engine.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "a2345678901234567890123456789012345678901234567890123456789012345"
                event { event: "a" } function: COUNT }
  )pb"));
  CHECK(long_name.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(long_name.message()), Catch::Contains("longer than 64"));
  v1::BehaviorSet many;
  for (int i = 0; i < 1001; ++i) {
    v1::Behavior* b = many.add_behaviors();
    b->set_name(absl::StrCat("b", i));
    b->mutable_event()->set_event("a");
    b->set_function(v1::Behavior::COUNT);
  }
  const absl::Status too_many = engine.DeclareBehaviors(many);
  CHECK(too_many.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(too_many.message()), Catch::Contains("1001 behaviours, more than 1000"));
  many.mutable_behaviors()->RemoveLast();
  REQUIRE_THAT(engine.DeclareBehaviors(many), IsOk());
}

// ---- 10. Snapshots ----

constexpr char kSnapshotBehaviors[] = R"pb(
  behaviors { name: "shares" event { event: "share" } function: COUNT }
  behaviors { name: "shares_1d" event { event: "share" } function: COUNT
              window { last { seconds: 86400 } } }
  behaviors { name: "spent" event { event: "purchase" } function: SUM property: "amount" }
  behaviors { name: "largest_2d" event { event: "purchase" } function: MAX property: "amount"
              window { last { seconds: 172800 } resolution { seconds: 7200 } } }
  behaviors { name: "smallest" event { event: "purchase" } function: MIN property: "amount" }
  behaviors { name: "skus" event { event: "purchase" } function: DISTINCT_COUNT property: "sku"
              distinct_limit: 4 }
  behaviors { name: "skus_1d" event { event: "purchase" } function: DISTINCT_COUNT
              property: "sku" window { last { seconds: 86400 } } }
  behaviors { name: "first_purchase" event { event: "purchase" } function: FIRST_TIME }
  behaviors { name: "last_purchase" event { event: "purchase" } function: LAST_TIME }
  behaviors { name: "active_days" event { event: "check_in" } function: ACTIVE_DAYS }
  behaviors { name: "active_7d" event { event: "check_in" } function: ACTIVE_DAYS
              window { last { seconds: 604800 } } }
  behaviors { name: "streak" event { event: "check_in" } function: CURRENT_STREAK
              default_time_zone: "Asia/Shanghai" }
  behaviors { name: "best_streak" event { event: "check_in" } function: LONGEST_STREAK }
  behaviors { name: "seats_1d" subject_type: "account" event { event: "seat_added" }
              function: COUNT window { last { seconds: 86400 } } }
)pb";

const char* const kSnapshotBehaviorNames[] = {
    "shares", "shares_1d", "spent", "largest_2d", "smallest", "skus", "skus_1d",
    "first_purchase", "last_purchase", "active_days", "active_7d", "streak", "best_streak"};

constexpr char kStreakJourney[] = R"pb(
  id: "streaks" version: 1
  settings { state: ACTIVE reentry { mode: AFTER_EXIT cooldown { seconds: 86400 } } }
  nodes { id: "checked_in" trigger { event { matcher { event: "check_in" }
          profile_filter { compare { path: "behavior.streak" op: GE value { int_value: 3 } } } }
          next: "later" } }
  nodes { id: "later" delay { duration { seconds: 7200 } next: "still" } }
  nodes { id: "still" filter {
          predicate { compare { path: "behavior.active_7d" op: GE value { int_value: 3 } } }
          on_true: "praise" on_false: "" } }
  nodes { id: "praise" action { channel: "push" template_id: "streak"
          params { key: "days" value: "{{behavior.streak}}/{{behavior.best_streak}}" }
          params { key: "spent" value: "{{behavior.spent}} {{behavior.largest_2d}}" } } }
)pb";

// Records every send, for comparing two engines' outputs.
struct SendLog : ChannelSink {
  SendResult Send(const Message& m) override {
    absl::StrAppend(&log, absl::ToUnixSeconds(m.time), " ", m.journey_id, " ", m.subject_id,
                    " ", m.node_id, " ", m.message_id);
    for (const auto& [k, v] : m.params) absl::StrAppend(&log, " ", k, "=", v);
    log += "\n";
    return SendResult::Accepted();
  }
  std::string log;
};

void SetUpJourneys(Engine* engine, SendLog* log, bool for_restore) {
  REQUIRE_THAT(engine->RegisterChannel("push", log), IsOk());
  for (const char* text : {kAmbassadorJourney, kWinBackJourney, kStreakJourney}) {
    const v1::Journey j = TextJourney(text);
    REQUIRE_THAT(for_restore ? engine->DeployForRestore(j) : engine->Deploy(j), IsOk());
  }
}

std::vector<EngineInput> BehaviorStream(int n, absl::Time start) {
  std::mt19937_64 rng(2026);
  std::vector<EngineInput> inputs;
  absl::Time t = start;
  const char* zones[] = {"America/New_York", "Asia/Shanghai", "Europe/Berlin", "Nowhere/Else"};
  for (int i = 0; i < n; ++i) {
    t += absl::Seconds(static_cast<int64_t>(rng() % 3600));
    const std::string subject = absl::StrCat("s", rng() % 10);
    const uint64_t r = rng() % 100;
    // Some events are late (up to 50 minutes), some repeat an id.
    const absl::Time at = r % 7 == 0 ? t - absl::Seconds(static_cast<int64_t>(rng() % 3000)) : t;
    if (r < 5) {
      ProfileUpdate p;
      p.subject_id = subject;
      p.attributes = {{"time_zone", Value::String(zones[rng() % 4])}};
      p.time = t;
      inputs.emplace_back(p);
    } else if (r < 8) {
      t += absl::Hours(static_cast<int64_t>(rng() % 30));
      inputs.emplace_back(ClockTick{t});
    } else if (r < 10) {
      // A host's seed of any behaviour, by value or a little history; some
      // do not fit theirs and are refused, a count of 0 frees a cell.
      BehaviorSeed seed;
      seed.subject_id = subject;
      seed.behavior = kSnapshotBehaviorNames[rng() % std::size(kSnapshotBehaviorNames)];
      seed.time = t;
      if (rng() % 2 == 0) {
        seed.value = Value::Int(static_cast<int64_t>(rng() % 4));
      } else {
        for (uint64_t k = rng() % 4; k > 0; --k) {
          BehaviorSeedEntry entry;
          entry.time = t - absl::Minutes(static_cast<int64_t>(rng() % (60 * 24 * 4)));
          entry.count = 1 + static_cast<int64_t>(rng() % 3);
          if (rng() % 3 != 0) entry.value = Value::Int(static_cast<int64_t>(rng() % 6));
          seed.history.push_back(entry);
        }
      }
      inputs.emplace_back(std::move(seed));
    } else {
      Event e;
      e.subject_id = subject;
      e.time = at;
      e.id = absl::StrCat("id", rng() % 400);
      if (r < 40) {
        e.name = "share";
      } else if (r < 65) {
        e.name = "purchase";
        const uint64_t kind = rng() % 5;
        if (kind == 0) {
          e.properties = {{"amount", Value::String("n/a")}};
        } else if (kind < 4) {
          e.properties = {{"amount", Value::Double(static_cast<double>(rng() % 10000) / 100)},
                          {"sku", Value::Int(static_cast<int64_t>(rng() % 8))}};
        }
      } else if (r < 90) {
        e.name = "check_in";
      } else if (r < 95) {
        e.name = "app_open";
      } else {
        e.name = "seat_added";
        e.subject_type = "account";
      }
      inputs.emplace_back(std::move(e));
    }
  }
  return inputs;
}

// Every behaviour of every subject, as a journey would read it now.
std::string AllValues(Engine& engine) {
  std::string out;
  for (int s = 0; s < 11; ++s) {  // s10 is never seen.
    const std::string subject = absl::StrCat("s", s);
    for (const char* name : kSnapshotBehaviorNames) {
      absl::StrAppend(&out, subject, ".", name, "=",
                      Catch::Detail::stringify(Read(engine, subject, name)), " ");
    }
    absl::StrAppend(&out, "seats_1d=", Int(engine, subject, "seats_1d", "account"));
    out += "\n";
  }
  return out;
}

// The outcome of each input and, every few inputs, every value.
std::string Run(Engine& engine, const std::vector<EngineInput>& inputs, size_t from) {
  std::string out;
  for (size_t i = from; i < inputs.size(); ++i) {
    absl::StrAppend(&out, i, " ", engine.Apply(inputs[i]).ToString(), "\n");
    if (i % 37 == 0) out += AllValues(engine);
  }
  REQUIRE_THAT(engine.AdvanceTo(InputTime(inputs.back()) + Days(3)), IsOk());
  out += AllValues(engine);
  return out;
}

EngineOptions SnapshotOptions() {
  EngineOptions o;
  o.start_time = Utc(2026, 3, 1);
  o.max_lateness = absl::Hours(1);
  return o;
}

TEST_CASE("Snapshots cut anywhere restore every behaviour and the journeys reading them") {
  const std::vector<EngineInput> inputs = BehaviorStream(1500, SnapshotOptions().start_time);
  const size_t cuts[] = {0, 1, 97, 500, 777, 1234, 1499};

  Engine a(SnapshotOptions());
  SendLog log_a;
  REQUIRE_THAT(a.DeclareBehaviors(Behaviors(kSnapshotBehaviors)), IsOk());
  SetUpJourneys(&a, &log_a, false);
  std::vector<std::string> snapshots;
  std::vector<std::string> outputs_at_cut;
  std::vector<size_t> log_at_cut;
  std::string outputs;
  size_t next_cut = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (next_cut < std::size(cuts) && cuts[next_cut] == i) {
      std::ostringstream out;
      REQUIRE_THAT(a.Snapshot(out), IsOk());
      snapshots.push_back(out.str());
      outputs_at_cut.push_back(outputs);
      log_at_cut.push_back(log_a.log.size());
      ++next_cut;
    }
    absl::StrAppend(&outputs, i, " ", a.Apply(inputs[i]).ToString(), "\n");
    if (i % 37 == 0) outputs += AllValues(a);
  }
  REQUIRE_THAT(a.AdvanceTo(InputTime(inputs.back()) + Days(3)), IsOk());
  outputs += AllValues(a);
  // The stream exercises what it should.
  REQUIRE(log_a.log.size() > 0);
  REQUIRE(a.stats().events_duplicate > 0);
  REQUIRE(a.stats().late_inputs > 0);
  REQUIRE(a.stats().behavior_seeds_applied > 0);
  REQUIRE(a.stats().behavior_seeds_rejected > 0);
  REQUIRE(a.Report("ambassador")->versions(0).entered() > 0);
  REQUIRE(a.Report("streaks")->versions(0).entered() > 0);

  for (size_t c = 0; c < snapshots.size(); ++c) {
    INFO("cut at input " << cuts[c]);
    Engine b(SnapshotOptions());
    SendLog log_b;
    // No declarations here: they come from the snapshot.
    SetUpJourneys(&b, &log_b, true);
    std::istringstream in(snapshots[c]);
    REQUIRE_THAT(b.Restore(in), IsOk());
    // Byte for byte the same state.
    std::ostringstream again;
    REQUIRE_THAT(b.Snapshot(again), IsOk());
    CHECK(again.str() == snapshots[c]);
    const std::string got = Run(b, inputs, cuts[c]);
    CHECK(outputs_at_cut[c] + got == outputs);
    CHECK(log_b.log == log_a.log.substr(log_at_cut[c]));
  }
}

TEST_CASE("Restore replaces the declarations and refuses ones the journeys cannot read") {
  SECTION("a snapshot without behaviours restores with none") {
    Engine a(SnapshotOptions());
    REQUIRE_THAT(a.Ingest(testing::EventAt("u", "share", SnapshotOptions().start_time)), IsOk());
    std::ostringstream out;
    REQUIRE_THAT(a.Snapshot(out), IsOk());
    Engine b(SnapshotOptions());
    REQUIRE_THAT(b.DeclareBehaviors(Behaviors(kSharesBehaviors)), IsOk());
    std::istringstream in(out.str());
    REQUIRE_THAT(b.Restore(in), IsOk());
    CHECK(b.BehaviorValue("", "u", "shares").status().code() == absl::StatusCode::kNotFound);
  }
  SECTION("a snapshot's declarations replace the engine's") {
    Engine a(SnapshotOptions());
    REQUIRE_THAT(a.DeclareBehaviors(Behaviors(kSharesBehaviors)), IsOk());
    for (int i = 0; i < 4; ++i) {
      REQUIRE_THAT(a.Ingest(testing::EventAt("u", "share", SnapshotOptions().start_time +
                                                               absl::Minutes(i))),
                   IsOk());
    }
    std::ostringstream out;
    REQUIRE_THAT(a.Snapshot(out), IsOk());
    Engine b(SnapshotOptions());
    REQUIRE_THAT(b.DeclareBehaviors(Behaviors(R"pb(
      behaviors { name: "likes" event { event: "like" } function: COUNT }
    )pb")),
                 IsOk());
    std::istringstream in(out.str());
    REQUIRE_THAT(b.Restore(in), IsOk());
    CHECK(Int(b, "u", "shares") == 4);
    CHECK(b.BehaviorValue("", "u", "likes").status().code() == absl::StatusCode::kNotFound);
    // And an identical redeclaration afterwards keeps the restored state.
    REQUIRE_THAT(b.DeclareBehaviors(Behaviors(kSharesBehaviors)), IsOk());
    CHECK(Int(b, "u", "shares") == 4);
  }
  SECTION("declarations that do not fit a deployed journey's reads") {
    // A writer cannot make such a snapshot (DeclareBehaviors refuses), so
    // its behaviours record is edited: shares retyped, or the record gone.
    SendLog log;
    Engine a(SnapshotOptions());
    REQUIRE_THAT(a.RegisterChannel("push", &log), IsOk());
    REQUIRE_THAT(a.DeclareBehaviors(Behaviors(kSharesBehaviors)), IsOk());
    REQUIRE_THAT(a.Deploy(TextJourney(kAmbassadorJourney)), IsOk());
    const std::vector<v1::SnapshotRecord> records = testing::SnapshotRecordsOf(a);
    for (const bool drop : {false, true}) {
      INFO((drop ? "no behaviours record" : "shares retyped to LAST_TIME"));
      std::ostringstream edited;
      {
        internal::RecordWriter writer(&edited);
        int dropped = 0;
        for (v1::SnapshotRecord r : records) {
          if (r.has_behaviors()) {
            if (drop) {
              ++dropped;
              continue;
            }
            r.mutable_behaviors()->mutable_declarations()->mutable_behaviors(0)->set_function(
                v1::Behavior::LAST_TIME);
          }
          if (r.has_trailer()) r.mutable_trailer()->set_records(r.trailer().records() - dropped);
          REQUIRE_THAT(writer.Write(r), IsOk());
        }
        REQUIRE(dropped == (drop ? 1 : 0));
      }
      Engine b(SnapshotOptions());
      REQUIRE_THAT(b.RegisterChannel("push", &log), IsOk());
      REQUIRE_THAT(b.DeclareBehaviors(Behaviors(kSharesBehaviors)), IsOk());
      REQUIRE_THAT(b.Deploy(TextJourney(kAmbassadorJourney)), IsOk());
      std::istringstream in(edited.str());
      const absl::Status s = b.Restore(in);
      INFO(s.ToString());
      CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
      CHECK_THAT(std::string(s.message()), Catch::Contains("journey ambassador"));
      CHECK_THAT(std::string(s.message()),
                 Catch::Contains("node eleventh_share, field trigger.event.profile_filter"));
      // Left fresh, with its own declarations, which still work.
      CHECK(Int(b, "u", "shares") == 0);
      REQUIRE_THAT(b.Ingest(testing::EventAt("u", "share", SnapshotOptions().start_time)),
                   IsOk());
      CHECK(Int(b, "u", "shares") == 1);
    }
    // The unedited snapshot restores: the test above fails for the edit.
    std::ostringstream out;
    REQUIRE_THAT(a.Snapshot(out), IsOk());
    Engine c(SnapshotOptions());
    REQUIRE_THAT(c.RegisterChannel("push", &log), IsOk());
    REQUIRE_THAT(c.DeployForRestore(TextJourney(kAmbassadorJourney)), IsOk());
    std::istringstream in(out.str());
    REQUIRE_THAT(c.Restore(in), IsOk());
  }
  SECTION("a retired version's reads do not hold declarations back") {
    SendLog log;
    Engine a(SnapshotOptions());
    REQUIRE_THAT(a.RegisterChannel("push", &log), IsOk());
    REQUIRE_THAT(a.DeclareBehaviors(Behaviors(kSharesBehaviors)), IsOk());
    const v1::Journey v1 = TextJourney(kAmbassadorJourney);
    v1::Journey v2 = v1;
    v2.set_version(2);
    v2.mutable_nodes(0)->mutable_trigger()->mutable_event()->clear_profile_filter();
    v2.mutable_nodes(1)->mutable_action()->clear_params();
    REQUIRE_THAT(a.Deploy(v1), IsOk());
    REQUIRE_THAT(a.Deploy(v2), IsOk());
    REQUIRE_THAT(a.RetireVersion("ambassador", 1), IsOk());
    REQUIRE_THAT(a.DeclareBehaviors(Behaviors("")), IsOk());
    std::ostringstream out;
    REQUIRE_THAT(a.Snapshot(out), IsOk());
    Engine b(SnapshotOptions());
    REQUIRE_THAT(b.RegisterChannel("push", &log), IsOk());
    REQUIRE_THAT(b.DeployForRestore(v1), IsOk());
    REQUIRE_THAT(b.DeployForRestore(v2), IsOk());
    std::istringstream in(out.str());
    REQUIRE_THAT(b.Restore(in), IsOk());
  }
}

TEST_CASE("Day records near the end of input time snapshot and restore") {
  // Inputs run to 2199-12-31T23:59:59Z; a subject east of UTC is a day
  // further on locally. Its day record must restore.
  EngineOptions o;
  o.start_time = Utc(2199, 12, 20);
  Engine a(o);
  REQUIRE_THAT(a.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "streak" event { event: "check_in" } function: CURRENT_STREAK
                default_time_zone: "Pacific/Kiritimati" }
    behaviors { name: "days" event { event: "check_in" } function: ACTIVE_DAYS }
  )pb")),
               IsOk());
  for (int d = 29; d <= 31; ++d) {
    REQUIRE_THAT(a.AdvanceTo(Utc(2199, 12, d, 23)), IsOk());
    REQUIRE_THAT(a.Ingest(testing::EventAt("u", "check_in", Utc(2199, 12, d, 23))), IsOk());
  }
  CHECK(Int(a, "u", "streak") == 3);
  CHECK(Int(a, "u", "days") == 3);
  std::ostringstream out;
  REQUIRE_THAT(a.Snapshot(out), IsOk());
  Engine b(o);
  std::istringstream in(out.str());
  REQUIRE_THAT(b.Restore(in), IsOk());
  CHECK(Int(b, "u", "streak") == 3);
  CHECK(Int(b, "u", "days") == 3);
}

// ---- 11. Bounds ----

size_t SnapshotSize(const Engine& engine) {
  std::ostringstream out;
  REQUIRE_THAT(engine.Snapshot(out), IsOk());
  return out.str().size();
}

TEST_CASE("A sliding window's state stays bounded however long a subject is active") {
  Harness h(Utc(2026, 1, 1));
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "views_1d" event { event: "view" } function: COUNT
                window { last { seconds: 86400 } resolution { seconds: 3600 } } }
    behaviors { name: "amount_1d" event { event: "view" } function: SUM property: "n"
                window { last { seconds: 86400 } resolution { seconds: 3600 } } }
    behaviors { name: "skus_1d" event { event: "view" } function: DISTINCT_COUNT
                property: "sku" window { last { seconds: 86400 } } distinct_limit: 50 }
    behaviors { name: "skus" event { event: "view" } function: DISTINCT_COUNT property: "sku"
                distinct_limit: 50 }
    behaviors { name: "days" event { event: "view" } function: ACTIVE_DAYS }
    behaviors { name: "views" event { event: "view" } function: COUNT }
  )pb")),
               IsOk());
  std::vector<size_t> sizes;
  int64_t sku = 0;
  for (int day = 0; day < 40; ++day) {
    for (int minute = 0; minute < 24 * 60; minute += 20) {
      const absl::Time t = Utc(2026, 1, 1) + absl::Hours(24 * day) + absl::Minutes(minute);
      REQUIRE_THAT(h.Event("u", "view", t, {{"n", Value::Int(1)}, {"sku", Value::Int(sku++)}}),
                   IsOk());
    }
    if (day == 5 || day == 20 || day == 39) sizes.push_back(SnapshotSize(e));
    // Never more than the window's 24 hours + 1 bucket.
    CHECK(Int(e, "u", "views_1d") <= 25 * 3);
    CHECK(Int(e, "u", "skus") == 50);
    CHECK(Int(e, "u", "skus_1d") == 50);
  }
  CHECK(Int(e, "u", "views") == 40 * 72);
  CHECK(Int(e, "u", "days") == 40);
  // 72 views a day for 40 days: if a bucket or a value were kept past its
  // window or limit the snapshot would grow with the days. (Counters and
  // times may take a byte more as they grow.)
  INFO("sizes " << sizes[0] << " " << sizes[1] << " " << sizes[2]);
  CHECK(sizes[2] <= sizes[0] + 16);
  CHECK(sizes[1] <= sizes[0] + 16);
}

// A subject's state is kept in its index entry while it is small (one
// bucket, one run of days, a whole number of hundredths) and in a cell of
// its own once it outgrows that; it moves back when it shrinks. Whichever
// holds it, it reads, snapshots and restores the same.
TEST_CASE("State that outgrows its index entry and shrinks back reads the same throughout") {
  const absl::Time start = Utc(2026, 1, 5, 10);
  Harness h(start);
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "views_7d" event { event: "view" } function: COUNT
                window { last { seconds: 604800 } resolution { seconds: 3600 } } }
    behaviors { name: "views" event { event: "view" } function: COUNT }
    behaviors { name: "spent_30d" event { event: "pay" } function: SUM property: "amount"
                window { last { seconds: 2592000 } resolution { seconds: 86400 } } }
    behaviors { name: "lowest_30d" event { event: "pay" } function: MIN property: "amount"
                window { last { seconds: 2592000 } resolution { seconds: 86400 } } }
    behaviors { name: "spent" event { event: "pay" } function: SUM property: "amount" }
    behaviors { name: "streak" event { event: "check_in" } function: CURRENT_STREAK }
    behaviors { name: "longest" event { event: "check_in" } function: LONGEST_STREAK }
    behaviors { name: "days" event { event: "check_in" } function: ACTIVE_DAYS }
    behaviors { name: "days_7d" event { event: "check_in" } function: ACTIVE_DAYS
                window { last { seconds: 604800 } } }
    behaviors { name: "first" event { event: "check_in" } function: FIRST_TIME }
  )pb")),
               IsOk());
  const char* const kNames[] = {"views_7d", "views", "spent_30d", "lowest_30d", "spent",
                                "streak",   "longest", "days",  "days_7d",    "first"};
  const char* const kSubjects[] = {"u", "v", "w", "x"};
  // Every value, and the same read from a restored copy of the engine.
  const auto values = [&](Engine& engine) {
    std::string out;
    for (const char* subject : kSubjects) {
      for (const char* name : kNames) {
        absl::StrAppend(&out, subject, ".", name, "=",
                        Catch::Detail::stringify(Read(engine, subject, name)), " ");
      }
    }
    return out;
  };
  const auto restores_the_same = [&] {
    std::ostringstream out;
    REQUIRE_THAT(e.Snapshot(out), IsOk());
    EngineOptions options;
    options.start_time = start;
    Engine copy(options);
    std::istringstream in(out.str());
    REQUIRE_THAT(copy.Restore(in), IsOk());
    CHECK(values(copy) == values(e));
    std::ostringstream again;
    REQUIRE_THAT(copy.Snapshot(again), IsOk());
    CHECK(again.str() == out.str());
  };
  const auto pay = [&](const char* subject, double amount, absl::Time t) {
    REQUIRE_THAT(h.Event(subject, "pay", t, {{"amount", Value::Double(amount)}}), IsOk());
  };

  // One hour's views: small.
  REQUIRE_THAT(h.Event("u", "view", start), IsOk());
  REQUIRE_THAT(h.Event("u", "view", start + absl::Minutes(10)), IsOk());
  CHECK(Int(e, "u", "views_7d") == 2);
  // A second hour: a cell of its own.
  REQUIRE_THAT(h.Event("u", "view", start + absl::Hours(2)), IsOk());
  CHECK(Int(e, "u", "views_7d") == 3);
  // Check-ins on two days in a row, then a gap: one run, then more.
  REQUIRE_THAT(h.Event("u", "check_in", start + absl::Hours(3)), IsOk());
  REQUIRE_THAT(h.Event("u", "check_in", start + Days(1)), IsOk());
  CHECK(Int(e, "u", "streak") == 2);
  CHECK(Int(e, "u", "days") == 2);
  restores_the_same();
  REQUIRE_THAT(h.Event("u", "check_in", start + Days(3)), IsOk());
  CHECK(Int(e, "u", "streak") == 1);
  CHECK(Int(e, "u", "longest") == 2);
  CHECK(Int(e, "u", "days") == 3);
  CHECK(Int(e, "u", "days_7d") == 3);
  CHECK(Read(e, "u", "first") == Value::Timestamp(start + absl::Hours(3)));

  // Prices pack; a sum that is not a whole number of hundredths does not.
  pay("u", 12.34, start + Days(3));
  CHECK(Read(e, "u", "spent_30d") == Value::Double(12.34));
  pay("u", 0.1, start + Days(3) + absl::Minutes(1));
  pay("u", 0.2, start + Days(3) + absl::Minutes(2));
  CHECK(Read(e, "u", "spent_30d") == Value::Double((12.34 + 0.1) + 0.2));
  CHECK(Read(e, "u", "spent") == Value::Double((12.34 + 0.1) + 0.2));
  CHECK(Read(e, "u", "lowest_30d") == Value::Double(0.1));
  // -0 keeps its sign; amounts past what packs are kept whole.
  pay("w", -0.0, start + Days(3) + absl::Minutes(3));
  CHECK(std::signbit(Read(e, "w", "spent_30d").AsDouble()));
  CHECK(std::signbit(Read(e, "w", "spent").AsDouble()));
  pay("x", 1099511627776.5, start + Days(3) + absl::Minutes(4));
  pay("x", -21474836.48, start + Days(3) + absl::Minutes(5));
  CHECK(Read(e, "x", "spent_30d") == Value::Double(1099511627776.5 - 21474836.48));
  CHECK(Read(e, "x", "lowest_30d") == Value::Double(-21474836.48));
  restores_the_same();

  // A week on, the old hours have left the window: small again. Another
  // subject's state takes the cell u no longer needs.
  REQUIRE_THAT(h.Event("u", "view", start + Days(8)), IsOk());
  CHECK(Int(e, "u", "views_7d") == 1);
  CHECK(Int(e, "u", "views") == 4);
  REQUIRE_THAT(h.Event("v", "view", start + Days(8) + absl::Minutes(1)), IsOk());
  REQUIRE_THAT(h.Event("v", "view", start + Days(8) + absl::Hours(1)), IsOk());
  CHECK(Int(e, "v", "views_7d") == 2);
  CHECK(Int(e, "u", "views_7d") == 1);
  restores_the_same();

  const v1::BehaviorsReport report = e.BehaviorsReport();
  const auto holders = [&](absl::string_view name) {
    for (const v1::BehaviorReport& b : report.behaviors()) {
      if (b.name() == name) return b.subjects();
    }
    return int64_t{-1};
  };
  CHECK(holders("views_7d") == 2);
  CHECK(holders("spent_30d") == 3);
  CHECK(holders("streak") == 1);
}

TEST_CASE("Day records reach back 64 days before the latest active day") {
  EngineOptions options;
  options.max_lateness = absl::Hours(24 * 100);
  Harness h(Utc(2026, 1, 1), options);
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(R"pb(
    behaviors { name: "days" event { event: "check_in" } function: ACTIVE_DAYS }
    behaviors { name: "days_63" event { event: "check_in" } function: ACTIVE_DAYS
                window { last { seconds: 5443200 } } }
    behaviors { name: "best" event { event: "check_in" } function: LONGEST_STREAK }
  )pb")),
               IsOk());
  const absl::Time day0 = Utc(2026, 1, 1, 12);
  auto day = [&](int d) { return day0 + absl::Hours(24 * d); };
  REQUIRE_THAT(h.Event("u", "check_in", day(0)), IsOk());
  REQUIRE_THAT(h.Event("u", "check_in", day(70)), IsOk());
  CHECK(Int(e, "u", "days") == 2);
  // Day 6 is the 64th day before day 70: remembered, counted.
  REQUIRE_THAT(h.Event("u", "check_in", day(6)), IsOk());
  CHECK(Int(e, "u", "days") == 3);
  // Day 5 is beyond the record: not counted (documented).
  REQUIRE_THAT(h.Event("u", "check_in", day(5)), IsOk());
  CHECK(Int(e, "u", "days") == 3);
  // The 63-day window: days 8..70.
  REQUIRE_THAT(h.Event("u", "check_in", day(8)), IsOk());
  REQUIRE_THAT(h.Event("u", "check_in", day(7)), IsOk());
  CHECK(Int(e, "u", "days_63") == 2);
  CHECK(Int(e, "u", "days") == 5);
  CHECK(Int(e, "u", "best") == 3);  // 6, 7, 8.
  // A run that fills the record: 64 days in a row, then the window reads
  // all 63 of its days.
  for (int d = 71; d < 71 + 64; ++d) REQUIRE_THAT(h.Event("u", "check_in", day(d)), IsOk());
  CHECK(Int(e, "u", "days_63") == 63);
  CHECK(Int(e, "u", "best") == 65);
  CHECK(Int(e, "u", "days") == 5 + 64);
}

// ---- HOUR_OF_WEEK ----

constexpr char kHourBehaviors[] = R"pb(
  behaviors { name: "hours" event { event: "open" } function: HOUR_OF_WEEK
              default_time_zone: "Asia/Shanghai" }
  behaviors { name: "utc_hours" event { event: "open" } function: HOUR_OF_WEEK
              time_zone_attribute: "tz" }
)pb";

TEST_CASE("HOUR_OF_WEEK counts local hours of the week and halves every hour when one is full") {
  Harness h;  // Monday 2026-01-05 00:00 UTC.
  Engine& e = h.engine();
  REQUIRE_THAT(e.DeclareBehaviors(Behaviors(kHourBehaviors)),
               IsOk());
  const absl::Time monday = Harness::DefaultStart();
  // Absent before any event.
  CHECK(Read(e, "u", "hours").is_null());
  // Monday 02:00 UTC is Monday 10:00 in Shanghai (the default zone); the
  // other behaviour reads "tz", absent, and so UTC.
  REQUIRE_THAT(h.Event("u", "open", monday + absl::Hours(2)), IsOk());
  CHECK(Read(e, "u", "hours") == Value::Int(10));
  CHECK(Read(e, "u", "utc_hours") == Value::Int(2));
  // Two opens on Sunday at 23:30 UTC (Monday 07:30 in Shanghai) make that
  // the busiest hour: 167 in UTC, 7 in Shanghai.
  REQUIRE_THAT(h.Event("u", "open", monday + Days(6) + absl::Minutes(23 * 60 + 30)), IsOk());
  REQUIRE_THAT(h.Event("u", "open", monday + Days(6) + absl::Minutes(23 * 60 + 40)), IsOk());
  CHECK(Read(e, "u", "hours") == Value::Int(7));
  CHECK(Read(e, "u", "utc_hours") == Value::Int(167));

  // Seeded from history (a value alone says nothing of hours): 65535 opens
  // at Monday 10:00 and at Monday 11:00 UTC each, a tie the earlier wins.
  const absl::Time now = h.now();
  REQUIRE_THAT(e.SeedBehavior(SeedHistory("s", "utc_hours",
                                          {{monday + absl::Hours(10), 65535, {}},
                                           {monday + absl::Hours(11), 65535, {}}},
                                          now)),
               IsOk());
  CHECK(Read(e, "s", "utc_hours") == Value::Int(10));
  // One more at 11:00 would pass the most an hour holds: every hour is
  // halved first (32767 and 32767), then it counts, and 11:00 leads. A
  // count stuck at the limit would have left the tie.
  REQUIRE_THAT(h.Event("s", "open", monday + Days(7) + absl::Hours(11)), IsOk());
  CHECK(Read(e, "s", "utc_hours") == Value::Int(11));
  // The greatest count a seed may give halves every hour until it fits,
  // with no overflow on the way (UBSan caught (count + 1) / 2 at INT64_MAX;
  // the asan preset runs this), and leads: the full hour before it is
  // halved to nothing on the way.
  REQUIRE_THAT(e.SeedBehavior(SeedHistory("m", "utc_hours",
                                          {{monday + absl::Hours(4), 65535, {}},
                                           {monday + absl::Hours(5),
                                            std::numeric_limits<int64_t>::max(), {}}},
                                          h.now())),
               IsOk());
  CHECK(Read(e, "m", "utc_hours") == Value::Int(5));
  const absl::Status by_value = e.SeedBehavior(SeedValue("s", "utc_hours", Value::Int(3), now));
  CHECK(by_value.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(by_value.message()), Catch::Contains("give history instead"));

  // The cells restore from a snapshot exactly.
  std::ostringstream out;
  REQUIRE_THAT(e.Snapshot(out), IsOk());
  Harness restored(h.now());
  REQUIRE_THAT(restored.engine().DeclareBehaviors(Behaviors(kHourBehaviors)),
               IsOk());
  std::istringstream in(out.str());
  REQUIRE_THAT(restored.engine().Restore(in), IsOk());
  for (const char* subject : {"u", "s"}) {
    for (const char* name : {"hours", "utc_hours"}) {
      INFO(subject << " " << name);
      CHECK(Read(restored.engine(), subject, name) == Read(e, subject, name));
    }
  }
}

}  // namespace
}  // namespace cairn
