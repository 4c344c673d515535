// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// SegmentMembers: which known subjects are in each declared segment, the
// transitions counted, and what each segment reads, so that an input
// re-checks only the segments that read something it changed (a dependency
// index, not a scan of the segments or the subjects).
//
// A segment reads profile attributes, behaviours and other segments; it
// depends on what those segments read, and on the time-zone attribute of a
// behaviour counting local days. It is time-driven when its answer can
// change with no input: it compares against now_minus, or reads a sliding
// window, a current streak or a time-driven segment. Whether a subject is a
// member is the engine's to decide (Engine::Impl::CheckSegments); this
// class keeps the answers and the counts.
//
// Thread-safety: not thread-safe; owned by one engine.

#ifndef CAIRN_BEHAVIOR_SEGMENT_MEMBERS_H_
#define CAIRN_BEHAVIOR_SEGMENT_MEMBERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "behavior/behavior_store.h"

namespace cairn::internal {

class SegmentMembers {
 public:
  SegmentMembers() = default;
  SegmentMembers(const SegmentMembers&) = delete;
  SegmentMembers& operator=(const SegmentMembers&) = delete;

  // Indexes `store`'s segments (store.segments(), in order) and forgets
  // every member and count.
  void Index(const BehaviorStore& store);

  bool empty() const { return segments_.empty(); }
  size_t size() const { return segments_.size(); }
  const std::string& name(size_t i) const { return segments_[i].name; }
  const std::string& subject_type(size_t i) const { return segments_[i].subject_type; }
  bool time_driven(size_t i) const { return segments_[i].time_driven; }

  // The segments reading behaviour `index` (of the store indexed), directly
  // or through other segments, ascending.
  const std::vector<int>& ReadingBehavior(size_t index) const { return by_behavior_[index]; }
  // The segments for subject type `type` reading profile attribute `name`,
  // ascending; null if none. (A subject's profile is read only by the
  // segments of its own type.)
  const std::vector<int>* ReadingAttribute(absl::string_view type, absl::string_view name) const;
  // The segments for subject type `type`, ascending; null if none.
  const std::vector<int>* OfType(absl::string_view type) const;
  // The time-driven ones among them; null if none.
  const std::vector<int>* TimeDrivenOfType(absl::string_view type) const;

  // Whether `subject` is recorded in segment `i`.
  bool Contains(size_t i, uint32_t subject) const {
    const std::vector<uint64_t>& bits = segments_[i].bits;
    const size_t word = subject / 64;
    return word < bits.size() && ((bits[word] >> (subject % 64)) & 1) != 0;
  }
  // Records whether `subject` is in segment `i`, keeping the member count.
  void Set(size_t i, uint32_t subject, bool member);

  // Subjects in segment `i` now, and the transitions counted.
  int64_t members(size_t i) const { return segments_[i].members; }
  int64_t entered(size_t i) const { return segments_[i].entered; }
  int64_t left(size_t i) const { return segments_[i].left; }
  void CountTransition(size_t i, bool entered) {
    ++(entered ? segments_[i].entered : segments_[i].left);
  }
  void SetCounts(size_t i, int64_t entered, int64_t left) {
    segments_[i].entered = entered;
    segments_[i].left = left;
  }

  // The members of segment `i`, in ascending subject order.
  std::vector<uint32_t> Members(size_t i) const;

  // Memory held for membership, in bytes.
  int64_t bytes() const;

 private:
  struct Segment {
    std::string name;
    std::string subject_type;
    bool time_driven = false;
    std::vector<uint64_t> bits;  // Bit s: subject s is a member.
    int64_t members = 0;
    int64_t entered = 0;
    int64_t left = 0;
  };

  std::vector<Segment> segments_;
  std::vector<std::vector<int>> by_behavior_;
  // By subject type, then attribute name.
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, std::vector<int>>>
      by_attribute_;
  absl::flat_hash_map<std::string, std::vector<int>> by_type_;
  absl::flat_hash_map<std::string, std::vector<int>> time_driven_by_type_;
};

}  // namespace cairn::internal

#endif  // CAIRN_BEHAVIOR_SEGMENT_MEMBERS_H_
