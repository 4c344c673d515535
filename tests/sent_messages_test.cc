// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "exec/sent_messages.h"

#include <cstdint>
#include <deque>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "catch2/catch.hpp"

namespace cairn::internal {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);

SentMessage Msg(uint32_t version, int32_t node = 0, uint32_t enrollment = 0) {
  SentMessage m;
  m.version = version;
  m.node = node;
  m.enrollment = enrollment;
  m.generation = version + 7;
  return m;
}

// A held message as ForEach reports it.
struct Held {
  uint64_t id;
  absl::Time sent;
  uint32_t version;
  int32_t node;
  uint32_t enrollment;
  uint32_t generation;
  bool awaiting;
  bool resolved;
  bool operator==(const Held& o) const {
    return std::tie(id, sent, version, node, enrollment, generation, awaiting, resolved) ==
           std::tie(o.id, o.sent, o.version, o.node, o.enrollment, o.generation, o.awaiting,
                    o.resolved);
  }
};

std::vector<Held> All(const SentMessages& s) {
  std::vector<Held> out;
  s.ForEach([&](uint64_t id, absl::Time sent, const SentMessage& m) {
    out.push_back(Held{id, sent, m.version, m.node, m.enrollment, m.generation, m.awaiting,
                       m.resolved});
  });
  return out;
}

std::vector<uint64_t> Ids(const SentMessages& s) {
  std::vector<uint64_t> ids;
  s.ForEach([&](uint64_t id, absl::Time, const SentMessage&) { ids.push_back(id); });
  return ids;
}

