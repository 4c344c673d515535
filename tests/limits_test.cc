// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// What one subject can build up is bounded (EngineOptions "Limits"): a
// subject that repeats itself a hundred thousand times holds about what it
// held after the first time, every limit reached is refused or handled as
// documented and counted, and every snapshot the engine writes restores.

#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "cairn/v1/snapshot.pb.h"
#include "catch2/catch.hpp"
#include "testing/snapshot_records.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::Harness;
using testing::IsOk;
using testing::TextJourney;

using testing::NullSink;

// Snapshots `engine` and restores it into a fresh one with the same options
// and journeys: every snapshot the engine writes must restore.
void CheckRestores(const Engine& engine, const EngineOptions& options,
                   const std::vector<v1::Journey>& journeys,
                   const std::vector<std::string>& channels) {
  std::stringstream bytes;
  REQUIRE_THAT(engine.Snapshot(bytes), IsOk());
  Engine restored(options);
  NullSink sink;
  for (const std::string& c : channels) REQUIRE_THAT(restored.RegisterChannel(c, &sink), IsOk());
  for (const v1::Journey& j : journeys) REQUIRE_THAT(restored.Deploy(j), IsOk());
  REQUIRE_THAT(restored.Restore(bytes), IsOk());
  CHECK(restored.stats().limits_reached == engine.stats().limits_reached);
}

EngineOptions AtHarnessStart() {
  EngineOptions o;
  o.start_time = Harness::DefaultStart();
  return o;
}

int CountRecords(const Engine& engine, v1::SnapshotRecord::KindCase kind) {
  int n = 0;
  for (const v1::SnapshotRecord& r : testing::SnapshotRecordsOf(engine)) {
    n += r.kind_case() == kind ? 1 : 0;
  }
  return n;
}

constexpr char kBrowseThenBuy[] = R"pb(
  id: "browse" version: 1
  settings { state: ACTIVE }
  nodes { id: "seq" trigger { sequence {
            steps { event: "view" } steps { event: "cart" } steps { event: "buy" }
            within { seconds: 86400 } } next: "thanks" } }
  nodes { id: "thanks" action { channel: "push" template_id: "thanks"
          params { key: "sku" value: "{{entry.sku}}" } } }
)pb";

TEST_CASE("A first step repeated 100,000 times keeps one housekeeping timer") {
  Harness h;
  const v1::Journey journey = TextJourney(kBrowseThenBuy);
  REQUIRE_THAT(h.Deploy(journey), IsOk());
  for (int i = 0; i < 100000; ++i) {
    REQUIRE_THAT(h.Event("u1", "view", h.now() + absl::Milliseconds(100),
                         {{"sku", Value::String(absl::StrCat("sku-", i))}}),
                 IsOk());
  }
  // Was one timer per view: 100,000 timer records.
  CHECK(CountRecords(h.engine(), v1::SnapshotRecord::kTimer) == 1);
  CheckRestores(h.engine(), AtHarnessStart(), {journey}, {"push"});
  // The partial match is still freed when its window has passed, however
  // long the views went on after the timer was set.
  REQUIRE_THAT(h.Advance(absl::Hours(25)), IsOk());
  CHECK(CountRecords(h.engine(), v1::SnapshotRecord::kTimer) == 0);
  for (const v1::SnapshotRecord& r : testing::SnapshotRecordsOf(h.engine())) {
    if (r.has_subject()) CHECK(r.subject().sequences_size() == 0);
  }
}

TEST_CASE("A middle step repeated keeps the partial match's context to its distinct names") {
  Harness h;
  const v1::Journey journey = TextJourney(kBrowseThenBuy);
  REQUIRE_THAT(h.Deploy(journey), IsOk());
  REQUIRE_THAT(h.Event("u1", "view", {{"sku", Value::String("A-1")}}), IsOk());
  for (int i = 0; i < 20000; ++i) {
    REQUIRE_THAT(h.Event("u1", "cart", {{"sku", Value::String(absl::StrCat("B-", i))},
                                        {"qty", Value::Int(i)}}),
                 IsOk());
  }
  for (const v1::SnapshotRecord& r : testing::SnapshotRecordsOf(h.engine())) {
    if (!r.has_subject()) continue;
    REQUIRE(r.subject().sequences_size() == 1);
    // sku, the latest; qty is not kept: the journey never reads entry.qty.
    CHECK(r.subject().sequences(0).context_size() == 1);
  }
  // Later steps still win.
  REQUIRE_THAT(h.Event("u1", "buy"), IsOk());
  REQUIRE(h.SentTo("u1", "push") == 1);
  CHECK(h.Sent("u1")[0].params[0].second == "B-19999");
}

