// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// `cairn fmt FILE...`: writes journey files in one normalised form
// (io/journey_format.h: fields in number order, two-space indentation,
// each duration with its human form as a comment), to stdout or in place,
// or converts them between text format and JSON. The comment lines that
// open a text file (its header) are kept; other comments cannot be carried
// over, so an in-place rewrite that would drop them is refused unless
// --drop-comments says so.

#ifndef CAIRN_TOOLS_FMT_COMMAND_H_
#define CAIRN_TOOLS_FMT_COMMAND_H_

#include <string>

#include "absl/strings/string_view.h"
#include "tools/cli.h"

namespace cairn::tools {

// Returns 0 when done (or, with --check, every file is formatted), 1 when
// a file cannot be read, parsed or written, or with --check is not
// formatted, 2 on bad usage.
int Fmt(const Flags& flags);
// Declares Fmt's flags and arguments on `command`.
void AddFmtFlags(CLI::App* command);

// The comment lines (and blank lines among them) that open a text format
// file, through the newline of the last; and whether the rest of the text
// has a comment ('#' outside a string literal).
struct TextComments {
  std::string header;
  bool others = false;
};
TextComments FindTextComments(absl::string_view text);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_FMT_COMMAND_H_
