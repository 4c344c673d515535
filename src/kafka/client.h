// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Small RAII and configuration helpers over librdkafka's C API, shared by
// the worker and the clock.

#ifndef CAIRN_KAFKA_CLIENT_H_
#define CAIRN_KAFKA_CLIENT_H_

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cairn::kafka::internal {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfHandle = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using MessageHandle = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList =
    std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

// Sets a property. InvalidArgument with librdkafka's message.
absl::Status SetConf(rd_kafka_conf_t* conf, absl::string_view name, absl::string_view value);

// A new configuration with the host's extra properties applied. Properties
// in `reserved` are the caller's to set: naming one is InvalidArgument.
absl::StatusOr<ConfHandle> NewConf(
    const std::vector<std::pair<std::string, std::string>>& extra,
    const std::vector<absl::string_view>& reserved);

// Creates a client; takes ownership of `conf` (also on error). Internal
// with librdkafka's message on failure.
absl::StatusOr<KafkaHandle> NewClient(rd_kafka_type_t type, ConfHandle conf);

// An idempotent producer (enable.idempotence=true, acks=all) on `brokers`,
// with the host's extra properties (`reserved` as NewConf), reporting each
// delivery to `on_delivery` with `opaque`. The settings every Cairn writer
// needs so that a retried send is never written twice.
absl::StatusOr<KafkaHandle> NewIdempotentProducer(
    const std::string& brokers, const std::vector<std::pair<std::string, std::string>>& extra,
    const std::vector<absl::string_view>& reserved,
    void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*), void* opaque);

// The number of partitions of `topic`, from the brokers' metadata.
// NotFound if the topic does not exist; Unavailable if the brokers do not
// answer within `timeout_ms`.
absl::StatusOr<int> PartitionCount(rd_kafka_t* rk, const std::string& topic, int timeout_ms);

// The value of the last header `name` of a message; empty if none.
absl::string_view HeaderValue(const rd_kafka_message_t* message, const std::string& name);

}  // namespace cairn::kafka::internal

#endif  // CAIRN_KAFKA_CLIENT_H_
