// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Snapshots: replay equivalence (cut a generated stream anywhere, snapshot,
// restore into a fresh engine, continue: the outputs equal an uninterrupted
// run exactly), and every way a restore must refuse.

#include <algorithm>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/cairn.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/json_util.h"
#include "util/record_io.h"
#include "testing/journeys.h"
#include "testing/snapshot_records.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::IsOk;
using testing::StatusOf;

const auto& kJourneys = testing::kStatefulJourneys;

struct Driver : ChannelSink, ProfileSink, Observer {
  SendResult Send(const Message& m) override {
    absl::StrAppend(&log, "send ", m.message_id, " ", m.channel, " ", m.subject_id, " ",
                    m.node_id, " ", absl::ToUnixSeconds(m.time), "\n");
    const bool fail = m.message_id.back() == '7';
    if (m.awaits_delivery && !fail) awaiting.push_back(m.message_id);
    return fail ? SendResult::Failed("err") : SendResult::Accepted();
  }
  void Write(const ProfileWrite& w) override {
    absl::StrAppend(&log, "profile ", w.subject_id, "\n");
  }
  void OnStep(const TraceStep& s) override {
    absl::StrAppend(&log, static_cast<int>(s.kind), " ", s.subject_id, " ", s.node_id, " ",
                    s.detail, "\n");
  }
  std::vector<std::string> awaiting;
  std::string log;
};

EngineOptions Options() {
  EngineOptions o;
  o.start_time = absl::FromUnixSeconds(1767225600);
  o.frequency_caps.push_back({"sms", 2, absl::Hours(6)});
  o.quiet_hours.push_back({"push", 23, 0, 7, 0, {}});
  o.holdout_percent = 3;
  return o;
}

void Setup(Engine* engine, Driver* driver) {
  for (const char* channel : {"push", "sms", "email"}) {
    REQUIRE_THAT(engine->RegisterChannel(channel, driver), IsOk());
  }
  engine->SetProfileSink(driver);
  engine->SetObserver(driver);
  for (const char* text : kJourneys) {
    absl::StatusOr<v1::Journey> j = ParseJourney(text, JourneyFormat::kText);
    REQUIRE_THAT(StatusOf(j), IsOk());
    REQUIRE_THAT(engine->Deploy(*j), IsOk());
  }
}

struct Op {
  int kind;  // 0 event, 1 enroll, 2 delivery report, 3 profile
  std::string subject;
  std::string name;
  absl::Time time;
  int value;
};

std::vector<Op> Stream(int n) {
  std::mt19937_64 rng(77);
  const char* names[] = {"view", "cart", "pay", "visit", "refund", "buy", "shipped", "noise"};
  std::vector<Op> ops;
  absl::Time t = absl::FromUnixSeconds(1767225600);
  for (int i = 0; i < n; ++i) {
    t += absl::Milliseconds(rng() % 20000);
    Op op;
    const uint64_t r = rng() % 100;
    op.kind = r < 4 ? 1 : r < 8 ? 2 : r < 10 ? 3 : 0;
    op.subject = absl::StrCat("s", rng() % 20000);
    op.name = names[rng() % 8];
    op.time = t;
    op.value = static_cast<int>(rng() % 5);
    ops.push_back(op);
  }
  return ops;
}

void Apply(Engine* engine, Driver* driver, const Op& op) {
  absl::Status s;
  switch (op.kind) {
    case 1:
      s = engine->Enroll("promo", op.subject, op.time);
      break;
    case 2:
      if (driver->awaiting.empty()) return;
      s = engine->ReportDelivery(driver->awaiting.back(),
                                 op.value == 0 ? DeliveryOutcome::kFailed
                                               : DeliveryOutcome::kDelivered,
                                 op.time, "bounced");
      driver->awaiting.pop_back();
      break;
    case 3:
      s = engine->UpsertProfile(op.subject, {{"time_zone", Value::String("Asia/Shanghai")}},
                                op.time);
      break;
    default: {
      Event e;
      e.subject_id = op.subject;
      e.name = op.name;
      e.time = op.time;
      e.id = absl::StrCat("e", op.value, op.subject);
      e.properties = {{"sku", Value::String(absl::StrCat("k", op.value))},
                      {"order", Value::String(absl::StrCat("o", op.value))}};
      s = engine->Ingest(e);
    }
  }
  absl::StrAppend(&driver->log, "status ", s.ToString(), "\n");
}

