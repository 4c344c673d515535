// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Erasure (Engine::Forget): a forgotten subject's enrollments exit with
// reason "erased", its journey goals are counted as erased, and no snapshot
// written afterwards holds a byte of its id or data; the counters stay
// balanced; a restored engine continues identically; a later input with the
// same id starts afresh; the failure paths; ShardedEngine and EngineInput.

#include <algorithm>
#include <functional>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
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

// What the engine learns about a subject, by every route: a delay with a
// journey goal and a split, a sequence trigger half-matched, a capped
// channel's ledger, a profile, behaviours and a segment.
constexpr char kBehaviors[] = R"pb(
  behaviors { name: "views" event { event: "view" } function: COUNT }
  behaviors { name: "spent" event { event: "pay" } function: SUM property: "amount" }
  segments { name: "viewers" condition {
    compare { path: "behavior.views" op: GE value { int_value: 1 } } } }
)pb";

constexpr char kNurture[] = R"pb(
  id: "nurture" version: 1
  settings { state: ACTIVE goals { name: "paid" conversion { event: "pay" } window { seconds: 604800 } } }
  nodes { id: "t" trigger { event { matcher { event: "signup" } } next: "split" } }
  nodes { id: "split" split { variants { name: "a" weight: 50 next: "hello" }
                              variants { name: "b" weight: 50 control: true next: "wait" } } }
  nodes { id: "hello" action { channel: "sms" template_id: "hi"
          params { key: "email" value: "{{profile.email}}" } next: "wait" } }
  nodes { id: "wait" delay { duration { seconds: 86400 } next: "again" } }
  nodes { id: "again" action { channel: "sms" template_id: "again" } })pb";

constexpr char kCart[] = R"pb(
  id: "cart" version: 1 settings { state: ACTIVE }
  nodes { id: "t" trigger { sequence { steps { event: "view" } steps { event: "cart" }
          within { seconds: 7200 } } next: "p" } }
  nodes { id: "p" action { channel: "push" template_id: "cart" } })pb";

EngineOptions Options() {
  EngineOptions o;
  o.start_time = Harness::DefaultStart();
  o.frequency_caps.push_back({"sms", 5, absl::Hours(24)});
  return o;
}

void SetUp(Harness* h) {
  REQUIRE_THAT(h->engine().DeclareBehaviors(testing::TextBehaviors(kBehaviors)), IsOk());
  REQUIRE_THAT(h->DeployText(kNurture), IsOk());
  REQUIRE_THAT(h->DeployText(kCart), IsOk());
}

// Feeds two subjects the same history, but only `other` pays (its goal
// converts); `secret` is the one to forget.
void Feed(Harness* h, const std::string& secret, const std::string& other) {
  for (const std::string& s : {secret, other}) {
    REQUIRE_THAT(h->Profile(s, {{"email", Value::String(s + "@mail.example")},
                                {"tier", Value::String("gold-" + s)}}),
                 IsOk());
    REQUIRE_THAT(h->Event(s, "signup"), IsOk());
    REQUIRE_THAT(h->Event(s, "view", {{"sku", Value::String("sku-" + s)}}), IsOk());
    if (s == other) {
      REQUIRE_THAT(h->Event(s, "pay", {{"amount", Value::Double(12.5)}}), IsOk());
    }
  }
}

