// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Wait-until branches and exit criteria: conditions on the subject's state
// (profile, behaviours, segments, entry context) that move or end an
// enrollment as soon as they hold, on an input or with time alone.

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

// After sign-up: wait until KYC is done (welcome), or remind after 3 days.
constexpr char kKyc[] = R"pb(
  id: "kyc" version: 1
  settings { state: ACTIVE }
  nodes { id: "t" trigger { event { matcher { event: "signup" } } next: "w" } }
  nodes { id: "w" wait {
    branches { name: "verified" until { compare { path: "profile.kyc_done" op: EQ
                                                  value { bool_value: true } } }
               next: "welcome" }
    timeout { seconds: 259200 } on_timeout: "remind" } }
  nodes { id: "welcome" action { channel: "push" template_id: "welcome" next: "" } }
  nodes { id: "remind" action { channel: "sms" template_id: "finish_kyc" next: "" } }
)pb";

TEST_CASE("Wait until: a profile update satisfies the condition at once") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kKyc), IsOk());
  REQUIRE_THAT(h.Event("ann", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(5)), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"kyc_done", Value::Bool(false)}}), IsOk());
  CHECK(h.Sent("ann").empty());
  REQUIRE_THAT(h.Profile("ann", {{"kyc_done", Value::Bool(true)}}), IsOk());
  REQUIRE(h.Sent("ann").size() == 1);
  CHECK(h.Sent("ann")[0].template_id == "welcome");
  CHECK(h.Sent("ann")[0].time == h.now());
  const v1::JourneyReport report = *h.Report("kyc");
  CHECK(report.versions(0).nodes(1).left(0).label() == "verified");
  CHECK(report.versions(0).nodes(1).left(0).count() == 1);
}

TEST_CASE("Wait until: a condition already true on arrival passes and the timeout still works") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kKyc), IsOk());
  REQUIRE_THAT(h.Profile("bo", {{"kyc_done", Value::Bool(true)}}), IsOk());
  REQUIRE_THAT(h.Event("bo", "signup"), IsOk());
  CHECK(h.SentTo("bo", "push") == 1);
  REQUIRE_THAT(h.Event("cy", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(72)), IsOk());
  CHECK(h.SentTo("cy", "sms") == 1);
  CHECK(h.SentTo("cy", "push") == 0);
}

// Miss you: two days after the last login with no login since.
constexpr char kLogins[] = R"pb(
  behaviors { name: "last_login" event { event: "login" } function: LAST_TIME }
)pb";
constexpr char kMissYou[] = R"pb(
  id: "miss_you" version: 1
  settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "t" trigger { event { matcher { event: "login" } } next: "w" } }
  nodes { id: "w" wait {
    branches { until { compare { path: "behavior.last_login" op: LT
                                 now_minus { seconds: 172800 } } } next: "push" }
    timeout { seconds: 2592000 } } }
  nodes { id: "push" action { channel: "push" template_id: "miss_you" next: "" } }
)pb";

TEST_CASE("Wait until: time alone satisfies the condition at the exact instant") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(testing::TextBehaviors(kLogins)), IsOk());
  REQUIRE_THAT(h.DeployText(kMissYou), IsOk());
  const absl::Time first = h.now() + absl::Minutes(1);
  REQUIRE_THAT(h.Event("dee", "login", first), IsOk());
  // A second login a day later pushes the moment back.
  const absl::Time second = first + absl::Hours(24);
  REQUIRE_THAT(h.Event("dee", "login", second), IsOk());
  const absl::Time due = second + absl::Hours(48) + absl::Nanoseconds(1);
  REQUIRE_THAT(h.AdvanceTo(due - absl::Nanoseconds(1)), IsOk());
  CHECK(h.Sent("dee").empty());
  REQUIRE_THAT(h.AdvanceTo(due), IsOk());
  REQUIRE(h.Sent("dee").size() == 1);
  CHECK(h.Sent("dee")[0].time == due);
  CHECK(h.Report("miss_you")->versions(0).nodes(1).left(0).label() == "until");
}

