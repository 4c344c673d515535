// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Winner roll-out (Split.rule): the judgement against hand-computed
// values, the compiler's checks, and the diamond-member coupon test in an
// engine: checks on timers at exact engine times, no decision below the
// minimum sample or duration, new entries to the winner while assigned
// subjects keep their arm, a winning control, giving up, and snapshots
// across the decision. Bandit splits (Split.bandit): the random stream,
// Thompson sampling's probabilities, convergence to the better arm,
// reproducibility for a seed, snapshots, and the compiler's checks.

#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "compile/journey_graph.h"
#include "stats/experiments.h"
#include "testing/snapshot_records.h"
#include "testing/test_util.h"
#include "util/proto_time.h"
#include "util/record_io.h"

namespace cairn {
namespace {

using internal::ArmCounts;
using internal::JudgeArms;
using internal::RolloutJudgement;
using testing::Harness;
using testing::IsOk;
using testing::ProblemsToString;
using testing::StatusOf;
using testing::TextJourney;
using testing::Utc;

// ---- The judgement ----

// p-values by hand: pooled two-proportion z-tests, 2 * (1 - Phi(|z|)).
TEST_CASE("An arm better than the control at alpha wins and the sample minimum holds it back") {
  // 120/1000 against 90/1000: z = 2.18827, p = 0.0286502.
  RolloutJudgement j = JudgeArms({{1000, 90}, {1000, 120}}, 0, 0.05, 100);
  CHECK(j.winner == 1);
  CHECK(j.alpha_per_test == Approx(0.05));
  CHECK(j.p_values[0] == -1);
  CHECK(j.p_values[1] == Approx(0.028650240398448486).margin(1e-6));
  // The same counts, but each arm must have 1001.
  CHECK(JudgeArms({{1000, 90}, {1000, 120}}, 0, 0.05, 1001).winner == -1);
  // At alpha 0.01 the difference is not enough.
  CHECK(JudgeArms({{1000, 90}, {1000, 120}}, 0, 0.01, 100).winner == -1);
}

TEST_CASE("With three arms each is tested at alpha halved and the best significant arm wins") {
  // Arm 1 as above (p = 0.0287 > 0.025): not significant after the
  // correction; arm 2, 140/1000 against 90/1000: z = 3.50457, p = 0.000457.
  RolloutJudgement j = JudgeArms({{1000, 90}, {1000, 120}, {1000, 140}}, 0, 0.05, 100);
  CHECK(j.alpha_per_test == Approx(0.025));
  CHECK(j.p_values[1] == Approx(0.028650240398448486).margin(1e-6));
  CHECK(j.p_values[2] == Approx(0.0004573493093117994).margin(1e-6));
  CHECK(j.winner == 2);
  // Alone, arm 1 wins nothing.
  CHECK(JudgeArms({{1000, 90}, {1000, 120}, {1000, 95}}, 0, 0.05, 100).winner == -1);
  // Two significant arms: the higher rate wins, wherever it sits.
  CHECK(JudgeArms({{1000, 160}, {1000, 90}, {1000, 140}}, 1, 0.05, 100).winner == 0);
}

TEST_CASE("The control wins only when every other arm converts significantly worse") {
  CHECK(JudgeArms({{1000, 200}, {1000, 100}, {1000, 120}}, 0, 0.05, 100).winner == 0);
  // One arm no different from the control: no decision.
  CHECK(JudgeArms({{1000, 200}, {1000, 100}, {1000, 195}}, 0, 0.05, 100).winner == -1);
  // No variance at all: the test is undefined and nothing is decided.
  const RolloutJudgement none = JudgeArms({{500, 0}, {500, 0}}, 0, 0.05, 100);
  CHECK(none.winner == -1);
  CHECK(none.p_values[1] == -1);
}

// ---- The compiler ----

// The diamond-member coupon test: lapsed members get nothing (control), 20%
// off, or 30 off a 300 order; judged on paying within two days.
constexpr char kCoupons[] = R"pb(
  id: "coupons" version: 1
  settings { state: ACTIVE reentry { mode: AFTER_EXIT }
             goals { name: "paid_2d" conversion { event: "paid" } window { seconds: 172800 } } }
  nodes { id: "lapsed" trigger { event { matcher { event: "lapsed" } } next: "ab" } }
  nodes { id: "ab" split {
    variants { name: "control" weight: 20 control: true }
    variants { name: "pct20" weight: 40 next: "send_pct20" }
    variants { name: "off30" weight: 40 next: "send_off30" }
    rule { goal: "paid_2d" min_per_arm: 40 min_duration { seconds: 259200 }
           check_every { seconds: 86400 } RULE_EXTRA } } }
  nodes { id: "send_pct20" action { channel: "push" template_id: "pct20" } }
  nodes { id: "send_off30" action { channel: "push" template_id: "off30" } })pb";

std::string Coupons(const std::string& extra = "") {
  return absl::StrReplaceAll(kCoupons, {{"RULE_EXTRA", extra}});
}

std::string ProblemsOf(const std::string& text) {
  return ProblemsToString(ValidateJourney(TextJourney(text)));
}

TEST_CASE("The compiler names each bad field of a split rule") {
  CHECK(ProblemsOf(Coupons()).empty());
  CHECK_THAT(ProblemsOf(absl::StrReplaceAll(Coupons(), {{"control: true", ""}})),
             Catch::Contains("node ab, field split.rule: a split with a rule needs a control arm"));
  CHECK_THAT(ProblemsOf(absl::StrReplaceAll(Coupons(), {{"goal: \"paid_2d\"", "goal: \"payd\""}})),
             Catch::Contains("field split.rule.goal: \"payd\" is neither a journey goal nor a "
                             "goal node of this journey"));
  CHECK_THAT(ProblemsOf(absl::StrReplaceAll(Coupons(), {{"goal: \"paid_2d\"", ""}})),
             Catch::Contains("field split.rule.goal: rule has no goal"));
  CHECK_THAT(ProblemsOf(Coupons("alpha: 0.7")),
             Catch::Contains("field split.rule.alpha: alpha is 0.7; it must be in (0, 0.5]"));
  CHECK_THAT(ProblemsOf(Coupons("control_percent: 100")),
             Catch::Contains("field split.rule.control_percent: control_percent is 100"));
  CHECK_THAT(ProblemsOf(absl::StrReplaceAll(Coupons(), {{"min_per_arm: 40", "min_per_arm: -1"}})),
             Catch::Contains("field split.rule.min_per_arm: min_per_arm is -1"));
  CHECK_THAT(ProblemsOf(absl::StrReplaceAll(Coupons(), {{"seconds: 86400", "seconds: 30"}})),
             Catch::Contains("field split.rule.check_every: check_every is 30s; it must be at "
                             "least 1m"));
  CHECK_THAT(ProblemsOf(Coupons("max_duration { seconds: 86400 }")),
             Catch::Contains("field split.rule.max_duration: max_duration is 1d, shorter than "
                             "min_duration (3d)"));
}

TEST_CASE("A rule's goal node must be one the split leads to") {
  constexpr char kGoalBefore[] = R"pb(
    id: "g" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "lapsed" } } next: "bought" } }
    nodes { id: "bought" goal { conversion { event: "paid" } window { seconds: 3600 }
                                on_converted: "ab" on_expired: "ab" } }
    nodes { id: "ab" split {
      variants { name: "a" weight: 1 control: true next: "after" }
      variants { name: "b" weight: 1 next: "after" }
      rule { goal: "GOAL" } } }
    nodes { id: "after" goal { conversion { event: "paid" } window { seconds: 3600 } } })pb";
  CHECK_THAT(ProblemsOf(absl::StrReplaceAll(kGoalBefore, {{"GOAL", "bought"}})),
             Catch::Contains("goal node \"bought\" is not reached from split \"ab\""));
  CHECK(ProblemsOf(absl::StrReplaceAll(kGoalBefore, {{"GOAL", "after"}})).empty());
  CHECK_THAT(ProblemsOf(absl::StrReplaceAll(kGoalBefore, {{"GOAL", "t"}})),
             Catch::Contains("\"t\" is neither a journey goal nor a goal node"));
}

