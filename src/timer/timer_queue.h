// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// TimerQueue: pending timers, popped in (due time, scheduling order).
//
// Timers are grouped in one-second buckets kept in a B-tree keyed by the
// second. Each bucket knows its earliest due time, so asking whether
// anything is due never sorts; a bucket is sorted once, when its first timer
// is popped, and a timer added to a bucket already sorted is inserted in
// place. A bucket whose timers were added in order (one duration after
// inputs in time order, the common case) skips that sort. Scheduling costs a
// B-tree lookup over the distinct seconds that have timers (not over the
// timers or the subjects waiting) plus an amortised push. Cancellation is
// lazy: a timer carries its target's generation, and the owner ignores stale
// ones.
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
  uint64_t seq = 0;         // Scheduling order; ties on `due` fire in this order.
  uint32_t target = 0;      // Owner-defined (an enrollment or tracker slot).
  uint32_t generation = 0;  // The target's generation when scheduled.
  uint8_t kind = 0;         // Owner-defined.
};

class TimerQueue {
 public:
  // Adds a timer; returns its sequence number.
  uint64_t Schedule(absl::Time due, uint32_t target, uint32_t generation,
                    uint8_t kind);

  // If the earliest timer is due at or before `limit`, removes it into *out
  // and returns true.
  bool PopDue(absl::Time limit, Timer* out);

  // The due time of the earliest timer, or InfiniteFuture when empty.
  absl::Time NextDue() const;

  // Number of pending timers (stale ones included).
  size_t size() const { return size_; }

  // Calls f(timer) for every pending timer, in no particular order.
  template <typename F>
  void ForEach(F f) const {
    for (const auto& [second, bucket] : buckets_) {
      for (size_t i = bucket.next; i < bucket.timers.size(); ++i) {
        f(ToTimer(second, bucket.timers[i]));
      }
    }
  }

  // For restoring a snapshot: re-adds a timer with its original sequence
  // number, and sets the next sequence number to hand out.
  void Restore(const Timer& timer);
  uint64_t next_seq() const { return next_seq_; }
  void set_next_seq(uint64_t seq) { next_seq_ = seq; }

 private:
  // A timer inside its one-second bucket, which holds the whole seconds of
  // its due time: 24 bytes instead of Timer's 40, one per waiting enrollment.
  struct Entry {
    uint64_t seq = 0;
    uint32_t target = 0;
    uint32_t generation = 0;
    uint32_t nanos = 0;  // Due time within the bucket's second.
    uint8_t kind = 0;
  };
  struct Bucket {
    std::vector<Entry> timers;
    size_t next = 0;      // timers[0, next) have been popped.
    bool sorted = false;  // timers[next, end) are in (due, seq) order.
    // While !sorted: timers[next, end) were added in (due, seq) order, so
    // the first pop need not sort them.
    bool in_order = true;
    uint32_t min_nanos = 0;  // of timers[next, end), when non-empty
  };

  static absl::Time Due(int64_t second, uint32_t nanos) {
    return absl::FromUnixSeconds(second) + absl::Nanoseconds(nanos);
  }
  static Timer ToTimer(int64_t second, const Entry& e) {
    return Timer{Due(second, e.nanos), e.seq, e.target, e.generation, e.kind};
  }
  // Firing order within a bucket: due time, then scheduling order.
  static bool Earlier(const Entry& a, const Entry& b) {
    return a.nanos != b.nanos ? a.nanos < b.nanos : a.seq < b.seq;
  }

  // Adds a timer to its bucket, keeping a sorted bucket sorted.
  void Add(const Timer& timer);
  // Drops drained buckets; returns the head bucket or nullptr when empty.
  // (Dropping is invisible to callers, hence const.)
  Bucket* Head() const;

  mutable absl::btree_map<int64_t, Bucket> buckets_;
  uint64_t next_seq_ = 0;
  size_t size_ = 0;
};

}  // namespace cairn::internal

#endif  // CAIRN_TIMER_TIMER_QUEUE_H_
