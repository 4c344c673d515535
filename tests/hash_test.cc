// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The stable hashes must match their documentation exactly: the golden
// values below were computed from the description in cairn/hash.h by an
// independent implementation, so a change to the code that silently changes
// A/B assignment or message ids fails here.

#include "cairn/hash.h"

#include <cstdint>
#include <initializer_list>
#include <string>

#include "catch2/catch.hpp"
#include "util/stable_hasher.h"

namespace cairn {
namespace {

TEST_CASE("StableHash64 matches the documented algorithm") {
  CHECK(StableHash64({}) == 0xc3817c016ba4ff30ULL);
  CHECK(StableHash64({""}) == 0x5ba314b8cfda3b6bULL);
  CHECK(StableHash64({"a", "bc"}) == 0xed4750d9bc35af7dULL);
  // Length prefixes keep part boundaries apart.
  CHECK(StableHash64({"ab", "c"}) == 0x51ee00794e161859ULL);
  CHECK(StableHash64({"7", "cart", "holdout", "user", "u1"}) == 0x0cfb8d7f55ba4e03ULL);
}

// FNV-1a over every byte, as documented, for comparing long parts (whose
// length bytes are not all zero) against the implementation's shortcut.
uint64_t ReferenceHash(std::initializer_list<std::string> parts) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto fnv = [&h](unsigned char c) { h = (h ^ c) * 0x100000001b3ULL; };
  for (const std::string& part : parts) {
    const uint64_t len = part.size();
    for (int i = 0; i < 8; ++i) fnv(static_cast<unsigned char>(len >> (8 * i)));
    for (char c : part) fnv(static_cast<unsigned char>(c));
  }
  uint64_t z = h + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

TEST_CASE("StableHash64 matches byte-wise FNV-1a for every length width") {
  const size_t kLengths[] = {0, 1, 255, 256, 257, 511, 65535, 65536, 70000, 16777216};
  for (size_t n : kLengths) {
    const std::string part(n, 'x');
    CAPTURE(n);
    CHECK(StableHash64({part}) == ReferenceHash({part}));
    CHECK(StableHash64({"a", part, ""}) == ReferenceHash({"a", part, ""}));
  }
}

TEST_CASE("StableHasher continued from a prefix equals StableHash64") {
  const internal::StableHasher prefix = internal::StableHasher().Add("journey").Add("3");
  internal::StableHasher hasher = prefix;
  hasher.Add("user").Add("u1").Add("1").Add("p").Add("4");
  CHECK(hasher.Finish() == StableHash64({"journey", "3", "user", "u1", "1", "p", "4"}));
  CHECK(prefix.Finish() == StableHash64({"journey", "3"}));
  CHECK(internal::StableHasher().Finish() == StableHash64({}));
}

TEST_CASE("AssignVariant picks by cumulative weight") {
  // h % 100 for these subjects is 23, 15, 89, 51, 44: all below 90.
  for (const char* u : {"u1", "u2", "u3", "u4", "u5"}) {
    CHECK(AssignVariant(7, "cart", "holdout", "user", u, {90, 10}) == 0);
  }
  // With weights 89/11 the subject at 89 falls into the second arm.
  CHECK(AssignVariant(7, "cart", "holdout", "user", "u3", {89, 11}) == 1);
  CHECK(AssignVariant(7, "cart", "holdout", "user", "u3", {1}) == 0);
}

TEST_CASE("AssignVariant spreads subjects by weight") {
  int counts[3] = {0, 0, 0};
  const int n = 30000;
  for (int i = 0; i < n; ++i) {
    ++counts[AssignVariant(1, "j", "s", "user", std::to_string(i), {50, 30, 20})];
  }
  CHECK(counts[0] / double(n) == Approx(0.5).margin(0.01));
  CHECK(counts[1] / double(n) == Approx(0.3).margin(0.01));
  CHECK(counts[2] / double(n) == Approx(0.2).margin(0.01));
}

TEST_CASE("The seed, journey and node each reshuffle assignment") {
  int moved_by_seed = 0, moved_by_node = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = std::to_string(i);
    const int base = AssignVariant(1, "j", "s", "user", u, {1, 1});
    moved_by_seed += AssignVariant(2, "j", "s", "user", u, {1, 1}) != base;
    moved_by_node += AssignVariant(1, "j", "t", "user", u, {1, 1}) != base;
  }
  CHECK(moved_by_seed > 400);
  CHECK(moved_by_seed < 600);
  CHECK(moved_by_node > 400);
  CHECK(moved_by_node < 600);
}

TEST_CASE("HashToHex is 16 lower-case hex digits") {
  CHECK(HashToHex(0) == "0000000000000000");
  CHECK(HashToHex(0xed4750d9bc35af7dULL) == "ed4750d9bc35af7d");
}

}  // namespace
}  // namespace cairn
