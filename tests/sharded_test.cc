// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// ShardedEngine: the documented partition, the same outputs per subject and
// the same merged reports as one Engine for any shard count, per-shard
// snapshots, and every way its inputs and set-up can fail.

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/cairn.h"
#include "catch2/catch.hpp"
#include "google/protobuf/text_format.h"
#include "testing/journeys.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::IsOk;
using testing::StatusOf;

const auto& kJourneys = testing::kStatefulJourneys;

// Every output, logged per subject (subjects never span shards). Used by
// one shard's thread only.
class SubjectLog : public ChannelSink, public ProfileSink, public Observer {
 public:
  SendResult Send(const Message& m) override {
    const bool fail = m.message_id.back() == '7';
    absl::StrAppend(&logs[m.subject_id], "send ", m.message_id, " ", m.channel, " ",
                    m.node_id, " ", absl::ToUnixSeconds(m.time), fail ? " failed\n" : "\n");
    if (m.awaits_delivery && !fail) awaiting.push_back({m.subject_id, m.message_id, m.time});
    return fail ? SendResult::Failed("err") : SendResult::Accepted();
  }
  void Write(const ProfileWrite& w) override {
    absl::StrAppend(&logs[w.subject_id], "profile ", w.node_id, "\n");
  }
  void OnStep(const TraceStep& s) override {
    absl::StrAppend(&logs[std::string(s.subject_id)], static_cast<int>(s.kind), " ",
                    s.journey_id, " ", s.node_id, " ", s.detail, " ",
                    absl::ToUnixSeconds(s.time), "\n");
  }

  struct Awaited {
    std::string subject;
    std::string message_id;
    absl::Time sent;
  };
  std::map<std::string, std::string> logs;
  std::vector<Awaited> awaiting;
};

absl::Status SetUp(Engine& engine, SubjectLog* log) {
  for (const char* channel : {"push", "sms", "email"}) {
    CAIRN_RETURN_IF_ERROR(engine.RegisterChannel(channel, log));
  }
  engine.SetProfileSink(log);
  engine.SetObserver(log);
  for (const char* text : kJourneys) {
    CAIRN_ASSIGN_OR_RETURN(v1::Journey journey, ParseJourney(text, JourneyFormat::kText));
    CAIRN_RETURN_IF_ERROR(engine.Deploy(journey));
  }
  return absl::OkStatus();
}

EngineOptions Options() {
  EngineOptions o;
  o.start_time = absl::FromUnixSeconds(1767225600);
  o.frequency_caps.push_back({"sms", 2, absl::Hours(6)});
  o.holdout_percent = 3;
  return o;
}

// One input of the test stream, in time order.
struct Op {
  enum Kind { kEvent, kEnroll, kProfile, kDelivery } kind;
  std::string subject;
  std::string name;  // Event name, or message id for kDelivery.
  absl::Time time;
  int value;
};

std::vector<Op> Stream(int n, int subjects) {
  std::mt19937_64 rng(2026);
  const char* names[] = {"view", "cart", "pay", "visit", "refund", "buy", "shipped", "noise"};
  std::vector<Op> ops;
  absl::Time t = Options().start_time;
  for (int i = 0; i < n; ++i) {
    t += absl::Milliseconds(rng() % 30000);
    const uint64_t r = rng() % 100;
    ops.push_back(Op{r < 4 ? Op::kEnroll : r < 6 ? Op::kProfile : Op::kEvent,
                     absl::StrCat("s", rng() % subjects), names[rng() % 8], t,
                     static_cast<int>(rng() % 4)});
  }
  return ops;
}

// Adds a delivery report, five minutes after the send, for every awaited
// message of `first_run`, keeping the stream in time order.
std::vector<Op> WithReports(std::vector<Op> ops, const SubjectLog& first_run) {
  for (size_t i = 0; i < first_run.awaiting.size(); ++i) {
    const SubjectLog::Awaited& a = first_run.awaiting[i];
    ops.push_back(Op{Op::kDelivery, a.subject, a.message_id, a.sent + absl::Minutes(5),
                     static_cast<int>(i % 3)});
  }
  std::stable_sort(ops.begin(), ops.end(),
                   [](const Op& a, const Op& b) { return a.time < b.time; });
  return ops;
}

Event EventOf(const Op& op) {
  Event e;
  e.subject_id = op.subject;
  e.name = op.name;
  e.time = op.time;
  e.id = absl::StrCat("e", op.value, "-", absl::ToUnixSeconds(op.time));
  e.properties = {{"sku", Value::String(absl::StrCat("k", op.value))},
                  {"order", Value::String(absl::StrCat("o", op.value))}};
  return e;
}

const Attributes kZone = {{"time_zone", Value::String("Asia/Shanghai")}};

struct Result {
  std::map<std::string, std::string> logs;
  std::vector<std::string> reports;
  EngineStats stats;
  std::vector<std::string> statuses;  // Of the synchronous calls, in order.
};

