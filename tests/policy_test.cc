// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine-wide policies: frequency caps across journeys, quiet hours, consent
// (attribute and events), global holdout, and option validation.

#include <map>
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
  options.quiet_hours.push_back({"push", 22, 0, 8, 0, {}});
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

// A journey that sends on push, then sms, then email, one hour apart; the
// actions' extra fields (transactional, over_cap) are `extra`.
std::string ThreeChannels(const std::string& extra = "") {
  return absl::StrCat(R"pb(id: "three" version: 1
    settings { state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 100 } }
    nodes { id: "t" trigger { event { matcher { event: "go" } } next: "push" } }
    nodes { id: "push" action { channel: "push" template_id: "p" next: "d1" )pb", extra, R"pb( } }
    nodes { id: "d1" delay { duration { seconds: 3600 } next: "sms" } }
    nodes { id: "sms" action { channel: "sms" template_id: "s" next: "d2" )pb", extra, R"pb( } }
    nodes { id: "d2" delay { duration { seconds: 3600 } next: "email" } }
    nodes { id: "email" action { channel: "email" template_id: "e" )pb", extra, R"pb( } })pb");
}

int64_t ReasonIn(const google::protobuf::RepeatedPtrField<v1::ReasonCount>& counts,
                 const std::string& reason) {
  for (const v1::ReasonCount& c : counts) {
    if (c.reason() == reason) return c.count();
  }
  return 0;
}

TEST_CASE("A cap with no channel counts every channel together") {
  EngineOptions options;
  options.frequency_caps.push_back({"", 2, absl::Hours(24)});  // any channel
  options.frequency_caps.push_back({"sms", 5, absl::Hours(24)});
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(ThreeChannels()), IsOk());
  REQUIRE_THAT(h.Event("u1", "go"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(3)), IsOk());
  CHECK(h.SentTo("u1", "push") == 1);
  CHECK(h.SentTo("u1", "sms") == 1);
  CHECK(h.SentTo("u1", "email") == 0);  // the third message of the day
  const v1::VersionReport v = h.Report("three")->versions(0);
  CHECK(ReasonIn(v.actions(2).suppressed(), "frequency_cap") == 1);
  // Another subject has a ledger of its own.
  REQUIRE_THAT(h.Event("u2", "go"), IsOk());
  CHECK(h.SentTo("u2", "push") == 1);
  // A day after u1's first send, the email would go again.
  REQUIRE_THAT(h.AdvanceTo(Harness::DefaultStart() + absl::Hours(24)), IsOk());
  REQUIRE_THAT(h.Event("u1", "go"), IsOk());
  CHECK(h.SentTo("u1", "push") == 2);
}

TEST_CASE("A transactional action passes caps, quiet hours, the send window and the holdout") {
  EngineOptions options;
  options.frequency_caps.push_back({"", 1, absl::Hours(24)});
  options.holdout_percent = 100;  // everyone is held out of marketing
  // 2026-01-05 15:00 UTC = 23:00 in Shanghai, inside its quiet hours.
  options.quiet_hours.push_back({"", 22, 0, 8, 0, {}});
  const absl::Time start =
      absl::FromCivil(absl::CivilSecond(2026, 1, 5, 15, 0, 0), absl::UTCTimeZone());
  Harness h(start, options);
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "reset" version: 1
    settings {
      state: ACTIVE default_time_zone: "Asia/Shanghai"
      reentry { mode: CONCURRENT max_concurrent: 100 }
      send_window { opens { hour: 9 } closes { hour: 18 } }
    }
    nodes { id: "t" trigger { event { matcher { event: "forgot_password" } } next: "code" } }
    nodes { id: "code" action { channel: "sms" template_id: "reset_code" transactional: true } })pb"),
               IsOk());
  REQUIRE_THAT(h.Event("u1", "forgot_password"), IsOk());
  REQUIRE_THAT(h.Event("u1", "forgot_password"), IsOk());
  CHECK(h.SentTo("u1", "sms") == 2);  // at 23:00, held out, over the cap: sent at once
  const v1::ActionReport code = h.Report("reset")->versions(0).actions(0);
  CHECK(code.sent() == 2);
  CHECK(code.suppressed_size() == 0);
  CHECK(code.deferred_size() == 0);
  // Not counted against the cap: a marketing message the next morning still
  // fits (in an engine without the holdout).
  EngineOptions no_holdout = options;
  no_holdout.holdout_percent = 0;
  Harness h2(start, no_holdout);
  REQUIRE_THAT(h2.DeployText(R"pb(
    id: "reset" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "forgot_password" } } next: "code" } }
    nodes { id: "code" action { channel: "sms" template_id: "reset_code" transactional: true } })pb"),
               IsOk());
  REQUIRE_THAT(h2.DeployText(R"pb(
    id: "promo" version: 1 settings { state: ACTIVE default_time_zone: "Asia/Shanghai" }
    nodes { id: "t" trigger { event { matcher { event: "browse" } } next: "m" } }
    nodes { id: "m" action { channel: "email" template_id: "promo" } })pb"), IsOk());
  REQUIRE_THAT(h2.Event("u1", "forgot_password"), IsOk());
  REQUIRE_THAT(h2.AdvanceTo(start + absl::Hours(10)), IsOk());  // 09:00 in Shanghai
  REQUIRE_THAT(h2.Event("u1", "browse"), IsOk());
  CHECK(h2.SentTo("u1", "sms") == 1);
  CHECK(h2.SentTo("u1", "email") == 1);  // the reset did not use up the cap of 1
}

