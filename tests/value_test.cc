// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/value.h"

#include "catch2/catch.hpp"
#include "testing/test_util.h"

namespace cairn {
namespace {

TEST_CASE("Value round-trips every kind through its proto form") {
  const absl::Time t = absl::FromUnixSeconds(1767225600) + absl::Milliseconds(5);
  const std::vector<Value> values = {
      Value::String("gold"), Value::Int(-42),   Value::Double(4.5),
      Value::Bool(true),     Value::Timestamp(t), Value::StringList({"a", "b"}),
      // Empty values are values, not null (an opt-in empties the consent list).
      Value::String(""),     Value::Bool(false),  Value::Int(0),
      Value::StringList({}),
  };
  for (const Value& v : values) {
    absl::StatusOr<Value> back = Value::FromProto(v.ToProto());
    REQUIRE_THAT(testing::StatusOf(back), testing::IsOk());
    CHECK(*back == v);
  }
}

TEST_CASE("Value::FromProto rejects a value with no kind") {
  absl::StatusOr<Value> v = Value::FromProto(v1::Value());
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(v.status().message()),
             Catch::Contains("value has no kind set"));
}

TEST_CASE("Value::FromProto rejects an out-of-range timestamp") {
  v1::Value proto;
  proto.mutable_timestamp_value()->set_seconds(1);
  proto.mutable_timestamp_value()->set_nanos(-1);
  CHECK_FALSE(Value::FromProto(proto).ok());
  proto.mutable_timestamp_value()->set_nanos(0);
  proto.mutable_timestamp_value()->set_seconds(253402300800);  // Year 10000.
  CHECK_FALSE(Value::FromProto(proto).ok());
}

TEST_CASE("Value types, accessors and debug strings") {
  CHECK(Value().is_null());
  CHECK(Value().DebugString() == "null");
  CHECK(Value::String("x").DebugString() == "\"x\"");
  CHECK(Value::Int(7).DebugString() == "7");
  CHECK(Value::Bool(false).DebugString() == "false");
  CHECK(Value::StringList({"a", "b"}).DebugString() == "[\"a\", \"b\"]");
  CHECK(Value::Timestamp(absl::FromUnixSeconds(0)).DebugString() ==
        "1970-01-01T00:00:00+00:00");
  CHECK(Value::Int(3).is_number());
  CHECK(Value::Double(3).AsDouble() == 3.0);
  CHECK(Value::Int(3).AsDouble() == 3.0);
  CHECK_FALSE(Value::String("3").is_number());
  CHECK(Value::Int(1) != Value::Double(1));  // Exact equality keeps types apart.
  CHECK(TypeName(Value::Type::kStringList) == "string_list");
}

}  // namespace
}  // namespace cairn
