// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Local-time delays: DST spring-forward and fall-back days in two zones,
// weekday rules across a week boundary, subject time zones, and delays
// relative to a timestamp attribute.

#include "timer/local_time.h"

#include <string>

#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "testing/test_util.h"

namespace cairn {
namespace {

using internal::NextLocalTime;
using testing::Harness;
using testing::IsOk;

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone tz;
  REQUIRE(absl::LoadTimeZone(name, &tz));
  return tz;
}

absl::Time Utc(int y, int mo, int d, int h, int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), absl::UTCTimeZone());
}

constexpr uint8_t kEveryDay = 0;
constexpr uint8_t kMonday = 1 << 0;
constexpr uint8_t kFriday = 1 << 4;

TEST_CASE("New York: a skipped local time fires at the spring-forward jump") {
  const absl::TimeZone ny = Zone("America/New_York");
  // 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00Z). 02:30 does not exist.
  CHECK(NextLocalTime(Utc(2026, 3, 8, 5), ny, 2, 30, kEveryDay) == Utc(2026, 3, 8, 7));
  // 09:00 around the change: 14:00Z before, 13:00Z after.
  CHECK(NextLocalTime(Utc(2026, 3, 7, 5), ny, 9, 0, kEveryDay) == Utc(2026, 3, 7, 14));
  CHECK(NextLocalTime(Utc(2026, 3, 8, 5), ny, 9, 0, kEveryDay) == Utc(2026, 3, 8, 13));
}

TEST_CASE("New York: a repeated local time fires at its first occurrence") {
  const absl::TimeZone ny = Zone("America/New_York");
  // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens at 05:30Z
  // and again at 06:30Z.
  CHECK(NextLocalTime(Utc(2026, 11, 1, 4), ny, 1, 30, kEveryDay) == Utc(2026, 11, 1, 5, 30));
  // Between the two occurrences, the next one is the next day's.
  CHECK(NextLocalTime(Utc(2026, 11, 1, 6), ny, 1, 30, kEveryDay) == Utc(2026, 11, 2, 6, 30));
}

TEST_CASE("Berlin: spring-forward and fall-back days") {
  const absl::TimeZone berlin = Zone("Europe/Berlin");
  // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z).
  CHECK(NextLocalTime(Utc(2026, 3, 28, 23), berlin, 2, 15, kEveryDay) == Utc(2026, 3, 29, 1));
  // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 first at 00:30Z.
  CHECK(NextLocalTime(Utc(2026, 10, 24, 22), berlin, 2, 30, kEveryDay) ==
        Utc(2026, 10, 25, 0, 30));
  // An ordinary 08:00 on both days.
  CHECK(NextLocalTime(Utc(2026, 3, 28, 23), berlin, 8, 0, kEveryDay) == Utc(2026, 3, 29, 6));
  CHECK(NextLocalTime(Utc(2026, 10, 24, 22), berlin, 8, 0, kEveryDay) == Utc(2026, 10, 25, 7));
}

TEST_CASE("Weekday rules cross the week boundary") {
  const absl::TimeZone utc = absl::UTCTimeZone();
  // Saturday 2026-01-10 -> Monday 2026-01-12.
  CHECK(NextLocalTime(Utc(2026, 1, 10, 10), utc, 9, 0, kMonday) == Utc(2026, 1, 12, 9));
  // Sunday night -> Monday morning, the nearer of Monday and Friday.
  CHECK(NextLocalTime(Utc(2026, 1, 11, 23), utc, 9, 0, kMonday | kFriday) == Utc(2026, 1, 12, 9));
  // Friday after 09:00 -> next Friday.
  CHECK(NextLocalTime(Utc(2026, 1, 9, 10), utc, 9, 0, kFriday) == Utc(2026, 1, 16, 9));
  // Exactly at the time: now.
  CHECK(NextLocalTime(Utc(2026, 1, 9, 9), utc, 9, 0, kFriday) == Utc(2026, 1, 9, 9));
}