TEST_CASE("A transactional action still respects consent") {
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "receipt" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "paid" } } next: "r" } }
    nodes { id: "r" action { channel: "email" template_id: "receipt" transactional: true } })pb"),
               IsOk());
  REQUIRE_THAT(h.Profile("u1", {{"opted_out_channels", Value::StringList({"email"})}}), IsOk());
  REQUIRE_THAT(h.Event("u1", "paid"), IsOk());
  CHECK(h.SentTo("u1", "email") == 0);
  CHECK(ReasonIn(h.Report("receipt")->versions(0).actions(0).suppressed(), "opted_out") == 1);
}

TEST_CASE("over_cap DEFER waits until the cap frees and then sends") {
  EngineOptions options;
  options.frequency_caps.push_back({"push", 2, absl::Hours(24)});
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "digest" version: 1
    settings { state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 100 } }
    nodes { id: "t" trigger { event { matcher { event: "news" } } next: "p" } }
    nodes { id: "p" action { channel: "push" template_id: "digest" over_cap: DEFER next: "done" } }
    nodes { id: "done" exit { reason: "sent" } })pb"), IsOk());
  const absl::Time t0 = Harness::DefaultStart();
  REQUIRE_THAT(h.Event("u1", "news", t0), IsOk());
  REQUIRE_THAT(h.Event("u1", "news", t0 + absl::Hours(2)), IsOk());
  REQUIRE_THAT(h.Event("u1", "news", t0 + absl::Hours(3)), IsOk());  // over: waits
  REQUIRE_THAT(h.Event("u1", "news", t0 + absl::Hours(4)), IsOk());  // over: waits
  CHECK(h.SentTo("u1", "push") == 2);
  v1::ActionReport p = h.Report("digest")->versions(0).actions(0);
  CHECK(ReasonIn(p.deferred(), "frequency_cap") == 2);
  CHECK(p.suppressed_size() == 0);
  // The first send leaves the window at t0 + 24h: one waiting send goes
  // then (the earliest to wait), the other when the second leaves at t0 + 26h.
  REQUIRE_THAT(h.AdvanceTo(t0 + absl::Hours(24) - absl::Seconds(1)), IsOk());
  CHECK(h.SentTo("u1", "push") == 2);
  REQUIRE_THAT(h.AdvanceTo(t0 + absl::Hours(24)), IsOk());
  REQUIRE(h.SentTo("u1", "push") == 3);
  CHECK(h.Sent("u1", "push")[2].time == t0 + absl::Hours(24));
  REQUIRE_THAT(h.AdvanceTo(t0 + absl::Hours(27)), IsOk());
  REQUIRE(h.SentTo("u1", "push") == 4);
  CHECK(h.Sent("u1", "push")[3].time == t0 + absl::Hours(26));
  const v1::VersionReport v = h.Report("digest")->versions(0);
  CHECK(v.in_flight() == 0);
  CHECK(ReasonIn(v.exits(), "sent") == 4);  // never dropped
}

