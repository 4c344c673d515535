// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// SubjectTable: every subject the engine has seen, by slot, with the index
// that finds a subject's slot from its (type, id) and the names of the
// subject types.
//
// A slot is a subject's number for good: records are appended and never
// move (ChunkedVector), so a reference to one stays valid as the table
// grows, until Clear. Subject types are numbered in order of first use;
// a record keeps its type's number (SubjectState::type).
//
// Thread-safety: none; the engine's single thread owns it.

#ifndef CAIRN_EXEC_SUBJECT_TABLE_H_
#define CAIRN_EXEC_SUBJECT_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "util/chunked_vector.h"
#include "exec/engine_state.h"
#include "exec/subject_index.h"

namespace cairn::internal {

class SubjectTable {
 public:
  using Records = ChunkedVector<SubjectState>;

  SubjectTable() = default;
  // Not copyable or movable: the index hashes and compares through a
  // pointer to the records.
  SubjectTable(const SubjectTable&) = delete;
  SubjectTable& operator=(const SubjectTable&) = delete;

  // ---- Lookups ----

  // The number of subject type `type`, if any subject of it is known (else
  // nullopt: no subject of that type can be found). One hash lookup.
  std::optional<uint32_t> TypeNumber(absl::string_view type) const {
    auto it = type_numbers_.find(type);
    if (it == type_numbers_.end()) return std::nullopt;
    return it->second;
  }

  // The slot of subject `id` of type number `type`, if the table holds it.
  // Adds nothing.
  std::optional<uint32_t> Find(uint32_t type, absl::string_view id) const {
    return index_.Find(type, id);
  }

  // The slot of subject `id` of type `type` (a name), if the table holds
  // it: TypeNumber, then Find. Adds nothing.
  std::optional<uint32_t> Find(absl::string_view type, absl::string_view id) const {
    const std::optional<uint32_t> number = TypeNumber(type);
    if (!number) return std::nullopt;
    return index_.Find(*number, id);
  }

  // Starts fetching the index entry where (type, id) would be, so that the
  // cache miss overlaps other work before Find or Intern. No other effect.
  void Prefetch(uint32_t type, absl::string_view id) const { index_.Prefetch(type, id); }

  // The slot of subject `id` of type `type`, adding a record for it (empty
  // profile, in no journey) and, if new, its type, when it is not held yet.
  // The slot stays the subject's until Clear.
  uint32_t Intern(absl::string_view type, absl::string_view id);

  // As Intern above, for a type already numbered (TypeNumber): no lookup of
  // the type's name. REQUIRES: type < type_count().
  uint32_t Intern(uint32_t type, absl::string_view id);

  // The name of the type of subject `s`, a record of this table.
  const std::string& TypeOf(const SubjectState& s) const { return types_[s.type]; }

  // How many subject types are numbered: a record's `type` is below it.
  size_t type_count() const { return types_.size(); }

  // ---- The records, by slot ----

  // The record at `slot`. REQUIRES: slot < size().
  SubjectState& operator[](uint32_t slot) { return records_[slot]; }
  const SubjectState& operator[](uint32_t slot) const { return records_[slot]; }

  // How many subjects are held; slots are 0 .. size() - 1.
  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }

  // The records in slot order.
  Records::iterator begin() { return records_.begin(); }
  Records::iterator end() { return records_.end(); }
  Records::const_iterator begin() const { return records_.begin(); }
  Records::const_iterator end() const { return records_.end(); }

  // ---- Erasure ----

  // Forgets subject `slot`'s id and data for good (Engine::Forget): it is
  // no longer found, and its record keeps only its type and the mark
  // `erased`, holding none of the subject's bytes. The slot is not reused,
  // so slot order (the order scheduled runs and snapshots follow) is kept;
  // an input naming the same id later makes a new subject. The caller has
  // released everything else that refers to the slot.
  void Erase(uint32_t slot);

  // How many records are erased; size() - erased() subjects are known.
  size_t erased() const { return erased_; }

  // The key under which the table counts how often subject (type, id) was
  // forgotten: StableHash64({"forgotten", type name, id}). The table keeps
  // these keys and counts (not the ids), so that a record made later for
  // the same (type, id) gets the count as its `incarnation`.
  static uint64_t ForgottenKey(absl::string_view type, absl::string_view id);

  // The forgotten keys and their counts, in key order.
  std::vector<std::pair<uint64_t, uint16_t>> Forgotten() const;
  // Restore: sets a key's count. False when the key is already set or the
  // count is 0.
  bool RestoreForgotten(uint64_t key, uint16_t times);

  // ---- Restore ----

  // Appends `state`, a subject read from a snapshot, at slot size() under
  // type `type` (numbered, if new, after the types already known; its
  // `type` field is set to that number) and returns the slot. A subject
  // whose (type, id) the table already holds is appended but not indexed:
  // Find keeps returning the earlier slot, which is how the restore check
  // (Find(s.type, s.id) != slot) tells a repeated id.
  // An erased record (state.erased) is appended and never indexed.
  uint32_t AppendRestored(absl::string_view type, SubjectState state);

  // Forgets every subject and every type name, and frees their memory: the
  // table is as new.
  void Clear();

 private:
  // The number of subject type `type`, numbering it if new.
  uint32_t InternType(absl::string_view type);

  // Declared before index_, which reads it.
  Records records_;
  SubjectIndex<Records> index_{&records_};
  // Subject type names by number, and their numbers by name.
  std::vector<std::string> types_;
  absl::flat_hash_map<std::string, uint32_t> type_numbers_;
  size_t erased_ = 0;  // Records with `erased` set.
  absl::flat_hash_map<uint64_t, uint16_t> forgotten_;  // ForgottenKey -> times.
};

}  // namespace cairn::internal

#endif  // CAIRN_EXEC_SUBJECT_TABLE_H_
