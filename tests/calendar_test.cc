// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Calendars: anniversaries (29 February in leap and common years, days
// before across a year's end, daylight-saving days, a yearly loop that does
// not drift), fixed and attribute dates, send windows (deferring, never
// dropping; across midnight; weekdays), a change of zone moving a waiting
// delay, and best time (the busiest hour, learnt, with and without history).

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "testing/test_util.h"
#include "timer/local_time.h"

namespace cairn {
namespace {

using internal::BusiestHourStart;
using internal::CalendarDateOf;
using internal::HourOfWeek;
using internal::kHoursPerWeek;
using internal::LeapDayRule;
using internal::LocalWindow;
using internal::NextAnniversary;
using internal::NextOpening;
using testing::EventAt;
using testing::Harness;
using testing::IsOk;
using testing::Local;
using testing::Utc;
using testing::Zone;

// ---- The calendar arithmetic ----

TEST_CASE("29 February falls on 28 February or 1 March in common years, by the rule") {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilDay leap_birthday(1992, 2, 29);
  // From mid-2026: 2027 is common, 2028 a leap year.
  CHECK(NextAnniversary(Utc(2026, 6, 1), utc, leap_birthday, 0, 10, 0,
                        LeapDayRule::kFebruary28) == Utc(2027, 2, 28, 10));
  CHECK(NextAnniversary(Utc(2026, 6, 1), utc, leap_birthday, 0, 10, 0, LeapDayRule::kMarch1) ==
        Utc(2027, 3, 1, 10));
  CHECK(NextAnniversary(Utc(2027, 6, 1), utc, leap_birthday, 0, 10, 0,
                        LeapDayRule::kFebruary28) == Utc(2028, 2, 29, 10));
  CHECK(NextAnniversary(Utc(2027, 6, 1), utc, leap_birthday, 0, 10, 0, LeapDayRule::kMarch1) ==
        Utc(2028, 2, 29, 10));
  // 2100 is not a leap year (divisible by 100, not by 400); 2000 was.
  CHECK(NextAnniversary(Utc(2099, 6, 1), utc, leap_birthday, 0, 10, 0,
                        LeapDayRule::kFebruary28) == Utc(2100, 2, 28, 10));
  CHECK(NextAnniversary(Utc(1999, 6, 1), utc, leap_birthday, 0, 10, 0,
                        LeapDayRule::kFebruary28) == Utc(2000, 2, 29, 10));
  // Days before a leap-day anniversary count back from the day it falls on.
  CHECK(NextAnniversary(Utc(2026, 6, 1), utc, leap_birthday, 1, 10, 0, LeapDayRule::kMarch1) ==
        Utc(2027, 2, 28, 10));
}

TEST_CASE("An anniversary is the first one after the moment, never the moment itself") {
  const absl::TimeZone shanghai = Zone("Asia/Shanghai");
  const absl::CivilDay birthday(1990, 6, 15);
  const absl::Time this_year = Local("Asia/Shanghai", 2026, 6, 15, 10);
  CHECK(NextAnniversary(this_year - absl::Seconds(1), shanghai, birthday, 0, 10, 0,
                        LeapDayRule::kFebruary28) == this_year);
  // At the greeting's own instant (a yearly loop arriving back) it is next
  // year's: a loop cannot fire twice in one instant.
  CHECK(NextAnniversary(this_year, shanghai, birthday, 0, 10, 0, LeapDayRule::kFebruary28) ==
        Local("Asia/Shanghai", 2027, 6, 15, 10));
}

TEST_CASE("Days before an early-January anniversary reach back into December") {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilDay renewal(2020, 1, 3);
  // Five days before 3 January 2027 is 29 December 2026.
  CHECK(NextAnniversary(Utc(2026, 12, 1), utc, renewal, 5, 9, 0, LeapDayRule::kFebruary28) ==
        Utc(2026, 12, 29, 9));
  // Sixty-one days before a 1 March renewal ("two months before").
  CHECK(NextAnniversary(Utc(2026, 6, 1), utc, absl::CivilDay(2019, 3, 1), 61, 9, 0,
                        LeapDayRule::kFebruary28) == Utc(2026, 12, 30, 9));
}

TEST_CASE("An anniversary never falls before its date's own year") {
  const absl::TimeZone utc = absl::UTCTimeZone();
  // A policy that starts in 2028: its first "anniversary" is the start.
  CHECK(NextAnniversary(Utc(2026, 1, 1), utc, absl::CivilDay(2028, 5, 1), 0, 0, 0,
                        LeapDayRule::kFebruary28) == Utc(2028, 5, 1));
  CHECK(NextAnniversary(Utc(2026, 1, 1), utc, absl::CivilDay(9999, 12, 31), 0, 0, 0,
                        LeapDayRule::kFebruary28) == Utc(9999, 12, 31));
}

TEST_CASE("Anniversaries on daylight-saving days in New York") {
  const absl::TimeZone ny = Zone("America/New_York");
  // 2027-03-14: 02:00 EST jumps to 03:00 EDT (07:00Z); 02:30 does not exist
  // and resolves to the jump.
  CHECK(NextAnniversary(Utc(2027, 1, 1), ny, absl::CivilDay(1985, 3, 14), 0, 2, 30,
                        LeapDayRule::kFebruary28) == Utc(2027, 3, 14, 7));
  // 2027-11-07: 01:30 happens twice; the first (EDT, 05:30Z) counts.
  CHECK(NextAnniversary(Utc(2027, 1, 1), ny, absl::CivilDay(1985, 11, 7), 0, 1, 30,
                        LeapDayRule::kFebruary28) == Utc(2027, 11, 7, 5, 30));
  // 10:00 local is 15:00Z in winter and 14:00Z in summer.
  CHECK(NextAnniversary(Utc(2027, 1, 1), ny, absl::CivilDay(1985, 1, 20), 0, 10, 0,
                        LeapDayRule::kFebruary28) == Utc(2027, 1, 20, 15));
  CHECK(NextAnniversary(Utc(2027, 1, 1), ny, absl::CivilDay(1985, 7, 20), 0, 10, 0,
                        LeapDayRule::kFebruary28) == Utc(2027, 7, 20, 14));
}

TEST_CASE("A date is a YYYY-MM-DD string as written, or an instant's date in the zone") {
  const absl::TimeZone ny = Zone("America/New_York");
  CHECK(CalendarDateOf(Value::String("1992-02-29"), ny) == absl::CivilDay(1992, 2, 29));
  // A date with no zone does not move with one.
  CHECK(CalendarDateOf(Value::String("1990-06-15"), Zone("Pacific/Kiritimati")) ==
        absl::CivilDay(1990, 6, 15));
  // 1990 had no 29 February; absl would roll it into March.
  CHECK_FALSE(CalendarDateOf(Value::String("1990-02-29"), ny).has_value());
  CHECK_FALSE(CalendarDateOf(Value::String("1990-6-15"), ny).has_value());
  CHECK_FALSE(CalendarDateOf(Value::String("soon"), ny).has_value());
  CHECK_FALSE(CalendarDateOf(Value::Int(19900615), ny).has_value());
  // An instant's date is the date where the subject is: 02:00Z on 16 June is
  // still 15 June in New York.
  CHECK(CalendarDateOf(Value::Timestamp(Utc(1990, 6, 16, 2)), ny) == absl::CivilDay(1990, 6, 15));
  CHECK(CalendarDateOf(Value::String("1990-06-16T02:00:00Z"), ny) == absl::CivilDay(1990, 6, 15));
  CHECK(CalendarDateOf(Value::String("1990-06-16T02:00:00Z"), Zone("Asia/Shanghai")) ==
        absl::CivilDay(1990, 6, 16));
}

TEST_CASE("A send window is open inside its hours on its days, else says when it opens") {
  const absl::TimeZone utc = absl::UTCTimeZone();
  constexpr uint8_t kWeekdays = 0x1f;  // Monday to Friday
  const LocalWindow office{9 * 60, 18 * 60, kWeekdays};
  // 2026-12-07 is a Monday.
  CHECK_FALSE(NextOpening(Utc(2026, 12, 7, 9), utc, office).has_value());
  CHECK_FALSE(NextOpening(Utc(2026, 12, 7, 17, 59), utc, office).has_value());
  CHECK(NextOpening(Utc(2026, 12, 7, 8, 59), utc, office) == Utc(2026, 12, 7, 9));
  CHECK(NextOpening(Utc(2026, 12, 7, 18), utc, office) == Utc(2026, 12, 8, 9));
  // Friday evening waits for Monday morning.
  CHECK(NextOpening(Utc(2026, 12, 11, 18, 30), utc, office) == Utc(2026, 12, 14, 9));
  CHECK(NextOpening(Utc(2026, 12, 12, 12), utc, office) == Utc(2026, 12, 14, 9));
  // Across midnight: Friday's 20:00-02:00 window is open early on Saturday,
  // but no Saturday window opens.
  const LocalWindow late{20 * 60, 2 * 60, 1 << 4};
  CHECK_FALSE(NextOpening(Utc(2026, 12, 11, 23), utc, late).has_value());
  CHECK_FALSE(NextOpening(Utc(2026, 12, 12, 1, 59), utc, late).has_value());
  CHECK(NextOpening(Utc(2026, 12, 12, 2), utc, late) == Utc(2026, 12, 18, 20));
  CHECK(NextOpening(Utc(2026, 12, 11, 1), utc, late) == Utc(2026, 12, 11, 20));
}

// ---- In the engine ----

constexpr char kBirthdayJourney[] = R"pb(
  id: "birthday" version: 1
  settings { state: ACTIVE default_time_zone: "Asia/Shanghai" }
  nodes { id: "members" trigger { audience { audience: "members" } next: "birthday" } }
  nodes { id: "birthday" delay { until_anniversary { path: "profile.birthday" at { hour: 10 } }
          next: "greet" } }
  nodes { id: "greet" action { channel: "push" template_id: "birthday_gift"
          params { key: "name" value: "{{profile.name}}" } next: "birthday" } })pb";

std::vector<absl::Time> SendTimes(const Harness& h, const std::string& subject) {
  std::vector<absl::Time> times;
  for (const Message& m : h.Sent(subject, "push")) times.push_back(m.time);
  return times;
}

TEST_CASE("A yearly birthday greeting at 10:00 local, with a 29 February birthday, never drifts") {
  Harness h(Utc(2026, 12, 6));
  REQUIRE_THAT(h.DeployText(kBirthdayJourney), IsOk());
  REQUIRE_THAT(h.Profile("leap", {{"birthday", Value::String("1992-02-29")},
                                  {"name", Value::String("Li")}}),
               IsOk());
  REQUIRE_THAT(h.Profile("ny", {{"birthday", Value::String("1988-07-04")},
                                {"time_zone", Value::String("America/New_York")}}),
               IsOk());
  REQUIRE_THAT(h.Enroll("birthday", "leap"), IsOk());
  REQUIRE_THAT(h.Enroll("birthday", "ny"), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2031, 1, 1)), IsOk());
  CHECK(SendTimes(h, "leap") == std::vector<absl::Time>{
                                    Local("Asia/Shanghai", 2027, 2, 28, 10),
                                    Local("Asia/Shanghai", 2028, 2, 29, 10),
                                    Local("Asia/Shanghai", 2029, 2, 28, 10),
                                    Local("Asia/Shanghai", 2030, 2, 28, 10),
                                });
  CHECK(SendTimes(h, "ny") == std::vector<absl::Time>{
                                  Local("America/New_York", 2027, 7, 4, 10),
                                  Local("America/New_York", 2028, 7, 4, 10),
                                  Local("America/New_York", 2029, 7, 4, 10),
                                  Local("America/New_York", 2030, 7, 4, 10),
                              });
  // Each year's greeting has its own message id (the loop's visits differ).
  const std::vector<Message> sent = h.Sent("leap", "push");
  REQUIRE(sent.size() == 4);
  CHECK(sent[0].message_id != sent[1].message_id);
  CHECK(sent[0].params == std::vector<std::pair<std::string, std::string>>{{"name", "Li"}});
}

