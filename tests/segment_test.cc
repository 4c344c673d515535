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

}  // namespace
}  // namespace cairn
