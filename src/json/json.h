// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// A small, strict JSON reader, much faster than going through protobuf's
// JSON converter, for the one-object-per-line event logs and Kafka records,
// and the string writer that goes with it. It accepts RFC 8259 JSON
// (objects, arrays, strings with escapes, numbers, true/false/null) and
// reports the column of the first error.
//
// Thread-safety: pure functions.

#ifndef CAIRN_JSON_JSON_H_
#define CAIRN_JSON_JSON_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cairn::json {

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

// Appends `s` to *out as a JSON string literal (quotes included).
void AppendJsonString(absl::string_view s, std::string* out);

// ---- Pieces of the string grammar, shared with the event-line reader ----

// The value of hex digit `c`, or -1.
int JsonHexDigit(char c);

// The character a one-letter escape stands for (the letter after the
// backslash in \" \\ \/ \b \f \n \r \t), or -1 for any other letter.
int JsonSimpleEscape(char c);

// UTF-16 surrogates, which a JSON \uXXXX escape may hold: a high one must be
// followed by a low one, and the pair stands for one code point.
inline bool IsHighSurrogate(uint32_t u) { return u >= 0xd800 && u < 0xdc00; }
inline bool IsLowSurrogate(uint32_t u) { return u >= 0xdc00 && u < 0xe000; }
inline uint32_t CombineSurrogates(uint32_t high, uint32_t low) {
  return 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
}

// Appends code point `cp` (at most 0x10FFFF) to *out as UTF-8.
void AppendUtf8(uint32_t cp, std::string* out);

}  // namespace cairn::json

#endif  // CAIRN_JSON_JSON_H_
