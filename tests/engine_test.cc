// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The Engine's API: every input's bad cases (exact status, nothing lost,
// counters), time and ordering rules, versions, node semantics in detail.

#include "cairn/engine.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "exec/engine_state.h"
#include "testing/journeys.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::EventAt;
using testing::Harness;
using testing::IsOk;
using testing::kPromoJourney;
using testing::kWelcomeJourney;
using testing::StatusOf;
using testing::TextJourney;

absl::StatusCode Code(const absl::Status& s) { return s.code(); }

std::string ErrorText(const absl::Status& s) { return std::string(s.message()); }

using testing::NullSink;

TEST_CASE("EngineStats add up counter by counter") {
  // Each counter gets its own value, so that a counter summed into another
  // or left out shows. (engine_stats.cc asserts that StatFields lists every
  // counter but the two derived ones.)
  EngineStats a;
  EngineStats b;
  const std::vector<int64_t*> fields_a = internal::StatFields(&a);
  const std::vector<int64_t*> fields_b = internal::StatFields(&b);
  for (size_t i = 0; i < fields_a.size(); ++i) {
    *fields_a[i] = static_cast<int64_t>(i + 1);
    *fields_b[i] = static_cast<int64_t>(1000 * (i + 1));
  }
  a.subjects = 7;
  b.subjects = 70;
  a.enrollments_in_flight = 9;
  b.enrollments_in_flight = 90;
  a += b;
  for (size_t i = 0; i < fields_a.size(); ++i) {
    INFO("field " << i);
    CHECK(*fields_a[i] == static_cast<int64_t>(1001 * (i + 1)));
  }
  CHECK(a.subjects == 77);
  CHECK(a.enrollments_in_flight == 99);
}

TEST_CASE("RegisterChannel refuses empty names, null sinks and duplicates") {
  Engine engine;
  NullSink sink;
  CHECK(Code(engine.RegisterChannel("", &sink)) == absl::StatusCode::kInvalidArgument);
  CHECK(Code(engine.RegisterChannel("push", nullptr)) == absl::StatusCode::kInvalidArgument);
  REQUIRE_THAT(engine.RegisterChannel("push", &sink), IsOk());
  const absl::Status again = engine.RegisterChannel("push", &sink);
  CHECK(Code(again) == absl::StatusCode::kAlreadyExists);
  CHECK(ErrorText(again) == "channel push already has a sink");
}

TEST_CASE("Deploy refuses invalid journeys, old versions and missing sinks") {
  Engine engine;
  NullSink sink;
  v1::Journey j = TextJourney(kWelcomeJourney);

  SECTION("a channel without a sink") {
    const absl::Status s = engine.Deploy(j);
    CHECK(Code(s) == absl::StatusCode::kFailedPrecondition);
    CHECK(ErrorText(s) ==
          "journey welcome, node hello, field action.channel: channel \"push\" has no "
          "registered sink; call RegisterChannel first");
    CHECK(engine.journey_ids().empty());
  }
  REQUIRE_THAT(engine.RegisterChannel("push", &sink), IsOk());
  SECTION("compile problems are listed") {
    j.mutable_nodes(1)->mutable_delay()->mutable_duration()->set_seconds(0);
    const absl::Status s = engine.Deploy(j);
    CHECK(Code(s) == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(ErrorText(s), Catch::Contains("node wait_1h, field delay.duration"));
    CHECK(engine.journey_ids().empty());
  }
  SECTION("the same or an older version") {
    REQUIRE_THAT(engine.Deploy(j), IsOk());
    const absl::Status s = engine.Deploy(j);
    CHECK(Code(s) == absl::StatusCode::kAlreadyExists);
    CHECK(ErrorText(s) ==
          "journey welcome: version 1 is not newer than the deployed version 1");
    CHECK(engine.Report("welcome")->versions_size() == 1);
  }
}

TEST_CASE("Ingest rejects bad events and counts them, nothing else changes") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  Event e;
  e.name = "signup";
  e.time = h.now();
  absl::Status s = h.Ingest(e);
  CHECK(Code(s) == absl::StatusCode::kInvalidArgument);
  CHECK(ErrorText(s) == "event signup: subject_id is empty");
  e.subject_id = "u1";
  e.name = "";
  CHECK(ErrorText(h.Ingest(e)) == "event of subject u1: name is empty");
  e.name = "signup";
  e.time = absl::InfinitePast();
  CHECK(ErrorText(h.Ingest(e)) == "event signup of subject u1: time is not set");
  const EngineStats stats = h.engine().stats();
  CHECK(stats.events_rejected == 3);
  CHECK(stats.events_applied == 0);
  CHECK(stats.subjects == 0);
  CHECK(h.Report("welcome")->versions(0).entered() == 0);
}

