// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Quickstart: load a journey file, compile it, and list what it reacts to.
//
//   cairn_example_quickstart examples/cart_abandonment/journey.textproto

#include <iostream>
#include <memory>

#include "cairn/cairn.h"

namespace {

absl::Status Run(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(cairn::v1::Journey definition,
                         cairn::LoadJourneyFile(path));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<const cairn::CompiledJourney> journey,
                         cairn::Compile(definition));
  std::cout << journey->id() << " v" << journey->version() << ": "
            << journey->node_count() << " nodes\n";
  for (int i = 0; i < journey->node_count(); ++i) {
    std::cout << "  #" << i << " " << journey->node_id(i) << " ("
              << cairn::NodeKindName(journey->node_kind(i)) << ")\n";
  }
  std::cout << "reacts to:";
  for (const std::string& event : journey->event_names()) {
    std::cout << " " << event;
  }
  std::cout << "\n";
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " JOURNEY_FILE\n";
    return 2;
  }
  absl::Status status = Run(argv[1]);
  if (!status.ok()) {
    std::cerr << status.message() << "\n";
    return 1;
  }
  return 0;
}
