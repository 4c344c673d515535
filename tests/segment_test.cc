// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Segments: named conditions over profile and behaviours, declared with the
// behaviours, read by journeys as segment.<name>.

#include <sstream>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::Harness;
using testing::IsOk;

v1::BehaviorSet Set(const std::string& text) { return testing::TextBehaviors(text); }

// Whales: 3 or more purchases ever. Lapsed whales: whales with no purchase
// in the last 14 days (a segment reading another).
constexpr char kWhales[] = R"pb(
  behaviors { name: "purchases" event { event: "purchase" } function: COUNT }
  behaviors { name: "last_purchase" event { event: "purchase" } function: LAST_TIME }
  segments { name: "lapsed_whales" condition { all {
    predicates { compare { path: "segment.whales" op: EQ value { bool_value: true } } }
    predicates { compare { path: "behavior.last_purchase" op: LT now_minus { seconds: 1209600 } } } } } }
  segments { name: "whales" condition {
    compare { path: "behavior.purchases" op: GE value { int_value: 3 } } } }
)pb";

constexpr char kOffer[] = R"pb(
  id: "whale_offer" version: 1
  settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "t" trigger { event { matcher { event: "login" }
    profile_filter { compare { path: "segment.lapsed_whales" op: EQ value { bool_value: true } } } }
    next: "mail" } }
  nodes { id: "mail" action { channel: "in_game_mail" template_id: "come_back" next: "" } }
)pb";

TEST_CASE("Segments: a journey reads segment membership computed from behaviours and time") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(kWhales)), IsOk());
  REQUIRE_THAT(h.DeployText(kOffer), IsOk());
  for (int i = 0; i < 3; ++i) REQUIRE_THAT(h.Event("whale", "purchase"), IsOk());
  REQUIRE_THAT(h.Event("minnow", "purchase"), IsOk());
  REQUIRE_THAT(h.Event("whale", "login"), IsOk());  // Bought just now: not lapsed.
  CHECK(h.Sent("whale").empty());
  REQUIRE_THAT(h.Advance(absl::Hours(24 * 15)), IsOk());
  REQUIRE_THAT(h.Event("whale", "login"), IsOk());
  REQUIRE_THAT(h.Event("minnow", "login"), IsOk());
  CHECK(h.Sent("whale").size() == 1);
  CHECK(h.Sent("minnow").empty());
}

