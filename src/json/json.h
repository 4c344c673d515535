// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// A small, strict JSON reader and the string writer that goes with it.
// The reader serves two kinds of input: the one-object-per-line event logs
// and Kafka records, where it is much faster than protobuf's JSON
// converter, and journey files, where it runs before that converter
// because protobuf accepts trailing commas and lets a repeated key silently
// replace the first. It accepts RFC 8259 JSON only (objects, arrays,
// strings with escapes, numbers, true/false/null; no trailing commas, no
// duplicate keys in any object) and reports where the first error is.
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
  // Where the value starts in the text, in bytes; for a member of an
  // object, where its key starts, so that a problem with the member is
  // located at the line that names it.
  size_t offset = 0;
};

// A position in a text, counted from 1; a column counts bytes.
struct TextPosition {
  int line = 1;
  int column = 1;
};

// The line and column of byte `offset` of `text` (an offset past the end
// is taken as the end).
TextPosition PositionAt(absl::string_view text, size_t offset);

struct JsonReadOptions {
  // Errors are located as "column N: " when false (one-line inputs) and as
  // "LINE:COLUMN: " when true (documents that span lines). Lines and
  // columns count from 1; a column counts bytes.
  bool lines = false;
  // Arrays and objects nested deeper than this are refused.
  int max_depth = 64;
};

// Parses one JSON document (surrounding whitespace allowed). InvalidArgument
// "<position>: <what>" on malformed input: "trailing comma" at the comma,
// "duplicate key \"k\" (first at <position>)" at the repeated key.
absl::StatusOr<JsonValue> ParseJson(absl::string_view text,
                                    const JsonReadOptions& options = {});

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
