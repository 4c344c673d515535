// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// End to end on Kafka: one cairn::kafka::Worker consuming a generated
// e-commerce stream (50,000 shoppers over 2 days, about 125,000 event
// records as JSON, keyed by subject) from 8 partitions of librdkafka's
// in-process mock cluster, with the example journeys that need no
// behaviour declarations deployed (see Journeys()), producing
// its messages through the idempotent producer and checkpointing to a
// directory as it would in production (the default every 100,000 records
// or 30 s, and at the end). Against it, the engine alone: the same records
// decoded and applied to one Engine in this thread, no Kafka.
//
// The worker's figure counts from the moment all 8 partitions are assigned
// (joining the group is not throughput) to the moment the last record is
// applied, its outputs acknowledged and every partition checkpointed
// (close_ms is that last part). The mock cluster's brokers
// run in this process, so on a 2-core machine they compete with the worker
// for the cores: a real deployment, with brokers elsewhere, does better.
//   build/release/bench/cairn_bench_kafka --benchmark_counters_tabular=true

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "cairn/cairn.h"
#include "cairn/kafka/checkpoint.h"
#include "cairn/kafka/record.h"
#include "cairn/kafka/worker.h"
#include "json/event_lines.h"
#include "sim/generator.h"

namespace {

constexpr int kPartitions = 8;
constexpr char kTopic[] = "bench-inputs";

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "cairn_bench_kafka: %s\n", what);
    std::abort();
  }
}

void Set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char error[512];
  Check(rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof(error)) == RD_KAFKA_CONF_OK,
        error);
}

struct Record {
  std::string key;
  std::string payload;
};

// The generator's event lines are input records as they are.
std::vector<Record> GenerateRecords() {
  cairn::sim::GeneratorOptions g;
  g.subjects = 50000;
  g.days = 2;
  g.seed = 2026;
  std::ostringstream log;
  Check(cairn::sim::GenerateEvents(g, log).ok(), "cannot generate events");
  std::vector<Record> records;
  std::istringstream lines(log.str());
  for (std::string line; std::getline(lines, line);) {
    absl::StatusOr<cairn::Event> event = cairn::json::ParseEventLine(line);
    Check(event.ok(), "cannot parse a generated event");
    records.push_back({event->subject_id, line});
  }
  return records;
}

struct Cluster {
  rd_kafka_t* handle = nullptr;
  rd_kafka_mock_cluster_t* mock = nullptr;
  std::string bootstraps;
  Cluster() {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    Set(conf, "log_level", "3");
    char error[512];
    handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
    Check(handle != nullptr, error);
    mock = rd_kafka_mock_cluster_new(handle, 3);
    Check(mock != nullptr, "no mock cluster");
    bootstraps = rd_kafka_mock_cluster_bootstraps(mock);
    for (const std::string& topic :
         {std::string(kTopic), absl::StrCat(kTopic, ".messages")}) {
      Check(rd_kafka_mock_topic_create(mock, topic.c_str(), kPartitions, 3) ==
                RD_KAFKA_RESP_ERR_NO_ERROR,
            "cannot create a topic");
    }
  }
  ~Cluster() {
    rd_kafka_mock_cluster_destroy(mock);
    rd_kafka_destroy(handle);
  }
};

void Produce(const Cluster& cluster, const std::vector<Record>& records) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", cluster.bootstraps);
  Set(conf, "enable.idempotence", "true");
  Set(conf, "linger.ms", "20");
  Set(conf, "log_level", "3");
  char error[512];
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  Check(producer != nullptr, error);
  static const std::string kHeader(cairn::kafka::kFormatHeader);
  for (const Record& r : records) {
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(
                producer, RD_KAFKA_V_TOPIC(kTopic), RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
                RD_KAFKA_V_VALUE(const_cast<char*>(r.payload.data()), r.payload.size()),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_HEADER(kHeader.c_str(), "json", 4), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer, 50);
    }
    Check(err == RD_KAFKA_RESP_ERR_NO_ERROR, "cannot produce");
  }
  Check(rd_kafka_flush(producer, 120000) == RD_KAFKA_RESP_ERR_NO_ERROR, "not flushed");
  rd_kafka_destroy(producer);
}

