// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The name a typo was meant to be: for "did you mean" hints, in the
// command line (a misspelt command or flag) and in journey problems (an
// edge to a misspelt node id).
//
// Thread-safety: pure functions.

#ifndef CAIRN_UTIL_NEAREST_H_
#define CAIRN_UTIL_NEAREST_H_

#include <optional>
#include <string>
#include <vector>

namespace cairn::internal {

// Of `names`, the one nearest `typo` by edit distance (a swap of two
// neighbouring characters counts as one edit), if it is near enough to be
// the name meant: at most 1 edit for names of up to 4 characters, 2 up to 8,
// else 3. Ties go to the earlier name. Nullopt when none is.
std::optional<std::string> Nearest(const std::string& typo, const std::vector<std::string>& names);

}  // namespace cairn::internal

#endif  // CAIRN_UTIL_NEAREST_H_