TEST_CASE("A subject without a usable date exits delay_time_missing") {
  Harness h(Utc(2026, 12, 6));
  REQUIRE_THAT(h.DeployText(kBirthdayJourney), IsOk());
  REQUIRE_THAT(h.Profile("none", {}), IsOk());
  REQUIRE_THAT(h.Profile("bad", {{"birthday", Value::String("1990-02-29")}}), IsOk());
  REQUIRE_THAT(h.Enroll("birthday", "none"), IsOk());
  REQUIRE_THAT(h.Enroll("birthday", "bad"), IsOk());
  CHECK(h.Exits("none") == std::vector<std::string>{"delay_time_missing"});
  CHECK(h.Exits("bad") == std::vector<std::string>{"delay_time_missing"});
}

TEST_CASE("A zone change moves a waiting anniversary to the same local time in the new zone") {
  Harness h(Utc(2026, 12, 6));
  REQUIRE_THAT(h.DeployText(kBirthdayJourney), IsOk());
  REQUIRE_THAT(h.Profile("mover", {{"birthday", Value::String("1990-03-01")}}), IsOk());
  REQUIRE_THAT(h.Profile("stays", {{"birthday", Value::String("1990-03-01")}}), IsOk());
  REQUIRE_THAT(h.Enroll("birthday", "mover"), IsOk());
  REQUIRE_THAT(h.Enroll("birthday", "stays"), IsOk());
  // Moves to New York before the birthday: greeted at 10:00 New York time,
  // once, and every year after.
  REQUIRE_THAT(h.AdvanceTo(Utc(2027, 1, 1)), IsOk());
  REQUIRE_THAT(h.Profile("mover", {{"time_zone", Value::String("America/New_York")}}), IsOk());
  // Naming the zone it is already in (the journey's default) moves nothing.
  REQUIRE_THAT(h.Profile("stays", {{"time_zone", Value::String("Asia/Shanghai")}}), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2028, 6, 1)), IsOk());
  CHECK(SendTimes(h, "mover") == std::vector<absl::Time>{
                                     Local("America/New_York", 2027, 3, 1, 10),
                                     Local("America/New_York", 2028, 3, 1, 10),
                                 });
  CHECK(SendTimes(h, "stays") == std::vector<absl::Time>{
                                     Local("Asia/Shanghai", 2027, 3, 1, 10),
                                     Local("Asia/Shanghai", 2028, 3, 1, 10),
                                 });
}

