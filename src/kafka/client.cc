// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "kafka/client.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace cairn::kafka::internal {

absl::Status SetConf(rd_kafka_conf_t* conf, absl::string_view name, absl::string_view value) {
  char error[512] = "";
  const std::string n(name), v(value);
  if (rd_kafka_conf_set(conf, n.c_str(), v.c_str(), error, sizeof(error)) !=
      RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("Kafka client property \"", name, "\"=\"", value, "\": ", error));
  }
  return absl::OkStatus();
}

absl::StatusOr<ConfHandle> NewConf(
    const std::vector<std::pair<std::string, std::string>>& extra,
    const std::vector<absl::string_view>& reserved) {
  ConfHandle conf(rd_kafka_conf_new());
  for (const auto& [name, value] : extra) {
    if (std::find(reserved.begin(), reserved.end(), name) != reserved.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "client_config: \"", name, "\" is set by the worker and cannot be overridden"));
    }
    absl::Status s = SetConf(conf.get(), name, value);
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("client_config: ", s.message()));
  }
  return conf;
}

absl::StatusOr<KafkaHandle> NewClient(rd_kafka_type_t type, ConfHandle conf) {
  char error[512] = "";
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), error, sizeof(error));
  if (rk == nullptr) {
    return absl::InternalError(absl::StrCat(
        "cannot create the Kafka ", type == RD_KAFKA_PRODUCER ? "producer" : "consumer",
        ": ", error));
  }
  conf.release();  // rd_kafka_new owns it now
  return KafkaHandle(rk);
}

absl::StatusOr<KafkaHandle> NewIdempotentProducer(
    const std::string& brokers, const std::vector<std::pair<std::string, std::string>>& extra,
    const std::vector<absl::string_view>& reserved,
    void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*), void* opaque) {
  absl::StatusOr<ConfHandle> conf = NewConf(extra, reserved);
  if (!conf.ok()) return conf.status();
  for (const auto& [name, value] :
       {std::pair<const char*, absl::string_view>{"bootstrap.servers", brokers},
        {"enable.idempotence", "true"},
        {"acks", "all"}}) {
    absl::Status s = SetConf(conf->get(), name, value);
    if (!s.ok()) return s;
  }
  rd_kafka_conf_set_dr_msg_cb(conf->get(), on_delivery);
  rd_kafka_conf_set_opaque(conf->get(), opaque);
  return NewClient(RD_KAFKA_PRODUCER, *std::move(conf));
}

absl::StatusOr<int> PartitionCount(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  // Metadata of all topics: asking for one topic by name would make a
  // broker that auto-creates topics create a misspelt one.
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &metadata, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        absl::StrCat("topic \"", topic, "\": no metadata: ", rd_kafka_err2str(err)));
  }
  absl::StatusOr<int> count = absl::NotFoundError(absl::StrCat("topic \"", topic, "\" does not exist"));
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = metadata->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0) {
      count = t.partition_cnt;
    } else if (t.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      count = absl::UnavailableError(
          absl::StrCat("topic \"", topic, "\": ", rd_kafka_err2str(t.err)));
    }
  }
  rd_kafka_metadata_destroy(metadata);
  return count;
}

absl::string_view HeaderValue(const rd_kafka_message_t* message, const std::string& name) {
  rd_kafka_headers_t* headers = nullptr;
  // rd_kafka_message_headers takes a non-const message but only reads it.
  if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(message), &headers) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return {};
  }
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name.c_str(), &value, &size) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      value == nullptr) {
    return {};
  }
  return absl::string_view(static_cast<const char*>(value), size);
}

}  // namespace cairn::kafka::internal
