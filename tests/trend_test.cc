// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Per-day trend counters (JourneySettings.trend_days, VersionReport.days):
// entries, exits, sends, deliveries and goal conversions bucketed by the
// day in the journey's zone at engine time, across the zone's midnight;
// the window's bound; snapshots (and forged per-day counts refused);
// merged reports of shards; the compiler's check.

#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "cairn/sharded_engine.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "testing/snapshot_records.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::Harness;
using testing::IsOk;
using testing::StatusOf;
using testing::TextJourney;
using testing::Utc;

// A welcome push measured two ways: a goal node (an order within a day of
// the push) and a journey goal (a payment within two days of entry). Days
// are Shanghai's (UTC+8): its midnight is 16:00 UTC.
std::string Welcome(int trend_days) {
  return absl::StrCat(R"pb(
    id: "welcome"
    version: 1
    settings {
      state: ACTIVE
      default_time_zone: "Asia/Shanghai"
      trend_days: )pb",
                      trend_days, R"pb(
      goals { name: "paid_2d" conversion { event: "payment" } window { seconds: 172800 } }
    }
    nodes {
      id: "signed_up"
      trigger { event { matcher { event: "signup" } } next: "push" }
    }
    nodes {
      id: "push"
      action { channel: "push" template_id: "welcome" next: "ordered_1d" }
    }
    nodes {
      id: "ordered_1d"
      goal {
        conversion { event: "order" }
        window { seconds: 86400 }
        on_converted: "done"
        on_expired: "done"
      }
    }
    nodes { id: "done" exit { reason: "done" } }
  )pb");
}

struct Day {
  std::string date;
  int64_t entered, exited, sent, delivered, ordered, paid;
};

std::vector<Day> Days(const v1::VersionReport& v) {
  std::vector<Day> days;
  for (const v1::DayCounts& d : v.days()) {
    REQUIRE(d.goals_size() == 2);
    CHECK(d.goals(0).name() == "ordered_1d");
    CHECK(d.goals(1).name() == "paid_2d");
    days.push_back({d.date(), d.entered(), d.exited(), d.sent(), d.delivered(),
                    d.goals(0).converted(), d.goals(1).converted()});
  }
  return days;
}

bool operator==(const Day& a, const Day& b) {
  return a.date == b.date && a.entered == b.entered && a.exited == b.exited && a.sent == b.sent &&
         a.delivered == b.delivered && a.ordered == b.ordered && a.paid == b.paid;
}

std::ostream& operator<<(std::ostream& os, const Day& d) {
  return os << d.date << " entered " << d.entered << " exited " << d.exited << " sent " << d.sent
            << " delivered " << d.delivered << " ordered " << d.ordered << " paid " << d.paid;
}

std::vector<Day> DaysOf(Harness& h) {
  absl::StatusOr<v1::JourneyReport> report = h.Report("welcome");
  REQUIRE_THAT(StatusOf(report), IsOk());
  return Days(report->versions(0));
}

TEST_CASE("Trend counts fall on the day in the journey's zone across its midnight") {
  Harness h(Utc(2026, 1, 5, 12));
  REQUIRE_THAT(h.DeployText(Welcome(7)), IsOk());
  // 15:59:59 UTC is 23:59:59 on the 5th in Shanghai; 16:00 is the 6th.
  REQUIRE_THAT(h.Event("ana", "signup", Utc(2026, 1, 5, 15, 59) + absl::Seconds(59)), IsOk());
  REQUIRE_THAT(h.Event("bo", "signup", Utc(2026, 1, 5, 16)), IsOk());
  REQUIRE_THAT(h.Deliver(h.Sent("ana")[0].message_id), IsOk());
  REQUIRE_THAT(h.Event("ana", "order", Utc(2026, 1, 5, 17)), IsOk());
  REQUIRE_THAT(h.Event("bo", "payment", Utc(2026, 1, 6, 3)), IsOk());
  // bo's order window ends at 16:00 on the 6th, the 7th in Shanghai.
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 1, 6, 16, 30)), IsOk());
  CHECK(DaysOf(h) == std::vector<Day>{
                         {"2026-01-05", 1, 0, 1, 0, 0, 0},
                         {"2026-01-06", 1, 1, 1, 1, 1, 1},
                         {"2026-01-07", 0, 1, 0, 0, 0, 0},
                     });
  // The version's own counters agree with the sums.
  const v1::VersionReport v = h.Report("welcome")->versions(0);
  CHECK(v.entered() == 2);
  CHECK(v.exited() == 2);
}

TEST_CASE("Trend counts keep only the declared number of days") {
  Harness h(Utc(2026, 1, 5, 0));
  REQUIRE_THAT(h.DeployText(Welcome(3)), IsOk());
  for (int day = 0; day < 6; ++day) {
    REQUIRE_THAT(h.Event(absl::StrCat("u", day), "signup", Utc(2026, 1, 5 + day, 2)), IsOk());
  }
  // The 10th in Shanghai at 02:00 UTC: the window holds the 8th to the 10th.
  std::vector<Day> days = DaysOf(h);
  REQUIRE(days.size() == 3);
  CHECK(days[0].date == "2026-01-08");
  CHECK(days[2].date == "2026-01-10");
  // A report made days later leaves out days that have left the window,
  // though nothing was counted since: on the 12th, the 10th (u5 entered,
  // u4's order window ended) and the 11th (u5's ended).
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 1, 12, 3)), IsOk());
  CHECK(DaysOf(h) == std::vector<Day>{
                         {"2026-01-10", 1, 1, 1, 0, 0, 0},
                         {"2026-01-11", 0, 1, 0, 0, 0, 0},
                     });
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 1, 20)), IsOk());
  CHECK(DaysOf(h).empty());
}

