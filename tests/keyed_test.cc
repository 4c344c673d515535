// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Keyed enrollments (one per order or appointment) and the test-drive
// scenario that needs them, end to end.

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
using testing::StatusOf;

constexpr char kOrders[] = R"pb(
  id: "orders" version: 1
  settings { state: ACTIVE instance_key: "order_id" reentry { mode: NEVER }
             exit_on { event: "refund" same_key: true } }
  nodes { id: "ordered" trigger { event { matcher { event: "order" } } next: "shipped" } }
  nodes { id: "shipped" wait { branches { name: "shipped" matcher { event: "ship" same_key: true }
                                          next: "notify" }
                               timeout { seconds: 172800 } on_timeout: "late" } }
  nodes { id: "notify" action { channel: "sms" template_id: "shipped"
          params { key: "order" value: "{{entry.order_id}}" } } }
  nodes { id: "late" action { channel: "sms" template_id: "sorry_late"
          params { key: "order" value: "{{entry.order_id}}" } } }
)pb";

TEST_CASE("A second order does not cancel or confuse the first") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOrders), IsOk());
  REQUIRE_THAT(h.Event("u", "order", {{"order_id", Value::String("A")}}), IsOk());
  REQUIRE_THAT(h.Event("u", "order", {{"order_id", Value::String("B")}}), IsOk());
  REQUIRE_THAT(h.Event("u", "order", {{"order_id", Value::String("A")}}), IsOk());  // NEVER per key
  REQUIRE_THAT(h.Event("u", "order"), IsOk());  // no key: refused
  const v1::VersionReport v = h.Report("orders")->versions(0);
  CHECK(v.entered() == 2);
  REQUIRE(v.entries_refused_size() == 2);
  CHECK(v.entries_refused(0).reason() == "missing_instance_key");
  CHECK(v.entries_refused(1).reason() == "reentry_never");
  // Shipping B finishes B only.
  REQUIRE_THAT(h.Event("u", "ship", h.now() + absl::Hours(1), {{"order_id", Value::String("B")}}),
               IsOk());
  REQUIRE(h.SentTo("u", "sms") == 1);
  CHECK(h.Sent("u")[0].params[0].second == "B");
  // A is still waiting; after two days it gets the late notice.
  REQUIRE_THAT(h.Advance(absl::Hours(48)), IsOk());
  REQUIRE(h.SentTo("u", "sms") == 2);
  CHECK(h.Sent("u")[1].template_id == "sorry_late");
  CHECK(h.Sent("u")[1].params[0].second == "A");
  CHECK(h.Sent("u")[0].message_id != h.Sent("u")[1].message_id);
}

TEST_CASE("Exit-on with same_key ends only the matching enrollment") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOrders), IsOk());
  REQUIRE_THAT(h.Event("u", "order", {{"order_id", Value::String("A")}}), IsOk());
  REQUIRE_THAT(h.Event("u", "order", {{"order_id", Value::String("B")}}), IsOk());
  REQUIRE_THAT(h.Event("u", "refund", {{"order_id", Value::String("A")}}), IsOk());
  CHECK(h.Exits("u") == std::vector<std::string>{"exit_on:refund"});
  CHECK(h.Report("orders")->versions(0).in_flight() == 1);
}

class TestDrive {
 public:
  TestDrive() {
    absl::StatusOr<v1::Journey> j =
        LoadJourneyFile(CAIRN_SOURCE_DIR "/examples/test_drive/journey.textproto");
    REQUIRE_THAT(StatusOf(j), IsOk());
    REQUIRE_THAT(h.Deploy(*j), IsOk());
  }
  void Book(const std::string& who, const std::string& appointment, absl::Time when) {
    REQUIRE_THAT(h.Event(who, "test_drive_booked",
                         {{"appointment_id", Value::String(appointment)},
                          {"appointment_time", Value::Timestamp(when)},
                          {"store", Value::String("Pudong")}}),
                 IsOk());
  }
  std::vector<std::string> Templates(const std::string& who) {
    std::vector<std::string> out;
    for (const Message& m : h.Sent(who)) out.push_back(m.channel + ":" + m.template_id);
    return out;
  }
  Harness h;
  const absl::Time t0 = Harness::DefaultStart();
};