// The ids of every message the harness's sinks took, sorted.
std::vector<std::string> MessageIds(const Harness& h) {
  std::vector<std::string> ids;
  for (const Message& m : h.Sent()) ids.push_back(m.message_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string SnapshotOf(Harness& h) {
  std::stringstream out;
  REQUIRE_THAT(h.engine().Snapshot(out), IsOk());
  return out.str();
}

// Restores `bytes` into an engine `make_fresh` sets up, checks it writes
// the same snapshot, runs `continuation` on both, and checks that they end
// alike: the same snapshot, and the restored engine's sends are the
// original's since the snapshot (`sent_before`: the original's then).
void CheckContinuesAfterRestore(Harness& h, const std::string& bytes,
                                const std::vector<std::string>& sent_before,
                                const std::function<void(Harness*)>& make_fresh,
                                const std::function<void(Harness*)>& continuation) {
  Harness restored(h.now(), Options());
  make_fresh(&restored);
  std::stringstream in(bytes);
  REQUIRE_THAT(restored.engine().Restore(in), IsOk());
  CHECK(SnapshotOf(restored) == bytes);
  for (Harness* x : {&h, &restored}) continuation(x);
  CHECK(SnapshotOf(restored) == SnapshotOf(h));
  std::vector<std::string> after;
  const std::vector<std::string> all = MessageIds(h);
  std::set_difference(all.begin(), all.end(), sent_before.begin(), sent_before.end(),
                      std::back_inserter(after));
  CHECK(MessageIds(restored) == after);
  CHECK(restored.engine().stats().subjects == h.engine().stats().subjects);
}

int64_t ExitsFor(const v1::VersionReport& v, const std::string& reason) {
  for (const v1::ReasonCount& c : v.exits()) {
    if (c.reason() == reason) return c.count();
  }
  return 0;
}

TEST_CASE("Forget drops every byte of a subject and exits its enrollments as erased") {
  const std::string secret = "cust-7f3a9q-erase-me";
  const std::string other = "cust-keep-2b";
  Harness h(Harness::DefaultStart(), Options());
  SetUp(&h);
  Feed(&h, secret, other);
  REQUIRE(absl::StrContains(SnapshotOf(h), secret));
  REQUIRE(h.engine().Inspect("", secret)->known());
  const int64_t subjects_before = h.engine().stats().subjects;

  REQUIRE_THAT(h.engine().Forget(secret, h.now() + absl::Minutes(1)), IsOk());

  // Nothing of it is written: not its id, its profile, its event
  // properties or what a message to it said.
  const std::string bytes = SnapshotOf(h);
  for (const std::string& piece :
       {secret, secret + "@mail.example", "gold-" + secret, "sku-" + secret}) {
    INFO(piece);
    CHECK_FALSE(absl::StrContains(bytes, piece));
  }
  CHECK(absl::StrContains(bytes, other));  // the other subject is untouched
  CHECK_FALSE(h.engine().Inspect("", secret)->known());
  const EngineStats stats = h.engine().stats();
  CHECK(stats.erasures_applied == 1);
  CHECK(stats.subjects == subjects_before - 1);
  CHECK(stats.enrollments_in_flight == 1);  // the other's enrollment in nurture
  // Counters stay balanced: its enrollment exited, counted by reason; its
  // journey goal is counted as erased, never converted or expired.
  const v1::VersionReport v = h.Report("nurture")->versions(0);
  CHECK(v.entered() == 2);
  CHECK(v.exited() == 1);
  CHECK(ExitsFor(v, "erased") == 1);
  CHECK(v.in_flight() == 1);
  const v1::GoalReport* paid = nullptr;
  for (const v1::GoalReport& g : v.goals()) {
    if (g.name() == "paid") paid = &g;
  }
  REQUIRE(paid != nullptr);
  CHECK(paid->overall().reached() == 2);
  CHECK(paid->overall().converted() == 1);  // the other paid after entering
  CHECK(paid->overall().erased() == 1);
  // Behaviours and the segment count only the other subject now.
  const v1::BehaviorsReport behaviors = h.engine().BehaviorsReport();
  REQUIRE(behaviors.behaviors_size() == 2);
  CHECK(behaviors.behaviors(0).subjects() == 1);  // views: the other only
  CHECK(behaviors.behaviors(1).subjects() == 1);  // spent: only the other paid
  REQUIRE(behaviors.segments_size() == 1);
  CHECK(behaviors.segments(0).members() == 1);
  CHECK(behaviors.segments(0).entered() - behaviors.segments(0).left() == 1);
  // Its timers fire into nothing: a day on, only the other gets the second sms.
  REQUIRE_THAT(h.Advance(absl::Hours(25)), IsOk());
  CHECK(h.Sent(secret, "sms").size() <= 1);  // at most the first, before Forget
  CHECK(h.SentTo(other, "sms") >= 1);
  CHECK(h.Report("nurture")->versions(0).in_flight() == 0);
}

TEST_CASE("A snapshot taken after Forget restores and continues identically") {
  Harness h(Harness::DefaultStart(), Options());
  SetUp(&h);
  Feed(&h, "gone", "stays");
  REQUIRE_THAT(h.engine().Forget("gone", h.now()), IsOk());
  const std::string bytes = SnapshotOf(h);
  const std::vector<std::string> sent_before = MessageIds(h);
  CheckContinuesAfterRestore(h, bytes, sent_before, SetUp, [](Harness* x) {
    REQUIRE_THAT(x->Event("stays", "cart"), IsOk());
    REQUIRE_THAT(x->Event("gone", "signup"), IsOk());  // a new subject, from scratch
    REQUIRE_THAT(x->Advance(absl::Hours(30)), IsOk());
  });
}

TEST_CASE("Restore refuses a forged forgotten subject") {
  Harness h(Harness::DefaultStart(), Options());
  SetUp(&h);
  Feed(&h, "gone", "stays");
  REQUIRE_THAT(h.engine().Forget("gone", h.now()), IsOk());
  const std::string bytes = SnapshotOf(h);
  const auto restore = [&](const std::function<void(std::vector<v1::SnapshotRecord>*)>& edit) {
    std::vector<v1::SnapshotRecord> records = testing::ReadSnapshotRecords(bytes);
    edit(&records);
    std::stringstream in(testing::WriteSnapshotRecords(records));
    Harness fresh(h.now(), Options());
    SetUp(&fresh);
    return fresh.engine().Restore(in);
  };
  const auto each = [](std::vector<v1::SnapshotRecord>* records,
                       const std::function<void(v1::SnapshotRecord*)>& edit) {
    for (v1::SnapshotRecord& r : *records) edit(&r);
  };
  // A forgotten subject that still holds an id, or a profile.
  CHECK(restore([&](auto* records) {
          each(records, [](v1::SnapshotRecord* r) {
            if (r->has_subject() && r->subject().erased()) r->mutable_subject()->set_id("gone");
          });
        }).code() == absl::StatusCode::kDataLoss);
  CHECK(restore([&](auto* records) {
          each(records, [](v1::SnapshotRecord* r) {
            if (r->has_subject() && r->subject().erased()) {
              r->mutable_subject()->add_profile()->set_name("email");
            }
          });
        }).code() == absl::StatusCode::kDataLoss);
  // A forgotten key counted 0 times, or listed twice.
  CHECK(restore([&](auto* records) {
          each(records, [](v1::SnapshotRecord* r) {
            if (r->has_forgotten()) r->mutable_forgotten()->set_times(0);
          });
        }).code() == absl::StatusCode::kDataLoss);
  CHECK(restore([&](auto* records) {
          for (size_t i = 0; i < records->size(); ++i) {
            if ((*records)[i].has_forgotten()) {
              const v1::SnapshotRecord copy = (*records)[i];
              records->insert(records->begin() + static_cast<std::ptrdiff_t>(i), copy);
              break;
            }
          }
          // (The trailer counts the records: one more, so that only the
          // repeat is wrong.)
          v1::SnapshotTrailer* trailer = records->back().mutable_trailer();
          trailer->set_records(trailer->records() + 1);
        }).message() == "snapshot: forgotten subject count is out of range");
  CHECK_THAT(restore([](auto*) {}), IsOk());
}

TEST_CASE("A returning id gets message ids of its own") {
  Harness h(Harness::DefaultStart(), Options());
  SetUp(&h);
  std::vector<std::string> ids;
  for (int round = 0; round < 3; ++round) {
    REQUIRE_THAT(h.Event("u1", "signup"), IsOk());
    REQUIRE_THAT(h.Advance(absl::Hours(25)), IsOk());
    REQUIRE_THAT(h.engine().Forget("u1", h.now()), IsOk());
  }
  for (const Message& m : h.Sent("u1")) ids.push_back(m.message_id);
  REQUIRE(ids.size() >= 3);  // the second sms at least, each time
  std::vector<std::string> unique = ids;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  CHECK(unique.size() == ids.size());
  // The forgotten keys survive a snapshot, so a restored engine numbers
  // the next return the same.
  const std::string bytes = SnapshotOf(h);
  Harness restored(h.now(), Options());
  SetUp(&restored);
  std::stringstream in(bytes);
  REQUIRE_THAT(restored.engine().Restore(in), IsOk());
  for (Harness* x : {&h, &restored}) {
    REQUIRE_THAT(x->Event("u1", "signup"), IsOk());
    REQUIRE_THAT(x->Advance(absl::Hours(25)), IsOk());
  }
  REQUIRE_FALSE(restored.Sent("u1").empty());
  CHECK(restored.Sent("u1").back().message_id == h.Sent("u1").back().message_id);
  CHECK(std::count(ids.begin(), ids.end(), h.Sent("u1").back().message_id) == 0);
}

TEST_CASE("The same id after Forget is a new subject with no history") {
  Harness h(Harness::DefaultStart(), Options());
  SetUp(&h);
  REQUIRE_THAT(h.Event("u1", "signup"), IsOk());
  REQUIRE_THAT(h.Event("u1", "signup"), IsOk());  // NEVER: refused
  REQUIRE_THAT(h.engine().Forget("u1", h.now()), IsOk());
  REQUIRE_THAT(h.Event("u1", "signup"), IsOk());  // enters: the history went too
  const v1::VersionReport v = h.Report("nurture")->versions(0);
  CHECK(v.entered() == 2);
  CHECK(v.in_flight() == 1);
  CHECK(h.engine().Inspect("", "u1")->enrollments_size() == 1);
  CHECK(h.engine().stats().subjects == 1);
}

TEST_CASE("Forget refuses what it cannot apply and counts it") {
  Harness h(Harness::DefaultStart(), Options());
  SetUp(&h);
  REQUIRE_THAT(h.Event("u1", "signup"), IsOk());
  Engine& e = h.engine();
  CHECK(e.Forget("", h.now()).code() == absl::StatusCode::kInvalidArgument);
  CHECK(e.Forget("u\xff", h.now()).code() == absl::StatusCode::kInvalidArgument);
  CHECK(e.Forget("nobody", h.now()).code() == absl::StatusCode::kNotFound);
  CHECK(e.Forget("u1", h.now(), "device").code() == absl::StatusCode::kNotFound);
  CHECK(e.Forget("u1", h.now() + absl::Hours(24 * 400)).code() == absl::StatusCode::kOutOfRange);
  CHECK(e.Forget("u1", absl::InfiniteFuture()).code() == absl::StatusCode::kInvalidArgument);
  CHECK(e.stats().erasures_rejected == 6);
  // However late, an erasure applies (at engine time), once.
  REQUIRE_THAT(h.Advance(absl::Hours(5)), IsOk());
  REQUIRE_THAT(e.Forget("u1", Harness::DefaultStart()), IsOk());
  CHECK(e.Forget("u1", h.now()).code() == absl::StatusCode::kNotFound);
  CHECK(e.stats().erasures_applied == 1);
  CHECK(e.stats().erasures_rejected == 7);
}

TEST_CASE("After Forget no freed slot keeps an instance key or entry context of the subject") {
  // A keyed journey goal that resolved, and a completed match cancelled by
  // its absent event, before the erasure: their slots are free, but free
  // slots are written to snapshots too.
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "orders" version: 1
    settings { state: ACTIVE instance_key: "order"
               goals { name: "reviewed" conversion { event: "review" } window { seconds: 3600 } } }
    nodes { id: "t" trigger { event { matcher { event: "buy" } } next: "d" } }
    nodes { id: "d" delay { duration { seconds: 60 } next: "" } })pb"),
               IsOk());
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "abandon" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { sequence { steps { event: "view" } steps { event: "cart" }
            within { seconds: 3600 } absent { event: "pay" } absent_within { seconds: 1800 } }
            next: "p" } }
    nodes { id: "p" action { channel: "push" template_id: "come_back" params { key: "sku" value: "{{entry.sku}}" } } })pb"),
               IsOk());
  REQUIRE_THAT(h.Event("u1", "buy", {{"order", Value::String("order-7q2x")}}), IsOk());
  REQUIRE_THAT(h.Event("u1", "view", {{"sku", Value::String("sku-77zz")}}), IsOk());
  REQUIRE_THAT(h.Event("u1", "cart", {{"sku", Value::String("sku-77zz")}}), IsOk());
  REQUIRE_THAT(h.Event("u1", "pay"), IsOk());  // cancels the completed match
  REQUIRE_THAT(h.Advance(absl::Hours(2)), IsOk());  // the goal expires
  REQUIRE_THAT(h.engine().Forget("u1", h.now()), IsOk());
  const std::string bytes = SnapshotOf(h);
  CHECK_FALSE(absl::StrContains(bytes, "order-7q2x"));
  CHECK_FALSE(absl::StrContains(bytes, "sku-77zz"));
}

