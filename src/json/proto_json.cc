// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "json/proto_json.h"

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "json/json.h"

namespace cairn::json {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void Indent(int depth, std::string* out) { out->append(static_cast<size_t>(2 * depth), ' '); }

void AppendDouble(double d, std::string* out) {
  if (!std::isfinite(d)) {
    out->append("null");
    return;
  }
  char buffer[32];
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof buffer, d);
  out->append(buffer, r.ptr);
}

void AppendMessage(const Message& message, int depth, std::string* out);

// One value of `field` (element `index` when it is repeated, else -1).
void AppendValue(const Message& message, const FieldDescriptor* field, int index, int depth,
                 std::string* out) {
  const Reflection* r = message.GetReflection();
  const bool repeated = index >= 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(out, repeated ? r->GetRepeatedInt32(message, field, index)
                                    : r->GetInt32(message, field));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(out, repeated ? r->GetRepeatedInt64(message, field, index)
                                    : r->GetInt64(message, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(out, repeated ? r->GetRepeatedUInt32(message, field, index)
                                    : r->GetUInt32(message, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(out, repeated ? r->GetRepeatedUInt64(message, field, index)
                                    : r->GetUInt64(message, field));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendDouble(repeated ? r->GetRepeatedDouble(message, field, index)
                            : r->GetDouble(message, field),
                   out);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      AppendDouble(repeated ? r->GetRepeatedFloat(message, field, index)
                            : r->GetFloat(message, field),
                   out);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((repeated ? r->GetRepeatedBool(message, field, index)
                            : r->GetBool(message, field))
                      ? "true"
                      : "false");
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const google::protobuf::EnumValueDescriptor* value =
          repeated ? r->GetRepeatedEnum(message, field, index) : r->GetEnum(message, field);
      AppendJsonString(value->name(), out);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = repeated
                                 ? r->GetRepeatedStringReference(message, field, index, &scratch)
                                 : r->GetStringReference(message, field, &scratch);
      // (Cairn's reports hold no bytes fields; a string is UTF-8.)
      AppendJsonString(s, out);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      AppendMessage(repeated ? r->GetRepeatedMessage(message, field, index)
                             : r->GetMessage(message, field),
                    depth, out);
      break;
  }
}

void AppendMessage(const Message& message, int depth, std::string* out) {
  out->push_back('{');
  bool first = true;
  AppendProtoFields(message, depth + 1, &first, out);
  if (!first) {
    out->push_back('\n');
    Indent(depth, out);
  }
  out->push_back('}');
}

}  // namespace

void AppendProtoFields(const Message& message, int depth, bool* first, std::string* out) {
  const google::protobuf::Descriptor* d = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* field = d->field(i);
    // As protobuf prints with every primitive field: unset messages and
    // unset explicit-presence scalars (proto3 optional) are left out.
    if (!field->is_repeated() && field->has_presence() && !r->HasField(message, field)) {
      continue;
    }
    out->append(*first ? "\n" : ",\n");
    *first = false;
    Indent(depth, out);
    AppendJsonString(field->name(), out);
    out->append(": ");
    if (!field->is_repeated()) {
      AppendValue(message, field, -1, depth, out);
      continue;
    }
    const int n = r->FieldSize(message, field);
    if (n == 0) {
      out->append("[]");
      continue;
    }
    out->push_back('[');
    for (int k = 0; k < n; ++k) {
      out->append(k == 0 ? "\n" : ",\n");
      Indent(depth + 1, out);
      AppendValue(message, field, k, depth + 1, out);
    }
    out->push_back('\n');
    Indent(depth, out);
    out->push_back(']');
  }
}

std::string ProtoToJson(const Message& message) {
  std::string out;
  AppendMessage(message, 0, &out);
  out.push_back('\n');
  return out;
}

}  // namespace cairn::json