TEST_CASE("Late inputs apply at engine time, too late ones are rejected") {
  EngineOptions options;
  options.max_lateness = absl::Minutes(10);
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(1)), IsOk());
  const absl::Time now = h.now();
  // Five minutes late: applied, at engine time.
  REQUIRE_THAT(h.Event("u1", "signup", now - absl::Minutes(5)), IsOk());
  CHECK(h.engine().stats().late_inputs == 1);
  REQUIRE_THAT(h.Advance(absl::Hours(1)), IsOk());
  REQUIRE(h.SentTo("u1", "push") == 1);
  CHECK(h.Sent("u1")[0].time == now + absl::Hours(1));
  // An hour late: rejected.
  const absl::Status s = h.Event("u2", "signup", now - absl::Minutes(1));
  CHECK(Code(s) == absl::StatusCode::kOutOfRange);
  CHECK(ErrorText(s) == "event at 2026-01-05T00:59:00+00:00 is 1h1m older than engine time "
                      "2026-01-05T02:00:00+00:00, beyond max_lateness 10m");
  CHECK(h.engine().stats().too_late_inputs == 1);
  CHECK(h.engine().stats().events_rejected == 1);
  CHECK(h.Report("welcome")->versions(0).entered() == 1);
  // Moving time backwards is not an error and changes nothing.
  REQUIRE_THAT(h.engine().AdvanceTo(now), IsOk());
  CHECK(h.engine().now() == now + absl::Hours(1));
}

TEST_CASE("Duplicate event ids inside the window are dropped and counted") {
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "counter" version: 1
    settings { state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 100 } }
    nodes { id: "t" trigger { event { matcher { event: "buy" } } next: "thanks" } }
    nodes { id: "thanks" action { channel: "sms" template_id: "thanks" } })pb"), IsOk());
  Event e;
  e.id = "order-1";
  e.subject_id = "u1";
  e.name = "buy";
  e.time = h.now();
  REQUIRE_THAT(h.Ingest(e), IsOk());
  const absl::Status again = h.Ingest(e);
  CHECK(Code(again) == absl::StatusCode::kAlreadyExists);
  CHECK(ErrorText(again) ==
        "event order-1 of user u1 was already applied within the dedup window");
  // A rejected duplicate does not move engine time either.
  const absl::Time before = h.engine().now();
  e.time = before + absl::Hours(1);
  // (Straight to the engine: the harness would move its trusted clock first.)
  CHECK(Code(h.engine().Ingest(e)) == absl::StatusCode::kAlreadyExists);
  CHECK(h.engine().now() == before);
  e.time = before;
  e.subject_id = "u2";  // Same id, other subject: not a duplicate.
  REQUIRE_THAT(h.Ingest(e), IsOk());
  e.subject_id = "u1";
  e.time = h.now() + absl::Hours(25);  // Outside the 24 h window.
  REQUIRE_THAT(h.Ingest(e), IsOk());
  e.id = "";  // No id: never de-duplicated.
  REQUIRE_THAT(h.Ingest(e), IsOk());
  REQUIRE_THAT(h.Ingest(e), IsOk());
  CHECK(h.SentTo("u1", "sms") == 4);
  const EngineStats stats = h.engine().stats();
  CHECK(stats.events_duplicate == 2);
  CHECK(stats.events_rejected == 2);
  CHECK(stats.events_applied == 5);
}