TEST_CASE("Segments: deploy checks segment reads and declarations keep them") {
  Harness h;
  const absl::Status refused = h.DeployText(kOffer);
  CHECK(refused.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(refused.message()),
             Catch::Contains("unknown segment \"lapsed_whales\"; the engine declares none"));
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(kWhales)), IsOk());
  REQUIRE_THAT(h.DeployText(kOffer), IsOk());
  // Dropping the segment the journey reads is refused.
  const absl::Status dropped = h.engine().DeclareBehaviors(Set(
      R"pb(behaviors { name: "purchases" event { event: "purchase" } function: COUNT })pb"));
  CHECK(dropped.code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("Segments: a restored engine keeps the declarations and the reads") {
  testing::NullSink sink;
  EngineOptions options;
  options.start_time = Harness::DefaultStart();
  Engine first(options);
  REQUIRE_THAT(first.RegisterChannel("in_game_mail", &sink), IsOk());
  REQUIRE_THAT(first.DeclareBehaviors(Set(kWhales)), IsOk());
  REQUIRE_THAT(first.Deploy(testing::TextJourney(kOffer)), IsOk());
  for (int i = 0; i < 3; ++i) {
    REQUIRE_THAT(first.Ingest(testing::EventAt("whale", "purchase",
                                               options.start_time + absl::Minutes(i))),
                 IsOk());
  }
  std::stringstream snapshot;
  REQUIRE_THAT(first.Snapshot(snapshot), IsOk());
  Engine second(options);
  REQUIRE_THAT(second.RegisterChannel("in_game_mail", &sink), IsOk());
  REQUIRE_THAT(second.DeployForRestore(testing::TextJourney(kOffer)), IsOk());
  REQUIRE_THAT(second.Restore(snapshot), IsOk());
  const absl::Time later = options.start_time + absl::Hours(24 * 15);
  REQUIRE_THAT(second.AdvanceTo(later), IsOk());
  REQUIRE_THAT(second.Ingest(testing::EventAt("whale", "login", later)), IsOk());
  CHECK(second.Report("whale_offer")->versions(0).entered() == 1);
  // The declarations came back whole: dropping the segment is refused.
  CHECK(second.DeclareBehaviors(Set(R"pb(
          behaviors { name: "purchases" event { event: "purchase" } function: COUNT }
          behaviors { name: "last_purchase" event { event: "purchase" } function: LAST_TIME })pb"))
            .code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("Segments: bad declarations name the segment and field") {
  Harness h;
  const auto problems = [&](const std::string& text) {
    const absl::Status s = h.engine().DeclareBehaviors(Set(text));
    REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  CHECK_THAT(problems(R"pb(segments { name: "a" condition {
      compare { path: "segment.b" op: EQ value { bool_value: true } } } }
    segments { name: "b" condition {
      compare { path: "segment.a" op: EQ value { bool_value: true } } } })pb"),
             Catch::Contains("segments may not read each other in a loop: a -> b -> a"));
  CHECK_THAT(problems(R"pb(segments { name: "a" condition {
      compare { path: "segment.a" op: EQ value { bool_value: true } } } })pb"),
             Catch::Contains("segments[0] (a), field condition: segments may not read each "
                             "other in a loop: a -> a"));
  CHECK_THAT(problems(R"pb(segments { name: "big" condition {
      compare { path: "event.amount" op: GT value { int_value: 1 } } } })pb"),
             Catch::Contains("a segment is about the subject, not an event"));
  CHECK_THAT(problems(R"pb(segments { name: "x" condition {
      compare { path: "behavior.nope" op: GT value { int_value: 1 } } } })pb"),
             Catch::Contains("unknown behaviour \"nope\""));
  CHECK_THAT(problems(R"pb(segments { name: "Bad Name" condition {
      compare { path: "profile.a" op: EXISTS } } })pb"),
             Catch::Contains("segment name \"Bad Name\" must start with a lower-case letter"));
  CHECK_THAT(problems(R"pb(segments { name: "x" })pb"),
             Catch::Contains("a segment needs a condition"));
  CHECK_THAT(problems(R"pb(segments { name: "x" condition { compare { path: "profile.a" op: EXISTS } } }
    segments { name: "x" condition { compare { path: "profile.a" op: EXISTS } } })pb"),
             Catch::Contains("segment \"x\" is declared twice"));
}

// ---- Membership kept per subject, and the triggers it fires ----

constexpr char kGold[] = R"pb(
  segments { name: "gold" condition {
    compare { path: "profile.vip_level" op: EQ value { string_value: "gold" } } } }
)pb";

// Welcome on entering gold, goodbye on leaving it.
constexpr char kGoldJourneys[] = R"pb(
  id: "gold_welcome" version: 1
  settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "t" trigger { segment { segment: "gold" on: ENTERED } next: "push" } }
  nodes { id: "push" action { channel: "push" template_id: "welcome"
                                params { key: "segment" value: "{{entry.segment}}" } next: "" } }
)pb";
constexpr char kGoldGoodbye[] = R"pb(
  id: "gold_goodbye" version: 1
  settings { state: ACTIVE }
  nodes { id: "t" trigger { segment { segment: "gold" on: LEFT } next: "push" } }
  nodes { id: "push" action { channel: "push" template_id: "sorry" next: "" } }
)pb";

const v1::SegmentReport& SegmentOf(const v1::BehaviorsReport& report, const std::string& name) {
  for (const v1::SegmentReport& s : report.segments()) {
    if (s.name() == name) return s;
  }
  FAIL("no segment " << name << " in the report");
  static const v1::SegmentReport* const kNone = new v1::SegmentReport();
  return *kNone;
}

