// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The worker's output records: messages and profile write-backs as JSON,
// every field present, always valid JSON whatever the values hold.

#include <cmath>
#include <limits>
#include <string>

#include "absl/time/time.h"
#include "cairn/kafka/output.h"
#include "catch2/catch.hpp"
#include "json/json.h"
#include "testing/test_util.h"

namespace cairn::kafka {
namespace {

using testing::IsOk;
using testing::StatusOf;

const absl::Time kTime = absl::FromUnixSeconds(1767607200);  // 2026-01-05T10:00:00Z

TEST_CASE("Output: a message record holds every field of the message") {
  Message m;
  m.message_id = "5f0c1d2e3f405162";
  m.journey_id = "cart_abandonment";
  m.journey_version = 3;
  m.node_id = "price_drop_push";
  m.channel = "push";
  m.template_id = "price_drop";
  m.subject_id = "u\"1\"";
  m.subject_type = "user";
  m.params = {{"name", "Zoë \\ \n"}, {"sku", "A-1"}};
  m.time = kTime;
  m.variant = "price_drop";
  m.awaits_delivery = true;
  const std::string json = EncodeMessageRecord(m);
  CHECK(json ==
        R"({"message_id":"5f0c1d2e3f405162","journey":"cart_abandonment","version":3,)"
        R"("node":"price_drop_push","channel":"push","template":"price_drop",)"
        R"("subject":"u\"1\"","subject_type":"user","time":"2026-01-05T10:00:00Z",)"
        R"("params":{"name":"Zoë \\ \n","sku":"A-1"},"variant":"price_drop",)"
        R"("awaits_delivery":true})");
  REQUIRE_THAT(StatusOf(json::ParseJson(json)), IsOk());

  // No variant, no params.
  m.variant.clear();
  m.params.clear();
  m.awaits_delivery = false;
  const std::string plain = EncodeMessageRecord(m);
  CHECK_THAT(plain, Catch::Contains(R"("params":{},"awaits_delivery":false})"));
  CHECK_THAT(plain, !Catch::Contains("variant"));
}

TEST_CASE("Output: a profile write-back record, with values JSON cannot hold exactly") {
  ProfileWrite w;
  w.subject_id = "u1";
  w.subject_type = "user";
  w.journey_id = "winback";
  w.node_id = "tag";
  w.time = kTime;
  w.set = {{"tier", Value::String("gold")},
           {"visits", Value::Int(12)},
           {"score", Value::Double(10)},
           {"ratio", Value::Double(0.25)},
           {"broken", Value::Double(std::numeric_limits<double>::quiet_NaN())},
           {"since", Value::Timestamp(kTime)},
           {"vip", Value::Bool(true)},
           {"none", Value()}};
  w.unset = {"coupon"};
  w.add_tags = {"vip", "q\"uote"};
  const std::string json = EncodeProfileWriteRecord(w);
  CHECK(json ==
        R"({"subject":"u1","subject_type":"user","journey":"winback","node":"tag",)"
        R"("time":"2026-01-05T10:00:00Z","set":{"tier":"gold","visits":12,"score":10.0,)"
        R"("ratio":0.25,"broken":null,"since":"2026-01-05T10:00:00Z","vip":true,)"
        R"("none":null},"unset":["coupon"],"add_tags":["vip","q\"uote"],"remove_tags":[]})");
  REQUIRE_THAT(StatusOf(json::ParseJson(json)), IsOk());
}

}  // namespace
}  // namespace cairn::kafka
