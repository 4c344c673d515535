// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Encodes and decodes an input record and checks a worker's options through
// the installed cairn::kafka only (no broker needed).

#include <iostream>
#include <variant>

#include "cairn/kafka/record.h"
#include "cairn/kafka/worker.h"

int main() {
  cairn::Event event;
  event.subject_id = "u1";
  event.name = "signup";
  event.time = absl::FromUnixSeconds(1767607200);
  absl::StatusOr<std::string> payload = cairn::kafka::EncodeJsonRecord(event);
  if (!payload.ok()) {
    std::cerr << payload.status() << "\n";
    return 1;
  }
  absl::StatusOr<cairn::EngineInput> input =
      cairn::kafka::DecodeRecord("u1", cairn::kafka::kJsonFormat, *payload);
  if (!input.ok() || !std::holds_alternative<cairn::Event>(*input)) {
    std::cerr << "decode failed: " << input.status() << "\n";
    return 1;
  }
  std::cout << "record " << *payload << "\n";
  // A worker without journeys is refused before it connects.
  cairn::kafka::WorkerOptions options;
  options.brokers = "localhost:9092";
  options.group = "g";
  options.input_topic = "in";
  options.message_topic = "out";
  std::cout << "worker: " << cairn::kafka::Worker::Create(options).status().message() << "\n";
  return 0;
}
