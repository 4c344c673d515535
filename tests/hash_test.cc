// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The stable hashes must match their documentation exactly: the golden
// values below were computed from the description in cairn/hash.h by an
// independent implementation, so a change to the code that silently changes
// A/B assignment or message ids fails here.

#include "cairn/hash.h"

#include "catch2/catch.hpp"

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
