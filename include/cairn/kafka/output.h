// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The records a Cairn worker writes (cairn/kafka/worker.h): one per message
// an action sends, to the message topic, one per profile write-back, to the
// profile topic, and one per deploy or state-change record a partition
// applies or refuses, to the deploy-result topic. Messages and write-backs
// are keyed by subject id, deploy results by journey id; each record carries
// the header "cairn-format": "json" and holds one JSON object.
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
// Deploy-result records, one per partition for each deploy or state-change
// record (cairn deploy, cairn state), written when the partition reads it:
//   {"partition":3,"offset":181236,"time":"2026-03-01T09:00:00Z",
//    "change":"deploy","journey":"cart_abandonment","version":2,
//    "result":"applied","versions":[1,2]}
//   {"partition":5,"offset":181240,"time":"2026-03-01T09:00:00Z",
//    "change":"deploy","journey":"cart_abandonment","version":3,
//    "result":"refused","error":"journey cart_abandonment: version 3 ...",
//    "versions":[1,2]}
//   {"partition":3,"offset":181300,"time":"2026-03-01T10:00:00Z",
//    "change":"state","journey":"repurchase_coupon","state":"PAUSED",
//    "result":"applied","versions":[1]}
// "partition" and "offset" locate the input record; "version" is given for
// deploys, "state" for state changes, "error" when refused. "versions" are
// the versions of the journey the partition has deployed after the record,
// oldest first (the last takes new entries; empty when it has none). A
// partition replayed after a crash writes its results again: (partition,
// offset) identifies a result.
//
// Thread-safety: pure functions.

#ifndef CAIRN_KAFKA_OUTPUT_H_
#define CAIRN_KAFKA_OUTPUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/sink.h"

namespace cairn::kafka {

// The header that holds a message record's id.
inline constexpr absl::string_view kMessageIdHeader = "cairn-message-id";

// The value of a message record.
std::string EncodeMessageRecord(const Message& message);

// The value of a profile write-back record.
std::string EncodeProfileWriteRecord(const ProfileWrite& write);

// What one partition did with one deploy, state-change or behaviors record.
struct JourneyChangeResult {
  // Where the input record is.
  int32_t partition = 0;
  int64_t offset = 0;
  // The record's time.
  absl::Time time;
  // "deploy", "state" or "behaviors".
  std::string change;
  // The journey the record names (deploy, state).
  std::string journey_id;
  // deploy: the version it deploys.
  int64_t version = 0;
  // state: the state it sets, "ACTIVE", "PAUSED" or "STOPPED".
  std::string state;
  // True when the partition applied it; false when its engine refused it.
  bool applied = false;
  // Refused: why (the engine's message).
  std::string error;
  // The versions of the journey the partition has deployed after the
  // record, oldest first (deploy, state).
  std::vector<int64_t> versions;
  // behaviors: the names the record declares, in its order.
  std::vector<std::string> behaviors;
};

// The value of a deploy-result record. Text that is not UTF-8 (a journey id
// or message from a record) is written escaped.
std::string EncodeJourneyChangeResult(const JourneyChangeResult& result);

}  // namespace cairn::kafka

#endif  // CAIRN_KAFKA_OUTPUT_H_