// A sharded run's result against one Engine's: the same outputs per
// subject, reports, statuses and counts.
void CheckSame(const Result& sharded, const Result& plain) {
  CHECK(sharded.statuses == plain.statuses);
  CHECK(sharded.logs == plain.logs);
  REQUIRE(sharded.reports.size() == plain.reports.size());
  for (size_t i = 0; i < plain.reports.size(); ++i) CHECK(sharded.reports[i] == plain.reports[i]);
  CHECK(sharded.stats.messages_sent == plain.stats.messages_sent);
  CHECK(sharded.stats.events_applied == plain.stats.events_applied);
  CHECK(sharded.stats.events_rejected == plain.stats.events_rejected);
  CHECK(sharded.stats.delivery_reports_applied == plain.stats.delivery_reports_applied);
  CHECK(sharded.stats.merges_applied == plain.stats.merges_applied);
  CHECK(sharded.stats.erasures_applied == plain.stats.erasures_applied);
  CHECK(sharded.stats.subjects == plain.stats.subjects);
  CHECK(sharded.stats.enrollments_in_flight == plain.stats.enrollments_in_flight);
}

std::vector<std::string> ReportsOf(
    const std::function<absl::StatusOr<v1::JourneyReport>(const char*)>& report) {
  std::vector<std::string> out;
  for (const char* id : {"cart", "promo", "orders"}) {
    absl::StatusOr<v1::JourneyReport> r = report(id);
    REQUIRE_THAT(StatusOf(r), IsOk());
    out.push_back(r->DebugString());
  }
  return out;
}

Result RunPlain(const std::vector<Op>& ops, SubjectLog* log, absl::Time end) {
  Engine engine(Options());
  REQUIRE_THAT(SetUp(engine, log), IsOk());
  for (const Op& op : ops) {
    switch (op.kind) {
      case Op::kEvent: (void)engine.Ingest(EventOf(op)); break;
      case Op::kEnroll: (void)engine.Enroll("promo", op.subject, op.time); break;
      case Op::kProfile: (void)engine.UpsertProfile(op.subject, kZone, op.time); break;
      case Op::kDelivery:
        (void)engine.ReportDelivery(op.name, op.value == 0 ? DeliveryOutcome::kFailed
                                                           : DeliveryOutcome::kDelivered,
                                    op.time, "bounced");
        break;
    }
  }
  REQUIRE_THAT(engine.AdvanceTo(end), IsOk());
  return Result{log->logs,
                ReportsOf([&](const char* id) { return engine.Report(id); }), engine.stats(), {}};
}

// How RunSharded hands events over: one by one (Ingest), or runs of up to
// 13 consecutive events as one IngestBatch, between the other inputs.
enum class Handover { kOneByOne, kBatches };

Result RunSharded(const std::vector<Op>& ops, int shards, absl::Time end,
                  Handover handover = Handover::kOneByOne) {
  ShardedEngineOptions options;
  options.shards = shards;
  options.engine = Options();
  options.batch_size = 7;  // Small batches: many hand-overs between threads.
  std::vector<SubjectLog> logs(shards);
  absl::StatusOr<std::unique_ptr<ShardedEngine>> engine = ShardedEngine::Create(
      options, [&](int shard, Engine& e) { return SetUp(e, &logs[shard]); });
  REQUIRE_THAT(StatusOf(engine), IsOk());
  ShardedEngine& sharded = **engine;
  std::vector<Event> batch;
  auto hand_batch = [&] {
    if (batch.empty()) return;
    REQUIRE_THAT(sharded.IngestBatch(std::move(batch)), IsOk());
    batch.clear();
  };
  for (const Op& op : ops) {
    absl::Status s;
    if (op.kind == Op::kEvent && handover == Handover::kBatches) {
      batch.push_back(EventOf(op));
      if (batch.size() == 13) hand_batch();
      continue;
    }
    hand_batch();
    switch (op.kind) {
      case Op::kEvent: s = sharded.Ingest(EventOf(op)); break;
      case Op::kEnroll: s = sharded.Enroll("promo", op.subject, op.time); break;
      case Op::kProfile: s = sharded.UpsertProfile(op.subject, kZone, op.time); break;
      case Op::kDelivery:
        s = sharded.ReportDelivery(op.subject, op.name,
                                   op.value == 0 ? DeliveryOutcome::kFailed
                                                 : DeliveryOutcome::kDelivered,
                                   op.time, "bounced");
        break;
    }
    REQUIRE_THAT(s, IsOk());
  }
  hand_batch();
  sharded.AdvanceTo(end);
  Result result;
  result.reports = ReportsOf([&](const char* id) { return sharded.Report(id); });
  result.stats = sharded.stats();
  for (const SubjectLog& log : logs) {
    for (const auto& [subject, text] : log.logs) {
      REQUIRE(result.logs.emplace(subject, text).second);  // One shard per subject.
    }
  }
  return result;
}

TEST_CASE("ShardOf is the documented stable hash and spreads subjects evenly") {
  for (const char* id : {"u1", "u2", "player-77", ""}) {
    for (int shards : {1, 2, 3, 8}) {
      CHECK(ShardedEngine::ShardOf(id, shards) ==
            static_cast<int>(StableHash64({"shard", id}) % static_cast<uint64_t>(shards)));
    }
  }
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 40000; ++i) ++counts[ShardedEngine::ShardOf(absl::StrCat("u", i), 4)];
  for (int c : counts) CHECK(std::abs(c - 10000) < 400);
}

