// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Journey versions: a new version takes new entries while older ones finish
// what they started; a migration moves enrollments in flight at deploy time
// by an explicit node mapping (refused, with nothing moved, unless every node
// of the older versions where an enrollment can wait maps to a node of the
// same kind, occupied or not, so that every engine agrees); an empty older
// version can be retired.

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
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
                                          R"pb(node_map { key: "wait_a_day" value: "pause" }
                                               node_map { key: "bought" value: "first_order" })pb")),
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

TEST_CASE("A migration that leaves a waiting node unmapped is refused and moves nothing") {
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
        "journey onboarding: version 2 cannot take the enrollments older versions may hold: "
        "version 1, node \"bought\" (goal), field migration.node_map: not mapped (every node "
        "where an enrollment can wait must map to a node of the same kind, whether or not one "
        "waits there now)");
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
        "journey onboarding: version 2 cannot take the enrollments older versions may hold: "
        "version 1, node \"wait_a_day\" (delay), field migration.node_map[\"wait_a_day\"]: "
        "maps to \"first_order\", a goal node; version 1, node \"bought\" (goal), field "
        "migration.node_map: not mapped (every node where an enrollment can wait must map to a "
        "node of the same kind, whether or not one waits there now)");
  CHECK(h.Report("onboarding")->versions_size() == 1);
}

// Regression (issue #15, divergent deploys): the same migration deploy was
// accepted by an engine whose enrollments all sat at mapped nodes and
// refused by one with an enrollment at an unmapped node, so Kafka
// partitions (or shards) ended up running different versions of a journey.
// The rule now reads the graphs only: every engine gives the same answer.
TEST_CASE("Engines with different enrollments in flight agree on a migration deploy") {
  const std::string partial =
      WithMigration(kOnboardingV2, R"pb(node_map { key: "bought" value: "first_order" })pb");
  const std::string complete =
      WithMigration(kOnboardingV2, R"pb(node_map { key: "wait_a_day" value: "pause" }
                                        node_map { key: "bought" value: "first_order" })pb");
  Harness in_goal;   // ann waits in the goal, which `partial` maps
  Harness in_delay;  // bob waits in the delay, which `partial` leaves out
  Harness empty;     // nobody in flight
  for (Harness* h : {&in_goal, &in_delay, &empty}) {
    REQUIRE_THAT(h->DeployText(kOnboardingV1), IsOk());
  }
  REQUIRE_THAT(in_goal.Event("ann", "signup"), IsOk());
  REQUIRE_THAT(in_goal.Advance(absl::Hours(25)), IsOk());
  REQUIRE_THAT(in_delay.Event("bob", "signup"), IsOk());
  REQUIRE_THAT(in_delay.Advance(absl::Hours(2)), IsOk());
  REQUIRE(Current(Version(*in_goal.Report("onboarding"), 1), "bought") == 1);
  REQUIRE(Current(Version(*in_delay.Report("onboarding"), 1), "wait_a_day") == 1);

  const absl::Status refused = in_goal.DeployText(partial);
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(refused.message()),
             Catch::Contains("version 1, node \"wait_a_day\" (delay), field "
                             "migration.node_map: not mapped"));
  // The same status, message included, whatever is in flight.
  CHECK(in_delay.DeployText(partial) == refused);
  CHECK(empty.DeployText(partial) == refused);
  for (Harness* h : {&in_goal, &in_delay, &empty}) {
    CHECK(h->Report("onboarding")->versions_size() == 1);
  }

  // With every waiting node mapped, all of them take it.
  for (Harness* h : {&in_goal, &in_delay, &empty}) {
    REQUIRE_THAT(h->DeployText(complete), IsOk());
    CHECK(Version(*h->Report("onboarding"), 1).in_flight() == 0);
  }
  CHECK(Current(Version(*in_goal.Report("onboarding"), 2), "first_order") == 1);
  CHECK(Current(Version(*in_delay.Report("onboarding"), 2), "pause") == 1);
}

