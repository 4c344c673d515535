// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Statistics: the intervals and tests against hand-computed values, and
// experiments (each goal across a split's arms) as Engine::Report, merged
// reports and `cairn sim` give them.

#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "google/protobuf/text_format.h"
#include "stats/experiments.h"
#include "stats/stats.h"
#include "testing/test_util.h"

namespace cairn::internal {
namespace {

using testing::Harness;
using testing::IsOk;
using testing::StatusOf;
using testing::TextJourney;

// Expected values were computed by hand from the textbook formulas (and, for
// chi-square, the closed forms of the survival function for even degrees of
// freedom: df 2 -> exp(-x/2), df 4 -> exp(-x/2)(1 + x/2)).
TEST_CASE("Wilson score interval") {
  Interval i = WilsonInterval(45, 100);
  CHECK(i.low == Approx(0.3561453797951198).margin(1e-9));
  CHECK(i.high == Approx(0.5475539700255787).margin(1e-9));
  i = WilsonInterval(0, 10);
  CHECK(i.low == Approx(0.0).margin(1e-9));
  CHECK(i.high == Approx(0.2775327998628892).margin(1e-9));
  i = WilsonInterval(10, 10);
  CHECK(i.low == Approx(0.7224672001371107).margin(1e-9));
  CHECK(i.high == Approx(1.0).margin(1e-9));
  i = WilsonInterval(0, 0);
  CHECK(i.low == 0);
  CHECK(i.high == 0);
}

TEST_CASE("Two-proportion z-test") {
  TestResult t = TwoProportionZTest(120, 1000, 90, 1000);
  REQUIRE(t.valid);
  CHECK(t.statistic == Approx(2.1882658846227234).margin(1e-6));
  CHECK(t.p_value == Approx(0.028650240398448486).margin(1e-6));
  CHECK_FALSE(TwoProportionZTest(0, 0, 5, 10).valid);
  CHECK_FALSE(TwoProportionZTest(0, 10, 0, 10).valid);  // no variance
}

TEST_CASE("Chi-square test of independence") {
  TestResult t = ChiSquareTest({30, 45, 60}, {300, 300, 300});
  REQUIRE(t.valid);
  CHECK(t.degrees_of_freedom == 2);
  CHECK(t.statistic == Approx(11.764705882352942).margin(1e-6));
  CHECK(t.p_value == Approx(0.002788217040049421).margin(1e-6));
  t = ChiSquareTest({10, 20, 30, 25, 15}, {100, 100, 100, 100, 100});
  CHECK(t.degrees_of_freedom == 4);
  CHECK(t.statistic == Approx(15.625).margin(1e-6));
  CHECK(t.p_value == Approx(0.003565935554687706).margin(1e-6));
  // For two arms, chi-square's p equals the z-test's.
  t = ChiSquareTest({120, 90}, {1000, 1000});
  CHECK(t.statistic == Approx(4.788507581803671).margin(1e-6));
  CHECK(t.p_value == Approx(0.02865024039844844).margin(1e-6));
  CHECK_FALSE(ChiSquareTest({1}, {10}).valid);
  CHECK(RegularizedGammaQ(1.5, 0) == 1);
}

// ---- Experiments ----

v1::ExperimentReport TwoArms(int64_t control_converted, int64_t control_reached,
                             int64_t other_converted, int64_t other_reached) {
  v1::ExperimentReport e;
  e.set_goal("paid");
  e.set_split_node_id("ab");
  v1::ArmReport* control = e.add_arms();
  control->set_variant("control");
  control->set_control(true);
  control->set_reached(control_reached);
  control->set_converted(control_converted);
  v1::ArmReport* other = e.add_arms();
  other->set_variant("coupon");
  other->set_reached(other_reached);
  other->set_converted(other_converted);
  ComputeExperiment(&e);
  return e;
}

TEST_CASE("Two arms: rates, Wilson intervals, lift, the z-test and a verdict") {
  const v1::ExperimentReport e = TwoArms(90, 1000, 120, 1000);
  CHECK(e.test() == "z");
  REQUIRE(e.valid());
  CHECK(e.statistic() == Approx(2.1882658846227234).margin(1e-6));
  CHECK(e.p_value() == Approx(0.028650240398448486).margin(1e-6));
  CHECK(e.degrees_of_freedom() == 0);
  CHECK(e.significant());
  const v1::ArmReport& control = e.arms(0);
  const v1::ArmReport& coupon = e.arms(1);
  CHECK(control.rate() == Approx(0.09).margin(1e-12));
  CHECK(control.rate_low() == Approx(0.07379614931508309).margin(1e-6));
  CHECK(control.rate_high() == Approx(0.1093417926430721).margin(1e-6));
  CHECK(coupon.rate_low() == Approx(0.10129926060130913).margin(1e-6));
  CHECK(coupon.rate_high() == Approx(0.14160907584771276).margin(1e-6));
  CHECK_FALSE(control.has_lift());
  REQUIRE(coupon.has_lift());
  CHECK(coupon.lift() == Approx(1.0 / 3).margin(1e-6));
  CHECK(e.leader() == "coupon");
  CHECK(e.verdict() ==
        "Significant (p = 0.0287): coupon converts better than control (+33.33% lift).");
}

TEST_CASE("No verdict for an empty arm or no variance and none below significance") {
  v1::ExperimentReport e = TwoArms(0, 0, 5, 10);
  CHECK_FALSE(e.valid());
  CHECK_FALSE(e.significant());
  CHECK(e.p_value() == 1);
  CHECK(e.statistic() == 0);
  CHECK_FALSE(e.arms(1).has_lift());  // The control's rate is 0.
  CHECK_THAT(e.verdict(), Catch::StartsWith("No verdict"));
  e = TwoArms(0, 10, 0, 10);
  CHECK_FALSE(e.valid());
  e = TwoArms(10, 100, 11, 100);
  CHECK(e.valid());
  CHECK_FALSE(e.significant());
  CHECK_THAT(e.verdict(), Catch::StartsWith("Not significant (p = 0."));
  // The control ahead, significantly.
  e = TwoArms(120, 1000, 90, 1000);
  CHECK(e.verdict() == "Significant (p = 0.0287): control converts better than every other arm.");
  CHECK(e.arms(1).lift() == Approx(-0.25).margin(1e-9));
}

TEST_CASE("Three arms: chi-square, lifts against the marked control, the leader") {
  v1::ExperimentReport e;
  const int64_t converted[] = {30, 45, 60};
  const char* names[] = {"ten_off", "control", "thirty_off"};
  for (int i = 0; i < 3; ++i) {
    v1::ArmReport* arm = e.add_arms();
    arm->set_variant(names[i]);
    arm->set_control(i == 1);
    arm->set_reached(300);
    arm->set_converted(converted[i]);
  }
  ComputeExperiment(&e);
  CHECK(e.test() == "chi_square");
  CHECK(e.degrees_of_freedom() == 2);
  CHECK(e.statistic() == Approx(11.764705882352942).margin(1e-6));
  CHECK(e.p_value() == Approx(0.002788217040049421).margin(1e-6));
  CHECK(e.arms(0).lift() == Approx(-1.0 / 3).margin(1e-6));
  CHECK_FALSE(e.arms(1).has_lift());
  CHECK(e.arms(2).lift() == Approx(1.0 / 3).margin(1e-6));
  CHECK(e.leader() == "thirty_off");
  // Chi-square says that the arms differ, not that each beats the control.
  CHECK(e.verdict() ==
        "Significant (p = 0.0028): the arms differ; thirty_off converts best (+33.33% against "
        "control).");
  // Without a marked control the first arm is the control.
  for (v1::ArmReport& arm : *e.mutable_arms()) arm.set_control(false);
  ComputeExperiment(&e);
  CHECK(e.arms(0).control());
  CHECK(e.leader() == "thirty_off");
  CHECK(e.arms(1).lift() == Approx(0.5).margin(1e-6));
}

constexpr char kCouponTest[] = R"pb(
  id: "coupon_test" version: 1
  settings { state: ACTIVE split_seed: 11
             goals { name: "paid_7d" conversion { event: "paid" } window { seconds: 604800 } } }
  nodes { id: "t" trigger { event { matcher { event: "lapsed" } } next: "ab" } }
  nodes { id: "ab" split { variants { name: "control" weight: 1 control: true next: "hold" }
                           variants { name: "coupon" weight: 1 next: "send" }
                           variants { name: "idle" weight: 0 next: "" } } }
  nodes { id: "send" action { channel: "push" template_id: "coupon" next: "hold" } }
  nodes { id: "hold" delay { duration { seconds: 691200 } next: "" } })pb";

TEST_CASE("Every arm of the split appears, in its order, with the goal's counts") {
  v1::Journey journey = TextJourney(kCouponTest);
  // (A weight of 0 does not compile; the report is made by hand here.)
  v1::VersionReport version;
  v1::GoalReport* goal = version.add_goals();
  goal->set_name("paid_7d");
  v1::GoalCounts* counts = goal->add_by_variant();
  counts->set_split_node_id("ab");
  counts->set_variant("coupon");
  counts->set_reached(50);
  counts->set_converted(10);
  counts = goal->add_by_variant();
  counts->set_split_node_id("ab");
  counts->set_variant("control");
  counts->set_reached(40);
  counts->set_converted(4);
  counts = goal->add_by_variant();  // Not a split of this journey.
  counts->set_split_node_id("gone");
  counts->set_variant("x");
  counts->set_reached(1);
  AddExperiments(journey, &version);
  REQUIRE(version.experiments_size() == 1);
  const v1::ExperimentReport& e = version.experiments(0);
  CHECK(e.goal() == "paid_7d");
  CHECK(e.split_node_id() == "ab");
  REQUIRE(e.arms_size() == 3);
  CHECK(e.arms(0).variant() == "control");
  CHECK(e.arms(0).reached() == 40);
  CHECK(e.arms(1).variant() == "coupon");
  CHECK(e.arms(1).converted() == 10);
  CHECK(e.arms(2).variant() == "idle");
  CHECK(e.arms(2).reached() == 0);
  // Three arms, one empty: the test is undefined.
  CHECK(e.test() == "chi_square");
  CHECK_FALSE(e.valid());
}

TEST_CASE("A host reads the statistics from Report() and merged halves equal the whole") {
  v1::Journey journey = TextJourney(kCouponTest);
  journey.mutable_nodes(1)->mutable_split()->mutable_variants()->RemoveLast();
  Harness h;
  REQUIRE_THAT(h.Deploy(journey), IsOk());
  for (int i = 0; i < 400; ++i) {
    const std::string u = absl::StrCat("u", i);
    REQUIRE_THAT(h.Event(u, "lapsed"), IsOk());
    // Pays: one in three of those sent a coupon, one in six of the others.
    const bool coupon = h.SentTo(u, "push") == 1;
    if (i % (coupon ? 3 : 6) == 0) REQUIRE_THAT(h.Event(u, "paid"), IsOk());
  }
  // A journey goal counts an arm when it ends: converted, or expired after
  // its 7 days.
  REQUIRE_THAT(h.Advance(absl::Hours(24 * 8)), IsOk());
  absl::StatusOr<v1::JourneyReport> report = h.Report("coupon_test");
  REQUIRE_THAT(StatusOf(report), IsOk());
  REQUIRE(report->versions(0).experiments_size() == 1);
  const v1::ExperimentReport& e = report->versions(0).experiments(0);
  CHECK(e.goal() == "paid_7d");
  CHECK(e.arms(0).reached() + e.arms(1).reached() == 400);
  CHECK(e.arms(1).rate() > e.arms(0).rate());
  CHECK(e.leader() == "coupon");

  // Two engines, each with half the subjects, merged: the same numbers
  // bit for bit, the statistics computed again from the sums.
  Harness odd, even;
  REQUIRE_THAT(odd.Deploy(journey), IsOk());
  REQUIRE_THAT(even.Deploy(journey), IsOk());
  for (int i = 0; i < 400; ++i) {
    Harness& x = i % 2 == 0 ? even : odd;
    const std::string u = absl::StrCat("u", i);
    REQUIRE_THAT(x.Event(u, "lapsed"), IsOk());
    const bool coupon = x.SentTo(u, "push") == 1;
    if (i % (coupon ? 3 : 6) == 0) REQUIRE_THAT(x.Event(u, "paid"), IsOk());
  }
  REQUIRE_THAT(odd.Advance(absl::Hours(24 * 8)), IsOk());
  REQUIRE_THAT(even.Advance(absl::Hours(24 * 8)), IsOk());
  const v1::JourneyReport halves[] = {*odd.Report("coupon_test"), *even.Report("coupon_test")};
  absl::StatusOr<v1::JourneyReport> merged = MergeJourneyReports(halves);
  REQUIRE_THAT(StatusOf(merged), IsOk());
  CHECK(merged->versions(0).experiments(0).SerializeAsString() == e.SerializeAsString());
}

constexpr char kWinBack[] = R"pb(
  id: "win_back" version: 1
  settings { state: ACTIVE
             goals { name: "paid_7d" conversion { event: "paid" } window { seconds: 604800 } } }
  nodes { id: "t" trigger { event { matcher { event: "lapsed" } } next: "send" } }
  nodes { id: "send" action { channel: "push" template_id: "come_back" next: "paid" } }
  nodes { id: "paid" goal { conversion { event: "paid" } window { seconds: 86400 }
                            on_converted: "" on_expired: "" } })pb";