TEST_CASE("Segments: a profile update alone enters and leaves a segment and its journeys") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(kGold)), IsOk());
  REQUIRE_THAT(h.DeployText(kGoldJourneys), IsOk());
  REQUIRE_THAT(h.DeployText(kGoldGoodbye), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"vip_level", Value::String("silver")}}), IsOk());
  CHECK(h.Sent("ann").empty());
  REQUIRE_THAT(h.Profile("ann", {{"vip_level", Value::String("gold")}}), IsOk());
  REQUIRE(h.Sent("ann").size() == 1);
  CHECK(h.Sent("ann")[0].template_id == "welcome");
  CHECK(h.Sent("ann")[0].params ==
        std::vector<std::pair<std::string, std::string>>{{"segment", "gold"}});
  // Writing gold again is no transition.
  REQUIRE_THAT(h.Profile("ann", {{"vip_level", Value::String("gold")}}), IsOk());
  CHECK(h.Sent("ann").size() == 1);
  REQUIRE_THAT(h.Profile("ann", {{"vip_level", Value()}}), IsOk());  // Removed.
  REQUIRE(h.Sent("ann").size() == 2);
  CHECK(h.Sent("ann")[1].template_id == "sorry");
  // Back in: re-entry after exit lets the welcome journey take her again.
  REQUIRE_THAT(h.Profile("ann", {{"vip_level", Value::String("gold")}}), IsOk());
  CHECK(h.Sent("ann").size() == 3);
  const v1::BehaviorsReport report = h.engine().BehaviorsReport();
  const v1::SegmentReport& gold = SegmentOf(report, "gold");
  CHECK(gold.members() == 1);
  CHECK(gold.entered() == 2);
  CHECK(gold.left() == 1);
  CHECK_FALSE(gold.time_driven());
}

TEST_CASE("Segments: a profile update is checked only against segments of its subject's type") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(R"pb(
    segments { name: "gold_devices" subject_type: "device" condition {
      compare { path: "profile.vip_level" op: EQ value { string_value: "gold" } } } }
    segments { name: "gold_users" condition {
      compare { path: "profile.vip_level" op: EQ value { string_value: "gold" } } } })pb")),
               IsOk());
  // A user going gold joins the user segment only (it made her a member
  // of the device segment too); the device segment counts the device.
  REQUIRE_THAT(h.Profile("ann", {{"vip_level", Value::String("silver")}}), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"vip_level", Value::String("gold")}}), IsOk());
  REQUIRE_THAT(h.engine().UpsertProfile("tv-1", {{"vip_level", Value::String("gold")}}, h.now(),
                                        "device"),
               IsOk());
  const v1::BehaviorsReport report = h.engine().BehaviorsReport();
  CHECK(SegmentOf(report, "gold_users").members() == 1);
  CHECK(SegmentOf(report, "gold_devices").members() == 1);
  CHECK(SegmentOf(report, "gold_devices").entered() == 1);
}

TEST_CASE("Segments: a new subject meeting a segment enters it on its first input") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(R"pb(
    behaviors { name: "purchases_7d" event { event: "purchase" } function: COUNT
                window { last { seconds: 604800 } resolution { seconds: 3600 } } }
    segments { name: "inactive" condition {
      compare { path: "behavior.purchases_7d" op: EQ value { int_value: 0 } } } })pb")),
               IsOk());
  REQUIRE_THAT(h.Event("bob", "page_view"), IsOk());  // Unknown to the engine: not tracked.
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "inactive").members() == 0);
  REQUIRE_THAT(h.Profile("bob", {{"plan", Value::String("free")}}), IsOk());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "inactive").members() == 1);
  REQUIRE_THAT(h.Event("bob", "purchase"), IsOk());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "inactive").members() == 0);
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "inactive").left() == 1);
}

// Quiet: no purchase in the last day, which a subject holding nothing
// meets; returning: two logins or more, which it does not.
constexpr char kQuiet[] = R"pb(
  behaviors { name: "last_purchase" event { event: "purchase" } function: LAST_TIME }
  behaviors { name: "logins" event { event: "login" } function: COUNT }
  segments { name: "quiet" condition { not { compare {
    path: "behavior.last_purchase" op: GE now_minus { seconds: 86400 } } } } }
  segments { name: "returning" condition {
    compare { path: "behavior.logins" op: GE value { int_value: 2 } } } }
)pb";

