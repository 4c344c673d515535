// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// A small, strict JSON reader for the one-object-per-line event logs, much
// faster than going through protobuf's JSON converter. It accepts RFC 8259
// JSON (objects, arrays, strings with escapes, numbers, true/false/null) and
// reports the column of the first error.
//
// Thread-safety: pure functions.

#ifndef CAIRN_SIM_JSON_H_
#define CAIRN_SIM_JSON_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cairn::sim {

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;  // in document order
};

// Parses one JSON document (surrounding whitespace allowed). InvalidArgument
// with "column N: ..." on malformed input, duplicate keys included.
absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

}  // namespace cairn::sim

#endif  // CAIRN_SIM_JSON_H_