TEST_CASE("Any shard count gives one Engine's outputs per subject and its reports") {
  const absl::Time end = Options().start_time + absl::Hours(24 * 5);
  SubjectLog first;
  const std::vector<Op> base = Stream(20000, 3000);
  RunPlain(base, &first, end);
  REQUIRE(first.awaiting.size() > 100);
  const std::vector<Op> ops = WithReports(base, first);

  SubjectLog log;
  const Result plain = RunPlain(ops, &log, end);
  REQUIRE(plain.stats.delivery_reports_applied > 100);
  REQUIRE(plain.stats.messages_sent > 1000);
  for (const auto& [shards, handover] : std::vector<std::pair<int, Handover>>{
           {1, Handover::kOneByOne},
           {2, Handover::kOneByOne},
           {3, Handover::kOneByOne},
           {4, Handover::kOneByOne},
           {1, Handover::kBatches},
           {3, Handover::kBatches}}) {
    INFO(shards << " shards, " << (handover == Handover::kBatches ? "batches" : "one by one"));
    CheckSame(RunSharded(ops, shards, end, handover), plain);
  }
}

TEST_CASE("Each shard snapshots and restores on its own") {
  const std::vector<Op> ops = Stream(6000, 500);
  const absl::Time end = ops.back().time + absl::Hours(48);
  const size_t cut = ops.size() / 2;
  ShardedEngineOptions options;
  options.shards = 3;
  options.engine = Options();

  // Uninterrupted.
  std::vector<SubjectLog> logs(3);
  auto whole = ShardedEngine::Create(options, [&](int s, Engine& e) { return SetUp(e, &logs[s]); });
  REQUIRE_THAT(StatusOf(whole), IsOk());
  for (const Op& op : ops) {
    if (op.kind == Op::kEvent) REQUIRE_THAT((*whole)->Ingest(EventOf(op)), IsOk());
  }
  (*whole)->AdvanceTo(end);
  const std::vector<std::string> expected =
      ReportsOf([&](const char* id) { return (*whole)->Report(id); });

  // Cut in half: snapshot every shard, restore into a new ShardedEngine.
  std::vector<SubjectLog> first_logs(3);
  auto first =
      ShardedEngine::Create(options, [&](int s, Engine& e) { return SetUp(e, &first_logs[s]); });
  REQUIRE_THAT(StatusOf(first), IsOk());
  for (size_t i = 0; i < cut; ++i) {
    if (ops[i].kind == Op::kEvent) REQUIRE_THAT((*first)->Ingest(EventOf(ops[i])), IsOk());
  }
  std::vector<std::string> snapshots;
  for (int s = 0; s < 3; ++s) {
    std::ostringstream out;
    REQUIRE_THAT((*first)->Snapshot(s, out), IsOk());
    snapshots.push_back(out.str());
  }
  CHECK((*first)->Snapshot(3, std::cout).code() == absl::StatusCode::kInvalidArgument);
  std::vector<SubjectLog> second_logs(3);
  auto second = ShardedEngine::Create(options, [&](int s, Engine& e) {
    CAIRN_RETURN_IF_ERROR(SetUp(e, &second_logs[s]));
    std::istringstream in(snapshots[s]);
    return e.Restore(in);
  });
  REQUIRE_THAT(StatusOf(second), IsOk());
  for (size_t i = cut; i < ops.size(); ++i) {
    if (ops[i].kind == Op::kEvent) REQUIRE_THAT((*second)->Ingest(EventOf(ops[i])), IsOk());
  }
  (*second)->AdvanceTo(end);
  CHECK(ReportsOf([&](const char* id) { return (*second)->Report(id); }) == expected);
}

// Behaviours over the test stream's events, and a journey that reads them.
constexpr char kStreamBehaviors[] = R"pb(
  behaviors {
    name: "views_1d"
    event { event: "view" }
    function: COUNT
    window { last { seconds: 86400 } resolution { seconds: 600 } }
  }
  behaviors { name: "visit_days" event { event: "visit" } function: ACTIVE_DAYS }
  behaviors { name: "buy_streak" event { event: "buy" } function: CURRENT_STREAK }
  behaviors { name: "last_pay" event { event: "pay" } function: LAST_TIME }
  behaviors { name: "skus" event { event: "cart" } function: DISTINCT_COUNT property: "sku" }
  behaviors { name: "visit_hours" event { event: "visit" } function: HOUR_OF_WEEK }
  segments { name: "paid_lately" condition {
    compare { path: "behavior.last_pay" op: GE now_minus { seconds: 3600 } } } }
)pb";

// Enters when a payer's hour is up (time alone), waits until they have
// carted two SKUs, and exits on a 3-day buying streak.
constexpr char kLapseJourney[] = R"pb(
  id: "lapse" version: 1
  settings {
    state: ACTIVE reentry { mode: AFTER_EXIT }
    exit_when { name: "streaking" condition {
      compare { path: "behavior.buy_streak" op: GE value { int_value: 3 } } } }
  }
  nodes { id: "t" trigger { segment { segment: "paid_lately" on: LEFT } next: "w" } }
  nodes { id: "w" wait {
    branches { until { compare { path: "behavior.skus" op: GE value { int_value: 2 } } }
               next: "send" }
    timeout { seconds: 7200 } } }
  nodes { id: "send" action { channel: "push" template_id: "lapse" } }
)pb";

