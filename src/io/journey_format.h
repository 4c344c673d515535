// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// `cairn fmt`'s text form of a journey (or any message of the schema):
// fields in field-number order (at the top, lists such as a journey's nodes
// last), map entries sorted by key, two-space indentation, a blank line
// before each block at the top, and small messages on one line, each
// duration followed by its human form as a comment:
//
//   delay {
//     duration { seconds: 2592000 }  # 30d
//     next: "push"
//   }
//
// Deterministic, and it parses back to the same message.
//
// Thread-safety: pure functions.

#ifndef CAIRN_IO_JOURNEY_FORMAT_H_
#define CAIRN_IO_JOURNEY_FORMAT_H_

#include <string>

#include "google/protobuf/message.h"

namespace cairn::internal {

// `message` in the normalised text form above.
std::string FormatText(const google::protobuf::Message& message);

}  // namespace cairn::internal

#endif  // CAIRN_IO_JOURNEY_FORMAT_H_
