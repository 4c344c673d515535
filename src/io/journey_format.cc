// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "io/journey_format.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/text_format.h"
#include "util/proto_time.h"

namespace cairn::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The fields `m` has set, in field-number order.
std::vector<const FieldDescriptor*> SetFields(const Message& m) {
  std::vector<const FieldDescriptor*> fields;
  m.GetReflection()->ListFields(m, &fields);
  std::sort(fields.begin(), fields.end(), [](const FieldDescriptor* a, const FieldDescriptor* b) {
    return a->number() < b->number();
  });
  return fields;
}

// A scalar field's value (element `index` of a repeated one) as text
// format writes it.
std::string Scalar(const Message& m, const FieldDescriptor* f, int index) {
  std::string out;
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  printer.PrintFieldValueToString(m, f, index, &out);
  return out;
}

// True for a message short enough to stand on one line: no nested
// messages and at most three fields (a duration, a time of day, a map
// entry, a matcher on one event).
bool OneLine(const Message& m) {
  const std::vector<const FieldDescriptor*> fields = SetFields(m);
  if (fields.size() > 3) return false;
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) return false;
    if (f->is_repeated() && m.GetReflection()->FieldSize(m, f) > 1) return false;
  }
  return true;
}

// The human form of a google.protobuf.Duration, for the comment after it.
std::string DurationComment(const Message& m) {
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  const int64_t seconds = r->GetInt64(m, d->FindFieldByName("seconds"));
  const int32_t nanos = r->GetInt32(m, d->FindFieldByName("nanos"));
  return FormatDurationShort(absl::Seconds(seconds) + absl::Nanoseconds(nanos));
}

void AppendMessage(const Message& m, int depth, std::string* out);

// One field (all of its elements) of `m`, each on its own line at `depth`.
void AppendField(const Message& m, const FieldDescriptor* f, int depth, std::string* out) {
  const Reflection* r = m.GetReflection();
  const std::string indent(2 * depth, ' ');
  const int count = f->is_repeated() ? r->FieldSize(m, f) : 1;
  std::vector<int> order(count);
  for (int i = 0; i < count; ++i) order[i] = i;
  if (f->is_map()) {
    // By key, whatever order the map iterates in.
    const FieldDescriptor* key = f->message_type()->FindFieldByName("key");
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return Scalar(r->GetRepeatedMessage(m, f, a), key, -1) <
             Scalar(r->GetRepeatedMessage(m, f, b), key, -1);
    });
  }
  for (int i : order) {
    const int index = f->is_repeated() ? i : -1;
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      absl::StrAppend(out, indent, f->name(), ": ", Scalar(m, f, index), "\n");
      continue;
    }
    const Message& child = f->is_repeated() ? r->GetRepeatedMessage(m, f, i) : r->GetMessage(m, f);
    if (depth > 0 && OneLine(child)) {  // At the top, every message is a block.
      std::string body;
      for (const FieldDescriptor* cf : SetFields(child)) {
        const int n = cf->is_repeated() ? child.GetReflection()->FieldSize(child, cf) : 1;
        for (int j = 0; j < n; ++j) {
          absl::StrAppend(&body, " ", cf->name(), ": ", Scalar(child, cf, cf->is_repeated() ? j : -1));
        }
      }
      absl::StrAppend(out, indent, f->name(), " {", body, body.empty() ? "}" : " }");
      if (child.GetDescriptor()->full_name() == "google.protobuf.Duration") {
        absl::StrAppend(out, "  # ", DurationComment(child));
      }
      out->push_back('\n');
    } else {
      // At the top, each block (the settings, every node) after a blank line.
      if (depth == 0 && !out->empty()) out->push_back('\n');
      absl::StrAppend(out, indent, f->name(), " {\n");
      AppendMessage(child, depth + 1, out);
      absl::StrAppend(out, indent, "}\n");
    }
  }
}

void AppendMessage(const Message& m, int depth, std::string* out) {
  std::vector<const FieldDescriptor*> fields = SetFields(m);
  if (depth == 0) {
    // At the top, the lists (a journey's nodes) after the rest (its
    // settings and migration), as journeys are read.
    std::stable_partition(fields.begin(), fields.end(), [](const FieldDescriptor* f) {
      return !(f->is_repeated() && f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE);
    });
  }
  for (const FieldDescriptor* f : fields) AppendField(m, f, depth, out);
}

}  // namespace

std::string FormatText(const Message& message) {
  std::string out;
  AppendMessage(message, 0, &out);
  return out;
}

}  // namespace cairn::internal
