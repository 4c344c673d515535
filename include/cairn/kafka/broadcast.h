// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Inputs for every partition of a Cairn input topic: clock ticks, journey
// deploys and journey state changes (cairn::IsBroadcast, cairn/input.h).
//
// Ticks: workers never read a clock. Engine time moves on the times of the
// records they read; where no records arrive, timers (delays, wait
// timeouts) would never fire. So a clock process writes a tick into every
// partition at a steady pace (`cairn clock --every 1s`).
//
// Deploys and state changes: a partition's journeys change at a point of
// its log, never by reconfiguring a worker (`cairn deploy`, `cairn state`).
//
// All three are records like any other, so a worker that replays a
// partition after a crash fires the same timers and changes its journeys at
// the same points.
//
// Thread-safety: a BroadcastWriter is used by one thread at a time.

#ifndef CAIRN_KAFKA_BROADCAST_H_
#define CAIRN_KAFKA_BROADCAST_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cairn/kafka/record.h"

namespace cairn::kafka {

struct BroadcastWriterOptions {
  // Kafka bootstrap servers. Required.
  std::string brokers;
  // The input topic. Required.
  std::string topic;
  // How long a write waits for the brokers (metadata and acknowledgements).
  absl::Duration timeout = absl::Seconds(30);
  // Extra librdkafka producer properties; bootstrap.servers,
  // enable.idempotence and acks are set by the writer.
  std::vector<std::pair<std::string, std::string>> client_config;
};

class BroadcastWriter {
 public:
  // InvalidArgument for missing options or bad client properties.
  static absl::StatusOr<std::unique_ptr<BroadcastWriter>> Create(BroadcastWriterOptions options);
  ~BroadcastWriter();

  // Writes `input` — a tick, deploy or state change — unkeyed into every
  // partition of the topic (counted again at each call, so added partitions
  // get it too), in the proto format, and waits until the brokers have
  // acknowledged all of them. Returns the number of partitions.
  // InvalidArgument for an input of another kind or one that does not
  // encode (ValidateInput); NotFound if the topic does not exist;
  // Unavailable when the brokers do not answer or acknowledge within the
  // timeout.
  absl::StatusOr<int> Write(const EngineInput& input);

  // Write(ClockTick{time}).
  absl::StatusOr<int> Tick(absl::Time time) { return Write(ClockTick{time}); }

  class Impl;

 private:
  explicit BroadcastWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::kafka

#endif  // CAIRN_KAFKA_BROADCAST_H_
