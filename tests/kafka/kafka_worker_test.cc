// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// cairn::kafka::Worker against librdkafka's mock cluster (3 brokers on
// loopback listeners): workers in one consumer group, each partition's
// engine checkpointed to a shared directory. Every test compares the
// workers with one plain Engine over the same inputs: the reports merged
// from the partitions' final checkpoints must equal the plain engine's,
// and the message topic must hold exactly the plain engine's message ids
// (each once when nothing crashed; repeats allowed after a fallback, never
// a new id or a missing one).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cairn/kafka/worker.h"
#include "kafka_test_util.h"
#include "util/utf8.h"

namespace cairn::kafka {
namespace {

using namespace testing;  // NOLINT: the helpers of this test suite

constexpr char kInput[] = "shop-inputs";
constexpr char kMessages[] = "shop-messages";
constexpr char kProfiles[] = "shop-profiles";
constexpr int kPartitions = 8;

std::string FreshDir(const std::string& name) {
  const std::string dir = std::string(CAIRN_TEST_TMPDIR) + "/worker_test_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// A worker polled on its own thread until stopped, then closed there.
class WorkerThread {
 public:
  explicit WorkerThread(WorkerOptions options) {
    absl::StatusOr<std::unique_ptr<Worker>> worker = Worker::Create(std::move(options));
    REQUIRE_THAT(StatusOf(worker), IsOk());
    worker_ = *std::move(worker);
    thread_ = std::thread([this] {
      while (!stop_) {
        absl::Status s = worker_->Poll(absl::Milliseconds(50));
        if (!s.ok()) {
          poll_status_ = s;
          return;
        }
      }
      close_status_ = worker_->Close();
    });
  }
  ~WorkerThread() { (void)Stop(); }

  // Stops polling, closes (checkpointing) and returns the first error.
  absl::Status Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return poll_status_.ok() ? close_status_ : poll_status_;
  }
  // After Stop.
  WorkerStats stats() const { return worker_->stats(); }

 private:
  std::unique_ptr<Worker> worker_;
  std::atomic<bool> stop_{false};
  absl::Status poll_status_, close_status_;
  std::thread thread_;
};

struct Setup {
  MockCluster cluster;
  std::vector<v1::Journey> journeys = ExampleJourneys();
  EngineOptions engine_options;
  std::unique_ptr<DirectoryCheckpointStore> store;

  explicit Setup(const std::string& name, int keep = 3) {
    cluster.CreateTopic(kInput, kPartitions);
    cluster.CreateTopic(kMessages, kPartitions);
    cluster.CreateTopic(kProfiles, kPartitions);
    absl::StatusOr<std::unique_ptr<DirectoryCheckpointStore>> s =
        DirectoryCheckpointStore::Open(FreshDir(name), keep);
    REQUIRE_THAT(StatusOf(s), IsOk());
    store = *std::move(s);
  }

  // Writes records[begin, end) to the input topic; returns the input
  // partitions' end offsets after them.
  std::vector<int64_t> Write(std::vector<Record>& records, size_t begin = 0,
                             size_t end = SIZE_MAX) {
    Produce(cluster.bootstraps(), kInput, records, begin, end);
    return EndOffsets(cluster.bootstraps(), kInput, kPartitions);
  }

  // Waits until every partition is checkpointed at its end offset.
  void AwaitCheckpoints(const std::vector<int64_t>& ends) const {
    REQUIRE(WaitForCheckpointsAt(*store, ends, std::chrono::seconds(120)));
  }

  // Runs a worker until every partition is checkpointed at `ends`, then
  // closes it; its counters.
  WorkerStats RunToCheckpoints(const WorkerOptions& options,
                               const std::vector<int64_t>& ends) const {
    WorkerThread worker(options);
    AwaitCheckpoints(ends);
    REQUIRE_THAT(worker.Stop(), IsOk());
    return worker.stats();
  }

  // Writes the first 70% of `records` and runs a worker until they are
  // checkpointed; then writes the rest and runs a second worker, which
  // restores every partition from those checkpoints, until they are
  // checkpointed too. Returns the input partitions' end offsets; both
  // workers' logs go to `logs`.
  std::vector<int64_t> RunAcrossRestart(std::vector<Record>& records, std::string* logs) {
    const size_t cut = records.size() * 7 / 10;
    const std::vector<int64_t> cut_ends = Write(records, 0, cut);
    CapturingLog log_a;
    RunToCheckpoints(Options(&log_a), cut_ends);
    const std::vector<int64_t> ends = Write(records, cut);
    CapturingLog log_b;
    const WorkerStats b = RunToCheckpoints(Options(&log_b), ends);
    *logs = log_a.All() + log_b.All();
    INFO(*logs);
    CHECK(b.restored_from_checkpoint == kPartitions);
    return ends;
  }

  // What RunWithJoin saw.
  struct Joined {
    std::vector<int64_t> ends;  // The input partitions' end offsets.
    WorkerStats a, b;
    std::string logs;
  };

  // Writes records[0, half) and runs worker A until they are checkpointed;
  // then B joins, on its own thread, while the rest is written and read, so
  // that the group rebalances with A in the middle of its work; both stop
  // once every partition is checkpointed at its end.
  Joined RunWithJoin(std::vector<Record>& records, size_t half) {
    const std::vector<int64_t> half_ends = Write(records, 0, half);
    CapturingLog log_a, log_b;
    WorkerThread a(Options(&log_a));
    AwaitCheckpoints(half_ends);
    WorkerThread b(Options(&log_b));
    Joined joined;
    joined.ends = Write(records, half);
    REQUIRE(log_b.WaitFor("assigned partitions [", std::chrono::seconds(60)));
    AwaitCheckpoints(joined.ends);
    REQUIRE_THAT(a.Stop(), IsOk());
    REQUIRE_THAT(b.Stop(), IsOk());
    joined.a = a.stats();
    joined.b = b.stats();
    joined.logs = log_a.All() + log_b.All();
    return joined;
  }

