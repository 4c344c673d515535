// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The attribute_change trigger: a profile update from the host that changes
// a watched attribute enters the journey, with `from` read against the
// profile before the update and `to` after it, and entry.from / entry.to
// holding the two values. Re-entry rules as for any trigger; a journey's own
// update node does not trigger; the trigger index survives snapshots and
// works per shard. Compile problems are at the end.

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::Harness;
using testing::IsOk;
using testing::StatusOf;
using testing::TextJourney;

// "VIP level went up to gold": welcome the member, naming the old level.
constexpr char kGold[] = R"pb(
  id: "gold_welcome" version: 1
  settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "became_gold" trigger {
    attribute_change { attribute: "vip_level"
      to { compare { path: "profile.vip_level" op: EQ value { string_value: "gold" } } } }
    next: "welcome" } }
  nodes { id: "welcome" action { channel: "push" template_id: "gold_welcome"
    params { key: "was" value: "{{entry.from}}" }
    params { key: "now" value: "{{entry.to}}" }
    next: "" } }
)pb";

std::string Param(const Message& m, const std::string& key) {
  for (const auto& [k, v] : m.params) {
    if (k == key) return v;
  }
  return "(none)";
}

TEST_CASE("Attribute change: a profile update alone enters the journey") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kGold), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"vip_level", Value::String("silver")}}), IsOk());
  CHECK(h.Sent("ann").empty());  // A change, but `to` does not hold.
  REQUIRE_THAT(h.Profile("ann", {{"vip_level", Value::String("gold")}}), IsOk());
  const std::vector<Message> sent = h.Sent("ann");
  REQUIRE(sent.size() == 1);
  CHECK(Param(sent[0], "was") == "silver");
  CHECK(Param(sent[0], "now") == "gold");
  CHECK(h.Path("ann") == std::vector<std::string>{"became_gold", "welcome"});
  // First set, from nothing: a change too, and entry.from is absent.
  REQUIRE_THAT(h.Profile("bob", {{"vip_level", Value::String("gold")}}), IsOk());
  REQUIRE(h.Sent("bob").size() == 1);
  CHECK(Param(h.Sent("bob")[0], "was").empty());
  CHECK(h.Report("gold_welcome")->versions(0).entered() == 2);
}

TEST_CASE("Attribute change: writing the value it holds is no change") {
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "points" version: 1
    settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
    nodes { id: "t" trigger { attribute_change { attribute: "points" } next: "done" } }
    nodes { id: "done" exit { } }
  )pb"),
               IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"points", Value::Int(3)}}), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"points", Value::Int(3)}}), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"points", Value::Double(3.0)}}), IsOk());  // Same number.
  // Other attributes changing do not count either.
  REQUIRE_THAT(h.Profile("ann", {{"city", Value::String("Lyon")}}), IsOk());
  CHECK(h.Report("points")->versions(0).entered() == 1);
  REQUIRE_THAT(h.Profile("ann", {{"points", Value::Double(3.5)}}), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"points", Value::String("3.5")}}), IsOk());  // Another type.
  CHECK(h.Report("points")->versions(0).entered() == 3);
  // Named twice in one update: it changes once, to the last value.
  REQUIRE_THAT(h.Profile("ann", {{"points", Value::Int(9)}, {"points", Value::Int(10)}}), IsOk());
  CHECK(h.Report("points")->versions(0).entered() == 4);
}

