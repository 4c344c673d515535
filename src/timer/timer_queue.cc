// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "timer/timer_queue.h"

#include <algorithm>
#include <cassert>

namespace cairn::internal {
namespace {

void Prefetch(const void* address) {
#if defined(__GNUC__)
  __builtin_prefetch(address);
#else
  (void)address;
#endif
}

}  // namespace

void TimerQueue::Schedule(absl::Time due, uint32_t target, uint32_t generation,
                          uint8_t kind) {
  assert(kind <= kMaxKind);
  // Whole seconds (rounded down) pick the bucket; the rest stays with the entry.
  const int64_t second = absl::ToUnixSeconds(due);
  const absl::Duration rest = due - absl::FromUnixSeconds(second);
  const uint32_t nanos =
      rest >= absl::ZeroDuration() && rest < absl::Seconds(1)
          ? static_cast<uint32_t>(absl::ToInt64Nanoseconds(rest))
          : 0;  // An infinite due time: the bucket at the end of time.
  const Entry entry{target, generation, nanos | (uint32_t{kind} << 30)};
  Bucket& bucket = buckets_[second];
  const bool empty = bucket.next == bucket.timers.size();
  if (bucket.sorted) {
    // After its equals: they were scheduled first.
    bucket.timers.insert(std::upper_bound(bucket.timers.begin() + bucket.next,
                                          bucket.timers.end(), entry, Earlier),
                         entry);
  } else {
    bucket.in_order = empty || (bucket.in_order && !Earlier(entry, bucket.timers.back()));
    bucket.timers.push_back(entry);
  }
  bucket.min_nanos = empty ? nanos : std::min(bucket.min_nanos, nanos);
  ++size_;
}

TimerQueue::Bucket* TimerQueue::Head() const {
  while (!buckets_.empty()) {
    Bucket& head = buckets_.begin()->second;
    if (head.next < head.timers.size()) return &head;
    buckets_.erase(buckets_.begin());
  }
  return nullptr;
}

bool TimerQueue::PopDue(absl::Time limit, Timer* out) {
  Bucket* head = Head();
  if (head == nullptr) return false;
  const int64_t second = buckets_.begin()->first;
  const absl::Time due = Due(second, head->min_nanos);
  if (due > limit) return false;
  if (!head->sorted) {
    if (!head->in_order) {
      std::stable_sort(head->timers.begin() + head->next, head->timers.end(), Earlier);
    }
    head->sorted = true;
  }
  // The next pops read on through the bucket, but the engine's work on each
  // timer in between (much of it on fresh memory) can keep the hardware
  // prefetcher from running ahead; a profile of a million fires showed pops
  // waiting for the entry's cache line. A few lines ahead is enough.
  constexpr size_t kPrefetchAhead = 32;  // Entries: 384 bytes.
  if (head->next + kPrefetchAhead < head->timers.size()) {
    Prefetch(&head->timers[head->next + kPrefetchAhead]);
  }
  // Once sorted, the first timer is the one with min_nanos: its due time is
  // `due`, already computed.
  const Entry& entry = head->timers[head->next++];
  assert(entry.nanos() == head->min_nanos);
  *out = Timer{due, entry.target, entry.generation, entry.kind()};
  if (head->next < head->timers.size()) head->min_nanos = head->timers[head->next].nanos();
  --size_;
  return true;
}

absl::Time TimerQueue::NextDue() const {
  Bucket* head = Head();
  return head == nullptr ? absl::InfiniteFuture()
                         : Due(buckets_.begin()->first, head->min_nanos);
}

}  // namespace cairn::internal
