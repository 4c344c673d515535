// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Fuzz target: journey text / JSON / binary -> parse -> compile. The first
// byte picks the format. A journey that compiles must also survive a round
// trip through every format and compile again, and deploy into an engine.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "cairn/cairn.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cairn::JourneyFormat;
  using cairn::fuzz::Check;
  cairn::fuzz::SilenceProtobufLogs();
  if (size == 0) return 0;
  const JourneyFormat formats[] = {JourneyFormat::kText, JourneyFormat::kJson,
                                   JourneyFormat::kBinary};
  const JourneyFormat format = formats[data[0] % 3];
  const absl::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  absl::StatusOr<cairn::v1::Journey> journey = cairn::ParseJourney(text, format);
  if (!journey.ok()) {
    Check(journey.status().code() == absl::StatusCode::kInvalidArgument,
          absl::StrCat("parse: ", journey.status().ToString()));
    return 0;
  }
  // Validation and compilation agree, and errors are InvalidArgument.
  const std::vector<cairn::JourneyProblem> problems = cairn::ValidateJourney(*journey);
  auto compiled = cairn::Compile(*journey);
  Check(compiled.ok() == problems.empty(), "Compile and ValidateJourney disagree");
  if (!compiled.ok()) {
    Check(compiled.status().code() == absl::StatusCode::kInvalidArgument,
          absl::StrCat("compile: ", compiled.status().ToString()));
    return 0;
  }
  for (JourneyFormat f : formats) {
    absl::StatusOr<std::string> bytes = cairn::SerializeJourney(*journey, f);
    Check(bytes.ok(), absl::StrCat("serialize: ", bytes.status().ToString()));
    absl::StatusOr<cairn::v1::Journey> again = cairn::ParseJourney(*bytes, f);
    Check(again.ok(), absl::StrCat("re-parse: ", again.status().ToString()));
    Check(cairn::Compile(*again).ok(), "a round-tripped journey no longer compiles");
  }
  // Deploying a valid journey needs only its channels' sinks.
  cairn::fuzz::RecordingSinks sinks;
  cairn::Engine engine;
  for (const std::string& channel : (*compiled)->channels()) {
    Check(engine.RegisterChannel(channel, &sinks).ok(), "register channel");
  }
  const absl::Status deployed = engine.Deploy(*journey);
  Check(deployed.ok(), absl::StrCat("deploy of a compiled journey: ", deployed.ToString()));
  return 0;
}
