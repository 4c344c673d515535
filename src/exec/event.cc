// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/event.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "util/proto_time.h"

namespace cairn {

const Value* FindAttribute(const Attributes& attributes, absl::string_view name) {
  // The last occurrence wins, as documented.
  for (auto it = attributes.rbegin(); it != attributes.rend(); ++it) {
    if (it->first == name) return &it->second;
  }
  return nullptr;
}

absl::StatusOr<Event> Event::FromProto(const v1::Event& proto) {
  Event event;
  event.id = proto.id();
  event.subject_id = proto.subject_id();
  event.subject_type = proto.subject_type();
  event.name = proto.name();
  if (proto.has_time()) {
    absl::StatusOr<absl::Time> t = internal::TimeFromProto(proto.time());
    if (!t.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("event ", proto.name(), ": time: ", t.status().message()));
    }
    event.time = *t;
  }
  // Map order is unspecified; sort so that conversion is deterministic.
  for (const auto& [key, value] : proto.properties()) {
    absl::StatusOr<Value> v = Value::FromProto(value);
    if (!v.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "event ", proto.name(), ": property ", key, ": ", v.status().message()));
    }
    event.properties.emplace_back(key, *std::move(v));
  }
  std::sort(event.properties.begin(), event.properties.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return event;
}

}  // namespace cairn
