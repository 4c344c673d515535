// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Checking a journey file's text the way a compiler checks a source file,
// for `cairn validate`: every syntax error rather than the first, and every
// problem located at a line and column of the text, so that editors and CI
// problem matchers can point at it.
//
// ParseJourney (cairn/journey_io.h) stays the loader: it accepts exactly
// what this accepts, and stops at the first error. This is the diagnosis of
// a file that a person will fix.
//
// Thread-safety: pure functions.

#ifndef CAIRN_IO_JOURNEY_CHECK_H_
#define CAIRN_IO_JOURNEY_CHECK_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cairn/journey.h"
#include "cairn/journey_io.h"
#include "cairn/v1/journey.pb.h"

namespace cairn::internal {

// One problem of a journey file, located in its text where possible.
struct SourceProblem {
  enum class Severity { kError, kWarning };

  Severity severity = Severity::kError;
  // Where in the text, counted from 1 (a column counts bytes); 0 when the
  // problem has no place in it (a binary file, a journey-level problem
  // about something absent from the text).
  int line = 0;
  int column = 0;
  // The path of the field at fault from the Journey, e.g.
  // "nodes[3].delay.duration"; empty for syntax errors.
  std::string field;
  // The id of the node at fault, for semantic problems; else empty.
  std::string node_id;
  // What is wrong: for a semantic problem, as JourneyProblem::message.
  std::string message;

  // "error" or "warning".
  absl::string_view SeverityName() const;
  // The message as a person reads it after "FILE:LINE:COL: error: ": a
  // semantic problem's node and field first ("node push, field
  // action.channel: ...").
  std::string Describe() const;
};

// The outcome of CheckJourneyText.
struct JourneyCheck {
  // The journey, when the text parses (problems may still be found in it).
  std::optional<v1::Journey> journey;
  // Every problem, syntax errors in text order, then the compiler's
  // (ValidateJourney) in its order.
  std::vector<SourceProblem> problems;

  // True when no problem is an error: the journey compiles.
  bool valid() const;
};

// Parses `data` as `format` and validates the journey. Text format goes on
// past a syntax error: the statement at fault (to the end of its line, and
// of any block the line opens) is left out and the rest parsed again, so
// that each line with an error reports it (at most one per line, up to a
// limit). JSON stops at the first syntax or schema error. A value that is
// not one of its enum's names is reported with the names that are. The
// compiler's problems are placed at the deepest part of their field path
// that the text holds (the line where that field's name starts).
JourneyCheck CheckJourneyText(absl::string_view data, JourneyFormat format);

}  // namespace cairn::internal

#endif  // CAIRN_IO_JOURNEY_CHECK_H_