TEST_CASE("Events nobody listens to are ignored cheaply and counted") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  REQUIRE_THAT(h.Event("u1", "page_view"), IsOk());
  CHECK(h.engine().stats().events_ignored == 1);
  CHECK(h.engine().stats().subjects == 0);  // Not even interned.
}

TEST_CASE("Enroll: unknown journey, empty subject, no audience trigger, context") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  REQUIRE_THAT(h.DeployText(kPromoJourney), IsOk());
  absl::Status s = h.Enroll("nope", "u1");
  CHECK(Code(s) == absl::StatusCode::kNotFound);
  CHECK(ErrorText(s) == "journey nope is not deployed");
  s = h.Enroll("promo", "");
  CHECK(Code(s) == absl::StatusCode::kInvalidArgument);
  s = h.Enroll("welcome", "u1");
  CHECK(Code(s) == absl::StatusCode::kFailedPrecondition);
  CHECK(ErrorText(s) ==
        "journey welcome has no audience trigger; subjects enter it through events only");
  CHECK(h.engine().stats().enrollments_rejected == 3);
  REQUIRE_THAT(h.Enroll("promo", "u1", {{"code", Value::String("VIP20")}}), IsOk());
  REQUIRE(h.SentTo("u1", "email") == 1);
  CHECK(h.Sent("u1", "email")[0].params ==
        std::vector<std::pair<std::string, std::string>>{{"code", "VIP20"}});
  CHECK(h.engine().stats().enrollments_applied == 1);
}

TEST_CASE("UpsertProfile: bad input is rejected, values feed templates and filters") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  CHECK(Code(h.Profile("", {{"name", Value::String("x")}})) ==
        absl::StatusCode::kInvalidArgument);
  const absl::Status s = h.Profile("u1", {{"", Value::Int(1)}});
  CHECK(ErrorText(s) == "UpsertProfile for u1: an attribute name is empty");
  CHECK(h.engine().stats().profile_updates_rejected == 2);
  CHECK(h.engine().stats().subjects == 0);
  REQUIRE_THAT(h.Profile("u1", {{"name", Value::String("Ada")}, {"age", Value::Int(3)}}), IsOk());
  REQUIRE_THAT(h.Profile("u1", {{"age", Value()}}), IsOk());  // null removes
  REQUIRE_THAT(h.Event("u1", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(1)), IsOk());
  CHECK(h.Sent("u1")[0].params ==
        std::vector<std::pair<std::string, std::string>>{{"name", "Ada"}});
  REQUIRE_THAT(h.Event("u2", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(1)), IsOk());
  // A missing attribute renders empty.
  CHECK(h.Sent("u2")[0].params ==
        std::vector<std::pair<std::string, std::string>>{{"name", ""}});
}

TEST_CASE("ReportDelivery: unknown, malformed, repeated and timed-out ids") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kPromoJourney), IsOk());
  REQUIRE_THAT(h.Enroll("promo", "u1"), IsOk());
  REQUIRE_THAT(h.Enroll("promo", "u2"), IsOk());
  const std::string id1 = h.Sent("u1", "email")[0].message_id;
  const std::string id2 = h.Sent("u2", "email")[0].message_id;
  CHECK(Code(h.Deliver("not-an-id")) == absl::StatusCode::kNotFound);
  CHECK(Code(h.Deliver("0123456789abcdef")) == absl::StatusCode::kNotFound);
  REQUIRE_THAT(h.Deliver(id1), IsOk());
  const absl::Status again = h.Deliver(id1, DeliveryOutcome::kFailed, "bounced");
  CHECK(Code(again) == absl::StatusCode::kAlreadyExists);
  CHECK(h.Exits("u1") == std::vector<std::string>{"done"});
  REQUIRE_THAT(h.Advance(absl::Minutes(11)), IsOk());  // u2 times out -> SMS.
  CHECK(h.SentTo("u2", "sms") == 1);
  CHECK(Code(h.Deliver(id2)) == absl::StatusCode::kAlreadyExists);
  const EngineStats stats = h.engine().stats();
  CHECK(stats.delivery_reports_applied == 1);
  CHECK(stats.delivery_reports_rejected == 4);
  const v1::ActionReport mail = h.Report("promo")->versions(0).actions(0);
  CHECK(mail.sent() == 2);
  CHECK(mail.delivered() == 1);
  REQUIRE(mail.undelivered_size() == 1);
  CHECK(mail.undelivered(0).reason() == "delivery_timeout");
}

