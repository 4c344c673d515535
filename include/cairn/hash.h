// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The stable hashes behind split assignment and message ids, published so a
// host (or its analytics warehouse) can reproduce them exactly. They never
// change within a major version of Cairn.
//
// StableHash64(parts): FNV-1a 64 (offset basis 0xcbf29ce484222325, prime
// 0x100000001b3) over each part as its length in 8 little-endian bytes then
// its bytes, finished with the SplitMix64 mixer:
//   z = h + 0x9e3779b97f4a7c15;
//   z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
//   z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
//   return z ^ (z >> 31);
//
// Split assignment: h = StableHash64({decimal(split_seed), journey id,
// split node id, subject type, subject id}); with variant weights w0..wn-1
// and total W, the subject gets the first variant i with
// h % W < w0 + ... + wi.
//
// Thread-safety: pure functions.

#ifndef CAIRN_HASH_H_
#define CAIRN_HASH_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace cairn {

// The documented stable hash of a sequence of byte strings.
uint64_t StableHash64(std::initializer_list<absl::string_view> parts);

// The split variant index for a subject, as described above.
// REQUIRES: weights non-empty and all positive.
int AssignVariant(uint64_t split_seed, absl::string_view journey_id,
                  absl::string_view split_node_id, absl::string_view subject_type,
                  absl::string_view subject_id, absl::Span<const int32_t> weights);

// 16 lower-case hex digits.
std::string HashToHex(uint64_t hash);

}  // namespace cairn

#endif  // CAIRN_HASH_H_