TEST_CASE("Segments: a new subject is in what a subject holding nothing is in, and the rest is checked") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(kQuiet)), IsOk());
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "quiet_hello" version: 1
    settings { state: ACTIVE }
    nodes { id: "t" trigger { segment { segment: "quiet" on: ENTERED } next: "push" } }
    nodes { id: "push" action { channel: "push" template_id: "hello" next: "" } })pb"),
               IsOk());
  // Made known by a login (which only `logins` counts): quiet at once,
  // which triggers its journey; one login is not returning.
  REQUIRE_THAT(h.Event("ann", "login"), IsOk());
  v1::BehaviorsReport report = h.engine().BehaviorsReport();
  CHECK(SegmentOf(report, "quiet").members() == 1);
  CHECK(SegmentOf(report, "returning").members() == 0);
  CHECK(h.SentTo("ann", "push") == 1);
  // Made known by a purchase: not quiet, until a day without one passes.
  const absl::Time bought = h.now();
  REQUIRE_THAT(h.Event("bob", "purchase", bought), IsOk());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "quiet").members() == 1);
  CHECK(h.SentTo("bob", "push") == 0);
  REQUIRE_THAT(h.AdvanceTo(bought + absl::Hours(24)), IsOk());
  CHECK(h.SentTo("bob", "push") == 0);
  REQUIRE_THAT(h.AdvanceTo(bought + absl::Hours(24) + absl::Nanoseconds(1)), IsOk());
  CHECK(h.SentTo("bob", "push") == 1);
  // Made known by a profile update at any later time: quiet too (time
  // does not change what a subject holding nothing is in).
  REQUIRE_THAT(h.Advance(absl::Hours(24 * 400)), IsOk());
  REQUIRE_THAT(h.Profile("cy", {{"plan", Value::String("free")}}), IsOk());
  CHECK(h.SentTo("cy", "push") == 1);
  // A second login makes ann returning; her first input made her known.
  REQUIRE_THAT(h.Event("ann", "login"), IsOk());
  report = h.engine().BehaviorsReport();
  CHECK(SegmentOf(report, "quiet").members() == 3);
  CHECK(SegmentOf(report, "quiet").entered() == 3);
  CHECK(SegmentOf(report, "returning").members() == 1);
}

TEST_CASE("Segments: declaring behaviours again in another order keeps each segment's reads") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(kQuiet)), IsOk());
  REQUIRE_THAT(h.Event("ann", "login"), IsOk());
  REQUIRE_THAT(h.Event("ann", "login"), IsOk());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "returning").members() == 1);
  // A behaviour added first and the two kept swapped: `returning` still
  // reads logins (kept, as declared the same), not what now sits first.
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(R"pb(
    behaviors { name: "purchases" event { event: "purchase" } function: COUNT }
    behaviors { name: "logins" event { event: "login" } function: COUNT }
    behaviors { name: "last_purchase" event { event: "purchase" } function: LAST_TIME }
    segments { name: "returning" condition {
      compare { path: "behavior.logins" op: GE value { int_value: 2 } } } })pb")),
               IsOk());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "returning").members() == 1);
  REQUIRE_THAT(h.Event("ann", "purchase"), IsOk());
  REQUIRE_THAT(h.Event("ann", "login"), IsOk());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "returning").members() == 1);
  REQUIRE_THAT(h.Event("bo", "login"), IsOk());
  REQUIRE_THAT(h.Event("bo", "purchase"), IsOk());
  REQUIRE_THAT(h.Event("bo", "purchase"), IsOk());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "returning").members() == 1);
  REQUIRE_THAT(h.Event("bo", "login"), IsOk());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "returning").members() == 2);
}

// Active: bought in the last 7 days (1-hour buckets); lapsed whales: three
// purchases ever and none in the last 14 days.
constexpr char kTimed[] = R"pb(
  behaviors { name: "purchases" event { event: "purchase" } function: COUNT }
  behaviors { name: "last_purchase" event { event: "purchase" } function: LAST_TIME }
  behaviors { name: "purchases_7d" event { event: "purchase" } function: COUNT
              window { last { seconds: 604800 } resolution { seconds: 3600 } } }
  segments { name: "active" condition {
    compare { path: "behavior.purchases_7d" op: GE value { int_value: 1 } } } }
  segments { name: "lapsed_whales" condition { all {
    predicates { compare { path: "behavior.purchases" op: GE value { int_value: 3 } } }
    predicates { compare { path: "behavior.last_purchase" op: LT now_minus { seconds: 1209600 } } } } } }
)pb";

