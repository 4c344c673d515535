// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Journey versions: a new version takes new entries while older ones finish
// what they started; a migration moves enrollments in flight at deploy time
// by an explicit node mapping (refused, with nothing moved, unless every
// occupied node maps to a node of the same kind); an empty older version can
// be retired.

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::Harness;
using testing::IsOk;
using testing::StatusOf;

// Version 1 of an onboarding journey: a day after signing up, a push with
// an A/B subject line, then a three-day goal on the first purchase.
constexpr char kOnboardingV1[] = R"pb(
  id: "onboarding" version: 1
  settings { state: ACTIVE split_seed: 5 }
  nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "ab" } }
  nodes { id: "ab" split { variants { name: "short" weight: 50 next: "wait_a_day" }
                           variants { name: "long" weight: 50 next: "wait_a_day" } } }
  nodes { id: "wait_a_day" delay { duration { seconds: 86400 } next: "push" } }
  nodes { id: "push" action { channel: "push" template_id: "welcome_v1" next: "bought" } }
  nodes { id: "bought" goal { conversion { event: "purchase" } window { seconds: 259200 }
                              on_converted: "" on_expired: "" } }
)pb";

// Version 2 renames the delay, sends an email instead, and keeps the split.
constexpr char kOnboardingV2[] = R"pb(
  id: "onboarding" version: 2
  settings { state: ACTIVE split_seed: 5 }
  nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "ab" } }
  nodes { id: "ab" split { variants { name: "short" weight: 50 next: "pause" }
                           variants { name: "long" weight: 50 next: "pause" } } }
  nodes { id: "pause" delay { duration { seconds: 86400 } next: "mail" } }
  nodes { id: "mail" action { channel: "email" template_id: "welcome_v2" next: "first_order" } }
  nodes { id: "first_order" goal { conversion { event: "purchase" } window { seconds: 259200 }
                                   on_converted: "" on_expired: "" } }
)pb";

std::string WithMigration(const std::string& journey, const std::string& migration) {
  return absl::StrCat(journey, "\nmigration { ", migration, " }");
}

const v1::VersionReport& Version(const v1::JourneyReport& report, int64_t version) {
  for (const v1::VersionReport& v : report.versions()) {
    if (v.version() == version) return v;
  }
  FAIL("no version " << version);
  return report.versions(0);
}

int64_t Current(const v1::VersionReport& v, const std::string& node) {
  for (const v1::NodeReport& n : v.nodes()) {
    if (n.node_id() == node) return n.current();
  }
  FAIL("no node " << node);
  return -1;
}

int64_t ExitsFor(const v1::VersionReport& v, const std::string& reason) {
  for (const v1::ReasonCount& r : v.exits()) {
    if (r.reason() == reason) return r.count();
  }
  return 0;
}

TEST_CASE("Without a migration, enrollments finish in the version they entered") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOnboardingV1), IsOk());
  REQUIRE_THAT(h.Event("ann", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(12)), IsOk());
  REQUIRE_THAT(h.DeployText(kOnboardingV2), IsOk());
  REQUIRE_THAT(h.Event("bob", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(30)), IsOk());
  REQUIRE(h.Sent("ann").size() == 1);
  CHECK(h.Sent("ann")[0].template_id == "welcome_v1");
  CHECK(h.Sent("ann")[0].journey_version == 1);
  REQUIRE(h.Sent("bob").size() == 1);
  CHECK(h.Sent("bob")[0].template_id == "welcome_v2");
  const absl::StatusOr<v1::JourneyReport> report = h.Report("onboarding");
  CHECK(Version(*report, 1).entered() == 1);
  CHECK(Version(*report, 2).entered() == 1);
  CHECK(Version(*report, 2).migrated_in() == 0);
}

