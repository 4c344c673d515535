// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Local-time delays: DST spring-forward and fall-back days in two zones,
// weekday rules across a week boundary, subject time zones (and names that
// must never reach the zone loader: it reads a name as a path), the bounded
// zone cache, and delays relative to a timestamp attribute.

#include "timer/local_time.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "testing/test_util.h"

namespace cairn {
namespace {

using internal::NextLocalTime;
using internal::ParseDate;
using testing::Harness;
using testing::IsOk;
using testing::Utc;
using testing::Zone;

constexpr uint8_t kEveryDay = 0;
constexpr uint8_t kMonday = 1 << 0;
constexpr uint8_t kFriday = 1 << 4;

TEST_CASE("ParseDate takes only the form a date is written back in") {
  REQUIRE(ParseDate("2027-01-31"));
  CHECK(*ParseDate("2027-01-31") == absl::CivilDay(2027, 1, 31));
  // Each of these absl::ParseCivilTime takes; written back, none reads the
  // same (a snapshot holding one would not restore).
  for (const char* text : {"+027-01-01", " 2027-1-01", "2027-1-01 ", "2027-01-1 ", "0000-01-01",
                           "0999-12-31", "-999-01-01", "1990-02-29", "2027-13-01"}) {
    INFO(text);
    CHECK_FALSE(ParseDate(text));
  }
}

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

TEST_CASE("Local day numbers: UTC's division agrees with the calendar") {
  const absl::TimeZone utc = absl::UTCTimeZone();
  absl::TimeZone shanghai, new_york;
  REQUIRE(absl::LoadTimeZone("Asia/Shanghai", &shanghai));
  REQUIRE(absl::LoadTimeZone("America/New_York", &new_york));
  absl::TimeZone loaded_utc;  // By name: the same zone, so the same fast path.
  REQUIRE(absl::LoadTimeZone("UTC", &loaded_utc));
  const absl::CivilDay epoch(1970, 1, 1);
  // Either side of midnights before and after 1970 (negative seconds floor
  // to the day before), the edges of the day, and far times.
  std::vector<absl::Time> times;
  for (int64_t day : {-719162, -40000, -2, -1, 0, 1, 20454, 84006}) {
    for (int64_t offset : {-1, 0, 1, 43200, 86399}) {
      times.push_back(absl::FromUnixSeconds(day * 86400 + offset));
      times.push_back(absl::FromUnixSeconds(day * 86400 + offset) + absl::Nanoseconds(1));
      times.push_back(absl::FromUnixSeconds(day * 86400 + offset) - absl::Nanoseconds(1));
    }
  }
  for (absl::Time t : times) {
    INFO(absl::FormatTime(t));
    CHECK(internal::LocalDayNumber(t, utc) == absl::ToCivilDay(t, utc) - epoch);
    CHECK(internal::LocalDayNumber(t, loaded_utc) == absl::ToCivilDay(t, utc) - epoch);
    CHECK(internal::LocalDayNumber(t, shanghai) == absl::ToCivilDay(t, shanghai) - epoch);
    CHECK(internal::LocalDayNumber(t, new_york) == absl::ToCivilDay(t, new_york) - epoch);
  }
  // 23:30 UTC is the next day in Shanghai and the same day in New York.
  const absl::Time late = absl::FromCivil(absl::CivilMinute(2026, 3, 8, 23, 30), utc);
  CHECK(internal::LocalDayNumber(late, shanghai) == internal::LocalDayNumber(late, utc) + 1);
  CHECK(internal::LocalDayNumber(late, new_york) == internal::LocalDayNumber(late, utc));
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
  // "sh" has no zone attribute: the default is meant, not counted.
  CHECK(h.engine().stats().unknown_time_zones == 1);
}

TEST_CASE("Zone names: only well-formed IANA names are accepted") {
  using internal::IsWellFormedTimeZoneName;
  for (const char* good :
       {"UTC", "Etc/GMT+5", "Etc/GMT-14", "EST5EDT", "America/Argentina/Buenos_Aires",
        "America/Port-au-Prince", "Asia/Shanghai", "America/Argentina/ComodRivadavia"}) {
    INFO(good);
    CHECK(IsWellFormedTimeZoneName(good));
    CHECK(internal::LoadZone(good).has_value());
  }
  for (const std::string& bad : std::vector<std::string>{
           "", "/etc/localtime", "/proc/self/environ", "../../../../etc/passwd",
           "America/../../etc/passwd", "./UTC", "Asia/./Shanghai", "Asia//Shanghai", "Asia/",
           "file:/etc/passwd", "file:UTC", "Asia/Shang hai", "Asia\\Shanghai", "-UTC",
           "Asia/_Shanghai", std::string("UTC\0/x", 5), "Europe/Z\xc3\xbcrich",
           "Asia/" + std::string(internal::kMaxTimeZoneNameLength, 'A')}) {
    INFO(bad);
    CHECK_FALSE(IsWellFormedTimeZoneName(bad));
    CHECK_FALSE(internal::LoadZone(bad).has_value());
  }
  // Well-formed, but the host's own zone, which differs between machines.
  CHECK(IsWellFormedTimeZoneName("localtime"));
  CHECK_FALSE(internal::LoadZone("localtime").has_value());
  // The bound itself.
  CHECK(IsWellFormedTimeZoneName(std::string(internal::kMaxTimeZoneNameLength, 'A')));
  CHECK_FALSE(IsWellFormedTimeZoneName(std::string(internal::kMaxTimeZoneNameLength + 1, 'A')));
}

TEST_CASE("The zone cache holds at most its capacity and answers the same beyond it") {
  internal::TimeZoneCache cache(/*capacity=*/2);
  for (int round = 0; round < 2; ++round) {
    for (const char* name : {"UTC", "Asia/Shanghai", "Europe/Berlin", "America/New_York"}) {
      INFO(name);
      std::optional<absl::TimeZone> tz = cache.Find(name);
      REQUIRE(tz.has_value());
      CHECK(tz->name() == name);
    }
    // Names that do not load are never held.
    CHECK_FALSE(cache.Find("Not/AZone").has_value());
    CHECK_FALSE(cache.Find("../../../../etc/passwd").has_value());
    CHECK(cache.size() == 2);
  }
}

// Feeds a subject whose zone attribute names `path` into a local-time delay,
// with a watchdog: the zone loader used to open any path, and a FIFO without
// a writer blocks that open for good. Returns whether the event came back in
// time; if not, opens the FIFO for writing so that the engine thread ends.
bool SignupReturnsAtOnce(Harness* h, const std::string& subject, const std::string& path) {
  REQUIRE_THAT(h->Profile(subject, {{"time_zone", Value::String(path)}}), IsOk());
  std::future<absl::Status> done =
      std::async(std::launch::async, [&] { return h->Event(subject, "signup"); });
  if (done.wait_for(std::chrono::seconds(10)) == std::future_status::ready) {
    CHECK_THAT(done.get(), IsOk());
    return true;
  }
  const int fd = open(path.c_str(), O_WRONLY);
  if (fd >= 0) close(fd);
  done.wait();
  return false;
}

TEST_CASE("A zone attribute that is a path is counted and never opened") {
  const std::filesystem::path dir =
      std::filesystem::path(CAIRN_TEST_TMPDIR) / "local_time_test_fifo";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string fifo = (dir / "zone").string();
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);

