// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Scheduled entry: daily, weekly, monthly and one-off occurrences in the
// journey's zone and in each subject's own; daylight-saving days; the
// audience (a segment, a condition) evaluated as of the occurrence; runs
// done in slices between inputs with the same entries as one done at once;
// snapshots taken in the middle of a run; the report.

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "google/protobuf/text_format.h"
#include "testing/test_util.h"
#include "timer/schedule.h"

namespace cairn {
namespace {

using internal::OccurrenceOnOrAfter;
using internal::Recurrence;
using testing::Harness;
using testing::IsOk;
using testing::Local;
using testing::Utc;
using testing::Zone;

std::vector<absl::Time> SendTimes(const Harness& h, const std::string& subject,
                                  const std::string& channel = "push") {
  std::vector<absl::Time> times;
  for (const Message& m : h.Sent(subject, channel)) times.push_back(m.time);
  return times;
}

// ---- The calendar ----

TEST_CASE("Monthly occurrences on the 31st fall on each shorter month's last day") {
  Recurrence r;
  r.frequency = Recurrence::Frequency::kMonthly;
  r.day_of_month = 31;
  std::vector<absl::CivilDay> days;
  absl::CivilDay from(2028, 1, 1);
  for (int i = 0; i < 4; ++i) {
    const std::optional<absl::CivilDay> d = OccurrenceOnOrAfter(r, from);
    REQUIRE(d.has_value());
    days.push_back(*d);
    from = *d + 1;
  }
  CHECK(days == std::vector<absl::CivilDay>{absl::CivilDay(2028, 1, 31), absl::CivilDay(2028, 2, 29),
                                            absl::CivilDay(2028, 3, 31),
                                            absl::CivilDay(2028, 4, 30)});
  r.day_of_month = 29;
  CHECK(OccurrenceOnOrAfter(r, absl::CivilDay(2027, 2, 1)) == absl::CivilDay(2027, 2, 28));
  CHECK(OccurrenceOnOrAfter(r, absl::CivilDay(2027, 3, 1)) == absl::CivilDay(2027, 3, 29));
}

TEST_CASE("Weekly occurrences, a first and a last date, and a one-off") {
  Recurrence r;
  r.frequency = Recurrence::Frequency::kWeekly;
  r.weekday_mask = (1 << 0) | (1 << 3);  // Monday and Thursday
  // 2026-12-05 is a Saturday.
  CHECK(OccurrenceOnOrAfter(r, absl::CivilDay(2026, 12, 5)) == absl::CivilDay(2026, 12, 7));
  CHECK(OccurrenceOnOrAfter(r, absl::CivilDay(2026, 12, 8)) == absl::CivilDay(2026, 12, 10));
  // 2027-01-01 is a Friday: the first occurrence is Monday the 4th.
  r.first = absl::CivilDay(2027, 1, 1);
  r.last = absl::CivilDay(2027, 1, 7);
  CHECK(OccurrenceOnOrAfter(r, absl::CivilDay(2026, 12, 5)) == absl::CivilDay(2027, 1, 4));
  CHECK(OccurrenceOnOrAfter(r, absl::CivilDay(2027, 1, 5)) == absl::CivilDay(2027, 1, 7));
  CHECK_FALSE(OccurrenceOnOrAfter(r, absl::CivilDay(2027, 1, 8)).has_value());
  Recurrence once;
  once.first = absl::CivilDay(2027, 8, 25);
  CHECK(OccurrenceOnOrAfter(once, absl::CivilDay(2027, 1, 1)) == absl::CivilDay(2027, 8, 25));
  CHECK_FALSE(OccurrenceOnOrAfter(once, absl::CivilDay(2027, 8, 26)).has_value());
}

// ---- In the engine ----

// Every morning at 10:00 in Shanghai, members with points get a reminder.
constexpr char kDaily[] = R"pb(
  id: "daily" version: 1
  settings { state: ACTIVE default_time_zone: "Asia/Shanghai" reentry { mode: AFTER_EXIT } }
  nodes { id: "every_morning"
          trigger { schedule {
            schedule { frequency: DAILY at { hour: 10 } }
            condition { compare { path: "profile.points" op: GT value { int_value: 0 } } } }
          next: "remind" } }
  nodes { id: "remind" action { channel: "push" template_id: "points"
          params { key: "day" value: "{{entry.occurrence}}" } } })pb";

TEST_CASE("A daily schedule enters its audience at each occurrence, in the journey's zone") {
  Harness h(Utc(2026, 12, 6));
  REQUIRE_THAT(h.DeployText(kDaily), IsOk());
  REQUIRE_THAT(h.Profile("a", {{"points", Value::Int(10)}}), IsOk());
  REQUIRE_THAT(h.Profile("b", {{"points", Value::Int(0)}}), IsOk());
  REQUIRE_THAT(h.Profile("c", {{"points", Value::Int(3)}}), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 8, 12)), IsOk());
  // 10:00 Shanghai is 02:00 UTC: on the 6th, 7th and 8th.
  const std::vector<absl::Time> days = {Local("Asia/Shanghai", 2026, 12, 6, 10),
                                        Local("Asia/Shanghai", 2026, 12, 7, 10),
                                        Local("Asia/Shanghai", 2026, 12, 8, 10)};
  CHECK(SendTimes(h, "a") == days);
  CHECK(SendTimes(h, "b").empty());
  CHECK(SendTimes(h, "c") == days);
  CHECK(h.Sent("a")[1].params ==
        std::vector<std::pair<std::string, std::string>>{{"day", "2026-12-07"}});
  const v1::JourneyReport report = *h.Report("daily");
  const v1::ScheduleCounts& counts = report.versions(0).schedule();
  CHECK(counts.occurrences() == 3);
  CHECK(counts.completed() == 3);
  CHECK(counts.evaluated() == 9);
  CHECK(counts.matched() == 6);
  CHECK(report.versions(0).entered() == 6);
  CHECK(report.schedule().next_date() == "2026-12-09");
  CHECK(report.schedule().next_begins() == "2026-12-09T02:00:00+00:00");
  CHECK(report.schedule().runs_size() == 0);
}

