// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "exec/subject_table.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "cairn/hash.h"
#include "exec/engine_state.h"

namespace cairn::internal {

uint32_t SubjectTable::Intern(absl::string_view type, absl::string_view id) {
  return Intern(InternType(type), id);
}

uint32_t SubjectTable::Intern(uint32_t type_number, absl::string_view id) {
  return index_.FindOrAppend(type_number, id, [&] {
    const uint32_t slot = static_cast<uint32_t>(records_.size());
    SubjectState& s = records_.emplace_back();
    s.type = type_number;
    s.id = std::string(id);
    if (!forgotten_.empty()) {
      auto it = forgotten_.find(ForgottenKey(types_[type_number], id));
      if (it != forgotten_.end()) s.incarnation = it->second;
    }
    return slot;
  });
}

uint32_t SubjectTable::AppendRestored(absl::string_view type, SubjectState state) {
  const uint32_t slot = static_cast<uint32_t>(records_.size());
  state.type = InternType(type);
  const bool erased = state.erased;
  records_.push_back(std::move(state));
  if (erased) {
    ++erased_;
  } else {
    index_.Insert(slot);  // False for a repeated (type, id): see the header.
  }
  return slot;
}

void SubjectTable::Erase(uint32_t slot) {
  SubjectState& s = records_[slot];
  if (s.erased) return;
  index_.Erase(slot);
  uint16_t& times = forgotten_[ForgottenKey(types_[s.type], s.id)];
  if (times < UINT16_MAX) ++times;
  // The id's bytes are overwritten in place: an emptied string keeps its
  // buffer (inline or on the heap), and with it the text it held.
  std::fill(s.id.begin(), s.id.end(), '\0');
  SubjectState empty;
  empty.type = s.type;
  empty.erased = true;
  s = std::move(empty);
  ++erased_;
}

void SubjectTable::Clear() {
  records_.clear();
  index_.Clear();
  erased_ = 0;
  forgotten_.clear();
  types_.clear();
  type_numbers_.clear();
}

uint64_t SubjectTable::ForgottenKey(absl::string_view type, absl::string_view id) {
  return StableHash64({"forgotten", type, id});
}

std::vector<std::pair<uint64_t, uint16_t>> SubjectTable::Forgotten() const {
  std::vector<std::pair<uint64_t, uint16_t>> out(forgotten_.begin(), forgotten_.end());
  std::sort(out.begin(), out.end());
  return out;
}

bool SubjectTable::RestoreForgotten(uint64_t key, uint16_t times) {
  return times > 0 && forgotten_.try_emplace(key, times).second;
}

uint32_t SubjectTable::InternType(absl::string_view type) {
  auto [it, added] = type_numbers_.try_emplace(type, static_cast<uint32_t>(types_.size()));
  if (added) types_.emplace_back(type);
  return it->second;
}

}  // namespace cairn::internal
