// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "exec/engine_state.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "util/chunked_vector.h"
#include "exec/subject_index.h"
#include "exec/subject_table.h"

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
      t0 + 2 * tick,
      t0 + 3 * tick,
      t0 + absl::Nanoseconds(123456789) + 2 * tick,
      t0 + absl::Nanoseconds(999999999) + 3 * tick,
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

struct Record {
  uint32_t type = 0;
  std::string id;
};

TEST_CASE("SubjectIndex finds each subject by type and id") {
  std::vector<Record> records;
  SubjectIndex<std::vector<Record>> index(&records);
  CHECK(index.Find(0, "u1") == std::nullopt);

  records.push_back({0, "u1"});
  CHECK(index.Insert(0));
  records.push_back({1, "u1"});  // The same id under another type is another subject.
  CHECK(index.Insert(1));
  records.push_back({0, ""});
  CHECK(index.Insert(2));
  CHECK(index.size() == 3);

  CHECK(index.Find(0, "u1") == 0u);
  CHECK(index.Find(1, "u1") == 1u);
  CHECK(index.Find(0, "") == 2u);
  CHECK(index.Find(2, "u1") == std::nullopt);
  CHECK(index.Find(0, "u") == std::nullopt);
  CHECK(index.Find(0, "u10") == std::nullopt);
}

TEST_CASE("SubjectIndex refuses a second slot for the same subject") {
  std::vector<Record> records = {{0, "u1"}, {0, "u1"}};
  SubjectIndex<std::vector<Record>> index(&records);
  CHECK(index.Insert(0));
  CHECK_FALSE(index.Insert(1));
  CHECK(index.size() == 1);
  CHECK(index.Find(0, "u1") == 0u);
  index.Clear();
  CHECK(index.size() == 0);
  CHECK(index.Find(0, "u1") == std::nullopt);
  CHECK(index.Insert(1));
  CHECK(index.Find(0, "u1") == 1u);
}

// The table rehashes through the records, which move as they grow: every
// subject must still be found afterwards, long ids included.
TEST_CASE("SubjectIndex keeps finding subjects while the records grow") {
  std::vector<Record> records;
  SubjectIndex<std::vector<Record>> index(&records);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const std::string id = i % 3 == 0 ? absl::StrCat("3f0c2a9e-5d1b-4c7e-9a60-", i, "-long-id")
                                      : absl::StrCat("u", i);
    records.push_back({static_cast<uint32_t>(i % 2), id});
    REQUIRE(index.Insert(static_cast<uint32_t>(i)));
  }
  CHECK(index.size() == static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const Record& r = records[static_cast<size_t>(i)];
    REQUIRE(index.Find(r.type, r.id) == static_cast<uint32_t>(i));
    REQUIRE(index.Find(1 - r.type, r.id) == std::nullopt);
  }
}

// FindOrAppend makes a record only for a subject it does not hold, and
// what it indexed stays found as the table grows (rehashing from the kept
// hashes, not the records).
TEST_CASE("SubjectIndex FindOrAppend appends each subject once") {
  std::vector<Record> records;
  SubjectIndex<std::vector<Record>> index(&records);
  int appended = 0;
  const auto find_or_append = [&](uint32_t type, const std::string& id) {
    return index.FindOrAppend(type, id, [&] {
      ++appended;
      records.push_back({type, id});
      return static_cast<uint32_t>(records.size() - 1);
    });
  };
  const int n = 5000;
  for (int i = 0; i < n; ++i) {
    REQUIRE(find_or_append(static_cast<uint32_t>(i % 2), absl::StrCat("u", i)) ==
            static_cast<uint32_t>(i));
  }
  CHECK(appended == n);
  for (int i = 0; i < n; ++i) {
    REQUIRE(find_or_append(static_cast<uint32_t>(i % 2), absl::StrCat("u", i)) ==
            static_cast<uint32_t>(i));
  }
  CHECK(appended == n);  // Every second call found its subject.
  CHECK(find_or_append(1, "u0") == static_cast<uint32_t>(n));  // Another type: another subject.
  CHECK(index.size() == static_cast<size_t>(n + 1));
  // Insert and FindOrAppend share the index: a subject inserted one way is
  // found the other.
  records.push_back({0, "late"});
  REQUIRE(index.Insert(static_cast<uint32_t>(records.size() - 1)));
  CHECK(find_or_append(0, "late") == static_cast<uint32_t>(records.size() - 1));
  CHECK(appended == n + 1);
}

