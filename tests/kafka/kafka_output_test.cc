// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The worker's output records: messages, profile write-backs and deploy
// results as JSON, every field present, always valid JSON whatever the
// values hold.

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

TEST_CASE("Output: deploy-result records of an applied deploy and a refused state change") {
  JourneyChangeResult r;
  r.partition = 3;
  r.offset = 181236;
  r.time = kTime;
  r.change = "deploy";
  r.journey_id = "cart_abandonment";
  r.version = 2;
  r.applied = true;
  r.versions = {1, 2};
  const std::string applied = EncodeJourneyChangeResult(r);
  CHECK(applied ==
        R"({"partition":3,"offset":181236,"time":"2026-01-05T10:00:00Z","change":"deploy",)"
        R"("journey":"cart_abandonment","version":2,"result":"applied","versions":[1,2]})");
  REQUIRE_THAT(StatusOf(json::ParseJson(applied)), IsOk());

  // A record may name any journey: text that is not UTF-8 is escaped, so the
  // value stays JSON.
  JourneyChangeResult s;
  s.partition = 0;
  s.offset = 7;
  s.time = kTime;
  s.change = "state";
  s.journey_id = "no\xFFsuch";
  s.state = "PAUSED";
  s.error = "journey no\\xFFsuch is \"not\" deployed";
  const std::string refused = EncodeJourneyChangeResult(s);
  CHECK(refused ==
        R"({"partition":0,"offset":7,"time":"2026-01-05T10:00:00Z","change":"state",)"
        R"("journey":"no\\xFFsuch","state":"PAUSED","result":"refused",)"
        R"("error":"journey no\\xFFsuch is \"not\" deployed","versions":[]})");
  REQUIRE_THAT(StatusOf(json::ParseJson(refused)), IsOk());
}

}  // namespace
}  // namespace cairn::kafka
