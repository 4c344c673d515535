// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The README's harness snippet as a test that runs: unit-testing your own
// journey with a virtual clock and recording sinks (cairn::testing).

#include <string>

#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "catch2/catch.hpp"

namespace {

const cairn::v1::Journey welcome_journey = [] {
  absl::StatusOr<cairn::v1::Journey> j =
      cairn::LoadJourneyFile(CAIRN_SOURCE_DIR "/examples/welcome/journey.textproto");
  return j.ok() ? *j : cairn::v1::Journey();
}();

TEST_CASE("welcome push") {
  cairn::testing::Harness h;
  REQUIRE(h.Deploy(welcome_journey).ok());
  REQUIRE(h.Event("u1", "signup").ok());
  REQUIRE(h.Advance(absl::Hours(1)).ok());
  REQUIRE(h.SentTo("u1", "push") == 1);
}

}  // namespace