// ---- In the engine ----

const absl::Time kStart = Utc(2026, 12, 7);

// Subject `i` of a wave pays at once when its arm's rate says so: off30
// one in two, pct20 one in four, control one in ten (or, with
// `control_best`, control one in two and the others one in twenty).
void EnterWave(Harness* h, const std::string& prefix, int n, bool control_best = false) {
  for (int i = 0; i < n; ++i) {
    const std::string u = absl::StrCat(prefix, i);
    REQUIRE_THAT(h->Event(u, "lapsed"), IsOk());
    const std::vector<Message> sent = h->Sent(u, "push");
    const std::string arm = sent.empty() ? "control" : sent.back().template_id;
    const int every = control_best ? (arm == "control" ? 2 : 20)
                                   : (arm == "off30" ? 2 : arm == "pct20" ? 4 : 10);
    if (i % every == 0) REQUIRE_THAT(h->Event(u, "paid"), IsOk());
  }
}

// The arm subject `u` was last assigned (by its sends).
std::string ArmOf(const Harness& h, const std::string& u) {
  const std::vector<Message> sent = h.Sent(u, "push");
  return sent.empty() ? "control" : sent.back().template_id;
}

v1::RolloutReport RolloutOf(const Harness& h) {
  absl::StatusOr<v1::JourneyReport> report = h.Report("coupons");
  REQUIRE(report.ok());
  REQUIRE(report->versions(0).rollouts_size() == 1);
  return report->versions(0).rollouts(0);
}