TEST_CASE("Forget drops a completed sequence match still waiting for silence") {
  Harness h;
  REQUIRE_THAT(h.DeployText(R"pb(
    id: "abandon" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { sequence { steps { event: "view" } steps { event: "cart" }
            within { seconds: 3600 } absent { event: "pay" } absent_within { seconds: 1800 } }
            next: "p" } }
    nodes { id: "p" action { channel: "push" template_id: "come_back" } })pb"),
               IsOk());
  REQUIRE_THAT(h.Event("u1", "view"), IsOk());
  REQUIRE_THAT(h.Event("u1", "cart"), IsOk());
  REQUIRE_THAT(h.engine().Forget("u1", h.now()), IsOk());
  REQUIRE_THAT(h.Advance(absl::Hours(1)), IsOk());
  CHECK(h.Sent().empty());
  CHECK(h.Report("abandon")->versions(0).entered() == 0);
}

TEST_CASE("Forget through EngineInput and on a ShardedEngine") {
  Harness h(Harness::DefaultStart(), Options());
  SetUp(&h);
  Feed(&h, "a", "b");
  REQUIRE_THAT(h.engine().Apply(SubjectErasure{"a", "", h.now()}), IsOk());
  CHECK_FALSE(h.engine().Inspect("", "a")->known());

  testing::NullSink sms;
  ShardedEngineOptions options;
  options.shards = 3;
  options.engine = Options();
  absl::StatusOr<std::unique_ptr<ShardedEngine>> sharded =
      ShardedEngine::Create(options, [&](int, Engine& e) -> absl::Status {
        if (absl::Status s = e.RegisterChannel("sms", &sms); !s.ok()) return s;
        if (absl::Status s = e.DeclareBehaviors(testing::TextBehaviors(kBehaviors)); !s.ok()) {
          return s;
        }
        return e.Deploy(testing::TextJourney(kNurture));
      });
  REQUIRE_THAT(StatusOf(sharded), IsOk());
  ShardedEngine& s = **sharded;
  for (int i = 0; i < 30; ++i) {
    Event e;
    e.subject_id = absl::StrCat("s", i);
    e.name = "signup";
    e.time = Harness::DefaultStart();
    REQUIRE_THAT(s.Ingest(e), IsOk());
  }
  for (int i = 0; i < 30; i += 3) {
    REQUIRE_THAT(s.Forget(absl::StrCat("s", i), Harness::DefaultStart()), IsOk());
  }
  CHECK(s.Forget("", Harness::DefaultStart()).code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.Forget("s0", Harness::DefaultStart()).code() == absl::StatusCode::kNotFound);
  const absl::StatusOr<v1::JourneyReport> report = s.Report("nurture");
  REQUIRE_THAT(StatusOf(report), IsOk());
  CHECK(ExitsFor(report->versions(0), "erased") == 10);
  CHECK(report->versions(0).in_flight() == 20);
  CHECK(s.stats().erasures_applied == 10);
  CHECK(s.stats().subjects == 20);
}