TEST_CASE("A failed delivery report takes the fallback edge") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kPromoJourney), IsOk());
  REQUIRE_THAT(h.Enroll("promo", "u1"), IsOk());
  REQUIRE_THAT(h.Deliver(h.Sent("u1")[0].message_id, DeliveryOutcome::kFailed, "bounced"),
               IsOk());
  CHECK(h.SentTo("u1", "sms") == 1);
  const v1::ActionReport mail = h.Report("promo")->versions(0).actions(0);
  CHECK(mail.undelivered(0).reason() == "bounced");
}

TEST_CASE("Delivery reports are accepted for messages that are not awaited") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  REQUIRE_THAT(h.Event("u1", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(1)), IsOk());
  REQUIRE_THAT(h.Deliver(h.Sent("u1")[0].message_id), IsOk());
  CHECK(h.Report("welcome")->versions(0).actions(0).delivered() == 1);
  // Beyond the report window the id is forgotten.
  EngineOptions options;
  options.delivery_report_window = absl::Hours(1);
  Harness short_memory(Harness::DefaultStart(), options);
  REQUIRE_THAT(short_memory.DeployText(kWelcomeJourney), IsOk());
  REQUIRE_THAT(short_memory.Event("u1", "signup"), IsOk());
  REQUIRE_THAT(short_memory.Event("u2", "signup", short_memory.now() + absl::Hours(3)), IsOk());
  REQUIRE_THAT(short_memory.Advance(absl::Hours(2)), IsOk());
  CHECK(Code(short_memory.Deliver(short_memory.Sent("u1")[0].message_id)) ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("SetJourneyState and Report refuse unknown journeys and states") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  CHECK(Code(h.engine().SetJourneyState("nope", v1::PAUSED)) == absl::StatusCode::kNotFound);
  CHECK(Code(h.engine().SetJourneyState("welcome", v1::JOURNEY_STATE_UNSPECIFIED)) ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Code(h.Report("nope").status()) == absl::StatusCode::kNotFound);
  CHECK(h.Report("welcome")->state() == "ACTIVE");
}

TEST_CASE("A new version takes new entries, old enrollments finish in the old one") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  REQUIRE_THAT(h.Event("old", "signup"), IsOk());
  v1::Journey v2 = TextJourney(kWelcomeJourney);
  v2.set_version(2);
  v2.mutable_nodes(2)->mutable_action()->set_template_id("welcome_v2");
  REQUIRE_THAT(h.Deploy(v2), IsOk());
  REQUIRE_THAT(h.Event("new", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(1)), IsOk());
  CHECK(h.Sent("old")[0].template_id == "welcome");
  CHECK(h.Sent("old")[0].journey_version == 1);
  CHECK(h.Sent("new")[0].template_id == "welcome_v2");
  const v1::JourneyReport r = *h.Report("welcome");
  REQUIRE(r.versions_size() == 2);
  CHECK(r.versions(0).entered() == 1);
  CHECK(r.versions(1).entered() == 1);
  // NEVER re-entry holds across versions.
  REQUIRE_THAT(h.Event("old", "signup"), IsOk());
  CHECK(h.Report("welcome")->versions(1).entries_refused(0).reason() == "reentry_never");
}

