// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Clock ticks for a Cairn input topic. Workers never read a clock: engine
// time moves on the times of the records they read. Where no records
// arrive, timers (delays, wait timeouts) would never fire, so a clock
// process writes a tick record ({"kind":"tick","time":...}) into every
// partition of the input topic at a steady pace (`cairn clock --every 1s`).
// The ticks are records like any other, so a worker that replays a
// partition after a crash fires the same timers at the same points.
//
// Thread-safety: a TickWriter is used by one thread at a time.

#ifndef CAIRN_KAFKA_CLOCK_H_
#define CAIRN_KAFKA_CLOCK_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cairn::kafka {

struct TickWriterOptions {
  // Kafka bootstrap servers. Required.
  std::string brokers;
  // The input topic. Required.
  std::string topic;
  // How long Tick waits for the brokers (metadata and acknowledgements).
  absl::Duration timeout = absl::Seconds(30);
  // Extra librdkafka producer properties; bootstrap.servers,
  // enable.idempotence and acks are set by the writer.
  std::vector<std::pair<std::string, std::string>> client_config;
};

class TickWriter {
 public:
  // InvalidArgument for missing options or bad client properties.
  static absl::StatusOr<std::unique_ptr<TickWriter>> Create(TickWriterOptions options);
  ~TickWriter();

  // Writes a tick at `time` into every partition of the topic (counted
  // again at each call, so added partitions get ticks too) and waits until
  // the brokers have acknowledged all of them. Returns the number of
  // partitions. InvalidArgument for a time a record cannot hold; NotFound
  // if the topic does not exist; Unavailable when the brokers do not answer
  // or do not acknowledge within the timeout.
  absl::StatusOr<int> Tick(absl::Time time);

  class Impl;

 private:
  explicit TickWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::kafka

#endif  // CAIRN_KAFKA_CLOCK_H_