TEST_CASE("A zone change moves a wait for 09:00 to the next 09:00 in the new zone") {
  Harness h(Utc(2026, 12, 7, 5));
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "morning" version: 1
    settings { state: ACTIVE }
    nodes { id: "in" trigger { audience { } next: "nine" } }
    nodes { id: "nine" delay { until_time_of_day { hour: 9 } next: "hello" } }
    nodes { id: "hello" action { channel: "push" template_id: "x" } })pb"),
               IsOk());
  REQUIRE_THAT(h.Enroll("morning", "u"), IsOk());  // Waits for 09:00 UTC.
  // At 06:00 UTC it is 14:00 in Shanghai: the next 09:00 there is tomorrow.
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 7, 6)), IsOk());
  REQUIRE_THAT(h.Profile("u", {{"time_zone", Value::String("Asia/Shanghai")}}), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 9)), IsOk());
  CHECK(SendTimes(h, "u") == std::vector<absl::Time>{Local("Asia/Shanghai", 2026, 12, 8, 9)});
}

TEST_CASE("A move east on the day itself, past the new zone's hour, greets at once and once") {
  Harness h(Utc(2027, 2, 28));
  REQUIRE_THAT(h.DeployText(kBirthdayJourney), IsOk());
  REQUIRE_THAT(h.Profile("flyer", {{"birthday", Value::String("1990-03-01")},
                                   {"time_zone", Value::String("America/New_York")}}),
               IsOk());
  REQUIRE_THAT(h.Enroll("birthday", "flyer"), IsOk());
  // 1 March 08:00 in New York is 21:00 in Shanghai: the Shanghai 10:00 has
  // passed, so the greeting goes as the zone changes, and not again.
  const absl::Time lands = Local("America/New_York", 2027, 3, 1, 8);
  REQUIRE_THAT(h.AdvanceTo(lands), IsOk());
  REQUIRE_THAT(h.Profile("flyer", {{"time_zone", Value::String("Asia/Shanghai")}}), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2027, 12, 31)), IsOk());
  CHECK(SendTimes(h, "flyer") == std::vector<absl::Time>{lands});
}