TEST_CASE("The audience is as of the occurrence: a change after it waits for the next one") {
  Harness h(Utc(2026, 12, 6));
  REQUIRE_THAT(h.DeployText(kDaily), IsOk());
  REQUIRE_THAT(h.Profile("a", {{"points", Value::Int(0)}}), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Local("Asia/Shanghai", 2026, 12, 6, 10, 30)), IsOk());
  REQUIRE_THAT(h.Profile("a", {{"points", Value::Int(5)}}), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Local("Asia/Shanghai", 2026, 12, 7, 9)), IsOk());
  CHECK(SendTimes(h, "a").empty());
  REQUIRE_THAT(h.AdvanceTo(Local("Asia/Shanghai", 2026, 12, 7, 11)), IsOk());
  CHECK(SendTimes(h, "a") == std::vector<absl::Time>{Local("Asia/Shanghai", 2026, 12, 7, 10)});
}

TEST_CASE("A paused journey skips its occurrences, counted, and resumes at the next") {
  Harness h(Utc(2026, 12, 6));
  REQUIRE_THAT(h.DeployText(kDaily), IsOk());
  REQUIRE_THAT(h.Profile("a", {{"points", Value::Int(1)}}), IsOk());
  REQUIRE_THAT(h.engine().SetJourneyState("daily", v1::PAUSED), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 6, 12)), IsOk());
  REQUIRE_THAT(h.engine().SetJourneyState("daily", v1::ACTIVE), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 7, 12)), IsOk());
  CHECK(SendTimes(h, "a") == std::vector<absl::Time>{Local("Asia/Shanghai", 2026, 12, 7, 10)});
  const v1::ScheduleCounts counts = h.Report("daily")->versions(0).schedule();
  CHECK(counts.occurrences() == 2);
  CHECK(counts.skipped() == 1);
  CHECK(counts.completed() == 1);
}

// Mondays at 09:00 in each subject's own zone, for the members of a segment.
constexpr char kWeeklyLocal[] = R"pb(
  id: "weekly" version: 1
  settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "monday"
          trigger { schedule {
            schedule { frequency: WEEKLY at { hour: 9 weekdays: MONDAY } subject_time_zone: true }
            segment: "subscribers" }
          next: "digest" } }
  nodes { id: "digest" action { channel: "email" template_id: "weekly_digest" } })pb";

