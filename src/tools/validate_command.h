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

#include <string>

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

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_VALIDATE_COMMAND_H_