TEST_CASE("Partial matches and enrollments keep only the entry properties the journey reads") {
  Harness h;
  const v1::Journey journey = TextJourney(kBrowseThenBuy);
  REQUIRE_THAT(h.Deploy(journey), IsOk());
  // A client that sends its whole page state with every view: none of it
  // but sku can ever be read.
  const Attributes page = {{"sku", Value::String("A-1")},
                           {"html", Value::String(std::string(4000, 'x'))},
                           {"referrer", Value::String("https://example.com/")}};
  REQUIRE_THAT(h.Event("u1", "view", page), IsOk());
  REQUIRE_THAT(h.Event("u1", "cart", page), IsOk());
  auto context_names = [&h](v1::SnapshotRecord::KindCase kind) {
    std::vector<std::string> names;
    for (const v1::SnapshotRecord& r : testing::SnapshotRecordsOf(h.engine())) {
      if (r.kind_case() != kind) continue;
      const auto& values = kind == v1::SnapshotRecord::kSubject
                               ? r.subject().sequences(0).context()
                               : r.enrollment().context();
      for (const auto& v : values) names.push_back(v.name());
    }
    return names;
  };
  CHECK(context_names(v1::SnapshotRecord::kSubject) == std::vector<std::string>{"sku"});
  REQUIRE_THAT(h.Event("u1", "buy", page), IsOk());
  REQUIRE(h.SentTo("u1", "push") == 1);
  CHECK(h.Sent("u1")[0].params[0].second == "A-1");
  CheckRestores(h.engine(), AtHarnessStart(), {journey}, {"push"});

  // An event trigger's entry context, and an Enroll's, likewise.
  constexpr char kWaitsForShipping[] = R"pb(
    id: "ship" version: 1
    settings { state: ACTIVE }
    nodes { id: "buy" trigger { event { matcher { event: "buy" } } next: "wait" } }
    nodes { id: "list" trigger { audience { audience: "open_orders" } next: "wait" } }
    nodes { id: "wait" wait {
      branches { matcher { event: "shipped"
                           where { compare { path: "event.order" op: EQ other_path: "entry.order" } } }
                 next: "" }
      timeout { seconds: 86400 } on_timeout: "" } }
  )pb";
  const v1::Journey ship = TextJourney(kWaitsForShipping);
  REQUIRE_THAT(h.Deploy(ship), IsOk());
  REQUIRE_THAT(h.Event("u2", "buy", {{"order", Value::String("o-1")}, {"html", Value::String("x")}}),
               IsOk());
  REQUIRE_THAT(h.engine().Enroll("ship", "u3", h.now(),
                                 {{"basket", Value::Int(3)}, {"order", Value::String("o-2")}}),
               IsOk());
  CHECK(context_names(v1::SnapshotRecord::kEnrollment) ==
        std::vector<std::string>{"order", "order"});
  REQUIRE_THAT(h.Event("u2", "shipped", {{"order", Value::String("o-1")}}), IsOk());
  CHECK(h.engine().stats().enrollments_in_flight == 1);  // u3 still waits for o-2.
}

TEST_CASE("Profiles are bounded in attributes and bytes, and an update over either changes nothing") {
  EngineOptions options = AtHarnessStart();
  options.max_profile_attributes = 3;
  options.max_profile_bytes = 40;
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.Profile("u1", {{"a", Value::Int(1)}, {"b", Value::Int(2)}}), IsOk());
  const absl::Status many =
      h.Profile("u1", {{"c", Value::Int(3)}, {"d", Value::Int(4)}});
  CHECK(many.code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(many.message()) ==
        "UpsertProfile for u1: the profile would hold 4 attributes, more than "
        "max_profile_attributes 3");
  // Replacing and removing count as such: b replaced, a removed, c and d added.
  REQUIRE_THAT(h.Profile("u1", {{"b", Value::Int(5)}, {"a", Value()}, {"c", Value::Int(3)},
                                {"d", Value::Int(4)}}),
               IsOk());
  const absl::Status big = h.Profile("u1", {{"b", Value::String(std::string(40, 'x'))}});
  CHECK(big.code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(big.message()) ==
        "UpsertProfile for u1: the profile would hold 43 bytes of text, more than "
        "max_profile_bytes 40");
  const EngineStats stats = h.engine().stats();
  CHECK(stats.profile_updates_rejected == 2);
  CHECK(stats.limits_reached == 2);
  CHECK(stats.profile_updates_applied == 2);
  CheckRestores(h.engine(), options, {}, {});
}

