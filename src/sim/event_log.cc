// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "sim/event_log.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace cairn::sim {
namespace {

using google::protobuf::Struct;

absl::StatusOr<Struct> ParseObject(absl::string_view line) {
  Struct object;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(line.data(), line.size()), &object);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a JSON object: ", status.message().as_string()));
  }
  return object;
}

absl::StatusOr<std::string> StringField(const Struct& object, const std::string& key,
                                        bool required) {
  auto it = object.fields().find(key);
  if (it == object.fields().end()) {
    if (required) return absl::InvalidArgumentError(absl::StrCat("missing \"", key, "\""));
    return std::string();
  }
  if (it->second.kind_case() != google::protobuf::Value::kStringValue) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" must be a string"));
  }
  if (required && it->second.string_value().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" is empty"));
  }
  return it->second.string_value();
}

absl::Status CheckKeys(const Struct& object, std::initializer_list<absl::string_view> known) {
  // Report unknown keys in sorted order, so the message is deterministic.
  std::vector<std::string> unknown;
  for (const auto& [key, value] : object.fields()) {
    bool ok = false;
    for (absl::string_view k : known) ok = ok || key == k;
    if (!ok) unknown.push_back(key);
  }
  if (unknown.empty()) return absl::OkStatus();
  std::sort(unknown.begin(), unknown.end());
  return absl::InvalidArgumentError(absl::StrCat("unknown field \"", unknown[0], "\""));
}

absl::StatusOr<Attributes> ToAttributes(const Struct& object, absl::string_view what) {
  Attributes out;
  for (const auto& [key, v] : object.fields()) {
    switch (v.kind_case()) {
      case google::protobuf::Value::kStringValue:
        out.emplace_back(key, Value::String(v.string_value()));
        break;
      case google::protobuf::Value::kBoolValue:
        out.emplace_back(key, Value::Bool(v.bool_value()));
        break;
      case google::protobuf::Value::kNumberValue: {
        const double d = v.number_value();
        if (std::floor(d) == d && std::fabs(d) < 9007199254740992.0) {
          out.emplace_back(key, Value::Int(static_cast<int64_t>(d)));
        } else {
          out.emplace_back(key, Value::Double(d));
        }
        break;
      }
      case google::protobuf::Value::kListValue: {
        std::vector<std::string> items;
        for (const auto& item : v.list_value().values()) {
          if (item.kind_case() != google::protobuf::Value::kStringValue) {
            return absl::InvalidArgumentError(absl::StrCat(
                what, " \"", key, "\": lists may only hold strings"));
          }
          items.push_back(item.string_value());
        }
        out.emplace_back(key, Value::StringList(std::move(items)));
        break;
      }
      case google::protobuf::Value::kNullValue:
        out.emplace_back(key, Value());
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat(
            what, " \"", key, "\": nested objects are not supported"));
    }
  }
  // Map order is unspecified: sort for determinism.
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

absl::StatusOr<Attributes> ObjectField(const Struct& object, const std::string& key,
                                       absl::string_view what) {
  auto it = object.fields().find(key);
  if (it == object.fields().end()) return Attributes();
  if (it->second.kind_case() != google::protobuf::Value::kStructValue) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" must be an object"));
  }
  return ToAttributes(it->second.struct_value(), what);
}

}  // namespace

absl::StatusOr<Event> ParseEventLine(absl::string_view line) {
  absl::StatusOr<Struct> object = ParseObject(line);
  if (!object.ok()) return object.status();
  absl::Status keys =
      CheckKeys(*object, {"id", "subject", "subject_type", "name", "time", "properties"});
  if (!keys.ok()) return keys;
  Event e;
  absl::StatusOr<std::string> s = StringField(*object, "subject", true);
  if (!s.ok()) return s.status();
  e.subject_id = *std::move(s);
  if (!(s = StringField(*object, "name", true)).ok()) return s.status();
  e.name = *std::move(s);
  if (!(s = StringField(*object, "id", false)).ok()) return s.status();
  e.id = *std::move(s);
  if (!(s = StringField(*object, "subject_type", false)).ok()) return s.status();
  e.subject_type = *std::move(s);
  if (!(s = StringField(*object, "time", true)).ok()) return s.status();
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, *s, &e.time, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"time\" \"", *s, "\" is not an RFC 3339 time: ", error));
  }
  absl::StatusOr<Attributes> props = ObjectField(*object, "properties", "property");
  if (!props.ok()) return props.status();
  e.properties = *std::move(props);
  return e;
}

absl::StatusOr<ProfileLine> ParseProfileLine(absl::string_view line) {
  absl::StatusOr<Struct> object = ParseObject(line);
  if (!object.ok()) return object.status();
  absl::Status keys = CheckKeys(*object, {"subject", "subject_type", "attributes"});
  if (!keys.ok()) return keys;
  ProfileLine p;
  absl::StatusOr<std::string> s = StringField(*object, "subject", true);
  if (!s.ok()) return s.status();
  p.subject_id = *std::move(s);
  if (!(s = StringField(*object, "subject_type", false)).ok()) return s.status();
  p.subject_type = *std::move(s);
  absl::StatusOr<Attributes> attrs = ObjectField(*object, "attributes", "attribute");
  if (!attrs.ok()) return attrs.status();
  p.attributes = *std::move(attrs);
  return p;
}

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", static_cast<int>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

std::string FormatEventTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

}  // namespace cairn::sim