TEST_CASE("Attribute change: from reads the profile before the update and to after it") {
  Harness h;
  // Only an upgrade from silver, not a first set to gold or a move from
  // bronze; `from` may read other attributes as they were.
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "silver_to_gold" version: 1
    settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
    nodes { id: "t" trigger { attribute_change { attribute: "vip_level"
      from { all {
        predicates { compare { path: "profile.vip_level" op: EQ value { string_value: "silver" } } }
        predicates { compare { path: "profile.region" op: EQ value { string_value: "apac" } } } } }
      to { compare { path: "profile.vip_level" op: EQ value { string_value: "gold" } } } }
      next: "hello" } }
    nodes { id: "hello" action { channel: "push" template_id: "hi" next: "" } }
  )pb"),
               IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"vip_level", Value::String("gold")},
                                 {"region", Value::String("apac")}}),
               IsOk());
  REQUIRE_THAT(h.Profile("bob", {{"vip_level", Value::String("bronze")},
                                 {"region", Value::String("apac")}}),
               IsOk());
  REQUIRE_THAT(h.Profile("bob", {{"vip_level", Value::String("gold")}}), IsOk());
  REQUIRE_THAT(h.Profile("cat", {{"vip_level", Value::String("silver")},
                                 {"region", Value::String("apac")}}),
               IsOk());
  // The region changes in the same update: `from` sees the old one.
  REQUIRE_THAT(h.Profile("cat", {{"vip_level", Value::String("gold")},
                                 {"region", Value::String("emea")}}),
               IsOk());
  REQUIRE_THAT(h.Profile("dan", {{"vip_level", Value::String("silver")},
                                 {"region", Value::String("emea")}}),
               IsOk());
  REQUIRE_THAT(h.Profile("dan", {{"vip_level", Value::String("gold")}}), IsOk());
  CHECK(h.Sent("ann").empty());
  CHECK(h.Sent("bob").empty());
  CHECK(h.Sent("cat").size() == 1);
  CHECK(h.Sent("dan").empty());
}

TEST_CASE("Attribute change: removing the attribute is a change with no entry.to") {
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "unsubscribed" version: 1
    settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
    nodes { id: "t" trigger { attribute_change { attribute: "plan"
      to { not { compare { path: "profile.plan" op: EXISTS } } } }
      next: "ask" } }
    nodes { id: "ask" action { channel: "email" template_id: "why"
      params { key: "plan" value: "{{entry.from}}" } params { key: "to" value: "{{entry.to}}" }
      next: "" } }
  )pb"),
               IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"plan", Value::String("pro")}}), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"plan", Value()}}), IsOk());
  // Removing what is not there changes nothing.
  REQUIRE_THAT(h.Profile("bob", {{"plan", Value()}}), IsOk());
  REQUIRE(h.Sent("ann").size() == 1);
  CHECK(Param(h.Sent("ann")[0], "plan") == "pro");
  CHECK(Param(h.Sent("ann")[0], "to").empty());
  CHECK(h.Sent("bob").empty());
}

TEST_CASE("Attribute change: re-entry rules apply as for any trigger") {
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "once" version: 1
    settings { state: ACTIVE }
    nodes { id: "t" trigger { attribute_change { attribute: "tier" } next: "hold" } }
    nodes { id: "hold" delay { duration { seconds: 3600 } next: "" } }
  )pb"),
               IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"tier", Value::String("a")}}), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"tier", Value::String("b")}}), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(2)), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"tier", Value::String("c")}}), IsOk());
  const v1::VersionReport v = h.Report("once")->versions(0);
  CHECK(v.entered() == 1);
  REQUIRE(v.entries_refused_size() == 1);
  CHECK(v.entries_refused(0).reason() == "reentry_never");
  CHECK(v.entries_refused(0).count() == 2);
}

TEST_CASE("Attribute change: a journey's update node does not trigger and types must match") {
  Harness h;
  // "promote" writes vip_level = gold; gold_welcome watches vip_level but is
  // not entered by that write. A device's profile update does not enter a
  // user journey.
  REQUIRE_THAT(h.DeployText(kGold), IsOk());
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "promote" version: 1
    settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "big_order" } } next: "set" } }
    nodes { id: "set" update { assignments { attribute: "vip_level" value { literal { string_value: "gold" } } }
      next: "" } }
  )pb"),
               IsOk());
  REQUIRE_THAT(h.Event("ann", "big_order"), IsOk());
  REQUIRE(h.profile_writes().size() == 1);
  CHECK(h.Sent("ann").empty());
  ProfileUpdate device{"ann", "device", {{"vip_level", Value::String("gold")}}, h.now()};
  REQUIRE_THAT(h.engine().Apply(device), IsOk());
  CHECK(h.Sent("ann").empty());
  CHECK(h.Report("gold_welcome")->versions(0).entered() == 0);
}