constexpr char kHotJourney[] = R"pb(
  id: "hot" version: 1
  settings { state: ACTIVE reentry { mode: AFTER_EXIT cooldown { seconds: 3600 } } }
  nodes {
    id: "t"
    trigger {
      event {
        matcher { event: "view" }
        profile_filter { compare { path: "behavior.views_1d" op: GE value { int_value: 3 } } }
      }
      next: "send"
    }
  }
  nodes {
    id: "send"
    action {
      channel: "push" template_id: "hot"
      params { key: "days" value: "{{behavior.visit_days}}" }
      params { key: "skus" value: "{{behavior.skus}}" }
      next: "paid_lately"
    }
  }
  nodes {
    id: "paid_lately"
    filter {
      predicate { compare { path: "behavior.last_pay" op: GE now_minus { seconds: 7200 } } }
      on_true: "best"
    }
  }
  nodes {
    id: "best"
    delay {
      until_best_time { behavior: "visit_hours" within { seconds: 21600 } min_events: 2 }
      next: "thanks"
    }
  }
  nodes { id: "thanks" action { channel: "email" template_id: "thanks" } }
)pb";

absl::Status SetUpWithBehaviors(Engine& engine, SubjectLog* log) {
  CAIRN_RETURN_IF_ERROR(SetUp(engine, log));
  v1::BehaviorSet behaviors;
  if (!google::protobuf::TextFormat::ParseFromString(kStreamBehaviors, &behaviors)) {
    return absl::InternalError("kStreamBehaviors does not parse");
  }
  CAIRN_RETURN_IF_ERROR(engine.DeclareBehaviors(behaviors));
  CAIRN_ASSIGN_OR_RETURN(v1::Journey hot, ParseJourney(kHotJourney, JourneyFormat::kText));
  CAIRN_RETURN_IF_ERROR(engine.Deploy(hot));
  CAIRN_ASSIGN_OR_RETURN(v1::Journey lapse, ParseJourney(kLapseJourney, JourneyFormat::kText));
  return engine.Deploy(lapse);
}

constexpr const char* kStreamBehaviorNames[] = {"views_1d", "visit_days", "buy_streak",
                                                "last_pay", "skus", "visit_hours"};

TEST_CASE("Behaviours and segments on any shard count read and enter as on one Engine") {
  const std::vector<Op> ops = Stream(8000, 200);
  const absl::Time end = ops.back().time + absl::Minutes(30);

  SubjectLog plain_log;
  Engine plain(Options());
  REQUIRE_THAT(SetUpWithBehaviors(plain, &plain_log), IsOk());
  for (const Op& op : ops) {
    if (op.kind == Op::kEvent) (void)plain.Ingest(EventOf(op));
    if (op.kind == Op::kProfile) (void)plain.UpsertProfile(op.subject, kZone, op.time);
  }
  REQUIRE_THAT(plain.AdvanceTo(end), IsOk());
  absl::StatusOr<v1::JourneyReport> plain_hot = plain.Report("hot");
  REQUIRE_THAT(StatusOf(plain_hot), IsOk());
  REQUIRE(plain_hot->versions(0).entered() > 50);  // The behaviours let people in.
  absl::StatusOr<v1::JourneyReport> plain_lapse = plain.Report("lapse");
  REQUIRE_THAT(StatusOf(plain_lapse), IsOk());
  REQUIRE(plain_lapse->versions(0).entered() > 10);  // Time alone let people in.

  for (int shards : {1, 2, 3}) {
    INFO(shards << " shards");
    ShardedEngineOptions options;
    options.shards = shards;
    options.engine = Options();
    std::vector<SubjectLog> logs(shards);
    auto sharded = ShardedEngine::Create(
        options, [&](int s, Engine& e) { return SetUpWithBehaviors(e, &logs[s]); });
    REQUIRE_THAT(StatusOf(sharded), IsOk());
    for (const Op& op : ops) {
      if (op.kind == Op::kEvent) REQUIRE_THAT((*sharded)->Ingest(EventOf(op)), IsOk());
      if (op.kind == Op::kProfile) {
        REQUIRE_THAT((*sharded)->UpsertProfile(op.subject, kZone, op.time), IsOk());
      }
    }
    (*sharded)->AdvanceTo(end);
    absl::StatusOr<v1::JourneyReport> hot = (*sharded)->Report("hot");
    REQUIRE_THAT(StatusOf(hot), IsOk());
    CHECK(hot->DebugString() == plain_hot->DebugString());
    CHECK((*sharded)->Report("lapse")->DebugString() == plain_lapse->DebugString());
    std::map<std::string, std::string> merged;
    for (const SubjectLog& log : logs) merged.insert(log.logs.begin(), log.logs.end());
    CHECK(merged == plain_log.logs);
    for (int i = 0; i < 200; ++i) {
      const std::string subject = absl::StrCat("s", i);
      for (const char* name : kStreamBehaviorNames) {
        absl::StatusOr<Value> ours = (*sharded)->BehaviorValue("", subject, name);
        absl::StatusOr<Value> theirs = plain.BehaviorValue("", subject, name);
        REQUIRE_THAT(StatusOf(ours), IsOk());
        REQUIRE_THAT(StatusOf(theirs), IsOk());
        INFO(subject << " " << name);
        CHECK(ours->DebugString() == theirs->DebugString());
      }
    }
    CHECK((*sharded)->BehaviorValue("", "s1", "nope").status().code() ==
          absl::StatusCode::kNotFound);
  }
}

// ---- Erasures and merges ----

