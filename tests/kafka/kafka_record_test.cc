// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// cairn/kafka/record.h: every input kind round-trips through both formats,
// every bad record is refused with its exact error, `cairn sim` event lines
// are records, and applying decoded records to an Engine does exactly what
// calling the engine directly does.

#include "cairn/kafka/record.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "cairn/v1/input.pb.h"
#include "catch2/catch.hpp"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/message_differencer.h"
#include "json/event_lines.h"
#include "testing/test_util.h"
#include "util/proto_time.h"
#include "util/utf8.h"

namespace cairn::kafka {
namespace {

using testing::IsOk;
using testing::StatusOf;

// An RFC 3339 time (InfiniteFuture if it does not parse, which no test
// expects). No REQUIRE: it also runs before main.
absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error)) return absl::InfiniteFuture();
  return t;
}

const absl::Time kT = At("2026-01-05T10:00:00Z");

// ---- Equality, field by field, so a failure names the field ----

void CheckSameInput(const EngineInput& a, const EngineInput& b) {
  REQUIRE(InputKindName(a) == InputKindName(b));
  if (const auto* x = std::get_if<Event>(&a)) {
    const auto& y = std::get<Event>(b);
    CHECK(x->id == y.id);
    CHECK(x->subject_id == y.subject_id);
    CHECK(x->subject_type == y.subject_type);
    CHECK(x->name == y.name);
    CHECK(x->time == y.time);
    CHECK(x->properties == y.properties);
  } else if (const auto* x = std::get_if<ProfileUpdate>(&a)) {
    const auto& y = std::get<ProfileUpdate>(b);
    CHECK(x->subject_id == y.subject_id);
    CHECK(x->subject_type == y.subject_type);
    CHECK(x->attributes == y.attributes);
    CHECK(x->time == y.time);
  } else if (const auto* x = std::get_if<EnrollRequest>(&a)) {
    const auto& y = std::get<EnrollRequest>(b);
    CHECK(x->journey_id == y.journey_id);
    CHECK(x->subject_id == y.subject_id);
    CHECK(x->context == y.context);
    CHECK(x->time == y.time);
  } else if (const auto* x = std::get_if<DeliveryReport>(&a)) {
    const auto& y = std::get<DeliveryReport>(b);
    CHECK(x->message_id == y.message_id);
    CHECK(x->outcome == y.outcome);
    CHECK(x->reason == y.reason);
    CHECK(x->subject_id == y.subject_id);
    CHECK(x->time == y.time);
  } else if (const auto* x = std::get_if<JourneyDeploy>(&a)) {
    const auto& y = std::get<JourneyDeploy>(b);
    CHECK(x->journey.SerializeAsString() == y.journey.SerializeAsString());
    CHECK(x->time == y.time);
  } else if (const auto* x = std::get_if<JourneyStateChange>(&a)) {
    const auto& y = std::get<JourneyStateChange>(b);
    CHECK(x->journey_id == y.journey_id);
    CHECK(x->state == y.state);
    CHECK(x->time == y.time);
  } else if (const auto* x = std::get_if<BehaviorSeed>(&a)) {
    const auto& y = std::get<BehaviorSeed>(b);
    CHECK(x->subject_id == y.subject_id);
    CHECK(x->subject_type == y.subject_type);
    CHECK(x->behavior == y.behavior);
    CHECK(x->value == y.value);
    REQUIRE(x->history.size() == y.history.size());
    for (size_t i = 0; i < x->history.size(); ++i) {
      CHECK(x->history[i].time == y.history[i].time);
      CHECK(x->history[i].count == y.history[i].count);
      CHECK(x->history[i].value == y.history[i].value);
    }
    CHECK(x->time == y.time);
  } else if (const auto* x = std::get_if<SubjectMerge>(&a)) {
    const auto& y = std::get<SubjectMerge>(b);
    CHECK(x->from_subject_id == y.from_subject_id);
    CHECK(x->subject_id == y.subject_id);
    CHECK(x->subject_type == y.subject_type);
    CHECK(x->time == y.time);
  } else if (const auto* x = std::get_if<SubjectErasure>(&a)) {
    const auto& y = std::get<SubjectErasure>(b);
    CHECK(x->subject_id == y.subject_id);
    CHECK(x->subject_type == y.subject_type);
    CHECK(x->time == y.time);
  } else if (const auto* x = std::get_if<BehaviorDeclaration>(&a)) {
    const auto& y = std::get<BehaviorDeclaration>(b);
    CHECK(x->behaviors.SerializeAsString() == y.behaviors.SerializeAsString());
    CHECK(x->time == y.time);
  } else {
    CHECK(std::get<ClockTick>(a).time == std::get<ClockTick>(b).time);
  }
}

// ---- Samples: every kind, with values of every kind (names sorted) ----

Event FullEvent() {
  Event e;
  e.id = "e-1";
  e.subject_id = "u1";
  e.subject_type = "device";
  e.name = "add_to_cart";
  e.time = At("2026-01-05T10:00:00.123456789Z");
  e.properties = {
      {"gift", Value::Bool(true)},
      {"note", Value::String("quote\" back\\slash\nnew\ttab \x01 caf\xc3\xa9")},
      {"price", Value::Double(9.9)},
      {"qty", Value::Int(3)},
      {"sizes", Value::StringList({"S", "M", ""})},
      {"tiny", Value::Double(-5e-324)},
  };
  return e;
}

Event MinimalEvent() {
  Event e;
  e.subject_id = "u2";
  e.name = "login";
  e.time = kT;
  return e;
}

Event ExtremeEvent() {
  Event e;
  e.subject_id = "\xe6\x97\xa5\xe6\x9c\xac";  // "Japan" in UTF-8
  e.name = "edge";
  e.time = At("9999-12-31T23:59:59.999999999Z");
  constexpr int64_t kMaxExact = (int64_t{1} << 53) - 1;
  e.properties = {
      {"big", Value::Double(1.5e300)},
      {"empty_list", Value::StringList({})},
      {"huge_double", Value::Double(1152921504606846976.0)},  // 2^60: stays a double
      {"max", Value::Int(kMaxExact)},
      {"min", Value::Int(-kMaxExact)},
      {"tenth", Value::Double(0.1)},
      {"zero", Value::Int(0)},
  };
  return e;
}

ProfileUpdate Profile() {
  ProfileUpdate p;
  p.subject_id = "u1";
  p.subject_type = "user";
  p.attributes = {
      {"coupon", Value()},  // removed
      {"score", Value::Double(1.25)},
      {"tags", Value::StringList({"vip", "early"})},
      {"tier", Value::String("gold")},
      {"visits", Value::Int(-7)},
  };
  p.time = At("0001-01-01T00:00:00Z");
  return p;
}

ProfileUpdate EmptyProfile() {
  ProfileUpdate p;
  p.subject_id = "u3";
  p.time = kT;
  return p;
}

EnrollRequest Enroll() {
  EnrollRequest e;
  e.journey_id = "winback";
  e.subject_id = "u1";
  e.context = {{"coupon", Value::String("C10")}, {"discount", Value::Int(10)}};
  e.time = kT + absl::Milliseconds(1);
  return e;
}

EnrollRequest BareEnroll() {
  EnrollRequest e;
  e.journey_id = "winback";
  e.subject_id = "u4";
  e.time = kT;
  return e;
}

DeliveryReport Delivered() {
  DeliveryReport d;
  d.message_id = "5f0c2a4b9e7d1c3a";
  d.outcome = DeliveryOutcome::kDelivered;
  d.subject_id = "u1";
  d.time = kT;
  return d;
}

DeliveryReport Failed() {
  DeliveryReport d;
  d.message_id = "m-2";
  d.outcome = DeliveryOutcome::kFailed;
  d.reason = "bounced: mailbox full";
  d.subject_id = "u5";
  d.time = kT + absl::Seconds(30);
  return d;
}

ClockTick Tick() { return ClockTick{kT + absl::Hours(1)}; }