// Counts live instances, to check that every element is destroyed once.
struct Counted {
  static int live;
  int value = 0;
  Counted() { ++live; }
  Counted(Counted&& o) : value(o.value) { ++live; }
  ~Counted() { --live; }
};
int Counted::live = 0;

TEST_CASE("ChunkedVector keeps its elements in place as it grows") {
  ChunkedVector<std::string, 3> v;  // Chunks of 8.
  CHECK(v.empty());
  std::vector<const std::string*> addresses;
  for (int i = 0; i < 100; ++i) {
    std::string& s = i % 2 == 0 ? v.emplace_back() : v.push_back(absl::StrCat("moved ", i));
    if (i % 2 == 0) s = absl::StrCat("built ", i);
    addresses.push_back(&s);
  }
  REQUIRE(v.size() == 100);
  for (int i = 0; i < 100; ++i) {
    CAPTURE(i);
    CHECK(&v[static_cast<size_t>(i)] == addresses[static_cast<size_t>(i)]);
    CHECK(v[static_cast<size_t>(i)] == absl::StrCat(i % 2 == 0 ? "built " : "moved ", i));
  }
  int seen = 0;
  for (const std::string& s : static_cast<const ChunkedVector<std::string, 3>&>(v)) {
    CHECK(&s == addresses[static_cast<size_t>(seen++)]);
  }
  CHECK(seen == 100);
  for (std::string& s : v) s += "!";
  CHECK(v[99] == "moved 99!");
}

TEST_CASE("ChunkedVector fills doubling blocks and then whole chunks") {
  ChunkedVector<int, 6> v;  // Blocks of 16 16 32 then chunks of 64.
  std::vector<const int*> addresses;
  for (int i = 0; i < 300; ++i) {
    v.emplace_back() = i;
    addresses.push_back(&v[static_cast<size_t>(i)]);
  }
  for (int i = 0; i < 300; ++i) {
    CAPTURE(i);
    CHECK(v[static_cast<size_t>(i)] == i);
    CHECK(&v[static_cast<size_t>(i)] == addresses[static_cast<size_t>(i)]);
  }
  // Within a block the elements are adjacent; a block ends where the next
  // size begins.
  for (int i : {1, 17, 33, 65, 129, 299}) {
    CAPTURE(i);
    CHECK(addresses[static_cast<size_t>(i)] == addresses[static_cast<size_t>(i) - 1] + 1);
  }
  v.clear();
  CHECK(v.empty());
  v.emplace_back() = 7;
  CHECK(v[0] == 7);
}

TEST_CASE("ChunkedVector destroys each element once") {
  {
    ChunkedVector<Counted, 2> v;
    for (int i = 0; i < 9; ++i) v.emplace_back().value = i;
    CHECK(Counted::live == 9);
    v.clear();
    CHECK(Counted::live == 0);
    CHECK(v.size() == 0);
    v.emplace_back().value = 42;  // Usable again after clear.
    CHECK(v[0].value == 42);
    CHECK(Counted::live == 1);
  }
  CHECK(Counted::live == 0);
}

