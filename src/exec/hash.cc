// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/hash.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "util/stable_hasher.h"
#include "exec/variant.h"

namespace cairn {

uint64_t StableHash64(std::initializer_list<absl::string_view> parts) {
  internal::StableHasher hasher;
  for (absl::string_view part : parts) hasher.Add(part);
  return hasher.Finish();
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
  std::string out(16, '0');
  internal::WriteHashHex(hash, out.data());
  return out;
}

}  // namespace cairn
