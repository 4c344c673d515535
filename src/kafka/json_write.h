// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// JSON writing shared by the input records (record.cc) and the worker's
// output records (output.cc).

#ifndef CAIRN_KAFKA_JSON_WRITE_H_
#define CAIRN_KAFKA_JSON_WRITE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cairn/value.h"

namespace cairn::kafka::internal {

// Quotes a string for an error message or a log line (not for JSON): the
// string comes from a record, so it is escaped (cairn::internal::Escaped)
// and can neither drive a terminal nor break the line or forge another.
std::string Quote(absl::string_view s);

// Writes a value exactly as the JSON record reader gives it back, or says
// why it cannot (a timestamp, a non-finite or integral double, an int
// beyond +-2^53).
absl::Status AppendExactJsonValue(const Value& v, std::string* out);

// Writes any value, as closely as JSON allows: what AppendExactJsonValue
// refuses is written as an integral double with ".0", a timestamp as its
// RFC 3339 text, a non-finite double as null.
void AppendLenientJsonValue(const Value& v, std::string* out);

// Appends ,"key":"value" — without the comma after an opening brace.
void AppendField(absl::string_view key, absl::string_view value, std::string* out);

// Appends ,"key": — without the comma after an opening brace.
void AppendKey(absl::string_view key, std::string* out);

}  // namespace cairn::kafka::internal

#endif  // CAIRN_KAFKA_JSON_WRITE_H_
