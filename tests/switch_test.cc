// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The switch node: ordered branches, the first whose predicate holds wins,
// else the default; evaluated once on arrival. Counted per branch in the
// report, across snapshots, shards and merged reports; shown by the
// simulator's text and picture; passed through by migrations. Its compile
// problems are in compile_test.cc's catalogue.

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/message_differencer.h"
#include "sim/render.h"
#include "sim/simulator.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::Harness;
using testing::IsOk;
using testing::StatusOf;
using testing::TextJourney;

// Braze Audience Paths style: a gold member in APAC gets the APAC offer, any
// other gold member the gold offer, a big first order the spender offer,
// everyone else the basic one. APAC gold members match "gold" too; the
// order of the branches decides.
constexpr char kOffers[] = R"pb(
  id: "offers" version: 1
  settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "upgraded" trigger { event { matcher { event: "upgrade" } } next: "route" } }
  nodes { id: "route" switch {
    branches { name: "apac_gold"
      predicate { all {
        predicates { compare { path: "profile.region" op: EQ value { string_value: "apac" } } }
        predicates { compare { path: "profile.tier" op: EQ value { string_value: "gold" } } } } }
      next: "offer_apac" }
    branches { name: "gold"
      predicate { compare { path: "profile.tier" op: EQ value { string_value: "gold" } } }
      next: "offer_gold" }
    branches { name: "spender"
      predicate { compare { path: "event.amount" op: GE value { int_value: 100 } } }
      next: "offer_gold" }
    default { next: "offer_basic" } } }
  nodes { id: "offer_apac" action { channel: "push" template_id: "apac" next: "" } }
  nodes { id: "offer_gold" action { channel: "push" template_id: "gold" next: "" } }
  nodes { id: "offer_basic" action { channel: "push" template_id: "basic" next: "" } }
)pb";

v1::JourneyReport ReportOf(const Harness& h, const std::string& id) {
  absl::StatusOr<v1::JourneyReport> r = h.Report(id);
  REQUIRE_THAT(StatusOf(r), IsOk());
  return *r;
}

// A copy: callers pass reports that are temporaries.
v1::NodeReport NodeOf(const v1::VersionReport& v, const std::string& id) {
  for (const v1::NodeReport& n : v.nodes()) {
    if (n.node_id() == id) return n;
  }
  FAIL("no node " << id);
  return v.nodes(0);
}

// "label->target count" for every edge of a node, in order: what a switch
// reports per branch.
std::vector<std::string> Edges(const v1::NodeReport& n) {
  std::vector<std::string> out;
  for (const v1::EdgeCount& e : n.left()) {
    out.push_back(absl::StrCat(e.label(), "->", e.target().empty() ? "(exit)" : e.target(), " ",
                               e.count()));
  }
  return out;
}

std::string TemplateOf(const Harness& h, const std::string& subject) {
  std::vector<Message> sent = h.Sent(subject);
  REQUIRE(sent.size() == 1);
  return sent[0].template_id;
}

TEST_CASE("Switch: the first branch that holds wins even when later ones hold too") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOffers), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"region", Value::String("apac")},
                                 {"tier", Value::String("gold")}}),
               IsOk());
  // ann matches all three branches; bob matches gold and spender.
  REQUIRE_THAT(h.Event("ann", "upgrade", {{"amount", Value::Int(500)}}), IsOk());
  REQUIRE_THAT(h.Profile("bob", {{"region", Value::String("emea")},
                                 {"tier", Value::String("gold")}}),
               IsOk());
  REQUIRE_THAT(h.Event("bob", "upgrade", {{"amount", Value::Int(500)}}), IsOk());
  CHECK(TemplateOf(h, "ann") == "apac");
  CHECK(TemplateOf(h, "bob") == "gold");
  CHECK(h.Path("ann") == std::vector<std::string>{"upgraded", "route", "offer_apac"});
  const v1::NodeReport route = NodeOf(ReportOf(h, "offers").versions(0), "route");
  CHECK(route.kind() == "switch");
  CHECK(route.entered() == 2);
  CHECK(route.current() == 0);
  CHECK(Edges(route) == std::vector<std::string>{"apac_gold->offer_apac 1", "gold->offer_gold 1",
                                                 "spender->offer_gold 0",
                                                 "default->offer_basic 0"});
}