TEST_CASE("The rule checks on timers and decides at the first check past the minimum duration") {
  Harness h(kStart);
  REQUIRE_THAT(h.DeployText(Coupons()), IsOk());
  // A host that only moves time learns of the first check.
  CHECK(h.engine().next_timer_time() == kStart + absl::Hours(24));
  EnterWave(&h, "a", 300);
  v1::RolloutReport r = RolloutOf(h);
  CHECK(r.status() == "testing");
  CHECK(r.checks() == 0);
  CHECK(r.next_check() == "2026-12-08T00:00:00+00:00");
  // Every goal resolves by day 2; the third check is the first allowed to
  // decide.
  REQUIRE_THAT(h.AdvanceTo(kStart + absl::Hours(72) - absl::Nanoseconds(1)), IsOk());
  r = RolloutOf(h);
  CHECK(r.status() == "testing");
  CHECK(r.checks() == 2);
  CHECK(r.arms(2).reached() >= 40);
  REQUIRE_THAT(h.AdvanceTo(kStart + absl::Hours(72)), IsOk());
  r = RolloutOf(h);
  CHECK(r.status() == "decided");
  CHECK(r.winner() == "off30");
  CHECK(r.checks() == 3);
  CHECK(r.concluded_at() == "2026-12-10T00:00:00+00:00");
  CHECK(r.next_check().empty());
  CHECK(r.alpha_per_test() == Approx(0.025));
  REQUIRE(r.arms_size() == 3);
  CHECK(r.arms(0).control());
  CHECK_FALSE(r.arms(0).has_p_value());
  CHECK(r.arms(2).p_value() < 0.025);
  CHECK(r.arms(0).reached() + r.arms(1).reached() + r.arms(2).reached() == 300);
  CHECK(r.arms(0).share_before() == Approx(20));
  CHECK(r.arms(1).share_before() == Approx(40));
  CHECK(r.arms(2).share_before() == Approx(40));
  CHECK(r.arms(0).share_after() == Approx(20));
  CHECK(r.arms(1).share_after() == Approx(0));
  CHECK(r.arms(2).share_after() == Approx(80));
  // No more checks: the next timer is not one.
  CHECK(h.engine().next_timer_time() == absl::InfiniteFuture());
}

TEST_CASE("After the decision new entries go to the winner and the control keeps its subjects") {
  Harness h(kStart);
  REQUIRE_THAT(h.DeployText(Coupons()), IsOk());
  EnterWave(&h, "a", 300);
  std::map<std::string, std::string> before;
  for (int i = 0; i < 300; ++i) before[absl::StrCat("a", i)] = ArmOf(h, absl::StrCat("a", i));
  REQUIRE_THAT(h.AdvanceTo(kStart + absl::Hours(72)), IsOk());
  REQUIRE(RolloutOf(h).winner() == "off30");
  // The same subjects enter again (each has exited), and new ones come.
  int control = 0, pct20 = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string u = absl::StrCat("a", i);
    REQUIRE_THAT(h.Event(u, "lapsed"), IsOk());
    const std::string now = ArmOf(h, u);
    // Who had the control or the winner has it still; pct20's go to off30.
    CHECK(now == (before[u] == "control" ? "control" : "off30"));
  }
  for (int i = 0; i < 1000; ++i) {
    const std::string u = absl::StrCat("b", i);
    REQUIRE_THAT(h.Event(u, "lapsed"), IsOk());
    const std::string arm = ArmOf(h, u);
    control += arm == "control";
    pct20 += arm == "pct20";
  }
  CHECK(pct20 == 0);
  CHECK(control > 150);  // About 20% of 1,000.
  CHECK(control < 250);
}