TEST_CASE("Points expiry: 30 days before a timestamp at 10:00 local, and a fixed date") {
  Harness h(Utc(2026, 12, 6));
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "points" version: 1
    settings { state: ACTIVE default_time_zone: "Asia/Shanghai" }
    nodes { id: "members" trigger { audience { } next: "before" } }
    nodes { id: "before" delay { until_date { path: "profile.points_expire_at" days_before: 30
            at { hour: 10 } if_past: EXIT } next: "remind" } }
    nodes { id: "remind" action { channel: "push" template_id: "points_expiring" next: "term" } }
    nodes { id: "term" delay { until_date { on: "2027-08-25" at { hour: 9 } if_past: CONTINUE }
            next: "offer" } }
    nodes { id: "offer" action { channel: "sms" template_id: "bundle" } })pb"),
               IsOk());
  // Expires 2027-03-31 at 23:59 Shanghai time: 30 days before is 1 March.
  REQUIRE_THAT(h.Profile("m1", {{"points_expire_at",
                                 Value::Timestamp(Local("Asia/Shanghai", 2027, 3, 31, 23, 59))}}),
               IsOk());
  // Already within 30 days of expiry: EXIT.
  REQUIRE_THAT(h.Profile("m2", {{"points_expire_at", Value::String("2026-12-20")}}), IsOk());
  REQUIRE_THAT(h.Enroll("points", "m1"), IsOk());
  REQUIRE_THAT(h.Enroll("points", "m2"), IsOk());
  CHECK(h.Exits("m2") == std::vector<std::string>{"delay_in_past"});
  REQUIRE_THAT(h.AdvanceTo(Utc(2027, 12, 1)), IsOk());
  REQUIRE(h.Sent("m1", "push").size() == 1);
  CHECK(h.Sent("m1", "push")[0].time == Local("Asia/Shanghai", 2027, 3, 1, 10));
  REQUIRE(h.Sent("m1", "sms").size() == 1);
  CHECK(h.Sent("m1", "sms")[0].time == Local("Asia/Shanghai", 2027, 8, 25, 9));
}