constexpr char kWinback[] = R"pb(
  id: "winback" version: 1
  settings { state: ACTIVE }
  nodes { id: "t" trigger { segment { segment: "lapsed_whales" on: ENTERED } next: "mail" } }
  nodes { id: "mail" action { channel: "in_game_mail" template_id: "come_back" next: "" } }
)pb";
constexpr char kInactive[] = R"pb(
  id: "inactive" version: 1
  settings { state: ACTIVE }
  nodes { id: "t" trigger { segment { segment: "active" on: LEFT } next: "push" } }
  nodes { id: "push" action { channel: "push" template_id: "miss_you" next: "" } }
)pb";

TEST_CASE("Segments: time alone moves a subject at the exact instant") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(kTimed)), IsOk());
  REQUIRE_THAT(h.DeployText(kWinback), IsOk());
  REQUIRE_THAT(h.DeployText(kInactive), IsOk());
  const absl::Time t0 = h.now() + absl::Minutes(30);
  REQUIRE_THAT(h.Event("whale", "purchase", t0 - absl::Minutes(2)), IsOk());
  REQUIRE_THAT(h.Event("whale", "purchase", t0 - absl::Minutes(1)), IsOk());
  REQUIRE_THAT(h.Event("whale", "purchase", t0), IsOk());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "active").members() == 1);
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "active").time_driven());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "lapsed_whales").time_driven());

  // "Last 7 days at 1 hour" covers the bucket of now - 7d through now's:
  // the purchase's bucket leaves when the bucket 7d + 1h after it begins.
  const absl::Time hour = absl::FromUnixSeconds(absl::ToUnixSeconds(t0) / 3600 * 3600);
  const absl::Time leaves = hour + absl::Hours(7 * 24 + 1);
  REQUIRE_THAT(h.AdvanceTo(leaves - absl::Nanoseconds(1)), IsOk());
  CHECK(h.SentTo("whale", "push") == 0);
  REQUIRE_THAT(h.AdvanceTo(leaves), IsOk());
  CHECK(h.SentTo("whale", "push") == 1);
  REQUIRE(h.Sent("whale").size() == 1);
  CHECK(h.Sent("whale")[0].time == leaves);

  // "No purchase for 14 days": last_purchase LT now - 14d first holds
  // just after the 14 days, not at them.
  const absl::Time lapsed = t0 + absl::Hours(14 * 24);
  REQUIRE_THAT(h.AdvanceTo(lapsed), IsOk());
  CHECK(h.SentTo("whale", "in_game_mail") == 0);
  REQUIRE_THAT(h.AdvanceTo(lapsed + absl::Nanoseconds(1)), IsOk());
  CHECK(h.SentTo("whale", "in_game_mail") == 1);
  const v1::BehaviorsReport report = h.engine().BehaviorsReport();
  CHECK(SegmentOf(report, "lapsed_whales").members() == 1);
  CHECK(SegmentOf(report, "active").members() == 0);
  CHECK(SegmentOf(report, "active").left() == 1);

  // A purchase brings the whale back: out of lapsed, into active.
  REQUIRE_THAT(h.Event("whale", "purchase"), IsOk());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "lapsed_whales").members() == 0);
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "active").members() == 1);
}

TEST_CASE("Segments: a current streak breaks at the subject's local midnight") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(R"pb(
    behaviors { name: "streak" event { event: "checkin" } function: CURRENT_STREAK
                time_zone_attribute: "tz" }
    segments { name: "on_a_roll" condition {
      compare { path: "behavior.streak" op: GE value { int_value: 2 } } } })pb")),
               IsOk());
  REQUIRE_THAT(h.Profile("mei", {{"tz", Value::String("Asia/Shanghai")}}), IsOk());
  const absl::TimeZone shanghai = [] {
    absl::TimeZone z;
    REQUIRE(absl::LoadTimeZone("Asia/Shanghai", &z));
    return z;
  }();
  // Check-ins at 20:00 local on 2026-01-05 and 2026-01-06.
  REQUIRE_THAT(h.Event("mei", "checkin", absl::FromCivil(absl::CivilSecond(2026, 1, 5, 20, 0, 0),
                                                         shanghai)),
               IsOk());
  REQUIRE_THAT(h.Event("mei", "checkin", absl::FromCivil(absl::CivilSecond(2026, 1, 6, 20, 0, 0),
                                                         shanghai)),
               IsOk());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "on_a_roll").members() == 1);
  // The run counts through 01-07; it breaks when 01-08 begins in Shanghai.
  const absl::Time breaks = absl::FromCivil(absl::CivilDay(2026, 1, 8), shanghai);
  REQUIRE_THAT(h.AdvanceTo(breaks - absl::Nanoseconds(1)), IsOk());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "on_a_roll").members() == 1);
  REQUIRE_THAT(h.AdvanceTo(breaks), IsOk());
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "on_a_roll").members() == 0);
  CHECK(SegmentOf(h.engine().BehaviorsReport(), "on_a_roll").left() == 1);
}