TEST_CASE("Timers due at an input's time fire before the input") {
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "w" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "start" } } next: "w" } }
    nodes { id: "w" wait { branches { name: "go" matcher { event: "go" } next: "yes" }
            timeout { seconds: 60 } on_timeout: "no" } }
    nodes { id: "yes" exit { reason: "matched" } }
    nodes { id: "no" exit { reason: "timed_out" } })pb"), IsOk());
  REQUIRE_THAT(h.Event("a", "start"), IsOk());
  REQUIRE_THAT(h.Event("b", "start"), IsOk());
  REQUIRE_THAT(h.Event("a", "go", h.now() + absl::Seconds(59)), IsOk());
  REQUIRE_THAT(h.Event("b", "go", h.now() + absl::Seconds(1)), IsOk());  // exactly at 60 s
  CHECK(h.Exits("a") == std::vector<std::string>{"matched"});
  CHECK(h.Exits("b") == std::vector<std::string>{"timed_out"});
}

TEST_CASE("Filters read profile, event and entry, update writes back") {
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "orders" version: 1
    settings { state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 5 } }
    nodes { id: "ordered" trigger { event { matcher { event: "order"
              where { compare { path: "event.amount" op: GE value { double_value: 100 } } } }
            profile_filter { not { compare { path: "profile.tags" op: CONTAINS
                                             value { string_value: "blocked" } } } } }
            next: "shipped" } }
    nodes { id: "shipped" wait {
      branches { name: "this_order" next: "mark"
        matcher { event: "shipped" where { compare { path: "event.order_id" op: EQ
                                                      other_path: "entry.order_id" } } } }
      timeout { seconds: 86400 } on_timeout: "" } }
    nodes { id: "mark" update {
      assignments { attribute: "last_order" value { path: "entry.order_id" } }
      assignments { attribute: "vip" value { literal { bool_value: true } } }
      unset: "cart" add_tags: "buyer" next: "is_vip" } }
    nodes { id: "is_vip" filter {
      predicate { compare { path: "profile.vip" op: EQ value { bool_value: true } } }
      on_true: "thanks" on_false: "" } }
    nodes { id: "thanks" action { channel: "sms" template_id: "shipped"
            params { key: "order" value: "{{profile.last_order}}" } } })pb"), IsOk());
  REQUIRE_THAT(h.Profile("blocked", {{"tags", Value::StringList({"blocked"})}}), IsOk());
  REQUIRE_THAT(h.Profile("u1", {{"cart", Value::String("3 items")}}), IsOk());
  REQUIRE_THAT(h.Event("u1", "order", {{"amount", Value::Int(50)}, {"order_id", Value::String("o0")}}), IsOk());
  REQUIRE_THAT(h.Event("u1", "order", {{"amount", Value::Int(150)}, {"order_id", Value::String("o1")}}), IsOk());
  REQUIRE_THAT(h.Event("u1", "order", {{"amount", Value::Double(200.5)}, {"order_id", Value::String("o2")}}), IsOk());
  REQUIRE_THAT(h.Event("blocked", "order", {{"amount", Value::Int(500)}, {"order_id", Value::String("b1")}}), IsOk());
  CHECK(h.Report("orders")->versions(0).entered() == 2);
  REQUIRE_THAT(h.Event("u1", "shipped", {{"order_id", Value::String("o2")}}), IsOk());
  REQUIRE(h.SentTo("u1", "sms") == 1);
  CHECK(h.Sent("u1")[0].params ==
        std::vector<std::pair<std::string, std::string>>{{"order", "o2"}});
  REQUIRE(h.profile_writes().size() == 1);
  const ProfileWrite& w = h.profile_writes()[0];
  CHECK(w.node_id == "mark");
  REQUIRE(w.set.size() == 2);
  CHECK(w.set[0].first == "last_order");
  CHECK(w.set[0].second == Value::String("o2"));
  CHECK(w.unset == std::vector<std::string>{"cart"});
  CHECK(w.add_tags == std::vector<std::string>{"buyer"});
  // o1's enrollment is still waiting for its own shipment.
  CHECK(h.Report("orders")->versions(0).in_flight() == 1);
}