TEST_CASE("A fixed date already passed continues at once or exits, as if_past says") {
  Harness h(Utc(2027, 9, 1));
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "term" version: 1
    settings { state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 5 } }
    nodes { id: "in" trigger { event { matcher { event: "go" } } next: "which" } }
    nodes { id: "which" filter { predicate { compare { path: "event.strict" op: EXISTS } }
            on_true: "strict" on_false: "lenient" } }
    nodes { id: "strict" delay { until_date { on: "2027-08-25" if_past: EXIT } next: "send" } }
    nodes { id: "lenient" delay { until_date { on: "2027-08-25" if_past: CONTINUE } next: "send" } }
    nodes { id: "send" action { channel: "push" template_id: "x" } })pb"),
               IsOk());
  REQUIRE_THAT(h.Event("a", "go"), IsOk());
  REQUIRE_THAT(h.Event("b", "go", h.now(), {{"strict", Value::Bool(true)}}), IsOk());
  CHECK(h.SentTo("a", "push") == 1);
  CHECK(h.SentTo("b", "push") == 0);
  CHECK(h.Exits("b") == std::vector<std::string>{"delay_in_past"});
}

constexpr char kWindowJourney[] = R"pb(
  id: "offer" version: 1
  settings { state: ACTIVE default_time_zone: "Asia/Shanghai"
             reentry { mode: CONCURRENT max_concurrent: 10 }
             send_window { opens { hour: 9 } closes { hour: 20 } } }
  nodes { id: "t" trigger { event { matcher { event: "lapsed" } } next: "offer" } }
  nodes { id: "offer" action { channel: "sms" template_id: "bundle" next: "receipt" } }
  nodes { id: "receipt" action { channel: "push" template_id: "thanks"
          send_window { opens { hour: 12 } closes { hour: 13 }
                        weekdays: [ MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY ] } } })pb";

TEST_CASE("A send outside the window waits for it to open and is never dropped") {
  // Friday 2026-12-11, 21:30 in Shanghai: after the journey's window closed.
  Harness h(Local("Asia/Shanghai", 2026, 12, 11, 21, 30));
  REQUIRE_THAT(h.DeployText(kWindowJourney), IsOk());
  for (int i = 0; i < 3; ++i) {
    REQUIRE_THAT(h.Event(absl::StrCat("u", i), "lapsed"), IsOk());
  }
  CHECK(h.Sent().empty());
  REQUIRE_THAT(h.AdvanceTo(Local("Asia/Shanghai", 2026, 12, 15)), IsOk());
  for (int i = 0; i < 3; ++i) {
    const std::string u = absl::StrCat("u", i);
    REQUIRE(h.Sent(u, "sms").size() == 1);
    // Saturday 09:00: the journey's window opens every day.
    CHECK(h.Sent(u, "sms")[0].time == Local("Asia/Shanghai", 2026, 12, 12, 9));
    // The receipt has its own window, weekdays 12:00-13:00: Monday noon.
    REQUIRE(h.Sent(u, "push").size() == 1);
    CHECK(h.Sent(u, "push")[0].time == Local("Asia/Shanghai", 2026, 12, 14, 12));
  }
  const v1::JourneyReport report = *h.Report("offer");
  for (const v1::ActionReport& action : report.versions(0).actions()) {
    INFO(action.node_id());
    REQUIRE(action.deferred_size() == 1);
    CHECK(action.deferred(0).reason() == "send_window");
    CHECK(action.deferred(0).count() == 3);
    CHECK(action.sent() == 3);
  }
  // Inside the window a send goes at once and defers nothing.
  REQUIRE_THAT(h.AdvanceTo(Local("Asia/Shanghai", 2026, 12, 15, 12, 30)), IsOk());
  REQUIRE_THAT(h.Event("u9", "lapsed"), IsOk());
  CHECK(h.SentTo("u9", "sms") == 1);
  CHECK(h.SentTo("u9", "push") == 1);
}