// An anonymous visitor's id that lands on `known`'s shard for 2, 3 and 4
// shards (the same hash modulo 12), so that each ShardedEngine below can
// merge them as one Engine does.
std::string AnonymousTwin(const std::string& known, int n) {
  const uint64_t want = StableHash64({"shard", known}) % 12;
  for (int k = 0;; ++k) {
    std::string id = absl::StrCat("anon-", n, "-", k);
    if (StableHash64({"shard", id}) % 12 == want) return id;
  }
}

// What every run below is fed: the test stream's events, anonymous
// visitors who browse and later log in (merged into a known subject that
// has its own enrollments), and subjects who ask to be forgotten.
struct PrivacyOp {
  enum Kind { kEvent, kEnroll, kForget, kMerge } kind;
  std::string subject;  // kMerge: into
  std::string from;     // kMerge
  Event event;          // kEvent
  absl::Time time;
};

std::vector<PrivacyOp> PrivacyStream() {
  std::vector<PrivacyOp> ops;
  const std::vector<Op> base = Stream(6000, 300);
  for (const Op& op : base) {
    if (op.kind == Op::kEvent) {
      ops.push_back({PrivacyOp::kEvent, op.subject, "", EventOf(op), op.time});
    }
    if (op.kind == Op::kEnroll) ops.push_back({PrivacyOp::kEnroll, op.subject, "", {}, op.time});
  }
  const absl::Time start = base.front().time;
  const absl::Duration span = base.back().time - start;
  const char* names[] = {"view", "cart", "pay", "visit"};
  for (int n = 0; n < 40; ++n) {
    const std::string known = absl::StrCat("s", (n * 7) % 300);
    const std::string anonymous = AnonymousTwin(known, n);
    absl::Time t = start + span * (n % 10) / 20;
    for (int i = 0; i < 6; ++i) {
      Op op{Op::kEvent, anonymous, names[(n + i) % 4], t, (n + i) % 4};
      ops.push_back({PrivacyOp::kEvent, anonymous, "", EventOf(op), t});
      t += absl::Minutes(7);
    }
    if (n % 3 == 0) ops.push_back({PrivacyOp::kEnroll, anonymous, "", {}, t});
    // Logs in: some right away, mid-journey; some after their waits ended.
    t += n % 2 == 0 ? absl::Minutes(3) : absl::Hours(3);
    ops.push_back({PrivacyOp::kMerge, known, anonymous, {}, t});
  }
  for (int n = 0; n < 30; ++n) {
    ops.push_back({PrivacyOp::kForget, absl::StrCat("s", (n * 11 + 3) % 300), "", {},
                   start + span * (n + 1) / 32});
  }
  ops.push_back({PrivacyOp::kForget, "never-seen", "", {}, start + span / 2});
  std::stable_sort(ops.begin(), ops.end(),
                   [](const PrivacyOp& a, const PrivacyOp& b) { return a.time < b.time; });
  return ops;
}

Result RunPrivacyPlain(const std::vector<PrivacyOp>& ops, absl::Time end) {
  SubjectLog log;
  Engine engine(Options());
  REQUIRE_THAT(SetUp(engine, &log), IsOk());
  Result result;
  for (const PrivacyOp& op : ops) {
    switch (op.kind) {
      case PrivacyOp::kEvent: (void)engine.Ingest(op.event); break;
      case PrivacyOp::kEnroll: (void)engine.Enroll("promo", op.subject, op.time); break;
      case PrivacyOp::kForget:
        result.statuses.push_back(engine.Forget(op.subject, op.time).ToString());
        break;
      case PrivacyOp::kMerge:
        result.statuses.push_back(engine.MergeSubjects(op.from, op.subject, op.time).ToString());
        break;
    }
  }
  REQUIRE_THAT(engine.AdvanceTo(end), IsOk());
  result.logs = log.logs;
  result.reports = ReportsOf([&](const char* id) { return engine.Report(id); });
  result.stats = engine.stats();
  return result;
}

Result RunPrivacySharded(const std::vector<PrivacyOp>& ops, int shards, absl::Time end) {
  ShardedEngineOptions options;
  options.shards = shards;
  options.engine = Options();
  options.batch_size = 7;
  std::vector<SubjectLog> logs(shards);
  auto engine = ShardedEngine::Create(options,
                                      [&](int s, Engine& e) { return SetUp(e, &logs[s]); });
  REQUIRE_THAT(StatusOf(engine), IsOk());
  ShardedEngine& sharded = **engine;
  Result result;
  for (const PrivacyOp& op : ops) {
    switch (op.kind) {
      case PrivacyOp::kEvent: REQUIRE_THAT(sharded.Ingest(op.event), IsOk()); break;
      case PrivacyOp::kEnroll:
        REQUIRE_THAT(sharded.Enroll("promo", op.subject, op.time), IsOk());
        break;
      case PrivacyOp::kForget:
        result.statuses.push_back(sharded.Forget(op.subject, op.time).ToString());
        break;
      case PrivacyOp::kMerge:
        result.statuses.push_back(sharded.MergeSubjects(op.from, op.subject, op.time).ToString());
        break;
    }
  }
  sharded.AdvanceTo(end);
  result.reports = ReportsOf([&](const char* id) { return sharded.Report(id); });
  result.stats = sharded.stats();
  for (const SubjectLog& log : logs) result.logs.insert(log.logs.begin(), log.logs.end());
  return result;
}

