// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// StableHasher: StableHash64 (cairn/hash.h documents the algorithm) fed one
// part at a time, so the engine can hash a run of parts that never changes
// (a journey version's id and version) once and continue from that state for
// each message id; and WriteHashHex, HashToHex without a new string. Also
// SplitMix64's mixer, which it finishes with, for the random streams.
//
// Thread-safety: a value type; not thread-safe.

#ifndef CAIRN_UTIL_STABLE_HASHER_H_
#define CAIRN_UTIL_STABLE_HASHER_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace cairn::internal {

// SplitMix64's increment (the golden ratio in 64 bits) and its output
// mixer: what StableHash64 finishes with, and what the simulator's and the
// bandits' random streams draw through.
inline constexpr uint64_t kSplitMix64Increment = 0x9e3779b97f4a7c15ULL;
inline constexpr uint64_t SplitMix64Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The 53 high bits of `bits` as a number in [0, 1), every double there
// equally likely.
inline constexpr double UnitInterval(uint64_t bits) {
  return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);
}

class StableHasher {
 public:
  // Adds one part: its length in 8 little-endian bytes, then its bytes.
  StableHasher& Add(absl::string_view part) {
    // FNV-1a is a chain of dependent multiplies, one per byte. A zero byte
    // leaves h ^ 0 == h, so a run of k zero bytes is one multiply by
    // prime^k: the high bytes of a length (all zero below 256) cost one
    // multiply, not seven. The result is the same, bit for bit.
    uint64_t len = part.size();
    size_t bytes = 0;
    for (; len != 0; len >>= 8, ++bytes) h_ = (h_ ^ (len & 0xff)) * kPrime;
    h_ *= kPrimePowers[8 - bytes];
    for (unsigned char c : part) h_ = (h_ ^ c) * kPrime;
    return *this;
  }

  // The hash of the parts added so far.
  uint64_t Finish() const { return SplitMix64Mix(h_ + kSplitMix64Increment); }

 private:
  static constexpr uint64_t kOffset = 0xcbf29ce484222325ULL;
  static constexpr uint64_t kPrime = 0x100000001b3ULL;
  // kPrimePowers[k] == kPrime^k (mod 2^64).
  static constexpr std::array<uint64_t, 9> kPrimePowers = [] {
    std::array<uint64_t, 9> powers{};
    uint64_t p = 1;
    for (uint64_t& power : powers) {
      power = p;
      p *= kPrime;
    }
    return powers;
  }();

  uint64_t h_ = kOffset;
};

// Writes HashToHex(hash), 16 lower-case hex digits, to out[0, 16): for a
// string that keeps its buffer from one message id to the next.
inline void WriteHashHex(uint64_t hash, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = kDigits[hash & 0xf];
    hash >>= 4;
  }
}

}  // namespace cairn::internal

#endif  // CAIRN_UTIL_STABLE_HASHER_H_