TEST_CASE("Switch: a later branch is taken when the earlier ones do not hold") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOffers), IsOk());
  REQUIRE_THAT(h.Profile("cat", {{"tier", Value::String("silver")}}), IsOk());
  REQUIRE_THAT(h.Event("cat", "upgrade", {{"amount", Value::Int(100)}}), IsOk());
  CHECK(TemplateOf(h, "cat") == "gold");
  const v1::NodeReport route = NodeOf(ReportOf(h, "offers").versions(0), "route");
  CHECK(Edges(route)[2] == "spender->offer_gold 1");
}

TEST_CASE("Switch: when no branch holds the default is taken") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kOffers), IsOk());
  // No profile at all, and an amount of the wrong type: every comparison is
  // false, none is an error.
  REQUIRE_THAT(h.Event("dan", "upgrade", {{"amount", Value::String("lots")}}), IsOk());
  REQUIRE_THAT(h.Profile("eve", {{"tier", Value::String("bronze")}}), IsOk());
  REQUIRE_THAT(h.Event("eve", "upgrade", {{"amount", Value::Int(99)}}), IsOk());
  CHECK(TemplateOf(h, "dan") == "basic");
  CHECK(TemplateOf(h, "eve") == "basic");
  const v1::NodeReport route = NodeOf(ReportOf(h, "offers").versions(0), "route");
  CHECK(Edges(route) == std::vector<std::string>{"apac_gold->offer_apac 0", "gold->offer_gold 0",
                                                 "spender->offer_gold 0",
                                                 "default->offer_basic 2"});
}

TEST_CASE("Switch: empty edges leave the journey and count as completed") {
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "gate" version: 1
    settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
    nodes { id: "t" trigger { event { matcher { event: "visit" } } next: "route" } }
    nodes { id: "route" switch {
      branches { name: "bot"
        predicate { compare { path: "profile.tags" op: CONTAINS value { string_value: "bot" } } }
        next: "" }
      branches { name: "vip"
        predicate { compare { path: "profile.vip" op: EQ value { bool_value: true } } }
        next: "hello" }
      default { } } }
    nodes { id: "hello" action { channel: "push" template_id: "hi" next: "" } }
  )pb"),
               IsOk());
  REQUIRE_THAT(h.Profile("bot1", {{"tags", Value::StringList({"bot"})},
                                  {"vip", Value::Bool(true)}}),
               IsOk());
  REQUIRE_THAT(h.Profile("vip1", {{"vip", Value::Bool(true)}}), IsOk());
  for (const char* s : {"bot1", "vip1", "nobody"}) REQUIRE_THAT(h.Event(s, "visit"), IsOk());
  CHECK(h.Sent("bot1").empty());
  CHECK(h.Sent("nobody").empty());
  CHECK(h.Sent("vip1").size() == 1);
  CHECK(h.Exits("bot1") == std::vector<std::string>{"completed"});
  CHECK(h.Exits("nobody") == std::vector<std::string>{"completed"});
  const v1::VersionReport v = ReportOf(h, "gate").versions(0);
  const v1::NodeReport route = NodeOf(v, "route");
  CHECK(Edges(route) ==
        std::vector<std::string>{"bot->(exit) 1", "vip->hello 1", "default->(exit) 1"});
  REQUIRE(route.exits_size() == 1);
  CHECK(route.exits(0).reason() == "completed");
  CHECK(route.exits(0).count() == 2);
  CHECK(v.entered() == 3);
  CHECK(v.exited() == 3);
}

