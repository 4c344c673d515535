// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Entry limits (JourneySettings.entry_limits): at most N entries a day in
// the journey's zone, in total over the journey's versions, and per run of
// a schedule trigger; refusals counted by reason; counts that survive a
// snapshot, forged ones refused.

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "testing/snapshot_records.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::Harness;
using testing::IsOk;
using testing::Utc;

// A flash sale that takes at most `limits` entries; its days are Shanghai's
// (UTC+8: midnight is 16:00 UTC).
std::string FlashSale(const std::string& limits, int version = 1) {
  return absl::StrCat(R"pb(id: "flash_sale" version: )pb", version, R"pb(
    settings { state: ACTIVE default_time_zone: "Asia/Shanghai" entry_limits { )pb", limits,
                      R"pb( } }
    nodes { id: "t" trigger { event { matcher { event: "visit" } } next: "coupon" } }
    nodes { id: "coupon" action { channel: "push" template_id: "flash_coupon" } })pb");
}

int64_t Refused(const v1::VersionReport& v, const std::string& reason) {
  for (const v1::ReasonCount& c : v.entries_refused()) {
    if (c.reason() == reason) return c.count();
  }
  return 0;
}

TEST_CASE("A per-day entry limit resets at midnight in the journey's zone") {
  // 2026-03-02 15:00 UTC is 23:00 in Shanghai.
  Harness h(Utc(2026, 3, 2, 15));
  REQUIRE_THAT(h.DeployText(FlashSale("per_day: 3")), IsOk());
  for (int i = 0; i < 5; ++i) {
    REQUIRE_THAT(h.Event(absl::StrCat("u", i), "visit", Utc(2026, 3, 2, 15, 10 * i)), IsOk());
  }
  v1::VersionReport v = h.Report("flash_sale")->versions(0);
  CHECK(v.entered() == 3);
  CHECK(Refused(v, "entry_limit_day") == 2);
  // 15:59 UTC is still the same Shanghai day; 16:00 is the next.
  REQUIRE_THAT(h.Event("u5", "visit", Utc(2026, 3, 2, 15, 59)), IsOk());
  CHECK(h.Report("flash_sale")->versions(0).entered() == 3);
  REQUIRE_THAT(h.Event("u6", "visit", Utc(2026, 3, 2, 16, 0)), IsOk());
  REQUIRE_THAT(h.Event("u3", "visit", Utc(2026, 3, 2, 16, 1)), IsOk());  // refused yesterday
  REQUIRE_THAT(h.Event("u7", "visit", Utc(2026, 3, 2, 16, 2)), IsOk());
  REQUIRE_THAT(h.Event("u8", "visit", Utc(2026, 3, 2, 16, 3)), IsOk());
  v = h.Report("flash_sale")->versions(0);
  CHECK(v.entered() == 6);
  CHECK(Refused(v, "entry_limit_day") == 4);
  CHECK(h.SentTo("u3", "push") == 1);
  CHECK(h.SentTo("u8", "push") == 0);
}

TEST_CASE("A total entry limit counts every version of the journey") {
  Harness h;
  REQUIRE_THAT(h.DeployText(FlashSale("total: 4")), IsOk());
  for (int i = 0; i < 3; ++i) REQUIRE_THAT(h.Event(absl::StrCat("u", i), "visit"), IsOk());
  REQUIRE_THAT(h.DeployText(FlashSale("total: 4", 2)), IsOk());
  for (int i = 3; i < 6; ++i) REQUIRE_THAT(h.Event(absl::StrCat("u", i), "visit"), IsOk());
  const v1::JourneyReport report = *h.Report("flash_sale");
  REQUIRE(report.versions_size() == 2);
  CHECK(report.versions(0).entered() == 3);
  CHECK(report.versions(1).entered() == 1);
  CHECK(Refused(report.versions(1), "entry_limit_total") == 2);
  // Other rules refuse first and do not use up the limit: u0 cannot
  // re-enter (NEVER) whatever the limit says.
  REQUIRE_THAT(h.Event("u0", "visit"), IsOk());
  CHECK(Refused(h.Report("flash_sale")->versions(1), "reentry_never") == 1);
}

TEST_CASE("A per-occurrence entry limit caps each scheduled run") {
  Harness h(Utc(2026, 12, 6));
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "daily_draw" version: 1
    settings {
      state: ACTIVE reentry { mode: AFTER_EXIT }
      entry_limits { per_occurrence: 2 }
    }
    nodes { id: "t" trigger { schedule { schedule { frequency: DAILY at { hour: 10 } } }
            next: "prize" } }
    nodes { id: "prize" action { channel: "push" template_id: "prize" } })pb"),
               IsOk());
  for (const char* s : {"a", "b", "c", "d", "e"}) {
    REQUIRE_THAT(h.Profile(s, {{"tier", Value::String("x")}}), IsOk());
  }
  REQUIRE_THAT(h.AdvanceTo(Utc(2026, 12, 8, 12)), IsOk());
  const v1::VersionReport v = h.Report("daily_draw")->versions(0);
  CHECK(v.schedule().occurrences() == 3);
  CHECK(v.entered() == 6);  // two a day
  CHECK(Refused(v, "entry_limit_occurrence") == 9);
  // The run evaluates subjects in slot order: the first two each time.
  CHECK(h.SentTo("a", "push") == 3);
  CHECK(h.SentTo("b", "push") == 3);
  CHECK(h.SentTo("c", "push") == 0);
}