// SplitMix64: a fixed sequence of well-spread ids, like the engine's hashes.
uint64_t NextId(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

TEST_CASE("An empty table finds nothing and forgets nothing") {
  SentMessages s;
  CHECK(s.empty());
  CHECK(s.Find(1) == nullptr);
  CHECK(s.Find(0) == nullptr);
  int forgotten = 0;
  s.ForgetSentBefore(absl::InfiniteFuture(), [&](const SentMessage&) { ++forgotten; });
  CHECK(forgotten == 0);
  s.RemoveIf([](const SentMessage&) { return true; });
  CHECK(s.empty());
  CHECK(s.AllocatedBytes() == 0);
}

TEST_CASE("Inserted messages are found by id and unknown ids are not") {
  SentMessages s;
  REQUIRE(s.Insert(0xabc, kT0, Msg(1, 2, 3)));
  REQUIRE(s.Insert(0, kT0, Msg(4)));
  REQUIRE(s.Insert(UINT64_MAX, kT0 + absl::Seconds(1), Msg(5)));
  CHECK(s.size() == 3);
  const SentMessage* m = s.Find(0xabc);
  REQUIRE(m != nullptr);
  CHECK(m->version == 1);
  CHECK(m->node == 2);
  CHECK(m->enrollment == 3);
  CHECK(m->generation == 8);
  REQUIRE(s.Find(0) != nullptr);
  CHECK(s.Find(0)->version == 4);
  REQUIRE(s.Find(UINT64_MAX) != nullptr);
  CHECK(s.Find(UINT64_MAX)->version == 5);
  CHECK(s.Find(0xabd) == nullptr);
  CHECK(s.Find(1) == nullptr);
}

TEST_CASE("A repeated id is dropped and the first message stays") {
  SentMessages s;
  REQUIRE(s.Insert(42, kT0, Msg(1)));
  REQUIRE(s.Insert(42, kT0 + absl::Seconds(1), Msg(2)));
  // Both still pending (not yet indexed): size and ForEach already agree.
  CHECK(s.size() == 1);
  CHECK(All(s) == std::vector<Held>{{42, kT0, 1, 0, 0, 8, false, false}});
  REQUIRE(s.Find(42) != nullptr);
  CHECK(s.Find(42)->version == 1);
  CHECK(s.size() == 1);
  CHECK(All(s) == std::vector<Held>{{42, kT0, 1, 0, 0, 8, false, false}});
  // A repeat of an indexed message, then many more so that it is indexed.
  REQUIRE(s.Insert(42, kT0 + absl::Seconds(2), Msg(3)));
  for (uint64_t id = 100; id < 200; ++id) REQUIRE(s.Insert(id, kT0 + absl::Seconds(3), Msg(4)));
  CHECK(s.size() == 101);
  CHECK(s.Find(42)->version == 1);
  CHECK(All(s).front() == Held{42, kT0, 1, 0, 0, 8, false, false});
  CHECK(All(s)[1].id == 100);
}

TEST_CASE("A pending repeat of a message forgotten before indexing stays dropped") {
  // The repeat was inserted while the first message was held, so it was
  // never a message, even though the first is gone when it is indexed.
  SentMessages s;
  REQUIRE(s.Insert(5, kT0, Msg(1)));
  REQUIRE(s.Insert(6, kT0 + absl::Seconds(1), Msg(2)));
  REQUIRE(s.Insert(5, kT0 + absl::Seconds(1), Msg(3)));
  std::vector<uint32_t> forgotten;
  s.ForgetSentBefore(kT0 + absl::Milliseconds(500),
                     [&](const SentMessage& m) { forgotten.push_back(m.version); });
  CHECK(forgotten == std::vector<uint32_t>{1});
  CHECK(s.size() == 1);
  CHECK(s.Find(5) == nullptr);
  CHECK(Ids(s) == std::vector<uint64_t>{6});
  // Forgetting the rest gives only the real message.
  s.ForgetSentBefore(absl::InfiniteFuture(),
                     [&](const SentMessage& m) { forgotten.push_back(m.version); });
  CHECK(forgotten == std::vector<uint32_t>{1, 2});
  CHECK(s.empty());
  // Now 5 is not held: a new message may take it.
  REQUIRE(s.Insert(5, kT0 + absl::Seconds(2), Msg(7)));
  REQUIRE(s.Find(5) != nullptr);
  CHECK(s.Find(5)->version == 7);
}

TEST_CASE("A repeat at the front is dropped without being forgotten as a message") {
  SentMessages s;
  REQUIRE(s.Insert(5, kT0, Msg(1)));
  REQUIRE(s.Insert(5, kT0, Msg(2)));  // Pending repeat, second in line.
  REQUIRE(s.Insert(8, kT0 + absl::Seconds(9), Msg(3)));
  std::vector<uint32_t> forgotten;
  s.ForgetSentBefore(kT0 + absl::Seconds(1),
                     [&](const SentMessage& m) { forgotten.push_back(m.version); });
  CHECK(forgotten == std::vector<uint32_t>{1});
  CHECK(Ids(s) == std::vector<uint64_t>{8});
  CHECK(s.size() == 1);
}

TEST_CASE("A found message can be marked resolved in place") {
  SentMessages s;
  SentMessage awaiting = Msg(3);
  awaiting.awaiting = true;
  REQUIRE(s.Insert(9, kT0, awaiting));
  s.Find(9)->resolved = true;
  REQUIRE(s.Find(9) != nullptr);
  CHECK(s.Find(9)->resolved);
  CHECK(s.Find(9)->awaiting);
  CHECK(All(s) == std::vector<Held>{{9, kT0, 3, 0, 0, 10, true, true}});
}

TEST_CASE("Messages are forgotten oldest first up to the horizon") {
  SentMessages s;
  for (uint64_t id = 1; id <= 5; ++id) {
    REQUIRE(s.Insert(id * 1000, kT0 + absl::Seconds(static_cast<int64_t>(id)), Msg(id)));
  }
  std::vector<uint32_t> forgotten;
  // Sent before t0+3s: ids 1 and 2. The one sent exactly at the horizon stays.
  s.ForgetSentBefore(kT0 + absl::Seconds(3),
                     [&](const SentMessage& m) { forgotten.push_back(m.version); });
  CHECK(forgotten == std::vector<uint32_t>{1, 2});
  CHECK(s.Find(1000) == nullptr);
  CHECK(s.Find(2000) == nullptr);
  CHECK(s.Find(3000) != nullptr);
  CHECK(Ids(s) == std::vector<uint64_t>{3000, 4000, 5000});
  s.ForgetSentBefore(absl::InfiniteFuture(),
                     [&](const SentMessage& m) { forgotten.push_back(m.version); });
  CHECK(forgotten == std::vector<uint32_t>{1, 2, 3, 4, 5});
  CHECK(s.empty());
  CHECK(s.Find(5000) == nullptr);
  // Usable again after emptying.
  REQUIRE(s.Insert(1000, kT0, Msg(6)));
  CHECK(s.Find(1000)->version == 6);
}

TEST_CASE("Forgetting stops at the oldest message even if a later one is older") {
  // A restored snapshot may hold messages out of time order; as before, only
  // the front of the send order is looked at.
  SentMessages s;
  REQUIRE(s.Insert(1, kT0 + absl::Seconds(5), Msg(1)));
  REQUIRE(s.Insert(2, kT0 + absl::Seconds(1), Msg(2)));
  int forgotten = 0;
  s.ForgetSentBefore(kT0 + absl::Seconds(3), [&](const SentMessage&) { ++forgotten; });
  CHECK(forgotten == 0);
  CHECK(s.size() == 2);
  s.ForgetSentBefore(kT0 + absl::Seconds(6), [&](const SentMessage&) { ++forgotten; });
  CHECK(forgotten == 2);
  CHECK(s.empty());
}

TEST_CASE("Sent times come back exactly") {
  const absl::Duration tick = absl::Nanoseconds(1) / 4;
  const std::vector<absl::Time> times = {
      absl::InfinitePast(),
      kT0 - tick,
      kT0,
      kT0 + tick,
      kT0 + absl::Seconds(1) - tick,
      absl::FromUnixSeconds(INT64_MAX) + absl::Milliseconds(999) + tick,
      absl::InfiniteFuture(),
  };
  SentMessages s;
  for (size_t i = 0; i < times.size(); ++i) REQUIRE(s.Insert(i + 1, times[i], Msg(0)));
  std::vector<absl::Time> back;
  s.ForEach([&](uint64_t, absl::Time sent, const SentMessage&) { back.push_back(sent); });
  CHECK(back == times);
  // Nothing is before InfinitePast; everything finite is before InfiniteFuture.
  int forgotten = 0;
  s.ForgetSentBefore(absl::InfinitePast(), [&](const SentMessage&) { ++forgotten; });
  CHECK(forgotten == 0);
  s.ForgetSentBefore(absl::InfiniteFuture(), [&](const SentMessage&) { ++forgotten; });
  CHECK(forgotten == 6);
  CHECK(Ids(s) == std::vector<uint64_t>{7});
}

TEST_CASE("RemoveIf drops the matching messages and keeps the rest in order") {
  SentMessages s;
  // Enough to span several chunks, so kept records move across chunks.
  const uint32_t n = 10000;
  uint64_t state = 1;
  std::vector<uint64_t> ids;
  for (uint32_t i = 0; i < n; ++i) {
    ids.push_back(NextId(&state));
    REQUIRE(s.Insert(ids.back(), kT0 + absl::Milliseconds(i), Msg(i % 3, 0, i)));
  }
  const size_t full = s.AllocatedBytes();
  std::vector<uint32_t> seen;
  s.RemoveIf([&](const SentMessage& m) {
    seen.push_back(m.enrollment);
    return m.version != 2;
  });
  REQUIRE(seen.size() == n);
  for (uint32_t i = 0; i < n; ++i) CHECK(seen[i] == i);  // Once each, oldest first.
  std::vector<uint64_t> kept;
  for (uint32_t i = 2; i < n; i += 3) kept.push_back(ids[i]);
  CHECK(Ids(s) == kept);
  CHECK(s.size() == kept.size());
  CHECK(s.AllocatedBytes() < full);  // Emptied chunks are given back.
  for (uint32_t i = 0; i < n; ++i) {
    const SentMessage* m = s.Find(ids[i]);
    if (i % 3 == 2) {
      REQUIRE(m != nullptr);
      CHECK(m->enrollment == i);
    } else {
      CHECK(m == nullptr);
    }
  }
  // Appending and forgetting still work on the compacted records.
  REQUIRE(s.Insert(7, kT0 + absl::Seconds(100), Msg(9)));
  int forgotten = 0;
  s.ForgetSentBefore(kT0 + absl::Seconds(100), [&](const SentMessage&) { ++forgotten; });
  CHECK(forgotten == static_cast<int>(kept.size()));
  CHECK(Ids(s) == std::vector<uint64_t>{7});
  s.RemoveIf([](const SentMessage&) { return true; });
  CHECK(s.empty());
  CHECK(s.Find(7) == nullptr);
}

TEST_CASE("Many messages stay findable through every growth of the index") {
  SentMessages s;
  const uint32_t n = 300000;
  uint64_t state = 7;
  std::vector<uint64_t> ids;
  size_t last_bytes = 0;
  int growths = 0;
  for (uint32_t i = 0; i < n; ++i) {
    ids.push_back(NextId(&state));
    REQUIRE(s.Insert(ids.back(), kT0, Msg(0, 0, i)));
    growths += s.AllocatedBytes() > last_bytes + 40 * 2048;  // More than a new chunk.
    last_bytes = s.AllocatedBytes();
  }
  CHECK(growths >= 4);
  CHECK(s.size() == n);
  for (uint32_t i = 0; i < n; ++i) {
    const SentMessage* m = s.Find(ids[i]);
    REQUIRE(m != nullptr);
    REQUIRE(m->enrollment == i);
  }
  // Ids that differ only in their low or high bits (no hash spreading).
  SentMessages dense;
  REQUIRE(dense.Insert(0, kT0, Msg(0)));
  for (uint64_t i = 1; i < 5000; ++i) {
    REQUIRE(dense.Insert(i, kT0, Msg(0, 0, static_cast<uint32_t>(i))));
    REQUIRE(dense.Insert(i << 40, kT0, Msg(1)));
  }
  REQUIRE(dense.Insert(1, kT0, Msg(2)));  // A repeat: dropped.
  for (uint64_t i = 1; i < 5000; ++i) {
    REQUIRE(dense.Find(i) != nullptr);
    CHECK(dense.Find(i)->enrollment == i);
    REQUIRE(dense.Find(i << 40) != nullptr);
    CHECK(dense.Find(i << 40)->version == 1);
  }
  CHECK(dense.Find(5000) == nullptr);
  CHECK(dense.Find(0) != nullptr);
  CHECK(dense.size() == 9999);
}

TEST_CASE("A window that slides steadily holds bounded memory") {
  SentMessages s;
  uint64_t state = 3;
  // About 50,000 messages in the window at any time.
  for (int i = 0; i < 50000; ++i) {
    REQUIRE(s.Insert(NextId(&state), kT0 + absl::Milliseconds(i), Msg(0)));
  }
  const size_t settled = s.AllocatedBytes();
  for (int i = 50000; i < 400000; ++i) {
    s.ForgetSentBefore(kT0 + absl::Milliseconds(i - 50000), [](const SentMessage&) {});
    REQUIRE(s.Insert(NextId(&state), kT0 + absl::Milliseconds(i), Msg(0)));
    REQUIRE(s.size() <= 50001);
  }
  // The window may straddle one more chunk than it did at first, and one
  // spare is kept; the index never needs to grow.
  CHECK(s.AllocatedBytes() <= settled + 2 * 40 * 2048);
}

TEST_CASE("Random operations agree with a map and a list") {
  // The table against a plain model: a map for the messages and a deque for
  // the send order, as the engine kept them before.
  SentMessages s;
  std::map<uint64_t, SentMessage> model;
  std::deque<std::pair<absl::Time, uint64_t>> order;
  uint64_t state = 11;
  absl::Time now = kT0;
  std::vector<uint64_t> known;  // Ids ever inserted, to look some up again.
  for (int step = 0; step < 60000; ++step) {
    const uint64_t r = NextId(&state);
    const int op = static_cast<int>(r % 100);
    if (op < 60) {
      // Some ids repeat one held long ago, some a recent one (still
      // pending in the table), some one maybe forgotten.
      uint64_t id = NextId(&state) % 200000;
      if (r % 7 == 0 && !known.empty()) id = known[(r >> 8) % known.size()];
      if (r % 11 == 0 && !known.empty()) id = known[known.size() - 1 - (r >> 8) % 4];
      const SentMessage m = Msg(static_cast<uint32_t>((r >> 16) % 4), 0,
                                static_cast<uint32_t>(step));
      const bool fresh = model.find(id) == model.end();
      REQUIRE(s.Insert(id, now, m));
      if (fresh) {
        model[id] = m;
        order.emplace_back(now, id);
        known.push_back(id);
      }
    } else if (op < 80) {
      const uint64_t id = known.empty() ? r : known[(r >> 8) % known.size()];
      SentMessage* found = s.Find(id);
      auto it = model.find(id);
      REQUIRE((found != nullptr) == (it != model.end()));
      if (found != nullptr) {
        CHECK(found->enrollment == it->second.enrollment);
        found->resolved = true;
        it->second.resolved = true;
      }
    } else if (op < 97) {
      now += absl::Milliseconds(static_cast<int64_t>(r >> 32) % 50);
      const absl::Time horizon = now - absl::Seconds(20);
      std::vector<uint32_t> expected, got;
      while (!order.empty() && order.front().first < horizon) {
        expected.push_back(model[order.front().second].enrollment);
        model.erase(order.front().second);
        order.pop_front();
      }
      s.ForgetSentBefore(horizon, [&](const SentMessage& m) { got.push_back(m.enrollment); });
      REQUIRE(got == expected);
    } else {
      const uint32_t version = static_cast<uint32_t>((r >> 16) % 4);
      s.RemoveIf([&](const SentMessage& m) { return m.version == version; });
      for (auto it = order.begin(); it != order.end();) {
        if (model[it->second].version == version) {
          model.erase(it->second);
          it = order.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (r % 64 == 0) REQUIRE(s.size() == order.size());
    if (step % 1000 == 0 || step == 59999) {
      REQUIRE(s.size() == order.size());
      std::vector<Held> expected;
      for (const auto& [sent, id] : order) {
        const SentMessage& m = model[id];
        expected.push_back(Held{id, sent, m.version, m.node, m.enrollment, m.generation,
                                m.awaiting, m.resolved});
      }
      REQUIRE(All(s) == expected);
    }
  }
}

TEST_CASE("Clear forgets everything and frees the memory") {
  SentMessages s;
  for (uint64_t id = 1; id <= 3000; ++id) REQUIRE(s.Insert(id, kT0, Msg(0)));
  s.Clear();
  CHECK(s.empty());
  CHECK(s.AllocatedBytes() == 0);
  CHECK(s.Find(1) == nullptr);
  CHECK(All(s).empty());
  REQUIRE(s.Insert(1, kT0, Msg(2)));
  CHECK(s.Find(1)->version == 2);
}

}  // namespace
}  // namespace cairn::internal