TEST_CASE("Switch: evaluated once on arrival and a later change moves nobody") {
  Harness h;
  // A wait after the switch: whoever took a branch stays on it, whatever
  // their profile becomes.
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "tiers" version: 1
    settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "join" } } next: "route" } }
    nodes { id: "route" switch {
      branches { name: "gold"
        predicate { compare { path: "profile.tier" op: EQ value { string_value: "gold" } } }
        next: "gold_wait" }
      default { next: "basic_wait" } } }
    nodes { id: "gold_wait" delay { duration { seconds: 3600 } next: "" } }
    nodes { id: "basic_wait" delay { duration { seconds: 3600 } next: "" } }
  )pb"),
               IsOk());
  REQUIRE_THAT(h.Event("ann", "join"), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"tier", Value::String("gold")}}), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(2)), IsOk());
  CHECK(h.Path("ann") == std::vector<std::string>{"t", "route", "basic_wait"});
  const v1::NodeReport route = NodeOf(ReportOf(h, "tiers").versions(0), "route");
  CHECK(Edges(route) == std::vector<std::string>{"gold->gold_wait 0", "default->basic_wait 1"});
}

TEST_CASE("Switch: after a delay it sees entry and profile but no event") {
  Harness h;
  // event.* is absent when a timer moves the enrollment, so the "event"
  // branch never holds there, though the entry context still has the value.
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "later" version: 1
    settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "order" } } next: "wait" } }
    nodes { id: "wait" delay { duration { seconds: 60 } next: "route" } }
    nodes { id: "route" switch {
      branches { name: "event"
        predicate { compare { path: "event.plan" op: EQ value { string_value: "pro" } } }
        next: "by_event" }
      branches { name: "entry"
        predicate { compare { path: "entry.plan" op: EQ value { string_value: "pro" } } }
        next: "by_entry" }
      default { next: "" } } }
    nodes { id: "by_event" action { channel: "push" template_id: "event" next: "" } }
    nodes { id: "by_entry" action { channel: "push" template_id: "entry" next: "" } }
  )pb"),
               IsOk());
  REQUIRE_THAT(h.Event("ann", "order", {{"plan", Value::String("pro")}}), IsOk());
  REQUIRE_THAT(h.Advance(absl::Minutes(2)), IsOk());
  CHECK(TemplateOf(h, "ann") == "entry");
}

TEST_CASE("Switch: branches read behaviours and deploy checks them") {
  const std::string journey = R"pb(
    id: "loyal" version: 1
    settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
    nodes { id: "t" trigger { event { matcher { event: "buy" } } next: "route" } }
    nodes { id: "route" switch {
      branches { name: "third"
        predicate { compare { path: "behavior.buys" op: GE value { int_value: 3 } } }
        next: "thanks" }
      default { next: "" } } }
    nodes { id: "thanks" action { channel: "push" template_id: "thanks" next: "" } }
  )pb";
  Harness h;
  // Undeclared: refused at deploy, naming the branch's field.
  const absl::Status refused = h.DeployText(journey);
  CHECK(refused.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(refused.message()),
             Catch::Contains("node route, field switch.branches[0].predicate.compare.path: "
                             "unknown behaviour \"buys\""));
  REQUIRE_THAT(h.engine().DeclareBehaviors(testing::TextBehaviors(
                   R"pb(behaviors { name: "buys" event { event: "buy" } function: COUNT })pb")),
               IsOk());
  REQUIRE_THAT(h.DeployText(journey), IsOk());
  for (int i = 0; i < 4; ++i) REQUIRE_THAT(h.Event("ann", "buy"), IsOk());
  // Counted before the trigger reads it: the 3rd and 4th purchases qualify.
  CHECK(h.Sent("ann").size() == 2);
  const v1::NodeReport route = NodeOf(ReportOf(h, "loyal").versions(0), "route");
  CHECK(Edges(route) == std::vector<std::string>{"third->thanks 2", "default->(exit) 2"});
}

