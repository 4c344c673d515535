// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "exec/input_checks.h"

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "cairn/status_macros.h"
#include "cairn/options.h"
#include "util/proto_time.h"
#include "util/utf8.h"

namespace cairn::internal {
namespace {

// At most this many bytes of a bad string are quoted in an error.
constexpr size_t kQuotedBytes = 64;

std::string Quoted(absl::string_view s) {
  if (s.size() <= kQuotedBytes) return absl::StrCat("\"", Escaped(s), "\"");
  return absl::StrCat("\"", Escaped(s.substr(0, kQuotedBytes)), "\"...");
}

// The strings of one value (a string, a string list's items) for UTF-8, and
// a timestamp for a time a snapshot can hold; `field` names it in errors,
// made only when there is one.
absl::Status CheckValue(const Value& value, absl::string_view input,
                        absl::FunctionRef<std::string()> field) {
  switch (value.type()) {
    case Value::Type::kString:
      if (!IsValidUtf8(value.string_value())) {
        return CheckUtf8(value.string_value(), input, field());
      }
      break;
    case Value::Type::kStringList:
      for (const std::string& item : value.string_list_value()) {
        if (!IsValidUtf8(item)) return CheckUtf8(item, input, absl::StrCat("an item of ", field()));
      }
      break;
    case Value::Type::kTimestamp:
      if (!IsTimestampTime(value.timestamp_value())) {
        return absl::InvalidArgumentError(
            absl::StrCat(input, ": ", field(), " is a time outside 0001-01-01..9999-12-31"));
      }
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckUtf8(absl::string_view value, absl::string_view input,
                       absl::string_view field) {
  const size_t bad = FirstInvalidUtf8(value);
  if (bad == absl::string_view::npos) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(input, ": ", field,
                                                 " is not valid UTF-8 (byte ", bad,
                                                 "): ", Quoted(value)));
}

absl::Status CheckAttributes(const Attributes& attributes, absl::string_view input,
                             absl::string_view kind) {
  for (const auto& attribute : attributes) {
    // (Named, not a structured binding: clang refuses a lambda that
    // captures one.)
    const std::string& name = attribute.first;
    if (!IsValidUtf8(name)) {
      return CheckUtf8(name, input, absl::StrCat(kind, " name"));
    }
    CAIRN_RETURN_IF_ERROR(CheckValue(attribute.second, input,
                                     [&] { return absl::StrCat(kind, " ", Quoted(name)); }));
  }
  return absl::OkStatus();
}

int64_t TextBytes(absl::string_view name, const Value& value) {
  int64_t bytes = static_cast<int64_t>(name.size());
  if (value.type() == Value::Type::kString) {
    bytes += static_cast<int64_t>(value.string_value().size());
  } else if (value.type() == Value::Type::kStringList) {
    for (const std::string& item : value.string_list_value()) {
      bytes += static_cast<int64_t>(item.size());
    }
  }
  return bytes;
}

int64_t TextBytes(const Attributes& attributes) {
  int64_t bytes = 0;
  for (const auto& [name, value] : attributes) bytes += TextBytes(name, value);
  return bytes;
}

absl::Status CheckInputBytes(int64_t bytes, int64_t max_bytes, absl::string_view input) {
  if (bytes <= max_bytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(input, ": ", bytes,
                                                 " bytes of text, more than max_input_bytes ",
                                                 max_bytes));
}

absl::Status CheckEventSubject(const Event& event) {
  if (!event.subject_id.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "event ", event.name.empty() ? "(unnamed)" : Escaped(event.name), ": subject_id is empty"));
}

absl::Status CheckProfileSubject(absl::string_view subject_id) {
  if (!subject_id.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError("UpsertProfile: subject id is empty");
}

absl::Status CheckEnrollSubject(absl::string_view journey_id, absl::string_view subject_id) {
  if (!subject_id.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("Enroll into journey ", Escaped(journey_id), ": subject id is empty"));
}

absl::Status CheckEvent(const Event& event, int64_t max_bytes) {
  if (event.subject_id.empty()) return CheckEventSubject(event);
  if (event.name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("event of subject ", Escaped(event.subject_id), ": name is empty"));
  }
  const bool time_set =
      event.time != absl::InfinitePast() && event.time != absl::InfiniteFuture();
  const int64_t bytes = static_cast<int64_t>(event.id.size() + event.subject_id.size() +
                                             event.subject_type.size() + event.name.size()) +
                        TextBytes(event.properties);
  // Every event passes here: the common, valid one allocates nothing.
  if (time_set && IsValidUtf8(event.name) && IsValidUtf8(event.subject_id) &&
      IsValidUtf8(event.subject_type) && IsValidUtf8(event.id) &&
      CheckAttributes(event.properties, "", "property").ok() && bytes <= max_bytes) {
    return absl::OkStatus();
  }
  // Something is wrong: name the first thing, in a fixed order.
  const std::string input =
      absl::StrCat("event ", Escaped(event.name), " of subject ", Escaped(event.subject_id));
  if (!time_set) {
    return absl::InvalidArgumentError(absl::StrCat(input, ": time is not set"));
  }
  if (absl::Status s = CheckUtf8(event.name, input, "name"); !s.ok()) return s;
  if (absl::Status s = CheckUtf8(event.subject_id, input, "subject_id"); !s.ok()) return s;
  if (absl::Status s = CheckUtf8(event.subject_type, input, "subject_type"); !s.ok()) return s;
  if (absl::Status s = CheckUtf8(event.id, input, "id"); !s.ok()) return s;
  if (absl::Status s = CheckAttributes(event.properties, input, "property"); !s.ok()) {
    return s;
  }
  return CheckInputBytes(bytes, max_bytes, input);
}

absl::Status CheckErasure(absl::string_view subject_id, absl::string_view subject_type,
                          int64_t max_bytes) {
  if (subject_id.empty()) return absl::InvalidArgumentError("Forget: subject id is empty");
  const std::string input = absl::StrCat("Forget ", Escaped(subject_id));
  if (absl::Status s = CheckUtf8(subject_id, input, "subject id"); !s.ok()) return s;
  if (absl::Status s = CheckUtf8(subject_type, input, "subject type"); !s.ok()) return s;
  return CheckInputBytes(static_cast<int64_t>(subject_id.size() + subject_type.size()),
                         max_bytes, input);
}

absl::Status CheckMerge(absl::string_view from_id, absl::string_view into_id,
                        absl::string_view subject_type, int64_t max_bytes) {
  if (from_id.empty() || into_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MergeSubjects: ", from_id.empty() ? "the id to merge from" : "the id to merge into",
        " is empty"));
  }
  const std::string input =
      absl::StrCat("MergeSubjects ", Escaped(from_id), " into ", Escaped(into_id));
  if (absl::Status s = CheckUtf8(from_id, input, "id to merge from"); !s.ok()) return s;
  if (absl::Status s = CheckUtf8(into_id, input, "id to merge into"); !s.ok()) return s;
  if (absl::Status s = CheckUtf8(subject_type, input, "subject type"); !s.ok()) return s;
  if (from_id == into_id) {
    return absl::InvalidArgumentError(absl::StrCat(input, ": a subject cannot merge into itself"));
  }
  return CheckInputBytes(
      static_cast<int64_t>(from_id.size() + into_id.size() + subject_type.size()), max_bytes,
      input);
}

