// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// cairn::EngineInput (cairn/input.h) and Engine::Apply: every kind applied
// as the method it names, with the same status on success and on each
// failure path, and the helpers that read an input's kind, time and subject.

#include "cairn/input.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "testing/journeys.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::EventAt;
using testing::Harness;
using testing::IsOk;
using testing::kPromoJourney;
using testing::kWelcomeJourney;
using testing::TextJourney;

// The harness's start: Monday 2026-01-05 00:00 UTC.
absl::Time T0() { return Harness::DefaultStart(); }

TEST_CASE("Apply ingests an event as Ingest does") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  Engine& engine = h.engine();
  REQUIRE_THAT(engine.Apply(EventAt("u1", "signup", T0())), IsOk());
  CHECK(h.Report("welcome")->versions(0).entered() == 1);
  CHECK(engine.stats().events_applied == 1);

  // Refused with Ingest's status.
  const absl::Status no_subject = engine.Apply(EventAt("", "signup", T0()));
  CHECK(no_subject.code() == absl::StatusCode::kInvalidArgument);
  CHECK(no_subject.message() == "event signup: subject_id is empty");
  CHECK(no_subject == engine.Ingest(EventAt("", "signup", T0())));
  CHECK(engine.stats().events_rejected == 2);
}

TEST_CASE("Apply upserts a profile as UpsertProfile does") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  Engine& engine = h.engine();
  REQUIRE_THAT(engine.Apply(ProfileUpdate{"u1", "", {{"name", Value::String("Ada")}}, T0()}),
               IsOk());
  REQUIRE_THAT(engine.Apply(EventAt("u1", "signup", T0())), IsOk());
  REQUIRE_THAT(engine.Apply(ClockTick{T0() + absl::Hours(1)}), IsOk());
  const std::vector<Message> sent = h.Sent("u1", "push");
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].params ==
        std::vector<std::pair<std::string, std::string>>{{"name", "Ada"}});
  CHECK(engine.stats().profile_updates_applied == 1);

  const absl::Status no_subject =
      engine.Apply(ProfileUpdate{"", "", {{"name", Value::String("Bo")}}, T0()});
  CHECK(no_subject.code() == absl::StatusCode::kInvalidArgument);
  CHECK(no_subject.message() == "UpsertProfile: subject id is empty");
  CHECK(engine.stats().profile_updates_rejected == 1);
}

TEST_CASE("Apply enrolls through the audience trigger as Enroll does") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kPromoJourney), IsOk());
  Engine& engine = h.engine();
  REQUIRE_THAT(engine.Apply(EnrollRequest{"promo", "u1", {{"code", Value::String("C1")}}, T0()}),
               IsOk());
  const std::vector<Message> sent = h.Sent("u1", "email");
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].params == std::vector<std::pair<std::string, std::string>>{{"code", "C1"}});
  CHECK(engine.stats().enrollments_applied == 1);

  const absl::Status unknown = engine.Apply(EnrollRequest{"nope", "u2", {}, T0()});
  CHECK(unknown.code() == absl::StatusCode::kNotFound);
  CHECK(unknown.message() == "journey nope is not deployed");

  const absl::Status no_subject = engine.Apply(EnrollRequest{"promo", "", {}, T0()});
  CHECK(no_subject.code() == absl::StatusCode::kInvalidArgument);
  CHECK(no_subject.message() == "Enroll into journey promo: subject id is empty");
  CHECK(no_subject == engine.Enroll("promo", "", T0()));
  CHECK(engine.stats().enrollments_rejected == 3);
}

