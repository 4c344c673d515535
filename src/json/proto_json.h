// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// A protobuf message as JSON for people and tools such as jq: protobuf's
// JSON mapping (proto field names, every scalar field printed, enums by
// name, unset messages and unset proto3 optional fields left out), except
// that 64-bit integers are JSON numbers, not strings. protobuf writes them
// as strings so that JavaScript's doubles cannot round them; the counts in
// Cairn's reports stay far below 2^53, and as strings they compare as text
// (`jq 'select(.entered > 40000)'` would answer wrongly).
//
// Thread-safety: pure functions.

#ifndef CAIRN_JSON_PROTO_JSON_H_
#define CAIRN_JSON_PROTO_JSON_H_

#include <string>

#include "google/protobuf/message.h"

namespace cairn::json {

// Appends `message`'s fields, one per line, as members of a JSON object
// whose braces the caller writes, indented two spaces per `depth`; a comma
// goes before each when *first is false, and *first ends false if any was
// written. Doubles are written in their shortest form that reads back
// exactly; a non-finite one as null.
void AppendProtoFields(const google::protobuf::Message& message, int depth, bool* first,
                       std::string* out);

// `message` as one JSON object, indented two spaces per level, with a
// trailing newline.
std::string ProtoToJson(const google::protobuf::Message& message);

}  // namespace cairn::json

#endif  // CAIRN_JSON_PROTO_JSON_H_
