// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The JSON-lines formats `cairn sim` reads and `cairn gen` writes, which the
// Kafka records (cairn/kafka/record.h) embed.
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
// and, in an event log, with a "time": a profile update at that time.
//
// Erasure line, in an event log (Engine::Forget at that time):
//   {"subject": "u1", "subject_type": "user", "time": "...", "forget": true}
// Merge line, in an event log (Engine::MergeSubjects at that time: the
// subject "anon-7" turns out to be "u1"):
//   {"subject": "u1", "subject_type": "user", "time": "...", "merge_from": "anon-7"}
//
// Thread-safety: pure functions.

#ifndef CAIRN_JSON_EVENT_LINES_H_
#define CAIRN_JSON_EVENT_LINES_H_

#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/event.h"
#include "json/json.h"

namespace cairn::json {

// Parses one event line. InvalidArgument says what is wrong (without the
// line number; the caller adds file:line).
// Reads the line in one pass when it is well formed, and otherwise through
// ParseJsonObject + EventFromJson, which give the same Event and word every
// error.
absl::StatusOr<Event> ParseEventLine(absl::string_view line);

// The one-pass reader alone, for tests and fuzzers: true with *out set when
// the line is an event EventFromJson(ParseJsonObject(line)) accepts, and
// then equal to its Event. False for every malformed line and for the rare
// valid one with an escape in a top-level key or in "time"; *out is then
// unspecified.
bool ParseEventLineFast(absl::string_view line, Event* out);

// One profile line.
struct ProfileLine {
  std::string subject_id;
  std::string subject_type;
  Attributes attributes;
};
// A profile line has no "time" (InvalidArgument saying where a timed
// update goes).
absl::StatusOr<ProfileLine> ParseProfileLine(absl::string_view line);

// One line of an event log: an event line, or a timed profile line (a
// profile line with a required "time"), a profile update at that time:
//   {"subject": "u1", "time": "2026-01-05T10:00:00Z", "attributes": {"tier": "gold"}}
// or an erasure line (its "forget" must be true), or a merge line. A line
// is a profile line when it has an "attributes" key, an erasure line when
// it has a "forget" key, and a merge line when it has a "merge_from" key.
struct LogLine {
  bool is_profile = false;
  bool is_erasure = false;
  bool is_merge = false;
  Event event;          // When none of the above.
  ProfileLine profile;  // When is_profile; when is_erasure or is_merge, its subject only.
  std::string merge_from;  // When is_merge.
  absl::Time time;      // The line's.
};
// Parses `line` into *out (reusing its storage). Errors as the two line
// parsers give them.
absl::Status ParseLogLine(absl::string_view line, LogLine* out);

// ---- Building blocks for formats that embed these lines ----
// (the JSON records of cairn/kafka/record.h). Errors are the ones the line
// parsers give. Each `object` must be of type kObject (from ParseJsonObject).

// Parses `text` as one JSON object: "not a JSON object[: reason]".
absl::StatusOr<JsonValue> ParseJsonObject(absl::string_view text);

// An event line already parsed into a JSON object.
absl::StatusOr<Event> EventFromJson(const JsonValue& object);

// InvalidArgument `unknown field "key"` for the first key of `object` not
// in `known`.
absl::Status CheckJsonKeys(const JsonValue& object,
                           std::initializer_list<absl::string_view> known);

// The string field `key` of `object`: "" when absent and not `required`;
// errors `missing "key"`, `"key" must be a string`, `"key" is empty`
// (required only).
absl::StatusOr<std::string> JsonStringField(const JsonValue& object,
                                            absl::string_view key, bool required);

// The required RFC 3339 time field `key`.
absl::StatusOr<absl::Time> JsonTimeField(const JsonValue& object, absl::string_view key);

// The object field `key` as attributes, sorted by name (none when absent):
// `"key" must be an object`; values as in event properties, `what` naming
// one in errors ("property", "attribute").
absl::StatusOr<Attributes> JsonAttributesField(const JsonValue& object,
                                               absl::string_view key,
                                               absl::string_view what);

// The value of `key` (null when absent) as an attribute value reads.
absl::StatusOr<Value> JsonValueField(const JsonValue& object, absl::string_view key);

// Formats a time as the RFC 3339 text the event lines use (UTC, "Z").
std::string FormatEventTime(absl::Time t);

}  // namespace cairn::json

#endif  // CAIRN_JSON_EVENT_LINES_H_
