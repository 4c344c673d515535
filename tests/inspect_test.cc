// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Inspect: where a subject is in every journey (journey, version,
// entry, instance key, node, since when, next timer, split arm, awaited
// delivery), for subjects in delays, waits, goals and delivery waits; after
// a snapshot and restore, a migration, in a ShardedEngine; and the
// failure paths.

#include <memory>
#include <sstream>
#include <string>

#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "cairn/sharded_engine.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "testing/test_util.h"
#include "util/proto_time.h"

namespace cairn {
namespace {

using internal::FormatTimeUtc;
using testing::Harness;
using testing::IsOk;
using testing::StatusOf;
using testing::TextJourney;

// Sign-up onboarding: a 1/1 split, a one-hour delay, a push that awaits its
// delivery report for ten minutes, a day's wait for the app to be opened,
// and a goal of paying within three days; and a journey goal of paying
// within three days of sign-up.
constexpr char kOnboarding[] = R"pb(
  id: "onboarding"
  version: 1
  settings {
    state: ACTIVE
    split_seed: 7
    goals { name: "paid_3d" conversion { event: "payment" } window { seconds: 259200 } }
  }
  nodes {
    id: "signed_up"
    trigger { event { matcher { event: "signup" } } next: "arms" }
  }
  nodes {
    id: "arms"
    split {
      variants { name: "welcome" weight: 1 next: "wait_1h" }
      variants { name: "control" weight: 1 control: true next: "wait_1h" }
    }
  }
  nodes { id: "wait_1h" delay { duration { seconds: 3600 } next: "push" } }
  nodes {
    id: "push"
    action {
      channel: "push"
      template_id: "welcome"
      await_delivery { timeout { seconds: 600 } }
      next: "opened"
      on_failure: "opened"
    }
  }
  nodes {
    id: "opened"
    wait {
      branches { name: "opened" matcher { event: "open_app" } next: "paid" }
      timeout { seconds: 86400 }
      on_timeout: "paid"
    }
  }
  nodes {
    id: "paid"
    goal {
      conversion { event: "payment" }
      window { seconds: 259200 }
      on_converted: "done"
      on_expired: "done"
    }
  }
  nodes { id: "done" exit { reason: "done" } }
)pb";

v1::EnrollmentStatus Only(Engine& engine, const std::string& subject) {
  absl::StatusOr<v1::SubjectReport> report = engine.Inspect("", subject);
  REQUIRE_THAT(StatusOf(report), IsOk());
  REQUIRE(report->known());
  REQUIRE(report->enrollments_size() == 1);
  return report->enrollments(0);
}

TEST_CASE("Inspect follows a subject through a delay a delivery wait a wait and a goal") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOnboarding), IsOk());
  const absl::Time t0 = h.now() + absl::Minutes(5);
  REQUIRE_THAT(h.Event("ana", "signup", t0), IsOk());

  // In the delay: since the sign-up, due an hour later.
  v1::EnrollmentStatus e = Only(h.engine(), "ana");
  CHECK(e.journey_id() == "onboarding");
  CHECK(e.version() == 1);
  CHECK(e.entry() == 1);
  CHECK(e.instance_key().empty());
  CHECK(e.node_id() == "wait_1h");
  CHECK(e.node_kind() == "delay");
  CHECK(e.since() == FormatTimeUtc(t0));
  CHECK(e.next_timer() == FormatTimeUtc(t0 + absl::Hours(1)));
  CHECK(e.split_node_id() == "arms");
  const std::string arm = e.arm();
  CHECK((arm == "welcome" || arm == "control"));
  CHECK(e.awaiting_message_id().empty());
  // The journey goal, measured from sign-up, attributed to the arm.
  absl::StatusOr<v1::SubjectReport> where = h.engine().Inspect("", "ana");
  REQUIRE_THAT(StatusOf(where), IsOk());
  REQUIRE(where->goals_size() == 1);
  CHECK(where->goals(0).journey_id() == "onboarding");
  CHECK(where->goals(0).version() == 1);
  CHECK(where->goals(0).goal() == "paid_3d");
  CHECK(where->goals(0).ends() == FormatTimeUtc(t0 + absl::Hours(72)));
  CHECK(where->goals(0).split_node_id() == "arms");
  CHECK(where->goals(0).arm() == arm);

  // At the push, waiting for its delivery report for ten minutes.
  REQUIRE_THAT(h.AdvanceTo(t0 + absl::Hours(1)), IsOk());
  e = Only(h.engine(), "ana");
  CHECK(e.node_id() == "push");
  CHECK(e.node_kind() == "action");
  CHECK(e.since() == FormatTimeUtc(t0 + absl::Hours(1)));
  CHECK(e.next_timer() == FormatTimeUtc(t0 + absl::Hours(1) + absl::Minutes(10)));
  REQUIRE(h.Sent("ana").size() == 1);
  CHECK(e.awaiting_message_id() == h.Sent("ana")[0].message_id);
  CHECK(e.arm() == arm);  // Sticky.

  // Delivered: now waiting a day for the app to be opened.
  const absl::Time delivered = t0 + absl::Hours(1) + absl::Minutes(3);
  REQUIRE_THAT(h.AdvanceTo(delivered), IsOk());
  REQUIRE_THAT(h.Deliver(h.Sent("ana")[0].message_id), IsOk());
  e = Only(h.engine(), "ana");
  CHECK(e.node_id() == "opened");
  CHECK(e.node_kind() == "wait");
  CHECK(e.since() == FormatTimeUtc(delivered));
  CHECK(e.next_timer() == FormatTimeUtc(delivered + absl::Hours(24)));
  CHECK(e.awaiting_message_id().empty());

  // Opened: measuring the goal for three days.
  const absl::Time opened = delivered + absl::Hours(2);
  REQUIRE_THAT(h.Event("ana", "open_app", opened), IsOk());
  e = Only(h.engine(), "ana");
  CHECK(e.node_id() == "paid");
  CHECK(e.node_kind() == "goal");
  CHECK(e.since() == FormatTimeUtc(opened));
  CHECK(e.next_timer() == FormatTimeUtc(opened + absl::Hours(72)));

  // Paid: the enrollment has ended; the subject is known and nowhere.
  REQUIRE_THAT(h.Event("ana", "payment", opened + absl::Hours(1)), IsOk());
  absl::StatusOr<v1::SubjectReport> report = h.engine().Inspect("user", "ana");
  REQUIRE_THAT(StatusOf(report), IsOk());
  CHECK(report->known());
  CHECK(report->subject_type() == "user");
  CHECK(report->enrollments_size() == 0);
  CHECK(report->goals_size() == 0);  // Converted.
}

