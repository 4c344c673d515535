// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Smoke test of the Kafka client library: librdkafka's in-process mock
// cluster (3 brokers, no network beyond localhost, no external Kafka) takes
// encoded input records from an idempotent producer, keyed by subject with
// the format header, and a consumer reads them back, each decoding to the
// input that was sent, a subject's records in one partition in order.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/kafka/record.h"
#include "kafka_test_util.h"

namespace cairn::kafka {
namespace {

using namespace testing;  // NOLINT: the helpers of this test suite

constexpr char kTopic[] = "cairn-inputs";
constexpr int kPartitions = 3;
absl::Time T(int minutes) { return absl::FromUnixSeconds(1767607200) + absl::Minutes(minutes); }

std::vector<Record> Records() {
  std::vector<Record> out;
  auto add = [&](const EngineInput& input, absl::string_view format, int32_t partition) {
    absl::StatusOr<std::string> payload =
        format == kJsonFormat ? EncodeJsonRecord(input) : EncodeProtoRecord(input);
    REQUIRE_THAT(StatusOf(payload), IsOk());
    out.push_back({std::string(InputSubject(input)), std::string(format), *payload, partition});
  };
  int minute = 0;
  for (const char* subject : {"u1", "u2", "u3", "u4", "u5", "u6"}) {
    Event e;
    e.subject_id = subject;
    e.name = "signup";
    e.time = T(++minute);
    add(e, kJsonFormat, RD_KAFKA_PARTITION_UA);
    add(ProfileUpdate{subject, "", {{"tier", Value::String("gold")}}, T(++minute)},
        kProtoFormat, RD_KAFKA_PARTITION_UA);
    add(EnrollRequest{"winback", subject, {}, T(++minute)}, kJsonFormat, RD_KAFKA_PARTITION_UA);
    add(DeliveryReport{absl::StrCat("m-", subject), DeliveryOutcome::kFailed, "bounced",
                       subject, T(++minute)},
        kProtoFormat, RD_KAFKA_PARTITION_UA);
  }
  // A clock tick into every partition, as `cairn clock` writes them.
  for (int32_t p = 0; p < kPartitions; ++p) add(ClockTick{T(60)}, kJsonFormat, p);
  return out;
}

TEST_CASE("Kafka mock cluster: encoded records go through and decode") {
  MockCluster cluster;
  cluster.CreateTopic(kTopic, kPartitions);
  const std::string& bootstraps = cluster.bootstraps();

  // Produce idempotently, keyed by subject, with the format header; then
  // read every partition back from the beginning.
  std::vector<Record> records = Records();
  Produce(bootstraps, kTopic, records);
  struct Received {
    int32_t partition;
    int64_t offset;
    std::string key;
    std::string payload;
    EngineInput input;
  };
  std::vector<Received> received;
  for (ReadRecord& r : ReadTopic(bootstraps, kTopic, kPartitions)) {
    INFO(r.partition << ":" << r.offset);
    absl::StatusOr<EngineInput> input = DecodeRecord(r.key, r.format, r.payload);
    REQUIRE_THAT(StatusOf(input), IsOk());
    received.push_back(
        {r.partition, r.offset, std::move(r.key), std::move(r.payload), *std::move(input)});
  }
  REQUIRE(received.size() == records.size());

  // Every record came back once, and decodes to what was encoded.
  std::map<std::string, int> sent_payloads;
  for (const Record& r : records) ++sent_payloads[r.payload];
  std::map<std::string, int> got_payloads;
  for (const Received& r : received) ++got_payloads[r.payload];
  CHECK(got_payloads == sent_payloads);

  // A subject's records share a partition and keep their order; every
  // partition got a tick, last.
  std::map<std::string, std::vector<const Received*>> by_subject;
  std::map<int32_t, std::vector<const Received*>> by_partition;
  for (const Received& r : received) {
    by_partition[r.partition].push_back(&r);
    if (!std::holds_alternative<ClockTick>(r.input)) by_subject[r.key].push_back(&r);
  }
  CHECK(by_partition.size() == static_cast<size_t>(kPartitions));
  for (const auto& [partition, list] : by_partition) {
    INFO("partition " << partition);
    CHECK(std::holds_alternative<ClockTick>(list.back()->input));
    for (size_t i = 1; i < list.size(); ++i) CHECK(list[i - 1]->offset < list[i]->offset);
  }
  REQUIRE(by_subject.size() == 6);
  for (const auto& [subject, list] : by_subject) {
    INFO("subject " << subject);
    REQUIRE(list.size() == 4);
    for (size_t i = 1; i < list.size(); ++i) {
      CHECK(list[i]->partition == list[0]->partition);
      CHECK(list[i - 1]->offset < list[i]->offset);
      CHECK(InputTime(list[i - 1]->input) < InputTime(list[i]->input));
    }
    CHECK(InputKindName(list[0]->input) == "event");
    CHECK(InputKindName(list[3]->input) == "delivery");
  }
}

}  // namespace
}  // namespace cairn::kafka
