// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Running another program from the `cairn` tool (Graphviz's `dot` for
// `cairn sim --svg`) without a shell: the arguments go to the program as a
// vector, so a file name holding quotes, spaces or `;` stays one argument
// and cannot run anything.

#ifndef CAIRN_TOOLS_SUBPROCESS_H_
#define CAIRN_TOOLS_SUBPROCESS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace cairn::tools {

// Runs argv[0], looked up on PATH, with the arguments argv[1..], stdin from
// /dev/null and stdout/stderr shared with this process, and waits for it.
// OK when it exits with status 0. NotFound when argv[0] is not on PATH;
// Internal "`NAME` exited with status N", "`NAME` was killed by signal N"
// or "cannot run `NAME`: REASON" otherwise.
absl::Status RunProgram(const std::vector<std::string>& argv);

// `path` as a program argument that cannot be read as an option: "./" is
// put before a relative path that starts with '-'.
std::string PathArgument(const std::string& path);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_SUBPROCESS_H_
