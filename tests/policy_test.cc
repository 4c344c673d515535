// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine-wide policies: frequency caps across journeys, quiet hours, consent
// (attribute and events), global holdout, and option validation.

#include <string>

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

std::string MailJourney(const std::string& id, const std::string& event) {
  return absl::StrCat(R"pb(id: ")pb", id, R"pb(" version: 1
    settings { state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 100 } }
    nodes { id: "t" trigger { event { matcher { event: ")pb", event, R"pb(" } } next: "mail" } }
    nodes { id: "mail" action { channel: "in_game_mail" template_id: "gift" next: "" on_failure: "fallback" } }
    nodes { id: "fallback" action { channel: "push" template_id: "gift_push" } })pb");
}

int64_t Suppressed(const Harness& h, const std::string& journey, const std::string& reason) {
  const absl::StatusOr<v1::JourneyReport> report = h.Report(journey);
  for (const v1::ReasonCount& c : report->versions(0).actions(0).suppressed()) {
    if (c.reason() == reason) return c.count();
  }
  return 0;
}

TEST_CASE("A frequency cap counts sends across journeys") {
  EngineOptions options;
  options.frequency_caps.push_back({"in_game_mail", 2, absl::Hours(24)});
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(MailJourney("levels", "level_up")), IsOk());
  REQUIRE_THAT(h.DeployText(MailJourney("shop", "purchase")), IsOk());
  REQUIRE_THAT(h.Event("p1", "level_up"), IsOk());
  REQUIRE_THAT(h.Event("p1", "purchase", h.now() + absl::Hours(1)), IsOk());
  REQUIRE_THAT(h.Event("p1", "level_up", h.now() + absl::Hours(1)), IsOk());  // third: capped
  REQUIRE_THAT(h.Event("p2", "purchase", h.now()), IsOk());  // other players: own ledgers
  CHECK(h.SentTo("p1", "in_game_mail") == 2);
  CHECK(h.SentTo("p1", "push") == 1);  // the capped send fell back
  CHECK(h.SentTo("p2", "in_game_mail") == 1);
  CHECK(Suppressed(h, "levels", "frequency_cap") == 1);
  // A day after the first send, one slot is free again.
  REQUIRE_THAT(h.Event("p1", "level_up", Harness::DefaultStart() + absl::Hours(24)), IsOk());
  CHECK(h.SentTo("p1", "in_game_mail") == 3);
  REQUIRE_THAT(h.Event("p1", "level_up", h.now()), IsOk());
  CHECK(h.SentTo("p1", "in_game_mail") == 3);
}

TEST_CASE("Quiet hours defer a send to the end of the window, in local time") {
  EngineOptions options;
  options.quiet_hours.push_back({"push", 22, 0, 8, 0});
  // 2026-01-05 15:00 UTC = 23:00 in Shanghai.
  Harness h(absl::FromCivil(absl::CivilSecond(2026, 1, 5, 15, 0, 0), absl::UTCTimeZone()),
            options);
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "nudge" version: 1
    settings { state: ACTIVE default_time_zone: "Asia/Shanghai" }
    nodes { id: "t" trigger { event { matcher { event: "cart" } } next: "push" } }
    nodes { id: "push" action { channel: "push" template_id: "x" next: "sms" } }
    nodes { id: "sms" action { channel: "sms" template_id: "y" } })pb"), IsOk());
  REQUIRE_THAT(h.Profile("ny", {{"time_zone", Value::String("America/New_York")}}), IsOk());
  REQUIRE_THAT(h.Event("sh", "cart"), IsOk());
  REQUIRE_THAT(h.Event("ny", "cart"), IsOk());  // 10:00 in New York: not quiet
  CHECK(h.SentTo("sh", "push") == 0);
  CHECK(h.SentTo("sh", "sms") == 0);  // waits at the push, does not skip it
  CHECK(h.SentTo("ny", "push") == 1);
  REQUIRE_THAT(h.Advance(absl::Hours(10)), IsOk());
  REQUIRE(h.SentTo("sh", "push") == 1);
  // 08:00 in Shanghai is 00:00 UTC.
  CHECK(h.Sent("sh", "push")[0].time ==
        absl::FromCivil(absl::CivilSecond(2026, 1, 6, 0, 0, 0), absl::UTCTimeZone()));
  CHECK(h.SentTo("sh", "sms") == 1);  // sms has no quiet hours
  const v1::ActionReport push = h.Report("nudge")->versions(0).actions(0);
  REQUIRE(push.deferred_size() == 1);
  CHECK(push.deferred(0).reason() == "quiet_hours");
  CHECK(push.deferred(0).count() == 1);
  CHECK(push.sent() == 2);
}