TEST_CASE("Test drive: reminder, visit, good score -> thank you") {
  TestDrive d;
  d.Book("c1", "apt-1", d.t0 + absl::Hours(72));
  REQUIRE_THAT(d.h.Advance(absl::Hours(47)), IsOk());
  CHECK(d.h.Sent("c1").empty());
  REQUIRE_THAT(d.h.Advance(absl::Hours(1)), IsOk());  // 48 h: a day before
  REQUIRE(d.Templates("c1") == std::vector<std::string>{"sms:test_drive_reminder"});
  REQUIRE_THAT(d.h.Event("c1", "store_visit", d.t0 + absl::Hours(73),
                         {{"appointment_id", Value::String("apt-1")}}),
               IsOk());
  REQUIRE_THAT(d.h.Advance(absl::Hours(24)), IsOk());
  REQUIRE_THAT(d.h.Event("c1", "service_score", {{"appointment_id", Value::String("apt-1")},
                                                 {"score", Value::Int(9)}}),
               IsOk());
  CHECK(d.Templates("c1") ==
        std::vector<std::string>{"sms:test_drive_reminder", "sms:welcome_with_hotline",
                                 "sms:rate_your_visit", "sms:thank_you"});
  CHECK(d.h.Exits("c1") == std::vector<std::string>{"surveyed"});
}

TEST_CASE("Test drive: poor score -> apology and a notice to the dealer") {
  TestDrive d;
  d.Book("c2", "apt-2", d.t0 + absl::Hours(30));
  REQUIRE_THAT(d.h.Advance(absl::Hours(6)), IsOk());
  REQUIRE_THAT(d.h.Event("c2", "store_visit", {{"appointment_id", Value::String("apt-2")}}),
               IsOk());
  REQUIRE_THAT(d.h.Advance(absl::Hours(25)), IsOk());
  REQUIRE_THAT(d.h.Event("c2", "service_score", {{"appointment_id", Value::String("apt-2")},
                                                 {"score", Value::Int(4)}}),
               IsOk());
  CHECK(d.Templates("c2") ==
        std::vector<std::string>{"sms:test_drive_reminder", "sms:welcome_with_hotline",
                                 "sms:rate_your_visit", "sms:apology",
                                 "webhook:dealer_manager_notice"});
  const Message notice = d.h.Sent("c2", "webhook")[0];
  CHECK(notice.params == std::vector<std::pair<std::string, std::string>>{
                             {"appointment", "apt-2"}, {"score", "4"}});
}

TEST_CASE("Test drive: no-show -> call-center task, and a visit for another booking does not count") {
  TestDrive d;
  d.Book("c3", "apt-3", d.t0 + absl::Hours(48));
  d.Book("c3", "apt-4", d.t0 + absl::Hours(240));
  REQUIRE_THAT(d.h.Advance(absl::Hours(30)), IsOk());
  // A visit tied to the other appointment does not satisfy apt-3's wait.
  REQUIRE_THAT(d.h.Event("c3", "store_visit", {{"appointment_id", Value::String("apt-4")}}),
               IsOk());
  REQUIRE_THAT(d.h.Advance(absl::Hours(42)), IsOk());  // 72 h: 2 days after the reminder
  std::vector<std::string> templates = d.Templates("c3");
  REQUIRE(templates.size() == 2);
  CHECK(templates[1] == "webhook:call_center_rebook_task");
  CHECK(d.h.Sent("c3", "webhook")[0].params[0].second == "apt-3");
  CHECK(d.h.Exits("c3") == std::vector<std::string>{"no_show"});
  CHECK(d.h.Report("test_drive")->versions(0).in_flight() == 1);  // apt-4 still ahead
}

}  // namespace
}  // namespace cairn
