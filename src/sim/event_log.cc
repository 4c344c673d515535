// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "sim/event_log.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/json.h"

namespace cairn::sim {
namespace {

using Object = std::vector<std::pair<std::string, JsonValue>>;

absl::StatusOr<JsonValue> ParseObject(absl::string_view line) {
  absl::StatusOr<JsonValue> v = ParseJson(line);
  if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat("not a JSON object: ",
                                                              v.status().message()));
  if (v->type != JsonValue::Type::kObject) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  return v;
}

const JsonValue* Find(const Object& object, absl::string_view key) {
  for (const auto& [k, v] : object) {
    if (k == key) return &v;
  }
  return nullptr;
}

absl::StatusOr<std::string> StringField(const Object& object, absl::string_view key,
                                        bool required) {
  const JsonValue* v = Find(object, key);
  if (v == nullptr) {
    if (required) return absl::InvalidArgumentError(absl::StrCat("missing \"", key, "\""));
    return std::string();
  }
  if (v->type != JsonValue::Type::kString) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" must be a string"));
  }
  if (required && v->string.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" is empty"));
  }
  return v->string;
}

absl::Status CheckKeys(const Object& object, std::initializer_list<absl::string_view> known) {
  for (const auto& [key, value] : object) {
    bool ok = false;
    for (absl::string_view k : known) ok = ok || key == k;
    if (!ok) return absl::InvalidArgumentError(absl::StrCat("unknown field \"", key, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<Attributes> ToAttributes(const Object& object, absl::string_view what) {
  Attributes out;
  out.reserve(object.size());
  for (const auto& [key, v] : object) {
    switch (v.type) {
      case JsonValue::Type::kString:
        out.emplace_back(key, Value::String(v.string));
        break;
      case JsonValue::Type::kBool:
        out.emplace_back(key, Value::Bool(v.boolean));
        break;
      case JsonValue::Type::kNumber: {
        const double d = v.number;
        if (std::floor(d) == d && std::fabs(d) < 9007199254740992.0) {
          out.emplace_back(key, Value::Int(static_cast<int64_t>(d)));
        } else {
          out.emplace_back(key, Value::Double(d));
        }
        break;
      }
      case JsonValue::Type::kArray: {
        std::vector<std::string> items;
        for (const JsonValue& item : v.array) {
          if (item.type != JsonValue::Type::kString) {
            return absl::InvalidArgumentError(absl::StrCat(
                what, " \"", key, "\": lists may only hold strings"));
          }
          items.push_back(item.string);
        }
        out.emplace_back(key, Value::StringList(std::move(items)));
        break;
      }
      case JsonValue::Type::kNull:
        out.emplace_back(key, Value());
        break;
      case JsonValue::Type::kObject:
        return absl::InvalidArgumentError(absl::StrCat(
            what, " \"", key, "\": nested objects are not supported"));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

absl::StatusOr<Attributes> ObjectField(const Object& object, absl::string_view key,
                                       absl::string_view what) {
  const JsonValue* v = Find(object, key);
  if (v == nullptr) return Attributes();
  if (v->type != JsonValue::Type::kObject) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" must be an object"));
  }
  return ToAttributes(v->object, what);
}

}  // namespace

absl::StatusOr<JsonValue> ParseJsonObject(absl::string_view text) { return ParseObject(text); }

absl::Status CheckJsonKeys(const JsonValue& object,
                           std::initializer_list<absl::string_view> known) {
  return CheckKeys(object.object, known);
}

absl::StatusOr<std::string> JsonStringField(const JsonValue& object, absl::string_view key,
                                            bool required) {
  return StringField(object.object, key, required);
}

absl::StatusOr<absl::Time> JsonTimeField(const JsonValue& object, absl::string_view key) {
  absl::StatusOr<std::string> s = StringField(object.object, key, true);
  if (!s.ok()) return s.status();
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, *s, &t, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", key, "\" \"", *s, "\" is not an RFC 3339 time: ", error));
  }
  return t;
}

absl::StatusOr<Attributes> JsonAttributesField(const JsonValue& object, absl::string_view key,
                                               absl::string_view what) {
  return ObjectField(object.object, key, what);
}

absl::StatusOr<Event> EventFromJson(const JsonValue& json) {
  const Object& object = json.object;
  absl::Status keys =
      CheckKeys(object, {"id", "subject", "subject_type", "name", "time", "properties"});
  if (!keys.ok()) return keys;
  Event e;
  absl::StatusOr<std::string> s = StringField(object, "subject", true);
  if (!s.ok()) return s.status();
  e.subject_id = *std::move(s);
  if (!(s = StringField(object, "name", true)).ok()) return s.status();
  e.name = *std::move(s);
  if (!(s = StringField(object, "id", false)).ok()) return s.status();
  e.id = *std::move(s);
  if (!(s = StringField(object, "subject_type", false)).ok()) return s.status();
  e.subject_type = *std::move(s);
  absl::StatusOr<absl::Time> time = JsonTimeField(json, "time");
  if (!time.ok()) return time.status();
  e.time = *time;
  absl::StatusOr<Attributes> props = ObjectField(object, "properties", "property");
  if (!props.ok()) return props.status();
  e.properties = *std::move(props);
  return e;
}

absl::StatusOr<Event> ParseEventLine(absl::string_view line) {
  absl::StatusOr<JsonValue> parsed = ParseObject(line);
  if (!parsed.ok()) return parsed.status();
  return EventFromJson(*parsed);
}

absl::StatusOr<ProfileLine> ParseProfileLine(absl::string_view line) {
  absl::StatusOr<JsonValue> parsed = ParseObject(line);
  if (!parsed.ok()) return parsed.status();
  const Object& object = parsed->object;
  absl::Status keys = CheckKeys(object, {"subject", "subject_type", "attributes"});
  if (!keys.ok()) return keys;
  ProfileLine p;
  absl::StatusOr<std::string> s = StringField(object, "subject", true);
  if (!s.ok()) return s.status();
  p.subject_id = *std::move(s);
  if (!(s = StringField(object, "subject_type", false)).ok()) return s.status();
  p.subject_type = *std::move(s);
  absl::StatusOr<Attributes> attrs = ObjectField(object, "attributes", "attribute");
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
  // %E4Y: years before 1000 keep four digits, as RFC 3339 requires.
  return absl::FormatTime("%E4Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

}  // namespace cairn::sim
