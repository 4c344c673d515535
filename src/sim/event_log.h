// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The JSON-lines formats `cairn sim` reads and `cairn gen` writes.
//
// Event line:
//   {"id": "e1", "subject": "u1", "subject_type": "user", "name": "add_to_cart",
//    "time": "2026-01-05T10:00:00Z", "properties": {"sku": "A-1", "price": 9.9}}
// "subject", "name" and "time" (RFC 3339) are required; "id",
// "subject_type" and "properties" are optional. Property values may be
// strings, numbers (integral ones become ints), booleans or lists of
// strings. Any other key is an error, so a misspelt field is never ignored.
//
// Profile line:
//   {"subject": "u1", "subject_type": "user", "attributes": {"tier": "gold"}}
//
// Thread-safety: pure functions.

#ifndef CAIRN_SIM_EVENT_LOG_H_
#define CAIRN_SIM_EVENT_LOG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/event.h"

namespace cairn::sim {

// Parses one event line. InvalidArgument says what is wrong (without the
// line number; the caller adds file:line).
absl::StatusOr<Event> ParseEventLine(absl::string_view line);

// One profile line.
struct ProfileLine {
  std::string subject_id;
  std::string subject_type;
  Attributes attributes;
};
absl::StatusOr<ProfileLine> ParseProfileLine(absl::string_view line);

// Appends `s` to *out as a JSON string literal (quotes included).
void AppendJsonString(absl::string_view s, std::string* out);

// Formats a time as the RFC 3339 text the event lines use (UTC, "Z").
std::string FormatEventTime(absl::Time t);

}  // namespace cairn::sim

#endif  // CAIRN_SIM_EVENT_LOG_H_