TEST_CASE("A migration moves enrollments in flight and keeps their deadlines") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOnboardingV1), IsOk());
  REQUIRE_THAT(h.Event("ann", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(6)), IsOk());
  REQUIRE_THAT(h.Event("bob", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(6)), IsOk());  // ann: 12 h in, bob: 6 h in

  REQUIRE_THAT(h.DeployText(WithMigration(kOnboardingV2,
                                          R"pb(node_map { key: "wait_a_day" value: "pause" }
                                               node_map { key: "bought" value: "first_order" })pb")),
               IsOk());
  {
    const absl::StatusOr<v1::JourneyReport> report = h.Report("onboarding");
    const v1::VersionReport& v1 = Version(*report, 1);
    const v1::VersionReport& v2 = Version(*report, 2);
    CHECK(v1.in_flight() == 0);
    CHECK(v1.exited() == 2);
    CHECK(ExitsFor(v1, "migrated") == 2);
    CHECK(v2.entered() == 2);
    CHECK(v2.migrated_in() == 2);
    CHECK(Current(v2, "pause") == 2);
    CHECK(h.engine().stats().enrollments_in_flight == 2);
  }
  // The day still counts from signup: ann's email goes at 24 h, bob's at 30 h.
  REQUIRE_THAT(h.Advance(absl::Hours(12)), IsOk());
  REQUIRE(h.Sent("ann").size() == 1);
  CHECK(h.Sent("bob").empty());
  CHECK(h.Sent("ann")[0].template_id == "welcome_v2");
  CHECK(h.Sent("ann")[0].journey_version == 2);
  CHECK(h.Sent("ann")[0].time == Harness::DefaultStart() + absl::Hours(24));
  // The split variant survives the move (same split id and variant names).
  CHECK_FALSE(h.Sent("ann")[0].variant.empty());
  REQUIRE_THAT(h.Advance(absl::Hours(6)), IsOk());
  REQUIRE(h.Sent("bob").size() == 1);
  CHECK(h.Sent("bob")[0].time == Harness::DefaultStart() + absl::Hours(30));
  // Re-entry history is per journey id: nothing about the move lets ann in again.
  REQUIRE_THAT(h.Event("ann", "purchase"), IsOk());
  const absl::StatusOr<v1::JourneyReport> report = h.Report("onboarding");
  const v1::VersionReport& v2 = Version(*report, 2);
  REQUIRE(v2.goals_size() == 1);
  CHECK(v2.goals(0).overall().reached() == 2);
  CHECK(v2.goals(0).overall().converted() == 1);
  CHECK(v2.entered() == v2.exited() + v2.in_flight());
}

TEST_CASE("A migration into a goal keeps its window and counts it in the new version") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOnboardingV1), IsOk());
  REQUIRE_THAT(h.Event("ann", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(25)), IsOk());  // pushed, now in the goal
  REQUIRE_THAT(h.DeployText(WithMigration(kOnboardingV2,
                                          R"pb(node_map { key: "bought" value: "first_order" })pb")),
               IsOk());
  // The goal window ends 3 days after arriving in v1's goal (at 24 h).
  REQUIRE_THAT(h.AdvanceTo(Harness::DefaultStart() + absl::Hours(24 + 72) - absl::Seconds(1)),
               IsOk());
  CHECK(h.engine().stats().enrollments_in_flight == 1);
  REQUIRE_THAT(h.Advance(absl::Seconds(1)), IsOk());
  CHECK(h.engine().stats().enrollments_in_flight == 0);
  const absl::StatusOr<v1::JourneyReport> report = h.Report("onboarding");
  CHECK(Version(*report, 2).goals(0).overall().reached() == 1);
  CHECK(Version(*report, 2).goals(0).overall().expired() == 1);
}

TEST_CASE("A migration that leaves an occupied node unmapped is refused and moves nothing") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOnboardingV1), IsOk());
  REQUIRE_THAT(h.Event("ann", "signup"), IsOk());
  REQUIRE_THAT(h.Event("bob", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(25)), IsOk());
  REQUIRE_THAT(h.Event("cy", "signup"), IsOk());  // ann, bob in the goal; cy in the delay
  const absl::StatusOr<v1::JourneyReport> before = h.Report("onboarding");

  const absl::Status status = h.DeployText(
      WithMigration(kOnboardingV2, R"pb(node_map { key: "wait_a_day" value: "pause" })pb"));
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(status.message() ==
        "journey onboarding: version 2 cannot take the enrollments in flight: node \"bought\" "
        "of version 1 holds 2 enrollments and is not in migration.node_map");
  const absl::StatusOr<v1::JourneyReport> after = h.Report("onboarding");
  CHECK(after->SerializeAsString() == before->SerializeAsString());
  CHECK(after->versions_size() == 1);
  // Deploying it without a migration still works.
  REQUIRE_THAT(h.DeployText(kOnboardingV2), IsOk());
}