// A cart reminder that stops as soon as the subject unsubscribes, or is no
// longer a known customer (segment), wherever the enrollment is.
constexpr char kCustomers[] = R"pb(
  behaviors { name: "purchases_30d" event { event: "purchase" } function: COUNT
              window { last { seconds: 2592000 } resolution { seconds: 3600 } } }
  segments { name: "recent_buyer" condition {
    compare { path: "behavior.purchases_30d" op: GE value { int_value: 1 } } } }
)pb";
constexpr char kReminder[] = R"pb(
  id: "reminder" version: 1
  settings {
    state: ACTIVE
    exit_when { name: "unsubscribed" condition {
      compare { path: "profile.unsubscribed" op: EQ value { bool_value: true } } } }
    exit_when { name: "lapsed" condition {
      compare { path: "segment.recent_buyer" op: EQ value { bool_value: false } } } }
  }
  nodes { id: "t" trigger { event { matcher { event: "cart" } } next: "d" } }
  nodes { id: "d" delay { duration { seconds: 86400 } next: "w" } }
  nodes { id: "w" wait { branches { matcher { event: "checkout" } next: "" }
                         timeout { seconds: 5184000 } on_timeout: "push" } }
  nodes { id: "push" action { channel: "push" template_id: "cart" next: "" } }
)pb";

TEST_CASE("Exit criteria: an input interrupts a delay with its reason") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(testing::TextBehaviors(kCustomers)), IsOk());
  REQUIRE_THAT(h.DeployText(kReminder), IsOk());
  REQUIRE_THAT(h.Event("eve", "purchase"), IsOk());
  REQUIRE_THAT(h.Event("eve", "cart"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(2)), IsOk());
  REQUIRE_THAT(h.Profile("eve", {{"unsubscribed", Value::Bool(true)}}), IsOk());
  CHECK(h.Exits("eve") == std::vector<std::string>{"exit_when:unsubscribed"});
  REQUIRE_THAT(h.Advance(absl::Hours(24 * 70)), IsOk());
  CHECK(h.Sent("eve").empty());
}

TEST_CASE("Exit criteria: time alone interrupts a wait at the exact instant") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(testing::TextBehaviors(kCustomers)), IsOk());
  REQUIRE_THAT(h.DeployText(kReminder), IsOk());
  const absl::Time bought = h.now() + absl::Minutes(10);
  REQUIRE_THAT(h.Event("fay", "purchase", bought), IsOk());
  REQUIRE_THAT(h.Event("fay", "cart", bought + absl::Hours(1)), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(48)), IsOk());  // Past the delay, into the wait.
  CHECK(h.Exits("fay").empty());
  // The purchase's 1-hour bucket leaves "the last 30 days" when the bucket
  // 30 days and an hour after it begins.
  const absl::Time hour = absl::FromUnixSeconds(absl::ToUnixSeconds(bought) / 3600 * 3600);
  const absl::Time lapses = hour + absl::Hours(30 * 24 + 1);
  REQUIRE_THAT(h.AdvanceTo(lapses - absl::Nanoseconds(1)), IsOk());
  CHECK(h.Exits("fay").empty());
  REQUIRE_THAT(h.AdvanceTo(lapses), IsOk());
  CHECK(h.Exits("fay") == std::vector<std::string>{"exit_when:lapsed"});
  const v1::JourneyReport report = *h.Report("reminder");
  CHECK(report.versions(0).nodes(2).exits(0).reason() == "exit_when:lapsed");
}

TEST_CASE("Exit criteria: a subject meeting one on entry exits before any step") {
  Harness h;
  REQUIRE_THAT(h.engine().DeclareBehaviors(testing::TextBehaviors(kCustomers)), IsOk());
  REQUIRE_THAT(h.DeployText(kReminder), IsOk());
  REQUIRE_THAT(h.Event("gus", "cart"), IsOk());  // Never bought: not a recent buyer.
  CHECK(h.Exits("gus") == std::vector<std::string>{"exit_when:lapsed"});
  CHECK(h.Path("gus") == std::vector<std::string>{"t"});
  CHECK(h.Report("reminder")->versions(0).entered() == 1);
}