absl::Status CheckProfileUpdate(absl::string_view subject_id, absl::string_view subject_type,
                                const Attributes& attributes, int64_t max_bytes) {
  if (subject_id.empty()) return CheckProfileSubject(subject_id);
  bool names_set = true;
  for (const auto& [name, value] : attributes) names_set = names_set && !name.empty();
  const int64_t bytes =
      static_cast<int64_t>(subject_id.size() + subject_type.size()) + TextBytes(attributes);
  if (names_set && IsValidUtf8(subject_id) && IsValidUtf8(subject_type) &&
      CheckAttributes(attributes, "", "attribute").ok() && bytes <= max_bytes) {
    return absl::OkStatus();
  }
  const std::string input = absl::StrCat("UpsertProfile for ", Escaped(subject_id));
  if (!names_set) {
    return absl::InvalidArgumentError(absl::StrCat(input, ": an attribute name is empty"));
  }
  if (absl::Status s = CheckUtf8(subject_id, input, "subject id"); !s.ok()) return s;
  if (absl::Status s = CheckUtf8(subject_type, input, "subject type"); !s.ok()) return s;
  if (absl::Status s = CheckAttributes(attributes, input, "attribute"); !s.ok()) return s;
  return CheckInputBytes(bytes, max_bytes, input);
}