// Engine inputs for the snapshot and shard tests: upgrades of 300 members
// with varied tiers, regions and amounts, then time.
struct Input {
  std::string subject;
  Attributes profile;
  Attributes properties;
  absl::Time time;
};

std::vector<Input> Members(int n, absl::Time start) {
  const char* tiers[] = {"gold", "silver", "bronze"};
  const char* regions[] = {"apac", "emea", "amer", "apac"};
  std::vector<Input> out;
  for (int i = 0; i < n; ++i) {
    Input in;
    in.subject = absl::StrCat("m", i);
    in.profile = {{"region", Value::String(regions[i % 4])},
                  {"tier", Value::String(tiers[i % 3])}};
    in.properties = {{"amount", Value::Int((i * 37) % 200)}};
    in.time = start + absl::Seconds(i);
    out.push_back(std::move(in));
  }
  return out;
}

absl::Status Apply(Engine& e, const Input& in) {
  if (absl::Status s = e.UpsertProfile(in.subject, in.profile, in.time); !s.ok()) return s;
  Event ev = testing::EventAt(in.subject, "upgrade", in.time);
  ev.properties = in.properties;
  return e.Ingest(ev);
}

using testing::NullSink;

absl::Status SetUp(Engine& e, NullSink* sink) {
  if (absl::Status s = e.RegisterChannel("push", sink); !s.ok()) return s;
  return e.Deploy(TextJourney(kOffers));
}

EngineOptions Options(absl::Time start) {
  EngineOptions o;
  o.start_time = start;
  return o;
}

TEST_CASE("Switch: counts per branch survive a snapshot and keep counting after restore") {
  const absl::Time start = Harness::DefaultStart();
  const std::vector<Input> inputs = Members(300, start);
  NullSink sink;
  Engine whole(Options(start));
  REQUIRE_THAT(SetUp(whole, &sink), IsOk());
  for (const Input& in : inputs) REQUIRE_THAT(Apply(whole, in), IsOk());

  Engine first(Options(start));
  REQUIRE_THAT(SetUp(first, &sink), IsOk());
  for (size_t i = 0; i < 150; ++i) REQUIRE_THAT(Apply(first, inputs[i]), IsOk());
  std::stringstream snapshot;
  REQUIRE_THAT(first.Snapshot(snapshot), IsOk());
  Engine second(Options(start));
  REQUIRE_THAT(SetUp(second, &sink), IsOk());
  REQUIRE_THAT(second.Restore(snapshot), IsOk());
  CHECK(Edges(NodeOf(second.Report("offers")->versions(0), "route")) ==
        Edges(NodeOf(first.Report("offers")->versions(0), "route")));
  for (size_t i = 150; i < inputs.size(); ++i) REQUIRE_THAT(Apply(second, inputs[i]), IsOk());

  const v1::NodeReport route = NodeOf(whole.Report("offers")->versions(0), "route");
  // Gold every third member, APAC every other: 1 in 6 is APAC gold (50),
  // the other gold members (50) take "gold", and of the rest those with an
  // amount of 100 or more take "spender".
  CHECK(route.left(0).count() == 50);
  CHECK(route.left(1).count() == 50);
  int64_t spenders = 0;
  for (int i = 0; i < 300; ++i) spenders += (i % 3 != 0 && (i * 37) % 200 >= 100) ? 1 : 0;
  CHECK(route.left(2).count() == spenders);
  CHECK(route.left(3).count() == 200 - spenders);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(*second.Report("offers"),
                                                           *whole.Report("offers")));
}