JourneyStateChange Pause() { return {"winback", v1::PAUSED, kT + absl::Hours(2)}; }

JourneyDeploy Deploy() {
  absl::StatusOr<v1::Journey> journey = ParseJourney(R"pb(
    id: "winback" version: 2 settings { state: ACTIVE }
    nodes { id: "in" trigger { audience {} next: "out" } }
    nodes { id: "out" exit {} }
  )pb", JourneyFormat::kText);
  REQUIRE_THAT(StatusOf(journey), IsOk());
  return {*journey, kT + absl::Hours(3)};
}

SubjectErasure Erasure() { return {"u7", "", kT + absl::Hours(5)}; }
SubjectErasure DeviceErasure() { return {"d-9", "device", kT + absl::Hours(5)}; }
SubjectMerge Merge() { return {"anon-3", "u1", "", kT + absl::Hours(6)}; }

BehaviorSeed ValueSeed() {
  BehaviorSeed seed;
  seed.subject_id = "u1";
  seed.behavior = "shares";
  seed.value = Value::Int(40);
  seed.time = kT;
  return seed;
}

BehaviorSeed HistorySeed() {
  BehaviorSeed seed;
  seed.subject_id = "acme";
  seed.subject_type = "account";
  seed.behavior = "spent_30d";
  seed.history = {{kT - absl::Hours(48), 3, Value::Double(19.5)},
                  {kT - absl::Hours(1), 1, Value::Int(7)},
                  {kT, 2, Value()}};
  seed.time = kT + absl::Seconds(1);
  return seed;
}

BehaviorDeclaration Declaration() {
  absl::StatusOr<v1::BehaviorSet> set = ParseBehaviorSet(R"pb(
    behaviors { name: "shares" event { event: "share" } function: COUNT }
  )pb", JourneyFormat::kText);
  REQUIRE_THAT(StatusOf(set), IsOk());
  return {*set, kT + absl::Hours(4)};
}

std::vector<std::pair<std::string, EngineInput>> Samples() {
  return {
      {"full event", FullEvent()},     {"minimal event", MinimalEvent()},
      {"extreme event", ExtremeEvent()}, {"profile", Profile()},
      {"empty profile", EmptyProfile()}, {"enroll", Enroll()},
      {"bare enroll", BareEnroll()},   {"delivered", Delivered()},
      {"failed", Failed()},            {"tick", Tick()},
      {"state", Pause()},              {"value seed", ValueSeed()},
      {"history seed", HistorySeed()}, {"erasure", Erasure()},
      {"device erasure", DeviceErasure()}, {"merge", Merge()},
  };
}

// Values only the proto format carries exactly.
std::vector<std::pair<std::string, EngineInput>> ProtoOnlySamples() {
  Event e = MinimalEvent();
  e.properties = {
      {"at", Value::Timestamp(At("2026-02-01T00:00:00.5Z"))},
      {"huge", Value::Int(std::numeric_limits<int64_t>::min())},
      {"inf", Value::Double(std::numeric_limits<double>::infinity())},
      {"two", Value::Double(2.0)},
  };
  EnrollRequest n = Enroll();
  n.context = {{"deadline", Value::Timestamp(kT + absl::Hours(48))}};
  return {{"event with proto-only values", e},
          {"enroll with a timestamp", n},
          {"deploy", Deploy()},
          {"behaviors", Declaration()}};
}

std::string Key(const EngineInput& input) { return std::string(InputSubject(input)); }

// ---- Round trips ----

void CheckRoundTrip(const std::string& name, const EngineInput& input, absl::string_view format) {
  INFO("sample: " << name << ", format " << format);
  const absl::StatusOr<std::string> payload =
      format == kJsonFormat ? EncodeJsonRecord(input) : EncodeProtoRecord(input);
  REQUIRE_THAT(StatusOf(payload), IsOk());
  INFO("payload: " << *payload);
  const absl::StatusOr<EngineInput> back = DecodeRecord(Key(input), format, *payload);
  REQUIRE_THAT(StatusOf(back), IsOk());
  CheckSameInput(input, *back);
  // Encoding is deterministic.
  const absl::StatusOr<std::string> again =
      format == kJsonFormat ? EncodeJsonRecord(*back) : EncodeProtoRecord(*back);
  REQUIRE_THAT(StatusOf(again), IsOk());
  CHECK(*again == *payload);
}

TEST_CASE("Records: every input kind round-trips through JSON") {
  for (const auto& [name, input] : Samples()) CheckRoundTrip(name, input, kJsonFormat);
}

TEST_CASE("Records: every input kind round-trips through proto") {
  for (const auto& [name, input] : Samples()) CheckRoundTrip(name, input, kProtoFormat);
  for (const auto& [name, input] : ProtoOnlySamples()) {
    CheckRoundTrip(name, input, kProtoFormat);
  }
}

TEST_CASE("Records: the JSON forms are the documented ones") {
  CHECK(*EncodeJsonRecord(MinimalEvent()) ==
        R"({"subject":"u2","name":"login","time":"2026-01-05T10:00:00Z"})");
  CHECK(*EncodeJsonRecord(Profile()) ==
        R"({"kind":"profile","subject":"u1","subject_type":"user","attributes":)"
        R"({"coupon":null,"score":1.25,"tags":["vip","early"],"tier":"gold","visits":-7},)"
        R"("time":"0001-01-01T00:00:00Z"})");
  CHECK(*EncodeJsonRecord(Enroll()) ==
        R"({"kind":"enroll","journey":"winback","subject":"u1",)"
        R"("context":{"coupon":"C10","discount":10},"time":"2026-01-05T10:00:00.001Z"})");
  CHECK(*EncodeJsonRecord(Failed()) ==
        R"({"kind":"delivery","message_id":"m-2","outcome":"failed",)"
        R"("reason":"bounced: mailbox full","subject":"u5","time":"2026-01-05T10:00:30Z"})");
  CHECK(*EncodeJsonRecord(Tick()) == R"({"kind":"tick","time":"2026-01-05T11:00:00Z"})");
  CHECK(*EncodeJsonRecord(Erasure()) ==
        R"({"kind":"forget","subject":"u7","time":"2026-01-05T15:00:00Z"})");
  CHECK(*EncodeJsonRecord(DeviceErasure()) ==
        R"({"kind":"forget","subject":"d-9","subject_type":"device","time":"2026-01-05T15:00:00Z"})");
  CHECK(*EncodeJsonRecord(Merge()) ==
        R"({"kind":"merge","from":"anon-3","subject":"u1","time":"2026-01-05T16:00:00Z"})");
  CHECK(*EncodeJsonRecord(ValueSeed()) ==
        R"({"kind":"seed","subject":"u1","behavior":"shares","value":40,)"
        R"("time":"2026-01-05T10:00:00Z"})");
  CHECK(*EncodeJsonRecord(HistorySeed()) ==
        R"({"kind":"seed","subject":"acme","subject_type":"account","behavior":"spent_30d",)"
        R"("history":[{"time":"2026-01-03T10:00:00Z","count":3,"value":19.5},)"
        R"({"time":"2026-01-05T09:00:00Z","count":1,"value":7},)"
        R"({"time":"2026-01-05T10:00:00Z","count":2}],"time":"2026-01-05T10:00:01Z"})");
}

