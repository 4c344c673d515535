// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "behavior/segment_members.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/numeric/bits.h"
#include "behavior/behavior_spec.h"
#include "predicate/predicate.h"

namespace cairn::internal {
namespace {

// What one segment reads, through the segments it reads.
struct Reads {
  std::set<int> behaviors;
  std::set<std::string> attributes;
  bool time_driven = false;
};

// Fills reads[i] (and those of the segments it reads) from the store's
// declarations; `done` marks the ones filled. Declarations are checked free
// of loops, so the recursion ends, at most as deep as there are segments.
void CollectReads(const BehaviorStore& store, int i, std::vector<Reads>* reads,
                  std::vector<bool>* done) {
  if ((*done)[i]) return;
  (*done)[i] = true;
  Reads& r = (*reads)[i];
  const CompiledPredicate& condition = store.segments()[i].condition;
  r.time_driven = condition.reads_now();
  for (const Path& path : condition.Paths()) {
    switch (path.root) {
      case PathRoot::kProfile:
        r.attributes.insert(path.key);
        break;
      case PathRoot::kBehavior: {
        const int b = store.Find(path.key);
        if (b < 0) break;
        r.behaviors.insert(b);
        const BehaviorSpec& spec = store.spec(b);
        // A local day depends on the subject's zone.
        if (spec.shape == BehaviorShape::kDays) r.attributes.insert(spec.time_zone_attribute);
        r.time_driven = r.time_driven || store.TimeDependent(b);
        break;
      }
      case PathRoot::kSegment: {
        const int s = store.FindSegment(path.key);
        if (s < 0) break;
        CollectReads(store, s, reads, done);
        const Reads& inner = (*reads)[s];
        // (Re-fetched: the recursion does not resize `reads`.)
        Reads& self = (*reads)[i];
        self.behaviors.insert(inner.behaviors.begin(), inner.behaviors.end());
        self.attributes.insert(inner.attributes.begin(), inner.attributes.end());
        self.time_driven = self.time_driven || inner.time_driven;
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace

void SegmentMembers::Index(const BehaviorStore& store) {
  const int n = static_cast<int>(store.segments().size());
  segments_.clear();
  by_behavior_.assign(store.size(), {});
  by_attribute_.clear();
  by_type_.clear();
  time_driven_by_type_.clear();
  std::vector<Reads> reads(n);
  std::vector<bool> done(n, false);
  for (int i = 0; i < n; ++i) CollectReads(store, i, &reads, &done);
  for (int i = 0; i < n; ++i) {
    const SegmentSpec& spec = store.segments()[i];
    Segment& s = segments_.emplace_back();
    s.name = spec.def.name();
    s.subject_type = spec.subject_type;
    s.time_driven = reads[i].time_driven;
    // Segments are visited in order, so every list below is ascending.
    for (int b : reads[i].behaviors) by_behavior_[b].push_back(i);
    for (const std::string& a : reads[i].attributes) {
      by_attribute_[s.subject_type][a].push_back(i);
    }
    by_type_[s.subject_type].push_back(i);
    if (s.time_driven) time_driven_by_type_[s.subject_type].push_back(i);
  }
}

namespace {

const std::vector<int>* FindList(const absl::flat_hash_map<std::string, std::vector<int>>& map,
                                 absl::string_view key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

}  // namespace

const std::vector<int>* SegmentMembers::ReadingAttribute(absl::string_view type,
                                                         absl::string_view name) const {
  auto it = by_attribute_.find(type);
  return it == by_attribute_.end() ? nullptr : FindList(it->second, name);
}

const std::vector<int>* SegmentMembers::OfType(absl::string_view type) const {
  return FindList(by_type_, type);
}

const std::vector<int>* SegmentMembers::TimeDrivenOfType(absl::string_view type) const {
  return FindList(time_driven_by_type_, type);
}

void SegmentMembers::Set(size_t i, uint32_t subject, bool member) {
  Segment& s = segments_[i];
  const size_t word = subject / 64;
  const uint64_t bit = uint64_t{1} << (subject % 64);
  if (word >= s.bits.size()) {
    if (!member) return;
    s.bits.resize(word + 1, 0);
  }
  const bool was = (s.bits[word] & bit) != 0;
  if (was == member) return;
  s.bits[word] ^= bit;
  s.members += member ? 1 : -1;
}

std::vector<uint32_t> SegmentMembers::Members(size_t i) const {
  std::vector<uint32_t> out;
  const std::vector<uint64_t>& bits = segments_[i].bits;
  for (size_t word = 0; word < bits.size(); ++word) {
    for (uint64_t w = bits[word]; w != 0; w &= w - 1) {
      out.push_back(static_cast<uint32_t>(word * 64 + absl::countr_zero(w)));
    }
  }
  return out;
}

int64_t SegmentMembers::bytes() const {
  int64_t total = 0;
  for (const Segment& s : segments_) {
    total += static_cast<int64_t>(s.bits.capacity() * sizeof(uint64_t));
  }
  return total;
}

}  // namespace cairn::internal