TEST_CASE("Erasures and merges on any shard count give one Engine's outputs") {
  const std::vector<PrivacyOp> ops = PrivacyStream();
  const absl::Time end = ops.back().time + absl::Hours(72);
  const Result plain = RunPrivacyPlain(ops, end);
  // The stream does what it is for: merges that end a conflicting
  // enrollment and merges that move one, erasures that end enrollments.
  REQUIRE(plain.stats.merges_applied == 40);
  // (Those forgotten before their first input, and never-seen, are not
  // known: NotFound.)
  REQUIRE(plain.stats.erasures_applied >= 20);
  REQUIRE(plain.stats.erasures_applied + plain.stats.erasures_rejected == 31);
  const auto exits = [&](const std::string& reason) {
    int64_t n = 0;
    for (const std::string& r : plain.reports) {
      for (size_t at = r.find("\"" + reason + "\""); at != std::string::npos;
           at = r.find("\"" + reason + "\"", at + 1)) {
        ++n;
      }
    }
    return n;
  };
  REQUIRE(exits("merged") > 0);
  REQUIRE(exits("erased") > 0);
  for (int shards : {1, 2, 3, 4}) {
    INFO(shards << " shards");
    CheckSame(RunPrivacySharded(ops, shards, end), plain);
  }
}

// ---- Limits shared by the shards ----

TEST_CASE("Limit shares add up to the limit and compose") {
  for (int64_t limit = 0; limit <= 40; ++limit) {
    for (int parts = 1; parts <= 7; ++parts) {
      int64_t sum = 0, least = limit, most = 0;
      for (int part = 0; part < parts; ++part) {
        const int64_t share = ShareOfLimit(limit, {part, parts});
        sum += share;
        least = std::min(least, share);
        most = std::max(most, share);
      }
      INFO(limit << " in " << parts);
      CHECK(sum == limit);
      CHECK(most - least <= 1);
    }
  }
  // Two hosts with three shards each: six parts, in host-major order.
  const LimitShare shard = ComposeShares({1, 2}, {2, 3});
  CHECK(shard.part == 5);
  CHECK(shard.parts == 6);
  CHECK(ShareOfLimit(10, shard) == 1);
}

// A flash sale taking at most 10 entries a day, with a coupon by SMS.
constexpr char kFlashSale[] = R"pb(
  id: "flash" version: 1
  settings { state: ACTIVE entry_limits { per_day: 10 } }
  nodes { id: "t" trigger { event { matcher { event: "visit" } } next: "sms" } }
  nodes { id: "sms" action { channel: "sms" template_id: "flash" } })pb";

// The sends of one shard, by second (used by that shard's thread only).
class SendTimes : public ChannelSink {
 public:
  SendResult Send(const Message& m) override {
    ++per_second[absl::ToUnixSeconds(m.time)];
    return SendResult::Accepted();
  }
  std::map<int64_t, int> per_second;
};

TEST_CASE("Shards keep together within each entry limit and rate limit") {
  const absl::Time t0 = Options().start_time;
  v1::Journey flash = *ParseJourney(kFlashSale, JourneyFormat::kText);
  auto run = [&](int shards, LimitShare host) {
    ShardedEngineOptions options;
    options.shards = shards;
    options.engine.start_time = t0;
    options.engine.limit_share = host;
    options.engine.rate_limits.push_back({"sms", 12, absl::Seconds(1)});
    std::vector<SendTimes> sinks(shards);
    auto engine = ShardedEngine::Create(options, [&](int s, Engine& e) {
      CAIRN_RETURN_IF_ERROR(e.RegisterChannel("sms", &sinks[s]));
      return e.Deploy(flash);
    });
    REQUIRE_THAT(StatusOf(engine), IsOk());
    for (int i = 0; i < 600; ++i) {
      Event visit;
      visit.subject_id = absl::StrCat("u", i);
      visit.name = "visit";
      visit.time = t0 + absl::Milliseconds(i);
      REQUIRE_THAT((*engine)->Ingest(visit), IsOk());
    }
    (*engine)->AdvanceTo(t0 + absl::Minutes(1));
    const v1::VersionReport v = (*engine)->Report("flash")->versions(0);
    std::map<int64_t, int> per_second;
    for (const SendTimes& sink : sinks) {
      for (const auto& [second, n] : sink.per_second) per_second[second] += n;
    }
    return std::make_pair(v, per_second);
  };
  for (int shards : {1, 3, 4}) {
    INFO(shards << " shards");
    const auto [v, per_second] = run(shards, LimitShare{});
    CHECK(v.entered() == 10);  // 600 subjects: every shard's share is taken
    int64_t refused = 0;
    for (const v1::ReasonCount& c : v.entries_refused()) {
      if (c.reason() == "entry_limit_day") refused = c.count();
    }
    CHECK(refused == 590);
    int sent = 0;
    for (const auto& [second, n] : per_second) {
      CHECK(n <= 12);
      sent += n;
    }
    CHECK(sent == 10);
  }
  // The second of two hosts, each with two shards: its shards are parts 2
  // and 3 of 4, whose shares (2 and 2) are what it admits; the first
  // host's shards admit 3 and 3.
  CHECK(run(2, LimitShare{1, 2}).first.entered() == 4);
  CHECK(run(2, LimitShare{0, 2}).first.entered() == 6);
}

