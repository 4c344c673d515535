// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Helpers for tests against librdkafka's in-process mock cluster: topics,
// producing input records (and learning where they landed), reading a
// topic back, a plain Engine run to compare workers against, and the
// reports held in a directory of checkpoints.

#ifndef CAIRN_TESTS_KAFKA_KAFKA_TEST_UTIL_H_
#define CAIRN_TESTS_KAFKA_KAFKA_TEST_UTIL_H_

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cairn/cairn.h"
#include "cairn/kafka/checkpoint.h"
#include "cairn/kafka/output.h"
#include "cairn/kafka/record.h"
#include "cairn/kafka/worker.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/message_differencer.h"
#include "json/event_lines.h"
#include "sim/generator.h"
#include "testing/test_util.h"

namespace cairn::kafka::testing {

using cairn::testing::IsOk;
using cairn::testing::StatusOf;

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

// Sets a property or fails the test.
inline void Set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char error[512];
  INFO(name << "=" << value);
  REQUIRE(rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof(error)) ==
          RD_KAFKA_CONF_OK);
}

inline KafkaHandle NewHandle(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof(error));
  INFO(error);
  REQUIRE(rk != nullptr);  // rd_kafka_new owns conf from here on
  return KafkaHandle(rk);
}

// A mock cluster of `brokers` brokers on loopback listeners.
class MockCluster {
 public:
  explicit MockCluster(int brokers = 3) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    Set(conf, "log_level", "3");
    handle_ = NewHandle(RD_KAFKA_PRODUCER, conf);
    cluster_ = rd_kafka_mock_cluster_new(handle_.get(), brokers);
    REQUIRE(cluster_ != nullptr);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  ~MockCluster() { rd_kafka_mock_cluster_destroy(cluster_); }
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  void CreateTopic(const std::string& name, int partitions) {
    REQUIRE(rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 3) ==
            RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  const std::string& bootstraps() const { return bootstraps_; }

 private:
  KafkaHandle handle_;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstraps_;
};

// One record to produce. An empty format leaves the format header out.
struct Record {
  std::string key;
  std::string format;
  std::string payload;
  int32_t partition = RD_KAFKA_PARTITION_UA;  // chosen by key
  // Where it landed (filled in by Produce).
  int32_t landed_partition = -1;
  int64_t landed_offset = -1;
};

// The input as a record keyed by its subject, in JSON.
inline Record JsonRecord(const EngineInput& input) {
  absl::StatusOr<std::string> payload = EncodeJsonRecord(input);
  REQUIRE_THAT(StatusOf(payload), IsOk());
  return Record{std::string(InputSubject(input)), "json", *payload};
}

// The record or records of one input, in JSON: an input keyed by its
// subject is one record; a clock tick, which has no subject, is one record
// for each of `partitions` partitions, as `cairn clock` writes it.
inline std::vector<Record> JsonRecords(const EngineInput& input, int32_t partitions) {
  Record record = JsonRecord(input);
  if (!std::holds_alternative<ClockTick>(input)) return {record};
  std::vector<Record> out;
  for (int32_t p = 0; p < partitions; ++p) {
    record.partition = p;
    out.push_back(record);
  }
  return out;
}

// Produces the records in order through an idempotent producer and waits
// for every acknowledgement, filling in where each landed.
inline void Produce(const std::string& bootstraps, const std::string& topic,
                    std::vector<Record>& records, size_t begin = 0, size_t end = SIZE_MAX) {
  end = std::min(end, records.size());
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", bootstraps);
  Set(conf, "enable.idempotence", "true");
  Set(conf, "linger.ms", "5");
  Set(conf, "log_level", "3");
  struct Result {
    int failed = 0;
    std::string error;
    std::vector<Record>* records;
  } result{0, "", &records};
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* r = static_cast<Result*>(opaque);
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++r->failed;
      r->error = rd_kafka_err2str(m->err);
      return;
    }
    Record& record = (*r->records)[reinterpret_cast<uintptr_t>(m->_private)];
    record.landed_partition = m->partition;
    record.landed_offset = m->offset;
  });
  rd_kafka_conf_set_opaque(conf, &result);
  KafkaHandle producer = NewHandle(RD_KAFKA_PRODUCER, conf);
  static const std::string kHeader(kFormatHeader);
  for (size_t i = begin; i < end; ++i) {
    Record& r = records[i];
    rd_kafka_resp_err_t err;
    do {
      err = r.format.empty()
                ? rd_kafka_producev(
                      producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                      RD_KAFKA_V_PARTITION(r.partition),
                      RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
                      RD_KAFKA_V_VALUE(r.payload.data(), r.payload.size()),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(i)), RD_KAFKA_V_END)
                : rd_kafka_producev(
                      producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                      RD_KAFKA_V_PARTITION(r.partition),
                      RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
                      RD_KAFKA_V_VALUE(r.payload.data(), r.payload.size()),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                      RD_KAFKA_V_HEADER(kHeader.c_str(), r.format.data(),
                                        static_cast<ssize_t>(r.format.size())),
                      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(i)), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) rd_kafka_poll(producer.get(), 50);
    } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    REQUIRE(err == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  REQUIRE(rd_kafka_flush(producer.get(), 120000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  INFO(result.error);
  REQUIRE(result.failed == 0);
}

// A record read back.
struct ReadRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string payload;
  std::string format;      // the cairn-format header, if any
  std::string message_id;  // the cairn-message-id header, if any
};

// The end offset of each partition of a topic.
inline std::vector<int64_t> EndOffsets(const std::string& bootstraps, const std::string& topic,
                                       int partitions) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", bootstraps);
  Set(conf, "log_level", "3");
  KafkaHandle client = NewHandle(RD_KAFKA_PRODUCER, conf);
  std::vector<int64_t> ends;
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    REQUIRE(rd_kafka_query_watermark_offsets(client.get(), topic.c_str(), p, &low, &high,
                                             30000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    ends.push_back(high);
  }
  return ends;
}

// Every record of a topic, partition by partition in offset order.
inline std::vector<ReadRecord> ReadTopic(const std::string& bootstraps, const std::string& topic,
                                         int partitions) {
  const std::vector<int64_t> ends = EndOffsets(bootstraps, topic, partitions);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", bootstraps);
  Set(conf, "group.id", "cairn-test-reader");
  Set(conf, "enable.auto.commit", "false");
  Set(conf, "log_level", "3");
  KafkaHandle consumer = NewHandle(RD_KAFKA_CONSUMER, conf);
  PartitionList assignment(rd_kafka_topic_partition_list_new(partitions));
  int64_t expected = 0;
  for (int32_t p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    expected += ends[p];
  }
  REQUIRE(rd_kafka_assign(consumer.get(), assignment.get()) == RD_KAFKA_RESP_ERR_NO_ERROR);
  std::map<std::pair<int32_t, int64_t>, ReadRecord> got;
  static const std::string kIdHeader(kMessageIdHeader);
  static const std::string kFormatHeaderName(kFormatHeader);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (static_cast<int64_t>(got.size()) < expected &&
         std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<rd_kafka_message_t, MessageDeleter> m(
        rd_kafka_consumer_poll(consumer.get(), 200));
    if (m == nullptr || m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    INFO(rd_kafka_message_errstr(m.get()));
    REQUIRE(m->err == RD_KAFKA_RESP_ERR_NO_ERROR);
    ReadRecord r;
    r.partition = m->partition;
    r.offset = m->offset;
    if (m->key != nullptr) r.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload != nullptr) r.payload.assign(static_cast<const char*>(m->payload), m->len);
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(m.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (auto [name, out] : {std::pair<const std::string*, std::string*>{&kIdHeader,
                                                                           &r.message_id},
                               {&kFormatHeaderName, &r.format}}) {
        const void* value = nullptr;
        size_t size = 0;
        if (rd_kafka_header_get_last(headers, name->c_str(), &value, &size) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
          out->assign(static_cast<const char*>(value), size);
        }
      }
    }
    got[{r.partition, r.offset}] = std::move(r);
  }
  rd_kafka_consumer_close(consumer.get());
  REQUIRE(static_cast<int64_t>(got.size()) == expected);
  std::vector<ReadRecord> out;
  for (auto& [where, r] : got) out.push_back(std::move(r));
  return out;
}

// ---- What one plain Engine does with the same inputs ----

// Collects message ids; accepts everything, as the worker's sink does.
class IdSink : public ChannelSink, public ProfileSink {
 public:
  SendResult Send(const Message& m) override {
    ids.push_back(m.message_id);
    return SendResult::Accepted();
  }
  void Write(const ProfileWrite&) override { ++profile_writes; }
  std::vector<std::string> ids;
  int64_t profile_writes = 0;
};

inline std::vector<v1::Journey> ExampleJourneys() {
  absl::StatusOr<std::vector<v1::Journey>> journeys =
      LoadJourneys(std::string(CAIRN_SOURCE_DIR) + "/examples");
  REQUIRE_THAT(StatusOf(journeys), IsOk());
  return *journeys;
}

// The behaviours the example journeys read (their behaviors.textproto).
inline v1::BehaviorSet ExampleBehaviors() {
  absl::StatusOr<v1::BehaviorSet> behaviors =
      LoadBehaviorSets(std::string(CAIRN_SOURCE_DIR) + "/examples");
  REQUIRE_THAT(StatusOf(behaviors), IsOk());
  return *behaviors;
}

inline void SetUpEngine(Engine& engine, const std::vector<v1::Journey>& journeys,
                        IdSink* sink) {
  for (const char* channel : {"push", "sms", "email", "webhook", "in_game_mail"}) {
    REQUIRE_THAT(engine.RegisterChannel(channel, sink), IsOk());
  }
  engine.SetProfileSink(sink);
  REQUIRE_THAT(engine.DeclareBehaviors(ExampleBehaviors()), IsOk());
  for (const v1::Journey& j : journeys) REQUIRE_THAT(engine.Deploy(j), IsOk());
}

struct PlainRun {
  std::map<std::string, v1::JourneyReport> reports;
  std::vector<std::string> ids;  // sorted
  int64_t rejected = 0;
  // The engine after the run, for what else a test reads from it
  // (behaviour values); its sink is kept alive with it.
  std::unique_ptr<IdSink> sink;
  std::unique_ptr<Engine> engine;
};

inline PlainRun RunPlainEngine(const std::vector<v1::Journey>& journeys,
                               const EngineOptions& options,
                               const std::vector<EngineInput>& inputs) {
  PlainRun run;
  run.sink = std::make_unique<IdSink>();
  run.engine = std::make_unique<Engine>(options);
  Engine& engine = *run.engine;
  SetUpEngine(engine, journeys, run.sink.get());
  for (const EngineInput& input : inputs) {
    if (!engine.Apply(input).ok()) ++run.rejected;
  }
  for (const std::string& id : engine.journey_ids()) {
    absl::StatusOr<v1::JourneyReport> report = engine.Report(id);
    REQUIRE_THAT(StatusOf(report), IsOk());
    run.reports[id] = *report;
  }
  run.ids = run.sink->ids;
  std::sort(run.ids.begin(), run.ids.end());
  return run;
}

// The engine of `partition`'s newest checkpoint, restored with the journeys
// the checkpoint holds and sending to `sink`; the checkpoint must be at
// `end_offset`.
inline std::unique_ptr<Engine> RestoreNewestCheckpoint(CheckpointStore& store, int32_t partition,
                                                       int64_t end_offset,
                                                       const EngineOptions& options,
                                                       IdSink* sink) {
  absl::StatusOr<Checkpoint> checkpoint = store.LoadNewest(partition, nullptr);
  REQUIRE_THAT(StatusOf(checkpoint), IsOk());
  CHECK(checkpoint->offset == end_offset);
  absl::StatusOr<PartitionSnapshot> contents = DecodePartitionSnapshot(checkpoint->snapshot);
  REQUIRE_THAT(StatusOf(contents), IsOk());
  auto engine = std::make_unique<Engine>(options);
  SetUpEngine(*engine, contents->journeys, sink);
  std::istringstream in(contents->engine_snapshot);
  REQUIRE_THAT(engine->Restore(in), IsOk());
  return engine;
}

// The merged reports of the newest checkpoint of every partition (each
// restored with the journeys it holds); each checkpoint must be at its
// partition's end offset.
inline std::map<std::string, v1::JourneyReport> ReportsFromCheckpoints(
    CheckpointStore& store, const std::vector<int64_t>& end_offsets,
    const EngineOptions& options) {
  std::map<std::string, std::vector<v1::JourneyReport>> per_journey;
  for (int32_t p = 0; p < static_cast<int32_t>(end_offsets.size()); ++p) {
    INFO("partition " << p);
    if (end_offsets[p] == 0 && absl::IsNotFound(store.LoadNewest(p, nullptr).status())) continue;
    IdSink sink;
    std::unique_ptr<Engine> engine =
        RestoreNewestCheckpoint(store, p, end_offsets[p], options, &sink);
    for (const std::string& id : engine->journey_ids()) {
      per_journey[id].push_back(*engine->Report(id));
    }
  }
  std::map<std::string, v1::JourneyReport> merged;
  for (const auto& [id, reports] : per_journey) {
    absl::StatusOr<v1::JourneyReport> m = MergeJourneyReports(reports);
    REQUIRE_THAT(StatusOf(m), IsOk());
    merged[id] = *m;
  }
  return merged;
}

// `report` without its split rules' states: a rule judges the subjects of
// the engine holding it, so the partitions' merged report lists one state
// per partition, which one engine's report cannot equal (docs/semantics.md,
// "Winner roll-out"); each partition's state travels in its checkpoints
// like the rest of its engine (tests/rollout_test.cc).
inline v1::JourneyReport WithoutRollouts(v1::JourneyReport report) {
  for (v1::VersionReport& v : *report.mutable_versions()) v.clear_rollouts();
  return report;
}

inline void CheckSameReports(const std::map<std::string, v1::JourneyReport>& got,
                             const std::map<std::string, v1::JourneyReport>& want) {
  REQUIRE(got.size() == want.size());
  for (const auto& [id, report] : want) {
    INFO("journey " << id);
    REQUIRE(got.count(id) == 1);
    INFO("got:\n" << got.at(id).DebugString() << "want:\n" << report.DebugString());
    CHECK(google::protobuf::util::MessageDifferencer::Equals(WithoutRollouts(got.at(id)),
                                                             WithoutRollouts(report)));
  }
}

// ---- The stream ----

// A generated e-commerce stream over `subjects` subjects and `days` days:
// the generator's events, each subject's profile (tier) and, for every
// tenth subject, an audience enrollment into the repurchase journey, both
// right after the subject's first event; a clock tick before the first
// event and before any event more than 10 minutes after the last tick (the
// host's clock, without which max_input_lead refuses events after a quiet
// spell); then `tail` past the last event, a final tick.
struct Stream {
  std::vector<EngineInput> inputs;  // with the clock ticks, without the final one
  absl::Time end;                   // the final tick's time
};

inline Stream GenerateStream(int64_t subjects, int days, absl::Duration tail) {
  sim::GeneratorOptions g;
  g.subjects = subjects;
  g.days = days;
  g.seed = 7;
  std::ostringstream log;
  REQUIRE_THAT(StatusOf(sim::GenerateEvents(g, log)), IsOk());
  Stream stream;
  std::map<std::string, int> seen;
  std::istringstream lines(log.str());
  std::string line;
  absl::Time last_tick = absl::InfinitePast();
  while (std::getline(lines, line)) {
    absl::StatusOr<Event> e = json::ParseEventLine(line);
    REQUIRE_THAT(StatusOf(e), IsOk());
    const std::string subject = e->subject_id;
    const absl::Time t = e->time;
    if (last_tick == absl::InfinitePast() || t - last_tick > absl::Minutes(10)) {
      stream.inputs.push_back(ClockTick{t});
      last_tick = t;
    }
    stream.inputs.push_back(*std::move(e));
    const int n = static_cast<int>(seen.size());
    if (seen.emplace(subject, n).second) {
      stream.inputs.push_back(ProfileUpdate{
          subject, "", {{"tier", Value::String(n % 3 == 0 ? "gold" : "silver")}}, t});
      if (n % 10 == 0) stream.inputs.push_back(EnrollRequest{"repurchase_coupon", subject, {}, t});
    }
    stream.end = t + tail;
  }
  return stream;
}

// A generated loyalty stream (sim/generator.h, members checking in, sharing
// and paying: what the example behaviours count) over `members` members and
// `days` days from 2026-10-20, so that the ends of DST in London and New York
// fall in it: each member's profile (time zone, vip flag) right before their
// first event, so that their local days are their zone's from the start;
// clock ticks as GenerateStream has them; `tail` past the last event, a
// final tick.
inline Stream GenerateLoyaltyStream(int64_t members, int days, absl::Duration tail) {
  sim::GeneratorOptions g;
  g.scenario = sim::Scenario::kLoyalty;
  g.subjects = members;
  g.days = days;
  g.seed = 17;
  g.start = absl::FromUnixSeconds(1792454400);  // 2026-10-20T00:00:00Z
  std::ostringstream log, profile_lines;
  REQUIRE_THAT(StatusOf(sim::GenerateEvents(g, log)), IsOk());
  REQUIRE_THAT(StatusOf(sim::GenerateProfiles(g, profile_lines)), IsOk());
  std::map<std::string, Attributes> profiles;
  std::istringstream plines(profile_lines.str());
  std::string line;
  while (std::getline(plines, line)) {
    absl::StatusOr<json::ProfileLine> p = json::ParseProfileLine(line);
    REQUIRE_THAT(StatusOf(p), IsOk());
    profiles[p->subject_id] = std::move(p->attributes);
  }
  Stream stream;
  std::istringstream lines(log.str());
  absl::Time last_tick = absl::InfinitePast();
  while (std::getline(lines, line)) {
    absl::StatusOr<Event> e = json::ParseEventLine(line);
    REQUIRE_THAT(StatusOf(e), IsOk());
    const absl::Time t = e->time;
    if (last_tick == absl::InfinitePast() || t - last_tick > absl::Minutes(10)) {
      stream.inputs.push_back(ClockTick{t});
      last_tick = t;
    }
    auto profile = profiles.find(e->subject_id);
    if (profile != profiles.end()) {  // the member's first event
      stream.inputs.push_back(ProfileUpdate{e->subject_id, "", std::move(profile->second), t});
      profiles.erase(profile);
    }
    stream.inputs.push_back(*std::move(e));
    stream.end = t + tail;
  }
  return stream;
}

// ---- A log the test can wait on ----

class CapturingLog : public WorkerLog {
 public:
  void Info(absl::string_view line) override { Add(line); }
  void Warning(absl::string_view line) override { Add(absl::StrCat("WARNING: ", line)); }

  // Waits until a line contains `text` (up to `timeout`); true if one does.
  bool WaitFor(absl::string_view text, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return CountLocked(text) > 0; });
  }
  int Count(absl::string_view text) {
    std::lock_guard<std::mutex> lock(mu_);
    return CountLocked(text);
  }
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  std::string All() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const std::string& l : lines_) absl::StrAppend(&out, l, "\n");
    return out;
  }

 private:
  void Add(absl::string_view line) {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.emplace_back(line);
    cv_.notify_all();
  }
  int CountLocked(absl::string_view text) const {
    int n = 0;
    for (const std::string& l : lines_) n += absl::StrContains(l, text) ? 1 : 0;
    return n;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

// True once every partition's newest checkpoint is at its end offset
// (waits up to `timeout`).
inline bool WaitForCheckpointsAt(CheckpointStore& store, const std::vector<int64_t>& ends,
                                 std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    bool done = true;
    for (int32_t p = 0; p < static_cast<int32_t>(ends.size()) && done; ++p) {
      absl::StatusOr<std::vector<CheckpointInfo>> list = store.List(p);
      done = ends[p] == 0 || (list.ok() && !list->empty() && list->front().offset == ends[p]);
    }
    if (done) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace cairn::kafka::testing

#endif  // CAIRN_TESTS_KAFKA_KAFKA_TEST_UTIL_H_