constexpr char kSubscribers[] = R"pb(
  segments { name: "subscribers"
             condition { compare { path: "profile.subscribed" op: EQ value { bool_value: true } } } })pb";

TEST_CASE("A weekly schedule in each subject's zone: each at its own 09:00 on Monday") {
  Harness h(Utc(2026, 12, 5));
  v1::BehaviorSet set;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(kSubscribers, &set));
  REQUIRE_THAT(h.engine().DeclareBehaviors(set), IsOk());
  REQUIRE_THAT(h.DeployText(kWeeklyLocal), IsOk());
  REQUIRE_THAT(h.Profile("sh", {{"subscribed", Value::Bool(true)},
                                {"time_zone", Value::String("Asia/Shanghai")}}),
               IsOk());
  REQUIRE_THAT(h.Profile("ny", {{"subscribed", Value::Bool(true)},
                                {"time_zone", Value::String("America/New_York")}}),
               IsOk());
  REQUIRE_THAT(h.Profile("utc", {{"subscribed", Value::Bool(true)}}), IsOk());
  REQUIRE_THAT(h.Profile("gone", {{"subscribed", Value::Bool(false)}}), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 15)), IsOk());
  // Monday 2026-12-07 and 2026-12-14.
  CHECK(SendTimes(h, "sh", "email") ==
        std::vector<absl::Time>{Local("Asia/Shanghai", 2026, 12, 7, 9),
                                Local("Asia/Shanghai", 2026, 12, 14, 9)});
  CHECK(SendTimes(h, "ny", "email") ==
        std::vector<absl::Time>{Local("America/New_York", 2026, 12, 7, 9),
                                Local("America/New_York", 2026, 12, 14, 9)});
  CHECK(SendTimes(h, "utc", "email") ==
        std::vector<absl::Time>{Utc(2026, 12, 7, 9), Utc(2026, 12, 14, 9)});
  CHECK(SendTimes(h, "gone", "email").empty());
  const v1::ScheduleCounts counts = h.Report("weekly")->versions(0).schedule();
  CHECK(counts.occurrences() == 2);
  CHECK(counts.completed() == 2);
  CHECK(counts.evaluated() == 8);
  CHECK(counts.matched() == 6);
}

TEST_CASE("A subject whose zone changes before its local time enters at the new zone's") {
  Harness h(Utc(2026, 12, 5));
  v1::BehaviorSet set;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(kSubscribers, &set));
  REQUIRE_THAT(h.engine().DeclareBehaviors(set), IsOk());
  REQUIRE_THAT(h.DeployText(kWeeklyLocal), IsOk());
  REQUIRE_THAT(h.Profile("mover", {{"subscribed", Value::Bool(true)},
                                   {"time_zone", Value::String("Asia/Shanghai")}}),
               IsOk());
  // Sunday evening UTC: Monday has begun in Shanghai (the run is under
  // way) but 09:00 has not come there; the subject moves to New York.
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 6, 20)), IsOk());
  REQUIRE_THAT(h.Profile("mover", {{"subscribed", Value::Bool(true)},
                                   {"time_zone", Value::String("America/New_York")}}),
               IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 8)), IsOk());
  CHECK(SendTimes(h, "mover", "email") ==
        std::vector<absl::Time>{Local("America/New_York", 2026, 12, 7, 9)});
}

TEST_CASE("Daily at 02:30 in New York across both daylight-saving changes") {
  Harness h(Utc(2027, 3, 13));
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "night" version: 1
    settings { state: ACTIVE default_time_zone: "America/New_York" reentry { mode: AFTER_EXIT } }
    nodes { id: "t" trigger { schedule { schedule { frequency: DAILY at { hour: 2 minute: 30 } } }
            next: "ping" } }
    nodes { id: "ping" action { channel: "push" template_id: "x" } })pb"),
               IsOk());
  REQUIRE_THAT(h.Profile("p", {}), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2027, 3, 16)), IsOk());
  // 2027-03-14: 02:30 does not exist; it resolves to the jump (07:00Z).
  CHECK(SendTimes(h, "p") == std::vector<absl::Time>{Utc(2027, 3, 13, 7, 30), Utc(2027, 3, 14, 7),
                                                     Utc(2027, 3, 15, 6, 30)});
}