TEST_CASE("Records: a seed's count defaults to 1 and bad seeds and declarations are refused") {
  const absl::StatusOr<EngineInput> plain = DecodeRecord(
      "u1", kJsonFormat,
      R"({"kind":"seed","behavior":"views_7d","history":[{"time":"2026-01-05T09:00:00Z"}],)"
      R"("time":"2026-01-05T10:00:00Z"})");
  REQUIRE_THAT(StatusOf(plain), IsOk());
  const auto& seed = std::get<BehaviorSeed>(*plain);
  CHECK(seed.subject_id == "u1");
  REQUIRE(seed.history.size() == 1);
  CHECK(seed.history[0].count == 1);
  CHECK(seed.history[0].value.is_null());
  v1::InputRecord record;
  record.mutable_seed()->set_behavior("views_7d");
  *record.mutable_seed()->mutable_time() = cairn::internal::TimeToProto(kT);
  *record.mutable_seed()->add_history()->mutable_time() = cairn::internal::TimeToProto(kT);
  const absl::StatusOr<EngineInput> proto =
      DecodeRecord("u1", kProtoFormat, record.SerializeAsString());
  REQUIRE_THAT(StatusOf(proto), IsOk());
  CHECK(std::get<BehaviorSeed>(*proto).history[0].count == 1);

  struct Bad {
    const char* payload;
    const char* error;
  };
  const Bad bad[] = {
      {R"({"kind":"seed","behavior":"b","history":{},"time":"2026-01-05T10:00:00Z"})",
       "seed: \"history\" must be an array"},
      {R"({"kind":"seed","behavior":"b","history":[3],"time":"2026-01-05T10:00:00Z"})",
       "seed: history[0] must be an object"},
      {R"({"kind":"seed","behavior":"b","history":[{"count":2}],"time":"2026-01-05T10:00:00Z"})",
       "seed: history[0]: missing \"time\""},
      {R"({"kind":"seed","behavior":"b","history":[{"time":"2026-01-05T10:00:00Z","count":1.5}],)"
       R"("time":"2026-01-05T10:00:00Z"})",
       "seed: history[0]: \"count\" must be an integer"},
      {R"({"kind":"seed","behavior":"b","history":[{"time":"2026-01-05T10:00:00Z","when":1}],)"
       R"("time":"2026-01-05T10:00:00Z"})",
       "seed: history[0]: unknown field \"when\""},
      {R"({"kind":"seed","time":"2026-01-05T10:00:00Z"})", "missing \"behavior\""},
      {R"({"kind":"seed","behavior":"b","value":{"a":1},"time":"2026-01-05T10:00:00Z"})",
       "nested objects are not supported"},
      {R"({"kind":"behaviors","time":"2026-01-05T10:00:00Z"})",
       "a behaviors record is written in the proto format only"},
  };
  for (const Bad& b : bad) {
    INFO(b.payload);
    const absl::StatusOr<EngineInput> input = DecodeRecord("u1", kJsonFormat, b.payload);
    REQUIRE_FALSE(input.ok());
    CHECK_THAT(std::string(input.status().message()), Catch::Contains(b.error));
  }
  // A seed needs its subject's key, as every subject's input does.
  CHECK(DecodeRecord("", kJsonFormat,
                     R"({"kind":"seed","behavior":"b","time":"2026-01-05T10:00:00Z"})")
            .status()
            .message() == "the record has no key: a record of kind \"seed\" must be keyed by "
                          "its subject id");
  // A declaration with fields this build does not know is refused, as a
  // behaviours file would be.
  v1::InputRecord declaration;
  v1::BehaviorDeclaration* d = declaration.mutable_behaviors();
  *d->mutable_time() = cairn::internal::TimeToProto(kT);
  v1::Behavior* newer = d->mutable_behaviors()->add_behaviors();
  newer->GetReflection()->MutableUnknownFields(newer)->AddVarint(999, 1);
  const absl::StatusOr<EngineInput> unknown =
      DecodeRecord("", kProtoFormat, declaration.SerializeAsString());
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(std::string(unknown.status().message()), Catch::StartsWith("behaviors: "));
  // A behaviours record has no JSON form.
  CHECK(EncodeJsonRecord(Declaration()).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Records: the key supplies a subject the payload leaves out") {
  SECTION("json") {
    for (const char* payload :
         {R"({"name":"login","time":"2026-01-05T10:00:00Z"})",
          R"({"kind":"event","name":"login","time":"2026-01-05T10:00:00Z"})",
          R"({"kind":"profile","attributes":{},"time":"2026-01-05T10:00:00Z"})",
          R"({"kind":"enroll","journey":"j","time":"2026-01-05T10:00:00Z"})",
          R"({"kind":"delivery","message_id":"m","outcome":"delivered","time":"2026-01-05T10:00:00Z"})"}) {
      INFO(payload);
      const absl::StatusOr<EngineInput> input = DecodeRecord("u9", kJsonFormat, payload);
      REQUIRE_THAT(StatusOf(input), IsOk());
      CHECK(InputSubject(*input) == "u9");
      CHECK(InputTime(*input) == kT);
    }
  }
  SECTION("proto") {
    std::vector<v1::InputRecord> records(4);
    records[0].mutable_event()->set_name("login");
    *records[0].mutable_event()->mutable_time() = internal::TimeToProto(kT);
    *records[1].mutable_profile()->mutable_time() = internal::TimeToProto(kT);
    records[2].mutable_enroll()->set_journey_id("j");
    *records[2].mutable_enroll()->mutable_time() = internal::TimeToProto(kT);
    records[3].mutable_delivery()->set_message_id("m");
    records[3].mutable_delivery()->set_outcome(v1::DELIVERY_OUTCOME_FAILED);
    *records[3].mutable_delivery()->mutable_time() = internal::TimeToProto(kT);
    for (const v1::InputRecord& record : records) {
      INFO(record.ShortDebugString());
      const absl::StatusOr<EngineInput> input =
          DecodeRecord("u9", kProtoFormat, record.SerializeAsString());
      REQUIRE_THAT(StatusOf(input), IsOk());
      CHECK(InputSubject(*input) == "u9");
      CHECK(InputTime(*input) == kT);
    }
  }
}

TEST_CASE("Records: a tick ignores its key") {
  for (const char* key : {"", "u1", "partition-2"}) {
    const absl::StatusOr<EngineInput> input =
        DecodeRecord(key, kJsonFormat, R"({"kind":"tick","time":"2026-01-05T10:00:00Z"})");
    REQUIRE_THAT(StatusOf(input), IsOk());
    CHECK(std::get<ClockTick>(*input).time == kT);
    CHECK(InputSubject(*input).empty());
  }
}

TEST_CASE("Records: attributes come back sorted by name") {
  ProfileUpdate p = EmptyProfile();
  p.attributes = {{"b", Value::Int(1)}, {"c", Value()}, {"a", Value::String("x")}};
  const Attributes sorted = {{"a", Value::String("x")}, {"b", Value::Int(1)}, {"c", Value()}};
  for (absl::string_view format : {kJsonFormat, kProtoFormat}) {
    INFO(format);
    const absl::StatusOr<std::string> payload =
        format == kJsonFormat ? EncodeJsonRecord(p) : EncodeProtoRecord(p);
    REQUIRE_THAT(StatusOf(payload), IsOk());
    const absl::StatusOr<EngineInput> back = DecodeRecord("u3", format, *payload);
    REQUIRE_THAT(StatusOf(back), IsOk());
    CHECK(std::get<ProfileUpdate>(*back).attributes == sorted);
  }
}

// Issue 15, defect 5: the JSON reader compared each key with every earlier
// one, so a record of 80,000 attributes took seconds to decode (the cost is
// measured in bench/decode_bench.cc). Both formats still decode such a
// record whole, and a repeat among them is still found.
TEST_CASE("Records: 80k attributes decode in both formats and a repeat is found") {
  constexpr int kCount = 80000;
  ProfileUpdate p = EmptyProfile();
  for (int i = 0; i < kCount; ++i) p.attributes.emplace_back(absl::StrCat("a", i), Value::Int(i));
  std::sort(p.attributes.begin(), p.attributes.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (absl::string_view format : {kJsonFormat, kProtoFormat}) {
    INFO(format);
    const absl::StatusOr<std::string> payload =
        format == kJsonFormat ? EncodeJsonRecord(p) : EncodeProtoRecord(p);
    REQUIRE_THAT(StatusOf(payload), IsOk());
    const absl::StatusOr<EngineInput> back = DecodeRecord(p.subject_id, format, *payload);
    REQUIRE_THAT(StatusOf(back), IsOk());
    CHECK(std::get<ProfileUpdate>(*back).attributes == p.attributes);
  }

  absl::StatusOr<std::string> json = EncodeJsonRecord(p);
  REQUIRE_THAT(StatusOf(json), IsOk());
  // Repeat attribute a40000 as the last one.
  const size_t close = json->find('}');
  REQUIRE(close != std::string::npos);
  json->insert(close, R"(,"a40000":1)");
  const size_t first = json->find(R"("a40000")");
  const size_t again = json->rfind(R"("a40000")");
  const absl::StatusOr<EngineInput> bad = DecodeRecord(p.subject_id, kJsonFormat, *json);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        absl::StrCat("not a JSON object: column ", again + 1,
                     ": duplicate key \"a40000\" (first at column ", first + 1, ")"));
}

// ---- `cairn sim` event lines are JSON records ----

TEST_CASE("Records: every line of a sim event log decodes as ParseEventLine reads it") {
  std::ifstream in(CAIRN_SOURCE_DIR "/tests/data/shop_events.jsonl");
  REQUIRE(in.good());
  std::string line;
  int good = 0;
  int bad = 0;
  while (std::getline(in, line)) {
    INFO("line: " << line);
    const absl::StatusOr<Event> want = json::ParseEventLine(line);
    const std::string key = want.ok() ? want->subject_id : "u1";
    const absl::StatusOr<EngineInput> got = DecodeRecord(key, kJsonFormat, line);
    if (!want.ok()) {
      ++bad;
      REQUIRE_FALSE(got.ok());
      CHECK(got.status() == want.status());
      continue;
    }
    ++good;
    REQUIRE_THAT(StatusOf(got), IsOk());
    CheckSameInput(EngineInput(*want), *got);
    // And an encoded event is a line `cairn sim` reads.
    const absl::StatusOr<std::string> encoded = EncodeJsonRecord(*got);
    REQUIRE_THAT(StatusOf(encoded), IsOk());
    const absl::StatusOr<Event> reread = json::ParseEventLine(*encoded);
    REQUIRE_THAT(StatusOf(reread), IsOk());
    CheckSameInput(EngineInput(*want), EngineInput(*reread));
  }
  CHECK(good == 800);
  CHECK(bad == 1);
}

// ---- Bad records ----

struct BadRecord {
  std::string name;
  std::string key;
  std::string header;
  std::string payload;
  std::string error;  // the exact message; "...: " ending means a prefix
};

void CheckBad(const BadRecord& c) {
  INFO("case: " << c.name << "\nkey: " << c.key << "\nheader: " << c.header
                << "\npayload: " << c.payload);
  const absl::StatusOr<EngineInput> input = DecodeRecord(c.key, c.header, c.payload);
  REQUIRE_FALSE(input.ok());
  CHECK(input.status().code() == absl::StatusCode::kInvalidArgument);
  if (absl::EndsWith(c.error, ": ") && c.error.size() > 2) {
    CHECK_THAT(std::string(input.status().message()), Catch::Matchers::StartsWith(c.error));
  } else {
    CHECK(input.status().message() == c.error);
  }
}

void CheckUniqueNames(const std::vector<BadRecord>& cases) {
  for (size_t i = 0; i < cases.size(); ++i) {
    for (size_t j = i + 1; j < cases.size(); ++j) {
      INFO(cases[i].name);
      CHECK(cases[i].name != cases[j].name);
    }
  }
}

constexpr char kTime[] = R"("time":"2026-01-05T10:00:00Z")";

std::string Json(const std::string& fields) { return absl::StrCat("{", fields, "}"); }

std::vector<BadRecord> JsonCatalogue() {
  const std::string tick = Json(absl::StrCat(R"("kind":"tick",)", kTime));
  const std::string event = Json(absl::StrCat(R"("subject":"u1","name":"x",)", kTime));
  return {
      // ---- Header ----
      {"no format header", "u1", "", event,
       "the record has no header \"cairn-format\" (\"json\" or \"proto\")"},
      {"an unknown format", "u1", "avro", event,
       "header \"cairn-format\" is \"avro\": expected \"json\" or \"proto\""},
      {"a format in capitals", "u1", "JSON", event,
       "header \"cairn-format\" is \"JSON\": expected \"json\" or \"proto\""},

      // ---- Payload ----
      {"not JSON", "u1", "json", "tier=gold", "not a JSON object: column 1: invalid literal"},
      {"an empty payload", "u1", "json", "", "not a JSON object: column 1: "},
      {"a JSON list", "u1", "json", "[]", "not a JSON object"},
      {"two objects", "u1", "json", tick + tick,
       "not a JSON object: column 46: unexpected text after the value"},
      {"a duplicate key", "u1", "json",
       Json(absl::StrCat(R"("kind":"tick","kind":"tick",)", kTime)),
       "not a JSON object: column 16: duplicate key \"kind\" (first at column 2)"},
      {"a proto payload as JSON", "u1", "json", *EncodeProtoRecord(Tick()),
       "not a JSON object: column 1: "},

      // ---- Kind ----
      {"an unknown kind", "u1", "json", Json(absl::StrCat(R"("kind":"click",)", kTime)),
       "\"kind\" \"click\" is not one of event, profile, enroll, delivery, tick, state, seed, forget, merge"},
      {"a deploy in JSON", "", "json", Json(absl::StrCat(R"("kind":"deploy",)", kTime)),
       "a deploy record is written in the proto format only (`cairn deploy` writes it)"},
      {"a state that is not one", "", "json",
       Json(absl::StrCat(R"("kind":"state","journey":"w","state":"asleep",)", kTime)),
       "\"state\" \"asleep\" is not \"active\", \"paused\" or \"stopped\""},
      {"a state change without a journey", "", "json",
       Json(absl::StrCat(R"("kind":"state","state":"paused",)", kTime)), "missing \"journey\""},
      {"an empty kind", "u1", "json", Json(absl::StrCat(R"("kind":"",)", kTime)),
       "\"kind\" \"\" is not one of event, profile, enroll, delivery, tick, state, seed, forget, merge"},
      {"a kind in capitals", "u1", "json", Json(absl::StrCat(R"("kind":"Tick",)", kTime)),
       "\"kind\" \"Tick\" is not one of event, profile, enroll, delivery, tick, state, seed, forget, merge"},
      {"a number for the kind", "u1", "json", Json(absl::StrCat(R"("kind":4,)", kTime)),
       "\"kind\" must be a string"},

      // ---- Key ----
      {"an event without a key", "", "json", event,
       "the record has no key: a record of kind \"event\" must be keyed by its subject id"},
      {"a profile without a key", "", "json",
       Json(absl::StrCat(R"("kind":"profile","subject":"u1",)", kTime)),
       "the record has no key: a record of kind \"profile\" must be keyed by its subject id"},
      {"a delivery without a key", "", "json",
       Json(absl::StrCat(R"("kind":"delivery","message_id":"m","outcome":"failed",)", kTime)),
       "the record has no key: a record of kind \"delivery\" must be keyed by its subject id"},
      {"a key that is not the event's subject", "u2", "json", event,
       "the record's key \"u2\" is not its subject \"u1\""},
      {"a key that is not the enrollment's subject", "U1", "json",
       Json(absl::StrCat(R"("kind":"enroll","journey":"j","subject":"u1",)", kTime)),
       "the record's key \"U1\" is not its subject \"u1\""},
      {"a key that is not the delivery's subject", "u1 ", "json",
       Json(absl::StrCat(R"("kind":"delivery","message_id":"m","outcome":"failed",)",
                         R"("subject":"u1",)", kTime)),
       "the record's key \"u1 \" is not its subject \"u1\""},

      // ---- Events (the sim's own checks) ----
      {"an event without a name", "u1", "json", Json(absl::StrCat(R"("subject":"u1",)", kTime)),
       "missing \"name\""},
      {"an event without a time", "u1", "json", Json(R"("subject":"u1","name":"x")"),
       "missing \"time\""},
      {"an event with a word for a time", "u1", "json",
       Json(R"("subject":"u1","name":"x","time":"yesterday")"),
       "\"time\" \"yesterday\" is not an RFC 3339 time: "},
      {"an event with an empty subject", "u1", "json",
       Json(absl::StrCat(R"("subject":"","name":"x",)", kTime)), "\"subject\" is empty"},
      {"an event with a misspelt field", "u1", "json",
       Json(absl::StrCat(R"("subject":"u1","name":"x","props":{},)", kTime)),
       "unknown field \"props\""},
      {"an event with a nested property", "u1", "json",
       Json(absl::StrCat(R"("subject":"u1","name":"x","properties":{"a":{}},)", kTime)),
       "property \"a\": nested objects are not supported"},
      {"a year beyond 9999", "u1", "json",
       Json(R"("subject":"u1","name":"x","time":"10000-01-01T00:00:00Z")"),
       "event: time 10000-01-01T00:00:00Z is outside 0001-01-01..9999-12-31"},

      // ---- Profiles ----
      {"a sim profile line", "u1", "json", Json(R"("subject":"u1","attributes":{})"),
       "unknown field \"attributes\""},
      {"a profile without a time", "u1", "json",
       Json(R"("kind":"profile","subject":"u1","attributes":{})"), "missing \"time\""},
      {"a profile with a name", "u1", "json",
       Json(absl::StrCat(R"("kind":"profile","name":"x",)", kTime)), "unknown field \"name\""},
      {"a profile with a list for attributes", "u1", "json",
       Json(absl::StrCat(R"("kind":"profile","attributes":[],)", kTime)),
       "\"attributes\" must be an object"},
      {"a profile with a list of numbers", "u1", "json",
       Json(absl::StrCat(R"("kind":"profile","attributes":{"a":[1]},)", kTime)),
       "attribute \"a\": lists may only hold strings"},

      // ---- Enrollments ----
      {"an enrollment without a journey", "u1", "json",
       Json(absl::StrCat(R"("kind":"enroll",)", kTime)), "missing \"journey\""},
      {"an enrollment with journey_id", "u1", "json",
       Json(absl::StrCat(R"("kind":"enroll","journey_id":"j",)", kTime)),
       "unknown field \"journey_id\""},
      {"an enrollment with an empty journey", "u1", "json",
       Json(absl::StrCat(R"("kind":"enroll","journey":"",)", kTime)), "\"journey\" is empty"},
      {"an enrollment with a nested context", "u1", "json",
       Json(absl::StrCat(R"("kind":"enroll","journey":"j","context":{"c":{"d":1}},)", kTime)),
       "context \"c\": nested objects are not supported"},
      {"an enrollment with a bad time", "u1", "json",
       Json(R"("kind":"enroll","journey":"j","time":"2026-01-05")"),
       "\"time\" \"2026-01-05\" is not an RFC 3339 time: "},

      // ---- Delivery reports ----
      {"a delivery without a message id", "u1", "json",
       Json(absl::StrCat(R"("kind":"delivery","outcome":"delivered",)", kTime)),
       "missing \"message_id\""},
      {"a delivery without an outcome", "u1", "json",
       Json(absl::StrCat(R"("kind":"delivery","message_id":"m",)", kTime)),
       "missing \"outcome\""},
      {"an unknown outcome", "u1", "json",
       Json(absl::StrCat(R"("kind":"delivery","message_id":"m","outcome":"bounced",)", kTime)),
       "\"outcome\" \"bounced\" is not \"delivered\" or \"failed\""},
      {"a boolean outcome", "u1", "json",
       Json(absl::StrCat(R"("kind":"delivery","message_id":"m","outcome":true,)", kTime)),
       "\"outcome\" must be a string"},
      {"a number for the reason", "u1", "json",
       Json(absl::StrCat(R"("kind":"delivery","message_id":"m","outcome":"failed","reason":5,)",
                         kTime)),
       "\"reason\" must be a string"},
      {"a delivery with a channel", "u1", "json",
       Json(absl::StrCat(R"("kind":"delivery","message_id":"m","outcome":"failed",)",
                         R"("channel":"push",)", kTime)),
       "unknown field \"channel\""},

      // ---- Ticks ----
      {"a tick without a time", "", "json", Json(R"("kind":"tick")"), "missing \"time\""},
      {"a tick with a subject", "u1", "json",
       Json(absl::StrCat(R"("kind":"tick","subject":"u1",)", kTime)),
       "unknown field \"subject\""},
      {"a tick with a number for a time", "", "json", Json(R"("kind":"tick","time":1767607200)"),
       "\"time\" must be a string"},
  };
}

TEST_CASE("Records: each bad JSON record gives its error") {
  const std::vector<BadRecord> cases = JsonCatalogue();
  CheckUniqueNames(cases);
  for (const BadRecord& c : cases) CheckBad(c);
}

std::string Serialize(const v1::InputRecord& record) { return record.SerializeAsString(); }

v1::InputRecord ProtoEvent() {
  v1::InputRecord r;
  r.mutable_event()->set_subject_id("u1");
  r.mutable_event()->set_name("x");
  *r.mutable_event()->mutable_time() = internal::TimeToProto(kT);
  return r;
}

std::vector<BadRecord> ProtoCatalogue() {
  std::vector<BadRecord> cases;
  auto add = [&](std::string name, std::string key, const v1::InputRecord& record,
                 std::string error) {
    cases.push_back({std::move(name), std::move(key), "proto", Serialize(record),
                     std::move(error)});
  };
  cases.push_back({"bytes that do not parse", "u1", "proto", "\xff\xff\xff",
                   "the payload is not a serialized cairn.v1.InputRecord"});
  cases.push_back({"a JSON payload as proto", "u1", "proto", *EncodeJsonRecord(Tick()),
                   "the payload is not a serialized cairn.v1.InputRecord"});
  add("an empty record", "u1", v1::InputRecord(),
      "the cairn.v1.InputRecord has no kind set: set one of event, profile, enroll, delivery, "
      "tick, deploy, state, seed, behaviors, forget, merge");
  {
    v1::InputRecord r;
    r.mutable_deploy()->mutable_time()->set_seconds(1767607200);
    add("a deploy without a journey", "", r, "deploy: journey is not set");
  }
  {
    v1::InputRecord r;
    *r.mutable_deploy()->mutable_journey() = Deploy().journey;
    add("a deploy without a time", "", r, "deploy: time is not set");
  }
  {
    v1::InputRecord r;
    *r.mutable_deploy()->mutable_journey() = Deploy().journey;
    r.mutable_deploy()->mutable_time()->set_seconds(1767607200);
    r.mutable_deploy()->mutable_journey()->GetReflection()->MutableUnknownFields(
        r.mutable_deploy()->mutable_journey())->AddVarint(999, 1);
    add("a deployed journey with a field this build does not know", "", r,
        "deploy: journey: binary journey has a field this version of Cairn does not know "
        "(field 999); it may come from a newer schema");
  }
  {
    v1::InputRecord r;
    *r.mutable_deploy()->mutable_journey() = Deploy().journey;
    r.mutable_deploy()->mutable_journey()->clear_id();
    r.mutable_deploy()->mutable_time()->set_seconds(1767607200);
    add("a deployed journey without an id", "", r, "deploy: journey.id is empty");
  }
  {
    v1::InputRecord r;
    r.mutable_state()->set_journey_id("winback");
    r.mutable_state()->mutable_time()->set_seconds(1767607200);
    add("a state change without a state", "", r,
        "state: state 0 is not ACTIVE, PAUSED or STOPPED");
  }
  {
    v1::InputRecord r;
    r.mutable_state()->set_state(v1::PAUSED);
    r.mutable_state()->mutable_time()->set_seconds(1767607200);
    add("a state change without a journey", "", r, "state: journey_id is empty");
  }
  add("an event without a key", "", ProtoEvent(),
      "the record has no key: a record of kind \"event\" must be keyed by its subject id");
  add("a key that is not the subject", "u2", ProtoEvent(),
      "the record's key \"u2\" is not its subject \"u1\"");
  {
    v1::InputRecord r = ProtoEvent();
    r.mutable_event()->clear_name();
    add("an event without a name", "u1", r, "event: name is empty");
  }
  {
    v1::InputRecord r = ProtoEvent();
    r.mutable_event()->clear_time();
    add("an event without a time", "u1", r, "event: time is not set");
  }
  {
    v1::InputRecord r = ProtoEvent();
    r.mutable_event()->mutable_time()->set_nanos(1000000000);
    add("an event with nanos out of range", "u1", r, "event: time: ");
  }
  {
    v1::InputRecord r = ProtoEvent();
    r.mutable_event()->mutable_time()->set_seconds(253402300800);  // 10000-01-01
    add("an event in the year 10000", "u1", r, "event: time: ");
  }
  {
    v1::InputRecord r = ProtoEvent();
    (*r.mutable_event()->mutable_properties())["sku"];
    add("a property with no kind", "u1", r,
        "event: property \"sku\": value has no kind set: set one of string_value, int_value, "
        "double_value, bool_value, timestamp_value, string_list_value");
  }
  {
    v1::InputRecord r;
    *r.mutable_profile()->mutable_time() = internal::TimeToProto(kT);
    (*r.mutable_profile()->mutable_attributes())["tier"].set_string_value("gold");
    r.mutable_profile()->add_removed("tier");
    add("an attribute both set and removed", "u1", r,
        "profile: attribute \"tier\" is both set and removed");
  }
  {
    v1::InputRecord r;
    *r.mutable_profile()->mutable_time() = internal::TimeToProto(kT);
    r.mutable_profile()->add_removed("tier");
    r.mutable_profile()->add_removed("tier");
    add("an attribute removed twice", "u1", r, "profile: attribute \"tier\" is removed twice");
  }
  {
    v1::InputRecord r;
    r.mutable_profile()->set_subject_id("u1");
    add("a profile without a time", "u1", r, "profile: time is not set");
  }
  {
    v1::InputRecord r;
    *r.mutable_enroll()->mutable_time() = internal::TimeToProto(kT);
    add("an enrollment without a journey", "u1", r, "enroll: journey_id is empty");
  }
  {
    v1::InputRecord r;
    r.mutable_enroll()->set_journey_id("j");
    *r.mutable_enroll()->mutable_time() = internal::TimeToProto(kT);
    (*r.mutable_enroll()->mutable_context())["c"];
    add("a context value with no kind", "u1", r,
        "enroll: context \"c\": value has no kind set: set one of string_value, int_value, "
        "double_value, bool_value, timestamp_value, string_list_value");
  }
  v1::InputRecord delivery;
  delivery.mutable_delivery()->set_message_id("m");
  delivery.mutable_delivery()->set_outcome(v1::DELIVERY_OUTCOME_DELIVERED);
  *delivery.mutable_delivery()->mutable_time() = internal::TimeToProto(kT);
  {
    v1::InputRecord r = delivery;
    r.mutable_delivery()->clear_outcome();
    add("a delivery without an outcome", "u1", r, "delivery: outcome is not set");
  }
  {
    v1::InputRecord r = delivery;
    r.mutable_delivery()->set_outcome(static_cast<v1::DeliveryOutcome>(7));
    add("an unknown outcome", "u1", r,
        "delivery: outcome 7 is not DELIVERY_OUTCOME_DELIVERED or DELIVERY_OUTCOME_FAILED");
  }
  {
    v1::InputRecord r = delivery;
    r.mutable_delivery()->clear_message_id();
    add("a delivery without a message id", "u1", r, "delivery: message_id is empty");
  }
  {
    v1::InputRecord r = delivery;
    r.mutable_delivery()->set_subject_id("u7");
    add("a key that is not the delivery's subject", "u1", r,
        "the record's key \"u1\" is not its subject \"u7\"");
  }
  {
    v1::InputRecord r;
    r.mutable_tick();
    add("a tick without a time", "", r, "tick: time is not set");
  }
  return cases;
}

TEST_CASE("Records: an error quotes what the record holds escaped, never raw") {
  // Each error goes into a log line as it is: what a record holds must not
  // end that line, print another, drive a terminal or break UTF-8.
  struct Hostile {
    std::string key, header, payload, error;
  };
  const std::vector<Hostile> cases = {
      {"u\n(FORGED)\x1b[2J\xff", "json",
       R"j({"subject":"v\u001b]0;title\u0007","name":"x","time":"2026-01-05T10:00:00Z"})j",
       R"(the record's key "u\n(FORGED)\u{001B}[2J\xFF" is not its subject )"
       R"("v\u{001B}]0;title\u{0007}")"},
      {"u1", "json", R"j({"kind":"nap\r\n(FORGED)\u202e","time":"2026-01-05T10:00:00Z"})j",
       R"("kind" "nap\r\n(FORGED)\u{202E}" is not one of )"
       "event, profile, enroll, delivery, tick, state, seed, forget, merge"},
      {"u1", "json",
       "{\"subject\":\"u1\",\"name\":\"x\",\"time\":\"2026-01-05T10:00:00Z\","
       "\"b\xff\\n\":1}",
       R"(unknown field "b\xFF\n")"},
      {"u1", "json", R"j({"subject":"u1","name":"x","time":"soon\n\u009b2J"})j",
       R"("time" "soon\n\u{009B}2J" is not an RFC 3339 time: )"},
      {"u1", "json", R"j({"subject":"u1","name":"x","time":"2026-01-05T10:00:00Z",)j"
                     R"j("properties":{"p\n\u001b":{}}})j",
       R"(property "p\n\u{001B}": nested objects are not supported)"},
      {"u1", "json", R"j({"subject":"u1","subject":"u1\n"})j",
       R"(duplicate key "subject")"},
      {"u1", "js\non\x9b", "{}",
       R"(header "cairn-format" is "js\non\x9B": expected "json" or "proto")"},
      {"张伟", "json", R"j({"subject":"李娜","name":"x","time":"2026-01-05T10:00:00Z"})j",
       R"(the record's key "张伟" is not its subject "李娜")"},
  };
  for (const Hostile& c : cases) {
    INFO("payload: " << internal::Escaped(c.payload));
    const absl::StatusOr<EngineInput> input = DecodeRecord(c.key, c.header, c.payload);
    REQUIRE_FALSE(input.ok());
    const std::string error(input.status().message());
    CHECK_THAT(internal::Escaped(error), Catch::Matchers::Contains(internal::Escaped(c.error)));
    CHECK(internal::IsValidUtf8(error));
    CHECK(std::none_of(error.begin(), error.end(), [](char ch) {
      return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
    }));
  }
}

