// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "util/record_io.h"

#include <algorithm>
#include <array>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace cairn::internal {
namespace {

constexpr uint64_t kMaxRecordBytes = 1u << 30;  // Far below protobuf's 2 GiB.

// Slicing-by-8 tables: kTables[0] is the byte-at-a-time table, and
// kTables[k][b] is the CRC of byte b followed by k zero bytes, so that eight
// bytes are folded in with eight independent lookups instead of a chain of
// eight. Snapshots checksum every record they write and read, and byte at a
// time this was a good part of a small snapshot's cost.
using Crc32cTables = std::array<std::array<uint32_t, 256>, 8>;

Crc32cTables MakeTables() {
  Crc32cTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0x82f63b78u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (size_t k = 1; k < t.size(); ++k) t[k][i] = t[0][t[k - 1][i] & 0xff] ^ (t[k - 1][i] >> 8);
  }
  return t;
}

}  // namespace

uint32_t Crc32c(absl::string_view data) {
  static const Crc32cTables kTables = MakeTables();
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  uint32_t crc = 0xffffffffu;
  for (; n >= 8; p += 8, n -= 8) {
    // (Assembled byte by byte: the same on any byte order.)
    const uint32_t lo = crc ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
                               uint32_t{p[3]} << 24);
    crc = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^ kTables[5][(lo >> 16) & 0xff] ^
          kTables[4][lo >> 24] ^ kTables[3][p[4]] ^ kTables[2][p[5]] ^ kTables[1][p[6]] ^
          kTables[0][p[7]];
  }
  for (; n > 0; ++p, --n) crc = kTables[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

absl::Status RecordWriter::Write(const google::protobuf::MessageLite& record) {
  buffer_.clear();
  if (!record.SerializeToString(&buffer_)) {
    return absl::InternalError("snapshot record cannot be serialized");
  }
  if (buffer_.size() > kMaxRecordBytes) {
    // The reader would refuse it: a snapshot that does not restore is data
    // lost, so refuse to write it instead. (The engine's limits keep every
    // record far below this; reaching it is a bug.)
    return absl::InternalError(absl::StrCat("snapshot record of ", buffer_.size(),
                                            " bytes is larger than a reader takes (",
                                            kMaxRecordBytes, ")"));
  }
  char header[10];
  size_t n = 0;
  uint64_t len = buffer_.size();
  do {
    header[n++] = static_cast<char>((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
    len >>= 7;
  } while (len != 0);
  const uint32_t crc = Crc32c(buffer_);
  char crc_bytes[4];
  for (int i = 0; i < 4; ++i) crc_bytes[i] = static_cast<char>(crc >> (8 * i));
  out_->write(header, static_cast<std::streamsize>(n));
  out_->write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  out_->write(crc_bytes, 4);
  if (!*out_) return absl::DataLossError("snapshot: write failed");
  ++records_;
  bytes_ += n + buffer_.size() + 4;
  return absl::OkStatus();
}

absl::StatusOr<bool> RecordReader::Read(google::protobuf::MessageLite* record) {
  uint64_t len = 0;
  int shift = 0;
  for (int i = 0;; ++i) {
    const int c = in_->get();
    if (c == std::char_traits<char>::eof()) {
      if (i == 0) return false;
      return absl::DataLossError(
          absl::StrCat("snapshot: record ", records_ + 1, " is truncated (length)"));
    }
    len |= static_cast<uint64_t>(c & 0x7f) << shift;
    shift += 7;
    if ((c & 0x80) == 0) break;
    if (shift > 63) {
      return absl::DataLossError(
          absl::StrCat("snapshot: record ", records_ + 1, " has a bad length"));
    }
  }
  if (len > kMaxRecordBytes) {
    return absl::DataLossError(
        absl::StrCat("snapshot: record ", records_ + 1, " claims ", len, " bytes"));
  }
  // Read in chunks, growing the buffer only as bytes arrive, so that a
  // corrupted length costs no more memory than the stream really holds.
  constexpr uint64_t kChunk = 1 << 20;
  buffer_.clear();
  bool complete = true;
  while (buffer_.size() < len) {
    const size_t have = buffer_.size();
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, len - have));
    buffer_.resize(have + want);
    if (!in_->read(buffer_.data() + have, static_cast<std::streamsize>(want))) {
      complete = false;
      break;
    }
  }
  char crc_bytes[4];
  if (!complete || !in_->read(crc_bytes, 4)) {
    return absl::DataLossError(
        absl::StrCat("snapshot: record ", records_ + 1, " is truncated"));
  }
  uint32_t crc = 0;
  for (int i = 0; i < 4; ++i) crc |= static_cast<uint32_t>(static_cast<unsigned char>(crc_bytes[i])) << (8 * i);
  if (crc != Crc32c(buffer_)) {
    return absl::DataLossError(
        absl::StrCat("snapshot: record ", records_ + 1, " fails its checksum"));
  }
  if (!record->ParseFromString(buffer_)) {
    return absl::DataLossError(
        absl::StrCat("snapshot: record ", records_ + 1, " does not parse"));
  }
  ++records_;
  return true;
}

}  // namespace cairn::internal
