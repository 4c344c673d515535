// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// `cairn validate PATH...`: checks journey files as a compiler checks
// source files. Each problem is printed as "FILE:LINE:COLUMN: error:
// MESSAGE" (as editors and CI problem matchers read them; "FILE: error:
// MESSAGE" when it has no place in the text), or, with --format json, as
// one JSON document on stdout. A directory stands for its journey files
// (cairn::ListJourneyFiles, as `cairn worker --journeys` reads them), "-"
// for stdin.

#ifndef CAIRN_TOOLS_VALIDATE_COMMAND_H_
#define CAIRN_TOOLS_VALIDATE_COMMAND_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "cairn/journey_io.h"
#include "io/journey_check.h"
#include "tools/cli.h"

namespace cairn::tools {

// Checks every journey named; prints a summary of each valid one and
// every problem of each invalid one. Returns 0 when all are valid, 1 when
// one is invalid or unreadable, 2 on bad usage.
int Validate(const Flags& flags);
// Declares Validate's flags and arguments on `command`.
void AddValidateFlags(CLI::App* command);

// "FILE:LINE:COLUMN: error: MESSAGE", or "FILE: error: MESSAGE" when the
// problem has no place in the text.
std::string ProblemLine(const std::string& file, const internal::SourceProblem& p);

// How stdin is named in problems.
inline constexpr char kStdinName[] = "<stdin>";

// A journey file's text and the format it is in.
struct JourneyText {
  JourneyFormat format = JourneyFormat::kText;
  std::string data;
};

// Reads the journey file at `path`, its format by its extension, or, with
// `is_stdin`, stdin in `stdin_format`. On failure, a message for a problem
// without a place in the file: an unknown extension, "cannot open file",
// "read error".
absl::StatusOr<JourneyText> ReadJourneyText(const std::string& path, bool is_stdin,
                                            JourneyFormat stdin_format);

// The format the --input-format value names ("textproto", "json",
// "binpb" and their aliases); nullopt when it names none.
std::optional<JourneyFormat> InputFormatNamed(const std::string& name);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_VALIDATE_COMMAND_H_
