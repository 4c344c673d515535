// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The engine's subject lookup: (subject type, subject id) -> slot in the
// engine's subject records.
//
// The table holds only slot numbers (4 bytes and a control byte per slot)
// and hashes and compares through the records, which already hold the
// id. A map from id string to slot would keep a second copy of every id: a
// 40-byte slot per table entry, plus a heap block per id too long for
// std::string's inline buffer (a UUID). At a million subjects that copy was
// 86 of the 304 bytes each subject cost.
//
// Thread-safety: none; the engine's single thread owns it.

#ifndef CAIRN_EXEC_SUBJECT_INDEX_H_
#define CAIRN_EXEC_SUBJECT_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace cairn::internal {

// `Records` is a random-access container whose elements have a numeric
// `type` and a string `id` (SubjectState).
template <typename Records>
class SubjectIndex {
 public:
  // `records` must outlive the index and may grow; it is read on every
  // lookup, insert and rehash.
  explicit SubjectIndex(const Records* records)
      : table_(0, Hash{records}, Equal{records}) {}

  SubjectIndex(const SubjectIndex&) = delete;
  SubjectIndex& operator=(const SubjectIndex&) = delete;

  // The slot of the subject (type, id), if indexed.
  std::optional<uint32_t> Find(uint32_t type, absl::string_view id) const {
    auto it = table_.find(Key{type, id});
    if (it == table_.end()) return std::nullopt;
    return *it;
  }

  // Starts fetching the table slot where (type, id) would be, to overlap
  // that cache miss with other work before Find or Insert.
  void Prefetch(uint32_t type, absl::string_view id) const { table_.prefetch(Key{type, id}); }

  // Indexes the record at `slot` under its (type, id). False, and nothing
  // changes, when another slot already holds that pair.
  bool Insert(uint32_t slot) { return table_.insert(slot).second; }

  size_t size() const { return table_.size(); }
  void Clear() { table_.clear(); }

 private:
  struct Key {
    uint32_t type;
    absl::string_view id;
  };

  static size_t HashOf(uint32_t type, absl::string_view id) {
    return absl::Hash<std::pair<uint32_t, absl::string_view>>()({type, id});
  }

  struct Hash {
    using is_transparent = void;
    const Records* records;
    size_t operator()(uint32_t slot) const {
      const auto& r = (*records)[slot];
      return HashOf(r.type, r.id);
    }
    size_t operator()(const Key& k) const { return HashOf(k.type, k.id); }
  };

  struct Equal {
    using is_transparent = void;
    const Records* records;
    bool Same(uint32_t slot, const Key& k) const {
      const auto& r = (*records)[slot];
      return r.type == k.type && r.id == k.id;
    }
    bool operator()(uint32_t a, uint32_t b) const {
      const auto& r = (*records)[b];
      return Same(a, Key{r.type, r.id});
    }
    bool operator()(uint32_t slot, const Key& k) const { return Same(slot, k); }
    bool operator()(const Key& k, uint32_t slot) const { return Same(slot, k); }
  };

  absl::flat_hash_set<uint32_t, Hash, Equal> table_;
};

}  // namespace cairn::internal

#endif  // CAIRN_EXEC_SUBJECT_INDEX_H_