TEST_CASE("control_percent sets the control's share after the decision") {
  Harness h(kStart);
  REQUIRE_THAT(h.DeployText(Coupons("control_percent: 5")), IsOk());
  EnterWave(&h, "a", 300);
  REQUIRE_THAT(h.AdvanceTo(kStart + absl::Hours(72)), IsOk());
  const v1::RolloutReport r = RolloutOf(h);
  REQUIRE(r.winner() == "off30");
  CHECK(r.arms(0).share_after() == Approx(5));
  CHECK(r.arms(2).share_after() == Approx(95));
  int control = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = absl::StrCat("b", i);
    REQUIRE_THAT(h.Event(u, "lapsed"), IsOk());
    control += ArmOf(h, u) == "control";
  }
  CHECK(control > 20);
  CHECK(control < 90);
}

TEST_CASE("A control that beats every arm takes every new entry") {
  Harness h(kStart);
  REQUIRE_THAT(h.DeployText(Coupons()), IsOk());
  EnterWave(&h, "a", 400, /*control_best=*/true);
  REQUIRE_THAT(h.AdvanceTo(kStart + absl::Hours(72)), IsOk());
  const v1::RolloutReport r = RolloutOf(h);
  CHECK(r.status() == "decided");
  CHECK(r.winner() == "control");
  CHECK(r.arms(0).share_after() == Approx(100));
  for (int i = 0; i < 100; ++i) {
    const std::string u = absl::StrCat("b", i);
    REQUIRE_THAT(h.Event(u, "lapsed"), IsOk());
    CHECK(h.Sent(u, "push").empty());
  }
}

TEST_CASE("No decision below the minimum sample or duration and max_duration gives up") {
  SECTION("sample") {
    Harness h(kStart);
    REQUIRE_THAT(h.DeployText(absl::StrReplaceAll(
                     Coupons(), {{"min_per_arm: 40", "min_per_arm: 1000"}})),
                 IsOk());
    EnterWave(&h, "a", 300);
    REQUIRE_THAT(h.AdvanceTo(kStart + absl::Hours(24 * 10)), IsOk());
    const v1::RolloutReport r = RolloutOf(h);
    CHECK(r.status() == "testing");
    CHECK(r.checks() == 10);
    CHECK(r.arms(2).p_value() < 0.025);  // Significant, but too few.
  }
  SECTION("duration") {
    Harness h(kStart);
    REQUIRE_THAT(h.DeployText(absl::StrReplaceAll(
                     Coupons(), {{"seconds: 259200", "seconds: 2592000"}})),
                 IsOk());
    EnterWave(&h, "a", 300);
    REQUIRE_THAT(h.AdvanceTo(kStart + absl::Hours(24 * 29)), IsOk());
    CHECK(RolloutOf(h).status() == "testing");
    REQUIRE_THAT(h.AdvanceTo(kStart + absl::Hours(24 * 30)), IsOk());
    CHECK(RolloutOf(h).status() == "decided");
  }
  SECTION("give up") {
    Harness h(kStart);
    REQUIRE_THAT(h.DeployText(absl::StrReplaceAll(
                     Coupons("max_duration { seconds: 432000 }"),
                     {{"min_per_arm: 40", "min_per_arm: 1000"}})),
                 IsOk());
    EnterWave(&h, "a", 300);
    REQUIRE_THAT(h.AdvanceTo(kStart + absl::Hours(24 * 10)), IsOk());
    const v1::RolloutReport r = RolloutOf(h);
    CHECK(r.status() == "no_winner");
    CHECK(r.checks() == 5);
    CHECK(r.concluded_at() == "2026-12-12T00:00:00+00:00");
    CHECK(r.arms(1).share_after() == Approx(40));
  }
}