TEST_CASE("Switch: a sharded engine's merged report sums the counts per branch") {
  const absl::Time start = Harness::DefaultStart();
  const std::vector<Input> inputs = Members(300, start);
  NullSink sink;
  Engine whole(Options(start));
  REQUIRE_THAT(SetUp(whole, &sink), IsOk());
  for (const Input& in : inputs) REQUIRE_THAT(Apply(whole, in), IsOk());

  ShardedEngineOptions options;
  options.shards = 3;
  options.engine = Options(start);
  std::vector<std::unique_ptr<NullSink>> sinks;
  for (int i = 0; i < options.shards; ++i) sinks.push_back(std::make_unique<NullSink>());
  absl::StatusOr<std::unique_ptr<ShardedEngine>> sharded = ShardedEngine::Create(
      options, [&](int shard, Engine& e) { return SetUp(e, sinks[shard].get()); });
  REQUIRE_THAT(StatusOf(sharded), IsOk());
  for (const Input& in : inputs) {
    REQUIRE_THAT((*sharded)->UpsertProfile(in.subject, in.profile, in.time), IsOk());
    Event ev = testing::EventAt(in.subject, "upgrade", in.time);
    ev.properties = in.properties;
    REQUIRE_THAT((*sharded)->Ingest(ev), IsOk());
  }
  absl::StatusOr<v1::JourneyReport> merged = (*sharded)->Report("offers");
  REQUIRE_THAT(StatusOf(merged), IsOk());
  CHECK(Edges(NodeOf(merged->versions(0), "route")) ==
        Edges(NodeOf(whole.Report("offers")->versions(0), "route")));
  CHECK(google::protobuf::util::MessageDifferencer::Equals(*merged, *whole.Report("offers")));
}

TEST_CASE("Switch: MergeJourneyReports adds the counts of each branch") {
  Harness a, b;
  REQUIRE_THAT(a.DeployText(kOffers), IsOk());
  REQUIRE_THAT(b.DeployText(kOffers), IsOk());
  REQUIRE_THAT(a.Profile("ann", {{"tier", Value::String("gold")}}), IsOk());
  REQUIRE_THAT(a.Event("ann", "upgrade"), IsOk());
  REQUIRE_THAT(a.Event("bob", "upgrade"), IsOk());
  REQUIRE_THAT(b.Event("cat", "upgrade", {{"amount", Value::Int(150)}}), IsOk());
  REQUIRE_THAT(b.Event("dan", "upgrade"), IsOk());
  absl::StatusOr<v1::JourneyReport> merged =
      MergeJourneyReports({ReportOf(a, "offers"), ReportOf(b, "offers")});
  REQUIRE_THAT(StatusOf(merged), IsOk());
  CHECK(Edges(NodeOf(merged->versions(0), "route")) ==
        std::vector<std::string>{"apac_gold->offer_apac 0", "gold->offer_gold 1",
                                 "spender->offer_gold 1", "default->offer_basic 2"});
  // A switch whose branches differ (renamed, reordered) is another shape.
  v1::JourneyReport other = ReportOf(b, "offers");
  for (v1::NodeReport& n : *other.mutable_versions(0)->mutable_nodes()) {
    if (n.node_id() == "route") n.mutable_left(1)->set_label("platinum");
  }
  CHECK(StatusOf(MergeJourneyReports({ReportOf(a, "offers"), other})).code() ==
        absl::StatusCode::kInvalidArgument);
}

// Version 1 filters on the tier after a day's wait; version 2 routes with a
// switch instead. A switch holds nobody, so it needs no mapping, and an
// enrollment moved into the delay meets the new switch when the delay ends.
constexpr char kNurtureV1[] = R"pb(
  id: "nurture" version: 1
  settings { state: ACTIVE }
  nodes { id: "t" trigger { event { matcher { event: "join" } } next: "wait" } }
  nodes { id: "wait" delay { duration { seconds: 86400 } next: "is_gold" } }
  nodes { id: "is_gold" filter {
    predicate { compare { path: "profile.tier" op: EQ value { string_value: "gold" } } }
    on_true: "gold" on_false: "basic" } }
  nodes { id: "gold" action { channel: "push" template_id: "v1_gold" next: "" } }
  nodes { id: "basic" action { channel: "push" template_id: "v1_basic" next: "" } }
)pb";