TEST_CASE("A one-off schedule runs once and a new version does not run it again") {
  Harness h(Utc(2027, 8, 20));
  const std::string once = R"pb(
    id: "term" version: 1
    settings { state: ACTIVE default_time_zone: "Asia/Shanghai" reentry { mode: AFTER_EXIT } }
    nodes { id: "t" trigger { schedule { schedule { frequency: ONCE start_date: "2027-08-25"
                                                    at { hour: 9 } } }
            next: "offer" } }
    nodes { id: "offer" action { channel: "sms" template_id: "bundle" } })pb";
  REQUIRE_THAT(h.DeployText(once), IsOk());
  REQUIRE_THAT(h.Profile("m", {}), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2027, 8, 26)), IsOk());
  CHECK(h.SentTo("m", "sms") == 1);
  std::string v2 = once;
  v2.replace(v2.find("version: 1"), 10, "version: 2");
  REQUIRE_THAT(h.DeployText(v2), IsOk());
  REQUIRE_THAT(h.AdvanceTo(Utc(2027, 9, 30)), IsOk());
  CHECK(h.SentTo("m", "sms") == 1);
  CHECK(h.Report("term")->schedule().next_date().empty());
}

// ---- Runs in slices ----

// Everyone with a plan gets a weekly nudge; the run over many subjects is
// done in slices while inputs keep coming.
constexpr char kNudge[] = R"pb(
  id: "nudge" version: 1
  settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "t" trigger { schedule {
            schedule { frequency: DAILY at { hour: 12 } }
            condition { compare { path: "profile.plan" op: EQ value { string_value: "pro" } } } }
          next: "nudge" } }
  nodes { id: "nudge" action { channel: "push" template_id: "n" } })pb";

struct RunResult {
  std::map<std::string, int> sends;  // Per subject.
  v1::ScheduleCounts counts;
  int64_t pending_after_first_input = -1;
};

// 2,000 subjects, half "pro"; at the occurrence, inputs change the plan of
// some subjects, both ones the run has reached and ones it has not.
RunResult RunNudge(int64_t slice) {
  EngineOptions options;
  options.scheduled_run_slice = slice;
  Harness h(Utc(2026, 12, 6), options);
  REQUIRE_THAT(h.DeployText(kNudge), IsOk());
  for (int i = 0; i < 2000; ++i) {
    REQUIRE_THAT(h.Profile(absl::StrCat("s", i),
                           {{"plan", Value::String(i % 2 == 0 ? "pro" : "free")}}),
                 IsOk());
  }
  RunResult result;
  const absl::Time noon = Utc(2026, 12, 6, 12);
  // The host's clock reaches noon: the run begins (one slice), and the
  // AdvanceTo, an input, takes another.
  REQUIRE_THAT(h.engine().AdvanceTo(noon), IsOk());
  for (int i = 0; i < 40; ++i) {
    // Subjects all over the table flip their plan right after noon.
    const int who = (i * 997) % 2000;
    REQUIRE_THAT(h.engine().UpsertProfile(absl::StrCat("s", who),
                                          {{"plan", Value::String(who % 2 == 0 ? "free" : "pro")}},
                                          noon + absl::Seconds(i + 1)),
                 IsOk());
    if (i == 0) {
      const v1::JourneyReport report = *h.Report("nudge");
      result.pending_after_first_input =
          report.schedule().runs_size() == 0 ? 0 : report.schedule().runs(0).pending();
    }
  }
  REQUIRE_THAT(h.AdvanceTo(noon + absl::Hours(1)), IsOk());
  while (h.engine().RunScheduled(100) > 0) {
  }
  for (const Message& m : h.Sent()) ++result.sends[m.subject_id];
  result.counts = h.Report("nudge")->versions(0).schedule();
  return result;
}