TEST_CASE("Wait until and exit criteria: snapshots keep pending time-driven checks") {
  testing::NullSink sink;
  EngineOptions options;
  options.start_time = Harness::DefaultStart();
  Engine first(options);
  REQUIRE_THAT(first.RegisterChannel("push", &sink), IsOk());
  REQUIRE_THAT(first.DeclareBehaviors(testing::TextBehaviors(kLogins)), IsOk());
  REQUIRE_THAT(first.Deploy(testing::TextJourney(kMissYou)), IsOk());
  for (int i = 0; i < 5; ++i) {
    const absl::Time at = options.start_time + absl::Hours(7 * i);
    REQUIRE_THAT(first.AdvanceTo(at), IsOk());
    REQUIRE_THAT(first.Ingest(testing::EventAt(absl::StrCat("p", i % 3), "login", at)), IsOk());
  }
  std::stringstream snapshot;
  REQUIRE_THAT(first.Snapshot(snapshot), IsOk());
  Engine second(options);
  REQUIRE_THAT(second.RegisterChannel("push", &sink), IsOk());
  REQUIRE_THAT(second.DeployForRestore(testing::TextJourney(kMissYou)), IsOk());
  REQUIRE_THAT(second.Restore(snapshot), IsOk());
  for (Engine* e : {&first, &second}) {
    REQUIRE_THAT(e->AdvanceTo(options.start_time + absl::Hours(24 * 5)), IsOk());
  }
  const v1::JourneyReport a = *first.Report("miss_you");
  CHECK(a.DebugString() == second.Report("miss_you")->DebugString());
  CHECK(a.versions(0).nodes(2).entered() == 3);  // One push per player.
}

TEST_CASE("Wait until and exit criteria: compile errors name the field") {
  const auto problems = [](const std::string& text) {
    const absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled =
        Compile(testing::TextJourney(text));
    REQUIRE_FALSE(compiled.ok());
    return std::string(compiled.status().message());
  };
  const std::string both = problems(R"pb(id: "j" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "a" } } next: "w" } }
    nodes { id: "w" wait { branches { matcher { event: "b" }
                                      until { compare { path: "profile.x" op: EXISTS } } }
                           timeout { seconds: 60 } } })pb");
  CHECK_THAT(both, Catch::Contains("wait.branches[0].until: wait branch has both matcher and "
                                   "until: set one"));
  const std::string event = problems(R"pb(id: "j" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "a" } } next: "w" } }
    nodes { id: "w" wait { branches { until { compare { path: "event.amount" op: GT
                                                        value { int_value: 1 } } } }
                           timeout { seconds: 60 } } })pb");
  CHECK_THAT(event, Catch::Contains("event.amount: a wait-until condition is about the "
                                    "subject's state"));
  const std::string exits = problems(R"pb(id: "j" version: 1
    settings { state: ACTIVE
      exit_when { condition { compare { path: "profile.x" op: EXISTS } } }
      exit_when { name: "x" condition { compare { path: "event.x" op: EXISTS } } }
      exit_when { name: "x" } }
    nodes { id: "t" trigger { event { matcher { event: "a" } } next: "" } })pb");
  CHECK_THAT(exits, Catch::Contains("settings.exit_when[0].name: exit criterion has no name"));
  CHECK_THAT(exits, Catch::Contains("exit_when[1].condition: event.x: an exit criterion is "
                                    "about the subject's state"));
  CHECK_THAT(exits, Catch::Contains("exit_when[2].name: exit criterion \"x\" is defined twice"));
  CHECK_THAT(exits, Catch::Contains("exit_when[2].condition: exit criterion has no condition"));
}

}  // namespace
}  // namespace cairn