TEST_CASE("Opt-out mid-journey suppresses later sends, opt-in restores them") {
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "series" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "signup" } } next: "day0" } }
    nodes { id: "day0" action { channel: "sms" template_id: "d0" next: "wait1" } }
    nodes { id: "wait1" delay { duration { seconds: 86400 } next: "day1" } }
    nodes { id: "day1" action { channel: "sms" template_id: "d1" next: "wait2" on_failure: "push1" } }
    nodes { id: "push1" action { channel: "push" template_id: "d1p" next: "wait2" } }
    nodes { id: "wait2" delay { duration { seconds: 86400 } next: "day2" } }
    nodes { id: "day2" action { channel: "sms" template_id: "d2" } })pb"), IsOk());
  REQUIRE_THAT(h.Event("u1", "signup"), IsOk());
  REQUIRE_THAT(h.Event("u2", "signup"), IsOk());
  REQUIRE_THAT(h.Event("u1", "opt_out", {{"channel", Value::String("sms")}}), IsOk());
  REQUIRE_THAT(h.Profile("u2", {{"opted_out_channels", Value::StringList({"all"})}}), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(24)), IsOk());
  CHECK(h.SentTo("u1", "sms") == 1);   // only day0
  CHECK(h.SentTo("u1", "push") == 1);  // day1 fell back to push
  CHECK(h.SentTo("u2", "push") == 0);  // "all" covers push too
  REQUIRE_THAT(h.Event("u1", "opt_in", {{"channel", Value::String("sms")}}), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(24)), IsOk());
  CHECK(h.SentTo("u1", "sms") == 2);  // day2 goes out again
  CHECK(Suppressed(h, "series", "opted_out") == 0);  // actions(0) is day0
  const v1::ActionReport day1 = h.Report("series")->versions(0).actions(1);
  CHECK(day1.suppressed(0).reason() == "opted_out");
  CHECK(day1.suppressed(0).count() == 2);
  CHECK(h.engine().stats().events_ignored == 0);  // consent events are applied
}

TEST_CASE("The global holdout takes its share and sends them nothing") {
  EngineOptions options;
  options.holdout_percent = 5;
  options.holdout_seed = 11;
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "promo" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { audience {} next: "mail" } }
    nodes { id: "mail" action { channel: "email" template_id: "m" next: "after" on_failure: "sms" } }
    nodes { id: "sms" action { channel: "sms" template_id: "s" } }
    nodes { id: "after" exit { reason: "done" } })pb"), IsOk());
  const int n = 100000;
  for (int i = 0; i < n; ++i) REQUIRE_THAT(h.Enroll("promo", absl::StrCat("u", i)), IsOk());
  const v1::VersionReport v = h.Report("promo")->versions(0);
  CHECK(v.entered() == n);  // held-out subjects enter and are counted
  const int64_t held = Suppressed(h, "promo", "holdout");
  CHECK(held / double(n) == Approx(0.05).margin(0.01));
  CHECK(h.SentTo("", "email") == n - held);
  CHECK(h.SentTo("", "sms") == 0);  // held out: continue on next, no fallback
  CHECK(v.exits(0).reason() == "done");
  CHECK(v.exits(0).count() == n);
}

TEST_CASE("Engine::Create refuses bad options") {
  EngineOptions o;
  o.frequency_caps.push_back({"", 1, absl::Hours(1)});
  absl::StatusOr<Engine> e = Engine::Create(o);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message() == "frequency_caps[0]: channel is empty");
  o = EngineOptions();
  o.quiet_hours.push_back({"push", 25, 0, 8, 0});
  CHECK(Engine::Create(o).status().message() ==
        "quiet_hours[0]: hours must be 0..23, minutes 0..59");
  o = EngineOptions();
  o.holdout_percent = 101;
  CHECK_FALSE(Engine::Create(o).ok());
  o = EngineOptions();
  o.max_steps_per_input = 0;
  CHECK_FALSE(Engine::Create(o).ok());
  CHECK_THAT(StatusOf(Engine::Create(EngineOptions())), IsOk());
}

}  // namespace
}  // namespace cairn