TEST_CASE("A migration between nodes of different kinds is refused") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOnboardingV1), IsOk());
  REQUIRE_THAT(h.Event("ann", "signup"), IsOk());
  const absl::Status status = h.DeployText(WithMigration(
      kOnboardingV2, R"pb(node_map { key: "wait_a_day" value: "first_order" })pb"));
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(status.message() ==
        "journey onboarding: version 2 cannot take the enrollments in flight: node "
        "\"wait_a_day\" of version 1 (delay, 1 enrollment) maps to \"first_order\", a goal "
        "node; enrollments move only between nodes of the same kind");
  CHECK(h.Report("onboarding")->versions_size() == 1);
}

TEST_CASE("A migration must map to nodes of the new version") {
  const std::vector<JourneyProblem> problems = ValidateJourney(testing::TextJourney(
      WithMigration(kOnboardingV2, R"pb(node_map { key: "wait_a_day" value: "nap" }
                                        node_map { key: "x" value: "signed_up" }
                                        node_map { key: "" value: "pause" })pb")));
  REQUIRE(problems.size() == 3);
  CHECK(problems[0].ToString() ==
        "journey onboarding, field migration.node_map[\"\"]: an empty old node id; map the ids "
        "of an older version's nodes");
  CHECK(problems[1].ToString() ==
        "journey onboarding, field migration.node_map[\"wait_a_day\"]: maps to unknown node "
        "\"nap\"");
  CHECK(problems[2].ToString() ==
        "journey onboarding, field migration.node_map[\"x\"]: maps to trigger \"signed_up\"; "
        "enrollments move to the node where they wait");
}

TEST_CASE("An enrollment awaiting delivery moves and continues on the new version's edges") {
  constexpr char kV1[] = R"pb(
    id: "reorder" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "bought" } } next: "push" } }
    nodes { id: "push" action { channel: "push" template_id: "p" next: "" on_failure: ""
                                await_delivery { timeout { seconds: 600 } } } }
  )pb";
  constexpr char kV2[] = R"pb(
    id: "reorder" version: 2 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "bought" } } next: "push2" } }
    nodes { id: "push2" action { channel: "push" template_id: "p" next: "thanks"
                                 on_failure: "" await_delivery { timeout { seconds: 600 } } } }
    nodes { id: "thanks" action { channel: "email" template_id: "thanks" } }
    migration { node_map { key: "push" value: "push2" } }
  )pb";
  Harness h;
  REQUIRE_THAT(h.DeployText(kV1), IsOk());
  REQUIRE_THAT(h.Event("ann", "bought"), IsOk());
  REQUIRE(h.Sent("ann").size() == 1);
  const std::string id = h.Sent("ann")[0].message_id;
  REQUIRE_THAT(h.Advance(absl::Minutes(5)), IsOk());
  REQUIRE_THAT(h.DeployText(kV2), IsOk());
  REQUIRE_THAT(h.Deliver(id), IsOk());
  REQUIRE(h.Sent("ann").size() == 2);
  CHECK(h.Sent("ann")[1].template_id == "thanks");
  const absl::StatusOr<v1::JourneyReport> report = h.Report("reorder");
  // The delivery counts where the message was sent.
  CHECK(Version(*report, 1).actions(0).delivered() == 1);
  CHECK(Version(*report, 2).actions(0).sent() == 0);
}

