// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Parses and compiles a journey through the installed public API only.

#include <cstring>
#include <iostream>

#include "cairn/cairn.h"
#include "cairn/version.h"

int main() {
  // The installed headers and library are one version.
  if (std::strcmp(cairn::Version(), CAIRN_VERSION_STRING) != 0) {
    std::cerr << "library " << cairn::Version() << ", headers " << CAIRN_VERSION_STRING << "\n";
    return 1;
  }
  std::cout << "cairn " << cairn::Version() << "\n";
  absl::StatusOr<cairn::v1::Journey> journey = cairn::ParseJourney(R"pb(
    id: "welcome"
    version: 3
    settings { state: ACTIVE }
    nodes {
      id: "signed_up"
      trigger { event { matcher { event: "signup" } } next: "hello" }
    }
    nodes {
      id: "hello"
      action { channel: "email" template_id: "welcome" next: "done" }
    }
    nodes { id: "done" exit {} }
  )pb", cairn::JourneyFormat::kText);
  if (!journey.ok()) {
    std::cerr << journey.status() << "\n";
    return 1;
  }
  auto compiled = cairn::Compile(*journey);
  if (!compiled.ok()) {
    std::cerr << compiled.status() << "\n";
    return 1;
  }
  std::cout << "compiled " << (*compiled)->id() << " v" << (*compiled)->version()
            << ": " << (*compiled)->node_count() << " nodes, events:";
  for (const std::string& e : (*compiled)->event_names()) std::cout << " " << e;
  std::cout << "\n";
  // Run it: a host sink receives the welcome email.
  struct CountingSink : cairn::ChannelSink {
    cairn::SendResult Send(const cairn::Message& m) override {
      std::cout << "sent " << m.template_id << " to " << m.subject_id << "\n";
      return cairn::SendResult::Accepted();
    }
  } email;
  cairn::Engine engine;
  if (!engine.RegisterChannel("email", &email).ok() || !engine.Deploy(*journey).ok()) {
    std::cerr << "deploy failed\n";
    return 1;
  }
  cairn::Event signup;
  signup.subject_id = "u1";
  signup.name = "signup";
  signup.time = absl::FromUnixSeconds(1767225600);
  // The host's clock first: an event may not move engine time further than
  // EngineOptions::max_input_lead on its own.
  if (!engine.AdvanceTo(signup.time).ok()) return 1;
  if (!engine.Ingest(signup).ok()) return 1;
  // An invalid journey must come back as an error, not a crash.
  journey->mutable_nodes(1)->mutable_action()->clear_channel();
  if (cairn::Compile(*journey).ok()) {
    std::cerr << "invalid journey compiled\n";
    return 1;
  }
  return 0;
}