TEST_CASE("A migration must map actions awaiting delivery and actions quiet hours defer") {
  constexpr char kV1[] = R"pb(
    id: "reorder" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "bought" } } next: "mail" } }
    nodes { id: "mail" action { channel: "email" template_id: "m" next: "push"
                                await_delivery { timeout { seconds: 600 } } } }
    nodes { id: "push" action { channel: "push" template_id: "p" next: "sms" } }
    nodes { id: "sms" action { channel: "sms" template_id: "s" } }
  )pb";
  constexpr char kV2[] = R"pb(
    id: "reorder" version: 2 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "bought" } } next: "mail" } }
    nodes { id: "mail" action { channel: "email" template_id: "m" next: "" } }
    migration { node_map { key: "sms" value: "mail" } }
  )pb";
  EngineOptions options;
  options.quiet_hours.push_back({"push", 22, 0, 8, 0, {}});
  options.quiet_hours.push_back({"sms", 3, 0, 3, 0, {}});  // starts where it ends: defers nothing
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(kV1), IsOk());
  const absl::Status status = h.DeployText(kV2);
  CHECK(status.message() ==
        "journey reorder: version 2 cannot take the enrollments older versions may hold: "
        "version 1, node \"mail\" (action awaiting delivery), field migration.node_map: not "
        "mapped; version 1, node \"push\" (action on \"push\", which quiet hours defer), "
        "field migration.node_map: not mapped (every node where an enrollment can wait must map "
        "to a node of the same kind, whether or not one waits there now)");
  // Without quiet hours the push passes through, and needs no mapping.
  Harness plain;
  REQUIRE_THAT(plain.DeployText(kV1), IsOk());
  CHECK(plain.DeployText(kV2).message() ==
        "journey reorder: version 2 cannot take the enrollments older versions may hold: "
        "version 1, node \"mail\" (action awaiting delivery), field migration.node_map: not "
        "mapped (every node where an enrollment can wait must map to a node of the same kind, "
        "whether or not one waits there now)");
}

TEST_CASE("A migration must map actions that defer over caps and actions a journey's quiet hours defer") {
  constexpr char kV1[] = R"pb(
    id: "nightly" version: 1
    settings { state: ACTIVE quiet_hours { channel: "sms" start { hour: 21 } end { hour: 9 } } }
    nodes { id: "t" trigger { event { matcher { event: "bought" } } next: "push" } }
    nodes { id: "push" action { channel: "push" template_id: "p" next: "sms" over_cap: DEFER } }
    nodes { id: "sms" action { channel: "sms" template_id: "s" next: "code" } }
    nodes { id: "code" action { channel: "sms" template_id: "c" transactional: true } }
  )pb";
  constexpr char kV2[] = R"pb(
    id: "nightly" version: 2 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "bought" } } next: "mail" } }
    nodes { id: "mail" action { channel: "email" template_id: "m" next: "" } }
    migration { node_map { key: "push" value: "mail" } }
  )pb";
  // The engine's quiet hours on push do not apply: the journey has its own.
  EngineOptions options;
  options.quiet_hours.push_back({"push", 22, 0, 8, 0, {}});
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(kV1), IsOk());
  CHECK(h.DeployText(kV2).message() ==
        "journey nightly: version 2 cannot take the enrollments older versions may hold: "
        "version 1, node \"sms\" (action on \"sms\", which quiet hours defer), field "
        "migration.node_map: not mapped (every node where an enrollment can wait must map to a "
        "node of the same kind, whether or not one waits there now)");
  // The transactional sms passes through quiet hours and needs no mapping;
  // the push that defers over caps does, and has one.
  const std::string v2_no_push =
      absl::StrReplaceAll(kV2, {{R"(node_map { key: "push" value: "mail" })",
                                 R"(node_map { key: "sms" value: "mail" })"}});
  Harness h2(Harness::DefaultStart(), options);
  REQUIRE_THAT(h2.DeployText(kV1), IsOk());
  CHECK(h2.DeployText(v2_no_push).message() ==
        "journey nightly: version 2 cannot take the enrollments older versions may hold: "
        "version 1, node \"push\" (action deferred over a frequency cap), field "
        "migration.node_map: not mapped (every node where an enrollment can wait must map to a "
        "node of the same kind, whether or not one waits there now)");
  // With an engine rate limit on sms, the transactional sms can wait at its
  // action too (for its slot) and must be mapped.
  EngineOptions limited = options;
  limited.rate_limits.push_back({"sms", 10, absl::Seconds(1)});
  Harness h3(Harness::DefaultStart(), limited);
  REQUIRE_THAT(h3.DeployText(kV1), IsOk());
  CHECK(absl::StrContains(h3.DeployText(kV2).message(),
                          "node \"code\" (action on \"sms\", which a rate limit defers)"));
  const std::string both = absl::StrReplaceAll(
      kV2, {{R"(node_map { key: "push" value: "mail" })",
             R"(node_map { key: "push" value: "mail" } node_map { key: "sms" value: "mail" })"}});
  CHECK_THAT(h2.DeployText(both), IsOk());
}

TEST_CASE("A migration across instance keys or subject types is refused with nobody in flight") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOnboardingV1), IsOk());
  std::string v2 = WithMigration(kOnboardingV2,
                                 R"pb(node_map { key: "wait_a_day" value: "pause" }
                                      node_map { key: "bought" value: "first_order" })pb");
  const std::string from = "settings { state: ACTIVE split_seed: 5 }";
  REQUIRE(absl::StrContains(v2, from));
  v2.replace(v2.find(from), from.size(),
             "settings { state: ACTIVE split_seed: 5 subject_type: \"player\" "
             "instance_key: \"order_id\" }");
  CHECK(h.DeployText(v2).message() ==
        "journey onboarding: version 2 cannot take the enrollments older versions may hold: "
        "version 1, field settings.instance_key: \"\", not \"order_id\"; enrollments "
        "cannot move between versions keyed differently; version 1, field "
        "settings.subject_type: \"user\", not \"player\"; enrollments cannot move between "
        "versions of different subject types (every node where an enrollment can wait must map "
        "to a node of the same kind, whether or not one waits there now)");
}

