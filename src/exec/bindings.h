// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// What a journey's conditions, placeholders and assignments read during one
// step of the engine (profile.*, event.*, entry.*, behavior.*, and engine
// time for now_minus), and the attribute lists
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
#include "predicate/predicate.h"

namespace cairn::internal {

inline constexpr absl::string_view kDefaultSubjectType = "user";

inline absl::string_view SubjectTypeOrDefault(absl::string_view type) {
  return type.empty() ? kDefaultSubjectType : type;
}

// Sorted-attribute helpers for profiles.
inline const Value* FindSorted(const Attributes& attrs, absl::string_view name) {
  auto it = std::lower_bound(
      attrs.begin(), attrs.end(), name,
      [](const auto& a, absl::string_view n) { return absl::string_view(a.first) < n; });
  return it != attrs.end() && it->first == name ? &it->second : nullptr;
}

inline void SetSorted(Attributes* attrs, absl::string_view name, Value value) {
  auto it = std::lower_bound(
      attrs->begin(), attrs->end(), name,
      [](const auto& a, absl::string_view n) { return absl::string_view(a.first) < n; });
  if (it != attrs->end() && it->first == name) {
    if (value.is_null()) {
      attrs->erase(it);
    } else {
      it->second = std::move(value);
    }
  } else if (!value.is_null()) {
    attrs->insert(it, {std::string(name), std::move(value)});
  }
}

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

// What predicates and templates see during one step. Without a context
// there is no engine time and no behaviour; behaviour matchers pass one
// with engine time but no behaviours (they read event.* and profile.*
// only).
class StepBindings : public Bindings {
 public:
  StepBindings(const Attributes* profile, const Event* event, const Attributes* entry)
      : profile_(profile), event_(event), entry_(entry) {}
  // `subject` is the subject's index, BehaviorStore::kNoSubject for one the
  // engine has not seen.
  StepBindings(const Attributes* profile, const Event* event, const Attributes* entry,
               const StepContext& context, uint32_t subject)
      : profile_(profile),
        event_(event),
        entry_(entry),
        has_context_(true),
        context_(context),
        subject_(subject) {}

  const Value* Find(PathRoot root, absl::string_view key, Value* scratch) const override {
    switch (root) {
      case PathRoot::kProfile:
        return profile_ == nullptr ? nullptr : FindSorted(*profile_, key);
      case PathRoot::kEntry:
        return entry_ == nullptr ? nullptr : FindAttribute(*entry_, key);
      case PathRoot::kEvent:
        if (event_ == nullptr) return nullptr;
        if (const Value* builtin = Builtin(key, scratch)) return builtin;
        return FindAttribute(event_->properties, key);
      case PathRoot::kBehavior:
        if (context_.behaviors == nullptr) return nullptr;
        return context_.behaviors->Read(key, subject_, profile_, context_.read, scratch);
    }
    return nullptr;
  }

  std::optional<absl::Time> Now() const override {
    if (!has_context_) return std::nullopt;
    return context_.read.now;
  }

 private:
  // The built-in event fields shadow properties of the same name.
  const Value* Builtin(absl::string_view key, Value* scratch) const {
    if (key == "name") {
      *scratch = Value::String(event_->name);
    } else if (key == "id") {
      *scratch = Value::String(event_->id);
    } else if (key == "subject_id") {
      *scratch = Value::String(event_->subject_id);
    } else if (key == "subject_type") {
      *scratch = Value::String(std::string(SubjectTypeOrDefault(event_->subject_type)));
    } else if (key == "time") {
      *scratch = Value::Timestamp(event_->time);
    } else {
      return nullptr;
    }
    return scratch;
  }

  const Attributes* profile_;
  const Event* event_;
  const Attributes* entry_;
  bool has_context_ = false;
  StepContext context_;
  uint32_t subject_ = BehaviorStore::kNoSubject;
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