TEST_CASE("Apply reports a delivery by its message id alone") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kPromoJourney), IsOk());
  Engine& engine = h.engine();
  REQUIRE_THAT(engine.Apply(EnrollRequest{"promo", "u1", {}, T0()}), IsOk());
  const std::string id = h.Sent("u1", "email").at(0).message_id;

  // The report's subject_id is for routing: the engine does not read it.
  REQUIRE_THAT(engine.Apply(DeliveryReport{id, DeliveryOutcome::kFailed, "bounced",
                                           /*subject_id=*/"", T0() + absl::Minutes(1)}),
               IsOk());
  CHECK(h.SentTo("u1", "sms") == 1);
  CHECK(h.Report("promo")->versions(0).actions(0).undelivered(0).reason() == "bounced");

  const absl::Status again = engine.Apply(
      DeliveryReport{id, DeliveryOutcome::kDelivered, "", "u1", T0() + absl::Minutes(2)});
  CHECK(again.code() == absl::StatusCode::kAlreadyExists);
  const absl::Status unknown = engine.Apply(DeliveryReport{
      "0000000000000000", DeliveryOutcome::kDelivered, "", "u1", T0() + absl::Minutes(2)});
  CHECK(unknown.code() == absl::StatusCode::kNotFound);
  CHECK(engine.stats().delivery_reports_applied == 1);
  CHECK(engine.stats().delivery_reports_rejected == 2);
}

TEST_CASE("Apply moves time with a clock tick as AdvanceTo does") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  Engine& engine = h.engine();
  REQUIRE_THAT(engine.Apply(EventAt("u1", "signup", T0())), IsOk());
  REQUIRE_THAT(engine.Apply(ClockTick{T0() + absl::Minutes(59)}), IsOk());
  CHECK(h.SentTo("u1", "push") == 0);
  REQUIRE_THAT(engine.Apply(ClockTick{T0() + absl::Hours(1)}), IsOk());
  CHECK(h.SentTo("u1", "push") == 1);
  CHECK(engine.now() == T0() + absl::Hours(1));

  // An earlier tick does nothing; an infinite one is refused.
  REQUIRE_THAT(engine.Apply(ClockTick{T0()}), IsOk());
  CHECK(engine.now() == T0() + absl::Hours(1));
  CHECK(engine.Apply(ClockTick{absl::InfiniteFuture()}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(engine.Apply(ClockTick{}).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Apply deploys a journey at the deploy's time") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  Engine& engine = h.engine();
  // Deploy registers no sink: the harness registers the promo's channels.
  (void)h.channel("email");
  (void)h.channel("sms");
  REQUIRE_THAT(engine.Apply(EventAt("u1", "signup", T0())), IsOk());
  REQUIRE_THAT(engine.Apply(JourneyDeploy{TextJourney(kPromoJourney), T0() + absl::Hours(2)}), IsOk());
  CHECK(engine.now() == T0() + absl::Hours(2));
  CHECK(h.SentTo("u1", "push") == 1);  // The welcome's timer fired first.
  CHECK(engine.journey_ids() == std::vector<std::string>{"promo", "welcome"});
  REQUIRE_THAT(engine.Apply(EnrollRequest{"promo", "u2", {}, T0() + absl::Hours(2)}), IsOk());
  CHECK(h.SentTo("u2", "email") == 1);
}

TEST_CASE("A refused deploy still moves time to the deploy's time") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  Engine& engine = h.engine();
  REQUIRE_THAT(engine.Apply(EventAt("u1", "signup", T0())), IsOk());

  // The same version again: refused, but the timers due by then fired.
  const absl::Status again =
      engine.Apply(JourneyDeploy{TextJourney(kWelcomeJourney), T0() + absl::Hours(2)});
  CHECK(again.code() == absl::StatusCode::kAlreadyExists);
  CHECK(again == engine.Deploy(TextJourney(kWelcomeJourney)));
  CHECK(engine.now() == T0() + absl::Hours(2));
  CHECK(h.SentTo("u1", "push") == 1);

  // A journey whose channel has no sink: refused after the move too.
  const absl::Status no_sink =
      engine.Apply(JourneyDeploy{TextJourney(kPromoJourney), T0() + absl::Hours(3)});
  CHECK(no_sink.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(engine.now() == T0() + absl::Hours(3));
  CHECK(engine.journey_ids() == std::vector<std::string>{"welcome"});

  // A time the engine cannot hold: AdvanceTo's error, and nothing deployed.
  (void)h.channel("email");
  (void)h.channel("sms");
  const absl::Status never =
      engine.Apply(JourneyDeploy{TextJourney(kPromoJourney), absl::InfiniteFuture()});
  CHECK(never.code() == absl::StatusCode::kInvalidArgument);
  CHECK(never == engine.AdvanceTo(absl::InfiniteFuture()));
  CHECK(engine.journey_ids() == std::vector<std::string>{"welcome"});
}

TEST_CASE("Apply changes a journey's state at the change's time") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kWelcomeJourney), IsOk());
  Engine& engine = h.engine();
  REQUIRE_THAT(engine.Apply(EventAt("u1", "signup", T0())), IsOk());
  REQUIRE_THAT(engine.Apply(JourneyStateChange{"welcome", v1::PAUSED, T0() + absl::Minutes(1)}),
               IsOk());
  CHECK(engine.now() == T0() + absl::Minutes(1));
  CHECK(h.Report("welcome")->state() == "PAUSED");
  REQUIRE_THAT(engine.Apply(EventAt("u2", "signup", T0() + absl::Minutes(2))), IsOk());
  CHECK(h.Report("welcome")->versions(0).entered() == 1);  // Paused: u2 did not enter.

  // An unknown journey: NotFound, once time has moved (the timer fired).
  const absl::Status unknown =
      engine.Apply(JourneyStateChange{"nope", v1::ACTIVE, T0() + absl::Hours(1)});
  CHECK(unknown.code() == absl::StatusCode::kNotFound);
  CHECK(unknown == engine.SetJourneyState("nope", v1::ACTIVE));
  CHECK(engine.now() == T0() + absl::Hours(1));
  CHECK(h.SentTo("u1", "push") == 1);

  const absl::Status unspecified = engine.Apply(
      JourneyStateChange{"welcome", v1::JOURNEY_STATE_UNSPECIFIED, T0() + absl::Hours(1)});
  CHECK(unspecified.code() == absl::StatusCode::kInvalidArgument);
  CHECK(h.Report("welcome")->state() == "PAUSED");
}