absl::Status CheckBehaviorSeed(const BehaviorSeed& seed, int64_t max_bytes) {
  if (seed.subject_id.empty()) {
    return absl::InvalidArgumentError("SeedBehavior: subject id is empty");
  }
  const std::string input = absl::StrCat("SeedBehavior for ", Escaped(seed.subject_id));
  CAIRN_RETURN_IF_ERROR(CheckUtf8(seed.subject_id, input, "subject id"));
  CAIRN_RETURN_IF_ERROR(CheckUtf8(seed.subject_type, input, "subject type"));
  CAIRN_RETURN_IF_ERROR(CheckUtf8(seed.behavior, input, "behavior"));
  int64_t bytes = static_cast<int64_t>(seed.subject_id.size() + seed.subject_type.size() +
                                       seed.behavior.size());
  bytes += TextBytes("", seed.value);
  CAIRN_RETURN_IF_ERROR(CheckValue(seed.value, input, [] { return std::string("value"); }));
  for (size_t i = 0; i < seed.history.size(); ++i) {
    bytes += TextBytes("", seed.history[i].value);
    CAIRN_RETURN_IF_ERROR(CheckValue(seed.history[i].value, input,
                                     [i] { return absl::StrCat("history[", i, "].value"); }));
  }
  return CheckInputBytes(bytes, max_bytes, input);
}

absl::Status CheckEnrollment(absl::string_view journey_id, absl::string_view subject_id,
                             const Attributes& context, int64_t max_bytes) {
  const int64_t bytes = static_cast<int64_t>(subject_id.size()) + TextBytes(context);
  if (IsValidUtf8(subject_id) && CheckAttributes(context, "", "context").ok() &&
      bytes <= max_bytes) {
    return absl::OkStatus();
  }
  const std::string input = absl::StrCat("Enroll into journey ", Escaped(journey_id));
  if (absl::Status s = CheckUtf8(subject_id, input, "subject id"); !s.ok()) return s;
  if (absl::Status s = CheckAttributes(context, input, "context"); !s.ok()) return s;
  return CheckInputBytes(bytes, max_bytes, input);
}

absl::Status CheckDeliveryReason(absl::string_view message_id, absl::string_view reason,
                                 int64_t max_bytes) {
  const int64_t bytes = static_cast<int64_t>(reason.size());
  if (IsValidUtf8(reason) && bytes <= max_bytes) return absl::OkStatus();
  const std::string input = absl::StrCat("delivery report for ", Escaped(message_id));
  if (absl::Status s = CheckUtf8(reason, input, "reason"); !s.ok()) return s;
  return CheckInputBytes(bytes, max_bytes, input);
}

absl::Status CheckInputTimeRange(absl::Time time, absl::string_view input) {
  if (time >= EarliestInputTime() && time < LatestInputTime()) return absl::OkStatus();
  if (time == absl::InfinitePast()) {
    return absl::InvalidArgumentError(absl::StrCat(input, ": time is not set"));
  }
  if (time == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError(absl::StrCat(input, ": time is infinite"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      input, ": time ", FormatTimeUtc(time), " is outside the times the engine accepts, ",
      FormatTimeUtc(EarliestInputTime()), " to ", FormatTimeUtc(LatestInputTime()),
      " (exclusive)"));
}

}  // namespace cairn::internal