TEST_CASE("A run in slices enters exactly whom a run done at once enters") {
  const RunResult at_once = RunNudge(1000000);
  const RunResult sliced = RunNudge(50);
  CHECK(at_once.pending_after_first_input == 0);
  // 50 when the occurrence begins, 50 with the AdvanceTo and 50 with the
  // first profile update: most subjects wait.
  CHECK(sliced.pending_after_first_input == 1850);
  CHECK(at_once.sends.size() == 1000);
  CHECK(sliced.sends == at_once.sends);
  CHECK(sliced.counts.evaluated() == 2000);
  CHECK(sliced.counts.matched() == 1000);
  CHECK(sliced.counts.completed() == 1);
  CHECK(sliced.counts.SerializeAsString() == at_once.counts.SerializeAsString());
}

TEST_CASE("One input over several occurrences finishes each run before the next begins") {
  EngineOptions options;
  options.scheduled_run_slice = 10;
  Harness h(Utc(2026, 12, 6), options);
  REQUIRE_THAT(h.DeployText(kNudge), IsOk());
  for (int i = 0; i < 100; ++i) {
    REQUIRE_THAT(h.Profile(absl::StrCat("s", i), {{"plan", Value::String("pro")}}), IsOk());
  }
  // Noon on the 6th, 7th, 8th and 9th: each day's run is finished, whole,
  // when the next begins; the last has its first slice and the AdvanceTo's.
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 9, 13)), IsOk());
  v1::JourneyReport report = *h.Report("nudge");
  CHECK(report.versions(0).schedule().occurrences() == 4);
  CHECK(report.versions(0).schedule().completed() == 3);
  REQUIRE(report.schedule().runs_size() == 1);
  CHECK(report.schedule().runs(0).date() == "2026-12-09");
  CHECK(report.schedule().runs(0).pending() == 80);
  CHECK(h.Sent().size() == 320);
  // Yesterday's late ones went when today's occurrence began.
  CHECK(h.Sent("s99")[0].time == Utc(2026, 12, 7, 12));
  CHECK(h.engine().RunScheduled(1000) == 0);
  CHECK(h.Sent().size() == 400);
  CHECK(h.Report("nudge")->versions(0).schedule().completed() == 4);
}

TEST_CASE("A snapshot in the middle of a run restores and continues identically") {
  EngineOptions options;
  options.scheduled_run_slice = 30;
  auto build = [&](Harness* h) {
    REQUIRE_THAT(h->DeployText(kNudge), IsOk());
  };
  Harness h(Utc(2026, 12, 6), options);
  build(&h);
  for (int i = 0; i < 300; ++i) {
    REQUIRE_THAT(h.Profile(absl::StrCat("s", i), {{"plan", Value::String("pro")}}), IsOk());
  }
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 6, 12)), IsOk());
  REQUIRE(h.Report("nudge")->schedule().runs_size() == 1);
  std::ostringstream out;
  REQUIRE_THAT(h.engine().Snapshot(out), IsOk());

  Harness restored(h.now(), options);
  build(&restored);
  std::istringstream in(out.str());
  REQUIRE_THAT(restored.engine().Restore(in), IsOk());
  for (Harness* x : {&h, &restored}) {
    for (int i = 0; i < 20; ++i) {
      REQUIRE_THAT(x->Event(absl::StrCat("s", i * 13), "open", x->now() + absl::Seconds(1)),
                   IsOk());
    }
  }
  auto sends = [](const Harness& x) {
    std::vector<std::string> out;
    for (const Message& m : x.Sent()) {
      out.push_back(absl::StrCat(m.subject_id, " ", m.message_id, " ", absl::FormatTime(m.time)));
    }
    return out;
  };
  std::vector<std::string> before = sends(h);
  // The harness that never stopped also recorded the sends before the
  // snapshot: compare what came after.
  const std::vector<std::string> after_restore = sends(restored);
  REQUIRE(before.size() >= after_restore.size());
  before.erase(before.begin(), before.end() - static_cast<ptrdiff_t>(after_restore.size()));
  CHECK(after_restore == before);
  CHECK(h.Report("nudge")->SerializeAsString() == restored.Report("nudge")->SerializeAsString());
}