TEST_CASE("Journeys ignore subjects of other types") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  Event e;
  e.subject_id = "dev-1";
  e.subject_type = "device";
  e.name = "signup";
  e.time = h.now();
  REQUIRE_THAT(h.Ingest(e), IsOk());
  CHECK(h.Report("welcome")->versions(0).entered() == 0);
}

TEST_CASE("Active window bounds entries") {
  Harness h;
  v1::Journey j = TextJourney(kWelcomeJourney);
  const int64_t start = absl::ToUnixSeconds(h.now() + absl::Hours(1));
  j.mutable_settings()->mutable_active_window()->mutable_start()->set_seconds(start);
  j.mutable_settings()->mutable_active_window()->mutable_end()->set_seconds(start + 3600);
  REQUIRE_THAT(h.Deploy(j), IsOk());
  REQUIRE_THAT(h.Event("early", "signup"), IsOk());
  REQUIRE_THAT(h.Event("on_time", "signup", h.now() + absl::Minutes(90)), IsOk());
  REQUIRE_THAT(h.Event("late", "signup", h.now() + absl::Hours(1)), IsOk());
  const v1::VersionReport v = h.Report("welcome")->versions(0);
  CHECK(v.entered() == 1);
  CHECK(v.entries_refused(0).reason() == "outside_active_window");
  CHECK(v.entries_refused(0).count() == 2);
}

TEST_CASE("The step limit ends an enrollment that takes too many steps") {
  EngineOptions options;
  options.max_steps_per_input = 3;
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "long" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { audience {} next: "f1" } }
    nodes { id: "f1" filter { predicate { all {} } on_true: "f2" } }
    nodes { id: "f2" filter { predicate { all {} } on_true: "f3" } }
    nodes { id: "f3" filter { predicate { all {} } on_true: "end" } }
    nodes { id: "end" exit {} })pb"), IsOk());
  REQUIRE_THAT(h.Enroll("long", "u1"), IsOk());
  CHECK(h.Exits("u1") == std::vector<std::string>{"step_limit"});
}

TEST_CASE("The observer sees enter, leave and exit in order") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  REQUIRE_THAT(h.Event("u1", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(1)), IsOk());
  std::vector<std::string> steps;
  for (const auto& s : h.trace()) {
    const char* kind = s.kind == TraceStep::Kind::kEnter   ? "enter"
                       : s.kind == TraceStep::Kind::kLeave ? "leave"
                                                           : "exit";
    steps.push_back(absl::StrCat(kind, " ", s.node_id, s.detail.empty() ? "" : " ", s.detail));
  }
  CHECK(steps == std::vector<std::string>{"enter signed_up", "leave signed_up next",
                                          "enter wait_1h", "leave wait_1h next", "enter hello",
                                          "leave hello next", "exit hello completed"});
}

TEST_CASE("Message ids are the documented stable hash") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  REQUIRE_THAT(h.Event("u1", "signup"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(1)), IsOk());
  // journey, version, subject type, subject, entry ordinal, node, visit (3rd node).
  CHECK(h.Sent("u1")[0].message_id ==
        HashToHex(StableHash64({"welcome", "1", "user", "u1", "1", "hello", "3"})));
}

TEST_CASE("An engine can be moved and keeps its state") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  Engine moved = std::move(h.engine());
  CHECK(moved.journey_ids() == std::vector<std::string>{"welcome"});
}


// ---- Untrusted time (issue 15) ----