constexpr char kMorning[] = R"pb(
  id: "morning" version: 1
  settings { state: ACTIVE default_time_zone: "Asia/Shanghai" reentry { mode: CONCURRENT max_concurrent: 9 } }
  nodes { id: "t" trigger { event { matcher { event: "signup" } } next: "nine" } }
  nodes { id: "nine" delay { until_time_of_day { hour: 9 } next: "hello" } }
  nodes { id: "hello" action { channel: "push" template_id: "good_morning" } }
)pb";

TEST_CASE("Local-time delays use the subject's zone, else the journey's") {
  Harness h(Utc(2026, 1, 5, 12));  // 20:00 in Shanghai, 07:00 in New York.
  REQUIRE_THAT(h.DeployText(kMorning), IsOk());
  REQUIRE_THAT(h.Profile("ny", {{"time_zone", Value::String("America/New_York")}}), IsOk());
  REQUIRE_THAT(h.Profile("bad", {{"time_zone", Value::String("Not/AZone")}}), IsOk());
  for (const char* u : {"sh", "ny", "bad"}) REQUIRE_THAT(h.Event(u, "signup"), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 1, 7, 0)), IsOk());
  CHECK(h.Sent("ny")[0].time == Utc(2026, 1, 5, 14));   // 09:00 EST today
  CHECK(h.Sent("sh")[0].time == Utc(2026, 1, 6, 1));    // 09:00 CST tomorrow
  CHECK(h.Sent("bad")[0].time == Utc(2026, 1, 6, 1));   // falls back to Shanghai
}

constexpr char kTestDrive[] = R"pb(
  id: "reminder" version: 1
  settings { state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 9 } }
  nodes { id: "booked" trigger { event { matcher { event: "booked" } } next: "day_before" } }
  nodes { id: "day_before" delay { relative { path: "entry.appointment_time"
          offset { seconds: -86400 } if_past: CONTINUE } next: "remind" } }
  nodes { id: "remind" action { channel: "sms" template_id: "see_you_tomorrow" } }
)pb";

TEST_CASE("Relative delays: before a timestamp, already past, missing") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kTestDrive), IsOk());
  const absl::Time t0 = h.now();
  REQUIRE_THAT(h.Event("later", "booked",
                       {{"appointment_time", Value::Timestamp(t0 + absl::Hours(72))}}), IsOk());
  REQUIRE_THAT(h.Event("tomorrow", "booked",
                       {{"appointment_time", Value::Timestamp(t0 + absl::Hours(12))}}), IsOk());
  REQUIRE_THAT(h.Event("text", "booked",
                       {{"appointment_time", Value::String("2026-01-07T10:00:00+08:00")}}), IsOk());
  REQUIRE_THAT(h.Event("unknown", "booked"), IsOk());
  CHECK(h.SentTo("tomorrow", "sms") == 1);  // Already past: CONTINUE sends now.
  CHECK(h.Exits("unknown") == std::vector<std::string>{"delay_time_missing"});
  REQUIRE_THAT(h.Advance(absl::Hours(72)), IsOk());
  CHECK(h.Sent("later")[0].time == t0 + absl::Hours(48));
  CHECK(h.Sent("text")[0].time == Utc(2026, 1, 6, 2));

  Harness strict;
  std::string exit_text = kTestDrive;
  exit_text.replace(exit_text.find("CONTINUE"), 8, "EXIT");
  REQUIRE_THAT(strict.DeployText(exit_text), IsOk());
  REQUIRE_THAT(strict.Event("tomorrow", "booked",
                            {{"appointment_time", Value::Timestamp(t0 + absl::Hours(12))}}),
               IsOk());
  CHECK(strict.SentTo("tomorrow", "sms") == 0);
  CHECK(strict.Exits("tomorrow") == std::vector<std::string>{"delay_in_past"});
}

}  // namespace
}  // namespace cairn
