// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The input records of a Cairn deployment on Kafka: one topic carries every
// engine input — events, profile updates, audience enrollments, delivery
// reports and clock ticks — each in one record, keyed by subject id so that
// a subject's inputs stay in one partition, in order. A record holds one
// cairn::EngineInput (cairn/input.h): DecodeRecord reads it, the Encode
// functions write it, and Engine::Apply applies it.
//
// Record layout:
//   key      the subject id. Required for every kind but the broadcast
//            ones (ticks, deploys, state changes, behaviour declarations:
//            cairn::IsBroadcast), for
//            which it is ignored (an unkeyed record lands in an arbitrary
//            partition, away from the rest of its subject's inputs). When
//            the payload names a subject too, the two must be equal; when
//            it does not, the key supplies it.
//   header   "cairn-format": "json" or "proto". Required.
//   value    the payload, in that format.
//
// "json": one JSON object, with a "kind":
//   event (the default when "kind" is absent): exactly an event line of the
//     logs `cairn sim` reads (src/sim/event_log.h, docs/simulator.md):
//       {"id":"e1","subject":"u1","subject_type":"user","name":"add_to_cart",
//        "time":"2026-01-05T10:00:00Z","properties":{"sku":"A-1","price":9.9}}
//   profile: {"kind":"profile","subject":"u1","subject_type":"user",
//             "attributes":{"tier":"gold","coupon":null},
//             "time":"2026-01-05T10:00:00Z"}
//     (a null attribute removes it)
//   enroll: {"kind":"enroll","journey":"winback","subject":"u1",
//            "context":{"segment":"lapsed"},"time":"2026-01-05T10:00:00Z"}
//   delivery: {"kind":"delivery","message_id":"5f0c...","outcome":"delivered",
//              "reason":"","subject":"u1","time":"2026-01-05T10:00:00Z"}
//     ("outcome" is "delivered" or "failed"; "reason" is optional)
//   tick: {"kind":"tick","time":"2026-01-05T10:00:00Z"}
//   state: {"kind":"state","journey":"winback","state":"paused",
//           "time":"2026-01-05T10:00:00Z"}
//     ("state" is "active", "paused" or "stopped")
//   seed: {"kind":"seed","subject":"u1","behavior":"shares","value":40,
//          "time":"2026-01-05T10:00:00Z"}
//     or, with history instead of a value ("count" defaults to 1, "value"
//     is the entry's number or distinct value where the function reads one):
//         {"kind":"seed","subject":"u1","behavior":"spent_30d",
//          "history":[{"time":"2026-01-03T10:00:00Z","count":3,"value":19.5}],
//          "time":"2026-01-05T10:00:00Z"}
// A deploy record and a behaviors record (declarations) exist in the proto
// format only (their contents are protos).
// Times are RFC 3339 and required. Values (properties, attributes, context)
// are strings, numbers (integral ones become ints), booleans, lists of
// strings or null. "subject" may be left out (the key supplies it); every
// other field is as in the event lines. An unknown field is an error, so a
// misspelt one is never ignored.
//
// "proto": a serialized cairn.v1.InputRecord (proto/cairn/v1/input.proto),
// whose one-of holds an Event, ProfileUpdate, Enrollment, DeliveryReport,
// ClockTick, JourneyDeploy, JourneyStateChange, BehaviorSeed or
// BehaviorDeclaration. The same fields are
// required; a subject_id may be left empty (the key supplies it). As
// everywhere in protobuf, fields this build does not know (a newer
// writer's) are skipped, except inside a deployed journey or declared
// behaviours: those with fields this build does not know are refused, since
// they may change what they mean.
//
// Time comes from the records, never from a clock: an input's time moves
// engine time forward, and ticks let time pass where no input arrives.
//
// Thread-safety: pure functions.

#ifndef CAIRN_KAFKA_RECORD_H_
#define CAIRN_KAFKA_RECORD_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/input.h"
#include "cairn/v1/journey.pb.h"

namespace cairn::kafka {

// The name of the record header that selects the payload format.
inline constexpr absl::string_view kFormatHeader = "cairn-format";
// Its values.
inline constexpr absl::string_view kJsonFormat = "json";
inline constexpr absl::string_view kProtoFormat = "proto";

// The journey state a JSON state record names: "active", "paused" or
// "stopped". InvalidArgument naming the value otherwise.
absl::StatusOr<v1::JourneyState> JourneyStateFromName(absl::string_view name);

// Decodes one record. InvalidArgument naming what is wrong (the field and
// its value; the caller adds partition:offset): an unknown or missing
// format header, a payload that does not parse, an unknown kind or field, a
// missing required field, a value the engine cannot hold, no key, or a key
// that differs from the payload's subject.
absl::StatusOr<EngineInput> DecodeRecord(absl::string_view key,
                                         absl::string_view format_header,
                                         absl::string_view payload);

// OK when the input can be encoded: required fields set (subject ids,
// event name, journey id, message id, a journey state), a finite time within
// 0001-01-01..9999-12-31. InvalidArgument naming the field otherwise.
absl::Status ValidateInput(const EngineInput& input);

// Encodes a record payload (use the subject id as the key and set the
// header to kJsonFormat / kProtoFormat). DecodeRecord gives the input back
// exactly (with attributes sorted by name). Events are written without a
// "kind", as `cairn sim` event lines.
//
// InvalidArgument if ValidateInput fails or a value has no exact form in the
// format: JSON has no timestamps, no non-finite numbers, no integral
// doubles below 2^53 (they read back as ints) and no ints beyond +-2^53
// (they would read back rounded) and no deploy records; proto has no null
// values except in profile updates (where they are written as `removed`).
absl::StatusOr<std::string> EncodeJsonRecord(const EngineInput& input);
absl::StatusOr<std::string> EncodeProtoRecord(const EngineInput& input);

}  // namespace cairn::kafka

#endif  // CAIRN_KAFKA_RECORD_H_