TEST_CASE("Subjects first seen during a run are not in it and a snapshot then restores exactly") {
  EngineOptions options;
  options.scheduled_run_slice = 30;
  Harness h(Utc(2026, 12, 6), options);
  REQUIRE_THAT(h.DeployText(kNudge), IsOk());
  for (int i = 0; i < 100; ++i) {
    REQUIRE_THAT(h.Profile(absl::StrCat("s", i), {{"plan", Value::String("pro")}}), IsOk());
  }
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 6, 12)), IsOk());
  REQUIRE(h.Report("nudge")->schedule().runs_size() == 1);
  // Two hundred more, seen after the run began: the run's bits end before
  // them, and a snapshot must write theirs as 0 (not whatever lies past
  // the run's words).
  for (int i = 100; i < 300; ++i) {
    REQUIRE_THAT(h.Profile(absl::StrCat("s", i), {{"plan", Value::String("pro")}}), IsOk());
  }
  std::ostringstream out;
  REQUIRE_THAT(h.engine().Snapshot(out), IsOk());
  Harness restored(h.now(), options);
  REQUIRE_THAT(restored.DeployText(kNudge), IsOk());
  std::istringstream in(out.str());
  REQUIRE_THAT(restored.engine().Restore(in), IsOk());
  std::ostringstream again;
  REQUIRE_THAT(restored.engine().Snapshot(again), IsOk());
  CHECK(again.str() == out.str());
  for (Harness* x : {&h, &restored}) {
    REQUIRE_THAT(x->Advance(absl::Hours(1)), IsOk());
    // The day's run reached the first hundred only; tomorrow's reaches all.
    CHECK(x->SentTo("s99", "push") <= 1);
    CHECK(x->SentTo("s100", "push") == 0);
    CHECK(x->SentTo("s299", "push") == 0);
    REQUIRE_THAT(x->AdvanceTo(Utc(2026, 12, 7, 13)), IsOk());
    x->engine().RunScheduled(1000);  // Finish the run: one input does a slice.
    CHECK(x->SentTo("s299", "push") == 1);
  }
  CHECK(h.Report("nudge")->SerializeAsString() == restored.Report("nudge")->SerializeAsString());
  CHECK(h.SentTo("s99", "push") == 2);
}

TEST_CASE("A run that an input for its last subject completes is counted then and restores") {
  // Found by engine_inputs_fuzz: the input's own slice evaluated one of the
  // last two subjects, then its catch-up evaluated the other. The run, with
  // no subject left, stayed until the next slice, and a snapshot taken in
  // between wrote a run Restore refuses ("schedule run is out of range").
  EngineOptions options;
  options.scheduled_run_slice = 1;
  Harness h(Utc(2026, 12, 6), options);
  REQUIRE_THAT(h.DeployText(kNudge), IsOk());
  for (int i = 0; i < 4; ++i) {
    REQUIRE_THAT(h.Profile(absl::StrCat("s", i), {{"plan", Value::String("pro")}}), IsOk());
  }
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 6, 12)), IsOk());
  while (h.engine().RunScheduled(0) > 2) h.engine().RunScheduled(1);
  REQUIRE(h.engine().RunScheduled(0) == 2);
  // s3 comes last in the run: the update's slice takes s2, its catch-up s3.
  REQUIRE_THAT(h.Profile("s3", {{"plan", Value::String("pro")}}), IsOk());
  // (Not RunScheduled(0) to look: its slice would remove a finished run.)
  const v1::ScheduleCounts counts = h.Report("nudge")->versions(0).schedule();
  CHECK(counts.completed() == 1);
  CHECK(counts.evaluated() == 4);
  CHECK(h.Report("nudge")->schedule().runs_size() == 0);
  std::ostringstream out;
  REQUIRE_THAT(h.engine().Snapshot(out), IsOk());
  Harness restored(h.now(), options);
  REQUIRE_THAT(restored.DeployText(kNudge), IsOk());
  std::istringstream in(out.str());
  REQUIRE_THAT(restored.engine().Restore(in), IsOk());
  CHECK(h.Report("nudge")->SerializeAsString() == restored.Report("nudge")->SerializeAsString());
}