TEST_CASE("Records: each bad proto record gives its error") {
  const std::vector<BadRecord> cases = ProtoCatalogue();
  CheckUniqueNames(cases);
  for (const BadRecord& c : cases) CheckBad(c);
}

// ---- Inputs the encoders refuse ----

struct BadInput {
  std::string name;
  EngineInput input;
  std::string json_error;   // empty: JSON encodes it
  std::string proto_error;  // empty: proto encodes it
};

std::vector<BadInput> EncodeCatalogue() {
  auto event_with = [](Attributes properties) {
    Event e = MinimalEvent();
    e.properties = std::move(properties);
    return e;
  };
  Event no_subject = MinimalEvent();
  no_subject.subject_id.clear();
  Event no_name = MinimalEvent();
  no_name.name.clear();
  Event no_time = MinimalEvent();
  no_time.time = absl::InfinitePast();
  Event future = MinimalEvent();
  future.time = absl::InfiniteFuture();
  Event early = MinimalEvent();
  early.time = At("0001-01-01T00:00:00Z") - absl::Nanoseconds(1);
  ProfileUpdate twice = EmptyProfile();
  twice.attributes = {{"a", Value::Int(1)}, {"a", Value()}};
  EnrollRequest no_journey = Enroll();
  no_journey.journey_id.clear();
  EnrollRequest null_context = Enroll();
  null_context.context = {{"c", Value()}};
  DeliveryReport no_id = Delivered();
  no_id.message_id.clear();
  return {
      {"a timestamp property", event_with({{"at", Value::Timestamp(kT)}}),
       "event: property \"at\": a timestamp value has no JSON form: use the proto format", ""},
      {"an integral double", event_with({{"price", Value::Double(2)}}),
       "event: property \"price\": double 2 is integral and would read back as an int: use the "
       "proto format",
       ""},
      {"an int beyond 2^53", event_with({{"n", Value::Int(int64_t{1} << 53)}}),
       "event: property \"n\": int 9007199254740992 has no exact JSON form (beyond +-2^53): use "
       "the proto format",
       ""},
      {"a NaN", event_with({{"x", Value::Double(std::nan(""))}}),
       "event: property \"x\": double nan has no JSON form: use the proto format", ""},
      {"a null property", event_with({{"gone", Value()}}), "",
       "event: property \"gone\": a null value has no proto form"},
      {"a property twice", event_with({{"a", Value::Int(1)}, {"a", Value::Int(2)}}),
       "event: property \"a\" appears twice", "event: property \"a\" appears twice"},
      {"an attribute twice", twice, "profile: attribute \"a\" appears twice",
       "profile: attribute \"a\" appears twice"},
      {"a null context value", null_context, "",
       "enroll: context \"c\": a null value has no proto form"},
      {"an event without a subject", no_subject, "event: subject_id is empty",
       "event: subject_id is empty"},
      {"an event without a name", no_name, "event: name is empty", "event: name is empty"},
      {"an event without a time", no_time, "event: time is not set", "event: time is not set"},
      {"an event at the end of time", future,
       "event: time infinite-future is outside 0001-01-01..9999-12-31",
       "event: time infinite-future is outside 0001-01-01..9999-12-31"},
      {"an event before year 1", early,
       "event: time 0000-12-31T23:59:59.999999999Z is outside 0001-01-01..9999-12-31",
       "event: time 0000-12-31T23:59:59.999999999Z is outside 0001-01-01..9999-12-31"},
      {"an enrollment without a journey", no_journey, "enroll: journey_id is empty",
       "enroll: journey_id is empty"},
      {"a delivery without a message id", no_id, "delivery: message_id is empty",
       "delivery: message_id is empty"},
      {"a tick without a time", ClockTick{}, "tick: time is not set", "tick: time is not set"},
  };
}