// ---- Merging subjects ----

// A visitor browses anonymously, then logs in as a known customer.
constexpr char kBrowse[] = R"pb(
  id: "browse" version: 1 settings { state: ACTIVE }
  nodes { id: "t" trigger { event { matcher { event: "add_to_cart" } } next: "wait" } }
  nodes { id: "wait" delay { duration { seconds: 7200 } next: "nudge" } }
  nodes { id: "nudge" action { channel: "push" template_id: "still_looking"
          params { key: "who" value: "{{profile.name}}" } } })pb";

int64_t Behavior(Harness& h, const std::string& subject, const std::string& name) {
  absl::StatusOr<Value> v = h.engine().BehaviorValue("", subject, name);
  REQUIRE_THAT(StatusOf(v), IsOk());
  return v->int_value();
}

TEST_CASE("A merged visitor's journeys continue as the known subject with one enrollment each") {
  Harness h(Harness::DefaultStart(), Options());
  SetUp(&h);
  REQUIRE_THAT(h.DeployText(kBrowse), IsOk());
  // The known customer: in nurture (its arm taken), two views.
  REQUIRE_THAT(h.Profile("cust-1", {{"name", Value::String("Li Wei")},
                                    {"opted_out_channels", Value::StringList({"email"})}}),
               IsOk());
  REQUIRE_THAT(h.Event("cust-1", "signup"), IsOk());
  const std::string known_arm =
      h.engine().Inspect("", "cust-1")->enrollments(0).arm();
  // The visitor: in nurture too, in browse (a cart), three views.
  REQUIRE_THAT(h.Profile("anon-9", {{"name", Value::String("guest")},
                                    {"utm_source", Value::String("wechat")},
                                    {"opted_out_channels", Value::StringList({"sms"})}}),
               IsOk());
  REQUIRE_THAT(h.Event("anon-9", "signup"), IsOk());
  REQUIRE_THAT(h.Event("anon-9", "add_to_cart"), IsOk());
  REQUIRE_THAT(h.Event("anon-9", "view"), IsOk());
  REQUIRE_THAT(h.Event("cust-1", "view"), IsOk());
  REQUIRE_THAT(h.Event("cust-1", "view", h.now() + absl::Minutes(1)), IsOk());
  REQUIRE_THAT(h.Event("anon-9", "view", h.now()), IsOk());
  REQUIRE_THAT(h.Event("anon-9", "view", h.now()), IsOk());
  REQUIRE(Behavior(h, "anon-9", "views") == 3);
  REQUIRE(Behavior(h, "cust-1", "views") == 2);
  const std::vector<std::string> ids_before = MessageIds(h);

  REQUIRE_THAT(h.engine().MergeSubjects("anon-9", "cust-1", h.now() + absl::Minutes(5)),
               IsOk());

  CHECK_FALSE(h.engine().Inspect("", "anon-9")->known());
  const v1::SubjectReport known = *h.engine().Inspect("", "cust-1");
  REQUIRE(known.enrollments_size() == 2);  // nurture (its own), browse (the visitor's)
  int nurture = 0, browse = 0;
  for (const v1::EnrollmentStatus& e : known.enrollments()) {
    if (e.journey_id() == "nurture") {
      ++nurture;
      CHECK(e.arm() == known_arm);  // the known subject's arm is kept
    }
    browse += e.journey_id() == "browse";
  }
  CHECK(nurture == 1);
  CHECK(browse == 1);
  // The visitor's nurture enrollment exited as merged; its journey goal
  // counts as erased.
  const v1::VersionReport v = h.Report("nurture")->versions(0);
  CHECK(ExitsFor(v, "merged") == 1);
  CHECK(v.in_flight() == 1);
  // Behaviours add up; the profile keeps the known values and gains the rest;
  // consent joins.
  CHECK(Behavior(h, "cust-1", "views") == 5);
  absl::StatusOr<Value> spent = h.engine().BehaviorValue("", "cust-1", "spent");
  REQUIRE_THAT(StatusOf(spent), IsOk());
  CHECK(h.engine().stats().merges_applied == 1);
  CHECK(h.engine().stats().subjects == 1);
  // The visitor's browse nudge goes to the known subject, by its name,
  // with a message id never used before.
  REQUIRE_THAT(h.Advance(absl::Hours(3)), IsOk());
  const std::vector<Message> pushes = h.Sent("cust-1", "push");
  REQUIRE(pushes.size() == 1);
  CHECK(pushes[0].params == std::vector<std::pair<std::string, std::string>>{{"who", "Li Wei"}});
  CHECK(std::count(ids_before.begin(), ids_before.end(), pushes[0].message_id) == 0);
  CHECK(h.Sent("anon-9").size() <= 1);  // at most nurture's hello, before the merge
  // No sms to a subject either of them opted out of sms with.
  const size_t sms_before = h.Sent("cust-1", "sms").size();
  REQUIRE_THAT(h.Advance(absl::Hours(24)), IsOk());
  CHECK(h.Sent("cust-1", "sms").size() == sms_before);
}