TEST_CASE("The input helpers read the kind and time and subject of every kind") {
  const absl::Time t = T0() + absl::Minutes(7);
  Event event = EventAt("u1", "signup", t);
  v1::Journey journey;
  journey.set_id("welcome");
  struct Case {
    EngineInput input;
    absl::string_view kind;
    absl::string_view subject;
    bool broadcast;
  };
  const std::vector<Case> cases = {
      {event, "event", "u1", false},
      {ProfileUpdate{"u2", "device", {}, t}, "profile", "u2", false},
      {EnrollRequest{"promo", "u3", {}, t}, "enroll", "u3", false},
      {DeliveryReport{"0123456789abcdef", DeliveryOutcome::kDelivered, "", "u4", t}, "delivery",
       "u4", false},
      {ClockTick{t}, "tick", "", true},
      {JourneyDeploy{journey, t}, "deploy", "", true},
      {JourneyStateChange{"welcome", v1::STOPPED, t}, "state", "", true},
  };
  for (const Case& c : cases) {
    INFO("kind " << c.kind);
    CHECK(InputKindName(c.input) == c.kind);
    CHECK(InputTime(c.input) == t);
    CHECK(InputSubject(c.input) == c.subject);
    CHECK(IsBroadcast(c.input) == c.broadcast);
  }
  // A report without a subject has none; a default input has no time.
  CHECK(InputSubject(DeliveryReport{}).empty());
  CHECK(InputTime(EngineInput()) == absl::InfinitePast());
}

}  // namespace
}  // namespace cairn