// The example journeys that read no behaviour or segment: the others
// need their folder's declarations (behaviors.textproto), and two of those
// files declare the same name differently, so they cannot all be declared
// in one engine. In folder order, so that both sides deploy alike.
std::vector<cairn::v1::Journey> Journeys() {
  std::vector<std::filesystem::path> folders;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(CAIRN_SOURCE_DIR) + "/examples")) {
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "journey.textproto") &&
        !std::filesystem::exists(entry.path() / "behaviors.textproto")) {
      folders.push_back(entry.path());
    }
  }
  std::sort(folders.begin(), folders.end());
  std::vector<cairn::v1::Journey> journeys;
  for (const std::filesystem::path& folder : folders) {
    absl::StatusOr<cairn::v1::Journey> journey =
        cairn::LoadJourneyFile((folder / "journey.textproto").string());
    Check(journey.ok(), "cannot load an example journey");
    journeys.push_back(*std::move(journey));
  }
  Check(!journeys.empty(), "no example journey to deploy");
  return journeys;
}

class QuietLog : public cairn::kafka::WorkerLog {
 public:
  void Info(absl::string_view) override {}
  void Warning(absl::string_view line) override {
    std::fprintf(stderr, "worker: %.*s\n", static_cast<int>(line.size()), line.data());
  }
};

void BM_KafkaWorker(benchmark::State& state) {
  const std::vector<Record> records = GenerateRecords();
  const std::vector<cairn::v1::Journey> journeys = Journeys();
  double worker_seconds = 0, close_seconds = 0, counted = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Cluster cluster;
    Produce(cluster, records);
    const std::string dir = std::filesystem::temp_directory_path() / "cairn_bench_kafka";
    std::filesystem::remove_all(dir);
    auto store = cairn::kafka::DirectoryCheckpointStore::Open(dir);
    Check(store.ok(), "no checkpoint store");
    QuietLog log;
    cairn::kafka::WorkerOptions options;
    options.brokers = cluster.bootstraps;
    options.group = "bench";
    options.input_topic = kTopic;
    options.message_topic = absl::StrCat(kTopic, ".messages");
    options.journeys = journeys;
    options.checkpoints = store->get();
    options.log = &log;
    options.client_config = {{"log_level", "3"}};
    auto worker = cairn::kafka::Worker::Create(options);
    Check(worker.ok(), "cannot create the worker");
    while ((*worker)->partitions().size() < kPartitions) {
      Check((*worker)->Poll(absl::Milliseconds(1)).ok(), "poll failed");
    }
    auto read = [&] {
      const cairn::kafka::WorkerStats s = (*worker)->stats();
      return s.records_applied + s.records_rejected + s.records_bad;
    };
    const int64_t before = read();
    state.ResumeTiming();
    const auto started = std::chrono::steady_clock::now();
    while (read() < static_cast<int64_t>(records.size())) {
      Check((*worker)->Poll(absl::Milliseconds(5)).ok(), "poll failed");
    }
    const auto applied = std::chrono::steady_clock::now();
    Check((*worker)->Close().ok(), "close failed");
    const auto closed = std::chrono::steady_clock::now();
    worker_seconds += std::chrono::duration<double>(closed - started).count();
    close_seconds += std::chrono::duration<double>(closed - applied).count();
    counted += static_cast<double>(read() - before);
    state.PauseTiming();
    worker->reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }

  // The engine alone over the same records: decode and apply, one Engine.
  double engine_seconds = 0;
  {
    cairn::Engine engine;
    struct NullSink : cairn::ChannelSink {
      cairn::SendResult Send(const cairn::Message&) override {
        return cairn::SendResult::Accepted();
      }
    } sink;
    for (const char* channel : {"push", "sms", "email", "webhook", "in_game_mail"}) {
      Check(engine.RegisterChannel(channel, &sink).ok(), "cannot register");
    }
    for (const auto& j : journeys) Check(engine.Deploy(j).ok(), "cannot deploy");
    const auto started = std::chrono::steady_clock::now();
    for (const Record& r : records) {
      absl::StatusOr<cairn::EngineInput> input =
          cairn::kafka::DecodeRecord(r.key, cairn::kafka::kJsonFormat, r.payload);
      Check(input.ok(), "cannot decode");
      (void)engine.Apply(*input);
    }
    engine_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                         .count();
  }
  const double worker_eps = counted / worker_seconds;
  const double engine_eps = static_cast<double>(records.size()) / engine_seconds;
  state.counters["records"] = static_cast<double>(records.size());
  state.counters["worker_events_per_s"] = worker_eps;
  state.counters["engine_alone_events_per_s"] = engine_eps;
  state.counters["worker_vs_engine"] = worker_eps / engine_eps;
  state.counters["close_ms"] = close_seconds * 1e3 / static_cast<double>(state.iterations());
}
BENCHMARK(BM_KafkaWorker)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
