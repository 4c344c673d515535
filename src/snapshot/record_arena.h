// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The snapshot record that a writer fills or a reader parses next, on a
// protobuf arena. A record's many small parts (a journey report's nodes and
// edges, a subject's values, the sub-message of the record's oneof) come
// from a few blocks instead of a heap allocation each, which was most of the
// cost of a small snapshot or restore.
//
// Thread-safety: belongs to one thread.

#ifndef CAIRN_SNAPSHOT_RECORD_ARENA_H_
#define CAIRN_SNAPSHOT_RECORD_ARENA_H_

#include <cstdint>

#include "cairn/v1/snapshot.pb.h"
#include "google/protobuf/arena.h"

namespace cairn::internal {

class RecordArena {
 public:
  RecordArena() : arena_(initial_block_, sizeof(initial_block_)) {}
  RecordArena(const RecordArena&) = delete;
  RecordArena& operator=(const RecordArena&) = delete;

  // An empty record, valid until the next call. Clearing a record drops the
  // sub-message of its oneof without freeing it (arena memory is freed all
  // at once), so the arena is emptied once it holds kResetBytes: memory does
  // not grow with the snapshot.
  v1::SnapshotRecord* Next() {
    if (record_ != nullptr && arena_.SpaceUsed() >= kResetBytes) {
      arena_.Reset();
      record_ = nullptr;
    }
    if (record_ == nullptr) {
      record_ = google::protobuf::Arena::CreateMessage<v1::SnapshotRecord>(&arena_);
    } else {
      record_->Clear();
    }
    return record_;
  }

 private:
  static constexpr uint64_t kResetBytes = uint64_t{1} << 20;

  // The arena's first block: a small snapshot needs no other. Declared
  // before arena_, which uses it.
  alignas(8) char initial_block_[8 * 1024];
  google::protobuf::Arena arena_;
  v1::SnapshotRecord* record_ = nullptr;
};

}  // namespace cairn::internal

#endif  // CAIRN_SNAPSHOT_RECORD_ARENA_H_