std::string Final(Engine* engine, Driver* driver, absl::Time end) {
  REQUIRE_THAT(engine->AdvanceTo(end), IsOk());
  std::string out = driver->log;
  for (const std::string& id : engine->journey_ids()) {
    std::string json;
    REQUIRE(google::protobuf::util::MessageToJsonString(*engine->Report(id), &json).ok());
    absl::StrAppend(&out, json, "\n");
  }
  const EngineStats st = engine->stats();
  absl::StrAppend(&out, st.events_applied, " ", st.events_rejected, " ", st.timers_fired, " ",
                  st.messages_sent, " ", st.enrollments_in_flight, " ", st.subjects, "\n");
  return out;
}

TEST_CASE("Replay equivalence: snapshot at 50 cut points, restore, continue") {
  const std::vector<Op> ops = Stream(30000);
  const absl::Time end = ops.back().time + absl::Hours(72);
  std::mt19937_64 rng(5);
  std::vector<size_t> cuts;
  for (int i = 0; i < 50; ++i) cuts.push_back(rng() % ops.size());
  std::sort(cuts.begin(), cuts.end());

  // The uninterrupted run, snapshotting (without stopping) at each cut.
  Engine engine(Options());
  Driver driver;
  Setup(&engine, &driver);
  std::vector<std::string> snapshots;
  std::vector<size_t> log_at_cut;
  std::vector<std::vector<std::string>> awaiting_at_cut;
  size_t next_cut = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    while (next_cut < cuts.size() && cuts[next_cut] == i) {
      std::ostringstream out;
      REQUIRE_THAT(engine.Snapshot(out), IsOk());
      snapshots.push_back(out.str());
      log_at_cut.push_back(driver.log.size());
      awaiting_at_cut.push_back(driver.awaiting);
      ++next_cut;
    }
    Apply(&engine, &driver, ops[i]);
  }
  const std::string expected = Final(&engine, &driver, end);
  REQUIRE(engine.stats().messages_sent > 1000);

  for (size_t c = 0; c < cuts.size(); ++c) {
    INFO("cut at input " << cuts[c]);
    Engine restored(Options());
    Driver d;
    Setup(&restored, &d);
    d.awaiting = awaiting_at_cut[c];
    std::istringstream in(snapshots[c]);
    REQUIRE_THAT(restored.Restore(in), IsOk());
    for (size_t i = cuts[c]; i < ops.size(); ++i) Apply(&restored, &d, ops[i]);
    const std::string got = Final(&restored, &d, end);
    // The restored engine's outputs are the uninterrupted run's, from the cut.
    REQUIRE(got == expected.substr(log_at_cut[c]));
    // And a snapshot of the restored engine is byte-identical to the original.
    if (c == 0) {
      Engine again(Options());
      Driver d2;
      Setup(&again, &d2);
      std::istringstream in2(snapshots[c]);
      REQUIRE_THAT(again.Restore(in2), IsOk());
      std::ostringstream out2;
      REQUIRE_THAT(again.Snapshot(out2), IsOk());
      CHECK(out2.str() == snapshots[c]);
    }
  }
}

// Pins what the engine writes: the snapshot bytes of a fixed run, midway
// (partial matches, enrollments in flight, timers, de-duplication ids) and
// at the end, and everything the run sent and reported. A change that moves
// code without changing behaviour keeps all three; one that changes the
// snapshot format or the engine's decisions must update them, and say why.
TEST_CASE("Golden: a fixed run writes the same snapshot bytes and outputs") {
  const std::vector<Op> ops = Stream(20000);
  Engine engine(Options());
  Driver driver;
  Setup(&engine, &driver);
  std::string midway;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (i == ops.size() / 2) {
      std::ostringstream out;
      REQUIRE_THAT(engine.Snapshot(out), IsOk());
      midway = out.str();
    }
    Apply(&engine, &driver, ops[i]);
  }
  const std::string outputs = Final(&engine, &driver, ops.back().time + absl::Hours(72));
  std::ostringstream end;
  REQUIRE_THAT(engine.Snapshot(end), IsOk());
  // Updated when the engine counters started to leave out trailing zeros
  // (so that a new counter changes no snapshot that never counted it); the
  // end and the outputs again when a change of zone (the stream sets
  // Asia/Shanghai) started to move a subject waiting for 09:00 to the next
  // 09:00 in its new zone (two subjects in this run); the outputs again
  // when reports began to carry each goal's experiment statistics (the
  // snapshots did not change: those are derived, not stored); all three
  // when goals began to count the global holdout's subjects apart (this
  // run holds out 3%); both snapshots when enrollments began to be written
  // with their arrival at their node (for Engine::Inspect) and numbered by
  // slot (the outputs did not change).
  CHECK(HashToHex(StableHash64({midway})) == "d930f60889ab94f8");
  CHECK(HashToHex(StableHash64({end.str()})) == "447be7bf2c4a8096");
  CHECK(HashToHex(StableHash64({outputs})) == "fae4e82abf093dbd");
}