TEST_CASE("A deferred send survives a snapshot and opens on time after restore") {
  Harness h(Local("Asia/Shanghai", 2026, 12, 11, 21, 30));
  REQUIRE_THAT(h.DeployText(kWindowJourney), IsOk());
  REQUIRE_THAT(h.Event("u1", "lapsed"), IsOk());
  std::ostringstream out;
  REQUIRE_THAT(h.engine().Snapshot(out), IsOk());
  Harness restored(h.now());
  REQUIRE_THAT(restored.DeployText(kWindowJourney), IsOk());
  std::istringstream in(out.str());
  REQUIRE_THAT(restored.engine().Restore(in), IsOk());
  REQUIRE_THAT(restored.AdvanceTo(Local("Asia/Shanghai", 2026, 12, 15)), IsOk());
  REQUIRE(restored.Sent("u1", "sms").size() == 1);
  CHECK(restored.Sent("u1", "sms")[0].time == Local("Asia/Shanghai", 2026, 12, 12, 9));
  CHECK(restored.Sent("u1", "push")[0].time == Local("Asia/Shanghai", 2026, 12, 14, 12));
}

// ---- Best time ----

TEST_CASE("The hour of the week counts from Monday 00:00 local") {
  // 2026-12-07 is a Monday.
  CHECK(HourOfWeek(Utc(2026, 12, 7), absl::UTCTimeZone()) == 0);
  CHECK(HourOfWeek(Utc(2026, 12, 7, 13, 59), absl::UTCTimeZone()) == 13);
  CHECK(HourOfWeek(Utc(2026, 12, 13, 23, 30), absl::UTCTimeZone()) == 167);
  // 16:00Z on Sunday is Monday 00:00 in Shanghai.
  CHECK(HourOfWeek(Utc(2026, 12, 13, 16), Zone("Asia/Shanghai")) == 0);
  // Half-hour zones: 18:30Z is Tuesday 00:00 in Kolkata.
  CHECK(HourOfWeek(Utc(2026, 12, 7, 18, 30), Zone("Asia/Kolkata")) == 24);
}

TEST_CASE("The busiest hour within the look-ahead wins and a tie goes to the earliest") {
  const absl::TimeZone utc = absl::UTCTimeZone();
  uint32_t counts[kHoursPerWeek] = {};
  counts[14] = 5;      // Monday 14:00
  counts[20] = 5;      // Monday 20:00
  counts[24 + 9] = 9;  // Tuesday 09:00
  const absl::Time now = Utc(2026, 12, 7, 10, 30);  // Monday
  // No activity in any hour ahead: nothing learnt (the caller falls back).
  CHECK_FALSE(BusiestHourStart(counts, utc, now, now + absl::Hours(3)).has_value());
  CHECK(BusiestHourStart(counts, utc, now, now + absl::Hours(4)) == Utc(2026, 12, 7, 14));
  CHECK(BusiestHourStart(counts, utc, now, now + absl::Hours(12)) == Utc(2026, 12, 7, 14));
  CHECK(BusiestHourStart(counts, utc, now, now + absl::Hours(24)) == Utc(2026, 12, 8, 9));
  // The hour in progress is "now", not its start, which has passed.
  counts[10] = 50;
  CHECK(BusiestHourStart(counts, utc, now, now + absl::Hours(24)) == now);
  // A week ahead reaches next Monday's 10:00 only at its start: still now.
  CHECK(BusiestHourStart(counts, utc, now, now + absl::Hours(168)) == now);
  // The look-ahead's end is included.
  counts[10] = 0;
  counts[24 + 10] = 60;
  CHECK(BusiestHourStart(counts, utc, now, Utc(2026, 12, 8, 10)) == Utc(2026, 12, 8, 10));
  CHECK(BusiestHourStart(counts, utc, now, Utc(2026, 12, 8, 9, 59)) == Utc(2026, 12, 8, 9));
}

TEST_CASE("Best time across daylight-saving changes in New York") {
  const absl::TimeZone ny = Zone("America/New_York");
  uint32_t counts[kHoursPerWeek] = {};
  // Sunday 02:00 does not exist on 2027-03-14: the jump lands in 03:00,
  // which is the hour chosen, not the missing one.
  counts[6 * 24 + 2] = 100;
  counts[6 * 24 + 3] = 1;
  const absl::Time saturday_night = Local("America/New_York", 2027, 3, 13, 22);
  CHECK(BusiestHourStart(counts, ny, saturday_night, saturday_night + absl::Hours(10)) ==
        Utc(2027, 3, 14, 7));
  // Sunday 01:00 happens twice on 2027-11-07: the first counts.
  uint32_t fall[kHoursPerWeek] = {};
  fall[6 * 24 + 1] = 7;
  const absl::Time before = Local("America/New_York", 2027, 11, 6, 22);
  CHECK(BusiestHourStart(fall, ny, before, before + absl::Hours(10)) == Utc(2027, 11, 7, 5));
}

constexpr char kAppHours[] = R"pb(
  behaviors { name: "app_hours" event { event: "app_open" } function: HOUR_OF_WEEK }
  behaviors { name: "opens" event { event: "app_open" } function: COUNT }
)pb";

