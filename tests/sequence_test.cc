// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Sequence triggers: "A then B within W, then no C within D", including the
// seed scenario, the bundled cart-abandonment journey, run as written.

#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "testing/snapshot_records.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::Harness;
using testing::IsOk;
using testing::StatusOf;

// The first user the cart example's split sends to the price-drop arm.
std::string TreatedUser() {
  for (int i = 0;; ++i) {
    const std::string u = "u" + std::to_string(i);
    if (AssignVariant(20261124, "cart_abandonment", "holdout_split", "user", u, {90, 10}) == 0) {
      return u;
    }
  }
}

class CartTest {
 public:
  CartTest() {
    absl::StatusOr<v1::Journey> j =
        LoadJourneyFile(CAIRN_SOURCE_DIR "/examples/cart_abandonment/journey.textproto");
    REQUIRE_THAT(StatusOf(j), IsOk());
    REQUIRE_THAT(h.Deploy(*j), IsOk());
  }
  v1::NodeReport Trigger() {
    return h.Report("cart_abandonment")->versions(0).nodes(0);
  }
  int64_t Entered() { return h.Report("cart_abandonment")->versions(0).entered(); }

  Harness h;
  const absl::Time t0 = Harness::DefaultStart();
};

TEST_CASE("Cart example: viewed, carted, no payment for a day -> price-drop push") {
  CartTest c;
  const std::string u = TreatedUser();
  REQUIRE_THAT(c.h.Event(u, "product_view", {{"product_id", Value::String("P1")}}), IsOk());
  REQUIRE_THAT(c.h.Event(u, "add_to_cart", c.t0 + absl::Hours(3),
                         {{"price", Value::Double(99)}}), IsOk());
  REQUIRE_THAT(c.h.AdvanceTo(c.t0 + absl::Hours(27) - absl::Seconds(1)), IsOk());
  CHECK(c.Entered() == 0);  // Still inside the "no payment" day.
  REQUIRE_THAT(c.h.AdvanceTo(c.t0 + absl::Hours(27)), IsOk());
  CHECK(c.Entered() == 1);
  REQUIRE(c.h.SentTo(u, "push") == 1);
  const Message m = c.h.Sent(u)[0];
  CHECK(m.time == c.t0 + absl::Hours(27));
  // The entry context gathers the properties of every step.
  CHECK(m.params[1] == std::pair<std::string, std::string>{"product_id", "P1"});
  CHECK(c.Trigger().sequence_completed() == 1);
}

TEST_CASE("Cart example: paying within the day cancels the match") {
  CartTest c;
  REQUIRE_THAT(c.h.Event("u", "product_view"), IsOk());
  REQUIRE_THAT(c.h.Event("u", "add_to_cart", c.t0 + absl::Hours(1)), IsOk());
  REQUIRE_THAT(c.h.Event("u", "payment", c.t0 + absl::Hours(20)), IsOk());
  REQUIRE_THAT(c.h.Advance(absl::Hours(48)), IsOk());
  CHECK(c.Entered() == 0);
  CHECK(c.Trigger().sequence_completed() == 1);
  CHECK(c.Trigger().sequence_cancelled() == 1);
}

TEST_CASE("Sequences skip interleaved noise events") {
  CartTest c;
  const std::string u = TreatedUser();
  REQUIRE_THAT(c.h.Event(u, "product_view"), IsOk());
  for (const char* noise : {"search", "page_view", "product_view", "login"}) {
    REQUIRE_THAT(c.h.Event(u, noise, c.h.now() + absl::Minutes(10)), IsOk());
  }
  REQUIRE_THAT(c.h.Event(u, "add_to_cart", c.h.now() + absl::Minutes(10)), IsOk());
  REQUIRE_THAT(c.h.Advance(absl::Hours(24)), IsOk());
  CHECK(c.Entered() == 1);
}

TEST_CASE("A second step outside the window does not complete, a new first step can") {
  CartTest c;
  REQUIRE_THAT(c.h.Event("u", "product_view"), IsOk());
  REQUIRE_THAT(c.h.Event("u", "add_to_cart", c.t0 + absl::Hours(25)), IsOk());
  REQUIRE_THAT(c.h.AdvanceTo(c.t0 + absl::Hours(60)), IsOk());
  CHECK(c.Trigger().sequence_completed() == 0);
  // The latest view counts: view at 60 h, cart 23 h later is within a day.
  REQUIRE_THAT(c.h.Event("u", "product_view"), IsOk());
  REQUIRE_THAT(c.h.Event("u", "add_to_cart", c.h.now() + absl::Hours(23)), IsOk());
  CHECK(c.Trigger().sequence_completed() == 1);
}

TEST_CASE("A later first step renews the window") {
  CartTest c;
  REQUIRE_THAT(c.h.Event("u", "product_view"), IsOk());                        // 0 h
  REQUIRE_THAT(c.h.Event("u", "product_view", c.t0 + absl::Hours(20)), IsOk());  // 20 h
  REQUIRE_THAT(c.h.Event("u", "add_to_cart", c.t0 + absl::Hours(30)), IsOk());   // 10 h after
  CHECK(c.Trigger().sequence_completed() == 1);
}