std::string SmallSnapshot() {
  Engine engine(Options());
  Driver driver;
  Setup(&engine, &driver);
  for (const Op& op : Stream(2000)) Apply(&engine, &driver, op);
  std::ostringstream out;
  REQUIRE_THAT(engine.Snapshot(out), IsOk());
  return out.str();
}

absl::Status RestoreInto(Engine* engine, const std::string& bytes) {
  std::istringstream in(bytes);
  return engine->Restore(in);
}

// Timers due at the same time fire in the order they were scheduled. The
// queue keeps no sequence numbers: a snapshot numbers timers in firing
// order, and restore schedules them again by (due, seq) whatever order the
// records come in.
TEST_CASE("Tied timers fire in the same order after a restore") {
  Engine engine(Options());
  Driver driver;
  Setup(&engine, &driver);
  // Every enrollment before 09:00 waits in promo's "morning" delay until
  // 09:00 that day: forty timers due at the same instant.
  const absl::Time t0 = Options().start_time;
  for (int i = 0; i < 40; ++i) {
    REQUIRE_THAT(engine.Enroll("promo", absl::StrCat("tie", (i * 17) % 40),
                               t0 + absl::Minutes(i)),
                 IsOk());
  }
  std::ostringstream out;
  REQUIRE_THAT(engine.Snapshot(out), IsOk());
  const std::string snapshot = out.str();

  // The timer records in reverse order, the rest as written.
  std::vector<v1::SnapshotRecord> records = testing::ReadSnapshotRecords(snapshot);
  auto first = std::find_if(records.begin(), records.end(),
                            [](const v1::SnapshotRecord& r) { return r.has_timer(); });
  auto last = std::find_if(first, records.end(),
                           [](const v1::SnapshotRecord& r) { return !r.has_timer(); });
  REQUIRE(last - first >= 40);
  for (auto it = first; it != last; ++it) CHECK(it->timer().seq() == uint64_t(it - first));
  std::reverse(first, last);
  std::ostringstream reversed;
  {
    internal::RecordWriter writer(&reversed);
    for (const v1::SnapshotRecord& r : records) REQUIRE_THAT(writer.Write(r), IsOk());
  }

  const absl::Time end = t0 + absl::Hours(10);
  const std::string before = driver.log;
  const std::string expected = Final(&engine, &driver, end).substr(before.size());
  for (const std::string& bytes : {snapshot, reversed.str()}) {
    Engine restored(Options());
    Driver d;
    Setup(&restored, &d);
    std::istringstream in(bytes);
    REQUIRE_THAT(restored.Restore(in), IsOk());
    std::ostringstream again;
    REQUIRE_THAT(restored.Snapshot(again), IsOk());
    CHECK(again.str() == snapshot);  // Renumbered the same way.
    CHECK(Final(&restored, &d, end) == expected);
  }
}

TEST_CASE("Restore refuses a truncated or corrupted stream and leaves the engine fresh") {
  const std::string snap = SmallSnapshot();
  Engine engine(Options());
  Driver driver;
  Setup(&engine, &driver);
  absl::Status s = RestoreInto(&engine, snap.substr(0, snap.size() / 2));
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(s.message()), Catch::Contains("truncated"));
  CHECK(engine.stats().subjects == 0);
  std::string corrupt = snap;
  corrupt[corrupt.size() / 3] ^= 0x40;
  s = RestoreInto(&engine, corrupt);
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(engine.stats().subjects == 0);
  CHECK_THAT(std::string(RestoreInto(&engine, "").message()),
             Catch::Contains("does not start with a header"));
  // Still fresh: the real snapshot restores.
  REQUIRE_THAT(RestoreInto(&engine, snap), IsOk());
  CHECK(engine.stats().subjects > 0);
}