TEST_CASE("A migration answers for the versions that may still hold enrollments") {
  // v2 renames every waiting node and moves everyone; v3 renames them again.
  const std::string v2 =
      WithMigration(kOnboardingV2, R"pb(node_map { key: "wait_a_day" value: "pause" }
                                        node_map { key: "bought" value: "first_order" })pb");
  std::string v3 = v2;
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"version: 2", "version: 3"},
                                 {"value: \"pause\"", "value: \"rest\""},
                                 {"id: \"pause\"", "id: \"rest\""},
                                 {"next: \"pause\"", "next: \"rest\""}}) {
    while (v3.find(from) != std::string::npos) v3.replace(v3.find(from), from.size(), to);
  }
  const std::string v3_from_v2 = absl::StrCat(
      v3.substr(0, v3.find("migration")),
      R"pb(migration { node_map { key: "pause" value: "rest" }
                       node_map { key: "first_order" value: "first_order" } })pb");

  SECTION("after a migration, the versions before it are empty for good") {
    Harness h;
    REQUIRE_THAT(h.DeployText(kOnboardingV1), IsOk());
    REQUIRE_THAT(h.Event("ann", "signup"), IsOk());
    REQUIRE_THAT(h.DeployText(v2), IsOk());
    // v1's wait_a_day and bought need no mapping any more.
    REQUIRE_THAT(h.DeployText(v3_from_v2), IsOk());
    CHECK(Current(Version(*h.Report("onboarding"), 3), "rest") == 1);
  }
  SECTION("without one, every older version counts") {
    Harness h;
    REQUIRE_THAT(h.DeployText(kOnboardingV1), IsOk());
    REQUIRE_THAT(h.DeployText(kOnboardingV2), IsOk());  // v1 finishes its own
    const absl::Status status = h.DeployText(v3_from_v2);
    CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(std::string(status.message()),
               Catch::Contains("version 1, node \"wait_a_day\" (delay), field "
                               "migration.node_map: not mapped; version 1, node \"bought\" "
                               "(goal), field migration.node_map: not mapped (every"));
    // Once the empty v1 is retired, it holds nothing to move.
    REQUIRE_THAT(h.engine().RetireVersion("onboarding", 1), IsOk());
    REQUIRE_THAT(h.DeployText(v3_from_v2), IsOk());
  }
}

TEST_CASE("DeployForRestore rebuilds a version Deploy refuses, only in a fresh engine") {
  // A snapshot from before the graph rule may hold a version whose
  // migration mapped only the nodes occupied then.
  const std::string partial =
      WithMigration(kOnboardingV2, R"pb(node_map { key: "bought" value: "first_order" })pb");
  const v1::Journey v1 = testing::TextJourney(kOnboardingV1);
  const v1::Journey v2 = testing::TextJourney(partial);
  Harness old;
  old.channel("push");
  old.channel("email");
  REQUIRE_THAT(old.engine().DeployForRestore(v1), IsOk());
  REQUIRE_THAT(old.engine().DeployForRestore(v2), IsOk());
  REQUIRE_THAT(old.Event("ann", "signup"), IsOk());
  REQUIRE_THAT(old.Advance(absl::Hours(2)), IsOk());
  const absl::Status late = old.engine().DeployForRestore(v2);
  CHECK(late.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(late.message() ==
        "DeployForRestore of journey onboarding needs a fresh engine: it rebuilds a "
        "snapshot's versions before Restore, before any input; use Deploy");
  std::stringstream snapshot;
  REQUIRE_THAT(old.engine().Snapshot(snapshot), IsOk());

  Harness restored;
  REQUIRE_THAT(restored.Deploy(v1), IsOk());
  CHECK(restored.Deploy(v2).code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE_THAT(restored.engine().DeployForRestore(v2), IsOk());
  REQUIRE_THAT(restored.engine().Restore(snapshot), IsOk());
  CHECK(restored.Report("onboarding")->SerializeAsString() ==
        old.Report("onboarding")->SerializeAsString());
  REQUIRE_THAT(restored.AdvanceTo(Harness::DefaultStart() + absl::Hours(24)), IsOk());
  REQUIRE(restored.Sent("ann").size() == 1);
  CHECK(restored.Sent("ann")[0].template_id == "welcome_v2");
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
