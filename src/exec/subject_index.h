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
// Each indexed slot's hash is kept beside it, 4 bytes per slot in slot
// order, so that growing the table rehashes from that dense array (which
// stays in cache) instead of reading every subject's record (one cache miss
// each: at a million subjects, a tenth of a second per growth). The same 4
// bytes would also hold a hash in the table's own slots; here they are paid
// once per subject rather than once per table slot (about twice as many).
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
#include "absl/functional/function_ref.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "util/chunked_vector.h"

namespace cairn::internal {

// `Records` is a random-access container whose elements have a numeric
// `type` and a string `id` (SubjectState).
template <typename Records>
class SubjectIndex {
 public:
  // `records` must outlive the index and may grow; it is read on every
  // lookup and insert (to compare ids), never to rehash.
  explicit SubjectIndex(const Records* records)
      : records_(records), table_(0, Hash{&hashes_}, Equal{records}) {}

  SubjectIndex(const SubjectIndex&) = delete;
  SubjectIndex& operator=(const SubjectIndex&) = delete;

  // The slot of the subject (type, id), if indexed.
  std::optional<uint32_t> Find(uint32_t type, absl::string_view id) const {
    auto it = table_.find(Key{type, id, HashOf(type, id)});
    if (it == table_.end()) return std::nullopt;
    return *it;
  }

  // The slot of the subject (type, id); when it is not indexed, calls
  // `append`, which must append its record to the records and return its
  // slot (records.size() - 1), and indexes that. One probe either way.
  uint32_t FindOrAppend(uint32_t type, absl::string_view id,
                        absl::FunctionRef<uint32_t()> append) {
    const Key key{type, id, HashOf(type, id)};
    return *table_.lazy_emplace(key, [&](const auto& construct) {
      const uint32_t slot = append();
      Remember(slot, key.hash);
      construct(slot);
    });
  }

  // Starts fetching the table slot where (type, id) would be, to overlap
  // that cache miss with other work before Find or Insert.
  void Prefetch(uint32_t type, absl::string_view id) const {
    table_.prefetch(Key{type, id, HashOf(type, id)});
  }

  // Indexes the record at `slot` under its (type, id). False, and it is
  // not indexed, when another slot already holds that pair.
  bool Insert(uint32_t slot) {
    const auto& r = (*records_)[slot];
    Remember(slot, HashOf(r.type, r.id));
    return table_.insert(slot).second;
  }

  // Stops indexing the record at `slot` (which must still hold its type
  // and id): Find no longer returns it. Nothing when it is not indexed
  // under them.
  void Erase(uint32_t slot) {
    auto it = table_.find(slot);
    if (it != table_.end() && *it == slot) table_.erase(it);
  }

  size_t size() const { return table_.size(); }
  void Clear() {
    table_.clear();
    hashes_.clear();
  }

 private:
  struct Key {
    uint32_t type;
    absl::string_view id;
    uint32_t hash;  // HashOf(type, id).
  };

  // 32 bits of the pair's hash: what is kept per slot.
  static uint32_t HashOf(uint32_t type, absl::string_view id) {
    return static_cast<uint32_t>(
        absl::Hash<std::pair<uint32_t, absl::string_view>>()({type, id}) >> 32);
  }
  // Spreads a kept hash over a size_t for the table, which takes its
  // probe position from the high bits and a 7-bit tag from the low ones.
  static size_t Spread(uint32_t hash) { return uint64_t{hash} * 0x9E3779B97F4A7C15ull; }

  void Remember(uint32_t slot, uint32_t hash) {
    while (hashes_.size() <= slot) hashes_.emplace_back();
    hashes_[slot] = hash;
  }

  struct Hash {
    using is_transparent = void;
    const ChunkedVector<uint32_t>* hashes;
    size_t operator()(uint32_t slot) const { return Spread((*hashes)[slot]); }
    size_t operator()(const Key& k) const { return Spread(k.hash); }
  };

  struct Equal {
    using is_transparent = void;
    const Records* records;
    bool Same(uint32_t slot, const Key& k) const {
      const auto& r = (*records)[slot];
      return r.type == k.type && r.id == k.id;
    }
    bool operator()(uint32_t a, uint32_t b) const {
      if (a == b) return true;
      const auto& r = (*records)[b];
      return Same(a, Key{r.type, r.id, 0});
    }
    bool operator()(uint32_t slot, const Key& k) const { return Same(slot, k); }
    bool operator()(const Key& k, uint32_t slot) const { return Same(slot, k); }
  };

  const Records* records_;
  // Per slot: HashOf its (type, id), for rehashing. Declared before table_,
  // whose Hash reads it.
  ChunkedVector<uint32_t> hashes_;
  absl::flat_hash_set<uint32_t, Hash, Equal> table_;
};

}  // namespace cairn::internal

#endif  // CAIRN_EXEC_SUBJECT_INDEX_H_