TEST_CASE("A phone stamping 2099 neither fires other subjects' timers nor blocks later inputs") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  for (const char* s : {"u1", "u2", "u3"}) REQUIRE_THAT(h.Event(s, "signup"), IsOk());
  const absl::Time start = h.now();
  // Straight to the engine, as a host would pass a client's event on.
  Event wrong = EventAt("phone", "signup",
                        absl::FromCivil(absl::CivilSecond(2099, 6, 1, 0, 0, 0), absl::UTCTimeZone()));
  const absl::Status s = h.engine().Ingest(wrong);
  CHECK(Code(s) == absl::StatusCode::kOutOfRange);
  CHECK_THAT(ErrorText(s), Catch::StartsWith("event at 2099-06-01T00:00:00+00:00 is "));
  CHECK_THAT(ErrorText(s), Catch::EndsWith(
                               "beyond max_input_lead 1h: inputs may not move the clock that "
                               "far; call AdvanceTo() with the host's clock first"));
  // Nothing moved: no push went out early, engine time is where it was.
  CHECK(h.engine().now() == start);
  CHECK(h.SentTo("", "push") == 0);
  CHECK(h.engine().stats().future_inputs == 1);
  CHECK(h.engine().stats().events_rejected == 1);
  // A real event a minute later is applied, not refused as too late.
  REQUIRE_THAT(h.engine().Ingest(EventAt("u4", "signup", start + absl::Minutes(1))), IsOk());
  CHECK(h.engine().stats().too_late_inputs == 0);
  // Timers fire when their time comes, and not before.
  REQUIRE_THAT(h.AdvanceTo(start + absl::Minutes(59)), IsOk());
  CHECK(h.SentTo("", "push") == 0);
  REQUIRE_THAT(h.AdvanceTo(start + absl::Minutes(61)), IsOk());
  CHECK(h.SentTo("", "push") == 4);
}

TEST_CASE("An event within max_input_lead moves engine time, as real clocks disagree") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  REQUIRE_THAT(h.Event("u1", "signup"), IsOk());
  const absl::Time start = h.now();
  REQUIRE_THAT(h.engine().Ingest(EventAt("u2", "signup", start + absl::Hours(1))), IsOk());
  CHECK(h.engine().now() == start + absl::Hours(1));
  CHECK(h.SentTo("u1", "push") == 1);  // u1's hour had passed.
  // Exactly the lead ahead of engine time is still accepted; a nanosecond more is not.
  REQUIRE_THAT(h.engine().Ingest(EventAt("u3", "signup", start + absl::Hours(2))), IsOk());
  CHECK(Code(h.engine().Ingest(EventAt("u4", "signup", start + absl::Hours(3) + absl::Nanoseconds(1)))) ==
        absl::StatusCode::kOutOfRange);
}

TEST_CASE("Overnight: a host that calls AdvanceTo carries on, one that only ingests is told what to call") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  REQUIRE_THAT(h.Event("u1", "signup"), IsOk());
  const absl::Time morning = h.now() + absl::Hours(9);

  // Only events: the first one in the morning is refused, with the remedy.
  const absl::Status refused = h.engine().Ingest(EventAt("u2", "signup", morning));
  CHECK(Code(refused) == absl::StatusCode::kOutOfRange);
  CHECK(ErrorText(refused) ==
        "event at 2026-01-05T09:00:00+00:00 is 9h ahead of engine time "
        "2026-01-05T00:00:00+00:00, beyond max_input_lead 1h: inputs may not move the "
        "clock that far; call AdvanceTo() with the host's clock first");
  // Doing what it says works: the clock moves, the event is applied.
  REQUIRE_THAT(h.engine().AdvanceTo(morning), IsOk());
  REQUIRE_THAT(h.engine().Ingest(EventAt("u2", "signup", morning)), IsOk());
  CHECK(h.SentTo("u1", "push") == 1);
  CHECK(h.engine().stats().future_inputs == 1);

  // A host whose clock ticks (AdvanceTo every so often) never sees it.
  Harness ticking;
  REQUIRE_THAT(ticking.DeployText(kWelcomeJourney), IsOk());
  for (int hour = 0; hour < 24; ++hour) {
    REQUIRE_THAT(ticking.engine().AdvanceTo(ticking.now() + absl::Hours(hour)), IsOk());
  }
  REQUIRE_THAT(ticking.engine().Ingest(EventAt("u1", "signup", ticking.now() + absl::Hours(23))), IsOk());
  CHECK(ticking.engine().stats().future_inputs == 0);
}