  WorkerOptions Options(CapturingLog* log) const {
    WorkerOptions o;
    o.brokers = cluster.bootstraps();
    o.group = "cairn-shop";
    o.input_topic = kInput;
    o.message_topic = kMessages;
    o.profile_topic = kProfiles;
    o.journeys = journeys;
    o.behaviors = ExampleBehaviors();
    o.engine = engine_options;
    o.checkpoints = store.get();
    o.checkpoint_every_records = 2000;
    o.checkpoint_interval = absl::Milliseconds(500);
    o.health_interval = absl::Milliseconds(500);
    o.client_config = {{"session.timeout.ms", "6000"},
                       {"heartbeat.interval.ms", "500"},
                       {"log_level", "3"}};
    o.log = log;
    return o;
  }
};

// The records of a stream, then one tick per partition.
std::vector<Record> RecordsOf(const Stream& stream) {
  std::vector<Record> records;
  for (const EngineInput& input : stream.inputs) {
    for (Record& r : JsonRecords(input, kPartitions)) records.push_back(std::move(r));
  }
  for (Record& r : JsonRecords(ClockTick{stream.end}, kPartitions)) {
    records.push_back(std::move(r));
  }
  return records;
}

std::vector<EngineInput> WithTick(const Stream& stream) {
  std::vector<EngineInput> inputs = stream.inputs;
  inputs.push_back(ClockTick{stream.end});
  return inputs;
}

// The message ids in the message topic, sorted (repeats kept).
std::vector<std::string> OutputIds(const Setup& setup) {
  std::vector<std::string> ids;
  for (const ReadRecord& r : ReadTopic(setup.cluster.bootstraps(), kMessages, kPartitions)) {
    REQUIRE(r.message_id.size() == 16);
    REQUIRE(absl::StrContains(r.payload, absl::StrCat("\"message_id\":\"", r.message_id, "\"")));
    ids.push_back(r.message_id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST_CASE("Worker: one worker over a whole stream equals one plain engine") {
  Setup setup("single");
  const Stream stream = GenerateStream(2000, 2, absl::Hours(24 * 8));
  std::vector<Record> records = RecordsOf(stream);
  const std::vector<int64_t> ends = setup.Write(records);

  CapturingLog log;
  const WorkerStats stats = setup.RunToCheckpoints(setup.Options(&log), ends);
  INFO(log.All());

  const PlainRun plain = RunPlainEngine(setup.journeys, setup.engine_options, WithTick(stream));
  REQUIRE(!plain.ids.empty());
  CheckSameReports(ReportsFromCheckpoints(*setup.store, ends, setup.engine_options),
                   plain.reports);
  CHECK(OutputIds(setup) == plain.ids);

  CHECK(stats.records_bad == 0);
  CHECK(stats.records_applied + stats.records_rejected ==
        static_cast<int64_t>(records.size()));
  CHECK(stats.records_rejected == plain.rejected);
  CHECK(stats.messages_produced == static_cast<int64_t>(plain.ids.size()));
  CHECK(stats.started_from_beginning == kPartitions);
  CHECK(log.Count("health p") > 0);

  // Profile write-backs went to their topic, keyed by subject.
  for (const ReadRecord& r : ReadTopic(setup.cluster.bootstraps(), kProfiles, kPartitions)) {
    CHECK(absl::StrContains(r.payload, absl::StrCat("{\"subject\":\"", r.key, "\"")));
  }
}

TEST_CASE("Worker: each partition's split rule decides as one engine on its records across a rebalance") {
  Setup setup("rules");
  // The cart journey's split judges its arms hourly, on little evidence
  // (alpha 0.5, 2 per arm), so that partitions decide within the stream.
  bool found = false;
  for (v1::Journey& j : setup.journeys) {
    if (j.id() != "cart_abandonment") continue;
    for (v1::Node& n : *j.mutable_nodes()) {
      if (!n.has_split()) continue;
      v1::SplitRule* rule = n.mutable_split()->mutable_rule();
      rule->set_goal("paid_within_12h");
      rule->set_min_per_arm(2);
      rule->set_alpha(0.5);
      rule->mutable_min_duration()->set_seconds(0);
      rule->mutable_check_every()->set_seconds(3600);
      found = true;
    }
  }
  REQUIRE(found);
  const Stream stream = GenerateStream(3000, 2, absl::Hours(24 * 8));
  // Each input's records, so that where they land says which partition's
  // engine applied it.
  std::vector<Record> records;
  std::vector<std::pair<size_t, size_t>> records_of;  // Per input: [first, end).
  std::vector<EngineInput> inputs = WithTick(stream);
  for (const EngineInput& input : inputs) {
    const size_t first = records.size();
    for (Record& r : JsonRecords(input, kPartitions)) records.push_back(std::move(r));
    records_of.emplace_back(first, records.size());
  }
  const Setup::Joined joined = setup.RunWithJoin(records, records_of[inputs.size() / 2].first);
  const std::vector<int64_t>& ends = joined.ends;
  INFO(joined.logs);
  CHECK(joined.b.restored_from_checkpoint > 0);

  // One plain engine per partition, on the inputs that landed there.
  std::vector<std::vector<EngineInput>> per_partition(kPartitions);
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (size_t r = records_of[i].first; r < records_of[i].second; ++r) {
      REQUIRE(records[r].landed_partition >= 0);
      per_partition[records[r].landed_partition].push_back(inputs[i]);
    }
  }
  int decided = 0;
  for (int32_t p = 0; p < kPartitions; ++p) {
    INFO("partition " << p);
    const PlainRun plain = RunPlainEngine(setup.journeys, setup.engine_options, per_partition[p]);
    IdSink sink;
    std::unique_ptr<Engine> restored =
        RestoreNewestCheckpoint(*setup.store, p, ends[p], setup.engine_options, &sink);
    const v1::JourneyReport got = *restored->Report("cart_abandonment");
    const v1::JourneyReport& want = plain.reports.at("cart_abandonment");
    REQUIRE(got.versions(0).rollouts_size() == 1);
    INFO("got:\n" << got.versions(0).rollouts(0).DebugString() << "want:\n"
                   << want.versions(0).rollouts(0).DebugString());
    CHECK(google::protobuf::util::MessageDifferencer::Equals(got.versions(0).rollouts(0),
                                                             want.versions(0).rollouts(0)));
    CHECK(google::protobuf::util::MessageDifferencer::Equals(got, want));
    decided += got.versions(0).rollouts(0).status() == "decided";
  }
  // Several partitions decided (three on this stream), each on its own
  // subjects, and their decisions travelled in checkpoints.
  CHECK(decided >= 2);
}

TEST_CASE("Worker: a worker joining mid-stream loses and repeats nothing") {
  Setup setup("join");
  const Stream stream = GenerateStream(3000, 2, absl::Hours(24 * 8));
  std::vector<Record> records = RecordsOf(stream);
  // A reads the first half; B joins while the second half is being written
  // and read, so the group rebalances with A in the middle of its work.
  const Setup::Joined joined = setup.RunWithJoin(records, stream.inputs.size() / 2);
  const std::vector<int64_t>& ends = joined.ends;
  INFO(joined.logs);

  // The group rebalanced: A handed partitions over, B restored them.
  CHECK(joined.a.partitions_revoked > 0);
  CHECK(joined.b.restored_from_checkpoint > 0);

  const PlainRun plain = RunPlainEngine(setup.journeys, setup.engine_options, WithTick(stream));
  CheckSameReports(ReportsFromCheckpoints(*setup.store, ends, setup.engine_options),
                   plain.reports);
  // Exactly once: every id, none twice.
  CHECK(OutputIds(setup) == plain.ids);
  CHECK(joined.a.messages_produced + joined.b.messages_produced ==
        static_cast<int64_t>(plain.ids.size()));
}

// Flips one byte in the body of the newest checkpoint of each partition.
int CorruptNewestCheckpoints(DirectoryCheckpointStore& store) {
  int corrupted = 0;
  for (int32_t p = 0; p < kPartitions; ++p) {
    absl::StatusOr<std::vector<CheckpointInfo>> list = store.List(p);
    REQUIRE_THAT(StatusOf(list), IsOk());
    if (list->size() < 2) continue;  // nothing older to fall back to
    std::fstream file(list->front().location,
                      std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(file);
    file.seekg(0, std::ios::end);
    const std::streamoff size = file.tellg();
    file.seekg(size - 10);
    char c = 0;
    file.read(&c, 1);
    file.seekp(size - 10);
    c ^= 0x5a;
    file.write(&c, 1);
    ++corrupted;
  }
  return corrupted;
}

TEST_CASE("Worker: a corrupted newest checkpoint falls back to the previous one") {
  Setup setup("corrupt");
  const Stream stream = GenerateStream(3000, 2, absl::Hours(24 * 8));
  std::vector<Record> records = RecordsOf(stream);
  const size_t half = stream.inputs.size() / 2;
  const std::vector<int64_t> half_ends = setup.Write(records, 0, half);

  WorkerOptions options;
  {
    CapturingLog log;
    options = setup.Options(&log);
    options.checkpoint_every_records = 300;  // several checkpoints per partition
    setup.RunToCheckpoints(options, half_ends);
  }
  const int corrupted = CorruptNewestCheckpoints(*setup.store);
  REQUIRE(corrupted >= kPartitions / 2);

  const std::vector<int64_t> ends = setup.Write(records, half);
  CapturingLog log;
  options.log = &log;
  const WorkerStats second = setup.RunToCheckpoints(options, ends);
  INFO(log.All());
  CHECK(second.checkpoint_warnings == corrupted);
  CHECK(log.Count("skipping a checkpoint") == corrupted);
  CHECK(second.restored_from_checkpoint == kPartitions);

  const PlainRun plain = RunPlainEngine(setup.journeys, setup.engine_options, WithTick(stream));
  CheckSameReports(ReportsFromCheckpoints(*setup.store, ends, setup.engine_options),
                   plain.reports);
  // Records replayed after the fallback sent their messages again: repeats,
  // but no new id and none missing.
  const std::vector<std::string> ids = OutputIds(setup);
  CHECK(std::set<std::string>(ids.begin(), ids.end()) ==
        std::set<std::string>(plain.ids.begin(), plain.ids.end()));
}

TEST_CASE("Worker: malformed records are counted with partition and offset") {
  Setup setup("malformed");
  const Stream stream = GenerateStream(500, 1, absl::Hours(24 * 8));
  std::vector<Record> records = RecordsOf(stream);
  // Bad records among the good ones, each with what must be said about it.
  struct Bad {
    Record record;
    std::string error;
  };
  const std::vector<Bad> bad = {
      {{"u-bad-1", "", R"({"subject":"u-bad-1","name":"x","time":"2026-01-05T10:00:00Z"})"},
       "no header \"cairn-format\""},
      {{"u-bad-2", "json", "{not json"}, "column"},
      {{"u-bad-3", "json", R"({"kind":"nap","time":"2026-01-05T10:00:00Z"})"},
       "\"kind\" \"nap\" is not one of"},
      {{"u-bad-4", "json",
        R"({"subject":"someone-else","name":"x","time":"2026-01-05T10:00:00Z"})"},
       "is not its subject"},
      {{"u-bad-5", "xml", "<event/>"}, "expected \"json\" or \"proto\""},
      {{"u-bad-6", "proto", "\xff\xff\xff"}, ""},
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    const size_t at = (i + 1) * records.size() / (bad.size() + 2);
    records.insert(records.begin() + at, bad[i].record);
  }
  // And one the engine rejects: an event id seen before.
  const auto first_event = std::find_if(stream.inputs.begin(), stream.inputs.end(),
                                        [](const EngineInput& in) {
                                          return std::holds_alternative<Event>(in);
                                        });
  REQUIRE(first_event != stream.inputs.end());
  Event dup = std::get<Event>(*first_event);
  dup.id = "dup-1";
  // After the first clock tick, which the first kPartitions records carry.
  records.insert(records.begin() + kPartitions, JsonRecord(dup));
  records.insert(records.begin() + kPartitions + 1, JsonRecord(dup));
  std::vector<size_t> bad_index;  // in the order of `bad`
  for (size_t i = 0; i < records.size(); ++i) {
    if (absl::StartsWith(records[i].key, "u-bad-")) bad_index.push_back(i);
  }
  const std::vector<int64_t> ends = setup.Write(records);

  CapturingLog log;
  const WorkerStats stats = setup.RunToCheckpoints(setup.Options(&log), ends);
  INFO(log.All());

  REQUIRE(stats.records_bad == static_cast<int64_t>(bad.size()));
  REQUIRE(stats.bad_records.size() == bad.size());
  std::map<std::pair<int32_t, int64_t>, std::string> got;
  for (const BadRecord& b : stats.bad_records) got[{b.partition, b.offset}] = b.error;
  for (size_t i = 0; i < bad.size(); ++i) {
    const Record& r = records[bad_index[i]];
    INFO("bad record " << i << " at " << r.landed_partition << ":" << r.landed_offset);
    REQUIRE(got.count({r.landed_partition, r.landed_offset}) == 1);
    const std::string& error = got[{r.landed_partition, r.landed_offset}];
    CHECK_THAT(error, Catch::Contains(bad[i].error));
    CHECK(log.Count(absl::StrCat("bad record ", r.landed_partition, ":", r.landed_offset,
                                 ": ")) == 1);
  }
  CHECK(stats.records_rejected >= 1);  // the repeated event id

  // Processing went on: the good records give the plain engine's result.
  std::vector<EngineInput> inputs = WithTick(stream);
  inputs.insert(inputs.begin() + 1, dup);
  inputs.insert(inputs.begin() + 2, dup);
  const PlainRun plain = RunPlainEngine(setup.journeys, setup.engine_options, inputs);
  CHECK(stats.records_rejected == plain.rejected);
  CheckSameReports(ReportsFromCheckpoints(*setup.store, ends, setup.engine_options),
                   plain.reports);
  CHECK(OutputIds(setup) == plain.ids);
}

// One worker runs a short stream to its end and checkpoints every
// partition there, for the tests of what a later worker makes of those
// checkpoints.
void CheckpointAShortStream(Setup& setup) {
  std::vector<Record> records = RecordsOf(GenerateStream(300, 1, absl::Hours(1)));
  const std::vector<int64_t> ends = setup.Write(records);
  CapturingLog log;
  setup.RunToCheckpoints(setup.Options(&log), ends);
}

// Polls `worker` until Poll fails (up to 60 s); that error.
absl::Status PollUntilError(Worker& worker) {
  absl::Status status;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (status.ok() && std::chrono::steady_clock::now() < deadline) {
    status = worker.Poll(absl::Milliseconds(50));
  }
  return status;
}

// True when `line` holds a byte that can break a log line or drive a
// terminal: a C0 control, DEL, or a byte that is not valid UTF-8.
bool HasUnsafeByte(const std::string& line) {
  return !internal::IsValidUtf8(line) ||
         std::any_of(line.begin(), line.end(), [](char c) {
           const auto u = static_cast<unsigned char>(c);
           return u < 0x20 || u == 0x7f;
         });
}

TEST_CASE("Worker: a bad record cannot forge log lines or drive the terminal") {
  Setup setup("forge");
  const Stream stream = GenerateStream(200, 1, absl::Hours(2));
  std::vector<Record> records = RecordsOf(stream);
  // Keys and payloads that try to end the line and print one of their own,
  // clear the screen, and carry bytes that are not UTF-8.
  const std::string forged =
      "\ncairn worker: partition 0: restored the checkpoint at offset 1 (FORGED)";
  const std::vector<Record> bad = {
      // The key is not the subject: both are quoted in the error.
      {absl::StrCat("u-forge", forged, "\x1b[2J\xff"), "json",
       absl::StrCat(R"j({"subject":"u\u001b[2J\n(FORGED)","name":"x",)j",
                    R"j("time":"2026-01-05T10:00:00Z"})j")},
      // An unknown kind and an unknown field, from the payload.
      {"u-forge-2", "json",
       R"j({"kind":"nap\n(FORGED)\u001b[2J","time":"2026-01-05T10:00:00Z"})j"},
      {"u-forge-3", "json",
       "{\"subject\":\"u-forge-3\",\"name\":\"x\",\"time\":\"2026-01-05T10:00:00Z\","
       "\"bad\xff\\n(FORGED)\":1}"},
      // A time that is not one, and an unknown format header.
      {"u-forge-4", "json",
       R"j({"subject":"u-forge-4","name":"x","time":"soon\n(FORGED)\u009b2J"})j"},
      {"u-forge-5", "js\non\x1b[2J", "{}"},
      // A Chinese subject id must stay readable.
      {"张伟", "json", R"j({"subject":"李娜","name":"x","time":"2026-01-05T10:00:00Z"})j"},
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    records.insert(records.begin() + static_cast<ptrdiff_t>((i + 1) * records.size() /
                                                            (bad.size() + 2)),
                   bad[i]);
  }
  const std::vector<int64_t> ends = setup.Write(records);

  CapturingLog log;
  const WorkerStats stats = setup.RunToCheckpoints(setup.Options(&log), ends);
  const std::vector<std::string> lines = log.Lines();
  INFO(log.All());
  REQUIRE(stats.records_bad == static_cast<int64_t>(bad.size()));
  // One line per bad record, and nothing else came from them.
  int bad_lines = 0;
  for (const std::string& line : lines) {
    CHECK_FALSE(HasUnsafeByte(line));
    CHECK_FALSE(absl::StartsWith(line, "cairn worker:"));
    CHECK_FALSE(absl::StartsWith(line, "(FORGED)"));
    if (absl::StrContains(line, "(FORGED)")) {
      CHECK(absl::StartsWith(line, "WARNING: bad record "));
      ++bad_lines;
    }
  }
  CHECK(bad_lines == 4);
  for (const BadRecord& b : stats.bad_records) CHECK_FALSE(HasUnsafeByte(b.error));
  CHECK(log.Count("bad record ") == static_cast<int>(bad.size()));
  CHECK(log.Count("the record's key \"张伟\" is not its subject \"李娜\"") == 1);
  // What the record held is still there to read, escaped.
  CHECK(log.Count(R"j(\u{001B}[2J)j") >= 3);
  CHECK(log.Count(R"j(\xFF)j") == 2);
}

TEST_CASE("Worker: a checkpoint that does not restore stops the worker") {
  Setup setup("no_restore");
  CheckpointAShortStream(setup);

  // The same group with other engine options: no partition may be restored
  // into an engine that would run it differently, and none is started over.
  CapturingLog log;
  WorkerOptions options = setup.Options(&log);
  options.engine.max_lateness = absl::Hours(2);
  absl::StatusOr<std::unique_ptr<Worker>> worker = Worker::Create(options);
  REQUIRE_THAT(StatusOf(worker), IsOk());
  const absl::Status status = PollUntilError(**worker);
  INFO(log.All());
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(status.message()),
             Catch::Matches("partition \\d+: the checkpoint at offset \\d+ does not restore: .*"));
  CHECK((*worker)->stats().started_from_beginning == 0);
  // Polling again gives the same error; nothing was checkpointed.
  CHECK((*worker)->Poll(absl::Milliseconds(1)).code() == absl::StatusCode::kFailedPrecondition);
  CHECK((*worker)->stats().checkpoints_saved == 0);
}

TEST_CASE("Worker: checkpoints that exist but cannot be read stop the worker") {
  Setup setup("unreadable");
  CheckpointAShortStream(setup);
  const size_t sent = OutputIds(setup).size();
  REQUIRE(sent > 0);

  // Every checkpoint of every partition becomes a directory: it is listed
  // but cannot be read, as after an I/O error (chmod 000 would not stop a
  // test running as root).
  std::vector<std::string> locations;
  for (int32_t p = 0; p < kPartitions; ++p) {
    absl::StatusOr<std::vector<CheckpointInfo>> list = setup.store->List(p);
    REQUIRE_THAT(StatusOf(list), IsOk());
    REQUIRE_FALSE(list->empty());
    for (const CheckpointInfo& info : *list) {
      REQUIRE(std::filesystem::remove(info.location));
      REQUIRE(std::filesystem::create_directory(info.location));
      locations.push_back(info.location);
    }
  }

  // A partition is never started over from its beginning then: that would
  // send every message again.
  CapturingLog log;
  absl::StatusOr<std::unique_ptr<Worker>> worker = Worker::Create(setup.Options(&log));
  REQUIRE_THAT(StatusOf(worker), IsOk());
  const absl::Status status = PollUntilError(**worker);
  INFO(log.All());
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK_THAT(std::string(status.message()),
             Catch::Matches("partition \\d+: cannot load a checkpoint: partition \\d+ has "
                            "\\d+ checkpoints? in .* but none is usable \\(.*: read: Is a "
                            "directory.*\\); not starting the partition from its beginning, "
                            "which would send every message again: .*"));
  const bool names_a_file =
      std::any_of(locations.begin(), locations.end(), [&](const std::string& l) {
        return absl::StrContains(status.message(), l);
      });
  CHECK(names_a_file);
  CHECK((*worker)->Poll(absl::Milliseconds(1)).code() == absl::StatusCode::kUnavailable);
  const WorkerStats stats = (*worker)->stats();
  CHECK(stats.started_from_beginning == 0);
  CHECK(stats.messages_produced == 0);
  CHECK(stats.checkpoints_saved == 0);
  worker->reset();
  CHECK(OutputIds(setup).size() == sent);
}

// A broadcast input as one record per partition, in the proto format.
std::vector<Record> Broadcast(const EngineInput& input) {
  absl::StatusOr<std::string> payload = EncodeProtoRecord(input);
  REQUIRE_THAT(StatusOf(payload), IsOk());
  std::vector<Record> out;
  for (int32_t p = 0; p < kPartitions; ++p) out.push_back({"", "proto", *payload, p});
  return out;
}

// The records of `stream` (JSON, then the final tick) with the `extra`
// inputs placed before the stream input at their index (broadcast ones as a
// proto record per partition, the others as a keyed JSON record), and the
// same inputs in the same order for one plain engine.
struct Interleaved {
  std::vector<Record> records;
  std::vector<EngineInput> inputs;
};
Interleaved Interleave(const Stream& stream,
                       const std::vector<std::pair<size_t, EngineInput>>& extra) {
  Interleaved out;
  const auto add = [&](const EngineInput& input, bool proto) {
    for (Record& r : proto ? Broadcast(input) : JsonRecords(input, kPartitions)) {
      out.records.push_back(std::move(r));
    }
    out.inputs.push_back(input);
  };
  for (size_t i = 0; i < stream.inputs.size(); ++i) {
    for (const auto& [at, input] : extra) {
      if (at == i) add(input, IsBroadcast(input));
    }
    add(stream.inputs[i], false);
  }
  add(ClockTick{stream.end}, false);
  return out;
}

// The cart example, which the tests below change.
v1::Journey CartJourney(const std::vector<v1::Journey>& journeys) {
  for (const v1::Journey& j : journeys) {
    if (j.id() == "cart_abandonment") return j;
  }
  FAIL("the examples have no cart_abandonment journey");
  return v1::Journey();
}

TEST_CASE("Worker: journeys change through deploy and state records across a restart") {
  Setup setup("deploy");
  const Stream stream = GenerateStream(3000, 2, absl::Hours(24 * 8));
  // 30% in, the repurchase journey is paused. 60% in, version 2 of the
  // cart journey is deployed, moving every enrollment in flight to the same
  // node (triggers hold none).
  v1::Journey v2 = CartJourney(setup.journeys);
  REQUIRE(v2.id() == "cart_abandonment");
  v2.set_version(2);
  for (const v1::Node& node : v2.nodes()) {
    if (!node.has_trigger()) (*v2.mutable_migration()->mutable_node_map())[node.id()] = node.id();
  }
  const size_t deploy_at = stream.inputs.size() * 6 / 10;
  const size_t pause_at = stream.inputs.size() * 3 / 10;
  const EngineInput deploy = JourneyDeploy{v2, InputTime(stream.inputs[deploy_at])};
  const EngineInput pause =
      JourneyStateChange{"repurchase_coupon", v1::PAUSED, InputTime(stream.inputs[pause_at])};

  Interleaved interleaved = Interleave(stream, {{pause_at, pause}, {deploy_at, deploy}});
  std::vector<Record>& records = interleaved.records;
  const std::vector<EngineInput>& inputs = interleaved.inputs;

  // The first worker reads 80% (the changes among it) and stops; the
  // second, configured with the original journeys only, restores the
  // partitions with version 2 from their checkpoints and reads the rest.
  const size_t half = records.size() * 8 / 10;
  const std::vector<int64_t> half_ends = setup.Write(records, 0, half);
  CapturingLog log_a;
  const WorkerStats a = setup.RunToCheckpoints(setup.Options(&log_a), half_ends);
  INFO(log_a.All());
  CHECK(a.journeys_deployed == kPartitions);
  CHECK(log_a.Count("deploy of journey \"cart_abandonment\" version 2 at offset") ==
        kPartitions);
  CHECK(a.journey_states_changed == kPartitions);

  const std::vector<int64_t> ends = setup.Write(records, half);
  CapturingLog log_b;
  const WorkerStats b = setup.RunToCheckpoints(setup.Options(&log_b), ends);
  INFO(log_b.All());
  CHECK(b.restored_from_checkpoint == kPartitions);
  // The examples' journeys and cart_abandonment's version 2.
  CHECK(log_b.Count(absl::StrCat(setup.journeys.size() + 1, " journeys)")) == kPartitions);

  const PlainRun plain = RunPlainEngine(setup.journeys, setup.engine_options, inputs);
  const std::map<std::string, v1::JourneyReport> reports =
      ReportsFromCheckpoints(*setup.store, ends, setup.engine_options);
  CheckSameReports(reports, plain.reports);
  CHECK(OutputIds(setup) == plain.ids);
  // Version 2 took enrollments over, and the paused journey refused some.
  const v1::JourneyReport& cart = reports.at("cart_abandonment");
  REQUIRE(cart.versions_size() == 2);
  CHECK(cart.versions(1).migrated_in() > 0);
  CHECK(reports.at("repurchase_coupon").state() == "PAUSED");
}

// Regression (issue #15, divergent deploys): a migration deploy written to
// every partition was taken by partitions with nobody at the unmapped node
// and refused by the others, while nothing but a warning said so. Now every
// partition gives the same answer, and reports it: stats, log, health line
// and a deploy-result record each.
TEST_CASE("Worker: each partition reports what it did with deploy and state records") {
  Setup setup("results");
  constexpr char kResults[] = "shop-deploy-results";
  setup.cluster.CreateTopic(kResults, kPartitions);
  const absl::Time t0 = absl::FromUnixSeconds(1767571200);  // 2026-01-05
  const absl::Time later = t0 + absl::Hours(25);

  // Three shoppers view and cart at t0 and do not pay: a day later they
  // wait in the cart journey's goal, in at most three of the partitions.
  std::vector<Record> records;
  for (Record& r : JsonRecords(ClockTick{t0}, kPartitions)) records.push_back(std::move(r));
  for (const char* subject : {"ann", "bob", "cy"}) {
    for (const char* name : {"product_view", "add_to_cart"}) {
      Event e;
      e.subject_id = subject;
      e.name = name;
      e.time = t0;
      records.push_back(JsonRecord(e));
    }
  }
  for (Record& r : JsonRecords(ClockTick{later}, kPartitions)) records.push_back(std::move(r));
  // Version 2 maps the split only, not the goal where enrollments wait:
  // refused everywhere, whether a partition's goal holds anyone or not.
  v1::Journey partial = CartJourney(setup.journeys);
  REQUIRE(partial.id() == "cart_abandonment");
  partial.set_version(2);
  (*partial.mutable_migration()->mutable_node_map())["holdout_split"] = "holdout_split";
  v1::Journey complete = partial;
  (*complete.mutable_migration()->mutable_node_map())["paid_within_12h"] = "paid_within_12h";
  for (const EngineInput& change :
       {EngineInput(JourneyDeploy{partial, later}), EngineInput(JourneyDeploy{complete, later}),
        EngineInput(JourneyStateChange{"no_such_journey", v1::PAUSED, later})}) {
    for (Record& r : Broadcast(change)) records.push_back(std::move(r));
  }
  const std::vector<int64_t> ends = setup.Write(records);

  CapturingLog log;
  WorkerOptions options = setup.Options(&log);
  options.deploy_result_topic = kResults;
  WorkerThread worker(options);
  setup.AwaitCheckpoints(ends);
  // A health line of a partition after all three records.
  REQUIRE(log.WaitFor("changes_refused=2 last_refused=", std::chrono::seconds(60)));
  REQUIRE_THAT(worker.Stop(), IsOk());
  INFO(log.All());
  const WorkerStats stats = worker.stats();

  // Somebody waits in the goal of some partitions and not of others...
  const std::map<std::string, v1::JourneyReport> reports =
      ReportsFromCheckpoints(*setup.store, ends, setup.engine_options);
  REQUIRE(reports.at("cart_abandonment").versions_size() == 2);
  CHECK(reports.at("cart_abandonment").versions(1).migrated_in() == 3);
  // ...yet each partition refused the partial map, with the same message,
  // and applied the complete one.
  const std::string refusal =
      "journey cart_abandonment: version 2 cannot take the enrollments older versions may "
      "hold: version 1, node \"paid_within_12h\" (goal), field migration.node_map: not "
      "mapped (every node where an enrollment can wait must map to a node of the same kind, "
      "whether or not one waits there now)";
  REQUIRE(stats.journey_changes.size() == 3 * kPartitions);
  CHECK(stats.journey_changes_refused == 2 * kPartitions);
  CHECK(stats.journeys_deployed == kPartitions);
  std::map<int32_t, int> per_partition;
  for (const JourneyChangeResult& r : stats.journey_changes) {
    INFO(r.partition << ":" << r.offset << " " << r.change << " " << r.journey_id);
    ++per_partition[r.partition];
    if (r.change == "state") {
      CHECK_FALSE(r.applied);
      CHECK(r.error == "journey no_such_journey is not deployed");
      CHECK(r.versions.empty());
    } else if (r.applied) {
      CHECK(r.versions == std::vector<int64_t>{1, 2});
    } else {
      CHECK(r.error == refusal);
      CHECK(r.versions == std::vector<int64_t>{1});
    }
  }
  CHECK(per_partition.size() == kPartitions);
  CHECK(log.Count(absl::StrCat("refused: ", refusal, "; its versions here: 1")) == kPartitions);
  CHECK(log.Count("version 2 at offset") == 2 * kPartitions);

  // The deploy-result topic holds one record per partition per change.
  const std::vector<ReadRecord> results = ReadTopic(setup.cluster.bootstraps(), kResults,
                                                    kPartitions);
  CHECK(stats.deploy_results_produced == 3 * kPartitions);
  REQUIRE(results.size() == 3 * kPartitions);
  std::map<std::string, int> by_result;
  for (const ReadRecord& r : results) {
    CHECK(r.format == "json");
    if (absl::StrContains(r.payload, "\"change\":\"deploy\"")) {
      CHECK(r.key == "cart_abandonment");
      ++by_result[absl::StrContains(r.payload, "\"result\":\"applied\",\"versions\":[1,2]}")
                      ? "applied"
                      : "refused"];
    } else {
      CHECK(r.key == "no_such_journey");
      CHECK_THAT(r.payload, Catch::EndsWith(
                                "\"state\":\"PAUSED\",\"result\":\"refused\",\"error\":"
                                "\"journey no_such_journey is not deployed\",\"versions\":[]}"));
    }
  }
  CHECK(by_result["applied"] == kPartitions);
  CHECK(by_result["refused"] == kPartitions);

  // Each partition's health line names the versions it runs and its refusals.
  int health = 0;
  for (const std::string& line : log.Lines()) {
    if (!absl::StrContains(line, "changes_refused=2 last_refused=")) continue;
    ++health;
    CHECK_THAT(line, Catch::Contains(",cart_abandonment@2,"));
    CHECK_THAT(line, Catch::EndsWith(" (state PAUSED of journey \"no_such_journey\")"));
  }
  CHECK(health > 0);
}

// Checkpoints written before migrations were judged on the graphs may hold
// a version whose map covered only the nodes occupied then. They are the
// partition's history: the worker restores them (Engine::DeployForRestore)
// instead of stopping because Deploy would now refuse that version.
TEST_CASE("Worker: a checkpoint with a version the graph rule refuses still restores") {
  Setup setup("old_rule");
  v1::Journey partial = CartJourney(setup.journeys);
  REQUIRE(partial.id() == "cart_abandonment");
  partial.set_version(2);
  (*partial.mutable_migration()->mutable_node_map())["holdout_split"] = "holdout_split";
  std::vector<v1::Journey> history = setup.journeys;
  history.push_back(partial);
  for (int32_t p = 0; p < kPartitions; ++p) {
    IdSink sink;
    Engine engine(setup.engine_options);
    for (const char* channel : {"push", "sms", "email", "webhook", "in_game_mail"}) {
      REQUIRE_THAT(engine.RegisterChannel(channel, &sink), IsOk());
    }
    REQUIRE_THAT(engine.DeclareBehaviors(ExampleBehaviors()), IsOk());
    for (const v1::Journey& j : history) REQUIRE_THAT(engine.DeployForRestore(j), IsOk());
    std::ostringstream snapshot;
    REQUIRE_THAT(engine.Snapshot(snapshot), IsOk());
    REQUIRE_THAT(setup.store->Save(p, 0, EncodePartitionSnapshot({history, snapshot.str()})),
                 IsOk());
  }
  std::vector<Record> records = JsonRecords(ClockTick{absl::FromUnixSeconds(1767571200)},
                                            kPartitions);
  const std::vector<int64_t> ends = setup.Write(records);
  CapturingLog log;
  const WorkerStats stats = setup.RunToCheckpoints(setup.Options(&log), ends);
  INFO(log.All());
  CHECK(stats.restored_from_checkpoint == kPartitions);
  int restored_v2 = 0;
  for (const std::string& line : log.Lines()) {
    restored_v2 += absl::StrContains(line, absl::StrCat(setup.journeys.size() + 1,
                                                        " journeys); runs ")) &&
                   absl::StrContains(line, ",cart_abandonment@2,");
  }
  CHECK(restored_v2 == kPartitions);
}

// Every behaviour's value for each subject, as "subject behaviour = value"
// lines, read from `engine` (the subjects' own partition's, or one engine
// holding everyone).
std::vector<std::string> BehaviorValues(Engine& engine, const v1::BehaviorSet& behaviors,
                                        const std::vector<std::string>& subjects) {
  std::vector<std::string> out;
  for (const std::string& subject : subjects) {
    for (const v1::Behavior& b : behaviors.behaviors()) {
      absl::StatusOr<Value> v = engine.BehaviorValue("", subject, b.name());
      REQUIRE_THAT(StatusOf(v), IsOk());
      out.push_back(absl::StrCat(subject, " ", b.name(), " = ", v->DebugString()));
    }
  }
  return out;
}

// A worker declares the example behaviours and reads half of a loyalty
// stream (check-ins, shares, paid orders, members in four zones), with
// checkpoints along the way; a second worker, configured with other
// behaviours, restores every partition from its checkpoint (behaviour state
// and declarations included) and reads the rest. Each subject's behaviour
// values in the final checkpoints, the behaviours' subjects, the journeys'
// reports and the messages sent must equal one uninterrupted engine's.
TEST_CASE("Worker: behaviour state survives a checkpoint into a new worker") {
  Setup setup("behaviors");
  // A short tail: streaks and 7-day windows still hold values at the end.
  const Stream stream = GenerateLoyaltyStream(1500, 10, absl::Hours(1));
  std::vector<Record> records = RecordsOf(stream);
  const size_t half = records.size() / 2;
  const std::vector<int64_t> half_ends = setup.Write(records, 0, half);

  WorkerOptions options;
  {
    CapturingLog log;
    options = setup.Options(&log);
    options.checkpoint_every_records = 400;  // several checkpoints per partition
    const WorkerStats a = setup.RunToCheckpoints(options, half_ends);
    INFO(log.All());
    CHECK(a.started_from_beginning == kPartitions);
    CHECK(a.records_bad == 0);
  }
  const std::vector<int64_t> ends = setup.Write(records, half);
  // The declarations a restored partition has are its checkpoint's: a
  // second worker configured otherwise still counts as the first did.
  options.behaviors.mutable_behaviors(0)->mutable_event()->set_event("nothing_at_all");
  CapturingLog log;
  options.log = &log;
  const WorkerStats b = setup.RunToCheckpoints(options, ends);
  INFO(log.All());
  CHECK(b.restored_from_checkpoint == kPartitions);
  CHECK(b.started_from_beginning == 0);

  // One engine over the same inputs, uninterrupted.
  const PlainRun run = RunPlainEngine(setup.journeys, setup.engine_options, WithTick(stream));
  Engine& plain = *run.engine;
  REQUIRE(!run.ids.empty());
  // The behaviour journeys entered members: the stream exercises them.
  for (const char* id : {"checkin_streak", "share_referral", "repeat_buyer"}) {
    INFO(id);
    CHECK(run.reports.at(id).versions(0).entered() > 0);
  }

  CheckSameReports(ReportsFromCheckpoints(*setup.store, ends, setup.engine_options),
                   run.reports);
  CHECK(OutputIds(setup) == run.ids);  // exactly once across the hand-over

  // Each subject's partition, from where its records landed.
  std::map<int32_t, std::vector<std::string>> subjects_of;
  std::set<std::string> seen;
  for (const Record& r : records) {
    if (r.partition == RD_KAFKA_PARTITION_UA && seen.insert(r.key).second) {
      subjects_of[r.landed_partition].push_back(r.key);
    }
  }
  CHECK(seen.size() > 1400);  // a few members neither check in, share nor pay
  const v1::BehaviorSet declared = ExampleBehaviors();
  const v1::BehaviorsReport plain_behaviors = plain.BehaviorsReport();
  std::map<std::string, int64_t> subjects_held;  // per behaviour, over partitions
  int nonzero = 0;
  for (const auto& [p, subjects] : subjects_of) {
    INFO("partition " << p);
    IdSink unused;
    const std::unique_ptr<Engine> engine =
        RestoreNewestCheckpoint(*setup.store, p, ends[p], setup.engine_options, &unused);
    Engine& restored = *engine;
    const std::vector<std::string> got = BehaviorValues(restored, declared, subjects);
    const std::vector<std::string> want = BehaviorValues(plain, declared, subjects);
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i] == want[i]);
      nonzero += absl::EndsWith(want[i], " = 0") || absl::EndsWith(want[i], "null") ? 0 : 1;
    }
    const v1::BehaviorsReport held = restored.BehaviorsReport();
    for (const v1::BehaviorReport& br : held.behaviors()) {
      subjects_held[br.name()] += br.subjects();
    }
  }
  CHECK(nonzero > 1000);
  REQUIRE(plain_behaviors.behaviors_size() == declared.behaviors_size());
  for (const v1::BehaviorReport& br : plain_behaviors.behaviors()) {
    INFO(br.name());
    // checkin_streak's game counts "purchase"; members pay with order_paid;
    // back_to_school's subscriptions are not in the loyalty stream.
    const bool in_stream = br.event() != "purchase" && br.event() != "subscription_stopped" &&
                           br.event() != "subscription_started";
    CHECK(br.subjects() > (in_stream ? 0 : -1));
    CHECK(subjects_held[br.name()] == br.subjects());
  }
}

// Behaviours change through the log as journeys do: a declaration record
// (one per partition) adds a behaviour 30% in, a host seeds some members'
// history with seed records 40% in, a declaration that would remove what a
// journey reads is refused by every partition, and a second worker restores
// the partitions mid-stream. Reports, messages and the seeded members'
// values must equal one engine's over the same inputs.
TEST_CASE("Worker: behaviour declarations and seeds travel through the log") {
  Setup setup("declare");
  const Stream stream = GenerateLoyaltyStream(600, 8, absl::Hours(1));
  v1::BehaviorSet more = ExampleBehaviors();
  v1::Behavior* ever = more.add_behaviors();
  ever->set_name("shares_ever");
  ever->mutable_event()->set_event("share");
  ever->set_function(v1::Behavior::COUNT);
  v1::BehaviorSet fewer = more;
  // Without one a journey reads (and no segment does).
  for (int i = 0; i < fewer.behaviors_size(); ++i) {
    if (fewer.behaviors(i).name() == "checkin_streak") {
      fewer.mutable_behaviors()->DeleteSubrange(i, 1);
      break;
    }
  }
  REQUIRE(fewer.behaviors_size() + 1 == more.behaviors_size());

  const size_t declare_at = stream.inputs.size() * 3 / 10;
  const size_t seed_at = stream.inputs.size() * 4 / 10;
  const size_t refuse_at = stream.inputs.size() * 5 / 10;
  const auto time_of = [&](size_t i) { return InputTime(stream.inputs[i]); };
  std::vector<std::pair<size_t, EngineInput>> extra = {
      {declare_at, BehaviorDeclaration{more, time_of(declare_at)}},
      {refuse_at, BehaviorDeclaration{fewer, time_of(refuse_at)}}};
  std::vector<std::string> seeded;
  for (int m = 0; m < 600; m += 30) {
    seeded.push_back(absl::StrCat("m", m));
    extra.emplace_back(seed_at, BehaviorSeed{seeded.back(), "", "shares_ever",
                                             Value::Int(100 + m), {}, time_of(seed_at)});
  }
  Interleaved interleaved = Interleave(stream, extra);
  std::vector<Record>& records = interleaved.records;
  const std::vector<EngineInput>& inputs = interleaved.inputs;

  const size_t cut = records.size() * 6 / 10;
  const std::vector<int64_t> cut_ends = setup.Write(records, 0, cut);
  CapturingLog log_a;
  const WorkerStats a = setup.RunToCheckpoints(setup.Options(&log_a), cut_ends);
  INFO(log_a.All());
  CHECK(a.behaviors_declared == kPartitions);
  CHECK(a.journey_changes_refused == kPartitions);
  CHECK(log_a.Count("declaration of " + std::to_string(more.behaviors_size()) +
                    " behaviours at offset") == kPartitions);
  CHECK(a.records_bad == 0);
  int refused = 0;
  for (const JourneyChangeResult& r : a.journey_changes) {
    CHECK(r.change == "behaviors");
    if (!r.applied) {
      ++refused;
      CHECK_THAT(r.error, Catch::Contains("reads behaviours the new set removes or changes"));
      CHECK(r.behaviors.size() == static_cast<size_t>(fewer.behaviors_size()));
    }
  }
  CHECK(refused == kPartitions);

  const std::vector<int64_t> ends = setup.Write(records, cut);
  CapturingLog log_b;
  const WorkerStats b = setup.RunToCheckpoints(setup.Options(&log_b), ends);
  INFO(log_b.All());
  CHECK(b.restored_from_checkpoint == kPartitions);

  const PlainRun run = RunPlainEngine(setup.journeys, setup.engine_options, inputs);
  Engine& plain = *run.engine;
  CHECK(run.rejected >= 1);  // the refused declaration
  CheckSameReports(ReportsFromCheckpoints(*setup.store, ends, setup.engine_options),
                   run.reports);
  CHECK(OutputIds(setup) == run.ids);

  // The seeded members' values, from their partitions' final checkpoints.
  std::map<int32_t, std::vector<std::string>> seeded_in;
  for (const Record& r : records) {
    if (r.partition == RD_KAFKA_PARTITION_UA &&
        std::find(seeded.begin(), seeded.end(), r.key) != seeded.end()) {
      auto& list = seeded_in[r.landed_partition];
      if (std::find(list.begin(), list.end(), r.key) == list.end()) list.push_back(r.key);
    }
  }
  size_t checked = 0;
  for (const auto& [p, subjects] : seeded_in) {
    INFO("partition " << p);
    IdSink unused;
    const std::unique_ptr<Engine> engine =
        RestoreNewestCheckpoint(*setup.store, p, ends[p], setup.engine_options, &unused);
    Engine& restored = *engine;
    CHECK(BehaviorValues(restored, more, subjects) == BehaviorValues(plain, more, subjects));
    for (const std::string& subject : subjects) {
      CHECK(restored.BehaviorValue("", subject, "shares_ever")->int_value() >= 100);
    }
    checked += subjects.size();
  }
  CHECK(checked == seeded.size());
}

TEST_CASE("Worker: erasures travel through the log and no checkpoint after keeps a byte of them") {
  Setup setup("forget");
  const Stream stream = GenerateLoyaltyStream(600, 8, absl::Hours(1));
  const size_t forget_at = stream.inputs.size() / 2;
  // Members m0, m40, ... are forgotten half-way, and say nothing after.
  std::vector<std::string> forgotten;
  for (int m = 0; m < 600; m += 40) forgotten.push_back(absl::StrCat("m", m));
  const auto is_forgotten = [&](absl::string_view s) {
    return std::find(forgotten.begin(), forgotten.end(), s) != forgotten.end();
  };
  Stream kept;
  kept.end = stream.end;
  for (size_t i = 0; i < stream.inputs.size(); ++i) {
    if (i >= forget_at && is_forgotten(InputSubject(stream.inputs[i]))) continue;
    kept.inputs.push_back(stream.inputs[i]);
  }
  const absl::Time at = InputTime(kept.inputs[forget_at]);
  // Those of them seen before: an erasure of one never seen is refused.
  std::set<std::string> seen;
  for (size_t i = 0; i < forget_at; ++i) {
    if (is_forgotten(InputSubject(kept.inputs[i]))) seen.emplace(InputSubject(kept.inputs[i]));
  }
  REQUIRE(seen.size() >= 10);
  std::vector<std::pair<size_t, EngineInput>> extra;
  for (const std::string& s : forgotten) extra.emplace_back(forget_at, SubjectErasure{s, "", at});
  extra.emplace_back(forget_at, SubjectErasure{"never-seen", "", at});  // refused, counted
  Interleaved interleaved = Interleave(kept, extra);
  std::vector<Record>& records = interleaved.records;

  std::string logs;
  const std::vector<int64_t> ends = setup.RunAcrossRestart(records, &logs);
  INFO(logs);

  // As one engine fed the same inputs.
  const PlainRun run = RunPlainEngine(setup.journeys, setup.engine_options, interleaved.inputs);
  CHECK(run.engine->stats().erasures_applied == static_cast<int64_t>(seen.size()));
  CHECK(run.engine->stats().erasures_rejected ==
        static_cast<int64_t>(forgotten.size() - seen.size() + 1));
  CheckSameReports(ReportsFromCheckpoints(*setup.store, ends, setup.engine_options),
                   run.reports);
  CHECK(OutputIds(setup) == run.ids);
  // Each partition's newest checkpoint holds none of their ids.
  int64_t erased = 0;
  for (int32_t p = 0; p < kPartitions; ++p) {
    IdSink unused;
    const std::unique_ptr<Engine> engine =
        RestoreNewestCheckpoint(*setup.store, p, ends[p], setup.engine_options, &unused);
    erased += engine->stats().erasures_applied;
    std::ostringstream bytes;
    REQUIRE_THAT(engine->Snapshot(bytes), IsOk());
    for (const std::string& s : forgotten) {
      INFO("partition " << p << ", subject " << s);
      // As a whole id, length-prefixed as a subject record holds it
      // (field 2): "m40" is a prefix of "m400".
      const std::string field = absl::StrCat(std::string(1, '\x12'),
                                             std::string(1, static_cast<char>(s.size())), s);
      CHECK_FALSE(absl::StrContains(bytes.str(), field));
      CHECK_FALSE(engine->Inspect("", s)->known());
    }
  }
  CHECK(erased == static_cast<int64_t>(seen.size()));
}

// Gives every record its partition by `subject_partition` of its key (ticks
// keep theirs: one per partition).
void PartitionBy(std::vector<Record>& records,
                 const std::function<int32_t(const std::string&)>& subject_partition) {
  for (Record& r : records) {
    if (r.partition == RD_KAFKA_PARTITION_UA) r.partition = subject_partition(r.key);
  }
}

TEST_CASE("Worker: merges travel through the log and each partition merges as one engine does") {
  Setup setup("merge");
  const Stream stream = GenerateLoyaltyStream(600, 8, absl::Hours(1));
  const size_t browse_end = stream.inputs.size() / 4;
  const size_t merge_at = stream.inputs.size() / 2;
  // Members m0, m30, ... browsed anonymously before logging in: their first
  // three events are repeated, as they happened, under an anonymous id.
  std::map<std::string, std::string> member_of;  // anonymous id -> member
  std::map<std::string, int> copied;
  std::vector<std::pair<size_t, EngineInput>> extra;
  for (size_t i = 0; i < browse_end; ++i) {
    const Event* e = std::get_if<Event>(&stream.inputs[i]);
    if (e == nullptr) continue;
    int number = -1;
    if (!absl::SimpleAtoi(absl::string_view(e->subject_id).substr(1), &number) ||
        number % 30 != 0 || copied[e->subject_id] == 3) {
      continue;
    }
    ++copied[e->subject_id];
    Event anonymous = *e;
    anonymous.subject_id = absl::StrCat("anon-", e->subject_id);
    anonymous.id = absl::StrCat("anon-", e->id);
    member_of[anonymous.subject_id] = e->subject_id;
    extra.emplace_back(i, anonymous);
  }
  REQUIRE(member_of.size() >= 10);
  const absl::Time at = InputTime(stream.inputs[merge_at]);
  for (const auto& [anonymous, member] : member_of) {
    extra.emplace_back(merge_at, SubjectMerge{anonymous, member, "", at});
  }
  extra.emplace_back(merge_at, SubjectMerge{"anon-nobody", "m1", "", at});  // refused, counted
  Interleaved interleaved = Interleave(stream, extra);
  std::vector<Record>& records = interleaved.records;
  // An anonymous id goes where its member goes, as a host routing by the
  // resolved identity would send it.
  PartitionBy(records, [&](const std::string& key) {
    auto it = member_of.find(key);
    const std::string& routed = it == member_of.end() ? key : it->second;
    return static_cast<int32_t>(StableHash64({"partition", routed}) % kPartitions);
  });

  std::string logs;
  const std::vector<int64_t> ends = setup.RunAcrossRestart(records, &logs);
  INFO(logs);

  // As one engine fed the same inputs.
  const PlainRun run = RunPlainEngine(setup.journeys, setup.engine_options, interleaved.inputs);
  CHECK(run.engine->stats().merges_applied == static_cast<int64_t>(member_of.size()));
  CHECK(run.engine->stats().merges_rejected == 1);
  CheckSameReports(ReportsFromCheckpoints(*setup.store, ends, setup.engine_options),
                   run.reports);
  CHECK(OutputIds(setup) == run.ids);
  // The anonymous ids are known no more; their members are, with the
  // anonymous behaviour joined to theirs.
  const v1::BehaviorSet behaviors = ExampleBehaviors();
  int64_t merged = 0;
  for (int32_t p = 0; p < kPartitions; ++p) {
    IdSink unused;
    const std::unique_ptr<Engine> engine =
        RestoreNewestCheckpoint(*setup.store, p, ends[p], setup.engine_options, &unused);
    merged += engine->stats().merges_applied;
    for (const auto& [anonymous, member] : member_of) {
      if (StableHash64({"partition", member}) % kPartitions != static_cast<uint64_t>(p)) continue;
      INFO("partition " << p << ", " << anonymous << " into " << member);
      CHECK_FALSE(engine->Inspect("", anonymous)->known());
      CHECK(engine->Inspect("", member)->known());
      for (const v1::Behavior& behavior : behaviors.behaviors()) {
        absl::StatusOr<Value> ours = engine->BehaviorValue("", member, behavior.name());
        absl::StatusOr<Value> theirs = run.engine->BehaviorValue("", member, behavior.name());
        REQUIRE_THAT(StatusOf(ours), IsOk());
        REQUIRE_THAT(StatusOf(theirs), IsOk());
        CHECK(ours->DebugString() == theirs->DebugString());
      }
    }
  }
  CHECK(merged == static_cast<int64_t>(member_of.size()));
}

TEST_CASE("Worker: the partitions share a journey's entry limit") {
  Setup setup("shared-limit");
  // At most 12 members a day get the check-in thank-you: 8 partitions
  // take 2, 2, 2, 2, 1, 1, 1, 1 of them.
  absl::StatusOr<v1::Journey> thanks = ParseJourney(R"pb(
    id: "check_in_thanks" version: 1
    settings { state: ACTIVE default_time_zone: "UTC" reentry { mode: AFTER_EXIT }
               entry_limits { per_day: 12 } trend_days: 10 }
    nodes { id: "t" trigger { event { matcher { event: "check_in" } } next: "push" } }
    nodes { id: "push" action { channel: "push" template_id: "thanks" } })pb",
                                                   JourneyFormat::kText);
  REQUIRE_THAT(StatusOf(thanks), IsOk());
  setup.journeys = {*thanks};
  const Stream stream = GenerateLoyaltyStream(600, 4, absl::Hours(1));
  std::vector<Record> records = RecordsOf(stream);
  const std::vector<int64_t> ends = setup.Write(records);
  CapturingLog log;
  setup.RunToCheckpoints(setup.Options(&log), ends);
  INFO(log.All());

  // Each partition's engine took its share of every day's 12: together 12
  // a day, as one engine would, never more.
  std::map<std::string, v1::JourneyReport> reports =
      ReportsFromCheckpoints(*setup.store, ends, setup.engine_options);
  const v1::VersionReport& v = reports.at("check_in_thanks").versions(0);
  const PlainRun plain = RunPlainEngine(setup.journeys, setup.engine_options, WithTick(stream));
  const v1::VersionReport& one = plain.reports.at("check_in_thanks").versions(0);
  REQUIRE(one.entered() > 12);
  REQUIRE(one.days_size() >= 4);
  REQUIRE(v.days_size() == one.days_size());
  for (int d = 0; d < v.days_size(); ++d) {
    INFO("day " << v.days(d).date());
    CHECK(v.days(d).entered() <= 12);
    // Every partition has more than its share of members checking in on
    // a whole day, so each takes all of it.
    if (d > 0 && d + 1 < v.days_size()) CHECK(v.days(d).entered() == one.days(d).entered());
  }
  int64_t refused = 0;
  for (const v1::ReasonCount& c : v.entries_refused()) {
    if (c.reason() == "entry_limit_day") refused = c.count();
  }
  CHECK(refused > 0);
}

TEST_CASE("Worker: options are checked") {
  absl::StatusOr<std::unique_ptr<DirectoryCheckpointStore>> store =
      DirectoryCheckpointStore::Open(FreshDir("options"));
  REQUIRE_THAT(StatusOf(store), IsOk());
  WorkerOptions good;
  good.brokers = "localhost:1";
  good.group = "g";
  good.input_topic = "in";
  good.message_topic = "out";
  good.journeys = ExampleJourneys();
  good.behaviors = ExampleBehaviors();
  good.checkpoints = store->get();

  struct Case {
    const char* name;
    std::function<void(WorkerOptions&)> change;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"no brokers", [](WorkerOptions& o) { o.brokers.clear(); }, "brokers is required"},
      {"no group", [](WorkerOptions& o) { o.group.clear(); }, "group is required"},
      {"no input", [](WorkerOptions& o) { o.input_topic.clear(); }, "input_topic is required"},
      {"no output", [](WorkerOptions& o) { o.message_topic.clear(); },
       "message_topic is required"},
      {"loop", [](WorkerOptions& o) { o.message_topic = "in"; },
       "cannot also be an output topic"},
      {"result loop", [](WorkerOptions& o) { o.deploy_result_topic = "in"; },
       "cannot also be an output topic"},
      {"no journeys", [](WorkerOptions& o) { o.journeys.clear(); }, "journeys is empty"},
      {"no store", [](WorkerOptions& o) { o.checkpoints = nullptr; }, "checkpoints is required"},
      {"records", [](WorkerOptions& o) { o.checkpoint_every_records = 0; },
       "checkpoint_every_records is 0"},
      {"interval", [](WorkerOptions& o) { o.checkpoint_interval = absl::ZeroDuration(); },
       "checkpoint_interval is 0"},
      {"flush", [](WorkerOptions& o) { o.flush_timeout = absl::InfiniteDuration(); },
       "flush_timeout is inf"},
      {"engine", [](WorkerOptions& o) { o.engine.max_steps_per_input = 0; },
       "max_steps_per_input"},
      {"reserved", [](WorkerOptions& o) { o.client_config = {{"enable.auto.commit", "true"}}; },
       "\"enable.auto.commit\" is set by the worker"},
      {"unknown property", [](WorkerOptions& o) { o.client_config = {{"no.such", "1"}}; },
       "no.such"},
      {"bad journey", [](WorkerOptions& o) { o.journeys[0].set_id("has space"); },
       "journey \"has space\" version 1"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    WorkerOptions o = good;
    c.change(o);
    absl::StatusOr<std::unique_ptr<Worker>> w = Worker::Create(o);
    REQUIRE(w.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(w.status().message()), Catch::Contains(c.error));
  }
}

}  // namespace
}  // namespace cairn::kafka
