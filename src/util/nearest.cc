// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "util/nearest.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace cairn::internal {
namespace {

// Optimal string alignment distance: Levenshtein plus the swap of two
// neighbouring characters as one edit, the commonest typo ("valdiate").
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, substitute});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::optional<std::string> Nearest(const std::string& typo,
                                   const std::vector<std::string>& names) {
  const size_t allowed = typo.size() <= 4 ? 1 : typo.size() <= 8 ? 2 : 3;
  std::optional<std::string> best;
  size_t best_distance = allowed + 1;
  for (const std::string& name : names) {
    // Lengths further apart than that are further apart in edits too.
    const size_t apart = name.size() > typo.size() ? name.size() - typo.size()
                                                   : typo.size() - name.size();
    if (apart > allowed) continue;
    const size_t d = EditDistance(typo, name);
    if (d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace cairn::internal