TEST_CASE("An input with more text than max_input_bytes is refused") {
  Harness h;
  REQUIRE_THAT(h.DeployText(kBrowseThenBuy), IsOk());
  const std::string big(64 * 1024, 'x');
  const absl::Status event = h.Event("u1", "view", {{"blob", Value::String(big)}});
  CHECK(event.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(event.message()) ==
        "event view of subject u1: 65546 bytes of text, more than max_input_bytes 65536");
  const absl::Status profile = h.Profile("u1", {{"notes", Value::StringList({big})}});
  CHECK(std::string(profile.message()) ==
        "UpsertProfile for u1: 65543 bytes of text, more than max_input_bytes 65536");
  CHECK(h.engine().stats().events_rejected == 1);
  CHECK(h.engine().stats().profile_updates_rejected == 1);
  CHECK(h.engine().stats().subjects == 0);
}

constexpr char kPromo[] = R"pb(
  id: "promo" version: 1
  settings { state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 10 } }
  nodes { id: "t" trigger { event { matcher { event: "visit" } } next: "push" } }
  nodes { id: "push" action { channel: "push" template_id: "p" } }
)pb";

TEST_CASE("Opting out of more channels than max_opt_out_channels opts out of all") {
  EngineOptions options = AtHarnessStart();
  options.max_opt_out_channels = 2;
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(kPromo),
               IsOk());
  for (const char* channel : {"sms", "email", "fax"}) {
    REQUIRE_THAT(h.Event("u1", "opt_out", {{"channel", Value::String(channel)}}), IsOk());
  }
  CHECK(h.engine().stats().limits_reached == 1);
  REQUIRE_THAT(h.Event("u1", "visit"), IsOk());
  CHECK(h.SentTo("u1", "push") == 0);  // push was never named, but "all" holds it
  // 100,000 distinct channels cost what 100,000 repeats of one do.
  for (int i = 0; i < 100000; ++i) {
    REQUIRE_THAT(
        h.Event("u2", "opt_out", {{"channel", Value::String(absl::StrCat("c", i))}}), IsOk());
  }
  REQUIRE_THAT(h.Event("u2", "visit"), IsOk());
  CHECK(h.SentTo("u2", "push") == 0);
  CheckRestores(h.engine(), options, {TextJourney(kPromo)},
                {"push"});
}

constexpr char kOrders[] = R"pb(
  id: "orders" version: 1
  settings { state: ACTIVE instance_key: "order_id" reentry { mode: NEVER } }
  nodes { id: "ordered" trigger { event { matcher { event: "order" } } next: "shipped" } }
  nodes { id: "shipped" wait { branches { name: "shipped" matcher { event: "ship" same_key: true }
                                          next: "" }
                               timeout { seconds: 172800 } on_timeout: "" } }
)pb";

Attributes Order(const std::string& id) { return {{"order_id", Value::String(id)}}; }

TEST_CASE("Keyed journeys remember at most max_instances_per_subject keys per subject") {
  EngineOptions options = AtHarnessStart();
  options.max_instances_per_subject = 3;
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(kOrders), IsOk());
  for (const char* id : {"A", "B", "C"}) REQUIRE_THAT(h.Event("u", "order", Order(id)), IsOk());
  // Every key held is in flight: a fourth is refused.
  REQUIRE_THAT(h.Event("u", "order", Order("D")), IsOk());
  v1::VersionReport v = h.Report("orders")->versions(0);
  CHECK(v.entered() == 3);
  REQUIRE(v.entries_refused_size() == 1);
  CHECK(v.entries_refused(0).reason() == "instance_limit");
  // B ships: its key is idle, so D takes its place, and B's history is gone
  // (a repeat of B is a new order, not reentry_never).
  REQUIRE_THAT(h.Event("u", "ship", Order("B")), IsOk());
  REQUIRE_THAT(h.Event("u", "order", Order("D")), IsOk());
  v = h.Report("orders")->versions(0);
  CHECK(v.entered() == 4);
  CHECK(h.engine().stats().limits_reached == 2);
  CheckRestores(h.engine(), options, {TextJourney(kOrders)}, {});
}

TEST_CASE("A subject placing 20,000 orders holds max_instances_per_subject keys") {
  // Was one history record per key for good, each new key costing a scan of
  // all of them. Now at most max_instances_per_subject per journey, so each
  // new key costs at most that many comparisons (bench/ times it).
  EngineOptions options = AtHarnessStart();
  options.max_instances_per_subject = 100;
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(kOrders), IsOk());
  for (int i = 0; i < 20000; ++i) {
    REQUIRE_THAT(h.Event("u", "order", Order(absl::StrCat("o-", i))), IsOk());
    if (i % 2 == 0) REQUIRE_THAT(h.Event("u", "ship", Order(absl::StrCat("o-", i))), IsOk());
  }
  int histories = 0;
  for (const v1::SnapshotRecord& r : testing::SnapshotRecordsOf(h.engine())) {
    if (r.has_subject()) histories += r.subject().history_size();
  }
  CHECK(histories == 100);
  CHECK(h.engine().stats().enrollments_in_flight == 100);
  CheckRestores(h.engine(), options, {TextJourney(kOrders)}, {});
}