TEST_CASE("Records: the encoders refuse what their format cannot carry") {
  for (const BadInput& c : EncodeCatalogue()) {
    INFO("case: " << c.name);
    const absl::StatusOr<std::string> json = EncodeJsonRecord(c.input);
    if (c.json_error.empty()) {
      CHECK_THAT(StatusOf(json), IsOk());
    } else {
      REQUIRE_FALSE(json.ok());
      CHECK(json.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(json.status().message() == c.json_error);
    }
    const absl::StatusOr<std::string> proto = EncodeProtoRecord(c.input);
    if (c.proto_error.empty()) {
      CHECK_THAT(StatusOf(proto), IsOk());
    } else {
      REQUIRE_FALSE(proto.ok());
      CHECK(proto.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(proto.status().message() == c.proto_error);
    }
  }
}

// ---- Applying records to an engine ----

constexpr char kRepurchase[] = R"pb(
  id: "repurchase" version: 1
  settings { state: ACTIVE }
  nodes { id: "buyers" trigger { audience { audience: "repeat_buyers" } next: "push" } }
  nodes { id: "push" action { channel: "push" template_id: "coupon"
          params { key: "coupon" value: "{{entry.coupon}}" }
          await_delivery { timeout { seconds: 600 } } next: "paid" on_failure: "sms" } }
  nodes { id: "sms" action { channel: "sms" template_id: "coupon_sms" next: "paid" } }
  nodes { id: "paid" goal { conversion { event: "payment" } window { seconds: 86400 }
          on_converted: "converted" on_expired: "lost" } }
  nodes { id: "converted" exit { reason: "paid" } }
  nodes { id: "lost" exit { reason: "no_payment" } }
)pb";

constexpr char kWelcome[] = R"pb(
  id: "welcome" version: 1
  settings { state: ACTIVE }
  nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "wait" } }
  nodes { id: "wait" delay { duration { seconds: 1800 } next: "email" } }
  nodes { id: "email" action { channel: "email" template_id: "welcome" next: "" } }
)pb";

