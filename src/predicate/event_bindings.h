// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// EventBindings: what a predicate reads about one subject and one event
// (profile.*, event.* with its built-in fields, entry.*, and engine time for
// now_minus), and the sorted-attribute helpers for profiles. The engine's
// StepBindings (exec/bindings.h) adds behavior.*; a behaviour's own matcher
// uses these bindings as they are.
//
// Thread-safety: an EventBindings is used by one thread; the rest are pure
// functions.

#ifndef CAIRN_PREDICATE_EVENT_BINDINGS_H_
#define CAIRN_PREDICATE_EVENT_BINDINGS_H_

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/event.h"
#include "cairn/value.h"
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

// Reads profile.*, event.* and entry.* (each may be null: absent), and
// engine time when given. behavior.* is absent unless a subclass answers
// FindBehavior.
class EventBindings : public Bindings {
 public:
  EventBindings(const Attributes* profile, const Event* event, const Attributes* entry,
                std::optional<absl::Time> now = std::nullopt)
      : profile_(profile), event_(event), entry_(entry), now_(now) {}

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
        return FindBehavior(key, scratch);
      case PathRoot::kSegment:
        return FindSegment(key, scratch);
    }
    return nullptr;
  }

  std::optional<absl::Time> Now() const override { return now_; }

 protected:
  // behavior.`key`, computed into *scratch; nullptr when absent.
  virtual const Value* FindBehavior(absl::string_view /*key*/, Value* /*scratch*/) const {
    return nullptr;
  }
  // segment.`key` (whether the subject is in it), into *scratch; nullptr
  // when no such segment is declared.
  virtual const Value* FindSegment(absl::string_view /*key*/, Value* /*scratch*/) const {
    return nullptr;
  }

  const Attributes* profile() const { return profile_; }

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
  std::optional<absl::Time> now_;
};

}  // namespace cairn::internal

#endif  // CAIRN_PREDICATE_EVENT_BINDINGS_H_