TEST_CASE("A journey's quiet hours replace the engine's, with weekday rules") {
  EngineOptions options;
  options.quiet_hours.push_back({"", 20, 0, 9, 0, {}});  // engine: every evening
  // Friday 2026-01-09 22:30 in UTC.
  const absl::Time friday_night =
      absl::FromCivil(absl::CivilSecond(2026, 1, 9, 22, 30, 0), absl::UTCTimeZone());
  Harness h(friday_night - absl::Hours(24), options);  // Thursday 22:30
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "weekend" version: 1
    settings {
      state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 100 }
      quiet_hours { start { hour: 22 } end { hour: 10 } weekdays: FRIDAY weekdays: SATURDAY }
    }
    nodes { id: "t" trigger { event { matcher { event: "go" } } next: "p" } }
    nodes { id: "p" action { channel: "push" template_id: "x" } })pb"), IsOk());
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "plain" version: 1
    settings { state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 100 } }
    nodes { id: "t" trigger { event { matcher { event: "go" } } next: "p" } }
    nodes { id: "p" action { channel: "sms" template_id: "y" } })pb"), IsOk());
  // Thursday 22:30: the journey's quiet hours do not begin on Thursdays, and
  // the engine's 20:00-09:00 no longer apply to it; "plain" keeps them.
  REQUIRE_THAT(h.Event("u1", "go"), IsOk());
  CHECK(h.SentTo("u1", "push") == 1);
  CHECK(h.SentTo("u1", "sms") == 0);
  // Friday 22:30: quiet until Saturday 10:00.
  REQUIRE_THAT(h.AdvanceTo(friday_night), IsOk());
  CHECK(h.SentTo("u1", "sms") == 1);  // the engine's ended Friday 09:00
  REQUIRE_THAT(h.Event("u1", "go"), IsOk());
  CHECK(h.SentTo("u1", "push") == 1);
  REQUIRE_THAT(h.AdvanceTo(friday_night + absl::Hours(12)), IsOk());
  REQUIRE(h.SentTo("u1", "push") == 2);
  CHECK(h.Sent("u1", "push")[1].time ==
        absl::FromCivil(absl::CivilSecond(2026, 1, 10, 10, 0, 0), absl::UTCTimeZone()));
  CHECK(ReasonIn(h.Report("weekend")->versions(0).actions(0).deferred(), "quiet_hours") == 1);
}

TEST_CASE("Engine quiet hours may begin on chosen weekdays only") {
  EngineOptions options;
  options.quiet_hours.push_back({"push", 0, 0, 12, 0, {absl::Weekday::sunday}});
  // Sunday 2026-01-11 07:00 UTC, then Monday 07:00.
  const absl::Time sunday =
      absl::FromCivil(absl::CivilSecond(2026, 1, 11, 7, 0, 0), absl::UTCTimeZone());
  Harness h(sunday, options);
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "p" version: 1
    settings { state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 100 } }
    nodes { id: "t" trigger { event { matcher { event: "go" } } next: "p" } }
    nodes { id: "p" action { channel: "push" template_id: "x" } })pb"), IsOk());
  REQUIRE_THAT(h.Event("u1", "go"), IsOk());
  CHECK(h.SentTo("u1", "push") == 0);  // Sunday morning: a lie-in
  REQUIRE_THAT(h.AdvanceTo(sunday + absl::Hours(24)), IsOk());
  CHECK(h.SentTo("u1", "push") == 1);  // sent at Sunday 12:00
  REQUIRE_THAT(h.Event("u1", "go"), IsOk());
  CHECK(h.SentTo("u1", "push") == 2);  // Monday 07:00: no quiet hours
}

// A flash-sale SMS sent to everyone who enters at once.
constexpr char kFlashSms[] = R"pb(
  id: "flash" version: 1 settings { state: ACTIVE }
  nodes { id: "t" trigger { audience {} next: "sms" } }
  nodes { id: "sms" action { channel: "sms" template_id: "flash" } })pb";

