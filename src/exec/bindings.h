// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// What a journey's conditions, placeholders and assignments read during one
// step of the engine: StepBindings, which adds behavior.* to what
// EventBindings (predicate/event_bindings.h) reads; and the attribute lists
// they read from: a profile, kept sorted by name; an entry context, kept to
// the names the journey reads.
//
// Thread-safety: StepBindings is used by one thread; the rest are pure
// functions.

#ifndef CAIRN_EXEC_BINDINGS_H_
#define CAIRN_EXEC_BINDINGS_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "behavior/behavior_store.h"
#include "cairn/event.h"
#include "cairn/value.h"
#include "compile/journey_graph.h"
#include "predicate/event_bindings.h"
#include "predicate/predicate.h"

namespace cairn::internal {

// Whether `graph` reads entry.`name` anywhere.
inline bool ReadsEntry(const JourneyGraph& graph, absl::string_view name) {
  return std::binary_search(
      graph.entry_keys.begin(), graph.entry_keys.end(), name,
      [](absl::string_view a, absl::string_view b) { return a < b; });
}

// The part of `source` that `graph` can read as entry.*, in source order.
inline Attributes EntryContext(const JourneyGraph& graph, const Attributes& source) {
  Attributes kept;
  if (graph.entry_keys.empty()) return kept;
  for (const auto& property : source) {
    if (ReadsEntry(graph, property.first)) kept.push_back(property);
  }
  return kept;
}

// Renders a value into a template: strings raw, lists comma-separated.
inline std::string RenderValue(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return "";
    case Value::Type::kString:
      return v.string_value();
    case Value::Type::kStringList: {
      std::string out;
      for (const std::string& s : v.string_list_value()) {
        if (!out.empty()) out += ",";
        out += s;
      }
      return out;
    }
    default:
      return v.DebugString();
  }
}

// What every step of the engine reads besides the subject's own data:
// engine time and the behaviours.
struct StepContext {
  const BehaviorStore* behaviors = nullptr;
  BehaviorReadContext read;  // read.now is engine time.
};

// What predicates and templates see during one step of the engine: the
// subject's data, engine time and its behaviours.
class StepBindings : public EventBindings {
 public:
  // `subject` is the subject's index, BehaviorStore::kNoSubject for one the
  // engine has not seen.
  StepBindings(const Attributes* profile, const Event* event, const Attributes* entry,
               const StepContext& context, uint32_t subject)
      : EventBindings(profile, event, entry, context.read.now),
        context_(context),
        subject_(subject) {}

  absl::Time NextChange(PathRoot root, absl::string_view key) const override {
    if (context_.behaviors == nullptr) return absl::InfiniteFuture();
    return context_.behaviors->PathNextChange(root, key, subject_, profile(), context_.read);
  }

 protected:
  const Value* FindBehavior(absl::string_view key, Value* scratch) const override {
    if (context_.behaviors == nullptr) return nullptr;
    return context_.behaviors->Read(key, subject_, profile(), context_.read, scratch);
  }
  const Value* FindSegment(absl::string_view key, Value* scratch) const override {
    if (context_.behaviors == nullptr) return nullptr;
    return context_.behaviors->ReadSegment(key, subject_, profile(), context_.read, scratch);
  }

 private:
  StepContext context_;
  uint32_t subject_;
};

// Renders a compiled template parameter into *out, replacing its contents;
// missing values render empty.
inline void RenderParam(const CompiledParam& param, const Bindings& b,
                 std::string* out) {
  out->clear();
  for (const CompiledParam::Part& part : param.parts) {
    if (!part.path) {
      out->append(part.text);
    } else {
      Value scratch;
      if (const Value* v = b.Find(part.path->root, part.path->key, &scratch)) {
        out->append(RenderValue(*v));
      }
    }
  }
}

}  // namespace cairn::internal

#endif  // CAIRN_EXEC_BINDINGS_H_