TEST_CASE("A rate-limited burst across shards never exceeds the rate and drains") {
  const absl::Time t0 = Options().start_time;
  v1::Journey burst = *ParseJourney(R"pb(
    id: "burst" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { audience {} next: "sms" } }
    nodes { id: "sms" action { channel: "sms" template_id: "b" } })pb",
                                    JourneyFormat::kText);
  ShardedEngineOptions options;
  options.shards = 3;
  options.engine.start_time = t0;
  options.engine.rate_limits.push_back({"sms", 100, absl::Seconds(1)});
  std::vector<SendTimes> sinks(3);
  auto engine = ShardedEngine::Create(options, [&](int s, Engine& e) {
    CAIRN_RETURN_IF_ERROR(e.RegisterChannel("sms", &sinks[s]));
    return e.Deploy(burst);
  });
  REQUIRE_THAT(StatusOf(engine), IsOk());
  for (int i = 0; i < 3000; ++i) {
    REQUIRE_THAT((*engine)->Enroll("burst", absl::StrCat("u", i), t0), IsOk());
  }
  (*engine)->AdvanceTo(t0 + absl::Minutes(5));
  (*engine)->Flush();
  std::map<int64_t, int> per_second;
  int sent = 0;
  for (const SendTimes& sink : sinks) {
    for (const auto& [second, n] : sink.per_second) {
      per_second[second] += n;
      sent += n;
    }
  }
  CHECK(sent == 3000);  // nothing dropped
  for (const auto& [second, n] : per_second) CHECK(n <= 100);
  // Each shard drains its subjects at its share (34, 33, 33 a second), one
  // second after another: the burst lasts as long as the slowest shard's.
  int64_t seconds = 0;
  for (int shard = 0; shard < 3; ++shard) {
    int64_t subjects = 0;
    for (int i = 0; i < 3000; ++i) {
      subjects += ShardedEngine::ShardOf(absl::StrCat("u", i), 3) == shard;
    }
    const int64_t share = ShareOfLimit(100, {shard, 3});
    seconds = std::max(seconds, (subjects + share - 1) / share);
  }
  CHECK(static_cast<int64_t>(per_second.size()) == seconds);
  CHECK(seconds <= 33);
}

TEST_CASE("A limit too small to share among the shards is refused with the journey named") {
  ShardedEngineOptions options;
  options.shards = 4;
  options.engine.rate_limits.push_back({"sms", 3, absl::Seconds(1)});
  absl::StatusOr<std::unique_ptr<ShardedEngine>> refused =
      ShardedEngine::Create(options, nullptr);
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(refused.status().message()),
             Catch::Contains("shard 0 of 4") && Catch::Contains("max_messages 3") &&
                 Catch::Contains("limit_share"));

  options.engine.rate_limits.clear();
  SendTimes sink;
  v1::Journey slow = *ParseJourney(R"pb(
    id: "slow" version: 1 settings { state: ACTIVE rate_limit { max_messages: 2 per { seconds: 1 } } }
    nodes { id: "t" trigger { audience {} next: "sms" } }
    nodes { id: "sms" action { channel: "sms" template_id: "b" } })pb",
                                   JourneyFormat::kText);
  refused = ShardedEngine::Create(options, [&](int, Engine& e) {
    CAIRN_RETURN_IF_ERROR(e.RegisterChannel("sms", &sink));
    return e.Deploy(slow);
  });
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(refused.status().message()),
             Catch::Contains("journey slow") &&
                 Catch::Contains("settings.rate_limit.max_messages: 2"));
}

TEST_CASE("ShardedEngine declares behaviours on every shard or on none") {
  ShardedEngineOptions options;
  options.shards = 3;
  options.engine = Options();
  std::vector<SubjectLog> logs(3);
  auto sharded = ShardedEngine::Create(
      options, [&](int s, Engine& e) { return SetUpWithBehaviors(e, &logs[s]); });
  REQUIRE_THAT(StatusOf(sharded), IsOk());
  // Dropping views_1d, which "hot" reads, is refused on the first shard.
  v1::BehaviorSet fewer;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(kStreamBehaviors, &fewer));
  fewer.mutable_behaviors()->erase(fewer.mutable_behaviors()->begin());
  const absl::Status refused = (*sharded)->DeclareBehaviors(fewer);
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(refused.message()), Catch::Contains("hot"));
  for (int i = 0; i < 30; ++i) {
    CHECK_THAT(StatusOf((*sharded)->BehaviorValue("", absl::StrCat("s", i), "views_1d")),
               IsOk());
  }
  // A new behaviour reaches every shard.
  v1::BehaviorSet more = fewer;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(kStreamBehaviors, &more));
  v1::Behavior* noise = more.add_behaviors();
  noise->set_name("noise");
  noise->mutable_event()->set_event("noise");
  noise->set_function(v1::Behavior::COUNT);
  REQUIRE_THAT((*sharded)->DeclareBehaviors(more), IsOk());
  for (int i = 0; i < 30; ++i) {
    const std::string subject = absl::StrCat("s", i);
    Event e;
    e.subject_id = subject;
    e.name = "noise";
    e.time = Options().start_time + absl::Minutes(i);
    REQUIRE_THAT((*sharded)->Ingest(e), IsOk());
    absl::StatusOr<Value> n = (*sharded)->BehaviorValue("", subject, "noise");
    REQUIRE_THAT(StatusOf(n), IsOk());
    CHECK(n->int_value() == 1);
  }
}