// Everything a host can see of a harness after the snapshot: sends and
// the report.
std::string Observed(const Harness& h, size_t from_send) {
  std::string out;
  const std::vector<Message> sent = h.Sent();
  for (size_t i = from_send; i < sent.size(); ++i) {
    absl::StrAppend(&out, sent[i].subject_id, " ", sent[i].template_id, "\n");
  }
  absl::StrAppend(&out, h.Report("coupons")->SerializeAsString());
  return out;
}

TEST_CASE("A snapshot before or after the decision restores and continues identically") {
  for (const absl::Duration cut : {absl::Hours(48), absl::Hours(80)}) {
    Harness h(kStart);
    REQUIRE_THAT(h.DeployText(Coupons()), IsOk());
    EnterWave(&h, "a", 300);
    REQUIRE_THAT(h.AdvanceTo(kStart + cut), IsOk());
    std::ostringstream out;
    REQUIRE_THAT(h.engine().Snapshot(out), IsOk());
    Harness restored(h.now());
    REQUIRE_THAT(restored.DeployText(Coupons()), IsOk());
    std::istringstream in(out.str());
    REQUIRE_THAT(restored.engine().Restore(in), IsOk());
    const size_t sent_before = h.Sent().size();
    for (Harness* x : {&h, &restored}) {
      REQUIRE_THAT(x->AdvanceTo(kStart + absl::Hours(96)), IsOk());
      EnterWave(x, "b", 200);
    }
    CHECK(RolloutOf(restored).status() == "decided");
    CHECK(RolloutOf(restored).concluded_at() == "2026-12-10T00:00:00+00:00");
    CHECK(Observed(restored, 0) == Observed(h, sent_before));
  }
}

// `records` written back with `edit` applied to the rule state of the first
// version's counters.
std::string Edited(std::vector<v1::SnapshotRecord> records,
                   const std::function<void(v1::SnapshotVersionCounters*)>& edit) {
  for (v1::SnapshotRecord& r : records) {
    if (r.has_counters()) edit(r.mutable_counters());
  }
  return testing::WriteSnapshotRecords(records);
}

TEST_CASE("A restore refuses a rule state no engine could have written") {
  Harness h(kStart);
  REQUIRE_THAT(h.DeployText(Coupons()), IsOk());
  EnterWave(&h, "a", 300);
  for (const absl::Duration at : {absl::Hours(36), absl::Hours(80)}) {
    REQUIRE_THAT(h.AdvanceTo(kStart + at), IsOk());
    const std::vector<v1::SnapshotRecord> records = testing::SnapshotRecordsOf(h.engine());
    const bool decided = at > absl::Hours(72);
    using Edit = std::function<void(v1::SnapshotRollout*)>;
    const std::vector<std::pair<std::string, Edit>> edits = {
        {"status 3", [](v1::SnapshotRollout* r) { r->set_status(3); }},
        {"winner out of range", [&](v1::SnapshotRollout* r) { r->set_winner(decided ? 3 : 1); }},
        {"a modulus of neither 100 nor the total",
         [](v1::SnapshotRollout* r) { r->set_modulus(7); }},
        {"the control's points past the modulus",
         [](v1::SnapshotRollout* r) { r->set_control_end(1000); }},
        {"converted above reached",
         [](v1::SnapshotRollout* r) { r->set_last_converted(0, r->last_reached(0) + 1); }},
        {"an arm missing", [](v1::SnapshotRollout* r) { r->mutable_last_reached()->RemoveLast(); }},
        {"started after engine time",
         [](v1::SnapshotRollout* r) { r->set_started_nanos(r->started_nanos() + 400'000'000'000'000); }},
        {"a check due before engine time, or a decision after it",
         [&](v1::SnapshotRollout* r) {
           if (decided) {
             r->set_concluded_nanos(r->concluded_nanos() + 86'400'000'000'000);
           } else {
             r->set_next_check_nanos(r->next_check_nanos() - 86'400'000'000'000);
           }
         }},
        {"a check off the period", [&](v1::SnapshotRollout* r) {
           r->set_status(0);
           r->set_winner(-1);
           r->set_modulus(0);
           r->set_next_check_nanos(absl::ToUnixNanos(kStart + at + absl::Hours(1)));
         }},
    };
    for (const auto& [name, edit] : edits) {
      INFO(name << (decided ? ", decided" : ", testing"));
      const std::string bytes = Edited(records, [&](v1::SnapshotVersionCounters* c) {
        REQUIRE(c->rollouts_size() == 1);
        edit(c->mutable_rollouts(0));
      });
      Harness restored(h.now());
      REQUIRE_THAT(restored.DeployText(Coupons()), IsOk());
      std::istringstream in(bytes);
      const absl::Status status = restored.engine().Restore(in);
      CHECK(status.code() == absl::StatusCode::kDataLoss);
      CHECK_THAT(std::string(status.message()), Catch::Contains("split rule"));
      // The engine that refused is fresh and usable, its rule testing.
      REQUIRE_THAT(restored.Event("z", "lapsed"), IsOk());
      CHECK(RolloutOf(restored).status() == "testing");
      CHECK(RolloutOf(restored).checks() == 0);
    }
    // A snapshot with no rule state (written before the rule existed): the
    // rule starts testing at the restored engine time.
    const std::string bytes =
        Edited(records, [](v1::SnapshotVersionCounters* c) { c->clear_rollouts(); });
    Harness restored(h.now());
    REQUIRE_THAT(restored.DeployText(Coupons()), IsOk());
    std::istringstream in(bytes);
    REQUIRE_THAT(restored.engine().Restore(in), IsOk());
    const v1::RolloutReport r = RolloutOf(restored);
    CHECK(r.status() == "testing");
    CHECK(r.next_check() == internal::FormatTimeUtc(h.now() + absl::Hours(24)));
  }
}

