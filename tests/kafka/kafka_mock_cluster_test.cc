// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Smoke test of the Kafka client library: librdkafka's in-process mock
// cluster (3 brokers, no network beyond localhost, no external Kafka) takes
// encoded input records from an idempotent producer, keyed by subject with
// the format header, and a consumer reads them back, each decoding to the
// input that was sent, a subject's records in one partition in order.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
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
#include "catch2/catch.hpp"
#include "testing/test_util.h"

namespace cairn::kafka {
namespace {

using testing::IsOk;
using testing::StatusOf;

constexpr char kTopic[] = "cairn-inputs";
constexpr int kPartitions = 3;
const std::string kHeaderName(kFormatHeader);  // NUL-terminated for librdkafka

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

struct MockClusterDeleter {
  void operator()(rd_kafka_mock_cluster_t* cluster) const {
    rd_kafka_mock_cluster_destroy(cluster);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};

// Sets a property or fails the test.
void Set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char error[512];
  INFO(name << "=" << value);
  REQUIRE(rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof(error)) ==
          RD_KAFKA_CONF_OK);
}

KafkaHandle NewHandle(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof(error));
  INFO(error);
  REQUIRE(rk != nullptr);  // rd_kafka_new owns conf from here on
  return KafkaHandle(rk);
}

// Counts the producer's delivery reports.
struct DeliveryCounts {
  int delivered = 0;
  int failed = 0;
  std::string last_error;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* counts = static_cast<DeliveryCounts*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++counts->delivered;
  } else {
    ++counts->failed;
    counts->last_error = rd_kafka_err2str(message->err);
  }
}

struct Sent {
  std::string key;
  std::string format;
  std::string payload;
  int32_t partition;  // RD_KAFKA_PARTITION_UA: chosen by key
};

absl::Time T(int minutes) { return absl::FromUnixSeconds(1767607200) + absl::Minutes(minutes); }

std::vector<Sent> Records() {
  std::vector<Sent> out;
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
    add(Enrollment{"winback", subject, {}, T(++minute)}, kJsonFormat, RD_KAFKA_PARTITION_UA);
    add(DeliveryReport{absl::StrCat("m-", subject), DeliveryOutcome::kFailed, "bounced",
                       subject, T(++minute)},
        kProtoFormat, RD_KAFKA_PARTITION_UA);
  }
  // A clock tick into every partition, as `cairn clock` writes them.
  for (int32_t p = 0; p < kPartitions; ++p) add(ClockTick{T(60)}, kJsonFormat, p);
  return out;
}

TEST_CASE("Kafka mock cluster: encoded records go through and decode") {
  // The mock cluster lives in a handle of its own.
  rd_kafka_conf_t* mock_conf = rd_kafka_conf_new();
  Set(mock_conf, "log_level", "3");
  KafkaHandle mock_handle = NewHandle(RD_KAFKA_PRODUCER, mock_conf);
  std::unique_ptr<rd_kafka_mock_cluster_t, MockClusterDeleter> cluster(
      rd_kafka_mock_cluster_new(mock_handle.get(), 3));
  REQUIRE(cluster != nullptr);
  REQUIRE(rd_kafka_mock_topic_create(cluster.get(), kTopic, kPartitions, 3) ==
          RD_KAFKA_RESP_ERR_NO_ERROR);
  const std::string bootstraps = rd_kafka_mock_cluster_bootstraps(cluster.get());

  // ---- Produce, idempotently, keyed by subject, with the format header ----
  const std::vector<Sent> records = Records();
  DeliveryCounts counts;
  {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    Set(conf, "bootstrap.servers", bootstraps);
    Set(conf, "enable.idempotence", "true");
    Set(conf, "log_level", "3");
    rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
    rd_kafka_conf_set_opaque(conf, &counts);
    KafkaHandle producer = NewHandle(RD_KAFKA_PRODUCER, conf);
    for (const Sent& r : records) {
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          producer.get(), RD_KAFKA_V_TOPIC(kTopic), RD_KAFKA_V_PARTITION(r.partition),
          RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(r.payload.data()), r.payload.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_HEADER(kHeaderName.c_str(), r.format.data(),
                            static_cast<ssize_t>(r.format.size())),
          RD_KAFKA_V_END);
      REQUIRE(err == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    REQUIRE(rd_kafka_flush(producer.get(), 30000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  INFO(counts.last_error);
  REQUIRE(counts.failed == 0);
  REQUIRE(counts.delivered == static_cast<int>(records.size()));

  // ---- Consume every partition from the beginning ----
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", bootstraps);
  Set(conf, "group.id", "cairn-smoke-test");
  Set(conf, "enable.auto.commit", "false");
  Set(conf, "log_level", "3");
  KafkaHandle consumer = NewHandle(RD_KAFKA_CONSUMER, conf);
  {
    std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter> assignment(
        rd_kafka_topic_partition_list_new(kPartitions));
    for (int32_t p = 0; p < kPartitions; ++p) {
      rd_kafka_topic_partition_list_add(assignment.get(), kTopic, p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
    REQUIRE(rd_kafka_assign(consumer.get(), assignment.get()) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  struct Received {
    int32_t partition;
    int64_t offset;
    std::string key;
    std::string payload;
    EngineInput input;
  };
  std::vector<Received> received;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (received.size() < records.size() && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<rd_kafka_message_t, MessageDeleter> m(
        rd_kafka_consumer_poll(consumer.get(), 500));
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    INFO(rd_kafka_message_errstr(m.get()));
    REQUIRE(m->err == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_headers_t* headers = nullptr;
    REQUIRE(rd_kafka_message_headers(m.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR);
    const void* value = nullptr;
    size_t size = 0;
    REQUIRE(rd_kafka_header_get_last(headers, kHeaderName.c_str(), &value,
                                     &size) == RD_KAFKA_RESP_ERR_NO_ERROR);
    const std::string format(static_cast<const char*>(value), size);
    const std::string key(static_cast<const char*>(m->key), m->key_len);
    const std::string payload(static_cast<const char*>(m->payload), m->len);
    absl::StatusOr<EngineInput> input = DecodeRecord(key, format, payload);
    INFO(m->partition << ":" << m->offset);
    REQUIRE_THAT(StatusOf(input), IsOk());
    received.push_back({m->partition, m->offset, key, payload, *std::move(input)});
  }
  rd_kafka_consumer_close(consumer.get());
  REQUIRE(received.size() == records.size());

  // Every record came back once, and decodes to what was encoded.
  std::map<std::string, int> sent_payloads;
  for (const Sent& r : records) ++sent_payloads[r.payload];
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