TEST_CASE("Entry-limit counts survive a snapshot and forged ones are refused") {
  Harness h(Utc(2026, 3, 2, 15));
  const std::string journey = FlashSale("per_day: 3 total: 5");
  REQUIRE_THAT(h.DeployText(journey), IsOk());
  for (int i = 0; i < 2; ++i) REQUIRE_THAT(h.Event(absl::StrCat("u", i), "visit"), IsOk());
  std::stringstream snapshot;
  REQUIRE_THAT(h.engine().Snapshot(snapshot), IsOk());
  const std::string bytes = snapshot.str();
  Harness restored(h.now());
  REQUIRE_THAT(restored.DeployText(journey), IsOk());
  REQUIRE_THAT(restored.engine().Restore(snapshot), IsOk());
  // One more fits today in both; the total then allows two more tomorrow.
  for (Harness* x : {&h, &restored}) {
    for (int i = 2; i < 5; ++i) REQUIRE_THAT(x->Event(absl::StrCat("u", i), "visit"), IsOk());
    for (int i = 5; i < 8; ++i) {
      REQUIRE_THAT(x->Event(absl::StrCat("u", i), "visit", Utc(2026, 3, 3, 1)), IsOk());
    }
  }
  for (Harness* x : {&h, &restored}) {
    const v1::VersionReport v = x->Report("flash_sale")->versions(0);
    CHECK(v.entered() == 5);
    CHECK(Refused(v, "entry_limit_day") == 2);
    CHECK(Refused(v, "entry_limit_total") == 1);
  }

  const auto forged = [&](const std::function<void(v1::SnapshotJourney*)>& edit) {
    std::vector<v1::SnapshotRecord> records = testing::ReadSnapshotRecords(bytes);
    for (v1::SnapshotRecord& r : records) {
      if (r.has_journey()) edit(r.mutable_journey());
    }
    std::stringstream in(testing::WriteSnapshotRecords(records));
    Harness fresh(h.now());
    REQUIRE_THAT(fresh.DeployText(journey), IsOk());
    return fresh.engine().Restore(in);
  };
  // More entries today than the journey has had; a negative count; a day
  // past what engine times reach.
  CHECK(forged([](v1::SnapshotJourney* j) { j->set_entries_on_day(3); }).code() ==
        absl::StatusCode::kDataLoss);
  CHECK(forged([](v1::SnapshotJourney* j) { j->set_entries_in_occurrence(-1); }).code() ==
        absl::StatusCode::kDataLoss);
  CHECK(forged([](v1::SnapshotJourney* j) { j->set_entry_day(int64_t{1} << 40); }).code() ==
        absl::StatusCode::kDataLoss);
  // The last local day an input can fall on is 2200-01-01, day 84006.
  CHECK(forged([](v1::SnapshotJourney* j) { j->set_entry_day(84007); }).code() ==
        absl::StatusCode::kDataLoss);
  CHECK(forged([](v1::SnapshotJourney* j) { j->set_occurrence_day(84007); }).code() ==
        absl::StatusCode::kDataLoss);
  CHECK_THAT(forged([](v1::SnapshotJourney* j) { j->set_entry_day(84006); }), IsOk());
  CHECK_THAT(forged([](v1::SnapshotJourney*) {}), IsOk());
}

}  // namespace
}  // namespace cairn