TEST_CASE("SubjectTable interns a subject once per type and id", "[subject_table]") {
  SubjectTable table;
  const uint32_t ann = table.Intern("user", "ann");
  const uint32_t ann_device = table.Intern("device", "ann");  // Same id, other type.
  CHECK(ann != ann_device);
  CHECK(table.Intern("user", "ann") == ann);
  CHECK(table.size() == 2);
  CHECK(table.type_count() == 2);
  CHECK(table.TypeOf(table[ann]) == "user");
  CHECK(table.TypeOf(table[ann_device]) == "device");
  CHECK(table[ann].id == "ann");
  REQUIRE(table.TypeNumber("device").has_value());
  CHECK(table.Find(*table.TypeNumber("device"), "ann") == ann_device);
  CHECK(table.Find("user", "ann") == ann);
}

TEST_CASE("SubjectTable finds nothing it was not given and adds nothing by looking", "[subject_table]") {
  SubjectTable table;
  table.Intern("user", "ann");
  CHECK_FALSE(table.Find("user", "bob").has_value());
  CHECK_FALSE(table.Find("account", "ann").has_value());
  CHECK_FALSE(table.TypeNumber("account").has_value());
  CHECK(table.size() == 1);
  CHECK(table.type_count() == 1);
}

TEST_CASE("SubjectTable interns by a type's number as by its name", "[subject_table]") {
  SubjectTable table;
  const uint32_t ann = table.Intern("user", "ann");
  const uint32_t user = *table.TypeNumber("user");
  CHECK(table.Intern(user, "ann") == ann);
  const uint32_t bob = table.Intern(user, "bob");
  CHECK(bob != ann);
  CHECK(table.Find("user", "bob") == bob);
  CHECK(table.TypeOf(table[bob]) == "user");
  // A forgotten subject that returns is a new incarnation either way.
  table.Erase(bob);
  const uint32_t bob_again = table.Intern(user, "bob");
  CHECK(bob_again != bob);
  CHECK(table[bob_again].incarnation == 1);
  CHECK(table[bob].erased);
}

TEST_CASE("SubjectState holds its rarely used state out of line, and only while it has some") {
  SubjectState s;
  CHECK(s.extra == nullptr);
  CHECK(s.sequences().empty());
  CHECK(s.send_ledger().empty());
  s.ReleaseExtraIfEmpty();  // Nothing to free.
  CHECK(s.extra == nullptr);
  // A partial match: made on demand, read through sequences().
  s.MutableExtra().sequences.emplace_back().version = 3;
  REQUIRE(s.sequences().size() == 1);
  CHECK(s.sequences()[0].version == 3);
  s.MutableExtra().send_ledger.emplace_back(0, std::vector<absl::Time>{absl::UnixEpoch()});
  CHECK(s.send_ledger().size() == 1);
  // Kept while either part holds something; freed when both are empty.
  s.extra->sequences.clear();
  s.ReleaseExtraIfEmpty();
  REQUIRE(s.extra != nullptr);
  CHECK(s.send_ledger().size() == 1);
  s.extra->send_ledger.clear();
  s.ReleaseExtraIfEmpty();
  CHECK(s.extra == nullptr);
  CHECK(s.sequences().empty());
  // Moving a record moves its extra with it.
  s.MutableExtra().sequences.emplace_back();
  SubjectState moved = std::move(s);
  CHECK(moved.sequences().size() == 1);
}

TEST_CASE("SubjectTable restores in order and leaves a repeated id unindexed", "[subject_table]") {
  SubjectTable table;
  SubjectState first;
  first.id = "ann";
  SubjectState repeat;
  repeat.id = "ann";
  CHECK(table.AppendRestored("user", std::move(first)) == 0);
  CHECK(table.AppendRestored("user", std::move(repeat)) == 1);
  CHECK(table.size() == 2);
  // The restore check tells the repeat by Find giving the earlier slot.
  CHECK(table.Find("user", "ann") == 0u);
  table.Clear();
  CHECK(table.empty());
  CHECK(table.type_count() == 0);
  CHECK_FALSE(table.Find("user", "ann").has_value());
}

}  // namespace
}  // namespace cairn::internal