// Every send, by subject (subjects never span shards).
class SendLog : public ChannelSink {
 public:
  SendResult Send(const Message& m) override {
    absl::StrAppend(&logs[m.subject_id], m.message_id, " ", m.template_id, " ",
                    absl::FormatTime(m.time), "\n");
    return SendResult::Accepted();
  }
  std::map<std::string, std::string> logs;
};

TEST_CASE("Scheduled runs on a ShardedEngine equal one engine's, for any shard count") {
  v1::BehaviorSet set;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(kSubscribers, &set));
  const char* zones[] = {"Asia/Shanghai", "America/New_York", "Europe/Paris", ""};
  auto set_up = [&](Engine& engine, SendLog* log) -> absl::Status {
    for (const char* channel : {"push", "email"}) {
      CAIRN_RETURN_IF_ERROR(engine.RegisterChannel(channel, log));
    }
    CAIRN_RETURN_IF_ERROR(engine.DeclareBehaviors(set));
    for (const char* text : {kDaily, kWeeklyLocal}) {
      CAIRN_ASSIGN_OR_RETURN(v1::Journey j, ParseJourney(text, JourneyFormat::kText));
      CAIRN_RETURN_IF_ERROR(engine.Deploy(j));
    }
    return absl::OkStatus();
  };
  EngineOptions options;
  options.start_time = Utc(2026, 12, 5);
  // Runs done whole when they begin (the default slice holds them): with
  // smaller slices who enters is still the same, but when depends on how
  // many inputs each engine gets (see the test above).
  auto profile = [&](int i) {
    Attributes a = {{"points", Value::Int(i % 3)}, {"subscribed", Value::Bool(i % 4 != 0)}};
    if (zones[i % 4][0] != '\0') a.emplace_back("time_zone", Value::String(zones[i % 4]));
    std::sort(a.begin(), a.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    return a;
  };

  Engine one(options);
  SendLog one_log;
  REQUIRE_THAT(set_up(one, &one_log), IsOk());
  for (int i = 0; i < 60; ++i) {
    REQUIRE_THAT(one.UpsertProfile(absl::StrCat("u", i), profile(i), options.start_time), IsOk());
  }
  for (int h = 1; h <= 24 * 10; ++h) {
    REQUIRE_THAT(one.AdvanceTo(options.start_time + absl::Hours(h)), IsOk());
  }
  while (one.RunScheduled(1000) > 0) {
  }

  for (int shards : {1, 3}) {
    INFO(shards << " shards");
    std::vector<std::unique_ptr<SendLog>> logs;
    for (int i = 0; i < shards; ++i) logs.push_back(std::make_unique<SendLog>());
    ShardedEngineOptions sharded_options;
    sharded_options.shards = shards;
    sharded_options.engine = options;
    absl::StatusOr<std::unique_ptr<ShardedEngine>> sharded = ShardedEngine::Create(
        sharded_options, [&](int shard, Engine& e) { return set_up(e, logs[shard].get()); });
    REQUIRE_THAT(testing::StatusOf(sharded), IsOk());
    for (int i = 0; i < 60; ++i) {
      REQUIRE_THAT((*sharded)->UpsertProfile(absl::StrCat("u", i), profile(i), options.start_time),
                   IsOk());
    }
    for (int h = 1; h <= 24 * 10; ++h) {
      (*sharded)->AdvanceTo(options.start_time + absl::Hours(h));
    }
    while ((*sharded)->RunScheduled(1000) > 0) {
    }
    std::map<std::string, std::string> merged;
    for (const auto& log : logs) merged.insert(log->logs.begin(), log->logs.end());
    CHECK(merged == one_log.logs);
    for (const char* journey : {"daily", "weekly"}) {
      const v1::JourneyReport a = *one.Report(journey);
      const v1::JourneyReport b = *(*sharded)->Report(journey);
      CHECK(a.versions(0).schedule().SerializeAsString() ==
            b.versions(0).schedule().SerializeAsString());
      CHECK(a.versions(0).entered() == b.versions(0).entered());
    }
  }
  CHECK(one_log.logs.size() > 30);
}

}  // namespace
}  // namespace cairn
