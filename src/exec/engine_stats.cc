// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include <cstddef>

#include <cstdint>
#include <vector>

#include "cairn/engine.h"
#include "exec/engine_state.h"

namespace cairn {

// StatFields lists every counter but the two derived ones: a field added to
// EngineStats without being added there would be neither summed nor
// snapshotted.
static_assert(sizeof(EngineStats) == sizeof(int64_t) * (24 + 2),
              "a new EngineStats field must be added to internal::StatFields");

EngineStats& EngineStats::operator+=(const EngineStats& other) {
  EngineStats copy = other;
  const std::vector<int64_t*> from = internal::StatFields(&copy);
  const std::vector<int64_t*> into = internal::StatFields(this);
  for (size_t i = 0; i < from.size(); ++i) *into[i] += *from[i];
  subjects += other.subjects;
  enrollments_in_flight += other.enrollments_in_flight;
  return *this;
}

}  // namespace cairn