constexpr char kNurtureV2[] = R"pb(
  id: "nurture" version: 2
  settings { state: ACTIVE }
  migration { node_map { key: "wait" value: "wait" } }
  nodes { id: "t" trigger { event { matcher { event: "join" } } next: "wait" } }
  nodes { id: "wait" delay { duration { seconds: 86400 } next: "route" } }
  nodes { id: "route" switch {
    branches { name: "gold"
      predicate { compare { path: "profile.tier" op: EQ value { string_value: "gold" } } }
      next: "gold" }
    branches { name: "silver"
      predicate { compare { path: "profile.tier" op: EQ value { string_value: "silver" } } }
      next: "silver" }
    default { next: "basic" } } }
  nodes { id: "gold" action { channel: "push" template_id: "v2_gold" next: "" } }
  nodes { id: "silver" action { channel: "push" template_id: "v2_silver" next: "" } }
  nodes { id: "basic" action { channel: "push" template_id: "v2_basic" next: "" } }
)pb";

TEST_CASE("Switch: a migration moves enrollments to a delay that leads into a switch") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kNurtureV1), IsOk());
  REQUIRE_THAT(h.Profile("ann", {{"tier", Value::String("silver")}}), IsOk());
  REQUIRE_THAT(h.Event("ann", "join"), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(12)), IsOk());
  REQUIRE_THAT(h.DeployText(kNurtureV2), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(13)), IsOk());
  // The deadline is kept (24 h from entry) and v2's switch routes her.
  REQUIRE(h.Sent("ann").size() == 1);
  CHECK(h.Sent("ann")[0].template_id == "v2_silver");
  CHECK(h.Sent("ann")[0].time == Harness::DefaultStart() + absl::Hours(24));
  const v1::JourneyReport r = ReportOf(h, "nurture");
  REQUIRE(r.versions_size() == 2);
  CHECK(Edges(NodeOf(r.versions(1), "route")) ==
        std::vector<std::string>{"gold->gold 0", "silver->silver 1", "default->basic 0"});
}

TEST_CASE("Switch: a version with a switch migrates without mapping it") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kNurtureV2), IsOk());
  std::string v3 = kNurtureV2;
  v3.replace(v3.find("version: 2"), 10, "version: 3");
  REQUIRE_THAT(h.DeployText(v3), IsOk());
  // Mapping the waiting node onto the switch is refused: nobody waits at a
  // switch, and kinds must match.
  std::string v4 = kNurtureV2;
  v4.replace(v4.find("version: 2"), 10, "version: 4");
  v4.replace(v4.find("value: \"wait\""), 13, "value: \"route\"");
  const absl::Status refused = h.DeployText(v4);
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(refused.message()),
             Catch::Contains("node \"wait\" (delay), field migration.node_map[\"wait\"]: maps to "
                             "\"route\", a switch node"));
}

TEST_CASE("Switch: JSON and binary journeys carry the switch and its default") {
  const v1::Journey text = TextJourney(kOffers);
  for (JourneyFormat format : {JourneyFormat::kJson, JourneyFormat::kBinary}) {
    absl::StatusOr<std::string> data = SerializeJourney(text, format);
    REQUIRE_THAT(StatusOf(data), IsOk());
    absl::StatusOr<v1::Journey> back = ParseJourney(*data, format);
    REQUIRE_THAT(StatusOf(back), IsOk());
    CHECK(google::protobuf::util::MessageDifferencer::Equals(*back, text));
    if (format == JourneyFormat::kJson) {
      CHECK_THAT(*data, Catch::Contains("\"switch\""));
      CHECK_THAT(*data, Catch::Contains("\"default\""));
    }
  }
  // An empty default is still a default: present in every encoding.
  v1::Journey empty_default = text;
  empty_default.mutable_nodes(1)->mutable_switch_()->mutable_default_()->clear_next();
  for (JourneyFormat format :
       {JourneyFormat::kText, JourneyFormat::kJson, JourneyFormat::kBinary}) {
    absl::StatusOr<std::string> data = SerializeJourney(empty_default, format);
    REQUIRE_THAT(StatusOf(data), IsOk());
    absl::StatusOr<v1::Journey> back = ParseJourney(*data, format);
    REQUIRE_THAT(StatusOf(back), IsOk());
    CHECK(back->nodes(1).switch_().has_default_());
    // Valid as a switch; only offer_basic, no longer the default's
    // target, is left unreachable.
    const std::vector<JourneyProblem> problems = ValidateJourney(*back);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].node_id == "offer_basic");
  }
}