TEST_CASE("Merged behaviour state is what one subject doing both's events would hold") {
  // Two engines: in one, "anon" and "known" act and then merge; in the
  // other, one subject does all of it. Every function must agree.
  constexpr char kAll[] = R"pb(
    behaviors { name: "views" event { event: "view" } function: COUNT }
    behaviors { name: "views_1d" event { event: "view" } function: COUNT
                window { last { seconds: 86400 } resolution { seconds: 3600 } } }
    behaviors { name: "spent" event { event: "pay" } function: SUM property: "amount" }
    behaviors { name: "spent_1d" event { event: "pay" } function: SUM property: "amount"
                window { last { seconds: 86400 } } }
    behaviors { name: "largest" event { event: "pay" } function: MAX property: "amount" }
    behaviors { name: "smallest_1d" event { event: "pay" } function: MIN property: "amount"
                window { last { seconds: 86400 } } }
    behaviors { name: "skus" event { event: "view" } function: DISTINCT_COUNT property: "sku" }
    behaviors { name: "skus_1d" event { event: "view" } function: DISTINCT_COUNT property: "sku"
                window { last { seconds: 86400 } } }
    behaviors { name: "first_view" event { event: "view" } function: FIRST_TIME }
    behaviors { name: "last_view" event { event: "view" } function: LAST_TIME }
    behaviors { name: "days" event { event: "check_in" } function: ACTIVE_DAYS }
    behaviors { name: "streak" event { event: "check_in" } function: CURRENT_STREAK }
    behaviors { name: "best_streak" event { event: "check_in" } function: LONGEST_STREAK }
  )pb";
  struct Act {
    const char* who;  // "anon" or "known"
    const char* name;
    int hours;        // after the start
    Attributes properties;
  };
  const std::vector<Act> acts = {
      {"known", "view", 0, {{"sku", Value::String("a")}}},
      {"anon", "view", 1, {{"sku", Value::String("b")}}},
      {"anon", "view", 2, {{"sku", Value::String("a")}}},
      {"known", "pay", 3, {{"amount", Value::Double(20)}}},
      {"anon", "pay", 4, {{"amount", Value::Double(5.5)}}},
      {"anon", "check_in", 0, {}},       // day 1
      {"known", "check_in", 24, {}},     // day 2
      {"anon", "check_in", 48, {}},      // day 3: a 3-day streak together
      {"known", "check_in", 96, {}},     // day 5
      {"anon", "view", 97, {{"sku", Value::String("c")}}},
  };
  Harness merged, one;
  for (Harness* x : {&merged, &one}) {
    REQUIRE_THAT(x->engine().DeclareBehaviors(testing::TextBehaviors(kAll)), IsOk());
  }
  std::vector<Act> ordered = acts;
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Act& a, const Act& b) { return a.hours < b.hours; });
  for (const Act& a : ordered) {
    const absl::Time t = Harness::DefaultStart() + absl::Hours(a.hours);
    REQUIRE_THAT(merged.Event(a.who, a.name, t, a.properties), IsOk());
    REQUIRE_THAT(one.Event("known", a.name, t, a.properties), IsOk());
  }
  REQUIRE_THAT(merged.engine().MergeSubjects("anon", "known", merged.now()), IsOk());
  for (const char* name : {"views", "views_1d", "spent", "spent_1d", "largest", "smallest_1d",
                           "skus", "skus_1d", "first_view", "last_view", "days", "streak",
                           "best_streak"}) {
    INFO(name);
    const absl::StatusOr<Value> a = merged.engine().BehaviorValue("", "known", name);
    const absl::StatusOr<Value> b = one.engine().BehaviorValue("", "known", name);
    REQUIRE_THAT(StatusOf(a), IsOk());
    REQUIRE_THAT(StatusOf(b), IsOk());
    CHECK(*a == *b);
  }
  CHECK(merged.engine().BehaviorValue("", "known", "best_streak")->int_value() == 3);
}

