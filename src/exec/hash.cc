// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/hash.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "exec/variant.h"

namespace cairn {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t FnvBytes(uint64_t h, const unsigned char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= data[i];
    h *= kFnvPrime;
  }
  return h;
}

uint64_t SplitMix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t StableHash64(std::initializer_list<absl::string_view> parts) {
  uint64_t h = kFnvOffset;
  for (absl::string_view part : parts) {
    uint64_t len = part.size();
    unsigned char len_bytes[8];
    for (int i = 0; i < 8; ++i) {
      len_bytes[i] = static_cast<unsigned char>(len >> (8 * i));
    }
    h = FnvBytes(h, len_bytes, 8);
    h = FnvBytes(h, reinterpret_cast<const unsigned char*>(part.data()),
                 part.size());
  }
  return SplitMix64(h);
}

int AssignVariant(uint64_t split_seed, absl::string_view journey_id,
                  absl::string_view split_node_id, absl::string_view subject_type,
                  absl::string_view subject_id, absl::Span<const int32_t> weights) {
  std::vector<int64_t> cumulative;
  int64_t total = 0;
  for (int32_t w : weights) cumulative.push_back(total += w);
  const std::string seed = absl::StrCat(split_seed);
  return internal::PickVariant(
      StableHash64({seed, journey_id, split_node_id, subject_type, subject_id}),
      cumulative);
}

std::string HashToHex(uint64_t hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[i] = kDigits[hash & 0xf];
    hash >>= 4;
  }
  return out;
}

}  // namespace cairn