  Harness h(Utc(2026, 1, 5, 12));  // 20:00 in Shanghai.
  REQUIRE_THAT(h.DeployText(kMorning), IsOk());
  CHECK(SignupReturnsAtOnce(&h, "fifo", fifo));
  CHECK(SignupReturnsAtOnce(&h, "passwd", "../../../../../../../../etc/passwd"));
  CHECK(SignupReturnsAtOnce(&h, "environ", "/proc/self/environ"));
  REQUIRE_THAT(h.Profile("number", {{"time_zone", Value::Int(8)}}), IsOk());
  REQUIRE_THAT(h.Event("number", "signup"), IsOk());
  CHECK(h.engine().stats().unknown_time_zones == 4);

  // The count is state: it survives a snapshot.
  std::stringstream snapshot;
  REQUIRE_THAT(h.engine().Snapshot(snapshot), IsOk());
  Harness restored(Utc(2026, 1, 5, 12));
  REQUIRE_THAT(restored.DeployText(kMorning), IsOk());
  REQUIRE_THAT(restored.engine().Restore(snapshot), IsOk());
  CHECK(restored.engine().stats().unknown_time_zones == 4);

  // Each falls back to the journey's zone: 09:00 in Shanghai tomorrow.
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 1, 7, 0)), IsOk());
  for (const char* u : {"fifo", "passwd", "environ", "number"}) {
    INFO(u);
    REQUIRE(h.Sent(u).size() == 1);
    CHECK(h.Sent(u)[0].time == Utc(2026, 1, 6, 1));
  }
  std::filesystem::remove_all(dir);
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