TEST_CASE("A clock jump of years makes every check as if one by one") {
  // Never decides: each daily check of three years is counted.
  Harness testing(kStart);
  REQUIRE_THAT(testing.DeployText(absl::StrReplaceAll(
                   Coupons(), {{"min_per_arm: 40", "min_per_arm: 1000"}})),
               IsOk());
  EnterWave(&testing, "a", 300);
  REQUIRE_THAT(testing.AdvanceTo(kStart + absl::Hours(24 * 1095)), IsOk());
  CHECK(RolloutOf(testing).checks() == 1095);
  CHECK(RolloutOf(testing).next_check() == internal::FormatTimeUtc(kStart + absl::Hours(24 * 1096)));
  // Decides on the third day, as when time moves a day at a time: the
  // goals' windows end (timers) between the checks.
  Harness jump(kStart), steps(kStart);
  for (Harness* x : {&jump, &steps}) {
    REQUIRE_THAT(x->DeployText(Coupons()), IsOk());
    EnterWave(x, "a", 300);
  }
  REQUIRE_THAT(jump.AdvanceTo(kStart + absl::Hours(24 * 1095)), IsOk());
  for (int day = 1; day <= 1095; ++day) {
    REQUIRE_THAT(steps.AdvanceTo(kStart + absl::Hours(24 * day)), IsOk());
  }
  CHECK(RolloutOf(jump).concluded_at() == "2026-12-10T00:00:00+00:00");
  CHECK(RolloutOf(jump).SerializeAsString() == RolloutOf(steps).SerializeAsString());
}

// ---- Bandits ----

TEST_CASE("The counter-based stream repeats for a key and its draws have the right means") {
  internal::CounterRandom a(42), b(42), c(43);
  for (int i = 0; i < 10; ++i) {
    const double x = a.Uniform();
    CHECK(x == b.Uniform());
    CHECK(x >= 0);
    CHECK(x < 1);
  }
  CHECK(a.Uniform() != c.Uniform());
  internal::CounterRandom r(7);
  double gamma = 0, beta = 0, normal = 0;
  constexpr int kN = 20000;
  for (int i = 0; i < kN; ++i) {
    gamma += r.Gamma(3.5);
    beta += r.Beta(2, 6);
    normal += r.Normal();
  }
  CHECK(gamma / kN == Approx(3.5).margin(0.05));
  CHECK(beta / kN == Approx(0.25).margin(0.005));
  CHECK(normal / kN == Approx(0).margin(0.03));
}

TEST_CASE("The probability that each arm converts best") {
  internal::CounterRandom r(1);
  std::vector<double> p = internal::ProbabilityBest({{1000, 100}, {1000, 100}}, 20000, &r);
  CHECK(p[0] + p[1] == Approx(1));
  CHECK(p[0] == Approx(0.5).margin(0.02));
  p = internal::ProbabilityBest({{1000, 100}, {1000, 160}, {1000, 90}}, 20000, &r);
  CHECK(p[1] > 0.999);
  // With nothing seen, every arm alike.
  p = internal::ProbabilityBest({{0, 0}, {0, 0}, {0, 0}, {0, 0}}, 40000, &r);
  for (double x : p) CHECK(x == Approx(0.25).margin(0.01));
}