constexpr char kVip[] = R"pb(
  id: "vip" version: 1
  settings { state: ACTIVE }
  nodes { id: "login" trigger { event { matcher { event: "login" } } next: "is_gold" } }
  nodes { id: "is_gold" filter {
    predicate { compare { path: "profile.tier" op: EQ value { string_value: "gold" } } }
    on_true: "hello" on_false: "" } }
  nodes { id: "hello" action { channel: "push" template_id: "vip_hello"
          params { key: "tier" value: "{{profile.tier}}" } next: "" } }
)pb";

class RecordingSink : public ChannelSink {
 public:
  SendResult Send(const Message& message) override {
    sent.push_back(message);
    return SendResult::Accepted();
  }
  std::vector<Message> sent;
};

struct Host {
  Host() : engine(Options()) {
    REQUIRE_THAT(engine.RegisterChannel("push", &push), IsOk());
    REQUIRE_THAT(engine.RegisterChannel("sms", &sms), IsOk());
    REQUIRE_THAT(engine.RegisterChannel("email", &email), IsOk());
    for (const char* journey : {kRepurchase, kWelcome, kVip}) {
      REQUIRE_THAT(engine.Deploy(testing::TextJourney(journey)), IsOk());
    }
    absl::StatusOr<v1::BehaviorSet> logins = ParseBehaviorSet(R"pb(
      behaviors { name: "logins" event { event: "login" } function: COUNT }
    )pb", JourneyFormat::kText);
    REQUIRE_THAT(StatusOf(logins), IsOk());
    REQUIRE_THAT(engine.DeclareBehaviors(*logins), IsOk());
  }
  static EngineOptions Options() {
    EngineOptions o;
    o.start_time = At("2026-01-05T00:00:00Z");
    return o;
  }
  Engine engine;
  RecordingSink push;
  RecordingSink sms;
  RecordingSink email;
};

