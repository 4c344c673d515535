// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The last step of split assignment (cairn/hash.h documents the whole rule),
// shared by AssignVariant() and the engine, which keeps running sums of the
// weights precompiled.

#ifndef CAIRN_EXEC_VARIANT_H_
#define CAIRN_EXEC_VARIANT_H_

#include <cstdint>

#include "absl/types/span.h"

namespace cairn::internal {

// The first index i with hash % total < cumulative[i], where total is
// cumulative.back(). REQUIRES: cumulative non-empty, increasing, total > 0.
inline int PickVariant(uint64_t hash, absl::Span<const int64_t> cumulative) {
  const uint64_t point = hash % static_cast<uint64_t>(cumulative.back());
  for (size_t i = 0; i < cumulative.size(); ++i) {
    if (point < static_cast<uint64_t>(cumulative[i])) return static_cast<int>(i);
  }
  return static_cast<int>(cumulative.size()) - 1;
}

}  // namespace cairn::internal

#endif  // CAIRN_EXEC_VARIANT_H_