TEST_CASE("An empty older version can be retired, and only then") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOnboardingV1), IsOk());
  REQUIRE_THAT(h.Event("ann", "signup"), IsOk());
  CHECK(h.engine().RetireVersion("onboarding", 1).message() ==
        "journey onboarding version 1 is the newest version; deploy a newer one first");
  REQUIRE_THAT(h.DeployText(kOnboardingV2), IsOk());
  const absl::Status busy = h.engine().RetireVersion("onboarding", 1);
  CHECK(busy.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(busy.message() ==
        "journey onboarding version 1 is not empty: 1 enrollments in flight, 0 completed "
        "sequence matches waiting, 0 journey goals still measuring");
  CHECK(h.engine().RetireVersion("onboarding", 7).code() == absl::StatusCode::kNotFound);
  CHECK(h.engine().RetireVersion("nope", 1).code() == absl::StatusCode::kNotFound);

  REQUIRE_THAT(h.Advance(absl::Hours(24 + 72)), IsOk());  // ann finishes in v1
  REQUIRE_THAT(h.engine().RetireVersion("onboarding", 1), IsOk());
  REQUIRE_THAT(h.engine().RetireVersion("onboarding", 1), IsOk());  // idempotent
  const absl::StatusOr<v1::JourneyReport> report = h.Report("onboarding");
  CHECK(Version(*report, 1).retired());
  CHECK(Version(*report, 1).entered() == 1);  // Counters stay, final.
  CHECK_FALSE(Version(*report, 2).retired());
  // The push never got a delivery report: it is forgotten, and counted.
  CHECK(Version(*report, 1).actions(0).unreported() == 1);
  CHECK(Version(*report, 1).actions(0).awaiting_report() == 0);
  CHECK(h.Deliver(h.Sent("ann")[0].message_id).code() == absl::StatusCode::kNotFound);
}

TEST_CASE("Retiring frees partial sequence matches of the old version") {
  constexpr char kV1[] = R"pb(
    id: "browse" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { sequence { steps { event: "view" } steps { event: "cart" }
                                         within { seconds: 3600 } } next: "done" } }
    nodes { id: "done" exit {} }
  )pb";
  constexpr char kV2[] = R"pb(
    id: "browse" version: 2 settings { state: ACTIVE }
    nodes { id: "t" trigger { sequence { steps { event: "view" } steps { event: "cart" }
                                         within { seconds: 3600 } } next: "done" } }
    nodes { id: "done" exit {} }
  )pb";
  Harness h;
  REQUIRE_THAT(h.DeployText(kV1), IsOk());
  REQUIRE_THAT(h.Event("ann", "view"), IsOk());  // a partial match in v1
  REQUIRE_THAT(h.DeployText(kV2), IsOk());
  REQUIRE_THAT(h.engine().RetireVersion("browse", 1), IsOk());
  // The partial v1 match is gone; v2 needs its own view first.
  REQUIRE_THAT(h.Event("ann", "cart"), IsOk());
  CHECK(h.Report("browse")->versions(1).entered() == 0);
  REQUIRE_THAT(h.Event("ann", "view"), IsOk());
  REQUIRE_THAT(h.Event("ann", "cart"), IsOk());
  CHECK(h.Report("browse")->versions(1).entered() == 1);
  CHECK(h.Report("browse")->versions(0).entered() == 0);
}

TEST_CASE("Migrated and retired versions survive a snapshot and restore") {
  const std::string v2 = WithMigration(kOnboardingV2,
                                       R"pb(node_map { key: "wait_a_day" value: "pause" }
                                            node_map { key: "bought" value: "first_order" })pb");
  Harness h;
  REQUIRE_THAT(h.DeployText(kOnboardingV1), IsOk());
  REQUIRE_THAT(h.Event("ann", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(3)), IsOk());
  REQUIRE_THAT(h.DeployText(v2), IsOk());
  REQUIRE_THAT(h.engine().RetireVersion("onboarding", 1), IsOk());
  std::stringstream snapshot;
  REQUIRE_THAT(h.engine().Snapshot(snapshot), IsOk());

  // A restart: the host deploys the same versions, then restores.
  Harness restored;
  REQUIRE_THAT(restored.DeployText(kOnboardingV1), IsOk());
  REQUIRE_THAT(restored.DeployText(v2), IsOk());
  REQUIRE_THAT(restored.engine().Restore(snapshot), IsOk());
  CHECK(restored.Report("onboarding")->SerializeAsString() ==
        h.Report("onboarding")->SerializeAsString());
  CHECK(Version(*restored.Report("onboarding"), 1).retired());
  REQUIRE_THAT(restored.AdvanceTo(Harness::DefaultStart() + absl::Hours(24)), IsOk());
  REQUIRE(restored.Sent("ann").size() == 1);
  CHECK(restored.Sent("ann")[0].template_id == "welcome_v2");
}

}  // namespace
}  // namespace cairn