TEST_CASE("Merging into an id the engine does not know moves everything") {
  Harness h(Harness::DefaultStart(), Options());
  SetUp(&h);
  REQUIRE_THAT(h.Event("anon-1", "signup"), IsOk());
  REQUIRE_THAT(h.Event("anon-1", "view"), IsOk());
  REQUIRE_THAT(h.engine().MergeSubjects("anon-1", "u-1", h.now()), IsOk());
  CHECK(h.engine().Inspect("", "u-1")->enrollments_size() == 1);
  CHECK(Behavior(h, "u-1", "views") == 1);
  // Its history came along: nurture (NEVER) does not take it again.
  REQUIRE_THAT(h.Event("u-1", "signup"), IsOk());
  const v1::VersionReport v = h.Report("nurture")->versions(0);
  CHECK(v.entered() == 1);
  CHECK(v.entries_refused(0).reason() == "reentry_never");
}

// A ping on each channel, to see which ones a subject still gets.
constexpr char kPings[] = R"pb(
  id: "pings" version: 1 settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "t" trigger { event { matcher { event: "ping" } } next: "push" } }
  nodes { id: "push" action { channel: "push" template_id: "p" next: "in_game" } }
  nodes { id: "in_game" action { channel: "in_game_mail" template_id: "p" } })pb";

