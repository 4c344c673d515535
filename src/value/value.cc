// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/value.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "util/proto_time.h"

namespace cairn {

absl::StatusOr<Value> Value::FromProto(const v1::Value& proto) {
  switch (proto.kind_case()) {
    case v1::Value::kStringValue:
      return Value::String(proto.string_value());
    case v1::Value::kIntValue:
      return Value::Int(proto.int_value());
    case v1::Value::kDoubleValue:
      return Value::Double(proto.double_value());
    case v1::Value::kBoolValue:
      return Value::Bool(proto.bool_value());
    case v1::Value::kTimestampValue: {
      absl::StatusOr<absl::Time> t =
          internal::TimeFromProto(proto.timestamp_value());
      if (!t.ok()) return t.status();
      return Value::Timestamp(*t);
    }
    case v1::Value::kStringListValue:
      return Value::StringList({proto.string_list_value().values().begin(),
                                proto.string_list_value().values().end()});
    case v1::Value::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "value has no kind set: set one of string_value, int_value, "
      "double_value, bool_value, timestamp_value, string_list_value");
}

v1::Value Value::ToProto() const {
  v1::Value proto;
  switch (type()) {
    case Type::kNull:
      break;
    case Type::kString:
      proto.set_string_value(string_value());
      break;
    case Type::kInt:
      proto.set_int_value(int_value());
      break;
    case Type::kDouble:
      proto.set_double_value(double_value());
      break;
    case Type::kBool:
      proto.set_bool_value(bool_value());
      break;
    case Type::kTimestamp:
      *proto.mutable_timestamp_value() =
          internal::TimeToProto(timestamp_value());
      break;
    case Type::kStringList: {
      // Set the kind even for an empty list: [] is not null.
      v1::StringList* list = proto.mutable_string_list_value();
      for (const std::string& s : string_list_value()) list->add_values(s);
      break;
    }
  }
  return proto;
}

double Value::AsDouble() const {
  return type() == Type::kInt ? static_cast<double>(int_value())
                              : double_value();
}

std::string Value::DebugString() const {
  switch (type()) {
    case Type::kNull:
      return "null";
    case Type::kString:
      return absl::StrCat("\"", string_value(), "\"");
    case Type::kInt:
      return absl::StrCat(int_value());
    case Type::kDouble:
      return absl::StrCat(double_value());
    case Type::kBool:
      return bool_value() ? "true" : "false";
    case Type::kTimestamp:
      return absl::FormatTime(absl::RFC3339_full, timestamp_value(),
                              absl::UTCTimeZone());
    case Type::kStringList:
      return absl::StrCat(
          "[",
          absl::StrJoin(string_list_value(), ", ",
                        [](std::string* out, const std::string& s) {
                          absl::StrAppend(out, "\"", s, "\"");
                        }),
          "]");
  }
  return "?";
}

absl::string_view TypeName(Value::Type type) {
  switch (type) {
    case Value::Type::kNull:
      return "null";
    case Value::Type::kString:
      return "string";
    case Value::Type::kInt:
      return "int";
    case Value::Type::kDouble:
      return "double";
    case Value::Type::kBool:
      return "bool";
    case Value::Type::kTimestamp:
      return "timestamp";
    case Value::Type::kStringList:
      return "string_list";
  }
  return "?";
}

}  // namespace cairn