TEST_CASE("Without trend_days a report has no per-day counts") {
  Harness h;
  REQUIRE_THAT(h.DeployText(Welcome(0)), IsOk());
  REQUIRE_THAT(h.Event("ana", "signup"), IsOk());
  CHECK(h.Report("welcome")->versions(0).days_size() == 0);
}

TEST_CASE("The compiler bounds trend_days") {
  for (int bad : {-1, 367}) {
    Harness h;
    const absl::Status s = h.DeployText(Welcome(bad));
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(s.message()),
               Catch::Contains("trend_days is " + std::to_string(bad) +
                               "; it must be 0 (none) to 366"));
  }
  Harness h;
  CHECK_THAT(h.DeployText(Welcome(366)), IsOk());
}

TEST_CASE("Trend counts survive a snapshot and go on counting the same") {
  Harness h(Utc(2026, 1, 5, 0));
  REQUIRE_THAT(h.DeployText(Welcome(5)), IsOk());
  for (int i = 0; i < 30; ++i) {
    REQUIRE_THAT(h.Event(absl::StrCat("u", i), "signup", Utc(2026, 1, 5) + absl::Hours(3 * i)),
                 IsOk());
  }
  std::stringstream snapshot;
  REQUIRE_THAT(h.engine().Snapshot(snapshot), IsOk());
  const std::string bytes = snapshot.str();
  Harness restored(h.now());
  REQUIRE_THAT(restored.DeployText(Welcome(5)), IsOk());
  REQUIRE_THAT(restored.engine().Restore(snapshot), IsOk());
  CHECK(DaysOf(restored) == DaysOf(h));
  for (Harness* x : {&h, &restored}) {
    REQUIRE_THAT(x->Event("late", "signup", Utc(2026, 1, 9, 20)), IsOk());
    REQUIRE_THAT(x->AdvanceTo(Utc(2026, 1, 12)), IsOk());
  }
  CHECK(DaysOf(restored) == DaysOf(h));
  CHECK(DaysOf(h).size() == 4);  // The 8th to the 11th; nothing on the 12th yet.

  // Forged per-day counts are refused: a day out of order, a day after
  // engine time, a day missing a goal.
  const auto forged = [&](const std::function<void(v1::VersionReport*)>& edit) {
    std::vector<v1::SnapshotRecord> records = testing::ReadSnapshotRecords(bytes);
    for (v1::SnapshotRecord& r : records) {
      if (r.has_counters()) edit(r.mutable_counters()->mutable_report());
    }
    std::stringstream in(testing::WriteSnapshotRecords(records));
    Harness fresh(h.now());
    REQUIRE_THAT(fresh.DeployText(Welcome(5)), IsOk());
    return fresh.engine().Restore(in);
  };
  CHECK(forged([](v1::VersionReport* v) { v->mutable_days(0)->set_date("2026-01-09"); }).code() ==
        absl::StatusCode::kDataLoss);
  CHECK(forged([](v1::VersionReport* v) { v->add_days()->set_date("2027-01-01"); }).code() ==
        absl::StatusCode::kDataLoss);
  CHECK(forged([](v1::VersionReport* v) { v->mutable_days(0)->mutable_goals()->RemoveLast(); })
            .code() == absl::StatusCode::kDataLoss);
  CHECK(forged([](v1::VersionReport* v) { v->mutable_days(0)->set_sent(-1); }).code() ==
        absl::StatusCode::kDataLoss);
  CHECK_THAT(forged([](v1::VersionReport*) {}), IsOk());
}

TEST_CASE("Shards' per-day counts add up to one engine's") {
  const v1::Journey journey = TextJourney(Welcome(10));
  testing::NullSink push;
  std::vector<Event> events;
  for (int i = 0; i < 200; ++i) {
    Event e;
    // Every fifth event: the subject before orders.
    const bool order = i % 5 == 0 && i > 0;
    e.subject_id = absl::StrCat("s", order ? i - 1 : i);
    e.name = order ? "order" : "signup";
    e.time = Utc(2026, 1, 5) + absl::Minutes(37 * i);
    events.push_back(e);
  }
  EngineOptions engine_options;
  engine_options.start_time = Utc(2026, 1, 5);
  Engine one(engine_options);
  REQUIRE_THAT(one.RegisterChannel("push", &push), IsOk());
  REQUIRE_THAT(one.Deploy(journey), IsOk());
  // The host's clock moves with the inputs (AdvanceTo before each).
  for (const Event& e : events) {
    REQUIRE_THAT(one.AdvanceTo(e.time), IsOk());
    REQUIRE_THAT(one.Ingest(e), IsOk());
  }

  ShardedEngineOptions options;
  options.shards = 3;
  options.engine = engine_options;
  absl::StatusOr<std::unique_ptr<ShardedEngine>> sharded =
      ShardedEngine::Create(options, [&](int, Engine& e) -> absl::Status {
        if (absl::Status s = e.RegisterChannel("push", &push); !s.ok()) return s;
        return e.Deploy(journey);
      });
  REQUIRE_THAT(StatusOf(sharded), IsOk());
  for (const Event& e : events) {
    (*sharded)->AdvanceTo(e.time);
    REQUIRE_THAT((*sharded)->Ingest(e), IsOk());
  }
  absl::StatusOr<v1::JourneyReport> merged = (*sharded)->Report("welcome");
  REQUIRE_THAT(StatusOf(merged), IsOk());
  const std::vector<Day> whole = Days(one.Report("welcome")->versions(0));
  CHECK(whole.size() == 6);
  CHECK(whole[1].ordered > 0);
  CHECK(Days(merged->versions(0)) == whole);
}

}  // namespace
}  // namespace cairn