TEST_CASE("Opt-outs joined past max_opt_out_channels opt the merged subject out of all") {
  EngineOptions options = Options();
  options.max_opt_out_channels = 3;
  Harness h(Harness::DefaultStart(), options);
  SetUp(&h);
  REQUIRE_THAT(h.DeployText(kPings), IsOk());
  const auto opted_out = [&](const std::string& subject, std::vector<std::string> channels) {
    REQUIRE_THAT(h.Profile(subject, {{"opted_out_channels", Value::StringList(channels)}}),
                 IsOk());
  };
  // Three channels joined fit: out of push, still in in-game mail.
  opted_out("known", {"email", "sms"});
  opted_out("anon", {"sms", "push"});
  REQUIRE_THAT(h.engine().MergeSubjects("anon", "known", h.now()), IsOk());
  CHECK(h.engine().stats().limits_reached == 0);
  REQUIRE_THAT(h.Event("known", "ping"), IsOk());
  CHECK(h.SentTo("known", "push") == 0);
  CHECK(h.SentTo("known", "in_game_mail") == 1);
  // Four are one too many to name: out of every channel, in-game mail too.
  opted_out("known2", {"email", "sms"});
  opted_out("anon2", {"push", "webhook"});
  REQUIRE_THAT(h.engine().MergeSubjects("anon2", "known2", h.now()), IsOk());
  CHECK(h.engine().stats().limits_reached == 1);
  REQUIRE_THAT(h.Event("known2", "ping"), IsOk());
  CHECK(h.SentTo("known2", "push") == 0);
  CHECK(h.SentTo("known2", "in_game_mail") == 0);
}