// The engine calls an input stands for, written out independently of
// Engine::Apply.
absl::Status CallDirectly(const EngineInput& input, Engine& engine) {
  if (const auto* e = std::get_if<Event>(&input)) return engine.Ingest(*e);
  if (const auto* p = std::get_if<ProfileUpdate>(&input)) {
    return engine.UpsertProfile(p->subject_id, p->attributes, p->time, p->subject_type);
  }
  if (const auto* n = std::get_if<EnrollRequest>(&input)) {
    return engine.Enroll(n->journey_id, n->subject_id, n->time, n->context);
  }
  if (const auto* d = std::get_if<DeliveryReport>(&input)) {
    return engine.ReportDelivery(d->message_id, d->outcome, d->time, d->reason);
  }
  if (const auto* b = std::get_if<BehaviorSeed>(&input)) return engine.SeedBehavior(*b);
  return engine.AdvanceTo(std::get<ClockTick>(input).time);
}

void CheckSameSends(const RecordingSink& a, const RecordingSink& b) {
  REQUIRE(a.sent.size() == b.sent.size());
  for (size_t i = 0; i < a.sent.size(); ++i) {
    CHECK(a.sent[i].message_id == b.sent[i].message_id);
    CHECK(a.sent[i].subject_id == b.sent[i].subject_id);
    CHECK(a.sent[i].template_id == b.sent[i].template_id);
    CHECK(a.sent[i].params == b.sent[i].params);
    CHECK(a.sent[i].time == b.sent[i].time);
  }
}

std::string IdSentTo(const RecordingSink& sink, const std::string& subject) {
  for (const Message& m : sink.sent) {
    if (m.subject_id == subject) return m.message_id;
  }
  FAIL("nothing sent to " << subject);
  return "";
}