TEST_CASE("A rate-limited burst of 10000 sends drains in order at exactly the rate") {
  EngineOptions options;
  options.rate_limits.push_back({"sms", 100, absl::Seconds(1)});
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(kFlashSms), IsOk());
  const absl::Time t0 = Harness::DefaultStart();
  constexpr int kSubjects = 10000;
  for (int i = 0; i < kSubjects; ++i) {
    REQUIRE_THAT(h.engine().Enroll("flash", absl::StrCat("u", i), t0), IsOk());
  }
  CHECK(h.SentTo("", "sms") == 100);  // the first second's worth, at once
  REQUIRE_THAT(h.AdvanceTo(t0 + absl::Seconds(120)), IsOk());
  const std::vector<Message> sent = h.Sent("", "sms");
  REQUIRE(sent.size() == static_cast<size_t>(kSubjects));
  std::map<absl::Time, int> per_instant;
  for (const Message& m : sent) ++per_instant[m.time];
  CHECK(per_instant.size() == 100);
  for (const auto& [t, n] : per_instant) {
    INFO(t);
    CHECK(n == 100);
    CHECK((t - t0) % absl::Seconds(1) == absl::ZeroDuration());
  }
  // In the order they reached the action: subject i goes at second i / 100.
  std::map<std::string, absl::Time> when;
  for (const Message& m : sent) when[m.subject_id] = m.time;
  for (int i = 0; i < kSubjects; i += 997) {
    CHECK(when[absl::StrCat("u", i)] == t0 + absl::Seconds(i / 100));
  }
  const v1::ActionReport a = h.Report("flash")->versions(0).actions(0);
  CHECK(a.sent() == kSubjects);
  CHECK(ReasonIn(a.deferred(), "rate_limit") == kSubjects - 100);
  CHECK(a.rate_delay_ms_max() == 99000);
  // Sum over seconds 1..99 of 100 sends each, in ms.
  CHECK(a.rate_delay_ms_total() == int64_t{100} * 1000 * (99 * 100 / 2));
}

TEST_CASE("A journey's rate limit and the engine's apply together and survive a snapshot") {
  EngineOptions options;
  options.rate_limits.push_back({"", 3, absl::Minutes(1)});  // every channel
  const std::string journey = R"pb(
    id: "flash" version: 1 settings { state: ACTIVE rate_limit { max_messages: 2 per { seconds: 60 } } }
    nodes { id: "t" trigger { audience {} next: "sms" } }
    nodes { id: "sms" action { channel: "sms" template_id: "flash" } })pb";
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(journey), IsOk());
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "other" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { audience {} next: "p" } }
    nodes { id: "p" action { channel: "push" template_id: "x" } })pb"), IsOk());
  const absl::Time t0 = Harness::DefaultStart();
  for (int i = 0; i < 5; ++i) {
    REQUIRE_THAT(h.engine().Enroll("flash", absl::StrCat("f", i), t0), IsOk());
  }
  // The journey allows 2 a minute: f0, f1 now, f2, f3 at +1m, f4 at +2m,
  // each slot held in the engine's limit too. "other"'s pushes count
  // against the engine's 3 a minute on every channel, and queue behind the
  // sends already waiting there (first come, first served): both at +2m.
  REQUIRE_THAT(h.engine().Enroll("other", "o1", t0), IsOk());
  REQUIRE_THAT(h.engine().Enroll("other", "o2", t0), IsOk());
  CHECK(h.SentTo("", "sms") == 2);
  CHECK(h.SentTo("", "push") == 0);
  std::stringstream snapshot;
  REQUIRE_THAT(h.engine().Snapshot(snapshot), IsOk());
  const std::string bytes = snapshot.str();
  Harness restored(h.now(), options);
  REQUIRE_THAT(restored.DeployText(journey), IsOk());
  REQUIRE_THAT(restored.DeployText(R"pb(
    id: "other" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { audience {} next: "p" } }
    nodes { id: "p" action { channel: "push" template_id: "x" } })pb"), IsOk());
  REQUIRE_THAT(restored.engine().Restore(snapshot), IsOk());
  for (Harness* x : {&h, &restored}) REQUIRE_THAT(x->AdvanceTo(t0 + absl::Minutes(5)), IsOk());
  for (Harness* x : {&h, &restored}) {
    std::map<std::string, absl::Time> when;
    for (const Message& m : x->Sent()) when[m.subject_id] = m.time;
    CHECK(when["f2"] == t0 + absl::Minutes(1));
    CHECK(when["f3"] == t0 + absl::Minutes(1));
    CHECK(when["f4"] == t0 + absl::Minutes(2));
    CHECK(when["o1"] == t0 + absl::Minutes(2));
    CHECK(when["o2"] == t0 + absl::Minutes(2));  // the engine's 3 at +2m: f4, o1, o2
  }
  std::stringstream a, b;
  REQUIRE_THAT(h.engine().Snapshot(a), IsOk());
  REQUIRE_THAT(restored.engine().Snapshot(b), IsOk());
  CHECK(a.str() == b.str());
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
  o.frequency_caps.push_back({"all", 1, absl::Hours(1)});
  absl::StatusOr<Engine> e = Engine::Create(o);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message() ==
        "frequency_caps[0]: channel \"all\": leave channel empty to cap every channel together");
  o = EngineOptions();
  o.quiet_hours.push_back({"push", 25, 0, 8, 0, {}});
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
