// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "timer/timer_queue.h"

#include <algorithm>

namespace cairn::internal {

namespace {

bool Earlier(const Timer& a, const Timer& b) {
  return a.due != b.due ? a.due < b.due : a.seq < b.seq;
}

}  // namespace

void TimerQueue::Add(const Timer& timer) {
  Bucket& bucket = buckets_[absl::ToUnixSeconds(timer.due)];
  if (bucket.sorted) {
    bucket.timers.insert(std::upper_bound(bucket.timers.begin() + bucket.next,
                                          bucket.timers.end(), timer, Earlier),
                         timer);
  } else {
    bucket.timers.push_back(timer);
  }
  bucket.min_due = std::min(bucket.min_due, timer.due);
  ++size_;
}

uint64_t TimerQueue::Schedule(absl::Time due, uint32_t target, uint32_t generation,
                              uint8_t kind) {
  const uint64_t seq = next_seq_++;
  Add(Timer{due, seq, target, generation, kind});
  return seq;
}

void TimerQueue::Restore(const Timer& timer) { Add(timer); }

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
  if (head == nullptr || head->min_due > limit) return false;
  if (!head->sorted) {
    std::sort(head->timers.begin() + head->next, head->timers.end(), Earlier);
    head->sorted = true;
  }
  *out = head->timers[head->next++];
  head->min_due = head->next < head->timers.size() ? head->timers[head->next].due
                                                   : absl::InfiniteFuture();
  --size_;
  return true;
}

absl::Time TimerQueue::NextDue() const {
  Bucket* head = Head();
  return head == nullptr ? absl::InfiniteFuture() : head->min_due;
}

}  // namespace cairn::internal