TEST_CASE("Inspect of an unknown subject says so and an empty id is refused") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOnboarding), IsOk());
  absl::StatusOr<v1::SubjectReport> report = h.engine().Inspect("", "nobody");
  REQUIRE_THAT(StatusOf(report), IsOk());
  CHECK_FALSE(report->known());
  CHECK(report->subject_id() == "nobody");
  CHECK(report->enrollments_size() == 0);
  // Another subject type: not the user of that name.
  REQUIRE_THAT(h.Event("ana", "signup"), IsOk());
  report = h.engine().Inspect("player", "ana");
  REQUIRE_THAT(StatusOf(report), IsOk());
  CHECK_FALSE(report->known());
  CHECK(h.engine().Inspect("", "").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Inspect lists keyed enrollments oldest first with their keys and entries") {
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "order_care"
    version: 1
    settings { state: ACTIVE instance_key: "order_id" reentry { mode: CONCURRENT max_concurrent: 5 } }
    nodes {
      id: "ordered"
      trigger { event { matcher { event: "order" } } next: "ship_wait" }
    }
    nodes {
      id: "ship_wait"
      wait {
        branches { name: "shipped" matcher { event: "shipped" same_key: true } next: "done" }
        timeout { seconds: 172800 }
        on_timeout: "done"
      }
    }
    nodes { id: "done" exit { reason: "done" } }
  )pb"),
               IsOk());
  const absl::Time t0 = h.now();
  REQUIRE_THAT(h.Event("bo", "order", t0, {{"order_id", Value::String("o-1")}}), IsOk());
  REQUIRE_THAT(h.Event("bo", "order", t0 + absl::Hours(1), {{"order_id", Value::String("o-2")}}),
               IsOk());
  absl::StatusOr<v1::SubjectReport> report = h.engine().Inspect("", "bo");
  REQUIRE_THAT(StatusOf(report), IsOk());
  REQUIRE(report->enrollments_size() == 2);
  CHECK(report->enrollments(0).instance_key() == "o-1");
  CHECK(report->enrollments(0).entry() == 1);
  CHECK(report->enrollments(0).next_timer() == FormatTimeUtc(t0 + absl::Hours(48)));
  CHECK(report->enrollments(1).instance_key() == "o-2");
  CHECK(report->enrollments(1).entry() == 1);  // Entries count per key.
  CHECK(report->enrollments(1).since() == FormatTimeUtc(t0 + absl::Hours(1)));
  CHECK(report->enrollments(1).split_node_id().empty());
  // o-1 ships: only o-2 is left.
  REQUIRE_THAT(h.Event("bo", "shipped", t0 + absl::Hours(2), {{"order_id", Value::String("o-1")}}),
               IsOk());
  report = h.engine().Inspect("", "bo");
  REQUIRE_THAT(StatusOf(report), IsOk());
  REQUIRE(report->enrollments_size() == 1);
  CHECK(report->enrollments(0).instance_key() == "o-2");
}