TEST_CASE("Records: applying decoded records equals calling the engine") {
  const absl::string_view format = GENERATE(kJsonFormat, kProtoFormat);
  INFO("format " << format);
  Host direct;
  Host via_records;
  const absl::Time t0 = At("2026-01-05T00:00:00Z");

  // Feeds one input both ways; the statuses must agree too.
  auto feed = [&](const EngineInput& input) {
    const absl::Status want = CallDirectly(input, direct.engine);
    const absl::StatusOr<std::string> payload =
        format == kJsonFormat ? EncodeJsonRecord(input) : EncodeProtoRecord(input);
    REQUIRE_THAT(StatusOf(payload), IsOk());
    const absl::StatusOr<EngineInput> decoded = DecodeRecord(Key(input), format, *payload);
    REQUIRE_THAT(StatusOf(decoded), IsOk());
    const absl::Status got = via_records.engine.Apply(*decoded);
    INFO("input " << *payload);
    CHECK(got == want);
    return want;
  };
  auto event = [](const char* subject, const char* name, absl::Time t) {
    Event e;
    e.subject_id = subject;
    e.name = name;
    e.time = t;
    return e;
  };

  CHECK_THAT(feed(ProfileUpdate{"u1", "", {{"tier", Value::String("gold")}}, t0 + absl::Minutes(1)}),
             IsOk());
  CHECK_THAT(feed(ProfileUpdate{"u2", "", {{"tier", Value::String("silver")}}, t0 + absl::Minutes(1)}),
             IsOk());
  // Another subject type: not the user u2, whose tier stays silver.
  CHECK_THAT(feed(ProfileUpdate{"u2", "device", {{"tier", Value::String("gold")}},
                                t0 + absl::Minutes(1)}),
             IsOk());
  CHECK_THAT(feed(event("u1", "signup", t0 + absl::Minutes(2))), IsOk());
  CHECK_THAT(feed(event("u1", "login", t0 + absl::Minutes(3))), IsOk());
  CHECK_THAT(feed(event("u2", "login", t0 + absl::Minutes(3))), IsOk());
  CHECK_THAT(feed(EnrollRequest{"repurchase", "u3", {{"coupon", Value::String("C10")}},
                                t0 + absl::Minutes(5)}),
             IsOk());
  CHECK_THAT(feed(EnrollRequest{"repurchase", "u4", {{"coupon", Value::String("C20")}},
                                t0 + absl::Minutes(5)}),
             IsOk());
  // Rejected inputs are rejected the same way.
  CHECK(feed(EnrollRequest{"nope", "u5", {}, t0 + absl::Minutes(5)}).code() ==
        absl::StatusCode::kNotFound);
  CHECK(feed(DeliveryReport{"0000000000000000", DeliveryOutcome::kDelivered, "", "u5",
                            t0 + absl::Minutes(5)})
            .code() == absl::StatusCode::kNotFound);

  const std::string u3_push = IdSentTo(direct.push, "u3");
  const std::string u4_push = IdSentTo(direct.push, "u4");
  CHECK(u3_push == IdSentTo(via_records.push, "u3"));
  CHECK_THAT(feed(DeliveryReport{u3_push, DeliveryOutcome::kDelivered, "", "u3",
                                 t0 + absl::Minutes(6)}),
             IsOk());
  CHECK_THAT(feed(DeliveryReport{u4_push, DeliveryOutcome::kFailed, "bounced", "u4",
                                 t0 + absl::Minutes(7)}),
             IsOk());
  CHECK_THAT(feed(ClockTick{t0 + absl::Minutes(40)}), IsOk());
  // The clock, not the event, moves time past max_input_lead.
  CHECK_THAT(feed(ClockTick{t0 + absl::Hours(2)}), IsOk());
  CHECK_THAT(feed(event("u3", "payment", t0 + absl::Hours(2))), IsOk());
  CHECK_THAT(feed(ClockTick{t0 + absl::Hours(48)}), IsOk());
  CHECK_THAT(feed(ProfileUpdate{"u1", "", {{"tier", Value()}}, t0 + absl::Hours(49)}), IsOk());
  CHECK_THAT(feed(event("u1", "login", t0 + absl::Hours(50))), IsOk());
  BehaviorSeed seed{"u2", "", "logins", Value::Int(12), {}, t0 + absl::Hours(50)};
  CHECK_THAT(feed(seed), IsOk());
  seed.behavior = "nope";
  CHECK(feed(seed).code() == absl::StatusCode::kNotFound);
  CHECK(*via_records.engine.BehaviorValue("", "u2", "logins") == Value::Int(12));
  CHECK(*via_records.engine.BehaviorValue("", "u1", "logins") == Value::Int(2));

  // The run did what the journeys say, so the comparison means something:
  // the gold subject got the VIP push (once: its tier was then removed),
  // both enrollees got a coupon push, the bounced one an SMS, the signup a
  // welcome email after the tick.
  CHECK(direct.push.sent.size() == 3);
  CHECK(direct.sms.sent.size() == 1);
  CHECK(direct.email.sent.size() == 1);
  CheckSameSends(direct.push, via_records.push);
  CheckSameSends(direct.sms, via_records.sms);
  CheckSameSends(direct.email, via_records.email);
  for (const char* journey : {"repurchase", "welcome", "vip"}) {
    INFO("journey " << journey);
    const absl::StatusOr<v1::JourneyReport> want = direct.engine.Report(journey);
    const absl::StatusOr<v1::JourneyReport> got = via_records.engine.Report(journey);
    REQUIRE_THAT(StatusOf(want), IsOk());
    REQUIRE_THAT(StatusOf(got), IsOk());
    CHECK(google::protobuf::util::MessageDifferencer::Equals(*want, *got));
    CHECK(want->SerializeAsString() == got->SerializeAsString());
  }
  const v1::JourneyReport repurchase = *direct.engine.Report("repurchase");
  const std::string text = repurchase.ShortDebugString();
  INFO(text);
  CHECK(absl::StrContains(text, "\"paid\""));
  CHECK(absl::StrContains(text, "\"no_payment\""));
  const EngineStats a = direct.engine.stats();
  const EngineStats b = via_records.engine.stats();
  CHECK(a.events_applied == b.events_applied);
  CHECK(a.events_ignored == b.events_ignored);
  CHECK(a.enrollments_applied == b.enrollments_applied);
  CHECK(a.enrollments_rejected == b.enrollments_rejected);
  CHECK(a.profile_updates_applied == b.profile_updates_applied);
  CHECK(a.delivery_reports_applied == b.delivery_reports_applied);
  CHECK(a.delivery_reports_rejected == b.delivery_reports_rejected);
  CHECK(a.timers_fired == b.timers_fired);
  CHECK(a.messages_sent == b.messages_sent);
  CHECK(a.delivery_reports_applied == 2);
  CHECK(a.enrollments_rejected == 1);
  CHECK(direct.engine.now() == via_records.engine.now());
}

TEST_CASE("Records: InputKindName InputTime and InputSubject") {
  CHECK(InputKindName(FullEvent()) == "event");
  CHECK(InputKindName(Profile()) == "profile");
  CHECK(InputKindName(Enroll()) == "enroll");
  CHECK(InputKindName(Failed()) == "delivery");
  CHECK(InputKindName(Tick()) == "tick");
  CHECK(InputKindName(Erasure()) == "forget");
  CHECK(InputKindName(Merge()) == "merge");
  CHECK(InputSubject(Merge()) == "u1");
  CHECK(InputSubject(DeviceErasure()) == "d-9");
  CHECK_FALSE(IsBroadcast(Erasure()));
  CHECK(InputTime(Failed()) == kT + absl::Seconds(30));
  CHECK(InputTime(Tick()) == kT + absl::Hours(1));
  CHECK(InputSubject(Failed()) == "u5");
  CHECK(InputSubject(Enroll()) == "u1");
  CHECK(InputSubject(Tick()).empty());
}

}  // namespace
}  // namespace cairn::kafka
