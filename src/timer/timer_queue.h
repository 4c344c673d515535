// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// TimerQueue: pending timers, popped in (due time, scheduling order).
//
// Timers are grouped in one-second buckets kept in a B-tree keyed by the
// second. Each bucket knows its earliest due time, so asking whether
// anything is due never sorts; a bucket is sorted once (stably, by due
// time), when its first timer is popped, and a timer added to a bucket
// already sorted is inserted in place. A bucket whose timers were added in
// order (one duration after inputs in time order, the common case) skips
// that sort. Scheduling costs a B-tree lookup over the distinct seconds that
// have timers (not over the timers or the subjects waiting) plus an
// amortised push. Cancellation is lazy: a timer carries its target's
// generation, and the owner ignores stale ones.
//
// A timer takes 12 bytes in its bucket: there is one per waiting enrollment.
// Ties are broken by position in the bucket (timers are only ever appended,
// or inserted after their equals), so no sequence number is stored.
//
// Thread-safety: not thread-safe.

#ifndef CAIRN_TIMER_TIMER_QUEUE_H_
#define CAIRN_TIMER_TIMER_QUEUE_H_

#include <cstdint>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/time/time.h"

namespace cairn::internal {

struct Timer {
  absl::Time due;
  uint32_t target = 0;      // Owner-defined (an enrollment or tracker slot).
  uint32_t generation = 0;  // The target's generation when scheduled.
  uint8_t kind = 0;         // Owner-defined, at most TimerQueue::kMaxKind.
};

class TimerQueue {
 public:
  // Timer kinds are stored in two bits.
  static constexpr uint8_t kMaxKind = 3;

  // Adds a timer. Timers due at the same time pop in the order they were
  // scheduled. Requires kind <= kMaxKind.
  void Schedule(absl::Time due, uint32_t target, uint32_t generation, uint8_t kind);

  // If the earliest timer is due at or before `limit`, removes it into *out
  // and returns true.
  bool PopDue(absl::Time limit, Timer* out);

  // The due time of the earliest timer, or InfiniteFuture when empty.
  absl::Time NextDue() const;

  // Number of pending timers (stale ones included).
  size_t size() const { return size_; }

  // Calls f(timer) for every pending timer: in order of due second, and
  // within a second in scheduling order or, once the second's bucket has
  // been sorted, in firing order. So a stable sort by due time of what it
  // gives is the firing order (how a snapshot writes them, and scheduling
  // them again in that order restores it).
  template <typename F>
  void ForEach(F f) const {
    for (const auto& [second, bucket] : buckets_) {
      for (size_t i = bucket.next; i < bucket.timers.size(); ++i) {
        f(ToTimer(second, bucket.timers[i]));
      }
    }
  }

 private:
  // A timer inside its one-second bucket, which holds the whole seconds of
  // its due time.
  struct Entry {
    uint32_t target = 0;
    uint32_t generation = 0;
    // Due time within the bucket's second (below 2^30) in the low 30 bits,
    // the kind in the top two.
    uint32_t nanos_and_kind = 0;
    uint32_t nanos() const { return nanos_and_kind & kNanosMask; }
    uint8_t kind() const { return static_cast<uint8_t>(nanos_and_kind >> 30); }
  };
  static constexpr uint32_t kNanosMask = (uint32_t{1} << 30) - 1;
  struct Bucket {
    std::vector<Entry> timers;
    size_t next = 0;      // timers[0, next) have been popped.
    bool sorted = false;  // timers[next, end) are in firing order.
    // While !sorted: timers[next, end) were added in due order, so the
    // first pop need not sort them.
    bool in_order = true;
    uint32_t min_nanos = 0;  // of timers[next, end), when non-empty
  };

  static absl::Time Due(int64_t second, uint32_t nanos) {
    return absl::FromUnixSeconds(second) + absl::Nanoseconds(nanos);
  }
  static Timer ToTimer(int64_t second, const Entry& e) {
    return Timer{Due(second, e.nanos()), e.target, e.generation, e.kind()};
  }
  // Firing order within a bucket is due time, then position (a stable sort).
  static bool Earlier(const Entry& a, const Entry& b) { return a.nanos() < b.nanos(); }

  // Drops drained buckets; returns the head bucket or nullptr when empty.
  // (Dropping is invisible to callers, hence const.)
  Bucket* Head() const;

  mutable absl::btree_map<int64_t, Bucket> buckets_;
  size_t size_ = 0;
};

}  // namespace cairn::internal

#endif  // CAIRN_TIMER_TIMER_QUEUE_H_
