// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// cairn::Value: one typed value (string, int, double, bool, timestamp, list of
// strings, or null), the C++ form of cairn.v1.Value. Profile attributes,
// event properties and entry context are made of these.
//
// Thread-safety: a Value is a plain value type; const methods may be called
// concurrently.

#ifndef CAIRN_VALUE_H_
#define CAIRN_VALUE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/v1/value.pb.h"

namespace cairn {

// A typed value. Default-constructed values are null (absent).
//
// Example:
//   cairn::Value tier = cairn::Value::String("gold");
//   if (tier.type() == cairn::Value::Type::kString) use(tier.string_value());
class Value {
 public:
  // The kinds a value can hold. Numbering is internal; never persist it.
  enum class Type { kNull, kString, kInt, kDouble, kBool, kTimestamp, kStringList };

  // A null value.
  Value() = default;

  static Value String(std::string v) { return Value(Rep(std::move(v))); }
  static Value Int(int64_t v) { return Value(Rep(v)); }
  static Value Double(double v) { return Value(Rep(v)); }
  static Value Bool(bool v) { return Value(Rep(v)); }
  static Value Timestamp(absl::Time v) { return Value(Rep(v)); }
  static Value StringList(std::vector<std::string> v) {
    return Value(Rep(std::move(v)));
  }

  // Converts from the proto form. Fails (InvalidArgument) when no kind is set
  // or the timestamp is out of range.
  static absl::StatusOr<Value> FromProto(const v1::Value& proto);

  // Converts to the proto form. REQUIRES: !is_null().
  v1::Value ToProto() const;

  Type type() const { return static_cast<Type>(rep_.index()); }
  bool is_null() const { return type() == Type::kNull; }
  // True for kInt and kDouble.
  bool is_number() const {
    return type() == Type::kInt || type() == Type::kDouble;
  }

  // Accessors. REQUIRES: type() is the accessor's type.
  const std::string& string_value() const { return std::get<std::string>(rep_); }
  int64_t int_value() const { return std::get<int64_t>(rep_); }
  double double_value() const { return std::get<double>(rep_); }
  bool bool_value() const { return std::get<bool>(rep_); }
  absl::Time timestamp_value() const { return std::get<absl::Time>(rep_); }
  const std::vector<std::string>& string_list_value() const {
    return std::get<std::vector<std::string>>(rep_);
  }

  // The numeric value as a double. REQUIRES: is_number().
  double AsDouble() const;

  // A short, stable rendering for messages and traces:
  // "gold" (quoted), 42, 4.5, true, 2026-01-02T03:04:05+00:00, ["a", "b"], null.
  std::string DebugString() const;

  // Exact equality of type and value (an int never equals a double here;
  // predicates compare numbers across types, see docs/journeys.md).
  friend bool operator==(const Value& a, const Value& b) { return a.rep_ == b.rep_; }
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  using Rep = std::variant<std::monostate, std::string, int64_t, double, bool,
                           absl::Time, std::vector<std::string>>;
  explicit Value(Rep rep) : rep_(std::move(rep)) {}

  Rep rep_;
};

// The lower-case name of a type: "null", "string", "int", "double", "bool",
// "timestamp", "string_list".
absl::string_view TypeName(Value::Type type);

}  // namespace cairn

#endif  // CAIRN_VALUE_H_
