// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The test doubles hosts use: recording sinks, the harness's clock and
// queries, and Event conversion from its proto form.

#include "cairn/testing/harness.h"

#include "cairn/cairn.h"
#include "catch2/catch.hpp"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::Harness;
using testing::IsOk;
using testing::StatusOf;

constexpr char kTwoChannels[] = R"pb(
  id: "j" version: 1 settings { state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 9 } }
  nodes { id: "t" trigger { event { matcher { event: "go" } } next: "p" } }
  nodes { id: "p" action { channel: "push" template_id: "a" next: "d" on_failure: "s" } }
  nodes { id: "d" delay { duration { seconds: 60 } next: "s" } }
  nodes { id: "s" action { channel: "sms" template_id: "b" } }
)pb";

TEST_CASE("The harness registers recording sinks for a journey's channels") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kTwoChannels), IsOk());
  REQUIRE_THAT(h.Event("u1", "go"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Minutes(1)), IsOk());
  CHECK(h.SentTo("u1", "push") == 1);
  CHECK(h.SentTo("u1", "sms") == 1);
  const std::vector<Message> all = h.Sent("u1");
  REQUIRE(all.size() == 2);
  CHECK(all[0].channel == "push");  // In time order across channels.
  CHECK(all[1].channel == "sms");
  CHECK(h.Path("u1") == std::vector<std::string>{"t", "p", "d", "s"});
  CHECK(h.now() == Harness::DefaultStart() + absl::Minutes(1));
}

TEST_CASE("Recording sinks fail on demand and record every attempt") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kTwoChannels), IsOk());
  h.channel("push").SetPolicy([](const Message& m) -> std::optional<std::string> {
    if (m.subject_id == "blocked") return "opted_out";
    return std::nullopt;
  });
  REQUIRE_THAT(h.Event("blocked", "go"), IsOk());
  REQUIRE_THAT(h.Event("ok", "go"), IsOk());
  const auto& attempts = h.channel("push").attempts();
  REQUIRE(attempts.size() == 2);
  CHECK_FALSE(attempts[0].result.accepted);
  CHECK(attempts[0].result.failure_reason == "opted_out");
  CHECK(attempts[1].result.accepted);
  CHECK(h.channel("push").accepted().size() == 1);
  CHECK(h.SentTo("blocked", "sms") == 1);  // on_failure at once
  h.channel("push").FailAll("down");
  REQUIRE_THAT(h.Event("ok", "go"), IsOk());
  CHECK(h.channel("push").attempts().back().result.failure_reason == "down");
  h.channel("push").AcceptAll();
  REQUIRE_THAT(h.Event("ok", "go"), IsOk());
  CHECK(h.channel("push").attempts().back().result.accepted);
}

TEST_CASE("DeployText reports parse errors") {
  Harness h;
  const absl::Status s = h.DeployText("id: ");
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(h.engine().journey_ids().empty());
}

TEST_CASE("Event::FromProto converts and sorts properties") {
  v1::Event proto;
  proto.set_id("e1");
  proto.set_subject_id("u1");
  proto.set_name("buy");
  proto.mutable_time()->set_seconds(1767225600);
  (*proto.mutable_properties())["b"].set_int_value(2);
  (*proto.mutable_properties())["a"].set_string_value("x");
  absl::StatusOr<Event> e = Event::FromProto(proto);
  REQUIRE_THAT(StatusOf(e), IsOk());
  CHECK(e->time == absl::FromUnixSeconds(1767225600));
  REQUIRE(e->properties.size() == 2);
  CHECK(e->properties[0].first == "a");
  CHECK(*FindAttribute(e->properties, "b") == Value::Int(2));
  CHECK(FindAttribute(e->properties, "c") == nullptr);
  (*proto.mutable_properties())["c"];  // A value with no kind.
  absl::StatusOr<Event> bad = Event::FromProto(proto);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()),
             Catch::StartsWith("event buy: property c: value has no kind set"));
  proto.mutable_properties()->erase("c");
  proto.mutable_time()->set_nanos(-5);
  CHECK_FALSE(Event::FromProto(proto).ok());
}

}  // namespace
}  // namespace cairn