// An offer sent at the hour each member usually opens the app, within a
// day; 12:00 local for members with too little history.
constexpr char kBestTimeJourney[] = R"pb(
  id: "best_time" version: 1
  settings { state: ACTIVE default_time_zone: "Asia/Shanghai" reentry { mode: AFTER_EXIT } }
  nodes { id: "ready" trigger { event { matcher { event: "offer_ready" } } next: "best" } }
  nodes { id: "best" delay {
    until_best_time { behavior: "app_hours" within { seconds: 86400 } min_events: 3
                      fallback_time { hour: 12 } }
    next: "offer" } }
  nodes { id: "offer" action { channel: "push" template_id: "offer" } })pb";

TEST_CASE("Best time sends at the member's usual hour and falls back without history") {
  // Behaviours count from their declaration: declared on Sunday 1 November.
  Harness h(Local("Asia/Shanghai", 2026, 11, 1));
  REQUIRE_THAT(h.engine().DeclareBehaviors(testing::TextBehaviors(kAppHours)), IsOk());
  REQUIRE_THAT(h.DeployText(kBestTimeJourney), IsOk());
  // The behaviour counts local hours in the subject's zone (its time_zone
  // attribute; UTC without one).
  REQUIRE_THAT(h.Profile("evening", {{"time_zone", Value::String("Asia/Shanghai")}}), IsOk());
  REQUIRE_THAT(h.Profile("new", {{"time_zone", Value::String("Asia/Shanghai")}}), IsOk());
  // "evening" opens the app at 20:xx on Mondays, and once on a Tuesday and
  // a Sunday at 07:00; "new" twice, under the threshold of 3.
  for (int day : {9, 16, 23, 30}) {
    REQUIRE_THAT(h.Ingest(EventAt("evening", "app_open", Local("Asia/Shanghai", 2026, 11, day, 20, 15))),
                 IsOk());
  }
  REQUIRE_THAT(h.Ingest(EventAt("evening", "app_open", Local("Asia/Shanghai", 2026, 12, 1, 7))),
               IsOk());
  REQUIRE_THAT(h.Ingest(EventAt("evening", "app_open", Local("Asia/Shanghai", 2026, 12, 6, 7))),
               IsOk());
  REQUIRE_THAT(h.Ingest(EventAt("new", "app_open", Local("Asia/Shanghai", 2026, 12, 6, 21))),
               IsOk());
  REQUIRE_THAT(h.Ingest(EventAt("new", "app_open", Local("Asia/Shanghai", 2026, 12, 7, 7))),
               IsOk());
  // Read in a journey, the behaviour is the busiest hour of the week,
  // Monday 20:00; absent for a subject never seen.
  CHECK(*h.engine().BehaviorValue("", "evening", "app_hours") == Value::Int(20));
  CHECK(h.engine().BehaviorValue("", "nobody", "app_hours")->is_null());

  // Monday 7 December, 08:00 in Shanghai.
  const absl::Time now = Local("Asia/Shanghai", 2026, 12, 7, 8);
  for (const char* subject : {"evening", "new", "stranger"}) {
    REQUIRE_THAT(h.Ingest(EventAt(subject, "offer_ready", now)), IsOk());
  }
  CHECK(h.Sent().empty());
  REQUIRE_THAT(h.AdvanceTo(Local("Asia/Shanghai", 2026, 12, 9)), IsOk());
  // Monday 20:00 (four opens) beats Tuesday 07:00 (one), both within a day.
  CHECK(SendTimes(h, "evening") ==
        std::vector<absl::Time>{Local("Asia/Shanghai", 2026, 12, 7, 20)});
  // Too little history, and none at all: the fallback, 12:00 local.
  CHECK(SendTimes(h, "new") == std::vector<absl::Time>{Local("Asia/Shanghai", 2026, 12, 7, 12)});
  CHECK(SendTimes(h, "stranger") ==
        std::vector<absl::Time>{Local("Asia/Shanghai", 2026, 12, 7, 12)});
}