TEST_CASE("Restore refuses engines that differ from the snapshot's") {
  const std::string snap = SmallSnapshot();
  SECTION("a used engine") {
    Engine engine(Options());
    Driver driver;
    Setup(&engine, &driver);
    REQUIRE_THAT(engine.AdvanceTo(absl::FromUnixSeconds(1767225600 + 60)), IsOk());
    CHECK(RestoreInto(&engine, snap).code() == absl::StatusCode::kFailedPrecondition);
  }
  SECTION("other options") {
    EngineOptions other = Options();
    other.holdout_percent = 4;
    Engine engine(other);
    Driver driver;
    Setup(&engine, &driver);
    CHECK(RestoreInto(&engine, snap).message() ==
          "snapshot: taken with different EngineOptions (policies, windows or limits)");
  }
  SECTION("journeys not deployed") {
    Engine engine(Options());
    const absl::Status s = RestoreInto(&engine, snap);
    CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(std::string(s.message()), Catch::StartsWith("snapshot: journey cart version 1 is not deployed"));
  }
  SECTION("a different definition under the same version") {
    Engine engine(Options());
    Driver driver;
    for (const char* channel : {"push", "sms", "email"}) {
      REQUIRE_THAT(engine.RegisterChannel(channel, &driver), IsOk());
    }
    for (const char* text : kJourneys) {
      v1::Journey j = *ParseJourney(text, JourneyFormat::kText);
      if (j.id() == "orders") j.set_name("edited");
      REQUIRE_THAT(engine.Deploy(j), IsOk());
    }
    CHECK(RestoreInto(&engine, snap).message() ==
          "snapshot: journey orders version 1 is deployed with a different definition");
  }
}

// A snapshot whose records `edit` changed, written with valid checksums:
// what a forger (or a writer with a bug) produces, past the checksums to
// the consistency checks.
template <typename Edit>
std::string Forged(const std::string& snapshot, Edit edit) {
  std::vector<v1::SnapshotRecord> records = testing::ReadSnapshotRecords(snapshot);
  edit(&records);
  std::ostringstream out;
  internal::RecordWriter writer(&out);
  for (const v1::SnapshotRecord& r : records) REQUIRE_THAT(writer.Write(r), IsOk());
  return out.str();
}

template <typename Pred>
v1::SnapshotRecord* FindRecord(std::vector<v1::SnapshotRecord>* records, Pred pred) {
  for (v1::SnapshotRecord& r : *records) {
    if (pred(r)) return &r;
  }
  FAIL("no such record");
  return nullptr;
}

// A snapshot with every kind of record the checks below edit: subjects with
// profiles of several attributes, sequence progress, enrollments, timers,
// sends awaiting reports, de-duplication entries.
std::string RichSnapshot() {
  Engine engine(Options());
  Driver driver;
  Setup(&engine, &driver);
  for (const Op& op : Stream(2000)) Apply(&engine, &driver, op);
  REQUIRE_THAT(engine.UpsertProfile("s1", {{"b", Value::Int(1)}, {"a", Value::Int(2)},
                                           {"time_zone", Value::String("UTC")}},
                                    engine.now()),
               IsOk());
  Event view;
  view.subject_id = "s1";
  view.name = "view";
  view.time = engine.now();
  REQUIRE_THAT(engine.Ingest(view), IsOk());
  std::ostringstream out;
  REQUIRE_THAT(engine.Snapshot(out), IsOk());
  return out.str();
}

// Restores `bytes` into a fresh engine: must be refused with DataLoss whose
// message contains `what`, leaving the engine fresh (the real snapshot
// still restores into it).
void ExpectRefused(const std::string& bytes, const std::string& what,
                   const std::string& good) {
  Engine engine(Options());
  Driver driver;
  Setup(&engine, &driver);
  const absl::Status s = RestoreInto(&engine, bytes);
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(s.message()), Catch::Contains(what));
  CHECK(engine.stats().subjects == 0);
  CHECK(engine.now() == Options().start_time);
  CHECK_THAT(RestoreInto(&engine, good), IsOk());
}

