// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/kafka/broadcast.h"

#include <librdkafka/rdkafka.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/kafka/record.h"
#include "cairn/status_macros.h"
#include "kafka/client.h"

namespace cairn::kafka {
namespace {

const std::string kFormatHeaderName(kFormatHeader);  // NUL-terminated

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* first_error = static_cast<rd_kafka_resp_err_t*>(opaque);
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR && *first_error == RD_KAFKA_RESP_ERR_NO_ERROR) {
    *first_error = message->err;
  }
}

}  // namespace

class BroadcastWriter::Impl {
 public:
  BroadcastWriterOptions options;
  internal::KafkaHandle producer;
  rd_kafka_resp_err_t delivery_error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

BroadcastWriter::BroadcastWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BroadcastWriter::~BroadcastWriter() = default;

absl::StatusOr<std::unique_ptr<BroadcastWriter>> BroadcastWriter::Create(BroadcastWriterOptions options) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("brokers is required");
  if (options.topic.empty()) return absl::InvalidArgumentError("topic is required");
  if (options.timeout <= absl::ZeroDuration() || options.timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("timeout must be finite and > 0");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  CAIRN_ASSIGN_OR_RETURN(
      impl->producer,
      internal::NewIdempotentProducer(impl->options.brokers, impl->options.client_config,
                                      {"bootstrap.servers", "enable.idempotence", "acks"},
                                      OnDelivery, &impl->delivery_error));
  return std::unique_ptr<BroadcastWriter>(new BroadcastWriter(std::move(impl)));
}

absl::StatusOr<int> BroadcastWriter::Write(const EngineInput& input) {
  if (!IsBroadcast(input)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a ", InputKindName(input),
        " record is keyed by its subject and goes to one partition: only ticks, deploys and "
        "state changes are written into every partition"));
  }
  CAIRN_ASSIGN_OR_RETURN(const std::string payload, EncodeProtoRecord(input));
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(impl_->options.timeout));
  CAIRN_ASSIGN_OR_RETURN(
      const int partitions,
      internal::PartitionCount(impl_->producer.get(), impl_->options.topic, timeout_ms));
  impl_->delivery_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int32_t p = 0; p < partitions; ++p) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        impl_->producer.get(), RD_KAFKA_V_TOPIC(impl_->options.topic.c_str()),
        RD_KAFKA_V_PARTITION(p),
        RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY | RD_KAFKA_MSG_F_BLOCK),
        RD_KAFKA_V_HEADER(kFormatHeaderName.c_str(), kProtoFormat.data(),
                          static_cast<ssize_t>(kProtoFormat.size())),
        RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat(InputKindName(input), " into \"",
                                                 impl_->options.topic,
                                                 "\" partition ", p, ": ",
                                                 rd_kafka_err2str(err)));
    }
  }
  const rd_kafka_resp_err_t flushed = rd_kafka_flush(impl_->producer.get(), timeout_ms);
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR || impl_->delivery_error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat(
        InputKindName(input), " records into \"", impl_->options.topic,
        "\" not acknowledged: ",
        rd_kafka_err2str(flushed != RD_KAFKA_RESP_ERR_NO_ERROR ? flushed
                                                              : impl_->delivery_error)));
  }
  return partitions;
}

}  // namespace cairn::kafka
