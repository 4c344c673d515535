// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The checks every engine input passes at the boundary, before it changes
// anything: required fields, well-formed UTF-8 in every string (ids, names,
// attribute and property keys, string values) and times the engine can
// hold. State the engine keeps is built only from inputs that passed, so
// every snapshot it writes can be read back.
//
// Each error is InvalidArgument and names the input and the field; the
// untrusted text in it is escaped (util/utf8.h), so a message can be logged
// as it is.
//
// Thread-safety: pure functions.

#ifndef CAIRN_EXEC_INPUT_CHECKS_H_
#define CAIRN_EXEC_INPUT_CHECKS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/event.h"
#include "cairn/input.h"

namespace cairn::internal {

// OK when `value` is well-formed UTF-8, else an error naming `input` (what
// the input is, e.g. "event login of subject u1") and `field`.
absl::Status CheckUtf8(absl::string_view value, absl::string_view input,
                       absl::string_view field);

// Checks each name and string value (string lists included) of
// `attributes` for UTF-8, and each timestamp value for a time a snapshot can
// hold (0001-01-01 to 9999-12-31); `kind` names them in errors ("property",
// "attribute", "context").
absl::Status CheckAttributes(const Attributes& attributes, absl::string_view input,
                             absl::string_view kind);

// The bytes of text in `attributes`: names, string values and string-list
// items. What EngineOptions::max_input_bytes and max_profile_bytes count.
int64_t TextBytes(const Attributes& attributes);

// The bytes of text in one named value.
int64_t TextBytes(absl::string_view name, const Value& value);

// OK when `bytes` <= `max_bytes`; else InvalidArgument naming `input`.
absl::Status CheckInputBytes(int64_t bytes, int64_t max_bytes, absl::string_view input);

// The rule that an event names its subject, in the one wording the engine
// and ShardedEngine (which needs the subject to pick a shard) share:
// "event NAME: subject_id is empty" ("(unnamed)" for an empty name).
absl::Status CheckEventSubject(const Event& event);

// The same rule for a profile update: "UpsertProfile: subject id is empty".
absl::Status CheckProfileSubject(absl::string_view subject_id);

// The same rule for an enrollment: "Enroll into journey J: subject id is
// empty" (J escaped).
absl::Status CheckEnrollSubject(absl::string_view journey_id, absl::string_view subject_id);

// An event's required fields (subject id, by CheckEventSubject; name; a
// finite time), its strings and properties, and its size (at most
// `max_bytes` of text).
absl::Status CheckEvent(const Event& event, int64_t max_bytes);

// A profile update's subject (non-empty, by CheckProfileSubject), attribute
// names (non-empty), strings and size (at most `max_bytes` of text).
absl::Status CheckProfileUpdate(absl::string_view subject_id, absl::string_view subject_type,
                                const Attributes& attributes, int64_t max_bytes);

// An enrollment's subject and entry context (strings and size); its
// emptiness is the caller's, which orders it after the journey lookup.
absl::Status CheckEnrollment(absl::string_view journey_id, absl::string_view subject_id,
                             const Attributes& context, int64_t max_bytes);

// A delivery report's reason: UTF-8, at most `max_bytes`.
absl::Status CheckDeliveryReason(absl::string_view message_id, absl::string_view reason,
                                 int64_t max_bytes);

// A behaviour seed's subject (non-empty), its strings (subject, type,
// behaviour name, string values) and size (at most `max_bytes` of text).
// Its shape against the behaviour's function is the BehaviorStore's to
// check.
absl::Status CheckBehaviorSeed(const BehaviorSeed& seed, int64_t max_bytes);

// An erasure's subject: non-empty, UTF-8 id and type, at most `max_bytes`.
absl::Status CheckErasure(absl::string_view subject_id, absl::string_view subject_type,
                          int64_t max_bytes);

// A merge's subjects: both non-empty and different, UTF-8 ids and type, at
// most `max_bytes` of text.
absl::Status CheckMerge(absl::string_view from_id, absl::string_view into_id,
                        absl::string_view subject_type, int64_t max_bytes);

// OK when `time` is in [EarliestInputTime(), LatestInputTime()); an error
// naming `input` otherwise (infinite times included).
absl::Status CheckInputTimeRange(absl::Time time, absl::string_view input);

}  // namespace cairn::internal

#endif  // CAIRN_EXEC_INPUT_CHECKS_H_
