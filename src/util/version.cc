// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/version.h"

namespace cairn {

// Compiled into the library, so it reports the library's version even to a
// program built against other headers.
const char* Version() { return CAIRN_VERSION_STRING; }

}  // namespace cairn