TEST_CASE("Best time with no fallback goes at once, and with a short look-ahead stays in it") {
  Harness h(Utc(2026, 11, 29));
  REQUIRE_THAT(h.engine().DeclareBehaviors(testing::TextBehaviors(kAppHours)), IsOk());
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "soon" version: 1
    settings { state: ACTIVE }
    nodes { id: "ready" trigger { event { matcher { event: "offer_ready" } } next: "best" } }
    nodes { id: "best" delay {
      until_best_time { behavior: "app_hours" within { seconds: 14400 } } next: "offer" } }
    nodes { id: "offer" action { channel: "push" template_id: "offer" } })pb"),
               IsOk());
  // Five opens at 11:xx UTC on Monday, five on Tuesday, twenty at 21:xx on
  // Sunday: 21:00 is the busiest, but only Monday 11:00 lies within 4
  // hours of 08:00 on Monday.
  for (int day = 0; day < 2; ++day) {
    for (int i = 0; i < 5; ++i) {
      const absl::Time t = Utc(2026, 11, 30, 11, i) + absl::Hours(24 * day);
      REQUIRE_THAT(h.Ingest(EventAt("u", "app_open", t)), IsOk());
    }
  }
  for (int i = 0; i < 20; ++i) {
    REQUIRE_THAT(h.Ingest(EventAt("u", "app_open", Utc(2026, 12, 6, 21, i))), IsOk());
  }
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 7, 8)), IsOk());
  REQUIRE_THAT(h.Event("u", "offer_ready"), IsOk());
  REQUIRE_THAT(h.Event("none", "offer_ready"), IsOk());
  // With no history and no fallback time: at once.
  CHECK(SendTimes(h, "none") == std::vector<absl::Time>{Utc(2026, 12, 7, 8)});
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 8)), IsOk());
  CHECK(SendTimes(h, "u") == std::vector<absl::Time>{Utc(2026, 12, 7, 11)});
}

TEST_CASE("A best-time wait survives a snapshot and the profile it learnt from restores") {
  Harness h(Utc(2026, 11, 29));
  REQUIRE_THAT(h.engine().DeclareBehaviors(testing::TextBehaviors(kAppHours)), IsOk());
  REQUIRE_THAT(h.DeployText(kBestTimeJourney), IsOk());
  // 15:05 UTC (no zone in the profile) on Monday 30 November, Tuesday and
  // Wednesday.
  for (int i = 0; i < 3; ++i) {
    REQUIRE_THAT(h.Ingest(EventAt("u", "app_open", Utc(2026, 11, 30, 15, 5) + absl::Hours(24 * i))),
                 IsOk());
  }
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 7, 8)), IsOk());
  REQUIRE_THAT(h.Event("u", "offer_ready"), IsOk());
  std::ostringstream out;
  REQUIRE_THAT(h.engine().Snapshot(out), IsOk());
  Harness restored(h.now());
  REQUIRE_THAT(restored.engine().DeclareBehaviors(testing::TextBehaviors(kAppHours)), IsOk());
  REQUIRE_THAT(restored.DeployText(kBestTimeJourney), IsOk());
  std::istringstream in(out.str());
  REQUIRE_THAT(restored.engine().Restore(in), IsOk());
  CHECK(*restored.engine().BehaviorValue("", "u", "app_hours") == Value::Int(15));
  REQUIRE_THAT(restored.AdvanceTo(Utc(2026, 12, 9, 16)), IsOk());
  CHECK(SendTimes(restored, "u") == std::vector<absl::Time>{Utc(2026, 12, 7, 15)});
  // A second offer, on Wednesday at 16:00, learns from the same counts, and
  // finds no activity in the day ahead (Wednesday's 15:00 has just passed):
  // the fallback, 12:00 in the journey's zone, Shanghai.
  REQUIRE_THAT(restored.Event("u", "offer_ready"), IsOk());
  REQUIRE_THAT(restored.AdvanceTo(Utc(2026, 12, 11)), IsOk());
  CHECK(SendTimes(restored, "u") == std::vector<absl::Time>{
                                        Utc(2026, 12, 7, 15),
                                        Local("Asia/Shanghai", 2026, 12, 10, 12),
                                    });
}

TEST_CASE("Best time reads only an HOUR_OF_WEEK behaviour, and keeps it declared") {
  Harness h(Utc(2026, 12, 7, 8));
  REQUIRE_THAT(h.engine().DeclareBehaviors(testing::TextBehaviors(kAppHours)), IsOk());
  std::string journey = kBestTimeJourney;
  journey.replace(journey.find("\"app_hours\""), 11, "\"opens\"");
  const absl::Status wrong = h.DeployText(journey);
  CHECK(wrong.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(wrong.message()),
             Catch::Contains("delay.until_best_time.behavior") &&
                 Catch::Contains("\"opens\" is not an HOUR_OF_WEEK behaviour"));
  REQUIRE_THAT(h.DeployText(kBestTimeJourney), IsOk());
  // Retyping it, or dropping it, while the journey can run is refused.
  const absl::Status retyped = h.engine().DeclareBehaviors(testing::TextBehaviors(R"pb(
    behaviors { name: "app_hours" event { event: "app_open" } function: COUNT })pb"));
  CHECK(retyped.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(retyped.message()), Catch::Contains("journey best_time"));
  CHECK(h.engine().DeclareBehaviors(v1::BehaviorSet()).code() ==
        absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cairn