TEST_CASE("Segments: members at deploy enter only when the trigger asks for them") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(kGold)), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"vip_level", Value::String("gold")}}), IsOk());
  REQUIRE_THAT(h.Profile("cy", {{"vip_level", Value::String("gold")}}), IsOk());
  REQUIRE_THAT(h.DeployText(kGoldJourneys), IsOk());
  CHECK(h.Sent().empty());
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "gold_all" version: 1
    settings { state: ACTIVE }
    nodes { id: "t" trigger { segment { segment: "gold" on: ENTERED existing_members: true }
                              next: "push" } }
    nodes { id: "push" action { channel: "push" template_id: "hello" next: "" } })pb"),
               IsOk());
  CHECK(h.SentTo("ann", "push") == 1);
  CHECK(h.SentTo("cy", "push") == 1);
  // A later version does not take them again.
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "gold_all" version: 2
    settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
    nodes { id: "t" trigger { segment { segment: "gold" on: ENTERED existing_members: true }
                              next: "push" } }
    nodes { id: "push" action { channel: "push" template_id: "hello" next: "" } })pb"),
               IsOk());
  CHECK(h.Sent().size() == 2);
}

TEST_CASE("Segments: a journey's own update changes membership but triggers nothing") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(kGold)), IsOk());
  REQUIRE_THAT(h.DeployText(kGoldJourneys), IsOk());
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "promote" version: 1
    settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "big_order" } } next: "up" } }
    nodes { id: "up" update { assignments { attribute: "vip_level"
                                            value { literal { string_value: "gold" } } }
                              next: "" } })pb"),
               IsOk());
  REQUIRE_THAT(h.Event("ann", "big_order"), IsOk());
  CHECK(h.Sent("ann").empty());
  const v1::BehaviorsReport report = h.engine().BehaviorsReport();
  const v1::SegmentReport& gold = SegmentOf(report, "gold");
  CHECK(gold.members() == 1);
  CHECK(gold.entered() == 1);
}

TEST_CASE("Segments: snapshots keep membership and pending re-checks") {
  testing::NullSink sink;
  EngineOptions options;
  options.start_time = Harness::DefaultStart();
  const auto make = [&](Engine* e) {
    REQUIRE_THAT(e->RegisterChannel("in_game_mail", &sink), IsOk());
    REQUIRE_THAT(e->RegisterChannel("push", &sink), IsOk());
  };
  Engine first(options);
  make(&first);
  REQUIRE_THAT(first.DeclareBehaviors(Set(kTimed)), IsOk());
  REQUIRE_THAT(first.Deploy(testing::TextJourney(kWinback)), IsOk());
  REQUIRE_THAT(first.Deploy(testing::TextJourney(kInactive)), IsOk());
  for (int i = 0; i < 4; ++i) {
    const std::string who = i % 2 == 0 ? "whale" : "minnow";
    for (int k = 0; k <= i; ++k) {
      const absl::Time at = options.start_time + absl::Hours(i * 30 + k);
      REQUIRE_THAT(first.AdvanceTo(at), IsOk());
      REQUIRE_THAT(first.Ingest(testing::EventAt(who, "purchase", at)), IsOk());
    }
  }
  std::stringstream snapshot;
  REQUIRE_THAT(first.Snapshot(snapshot), IsOk());
  Engine second(options);
  make(&second);
  REQUIRE_THAT(second.DeployForRestore(testing::TextJourney(kWinback)), IsOk());
  REQUIRE_THAT(second.DeployForRestore(testing::TextJourney(kInactive)), IsOk());
  REQUIRE_THAT(second.Restore(snapshot), IsOk());
  for (Engine* e : {&first, &second}) {
    REQUIRE_THAT(e->AdvanceTo(options.start_time + absl::Hours(24 * 30)), IsOk());
  }
  const std::string a = first.BehaviorsReport().DebugString();
  CHECK(a == second.BehaviorsReport().DebugString());
  CHECK_THAT(a, Catch::Contains("left: 2"));
  CHECK(first.Report("winback")->DebugString() == second.Report("winback")->DebugString());
  CHECK(first.Report("winback")->versions(0).entered() == 2);  // Both bought 3+ times.
  std::stringstream again_first, again_second;
  REQUIRE_THAT(first.Snapshot(again_first), IsOk());
  REQUIRE_THAT(second.Snapshot(again_second), IsOk());
  CHECK(again_first.str() == again_second.str());
}

