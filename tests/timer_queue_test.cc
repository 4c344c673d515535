// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "timer/timer_queue.h"

#include <algorithm>
#include <vector>

#include "catch2/catch.hpp"

namespace cairn::internal {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);

std::vector<uint32_t> Drain(TimerQueue* q, absl::Time limit) {
  std::vector<uint32_t> out;
  Timer t;
  while (q->PopDue(limit, &t)) out.push_back(t.target);
  return out;
}

TEST_CASE("Timers pop in due order, ties in scheduling order") {
  TimerQueue q;
  q.Schedule(kT0 + absl::Seconds(5), 1, 0, 0);
  q.Schedule(kT0 + absl::Milliseconds(1500), 2, 0, 0);
  q.Schedule(kT0 + absl::Seconds(5), 3, 0, 0);
  q.Schedule(kT0 + absl::Milliseconds(1200), 4, 0, 0);
  q.Schedule(kT0 + absl::Hours(48), 5, 0, 0);
  CHECK(q.size() == 5);
  CHECK(q.NextDue() == kT0 + absl::Milliseconds(1200));
  CHECK(Drain(&q, kT0 + absl::Seconds(5)) == std::vector<uint32_t>{4, 2, 1, 3});
  CHECK(q.size() == 1);
  CHECK(Drain(&q, kT0 + absl::Hours(47)).empty());
  CHECK(Drain(&q, kT0 + absl::Hours(48)) == std::vector<uint32_t>{5});
  CHECK(q.NextDue() == absl::InfiniteFuture());
}

TEST_CASE("A timer added to the bucket being drained keeps the order") {
  TimerQueue q;
  q.Schedule(kT0 + absl::Milliseconds(100), 1, 0, 0);
  q.Schedule(kT0 + absl::Milliseconds(900), 2, 0, 0);
  Timer t;
  REQUIRE(q.PopDue(kT0 + absl::Seconds(1), &t));
  CHECK(t.target == 1);
  // Firing timer 1 schedules one due before timer 2, in the same second.
  q.Schedule(kT0 + absl::Milliseconds(500), 3, 0, 0);
  q.Schedule(kT0 - absl::Seconds(10), 4, 0, 0);  // Already overdue: first.
  CHECK(Drain(&q, kT0 + absl::Seconds(1)) == std::vector<uint32_t>{4, 3, 2});
}

TEST_CASE("A bucket is sorted unless its timers were added in order") {
  TimerQueue q;
  for (uint32_t i = 0; i < 4; ++i) q.Schedule(kT0 + absl::Milliseconds(100 * i), i, 0, 0);
  q.Schedule(kT0 + absl::Seconds(1), 10, 0, 0);
  q.Schedule(kT0 + absl::Milliseconds(1300), 11, 0, 0);
  q.Schedule(kT0 + absl::Milliseconds(1200), 12, 0, 0);  // Out of order.
  q.Schedule(kT0 + absl::Milliseconds(1300), 13, 0, 0);
  q.Schedule(kT0 + absl::Milliseconds(2500), 21, 0, 0);
  q.Schedule(kT0 + absl::Milliseconds(2100), 20, 0, 0);  // Out of order.
  q.Schedule(kT0 + absl::Milliseconds(2500), 22, 0, 0);
  q.Schedule(kT0 + absl::Milliseconds(2100), 23, 0, 0);
  CHECK(Drain(&q, kT0 + absl::Seconds(3)) ==
        std::vector<uint32_t>{0, 1, 2, 3, 10, 12, 11, 13, 20, 23, 21, 22});
}

TEST_CASE("Timers carry their payload") {
  TimerQueue q;
  const absl::Time due = kT0 + absl::Nanoseconds(999999999);
  for (uint8_t kind = 0; kind <= TimerQueue::kMaxKind; ++kind) {
    q.Schedule(due, UINT32_MAX - kind, 4 + kind, kind);
  }
  Timer t;
  for (uint8_t kind = 0; kind <= TimerQueue::kMaxKind; ++kind) {
    REQUIRE(q.PopDue(due, &t));
    CHECK(t.target == UINT32_MAX - kind);
    CHECK(t.generation == 4u + kind);
    CHECK(t.kind == kind);
    CHECK(t.due == due);
  }
  CHECK_FALSE(q.PopDue(kT0 + absl::Hours(1), &t));
}

TEST_CASE("Infinite due times keep their place") {
  TimerQueue q;
  q.Schedule(absl::InfiniteFuture(), 1, 0, 2);
  q.Schedule(kT0, 2, 0, 0);
  q.Schedule(absl::InfiniteFuture(), 3, 0, 0);
  CHECK(q.NextDue() == kT0);
  CHECK(Drain(&q, kT0 + absl::Hours(1000000)) == std::vector<uint32_t>{2});
  CHECK(Drain(&q, absl::InfiniteFuture()) == std::vector<uint32_t>{1, 3});
}

TEST_CASE("ForEach gives every pending timer and a stable sort by due time fires them") {
  TimerQueue q;
  q.Schedule(kT0 + absl::Milliseconds(700), 1, 0, 0);
  q.Schedule(kT0 + absl::Milliseconds(300), 2, 0, 0);
  q.Schedule(kT0 + absl::Milliseconds(700), 3, 0, 0);
  q.Schedule(kT0 + absl::Milliseconds(1300), 4, 0, 0);
  q.Schedule(kT0 + absl::Milliseconds(200), 5, 0, 0);
  Timer t;
  REQUIRE(q.PopDue(kT0 + absl::Milliseconds(200), &t));  // Sorts the first bucket.
  CHECK(t.target == 5);
  q.Schedule(kT0 + absl::Milliseconds(300), 6, 0, 0);
  std::vector<Timer> all;
  q.ForEach([&](const Timer& timer) { all.push_back(timer); });
  std::stable_sort(all.begin(), all.end(),
                   [](const Timer& a, const Timer& b) { return a.due < b.due; });
  std::vector<uint32_t> order;
  for (const Timer& timer : all) order.push_back(timer.target);
  CHECK(order == std::vector<uint32_t>{2, 6, 1, 3, 4});
  CHECK(Drain(&q, absl::InfiniteFuture()) == order);
}

TEST_CASE("Many timers across many seconds come out sorted") {
  TimerQueue q;
  uint64_t x = 12345;
  for (uint32_t i = 0; i < 5000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    q.Schedule(kT0 + absl::Milliseconds(static_cast<int64_t>(x >> 44)), i, 0, 0);
  }
  Timer prev, t;
  REQUIRE(q.PopDue(absl::InfiniteFuture(), &prev));
  int popped = 1;
  while (q.PopDue(absl::InfiniteFuture(), &t)) {
    // Targets are numbered in scheduling order: ties fire in that order.
    CHECK((prev.due < t.due || (prev.due == t.due && prev.target < t.target)));
    prev = t;
    ++popped;
  }
  CHECK(popped == 5000);
}

}  // namespace
}  // namespace cairn::internal