TEST_CASE("One completed match, one entry, and a repeat of the last step needs a new first step") {
  CartTest c;
  REQUIRE_THAT(c.h.Event("u", "product_view"), IsOk());
  REQUIRE_THAT(c.h.Event("u", "add_to_cart"), IsOk());
  REQUIRE_THAT(c.h.Event("u", "add_to_cart", c.t0 + absl::Hours(1)), IsOk());
  REQUIRE_THAT(c.h.Advance(absl::Hours(48)), IsOk());
  CHECK(c.Trigger().sequence_completed() == 1);
  CHECK(c.Entered() == 1);
}

TEST_CASE("Steps with the same event name advance one step per event") {
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "streak" version: 1
    settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
    nodes { id: "three_logins" trigger { sequence {
      steps { event: "login" } steps { event: "login" } steps { event: "login" }
      within { seconds: 7200 } } next: "gift" } }
    nodes { id: "gift" action { channel: "in_game_mail" template_id: "streak" } })pb"),
              IsOk());
  REQUIRE_THAT(h.Event("p", "login"), IsOk());
  REQUIRE_THAT(h.Event("p", "login", h.now() + absl::Minutes(30)), IsOk());
  CHECK(h.SentTo("p", "in_game_mail") == 0);
  REQUIRE_THAT(h.Event("p", "login", h.now() + absl::Minutes(30)), IsOk());
  CHECK(h.SentTo("p", "in_game_mail") == 1);  // No absent: enters at once.
  // Step predicates apply per step.
}

TEST_CASE("Step predicates filter each step") {
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "big" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { sequence {
      steps { event: "view" }
      steps { event: "cart" where { compare { path: "event.price" op: GE value { int_value: 100 } } } }
      within { seconds: 3600 } } next: "p" } }
    nodes { id: "p" action { channel: "push" template_id: "big" } })pb"), IsOk());
  REQUIRE_THAT(h.Event("u", "view"), IsOk());
  REQUIRE_THAT(h.Event("u", "cart", {{"price", Value::Int(20)}}), IsOk());
  CHECK(h.SentTo("u", "push") == 0);
  REQUIRE_THAT(h.Event("u", "cart", {{"price", Value::Int(120)}}), IsOk());
  CHECK(h.SentTo("u", "push") == 1);
}

TEST_CASE("A match waiting for silence when a new version is deployed is not entered") {
  CartTest c;
  REQUIRE_THAT(c.h.Event("u", "product_view"), IsOk());
  REQUIRE_THAT(c.h.Event("u", "add_to_cart"), IsOk());
  absl::StatusOr<v1::Journey> v2 =
      LoadJourneyFile(CAIRN_SOURCE_DIR "/examples/cart_abandonment/journey.textproto");
  REQUIRE_THAT(StatusOf(v2), IsOk());
  v2->set_version(2);
  REQUIRE_THAT(c.h.Deploy(*v2), IsOk());
  REQUIRE_THAT(c.h.Advance(absl::Hours(25)), IsOk());
  const v1::JourneyReport r = *c.h.Report("cart_abandonment");
  CHECK(r.versions(0).entered() == 0);
  CHECK(r.versions(0).entries_refused(0).reason() == "superseded_by_new_version");
  CHECK(r.versions(1).entered() == 0);
}

TEST_CASE("Sequence matches follow re-entry rules") {
  CartTest c;  // AFTER_EXIT with a 7-day cooldown.
  for (int round = 0; round < 2; ++round) {
    REQUIRE_THAT(c.h.Event("u", "product_view"), IsOk());
    REQUIRE_THAT(c.h.Event("u", "add_to_cart"), IsOk());
    REQUIRE_THAT(c.h.Advance(absl::Hours(40)), IsOk());
  }
  const v1::VersionReport v = c.h.Report("cart_abandonment")->versions(0);
  CHECK(v.entered() == 1);
  CHECK(v.entries_refused(0).reason() == "reentry_cooldown");
}

TEST_CASE("A partial match is freed when its window passes, even if the subject never returns") {
  constexpr char kBrowse[] = R"pb(
    id: "browse" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { sequence { steps { event: "view" } steps { event: "cart" }
                                         within { seconds: 3600 } } next: "done" } }
    nodes { id: "done" exit {} }
  )pb";
  Harness h;
  REQUIRE_THAT(h.DeployText(kBrowse), IsOk());
  REQUIRE_THAT(h.Event("ann", "view", {{"sku", Value::String("A-1")}}), IsOk());
  auto sequences = [&] {
    int n = 0;
    for (const v1::SnapshotRecord& r : testing::SnapshotRecordsOf(h.engine())) {
      if (r.has_subject()) n += r.subject().sequences_size();
    }
    return n;
  };
  REQUIRE(sequences() == 1);
  // Exactly at the end of the window a cart would still complete the match.
  REQUIRE_THAT(h.Advance(absl::Hours(1)), IsOk());
  CHECK(sequences() == 1);
  // Soon past it (on the next whole minute), the engine lets go of the
  // match without hearing from ann again.
  REQUIRE_THAT(h.Advance(absl::Minutes(1)), IsOk());
  CHECK(sequences() == 0);
  REQUIRE_THAT(h.Event("ann", "cart"), IsOk());
  CHECK(h.Report("browse")->versions(0).entered() == 0);
}

}  // namespace
}  // namespace cairn