TEST_CASE("With a global holdout each goal compares those held out with everyone else") {
  EngineOptions options;
  options.start_time = Harness::DefaultStart();
  options.holdout_percent = 30;
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(kWinBack), IsOk());
  int held_out = 0;
  for (int i = 0; i < 600; ++i) {
    const std::string u = absl::StrCat("u", i);
    REQUIRE_THAT(h.Event(u, "lapsed"), IsOk());
    // Held out: sent nothing. The messaged pay one in three, the rest one
    // in eight.
    const bool messaged = h.SentTo(u, "push") == 1;
    held_out += messaged ? 0 : 1;
    if (i % (messaged ? 3 : 8) == 0) REQUIRE_THAT(h.Event(u, "paid"), IsOk());
  }
  REQUIRE(held_out > 100);
  REQUIRE(held_out < 260);
  REQUIRE_THAT(h.Advance(absl::Hours(24 * 8)), IsOk());
  const v1::VersionReport v = h.Report("win_back")->versions(0);
  for (const v1::GoalReport& goal : v.goals()) {
    INFO(goal.name());
    REQUIRE(goal.has_held_out());
    CHECK(goal.held_out().reached() == held_out);
    CHECK(goal.held_out().reached() + goal.not_held_out().reached() == 600);
    CHECK(goal.held_out().converted() + goal.not_held_out().converted() ==
          goal.overall().converted());
  }
  // One holdout experiment per goal, before any split's.
  REQUIRE(v.experiments_size() == 2);
  for (const v1::ExperimentReport& e : v.experiments()) {
    INFO(e.goal());
    CHECK(e.holdout());
    CHECK(e.split_node_id().empty());
    REQUIRE(e.arms_size() == 2);
    CHECK(e.arms(0).variant() == "held_out");
    CHECK(e.arms(0).control());
    CHECK(e.arms(1).variant() == "not_held_out");
    CHECK(e.arms(1).lift() > 1);  // 1/3 against 1/8.
    CHECK(e.significant());
    CHECK(e.leader() == "not_held_out");
  }

  // The counts survive a snapshot: the restored engine reports the same.
  std::ostringstream out;
  REQUIRE_THAT(h.engine().Snapshot(out), IsOk());
  Harness restored(h.now(), options);
  REQUIRE_THAT(restored.DeployText(kWinBack), IsOk());
  std::istringstream in(out.str());
  REQUIRE_THAT(restored.engine().Restore(in), IsOk());
  CHECK(restored.Report("win_back")->SerializeAsString() ==
        h.Report("win_back")->SerializeAsString());

  // Without a holdout there are no holdout counts and no such experiment.
  Harness plain;
  REQUIRE_THAT(plain.DeployText(kWinBack), IsOk());
  REQUIRE_THAT(plain.Event("u1", "lapsed"), IsOk());
  REQUIRE_THAT(plain.Advance(absl::Hours(24 * 8)), IsOk());
  const v1::VersionReport p = plain.Report("win_back")->versions(0);
  CHECK_FALSE(p.goals(0).has_held_out());
  CHECK(p.experiments_size() == 0);
}

}  // namespace
}  // namespace cairn::internal
