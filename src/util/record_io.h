// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Checksummed, length-delimited records on a stream: varint length, bytes,
// CRC-32C of the bytes (4 bytes, little-endian). Used for engine snapshots.
// Each record is read and written on its own, so memory does not grow with
// the stream.
//
// Thread-safety: a writer or reader belongs to one thread.

#ifndef CAIRN_UTIL_RECORD_IO_H_
#define CAIRN_UTIL_RECORD_IO_H_

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message_lite.h"

namespace cairn::internal {

// CRC-32C (Castagnoli) of `data`.
uint32_t Crc32c(absl::string_view data);

class RecordWriter {
 public:
  explicit RecordWriter(std::ostream* out) : out_(out) {}
  // Serializes and writes one record. DataLoss if the stream fails.
  absl::Status Write(const google::protobuf::MessageLite& record);
  uint64_t records() const { return records_; }
  uint64_t bytes() const { return bytes_; }

 private:
  std::ostream* out_;
  std::string buffer_;
  uint64_t records_ = 0;
  uint64_t bytes_ = 0;
};

class RecordReader {
 public:
  explicit RecordReader(std::istream* in) : in_(in) {}
  // Reads the next record into *record. Returns false at a clean end of
  // stream; DataLoss (naming the record number) for a truncated record, a
  // checksum mismatch or bytes that do not parse.
  absl::StatusOr<bool> Read(google::protobuf::MessageLite* record);
  uint64_t records() const { return records_; }

 private:
  std::istream* in_;
  std::string buffer_;
  uint64_t records_ = 0;
};

}  // namespace cairn::internal

#endif  // CAIRN_UTIL_RECORD_IO_H_
