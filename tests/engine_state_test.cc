// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "exec/engine_state.h"

#include <cstdint>
#include <vector>

#include "catch2/catch.hpp"

namespace cairn::internal {
namespace {

// JourneyHistory packs its last exit into seconds and ticks to stay within
// 32 bytes; re-entry cooldowns compare against it, so the round trip must
// give back exactly the absl::Time that was stored.
TEST_CASE("JourneyHistory keeps the last exit exactly") {
  const absl::Time t0 = absl::FromUnixSeconds(1767225600);
  const absl::Duration tick = absl::Nanoseconds(1) / 4;
  const std::vector<absl::Time> times = {
      absl::InfinitePast(),
      absl::InfiniteFuture(),
      absl::UnixEpoch(),
      t0,
      t0 + absl::Nanoseconds(1),
      t0 + tick,
      t0 + absl::Seconds(1) - tick,
      t0 - tick,
      absl::UnixEpoch() - absl::Nanoseconds(7) - tick,
      absl::FromUnixSeconds(-5000000000000) + absl::Milliseconds(3),
      absl::FromUnixSeconds(INT64_MIN),
      absl::FromUnixSeconds(INT64_MAX) + absl::Milliseconds(999) + tick,
  };
  for (const absl::Time t : times) {
    JourneyHistory h;
    SetLastExit(&h, t);
    CAPTURE(absl::FormatTime(t));
    CHECK(LastExit(h) == t);
  }
}

TEST_CASE("JourneyHistory starts never exited and holds a key only when keyed") {
  const JourneyHistory unkeyed = MakeJourneyHistory(3, "");
  CHECK(unkeyed.journey == 3);
  CHECK(unkeyed.entries == 0);
  CHECK(unkeyed.active == 0);
  CHECK(LastExit(unkeyed) == absl::InfinitePast());
  CHECK(unkeyed.key == nullptr);
  CHECK(KeyOf(unkeyed).empty());

  const JourneyHistory keyed = MakeJourneyHistory(4, "order-17");
  CHECK(keyed.key != nullptr);
  CHECK(KeyOf(keyed) == "order-17");
  CHECK(LastExit(JourneyHistory()) == absl::InfinitePast());
}

}  // namespace
}  // namespace cairn::internal
