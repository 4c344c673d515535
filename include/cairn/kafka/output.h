// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The records a Cairn worker writes (cairn/kafka/worker.h): one per message
// an action sends, to the message topic, and one per profile write-back, to
// the profile topic. Both are keyed by subject id, carry the header
// "cairn-format": "json", and hold one JSON object.
//
// Message records also carry the header "cairn-message-id": the message's
// deterministic id (Message::message_id). A worker that restarts from a
// checkpoint replays the records after it and sends the same messages with
// the same ids again, so a downstream sender must de-duplicate by this id
// (docs/scale-out.md). The value:
//   {"message_id":"5f0c...","journey":"cart_abandonment","version":1,
//    "node":"price_drop_push","channel":"push","template":"price_drop",
//    "subject":"u1","subject_type":"user","time":"2026-01-05T10:00:00Z",
//    "params":{"sku":"A-1"},"variant":"price_drop","awaits_delivery":false}
// ("variant" is left out when empty; params are sorted by key.)
//
// Profile write-back records:
//   {"subject":"u1","subject_type":"user","journey":"winback","node":"tag",
//    "time":"2026-01-05T10:00:00Z","set":{"tier":"gold"},"unset":["coupon"],
//    "add_tags":["vip"],"remove_tags":[]}
// Values are written as in input records where JSON can hold them exactly;
// otherwise an integral double is written with ".0", a timestamp as its
// RFC 3339 text and a non-finite double as null (a write-back is never
// refused: the engine has applied it already).
//
// Thread-safety: pure functions.

#ifndef CAIRN_KAFKA_OUTPUT_H_
#define CAIRN_KAFKA_OUTPUT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "cairn/sink.h"

namespace cairn::kafka {

// The header that holds a message record's id.
inline constexpr absl::string_view kMessageIdHeader = "cairn-message-id";

// The value of a message record.
std::string EncodeMessageRecord(const Message& message);

// The value of a profile write-back record.
std::string EncodeProfileWriteRecord(const ProfileWrite& write);

}  // namespace cairn::kafka

#endif  // CAIRN_KAFKA_OUTPUT_H_
