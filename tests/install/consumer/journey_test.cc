// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// A host's unit test of its own journey, with the installed cairn::testing
// harness (a host would use its test framework; a plain main keeps this
// consumer free of one).

#include <iostream>

#include "cairn/cairn.h"
#include "cairn/testing/harness.h"

int main() {
  absl::StatusOr<cairn::v1::Journey> journey = cairn::ParseJourney(R"pb(
    id: "welcome" version: 1
    settings { state: ACTIVE }
    nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "wait" } }
    nodes { id: "wait" delay { duration { seconds: 3600 } next: "hello" } }
    nodes { id: "hello" action { channel: "email" template_id: "welcome" } }
  )pb", cairn::JourneyFormat::kText);
  if (!journey.ok()) {
    std::cerr << journey.status() << "\n";
    return 1;
  }
  cairn::testing::Harness h;
  if (!h.Deploy(*journey).ok() || !h.Event("u1", "signup").ok()) return 1;
  const int before = h.SentTo("u1", "email");
  if (!h.Advance(absl::Hours(1)).ok()) return 1;
  std::cout << "harness: " << before << " email before the hour, " << h.SentTo("u1", "email")
            << " after\n";
  return 0;
}