TEST_CASE("Segments: segment triggers are checked at compile and deploy") {
  Harness h;
  const auto problem = [&](const std::string& text) {
    const absl::Status s = h.DeployText(text);
    REQUIRE_FALSE(s.ok());
    return std::string(s.message());
  };
  CHECK_THAT(problem(R"pb(id: "j" version: 1
    nodes { id: "t" trigger { segment { on: ENTERED } next: "" } })pb"),
             Catch::Contains("trigger.segment.segment: segment trigger names no segment"));
  CHECK_THAT(problem(R"pb(id: "j" version: 1
    nodes { id: "t" trigger { segment { segment: "gold" } next: "" } })pb"),
             Catch::Contains("segment trigger needs on: ENTERED or LEFT"));
  CHECK_THAT(problem(R"pb(id: "j" version: 1
    nodes { id: "t" trigger { segment { segment: "gold" on: LEFT existing_members: true }
                              next: "" } })pb"),
             Catch::Contains("existing_members is for on: ENTERED"));
  CHECK_THAT(problem(R"pb(id: "j" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { segment { segment: "gold" on: LEFT } next: "x" } }
    nodes { id: "x" exit {} })pb"),
             Catch::Contains("unknown segment \"gold\""));
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(kGold)), IsOk());
  REQUIRE_THAT(h.DeployText(kGoldJourneys), IsOk());
  // The segment a deployed journey enters on cannot be dropped.
  CHECK(h.engine().DeclareBehaviors(v1::BehaviorSet()).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("Segments: a segment declared again as it was keeps its counts") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(kGold)), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"vip_level", Value::String("gold")}}), IsOk());
  REQUIRE_THAT(h.Profile("bo", {{"vip_level", Value::String("gold")}}), IsOk());
  REQUIRE_THAT(h.Profile("bo", {{"vip_level", Value::String("silver")}}), IsOk());
  // The same segment beside a new one: counts kept, the new one starts at 0
  // with its members found (not entered).
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(R"pb(
    segments { name: "silver" condition {
      compare { path: "profile.vip_level" op: EQ value { string_value: "silver" } } } }
    segments { name: "gold" condition {
      compare { path: "profile.vip_level" op: EQ value { string_value: "gold" } } } })pb")),
               IsOk());
  v1::BehaviorsReport report = h.engine().BehaviorsReport();
  CHECK(SegmentOf(report, "gold").entered() == 2);
  CHECK(SegmentOf(report, "gold").left() == 1);
  CHECK(SegmentOf(report, "gold").members() == 1);
  CHECK(SegmentOf(report, "silver").entered() == 0);
  CHECK(SegmentOf(report, "silver").members() == 1);
  // Changed: counts start again.
  REQUIRE_THAT(h.engine().DeclareBehaviors(Set(R"pb(
    segments { name: "gold" condition {
      compare { path: "profile.vip_level" op: NE value { string_value: "silver" } } } })pb")),
               IsOk());
  report = h.engine().BehaviorsReport();
  CHECK(SegmentOf(report, "gold").entered() == 0);
  CHECK(SegmentOf(report, "gold").left() == 0);
  CHECK(SegmentOf(report, "gold").members() == 1);
}

}  // namespace
}  // namespace cairn