TEST_CASE("Attribute change: a paused journey refuses and a new version takes over the trigger") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kGold), IsOk());
  REQUIRE_THAT(h.engine().SetJourneyState("gold_welcome", v1::PAUSED), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"vip_level", Value::String("gold")}}), IsOk());
  CHECK(h.Sent("ann").empty());
  CHECK(h.Report("gold_welcome")->versions(0).entries_refused(0).reason() == "journey_paused");
  // Version 2 watches another attribute: vip_level no longer enters anyone.
  std::string v2 = kGold;
  v2.replace(v2.find("version: 1"), 10, "version: 2");
  v2.replace(v2.find("attribute: \"vip_level\""), 22, "attribute: \"tier\"");
  v2.replace(v2.find("profile.vip_level"), 17, "profile.tier");
  REQUIRE_THAT(h.DeployText(v2), IsOk());
  REQUIRE_THAT(h.Profile("bob", {{"vip_level", Value::String("gold")}}), IsOk());
  REQUIRE_THAT(h.Profile("cat", {{"tier", Value::String("gold")}}), IsOk());
  CHECK(h.Sent("bob").empty());
  CHECK(h.Sent("cat").size() == 1);
}

TEST_CASE("Attribute change: from and to read behaviours and deploy checks them") {
  // Lapsed buyers who go back to gold: `from` reads a behaviour, which the
  // engine must declare for the journey to deploy.
  const std::string journey = R"pb(
    id: "regold" version: 1
    settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
    nodes { id: "t" trigger { attribute_change { attribute: "vip_level"
      from { compare { path: "behavior.orders" op: EQ value { int_value: 0 } } }
      to { compare { path: "profile.vip_level" op: EQ value { string_value: "gold" } } } }
      next: "hi" } }
    nodes { id: "hi" action { channel: "push" template_id: "hi" next: "" } }
  )pb";
  Harness h;
  const absl::Status refused = h.DeployText(journey);
  CHECK(refused.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(refused.message()),
             Catch::Contains("field trigger.attribute_change.from.compare.path: unknown "
                             "behaviour \"orders\""));
  REQUIRE_THAT(h.engine().DeclareBehaviors(testing::TextBehaviors(
                   R"pb(behaviors { name: "orders" event { event: "order" } function: COUNT })pb")),
               IsOk());
  REQUIRE_THAT(h.DeployText(journey), IsOk());
  REQUIRE_THAT(h.Event("buyer", "order"), IsOk());
  REQUIRE_THAT(h.Profile("buyer", {{"vip_level", Value::String("gold")}}), IsOk());
  REQUIRE_THAT(h.Profile("idle", {{"vip_level", Value::String("gold")}}), IsOk());
  CHECK(h.Sent("buyer").empty());
  CHECK(h.Sent("idle").size() == 1);
  // The set may not drop what the journey's `from` reads.
  CHECK(h.engine().DeclareBehaviors(v1::BehaviorSet()).code() ==
        absl::StatusCode::kFailedPrecondition);
}

using testing::NullSink;

EngineOptions Options(absl::Time start) {
  EngineOptions o;
  o.start_time = start;
  return o;
}

absl::Status SetUp(Engine& e, NullSink* sink) {
  if (absl::Status s = e.RegisterChannel("push", sink); !s.ok()) return s;
  return e.Deploy(TextJourney(kGold));
}

// Members moving between levels over time: every fourth becomes gold.
std::vector<ProfileUpdate> LevelChanges(absl::Time start) {
  const char* levels[] = {"bronze", "silver", "gold", "silver"};
  std::vector<ProfileUpdate> out;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 100; ++i) {
      out.push_back({absl::StrCat("m", i), "",
                     {{"vip_level", Value::String(levels[(i + round) % 4])}},
                     start + absl::Minutes(round * 100 + i)});
    }
  }
  return out;
}