TEST_CASE("MergeSubjects refuses what it cannot apply and counts it") {
  Harness h(Harness::DefaultStart(), Options());
  SetUp(&h);
  REQUIRE_THAT(h.Event("a", "signup"), IsOk());
  Engine& e = h.engine();
  CHECK(e.MergeSubjects("", "b", h.now()).message() ==
        "MergeSubjects: the id to merge from is empty");
  CHECK(e.MergeSubjects("a", "", h.now()).message() ==
        "MergeSubjects: the id to merge into is empty");
  CHECK(e.MergeSubjects("a", "a", h.now()).message() ==
        "MergeSubjects a into a: a subject cannot merge into itself");
  CHECK(e.MergeSubjects("a\xc3", "b", h.now()).code() == absl::StatusCode::kInvalidArgument);
  CHECK(e.MergeSubjects("ghost", "a", h.now()).code() == absl::StatusCode::kNotFound);
  CHECK(e.MergeSubjects("a", "b", h.now() + absl::Hours(24 * 400)).code() ==
        absl::StatusCode::kOutOfRange);
  CHECK(e.stats().merges_rejected == 6);
  CHECK(h.engine().Inspect("", "a")->known());
}

TEST_CASE("A snapshot after a merge restores and continues identically") {
  Harness h(Harness::DefaultStart(), Options());
  SetUp(&h);
  REQUIRE_THAT(h.DeployText(kBrowse), IsOk());
  Feed(&h, "anon", "known");
  REQUIRE_THAT(h.Event("anon", "add_to_cart"), IsOk());
  REQUIRE_THAT(h.engine().MergeSubjects("anon", "known", h.now()), IsOk());
  const std::string bytes = SnapshotOf(h);
  const std::vector<std::string> sent_before = MessageIds(h);
  const auto set_up = [](Harness* x) {
    SetUp(x);
    REQUIRE_THAT(x->DeployText(kBrowse), IsOk());
  };
  CheckContinuesAfterRestore(h, bytes, sent_before, set_up, [](Harness* x) {
    REQUIRE_THAT(x->Event("known", "add_to_cart"), IsOk());  // NEVER: refused
    REQUIRE_THAT(x->Event("anon", "signup"), IsOk());  // a new anonymous subject
    REQUIRE_THAT(x->Advance(absl::Hours(30)), IsOk());
  });
}

TEST_CASE("MergeSubjects through EngineInput and on a ShardedEngine") {
  Harness h(Harness::DefaultStart(), Options());
  SetUp(&h);
  REQUIRE_THAT(h.Event("anon", "signup"), IsOk());
  REQUIRE_THAT(h.engine().Apply(SubjectMerge{"anon", "known", "", h.now()}), IsOk());
  CHECK(h.engine().Inspect("", "known")->enrollments_size() == 1);

  testing::NullSink sms;
  ShardedEngineOptions options;
  options.shards = 4;
  options.engine = Options();
  absl::StatusOr<std::unique_ptr<ShardedEngine>> sharded =
      ShardedEngine::Create(options, [&](int, Engine& e) -> absl::Status {
        if (absl::Status s = e.RegisterChannel("sms", &sms); !s.ok()) return s;
        return e.Deploy(testing::TextJourney(kNurture));
      });
  REQUIRE_THAT(StatusOf(sharded), IsOk());
  ShardedEngine& s = **sharded;
  // Two ids on one shard merge; two on different shards are refused.
  std::string same, other;
  for (int i = 0; same.empty() || other.empty(); ++i) {
    const std::string id = absl::StrCat("anon-", i);
    if (ShardedEngine::ShardOf(id, 4) == ShardedEngine::ShardOf("known", 4)) {
      if (same.empty()) same = id;
    } else if (other.empty()) {
      other = id;
    }
  }
  for (const std::string& id : {same, other}) {
    Event e;
    e.subject_id = id;
    e.name = "signup";
    e.time = Harness::DefaultStart();
    REQUIRE_THAT(s.Ingest(e), IsOk());
  }
  REQUIRE_THAT(s.MergeSubjects(same, "known", Harness::DefaultStart()), IsOk());
  CHECK(s.MergeSubjects(other, "known", Harness::DefaultStart()).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(s.stats().merges_applied == 1);
  REQUIRE(s.Inspect("", "known")->enrollments_size() == 1);
}

}  // namespace
}  // namespace cairn
