// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "exec/subject_table.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "exec/engine_state.h"

namespace cairn::internal {

uint32_t SubjectTable::Intern(absl::string_view type, absl::string_view id) {
  const uint32_t type_number = InternType(type);
  return index_.FindOrAppend(type_number, id, [&] {
    const uint32_t slot = static_cast<uint32_t>(records_.size());
    SubjectState& s = records_.emplace_back();
    s.type = type_number;
    s.id = std::string(id);
    return slot;
  });
}

uint32_t SubjectTable::AppendRestored(absl::string_view type, SubjectState state) {
  const uint32_t slot = static_cast<uint32_t>(records_.size());
  state.type = InternType(type);
  records_.push_back(std::move(state));
  index_.Insert(slot);  // False for a repeated (type, id): see the header.
  return slot;
}

void SubjectTable::Clear() {
  records_.clear();
  index_.Clear();
  types_.clear();
  type_numbers_.clear();
}

uint32_t SubjectTable::InternType(absl::string_view type) {
  auto [it, added] = type_numbers_.try_emplace(type, static_cast<uint32_t>(types_.size()));
  if (added) types_.emplace_back(type);
  return it->second;
}

}  // namespace cairn::internal