TEST_CASE("max_input_lead: infinite trusts every input, negative is refused") {
  EngineOptions options;
  options.max_input_lead = absl::InfiniteDuration();
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  REQUIRE_THAT(h.Event("u1", "signup"), IsOk());
  REQUIRE_THAT(h.engine().Ingest(EventAt("u2", "signup", h.now() + absl::Hours(24 * 30))), IsOk());
  CHECK(h.SentTo("u1", "push") == 1);

  options.max_input_lead = -absl::Seconds(1);
  CHECK(ErrorText(Engine::Create(options).status()) == "max_input_lead is negative");
  options.max_input_lead = absl::Hours(1);
  options.start_time = absl::FromUnixSeconds(-1);
  CHECK(ErrorText(Engine::Create(options).status()) ==
        "start_time 1969-12-31T23:59:59+00:00 is outside the times an engine accepts, "
        "1970-01-01T00:00:00+00:00 to 2200-01-01T00:00:00+00:00");
}

// A fresh engine at the harness's start with `journey` deployed and
// `channel` routed to `sink`, into which `h`'s engine's snapshot restored.
Engine RestoredCopy(Harness& h, const v1::Journey& journey, const std::string& channel,
                    ChannelSink* sink) {
  std::stringstream snapshot;
  REQUIRE_THAT(h.engine().Snapshot(snapshot), IsOk());
  EngineOptions options;
  options.start_time = Harness::DefaultStart();
  Engine restored(options);
  REQUIRE_THAT(restored.RegisterChannel(channel, sink), IsOk());
  REQUIRE_THAT(restored.Deploy(journey), IsOk());
  REQUIRE_THAT(restored.Restore(snapshot), IsOk());
  return restored;
}

TEST_CASE("A relative delay to a time the engine cannot hold exits with a reason") {
  const v1::Journey journey = TextJourney(R"pb(
    id: "appointment" version: 1
    settings { state: ACTIVE }
    nodes { id: "booked" trigger { event { matcher { event: "booked" } } next: "day_before" } }
    nodes { id: "day_before" delay { relative { path: "entry.at" offset { seconds: -86400 }
            if_past: CONTINUE } next: "remind" } }
    nodes { id: "remind" action { channel: "sms" template_id: "reminder" } })pb");
  Harness h;
  REQUIRE_THAT(h.Deploy(journey), IsOk());
  const absl::Time far =
      absl::FromCivil(absl::CivilSecond(9000, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  REQUIRE_THAT(h.Event("u1", "booked", {{"at", Value::Timestamp(far)}}), IsOk());
  CHECK(h.Exits("u1") == std::vector<std::string>{"delay_time_out_of_range"});
  // One within reach waits as usual.
  REQUIRE_THAT(h.Event("u2", "booked", {{"at", Value::Timestamp(h.now() + absl::Hours(48))}}),
               IsOk());
  // Every time the engine holds can be written and read back exactly.
  NullSink sms;
  Engine restored = RestoredCopy(h, journey, "sms", &sms);
  CHECK(restored.next_timer_time() == h.now() + absl::Hours(24));
}

TEST_CASE("A string that is not UTF-8 is refused at the door, so every snapshot restores") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  Event e = EventAt("u1", "signup", h.now());
  e.properties = {{"name", Value::String("Jos\xE9")}};
  CHECK(Code(h.Ingest(e)) == absl::StatusCode::kInvalidArgument);
  CHECK(Code(h.Profile("u1", {{"name", Value::String("Jos\xE9")}})) ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Code(h.Profile("Jos\xE9", {})) == absl::StatusCode::kInvalidArgument);
  REQUIRE_THAT(h.Profile("u1", {{"name", Value::String("Jos\xC3\xA9")}}), IsOk());
  REQUIRE_THAT(h.Event("\xE5\xBC\xA0\xE4\xB8\x89", "signup"), IsOk());  // 张三
  CHECK(h.engine().stats().events_rejected == 1);
  CHECK(h.engine().stats().profile_updates_rejected == 2);
  NullSink push;
  Engine restored = RestoredCopy(h, TextJourney(kWelcomeJourney), "push", &push);
  CHECK(restored.stats().subjects == 2);
}

}  // namespace
}  // namespace cairn