// Issue 15, defect 14: snapshots with valid checksums but state no engine
// writes (times outside the engine's range, which made UBSan report signed
// overflows; unsorted profiles; rewound enrollment ids that would repeat
// message ids; counts whose sums overflow) are refused naming what is wrong.
TEST_CASE("Restore refuses forged snapshots with valid checksums and leaves the engine fresh") {
  const std::string good = RichSnapshot();
  auto clock = [](v1::SnapshotRecord& r) { return r.has_clock(); };
  const int64_t kEnd = absl::ToUnixNanos(LatestInputTime() + absl::Hours(24 * 365 * 51));

  SECTION("engine time past the end of the range") {
    ExpectRefused(Forged(good, [](auto* records) {
                    FindRecord(records, [](auto& r) { return r.has_clock(); })
                        ->mutable_clock()->set_now_nanos(INT64_MAX);
                  }),
                  "snapshot: engine time is out of range", good);
  }
  SECTION("engine time before 1970") {
    ExpectRefused(Forged(good, [&](auto* records) {
                    FindRecord(records, clock)->mutable_clock()->set_now_nanos(-1);
                  }),
                  "snapshot: engine time is out of range", good);
  }
  SECTION("a timer due after the last time the engine can compute") {
    ExpectRefused(Forged(good, [&](auto* records) {
                    FindRecord(records, [](auto& r) { return r.has_timer(); })
                        ->mutable_timer()->set_due_nanos(kEnd);
                  }),
                  "snapshot: timer due time is out of range", good);
  }
  SECTION("a sequence start at the end of the time range") {
    ExpectRefused(Forged(good, [&](auto* records) {
                    auto* s = FindRecord(records, [](auto& r) {
                      return r.has_subject() && r.subject().sequences_size() > 0;
                    });
                    s->mutable_subject()->mutable_sequences(0)->set_starts_nanos(0, INT64_MAX);
                  }),
                  "snapshot: sequence start time is out of range", good);
  }
  SECTION("a de-duplication entry at year 1") {
    const int64_t kYearOne = INT64_MIN + 1;
    ExpectRefused(Forged(good, [&](auto* records) {
                    FindRecord(records, [](auto& r) { return r.has_seen(); })
                        ->mutable_seen()->set_at_nanos(kYearOne);
                  }),
                  "snapshot: de-duplication time is out of range", good);
  }
  SECTION("an unsorted profile") {
    ExpectRefused(Forged(good, [](auto* records) {
                    auto* s = FindRecord(records, [](auto& r) {
                      return r.has_subject() && r.subject().id() == "s1";
                    });
                    REQUIRE(s->subject().profile_size() >= 2);
                    s->mutable_subject()->mutable_profile()->SwapElements(0, 1);
                  }),
                  "is not sorted by name, or repeats one", good);
  }
  SECTION("a profile naming one attribute twice") {
    ExpectRefused(Forged(good, [](auto* records) {
                    auto* s = FindRecord(records, [](auto& r) {
                      return r.has_subject() && r.subject().id() == "s1";
                    });
                    auto* profile = s->mutable_subject()->mutable_profile();
                    profile->Mutable(1)->set_name(profile->Get(0).name());
                  }),
                  "is not sorted by name, or repeats one", good);
  }
  SECTION("a rewound next enrollment id") {
    ExpectRefused(Forged(good, [&](auto* records) {
                    FindRecord(records, clock)->mutable_clock()->set_next_enrollment_uid(1);
                  }),
                  "snapshot: enrollment id is out of range", good);
  }
  SECTION("counts at the top of int64") {
    ExpectRefused(Forged(good, [&](auto* records) {
                    FindRecord(records, clock)->mutable_clock()->set_stats(0, INT64_MAX);
                  }),
                  "snapshot: engine stat is out of range", good);
    ExpectRefused(Forged(good, [](auto* records) {
                    auto* c = FindRecord(records, [](auto& r) { return r.has_counters(); });
                    c->mutable_counters()->mutable_report()->set_entered(INT64_MAX);
                  }),
                  "snapshot: journey report count is out of range", good);
  }
  SECTION("an entry count that would wrap and repeat message ids") {
    ExpectRefused(Forged(good, [](auto* records) {
                    auto* s = FindRecord(records, [](auto& r) {
                      return r.has_subject() && r.subject().history_size() > 0;
                    });
                    s->mutable_subject()->mutable_history(0)->set_entries(UINT32_MAX);
                  }),
                  "snapshot: history entry count is out of range", good);
  }
}

}  // namespace
}  // namespace cairn