TEST_CASE("Inspect gives the same answers after a snapshot and restore") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOnboarding), IsOk());
  for (int i = 0; i < 40; ++i) {
    REQUIRE_THAT(h.Event("u" + std::to_string(i), "signup", h.now() + absl::Minutes(7)), IsOk());
  }
  REQUIRE_THAT(h.Advance(absl::Minutes(45)), IsOk());  // Some reached the push.
  // Two more sign up and pay at once: their journey goals are resolved (their
  // tracker slots free) while their enrollments go on.
  for (const char* payer : {"p1", "p2"}) {
    REQUIRE_THAT(h.Event(payer, "signup"), IsOk());
    REQUIRE_THAT(h.Event(payer, "payment"), IsOk());
  }
  std::stringstream snapshot;
  REQUIRE_THAT(h.engine().Snapshot(snapshot), IsOk());
  const std::string bytes = snapshot.str();

  Harness restored(h.now());
  REQUIRE_THAT(restored.DeployText(kOnboarding), IsOk());
  REQUIRE_THAT(restored.engine().Restore(snapshot), IsOk());
  // Written again, the restored state is the same bytes (a resolved goal's
  // slot keeps no link to an enrollment).
  std::stringstream again;
  REQUIRE_THAT(restored.engine().Snapshot(again), IsOk());
  CHECK((again.str() == bytes));  // (Not decomposed: the bytes are binary.)
  int at_push = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string subject = "u" + std::to_string(i);
    const v1::EnrollmentStatus a = Only(h.engine(), subject);
    const v1::EnrollmentStatus b = Only(restored.engine(), subject);
    CHECK(a.SerializeAsString() == b.SerializeAsString());
    if (a.node_id() == "push") ++at_push;
    // The journey goals' windows too, restored from their timers.
    CHECK(h.engine().Inspect("", subject)->SerializeAsString() ==
          restored.engine().Inspect("", subject)->SerializeAsString());
  }
  CHECK(at_push > 0);
  CHECK(at_push < 40);
}

TEST_CASE("Inspect after a migration shows the new version at the mapped node") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOnboarding), IsOk());
  const absl::Time t0 = h.now();
  REQUIRE_THAT(h.Event("ana", "signup", t0), IsOk());
  REQUIRE_THAT(h.Advance(absl::Minutes(20)), IsOk());
  v1::Journey v2 = TextJourney(kOnboarding);
  v2.set_version(2);
  v2.mutable_nodes(2)->set_id("wait_hour");
  (*v2.mutable_nodes(1)->mutable_split()->mutable_variants(0)->mutable_next()) = "wait_hour";
  (*v2.mutable_nodes(1)->mutable_split()->mutable_variants(1)->mutable_next()) = "wait_hour";
  (*v2.mutable_migration()->mutable_node_map())["wait_1h"] = "wait_hour";
  (*v2.mutable_migration()->mutable_node_map())["push"] = "push";
  (*v2.mutable_migration()->mutable_node_map())["opened"] = "opened";
  (*v2.mutable_migration()->mutable_node_map())["paid"] = "paid";
  REQUIRE_THAT(h.Deploy(v2), IsOk());
  const v1::EnrollmentStatus e = Only(h.engine(), "ana");
  CHECK(e.version() == 2);
  CHECK(e.node_id() == "wait_hour");
  // It arrived at the new node now; its delay's end is kept.
  CHECK(e.since() == FormatTimeUtc(t0 + absl::Minutes(20)));
  CHECK(e.next_timer() == FormatTimeUtc(t0 + absl::Hours(1)));
  CHECK(e.split_node_id() == "arms");
}

TEST_CASE("ShardedEngine::Inspect answers from the subject's shard") {
  testing::NullSink push;
  const v1::Journey journey = TextJourney(kOnboarding);
  ShardedEngineOptions options;
  options.shards = 4;
  options.engine.start_time = testing::Harness::DefaultStart();
  absl::StatusOr<std::unique_ptr<ShardedEngine>> sharded =
      ShardedEngine::Create(options, [&](int, Engine& e) -> absl::Status {
        if (absl::Status s = e.RegisterChannel("push", &push); !s.ok()) return s;
        return e.Deploy(journey);
      });
  REQUIRE_THAT(StatusOf(sharded), IsOk());
  const absl::Time t0 = testing::Harness::DefaultStart();
  for (int i = 0; i < 20; ++i) {
    Event e;
    e.subject_id = "s" + std::to_string(i);
    e.name = "signup";
    e.time = t0 + absl::Seconds(i);
    REQUIRE_THAT((*sharded)->Ingest(e), IsOk());
  }
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<v1::SubjectReport> report = (*sharded)->Inspect("", "s" + std::to_string(i));
    REQUIRE_THAT(StatusOf(report), IsOk());
    REQUIRE(report->enrollments_size() == 1);
    CHECK(report->enrollments(0).node_id() == "wait_1h");
    CHECK(report->enrollments(0).since() == FormatTimeUtc(t0 + absl::Seconds(i)));
  }
}

}  // namespace
}  // namespace cairn
