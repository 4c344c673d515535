// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Fuzz target: bytes -> one event line. ParseEventLine (the one-pass reader,
// falling back to the tree-based path) must give exactly what the tree-based
// path gives (ParseJsonObject + EventFromJson): the same Event, or the same
// error status. And the one-pass reader alone must never take a line the
// tree-based path refuses, nor read one differently.

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fuzz_support.h"
#include "json/json.h"
#include "json/event_lines.h"

namespace {

bool SameEvent(const cairn::Event& a, const cairn::Event& b) {
  if (a.id != b.id || a.subject_id != b.subject_id || a.subject_type != b.subject_type ||
      a.name != b.name || a.time != b.time || a.properties.size() != b.properties.size()) {
    return false;
  }
  for (size_t i = 0; i < a.properties.size(); ++i) {
    const cairn::Value& x = a.properties[i].second;
    const cairn::Value& y = b.properties[i].second;
    // DebugString as well: it tells -0.0 from 0.0, which == does not.
    if (a.properties[i].first != b.properties[i].first || x != y ||
        x.DebugString() != y.DebugString()) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view line(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<cairn::json::JsonValue> object = cairn::json::ParseJsonObject(line);
  const absl::StatusOr<cairn::Event> tree =
      object.ok() ? cairn::json::EventFromJson(*object) : object.status();
  const absl::StatusOr<cairn::Event> parsed = cairn::json::ParseEventLine(line);
  cairn::fuzz::Check(parsed.status() == tree.status(),
                     "ParseEventLine and the tree-based path disagree on the status");
  if (tree.ok()) {
    cairn::fuzz::Check(SameEvent(*parsed, *tree),
                       "ParseEventLine and the tree-based path read different events");
  }
  cairn::Event fast;
  if (cairn::json::ParseEventLineFast(line, &fast)) {
    cairn::fuzz::Check(tree.ok(), "the one-pass reader took a line the tree-based path refuses");
    cairn::fuzz::Check(SameEvent(fast, *tree), "the one-pass reader read a different event");
  }
  return 0;
}
