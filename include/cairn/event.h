// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// cairn::Event, the behavioural input a host feeds into an Engine, and
// cairn::Attributes, the named values of profiles and entry contexts.
//
// Thread-safety: plain value types.

#ifndef CAIRN_EVENT_H_
#define CAIRN_EVENT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/v1/event.pb.h"
#include "cairn/value.h"

namespace cairn {

// Named values, in any order; a name should appear once (the last one wins).
// Used for profile attributes, enrollment context and event properties.
using Attributes = std::vector<std::pair<std::string, Value>>;

// The value named `name` in `attributes`, or nullptr. Linear: attribute
// lists are short.
const Value* FindAttribute(const Attributes& attributes, absl::string_view name);

// Something a subject did, at a time. The C++ twin of cairn.v1.Event.
//
// Example:
//   cairn::Event e;
//   e.subject_id = "u1";
//   e.name = "add_to_cart";
//   e.time = absl::FromUnixSeconds(1767225600);
//   e.properties = {{"sku", cairn::Value::String("A-1")}};
//   CAIRN_RETURN_IF_ERROR(engine.Ingest(e));
struct Event {
  // Host-assigned id; events with the same (subject, id) inside the engine's
  // dedup window are dropped. Empty: never de-duplicated.
  std::string id;
  // Who did it. Required.
  std::string subject_id;
  // "user", "device", ...; empty means "user".
  std::string subject_type;
  // What happened, e.g. "add_to_cart". Required.
  std::string name;
  // When. Required (InfinitePast means unset).
  absl::Time time = absl::InfinitePast();
  // Properties, read as event.<name> in predicates and templates.
  Attributes properties;

  // Converts from the proto form; InvalidArgument for an invalid property
  // value or timestamp. Does not check required fields (Ingest does).
  static absl::StatusOr<Event> FromProto(const v1::Event& proto);
};

}  // namespace cairn

#endif  // CAIRN_EVENT_H_