TEST_CASE("Attribute change: a restored engine triggers as the original would") {
  const absl::Time start = Harness::DefaultStart();
  const std::vector<ProfileUpdate> updates = LevelChanges(start);
  NullSink sink;
  Engine whole(Options(start));
  REQUIRE_THAT(SetUp(whole, &sink), IsOk());
  for (const ProfileUpdate& u : updates) REQUIRE_THAT(whole.Apply(u), IsOk());

  Engine first(Options(start));
  REQUIRE_THAT(SetUp(first, &sink), IsOk());
  for (size_t i = 0; i < 150; ++i) REQUIRE_THAT(first.Apply(updates[i]), IsOk());
  std::stringstream snapshot;
  REQUIRE_THAT(first.Snapshot(snapshot), IsOk());
  Engine second(Options(start));
  REQUIRE_THAT(second.RegisterChannel("push", &sink), IsOk());
  REQUIRE_THAT(second.DeployForRestore(TextJourney(kGold)), IsOk());
  REQUIRE_THAT(second.Restore(snapshot), IsOk());
  for (size_t i = 150; i < updates.size(); ++i) REQUIRE_THAT(second.Apply(updates[i]), IsOk());

  const v1::JourneyReport report = *whole.Report("gold_welcome");
  // Round 0: 25 first sets to gold; rounds 1 and 2: 25 moves to gold each,
  // of which those already in the journey (AFTER_EXIT, it sends and exits
  // at once, so none) would be refused.
  CHECK(report.versions(0).entered() == 75);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(*second.Report("gold_welcome"),
                                                          report));
}

TEST_CASE("Attribute change: a sharded engine enters as one engine does") {
  const absl::Time start = Harness::DefaultStart();
  const std::vector<ProfileUpdate> updates = LevelChanges(start);
  NullSink sink;
  Engine whole(Options(start));
  REQUIRE_THAT(SetUp(whole, &sink), IsOk());
  for (const ProfileUpdate& u : updates) REQUIRE_THAT(whole.Apply(u), IsOk());

  ShardedEngineOptions options;
  options.shards = 3;
  options.engine = Options(start);
  std::vector<std::unique_ptr<NullSink>> sinks;
  for (int i = 0; i < options.shards; ++i) sinks.push_back(std::make_unique<NullSink>());
  absl::StatusOr<std::unique_ptr<ShardedEngine>> sharded = ShardedEngine::Create(
      options, [&](int shard, Engine& e) { return SetUp(e, sinks[shard].get()); });
  REQUIRE_THAT(StatusOf(sharded), IsOk());
  for (const ProfileUpdate& u : updates) {
    REQUIRE_THAT((*sharded)->UpsertProfile(u.subject_id, u.attributes, u.time), IsOk());
  }
  (*sharded)->Flush();
  absl::StatusOr<v1::JourneyReport> merged = (*sharded)->Report("gold_welcome");
  REQUIRE_THAT(StatusOf(merged), IsOk());
  CHECK(merged->versions(0).entered() == whole.Report("gold_welcome")->versions(0).entered());
}

TEST_CASE("Attribute change: compile problems name the node and field") {
  const auto problems = [](const std::string& trigger) {
    v1::Journey j;
    REQUIRE(google::protobuf::TextFormat::ParseFromString(
        absl::StrCat(R"pb(id: "j" version: 1 nodes { id: "t" trigger { )pb", trigger,
                     R"pb( next: "" } })pb"),
        &j));
    absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled = Compile(j);
    REQUIRE_FALSE(compiled.ok());
    return std::string(compiled.status().message());
  };
  CHECK_THAT(problems("attribute_change { }"),
             Catch::Contains("node t, field trigger.attribute_change.attribute: "
                             "attribute_change names no attribute"));
  CHECK_THAT(problems(R"pb(attribute_change { attribute: "tier"
      to { compare { path: "event.amount" op: GT value { int_value: 1 } } } })pb"),
             Catch::Contains("field trigger.attribute_change.to: event.amount: a change of "
                             "profile.tier has no event"));
  CHECK_THAT(problems(R"pb(attribute_change { attribute: "tier"
      from { compare { path: "entry.x" op: EXISTS } } })pb"),
             Catch::Contains("trigger.attribute_change.from.compare.path"));
  CHECK_THAT(problems(R"pb(attribute_change { attribute: "tier"
      to { compare { path: "profile.tier" op: GT } } })pb"),
             Catch::Contains("trigger.attribute_change.to.compare"));
}

}  // namespace
}  // namespace cairn
