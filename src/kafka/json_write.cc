// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "kafka/json_write.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/charconv.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "json/json.h"
#include "json/event_lines.h"
#include "util/utf8.h"

namespace cairn::kafka::internal {
namespace {

constexpr double kTwoTo53 = 9007199254740992.0;

// The shortest text that reads back as the same double.
std::string ShortestDouble(double d) {
  for (int precision = 1; precision <= 17; ++precision) {
    const std::string text = absl::StrFormat("%.*g", precision, d);
    double back = 0;
    const absl::from_chars_result r =
        absl::from_chars(text.data(), text.data() + text.size(), back);
    if (r.ec == std::errc() && back == d) return text;
  }
  return absl::StrFormat("%.17g", d);
}

void AppendStringList(const std::vector<std::string>& list, std::string* out) {
  out->push_back('[');
  bool first = true;
  for (const std::string& s : list) {
    if (!first) out->push_back(',');
    first = false;
    json::AppendJsonString(s, out);
  }
  out->push_back(']');
}

}  // namespace

std::string Quote(absl::string_view s) {
  std::string out = "\"";
  cairn::internal::AppendEscaped(s, &out);
  out.push_back('"');
  return out;
}

absl::Status AppendExactJsonValue(const Value& v, std::string* out) {
  switch (v.type()) {
    case Value::Type::kNull:
      out->append("null");
      return absl::OkStatus();
    case Value::Type::kString:
      json::AppendJsonString(v.string_value(), out);
      return absl::OkStatus();
    case Value::Type::kBool:
      out->append(v.bool_value() ? "true" : "false");
      return absl::OkStatus();
    case Value::Type::kInt: {
      constexpr int64_t kLimit = int64_t{1} << 53;
      if (v.int_value() <= -kLimit || v.int_value() >= kLimit) {
        return absl::InvalidArgumentError(
            absl::StrCat("int ", v.int_value(),
                         " has no exact JSON form (beyond +-2^53): use the proto format"));
      }
      absl::StrAppend(out, v.int_value());
      return absl::OkStatus();
    }
    case Value::Type::kDouble: {
      const double d = v.double_value();
      if (!std::isfinite(d)) {
        return absl::InvalidArgumentError(
            absl::StrCat("double ", d, " has no JSON form: use the proto format"));
      }
      // The reader makes integral numbers below 2^53 ints.
      if (std::floor(d) == d && std::fabs(d) < kTwoTo53) {
        return absl::InvalidArgumentError(absl::StrCat(
            "double ", absl::StrFormat("%.17g", d),
            " is integral and would read back as an int: use the proto format"));
      }
      out->append(ShortestDouble(d));
      return absl::OkStatus();
    }
    case Value::Type::kStringList:
      AppendStringList(v.string_list_value(), out);
      return absl::OkStatus();
    case Value::Type::kTimestamp:
      return absl::InvalidArgumentError(
          "a timestamp value has no JSON form: use the proto format");
  }
  return absl::InternalError("unknown value type");
}

void AppendLenientJsonValue(const Value& v, std::string* out) {
  switch (v.type()) {
    case Value::Type::kInt:
      absl::StrAppend(out, v.int_value());
      return;
    case Value::Type::kDouble: {
      const double d = v.double_value();
      if (!std::isfinite(d)) {
        out->append("null");
      } else if (std::floor(d) == d && std::fabs(d) < kTwoTo53) {
        absl::StrAppend(out, absl::StrFormat("%.0f", d), ".0");
      } else {
        out->append(ShortestDouble(d));
      }
      return;
    }
    case Value::Type::kTimestamp:
      json::AppendJsonString(json::FormatEventTime(v.timestamp_value()), out);
      return;
    default:
      // Null, string, bool and string list always have an exact form.
      (void)AppendExactJsonValue(v, out);
      return;
  }
}

void AppendKey(absl::string_view key, std::string* out) {
  if (!out->empty() && out->back() != '{') out->push_back(',');
  json::AppendJsonString(key, out);
  out->push_back(':');
}

void AppendField(absl::string_view key, absl::string_view value, std::string* out) {
  AppendKey(key, out);
  json::AppendJsonString(value, out);
}

}  // namespace cairn::kafka::internal