constexpr char kBandit[] = R"pb(
  id: "subject_lines" version: 1
  settings { state: ACTIVE split_seed: SEED
             goals { name: "opened_1d" conversion { event: "open" } window { seconds: 86400 } } }
  nodes { id: "t" trigger { event { matcher { event: "signup" } } next: "ab" } }
  nodes { id: "ab" split {
    variants { name: "plain" weight: 50 next: "send_plain" }
    variants { name: "bold" weight: 50 next: "send_bold" }
    bandit { goal: "opened_1d" update_every { seconds: 86400 } draws: 2000 } } }
  nodes { id: "send_plain" action { channel: "push" template_id: "plain" } }
  nodes { id: "send_bold" action { channel: "push" template_id: "bold" } })pb";

std::string Bandit(int seed = 1) {
  return absl::StrReplaceAll(kBandit, {{"SEED", absl::StrCat(seed)}});
}

v1::RolloutReport BanditOf(const Harness& h) {
  absl::StatusOr<v1::JourneyReport> report = h.Report("subject_lines");
  REQUIRE(report.ok());
  REQUIRE(report->versions(0).rollouts_size() == 1);
  return report->versions(0).rollouts(0);
}

// Day `day`'s 200 sign-ups: "bold" opens three times in ten, "plain" once.
void SignUps(Harness* h, int day) {
  for (int i = 0; i < 200; ++i) {
    const std::string u = absl::StrCat("d", day, "_", i);
    REQUIRE_THAT(h->Event(u, "signup"), IsOk());
    const std::vector<Message> sent = h->Sent(u, "push");
    REQUIRE(sent.size() == 1);
    if (i % 10 < (sent[0].template_id == "bold" ? 3 : 1)) {
      REQUIRE_THAT(h->Event(u, "open"), IsOk());
    }
  }
}

TEST_CASE("A bandit moves new entries to the better arm day by day and reproducibly") {
  Harness h(kStart), again(kStart), other(kStart);
  REQUIRE_THAT(h.DeployText(Bandit()), IsOk());
  REQUIRE_THAT(again.DeployText(Bandit()), IsOk());
  REQUIRE_THAT(other.DeployText(Bandit(2)), IsOk());
  v1::RolloutReport first, first_other;
  for (int day = 0; day < 10; ++day) {
    for (Harness* x : {&h, &again, &other}) {
      SignUps(x, day);
      REQUIRE_THAT(x->AdvanceTo(kStart + absl::Hours(24 * (day + 1))), IsOk());
    }
    if (day == 0) {
      first = BanditOf(h);
      first_other = BanditOf(other);
    }
  }
  const v1::RolloutReport r = BanditOf(h);
  CHECK(r.kind() == "bandit");
  CHECK(r.status() == "adapting");
  CHECK(r.checks() == 10);
  CHECK(r.next_check() == "2026-12-18T00:00:00+00:00");
  CHECK(r.arms(0).share_before() == Approx(50));
  // Bold opens three times as often: nearly every new entry goes to it,
  // but plain keeps the 1% floor, so it is still measured.
  CHECK(r.arms(1).probability_best() > 0.99);
  CHECK(r.arms(1).share_after() > 95);
  CHECK(r.arms(0).share_after() >= 1);
  CHECK(r.arms(1).posterior_mean() > r.arms(0).posterior_mean());
  CHECK(r.regret() > 0);
  // The last day's sign-ups were nearly all sent "bold".
  int bold = 0;
  for (int i = 0; i < 200; ++i) bold += h.Sent(absl::StrCat("d9_", i), "push")[0].template_id == "bold";
  CHECK(bold > 180);
  // The same inputs give the same shares; another seed other draws (seen
  // after the first update, before the evidence leaves no doubt), and the
  // same end.
  CHECK(BanditOf(again).SerializeAsString() == r.SerializeAsString());
  CHECK(first.arms(1).probability_best() > 0.5);
  CHECK(first_other.arms(1).probability_best() != first.arms(1).probability_best());
  CHECK(BanditOf(other).arms(1).share_after() > 95);
}

