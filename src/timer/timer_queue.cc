// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "timer/timer_queue.h"

#include <algorithm>

namespace cairn::internal {

uint64_t TimerQueue::Schedule(absl::Time due, uint32_t target,
                              uint32_t generation, uint8_t kind) {
  const uint64_t seq = next_seq_++;
  Bucket& bucket = buckets_[absl::ToUnixSeconds(due)];
  bucket.timers.push_back(Timer{due, seq, target, generation, kind});
  bucket.sorted = false;
  ++size_;
  return seq;
}

void TimerQueue::Restore(const Timer& timer) {
  Bucket& bucket = buckets_[absl::ToUnixSeconds(timer.due)];
  bucket.timers.push_back(timer);
  bucket.sorted = false;
  ++size_;
}

TimerQueue::Bucket* TimerQueue::Head() const {
  while (!buckets_.empty()) {
    Bucket& head = buckets_.begin()->second;
    if (head.next == head.timers.size()) {
      buckets_.erase(buckets_.begin());
      continue;
    }
    if (!head.sorted) {
      std::sort(head.timers.begin() + head.next, head.timers.end(),
                [](const Timer& a, const Timer& b) {
                  return a.due != b.due ? a.due < b.due : a.seq < b.seq;
                });
      head.sorted = true;
    }
    return &head;
  }
  return nullptr;
}

bool TimerQueue::PopDue(absl::Time limit, Timer* out) {
  Bucket* head = Head();
  if (head == nullptr || head->timers[head->next].due > limit) return false;
  *out = head->timers[head->next++];
  --size_;
  return true;
}

absl::Time TimerQueue::NextDue() const {
  Bucket* head = Head();
  return head == nullptr ? absl::InfiniteFuture() : head->timers[head->next].due;
}

}  // namespace cairn::internal