TEST_CASE("Switch: a branch predicate nests at most kMaxPredicateDepth levels") {
  auto journey = [](int depth) {
    std::string predicate = R"pb(compare { path: "profile.tier" op: EXISTS })pb";
    for (int i = 1; i < depth; ++i) predicate = absl::StrCat("not { ", predicate, " }");
    return TextJourney(absl::StrCat(R"pb(
      id: "deep" version: 1 settings { state: ACTIVE }
      nodes { id: "t" trigger { event { matcher { event: "go" } } next: "route" } }
      nodes { id: "route" switch { branches { name: "b" predicate { )pb",
                                    predicate, R"pb( } next: "" } default { next: "done" } } }
      nodes { id: "done" exit {} })pb"));
  };
  CHECK(ValidateJourney(journey(kMaxPredicateDepth)).empty());
  const std::vector<JourneyProblem> problems = ValidateJourney(journey(kMaxPredicateDepth + 1));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].node_id == "route");
  CHECK(problems[0].field == "switch.branches[0].predicate");
  CHECK_THAT(problems[0].message, Catch::StartsWith("predicate nests more than 24 levels deep"));
}

TEST_CASE("Switch: the text report and the picture show every branch with its count") {
  const v1::Journey j = TextJourney(R"pb(
    id: "gate" version: 1
    settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "visit" } } next: "route" } }
    nodes { id: "route" switch {
      branches { name: "big"
        predicate { compare { path: "event.amount" op: GE value { int_value: 100 } } }
        next: "hello" }
      branches { name: "small"
        predicate { compare { path: "event.amount" op: LT value { int_value: 10 } } }
        next: "" }
      default { } } }
    nodes { id: "hello" action { channel: "push" template_id: "hi" next: "" } }
  )pb");
  std::istringstream events(
      "{\"subject\":\"a\",\"name\":\"visit\",\"time\":\"2026-01-05T12:00:00Z\","
      "\"properties\":{\"amount\":150}}\n"
      "{\"subject\":\"b\",\"name\":\"visit\",\"time\":\"2026-01-05T12:00:01Z\","
      "\"properties\":{\"amount\":5}}\n"
      "{\"subject\":\"c\",\"name\":\"visit\",\"time\":\"2026-01-05T12:00:02Z\","
      "\"properties\":{\"amount\":50}}\n"
      "{\"subject\":\"d\",\"name\":\"visit\",\"time\":\"2026-01-05T12:00:03Z\","
      "\"properties\":{\"amount\":1}}\n");
  absl::StatusOr<sim::SimResult> r =
      sim::Simulate(j, events, "log", nullptr, "", sim::SimOptions());
  REQUIRE_THAT(StatusOf(r), IsOk());
  const std::string text = sim::RenderText(j, *r);
  CHECK_THAT(text, Catch::Contains(
                       "  route                  switch            4        0  big 1 | "
                       "small (leaves) 2 | default (leaves) 1 | exit:completed 3\n"));
  const std::string dot = sim::RenderDot(j, r->report);
  CHECK_THAT(dot, Catch::Contains("\"route\" [label=\"route\\nswitch | 4\\nsmall (leaves): "
                                  "2\\ndefault (leaves): 1\\nexit completed: 3\", "
                                  "fillcolor=\"#fbe0ef\"];"));
  CHECK_THAT(dot, Catch::Contains("\"route\" -> \"hello\" [label=\"big\\n1\""));
}

}  // namespace
}  // namespace cairn