TEST_CASE("A bandit's updates over a clock jump equal its updates one by one") {
  Harness jump(kStart), steps(kStart);
  for (Harness* x : {&jump, &steps}) {
    REQUIRE_THAT(x->DeployText(Bandit()), IsOk());
    SignUps(x, 0);
  }
  REQUIRE_THAT(jump.AdvanceTo(kStart + absl::Hours(24 * 400)), IsOk());
  for (int day = 1; day <= 400; ++day) {
    REQUIRE_THAT(steps.AdvanceTo(kStart + absl::Hours(24 * day)), IsOk());
  }
  CHECK(BanditOf(jump).checks() == 400);
  CHECK(BanditOf(jump).SerializeAsString() == BanditOf(steps).SerializeAsString());
}

TEST_CASE("A bandit's shares survive a snapshot and the restored engine continues identically") {
  Harness h(kStart);
  REQUIRE_THAT(h.DeployText(Bandit()), IsOk());
  for (int day = 0; day < 3; ++day) {
    SignUps(&h, day);
    REQUIRE_THAT(h.AdvanceTo(kStart + absl::Hours(24 * (day + 1))), IsOk());
  }
  std::ostringstream out;
  REQUIRE_THAT(h.engine().Snapshot(out), IsOk());
  Harness restored(h.now());
  REQUIRE_THAT(restored.DeployText(Bandit()), IsOk());
  std::istringstream in(out.str());
  REQUIRE_THAT(restored.engine().Restore(in), IsOk());
  CHECK(BanditOf(restored).SerializeAsString() == BanditOf(h).SerializeAsString());
  for (Harness* x : {&h, &restored}) {
    for (int day = 3; day < 5; ++day) {
      SignUps(x, day);
      REQUIRE_THAT(x->AdvanceTo(kStart + absl::Hours(24 * (day + 1))), IsOk());
    }
  }
  CHECK(BanditOf(restored).SerializeAsString() == BanditOf(h).SerializeAsString());
  for (int i = 0; i < 200; ++i) {
    const std::string u = absl::StrCat("d4_", i);
    CHECK(restored.Sent(u, "push")[0].template_id == h.Sent(u, "push")[0].template_id);
  }
  // A forged state is refused: weights past what an update hands out.
  const std::vector<v1::SnapshotRecord> records = testing::SnapshotRecordsOf(h.engine());
  const std::string bytes = Edited(records, [](v1::SnapshotVersionCounters* c) {
    c->mutable_rollouts(0)->set_bandit_weights(0, internal::kBanditWeightTotal + 1);
  });
  Harness forged(h.now());
  REQUIRE_THAT(forged.DeployText(Bandit()), IsOk());
  std::istringstream forged_in(bytes);
  CHECK(forged.engine().Restore(forged_in).code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("The compiler names each bad field of a bandit") {
  CHECK(ProblemsOf(Bandit()).empty());
  CHECK_THAT(ProblemsOf(absl::StrReplaceAll(Bandit(), {{"draws: 2000", "draws: 5"}})),
             Catch::Contains("field split.bandit.draws: draws is 5"));
  CHECK_THAT(ProblemsOf(absl::StrReplaceAll(Bandit(), {{"draws: 2000", "min_percent: 60"}})),
             Catch::Contains("field split.bandit.min_percent: min_percent is 60; it must be 0 to "
                             "100 / arms (50)"));
  CHECK_THAT(ProblemsOf(absl::StrReplaceAll(Bandit(), {{"update_every { seconds: 86400 }",
                                                        "update_every { seconds: 5 }"}})),
             Catch::Contains("field split.bandit.update_every: update_every is 5s; it must be at "
                             "least 1m"));
  CHECK_THAT(ProblemsOf(absl::StrReplaceAll(Bandit(), {{"goal: \"opened_1d\"", ""}})),
             Catch::Contains("field split.bandit.goal: bandit has no goal"));
  CHECK_THAT(ProblemsOf(absl::StrReplaceAll(
                 Bandit(), {{"bandit {", "rule { goal: \"opened_1d\" } bandit {"}})),
             Catch::Contains("field split.bandit: a split has a rule or a bandit, not both"));
}

}  // namespace
}  // namespace cairn