// A one-action journey whose SMS sink fails every send with `reason(m)`.
constexpr char kNote[] = R"pb(
  id: "note" version: 1
  settings { state: ACTIVE }
  nodes { id: "t" trigger { event { matcher { event: "visit" } } next: "sms" } }
  nodes { id: "sms" action { channel: "sms" template_id: "n" } }
)pb";

class FailingSink : public ChannelSink {
 public:
  explicit FailingSink(std::function<std::string(const Message&)> reason)
      : reason_(std::move(reason)) {}
  SendResult Send(const Message& m) override { return SendResult::Failed(reason_(m)); }

 private:
  std::function<std::string(const Message&)> reason_;
};

// Sends one failing SMS to each of `subjects`; the action's failure reasons.
std::vector<v1::ReasonCount> FailureReasons(FailingSink* sink,
                                            const std::vector<std::string>& subjects) {
  const EngineOptions options = AtHarnessStart();
  Engine engine(options);
  REQUIRE_THAT(engine.RegisterChannel("sms", sink), IsOk());
  REQUIRE_THAT(engine.Deploy(TextJourney(kNote)), IsOk());
  for (const std::string& subject : subjects) {
    Event e;
    e.subject_id = subject;
    e.name = "visit";
    e.time = options.start_time;
    REQUIRE_THAT(engine.Ingest(e), IsOk());
  }
  CheckRestores(engine, options, {TextJourney(kNote)}, {"sms"});
  const v1::JourneyReport report = *engine.Report("note");
  const auto& failed = report.versions(0).actions(0).failed();
  return {failed.begin(), failed.end()};
}

TEST_CASE("Host-given reasons are bounded per counter and kept valid UTF-8") {
  FailingSink sink([](const Message& m) {
    return m.subject_id == "bad" ? std::string("Jos\xE9\n") + std::string(300, 'x')
                                 : absl::StrCat("provider said ", m.subject_id);
  });
  std::vector<std::string> subjects;
  for (int i = 0; i < 1100; ++i) subjects.push_back(absl::StrCat("s", i));
  subjects.push_back("bad");
  // Beyond 1,000 reasons: "(other)". The bad one is one of the 101 others.
  const std::vector<v1::ReasonCount> failed = FailureReasons(&sink, subjects);
  CHECK(failed.size() == 1001);
  int64_t other = 0;
  for (const v1::ReasonCount& r : failed) {
    if (r.reason() == "(other)") other = r.count();
  }
  CHECK(other == 101);
}

TEST_CASE("A sink's reason that is not UTF-8 is counted escaped, and the snapshot restores") {
  FailingSink sink([](const Message&) { return std::string("refus\xE9"); });
  const std::vector<v1::ReasonCount> failed = FailureReasons(&sink, {"u1"});
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].reason() == "refus\\xE9");
}

TEST_CASE("The de-duplication ledger holds at most max_dedup_ids ids, forgetting the oldest") {
  EngineOptions options = AtHarnessStart();
  options.max_dedup_ids = 3;
  Harness h(Harness::DefaultStart(), options);
  REQUIRE_THAT(h.DeployText(kBrowseThenBuy), IsOk());
  auto view = [&](const std::string& id) {
    Event e;
    e.id = id;
    e.subject_id = "u1";
    e.name = "view";
    e.time = h.now();
    return h.Ingest(e);
  };
  for (const char* id : {"e1", "e2", "e3", "e4"}) REQUIRE_THAT(view(id), IsOk());
  CHECK(h.engine().stats().limits_reached == 1);
  // e1 was forgotten early: its repeat is applied. The three newest are held.
  REQUIRE_THAT(view("e1"), IsOk());
  CHECK(view("e4").code() == absl::StatusCode::kAlreadyExists);
  CHECK(view("e3").code() == absl::StatusCode::kAlreadyExists);
  CHECK(h.engine().stats().limits_reached == 2);  // e2 made room for e1
  CHECK(CountRecords(h.engine(), v1::SnapshotRecord::kSeen) == 3);
  CheckRestores(h.engine(), options, {TextJourney(kBrowseThenBuy)}, {"push"});
}

}  // namespace
}  // namespace cairn