TEST_CASE("ShardedEngine refuses bad options and reports set-up errors with the shard") {
  ShardedEngineOptions options;
  options.shards = 0;
  CHECK(StatusOf(ShardedEngine::Create(options, nullptr)).message() ==
        "shards is 0; it must be between 1 and 1024");
  options.shards = 2;
  options.batch_size = 0;
  CHECK(StatusOf(ShardedEngine::Create(options, nullptr)).message() ==
        "batch_size must be at least 1");
  options.batch_size = 1;
  options.max_queued_batches = 0;
  CHECK(StatusOf(ShardedEngine::Create(options, nullptr)).message() ==
        "max_queued_batches must be at least 1");
  options.max_queued_batches = 1;
  options.engine.max_steps_per_input = 0;
  CHECK(StatusOf(ShardedEngine::Create(options, nullptr)).message() ==
        "max_steps_per_input must be at least 1");
  options.engine = Options();
  const absl::Status failed = StatusOf(ShardedEngine::Create(options, [](int shard, Engine&) {
    return shard == 1 ? absl::FailedPreconditionError("no journeys") : absl::OkStatus();
  }));
  CHECK(failed.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(failed.message() == "shard 1: no journeys");
}

TEST_CASE("ShardedEngine rejects inputs without a subject and hands engine errors to on_rejected") {
  ShardedEngineOptions options;
  options.shards = 2;
  options.engine = Options();
  options.max_queued_batches = 1;  // Back-pressure on every batch.
  options.batch_size = 2;
  std::mutex mu;
  std::vector<std::string> rejected;
  options.on_rejected = [&](int shard, const absl::Status& status) {
    std::lock_guard<std::mutex> lock(mu);
    rejected.push_back(absl::StrCat(shard, ": ", status.message()));
  };
  std::vector<SubjectLog> logs(2);
  auto engine = ShardedEngine::Create(options, [&](int s, Engine& e) { return SetUp(e, &logs[s]); });
  REQUIRE_THAT(StatusOf(engine), IsOk());
  Event no_subject;
  no_subject.name = "view";
  CHECK((*engine)->Ingest(no_subject).message() == "event view: subject_id is empty");
  // In the engine's words, as the engine itself would refuse them.
  CHECK((*engine)->Enroll("promo", "", Options().start_time).message() ==
        "Enroll into journey promo: subject id is empty");
  CHECK((*engine)->UpsertProfile("", kZone, Options().start_time).message() ==
        "UpsertProfile: subject id is empty");
  Event no_subject_unnamed;
  CHECK((*engine)->Ingest(no_subject_unnamed).message() == "event (unnamed): subject_id is empty");
  CHECK((*engine)->ReportDelivery("", "0123456789abcdef", DeliveryOutcome::kDelivered,
                                  Options().start_time)
            .code() == absl::StatusCode::kInvalidArgument);

  // A batch with an event without a subject is refused whole.
  std::vector<Event> batch(3, EventOf(Op{Op::kEvent, "b1", "view", Options().start_time, 0}));
  batch[2].subject_id.clear();
  batch[2].name = "cart";
  CHECK((*engine)->IngestBatch(batch).message() ==
        "batch event 2 (cart): subject_id is empty; no event of the batch was queued");
  REQUIRE_THAT((*engine)->IngestBatch({}), IsOk());

  Event unnamed;
  unnamed.subject_id = "u1";
  unnamed.time = Options().start_time;
  REQUIRE_THAT((*engine)->Ingest(unnamed), IsOk());  // Queued; the engine refuses it.
  REQUIRE_THAT((*engine)->Enroll("nope", "u2", Options().start_time), IsOk());
  for (int i = 0; i < 50; ++i) {
    REQUIRE_THAT((*engine)->Ingest(EventOf(Op{Op::kEvent, absl::StrCat("s", i), "view",
                                              Options().start_time, 0})),
                 IsOk());
  }
  const EngineStats stats = (*engine)->stats();
  CHECK(stats.events_rejected == 1);
  CHECK(stats.enrollments_rejected == 1);
  CHECK(stats.events_applied == 50);  // None of the refused batch's.
  std::sort(rejected.begin(), rejected.end());
  CHECK(rejected == std::vector<std::string>{
                        absl::StrCat(ShardedEngine::ShardOf("u1", 2),
                                     ": event of subject u1: name is empty"),
                        absl::StrCat(ShardedEngine::ShardOf("u2", 2),
                                     ": journey nope is not deployed")});
}

TEST_CASE("Destroying a ShardedEngine applies everything queued") {
  ShardedEngineOptions options;
  options.shards = 2;
  options.engine = Options();
  std::vector<SubjectLog> logs(2);
  {
    auto engine =
        ShardedEngine::Create(options, [&](int s, Engine& e) { return SetUp(e, &logs[s]); });
    REQUIRE_THAT(StatusOf(engine), IsOk());
    for (int i = 0; i < 100; ++i) {
      REQUIRE_THAT((*engine)->Enroll("promo", absl::StrCat("p", i), Options().start_time),
                   IsOk());
    }
  }  // No Flush: the destructor drains.
  CHECK(logs[0].logs.size() + logs[1].logs.size() == 100);
}

}  // namespace
}  // namespace cairn
