// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The simulator: the event-log
// format and its error reports, the generator's determinism and its loyalty
// scenario, simulated channel rates, a golden picture, the examples, and
// parity with a host driving an Engine or a ShardedEngine itself.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "json/json.h"
#include "json/event_lines.h"
#include "json/proto_json.h"
#include "sim/generator.h"
#include "sim/render.h"
#include "sim/simulator.h"
#include "stats/stats.h"
#include "testing/test_util.h"

namespace cairn::sim {
namespace {

using json::JsonValue;
using json::ParseJson;
using json::EventFromJson;
using json::FormatEventTime;
using json::ParseEventLine;
using json::ParseEventLineFast;
using json::ParseJsonObject;
using json::ParseProfileLine;
using json::ProfileLine;
using testing::IsOk;
using testing::StatusOf;
using testing::TextJourney;

TEST_CASE("Protos as JSON: counts as numbers and doubles that read back exactly") {
  v1::ArmReport arm;
  arm.set_variant("a\"b");
  arm.set_reached(int64_t{9007199254740993});  // 2^53 + 1: exact digits, no double.
  arm.set_rate(0.1);
  arm.set_rate_high(1e-7);
  std::string json = json::ProtoToJson(arm);
  CHECK(json ==
        "{\n  \"variant\": \"a\\\"b\",\n  \"control\": false,\n"
        "  \"reached\": 9007199254740993,\n  \"converted\": 0,\n  \"rate\": 0.1,\n"
        "  \"rate_low\": 0,\n  \"rate_high\": 1e-07\n}\n");
  // An unset proto3 optional is left out; a set one is written.
  arm.set_lift(-0.25);
  CHECK_THAT(json::ProtoToJson(arm), Catch::EndsWith("\"rate_high\": 1e-07,\n  \"lift\": -0.25\n}\n"));
  // Enums by name, repeated fields as arrays, unset messages left out.
  v1::Behavior b;
  b.set_name("opens");
  b.set_function(v1::Behavior::HOUR_OF_WEEK);
  json = json::ProtoToJson(b);
  CHECK_THAT(json, Catch::Contains("\"function\": \"HOUR_OF_WEEK\""));
  CHECK_THAT(json, !Catch::Contains("\"window\""));
  CHECK_THAT(json, !Catch::Contains("\"event\""));
  absl::StatusOr<JsonValue> parsed = ParseJson(json);
  REQUIRE_THAT(StatusOf(parsed), IsOk());
}

TEST_CASE("The JSON reader accepts RFC 8259 and locates errors") {
  absl::StatusOr<JsonValue> v = ParseJson(
      R"( {"s":"a\"b\\c\n\u00e9\ud83d\ude00","n":-1.5e2,"i":0,"t":true,"f":false,)"
      R"("z":null,"l":[1,"x",[]],"o":{}} )");
  REQUIRE_THAT(StatusOf(v), IsOk());
  REQUIRE(v->object.size() == 8);
  CHECK(v->object[0].second.string == "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(v->object[1].second.number == -150);
  CHECK(v->object[3].second.boolean);
  CHECK(v->object[5].second.type == JsonValue::Type::kNull);
  CHECK(v->object[6].second.array.size() == 3);
  auto error = [](const std::string& text) {
    absl::StatusOr<JsonValue> r = ParseJson(text);
    REQUIRE_FALSE(r.ok());
    return std::string(r.status().message());
  };
  CHECK(error(R"({"a":1,})") == "column 7: trailing comma");
  CHECK(error(R"({"a":[1, ]})") == "column 8: trailing comma");
  CHECK(error(R"({"a":1,,"b":2})") == "column 8: expected a key string");
  CHECK(error(R"({"a":1 "b":2})") == "column 8: expected ',' or '}'");
  CHECK(error(R"({"a":01})") == "column 6: leading zero");
  CHECK(error(R"({"a":"x)") == "column 8: unterminated string");
  CHECK(error(R"({"a":tru})") == "column 6: invalid literal");
  CHECK(error(R"({"a":1,"a":2})") == "column 8: duplicate key \"a\" (first at column 2)");
  CHECK(error(R"({"a":{"b":1,"c":{"b":2},"b":3}})") ==
        "column 25: duplicate key \"b\" (first at column 7)");
  CHECK(error(R"({"a":"\ud800"})") == "column 13: unpaired surrogate");
  CHECK(error("{} x") == "column 4: unexpected text after the value");
  CHECK(error(std::string(100, '[')) == "column 66: nested too deeply");
  CHECK(error("") == "column 1: unexpected end of input");
}

// Issue 15, defect 5: each key of an object was compared with every earlier
// one, so 80,000 keys took seconds. The cost is measured in
// bench/decode_bench.cc; here, that a large object still reads correctly and
// that a repeat deep inside it is still found and located exactly.
constexpr int kManyKeys = 80000;

// `"p0":0,"p1":1,...` with kManyKeys members, each after `separator`
// (none before the first).
std::string ManyMembers(absl::string_view separator) {
  std::string out;
  for (int i = 0; i < kManyKeys; ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",", separator, "\"p", i, "\":", i);
  }
  return out;
}

TEST_CASE("The JSON reader reads 80k keys and locates a repeat among them") {
  SECTION("one line") {
    const std::string text = absl::StrCat("{", ManyMembers(""), "}");
    absl::StatusOr<JsonValue> v = ParseJson(text);
    REQUIRE_THAT(StatusOf(v), IsOk());
    REQUIRE(v->object.size() == kManyKeys);
    CHECK(v->object[kManyKeys - 1].first == absl::StrCat("p", kManyKeys - 1));
    CHECK(v->object[kManyKeys - 1].second.number == kManyKeys - 1);

    const std::string repeated = absl::StrCat("{", ManyMembers(""), ",\"p40000\":0}");
    const size_t first = repeated.find("\"p40000\"");
    const size_t again = repeated.rfind("\"p40000\"");
    absl::StatusOr<JsonValue> r = ParseJson(repeated);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == absl::StrCat("column ", again + 1,
                                               ": duplicate key \"p40000\" (first at column ",
                                               first + 1, ")"));
  }
  SECTION("one key a line") {
    // Key i is on line i + 2; the repeat of key 40,000 on line 80,002.
    const std::string text = absl::StrCat("{", ManyMembers("\n"), ",\n\"p40000\":0\n}");
    json::JsonReadOptions options;
    options.lines = true;
    absl::StatusOr<JsonValue> r = ParseJson(text, options);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "80002:1: duplicate key \"p40000\" (first at 40002:1)");
  }
  SECTION("a repeat among the first keys, before the reader indexes them") {
    absl::StatusOr<JsonValue> r = ParseJson(R"({"a":1,"b":2,"c":3,"b":4})");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "column 20: duplicate key \"b\" (first at column 8)");
  }
  SECTION("a repeat of a key read before the reader indexed them") {
    std::string text = "{";
    for (int i = 0; i < 20; ++i) absl::StrAppend(&text, "\"p", i, "\":", i, ",");
    absl::StrAppend(&text, "\"p3\":0}");
    absl::StatusOr<JsonValue> r = ParseJson(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == absl::StrCat("column ", text.rfind("\"p3\"") + 1,
                                               ": duplicate key \"p3\" (first at column ",
                                               text.find("\"p3\"") + 1, ")"));
  }
}

TEST_CASE("Event and profile lines with 80k properties parse and a repeat is located") {
  const std::string head = R"({"subject":"u1","name":"e","time":"2026-01-05T10:00:00Z",)";
  const std::string line = absl::StrCat(head, R"("properties":{)", ManyMembers(""), "}}");
  absl::StatusOr<Event> e = ParseEventLine(line);
  REQUIRE_THAT(StatusOf(e), IsOk());
  REQUIRE(e->properties.size() == kManyKeys);
  CHECK(std::is_sorted(e->properties.begin(), e->properties.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; }));
  CHECK(*FindAttribute(e->properties, "p79999") == Value::Int(79999));

  // The one-pass reader gives up on the repeat; the tree-based path locates it.
  const std::string repeated =
      absl::StrCat(head, R"("properties":{)", ManyMembers(""), R"(,"p40000":0}})");
  const size_t first = repeated.find("\"p40000\"");
  const size_t again = repeated.rfind("\"p40000\"");
  absl::StatusOr<Event> bad = ParseEventLine(repeated);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        absl::StrCat("not a JSON object: column ", again + 1,
                     ": duplicate key \"p40000\" (first at column ", first + 1, ")"));

  absl::StatusOr<ProfileLine> p = ParseProfileLine(
      absl::StrCat(R"({"subject":"u1","attributes":{)", ManyMembers(""), "}}"));
  REQUIRE_THAT(StatusOf(p), IsOk());
  REQUIRE(p->attributes.size() == kManyKeys);
  CHECK(*FindAttribute(p->attributes, "p12345") == Value::Int(12345));
}

TEST_CASE("Event lines parse into events") {
  absl::StatusOr<Event> e = ParseEventLine(
      R"({"id":"e1","subject":"u1","name":"add_to_cart","time":"2026-01-05T10:00:00Z",)"
      R"("properties":{"sku":"A-1","price":9.5,"qty":2,"gift":true,"tags":["a","b"]}})");
  REQUIRE_THAT(StatusOf(e), IsOk());
  CHECK(e->id == "e1");
  CHECK(e->subject_id == "u1");
  CHECK(e->name == "add_to_cart");
  CHECK(e->time == absl::FromUnixSeconds(1767607200));
  CHECK(*FindAttribute(e->properties, "qty") == Value::Int(2));
  CHECK(*FindAttribute(e->properties, "price") == Value::Double(9.5));
  CHECK(*FindAttribute(e->properties, "gift") == Value::Bool(true));
  CHECK(*FindAttribute(e->properties, "tags") == Value::StringList({"a", "b"}));
}

TEST_CASE("Malformed event lines say what is wrong") {
  auto error = [](const std::string& line) {
    absl::StatusOr<Event> e = ParseEventLine(line);
    REQUIRE_FALSE(e.ok());
    return std::string(e.status().message());
  };
  CHECK_THAT(error("{\"subject\": "), Catch::StartsWith("not a JSON object"));
  CHECK(error(R"({"name":"x","time":"2026-01-05T10:00:00Z"})") == "missing \"subject\"");
  CHECK(error(R"({"subject":"","name":"x","time":"2026-01-05T10:00:00Z"})") ==
        "\"subject\" is empty");
  CHECK_THAT(error(R"({"subject":"u","name":"x","time":"yesterday"})"),
             Catch::StartsWith("\"time\" \"yesterday\" is not an RFC 3339 time"));
  CHECK(error(R"({"subject":"u","name":"x","time":"2026-01-05T10:00:00Z","colour":"red"})") ==
        "unknown field \"colour\"");
  CHECK(error(R"({"subject":7,"name":"x","time":"2026-01-05T10:00:00Z"})") ==
        "\"subject\" must be a string");
  CHECK(error(R"({"subject":"u","name":"x","time":"2026-01-05T10:00:00Z","properties":{"a":{"b":1}}})") ==
        "property \"a\": nested objects are not supported");
}

// ---- The one-pass event reader against the tree-based path ----

// What the tree-based path (the generic JSON reader, then EventFromJson)
// makes of a line: the reference ParseEventLine must match.
absl::StatusOr<Event> TreeParse(absl::string_view line) {
  absl::StatusOr<JsonValue> object = ParseJsonObject(line);
  if (!object.ok()) return object.status();
  return EventFromJson(*object);
}

// Every field, and the kind of each property value as well as its value.
bool SameEvent(const Event& a, const Event& b) {
  if (a.id != b.id || a.subject_id != b.subject_id || a.subject_type != b.subject_type ||
      a.name != b.name || a.time != b.time || a.properties.size() != b.properties.size()) {
    return false;
  }
  for (size_t i = 0; i < a.properties.size(); ++i) {
    const Value& x = a.properties[i].second;
    const Value& y = b.properties[i].second;
    if (a.properties[i].first != b.properties[i].first || x != y ||
        x.DebugString() != y.DebugString()) {
      return false;
    }
  }
  return true;
}

// ParseEventLine and the one-pass reader alone agree with the tree-based
// path on `line`. Returns whether the one-pass reader took the line.
bool ExpectSameAsTree(const std::string& line) {
  INFO("line: " << line);
  const absl::StatusOr<Event> tree = TreeParse(line);
  const absl::StatusOr<Event> parsed = ParseEventLine(line);
  REQUIRE(parsed.ok() == tree.ok());
  if (tree.ok()) {
    CHECK(SameEvent(*parsed, *tree));
  } else {
    CHECK(parsed.status() == tree.status());
  }
  Event fast;
  const bool took = ParseEventLineFast(line, &fast);
  // Never a line the tree-based path refuses, never a different event.
  if (took) {
    REQUIRE(tree.ok());
    CHECK(SameEvent(fast, *tree));
  }
  return took;
}

// A raw NUL byte inside a string.
constexpr char kNulInSubject[] =
    "{\"subject\":\"a\0b\",\"name\":\"x\",\"time\":\"2026-01-05T10:00:00Z\"}";

std::string EventWithTime(absl::string_view time) {
  return absl::StrCat(R"({"subject":"u","name":"n","time":")", time, R"("})");
}

std::string EventWithProperty(absl::string_view value) {
  return absl::StrCat(R"({"subject":"u","name":"n","time":"2026-01-05T10:00:00Z",)",
                      R"("properties":{"p":)", value, "}}");
}

TEST_CASE("The one-pass event reader takes ordinary lines") {
  const std::string lines[] = {
      R"({"id":"e1","subject":"u1","subject_type":"user","name":"add_to_cart",)"
      R"("time":"2026-01-05T10:00:00Z","properties":{"sku":"A-1","price":9.9}})",
      " \t{ \"subject\" : \"u\" ,\r\n\"name\":\"n\" , \"time\" : \"2026-01-05T10:00:00Z\" } \n",
      R"({"time":"2026-01-05T10:00:00.25Z","name":"n","subject":"u","properties":{}})",
      R"({"subject":"u\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\u0000","name":"n",)"
      R"("time":"2026-01-05T10:00:00Z","properties":{"k\u00e9y":["a","\u0041"],"z":null,)"
      R"("b":true,"a":false,"n":-12,"d":1.5e3,"big":12345678901234567}})",
      EventWithTime("2026-01-05T10:00:00+01:00"),  // absl::ParseTime reads it.
      EventWithTime("2016-12-31T23:59:60Z"),
  };
  for (const std::string& line : lines) CHECK(ExpectSameAsTree(line));
  // A top-level key with an escape is left to the tree-based path, which
  // accepts it.
  CHECK_FALSE(ExpectSameAsTree(
      R"({"subject":"u","na\u006de":"n","time":"2026-01-05T10:00:00Z"})"));
  CHECK(ParseEventLine(R"({"subject":"u","na\u006de":"n","time":"2026-01-05T10:00:00Z"})")->name ==
        "n");
}

TEST_CASE("The one-pass event reader agrees with the tree-based path on tricky lines") {
  const std::string valid_base =
      R"({"id":"e1","subject":"u1","name":"add_to_cart","time":"2026-01-05T10:00:00Z",)"
      R"("properties":{"sku":"A-1","price":9.9,"qty":2,"tags":["a","b"],"gift":true}})";
  std::vector<std::string> lines = {
      valid_base,
      // Not objects, truncated, trailing text.
      "", " ", "\t\r\n", "[]", "null", "\"x\"", "{", "}", "{}", "{\"subject\"",
      valid_base + " x", valid_base + "}", valid_base + ",", valid_base + " \r\n",
      // Missing, empty and mistyped fields.
      R"({"name":"x","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"u","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"u","name":"x"})",
      R"({"subject":"","name":"x","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"u","name":"","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"u","name":"x","time":""})",
      R"({"subject":"u","name":"x","time":"2026-01-05T10:00:00Z","id":"","subject_type":""})",
      R"({"subject":7,"name":"x","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"u","name":true,"time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"u","name":"x","time":5})",
      R"({"subject":"u","name":"x","time":"2026-01-05T10:00:00Z","id":null})",
      R"({"subject":"u","name":"x","time":"2026-01-05T10:00:00Z","subject_type":["a"]})",
      R"({"subject":"u","name":"x","time":"2026-01-05T10:00:00Z","properties":[]})",
      R"({"subject":"u","name":"x","time":"2026-01-05T10:00:00Z","properties":"p"})",
      R"({"subject":"u","name":"x","time":"2026-01-05T10:00:00Z","properties":null})",
      // Unknown and duplicate keys; a syntax error after a field error.
      R"({"subject":"u","name":"x","time":"2026-01-05T10:00:00Z","colour":"red"})",
      R"({"colour":"red","subject":7})",
      R"({"subject":"u","subject":"v","name":"x","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"u","sub\u006aect":"v","name":"x","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":7,"name":"x","time":"2026-01-05T10:00:00Z","x":1,})",
      EventWithProperty(R"(1,"p":2)"),
      EventWithProperty(R"(1,"\u0070":2)"),
      EventWithProperty(R"(1,"b":1,"a":2,"b":3)"),
      EventWithProperty(R"(1,"":1,"a":{"b":1})"),
      // Strings: escapes, \u sequences, surrogates, control characters, raw bytes.
      R"({"subject":"\u00e9\u4e2d\ud83d\ude00\uD83D\uDE00","name":"\/\b\f",)"
      R"("time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"\ud800","name":"x","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"\udc00","name":"x","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"\ud800\u0041","name":"x","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"\ud800\","name":"x","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"\ud800","name":"x","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"\u12","name":"x","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"\uzzzz","name":"x","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"\x","name":"x","time":"2026-01-05T10:00:00Z"})",
      R"({"subject":"u\)",
      "{\"subject\":\"a\tb\",\"name\":\"x\",\"time\":\"2026-01-05T10:00:00Z\"}",
      "{\"subject\":\"a\x01\",\"name\":\"x\",\"time\":\"2026-01-05T10:00:00Z\"}",
      "{\"subject\":\"\xff\xfe\xc3\",\"name\":\"x\",\"time\":\"2026-01-05T10:00:00Z\"}",
      std::string(kNulInSubject, sizeof(kNulInSubject) - 1),
      R"({"subject":"u","name":"x","time":"2026-01-05T10:00:00\u005a"})",
      EventWithProperty(R"("\u00e9\n\"")"),
      EventWithProperty(R"(["\ud83d\ude00","",  "\t"])"),
      // Numbers.
      EventWithProperty("0"), EventWithProperty("-0"), EventWithProperty("-0.0"),
      EventWithProperty("1"), EventWithProperty("-1"), EventWithProperty("123456789012345"),
      EventWithProperty("-123456789012345"), EventWithProperty("1234567890123456"),
      EventWithProperty("9007199254740991"), EventWithProperty("9007199254740992"),
      EventWithProperty("-9007199254740993"), EventWithProperty("12345678901234567890123"),
      EventWithProperty("1e3"), EventWithProperty("1E+3"), EventWithProperty("-1.5e-3"),
      EventWithProperty("1.0"), EventWithProperty("0.1"), EventWithProperty("2.5E2"),
      EventWithProperty("1e400"), EventWithProperty("-1e400"), EventWithProperty("1e-400"),
      EventWithProperty("4.9e-324"), EventWithProperty("1.7976931348623157e308"),
      EventWithProperty("01"), EventWithProperty("-01"), EventWithProperty("00"),
      EventWithProperty("-"), EventWithProperty("1."), EventWithProperty(".5"),
      EventWithProperty("+1"), EventWithProperty("1e"), EventWithProperty("1e+"),
      EventWithProperty("0x10"), EventWithProperty("1.5.5"), EventWithProperty("1-2"),
      EventWithProperty("0123456789012345678"), EventWithProperty("NaN"),
      EventWithProperty("Infinity"),
      // Literals and lists.
      EventWithProperty("true"), EventWithProperty("false"), EventWithProperty("null"),
      EventWithProperty("tru"), EventWithProperty("nul"), EventWithProperty("falsey"),
      EventWithProperty("True"), EventWithProperty("[]"), EventWithProperty("[ ]"),
      EventWithProperty(R"([ "a" , "b" ])"), EventWithProperty("[1]"),
      EventWithProperty(R"(["a",1])"), EventWithProperty(R"([["a"]])"),
      EventWithProperty("[null]"), EventWithProperty(R"(["a",])"), EventWithProperty("["),
      EventWithProperty(R"(["a")"), EventWithProperty("{}"), EventWithProperty(R"({"b":1})"),
      EventWithProperty(std::string(100, '[')), EventWithProperty(std::string(60, '[')),
      EventWithProperty(""),
  };
  // Times: the common form, fractions, offsets, leap years and seconds,
  // out-of-range fields and near misses of the form.
  for (const char* time :
       {"2026-01-05T10:00:00Z", "2026-01-05T10:00:00.5Z", "2026-01-05T10:00:00.123456789Z",
        "2026-01-05T10:00:00.1234567891Z", "2026-01-05T10:00:00.000000000000000001Z",
        "2026-01-05T10:00:00.Z", "2026-01-05T10:00:00,5Z", "2026-01-05t10:00:00z",
        "2026-01-05T10:00:00+01:00", "2026-01-05T10:00:00-00:30", "2026-01-05T10:00:00",
        "2026-01-05 10:00:00Z", " 2026-01-05T10:00:00Z", "2026-01-05T10:00:00Z ",
        "2026-01-05T10:00:00ZZ", "2026-1-05T10:00:00Z", "2026-01-05T1:00:00Z",
        "26-01-05T10:00:00Z", "+2026-01-05T10:00:00Z", "-2026-01-05T10:00:00Z",
        "12026-01-05T10:00:00Z", "2016-12-31T23:59:60Z", "2026-01-05T24:00:00Z",
        "2026-01-05T23:60:00Z", "2026-00-05T10:00:00Z", "2026-13-05T10:00:00Z",
        "2026-01-00T10:00:00Z", "2026-01-32T10:00:00Z", "2024-02-29T00:00:00Z",
        "2023-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00Z",
        "1969-12-31T23:59:59.5Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z", "2026-01-05T10:00:00.5+05:45", "yesterday", "Z"}) {
    lines.push_back(EventWithTime(time));
  }
  for (const std::string& line : lines) ExpectSameAsTree(line);

  // Every prefix of a full line, and every single-byte change to it from a
  // set of characters that matter to JSON.
  const std::string full =
      R"( {"id":"e\u00e91","subject":"u1","subject_type":"user","name":"a\"b",)"
      R"("time":"2026-01-05T10:00:00.5Z","properties":{"s":"A-1","d":-9.5e1,"i":20,)"
      R"("t":true,"f":false,"z":null,"l":["a","b\n"],"e":[]}} )";
  CHECK(ExpectSameAsTree(full));
  for (size_t n = 0; n < full.size(); ++n) ExpectSameAsTree(full.substr(0, n));
  for (size_t i = 0; i < full.size(); ++i) {
    for (char c : {'"', '\\', '{', '}', '[', ']', ',', ':', ' ', '0', '-', 'e', '.', 'u', 'Z',
                   'x', '\x01', '\0'}) {
      std::string mutated = full;
      mutated[i] = c;
      ExpectSameAsTree(mutated);
    }
  }
}

TEST_CASE("The one-pass reader reads every second of 1969 to 2030 as absl::ParseTime does") {
  // One time a little over every 11 days (so every month and day of month
  // turns up), with 0 to 9 fraction digits, plus every day's last second.
  const absl::Time end = absl::FromCivil(absl::CivilSecond(2030, 1, 1), absl::UTCTimeZone());
  int taken = 0;
  int i = 0;
  for (absl::Time t = absl::FromCivil(absl::CivilSecond(1969, 1, 1), absl::UTCTimeZone());
       t < end; t += absl::Hours(24 * 11 + 7) + absl::Seconds(13) + absl::Nanoseconds(123457),
                 ++i) {
    const std::string fraction =
        absl::FormatTime(absl::StrCat("%Y-%m-%dT%H:%M:%E", i % 10, "SZ"), t, absl::UTCTimeZone());
    taken += ExpectSameAsTree(EventWithTime(fraction));
    const std::string day_end = absl::FormatTime("%Y-%m-%dT23:59:59Z", t, absl::UTCTimeZone());
    taken += ExpectSameAsTree(EventWithTime(day_end));
  }
  CHECK(taken == 2 * i);
}

TEST_CASE("The one-pass reader takes every generated line") {
  for (Scenario scenario : {Scenario::kEcommerce, Scenario::kGame, Scenario::kLoyalty}) {
    std::ostringstream out;
    GeneratorOptions o;
    o.scenario = scenario;
    o.subjects = 200;
    o.days = 3;
    o.seed = 7;
    REQUIRE_THAT(StatusOf(GenerateEvents(o, out)), IsOk());
    std::istringstream lines(out.str());
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) {
      REQUIRE(ExpectSameAsTree(line));
      ++count;
    }
    CHECK(count > 100);
  }
}

constexpr char kJourney[] = R"pb(
  id: "welcome" version: 1 settings { state: ACTIVE split_seed: 5 }
  nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "ab" } }
  nodes { id: "ab" split { variants { name: "control" weight: 1 control: true next: "goal" }
                           variants { name: "mail" weight: 1 next: "mail" } } }
  nodes { id: "mail" action { channel: "email" template_id: "hi"
          await_delivery { timeout { seconds: 3600 } } next: "goal" on_failure: "sms" } }
  nodes { id: "sms" action { channel: "sms" template_id: "hi" next: "goal" } }
  nodes { id: "goal" goal { conversion { event: "buy" } window { seconds: 86400 }
          on_converted: "" on_expired: "" } }
)pb";

TEST_CASE("Bad lines are reported with file:line and skipped, or fatal with --strict") {
  const v1::Journey j = TextJourney(kJourney);
  const std::string log =
      "{\"subject\":\"u1\",\"name\":\"signup\",\"time\":\"2026-01-05T10:00:00Z\"}\n"
      "not json\n"
      "\n"
      "{\"name\":\"signup\",\"time\":\"2026-01-05T10:00:00Z\"}\n"
      "{\"subject\":\"u2\",\"name\":\"signup\",\"time\":\"2026-01-05T10:01:00Z\"}\n";
  std::istringstream in(log);
  SimOptions options;
  absl::StatusOr<SimResult> r = Simulate(j, in, "events.jsonl", nullptr, "", options);
  REQUIRE_THAT(StatusOf(r), IsOk());
  CHECK(r->event_lines == 4);
  CHECK(r->bad_event_lines == 2);
  REQUIRE(r->errors.size() == 2);
  CHECK_THAT(r->errors[0], Catch::StartsWith("events.jsonl:2: not a JSON object"));
  CHECK(r->errors[1] == "events.jsonl:4: missing \"subject\"");
  CHECK(r->report.versions(0).entered() == 2);

  std::istringstream again(log);
  options.strict = true;
  absl::StatusOr<SimResult> strict = Simulate(j, again, "events.jsonl", nullptr, "", options);
  REQUIRE_FALSE(strict.ok());
  CHECK_THAT(std::string(strict.status().message()), Catch::StartsWith("events.jsonl:2: "));
}

TEST_CASE("Event logs: an erasure line forgets the subject at its time") {
  const v1::Journey j = TextJourney(kJourney);
  const std::string log =
      "{\"subject\":\"u1\",\"name\":\"signup\",\"time\":\"2026-01-05T10:00:00Z\"}\n"
      "{\"subject\":\"u2\",\"name\":\"signup\",\"time\":\"2026-01-05T10:00:00Z\"}\n"
      "{\"subject\":\"u1\",\"time\":\"2026-01-05T10:30:00Z\",\"forget\":true}\n"
      "{\"subject\":\"u9\",\"time\":\"2026-01-05T10:31:00Z\",\"forget\":true}\n"
      "{\"subject\":\"u1\",\"time\":\"2026-01-05T10:32:00Z\",\"forget\":false}\n"
      "{\"subject\":\"u1\",\"name\":\"x\",\"time\":\"2026-01-05T10:32:00Z\",\"forget\":true}\n";
  std::istringstream in(log);
  absl::StatusOr<SimResult> r = Simulate(j, in, "events.jsonl", nullptr, "", SimOptions());
  REQUIRE_THAT(StatusOf(r), IsOk());
  CHECK(r->erasures == 2);
  CHECK(r->engine.erasures_applied == 1);
  CHECK(r->engine.erasures_rejected == 1);  // u9 was never seen
  REQUIRE(r->errors.size() == 2);
  CHECK(r->errors[0] == "events.jsonl:5: \"forget\" must be true (an erasure line)");
  CHECK(r->errors[1] == "events.jsonl:6: unknown field \"name\"");
  const v1::VersionReport& v = r->report.versions(0);
  CHECK(v.entered() == 2);
  int64_t erased = 0;
  for (const v1::ReasonCount& c : v.exits()) {
    if (c.reason() == "erased") erased = c.count();
  }
  CHECK(erased == 1);
  CHECK(RenderText(j, *r).find(", 2 erasures)") != std::string::npos);
}

TEST_CASE("Channel models parse and refuse nonsense") {
  auto m = ParseChannelModel("push:fail=0.1,delay=5m,timeout=0.02");
  REQUIRE_THAT(StatusOf(m), IsOk());
  CHECK(m->first == "push");
  CHECK(m->second.fail == 0.1);
  CHECK(m->second.delay == absl::Minutes(5));
  CHECK(m->second.timeout == 0.02);
  CHECK(ParseChannelModel("sms")->second.fail == 0);
  CHECK_FALSE(ParseChannelModel("push:fail=2").ok());
  CHECK_FALSE(ParseChannelModel("push:delay=soon").ok());
  CHECK_FALSE(ParseChannelModel("push:colour=red").ok());
  CHECK_FALSE(ParseChannelModel(":fail=0.1").ok());
}

TEST_CASE("Simulated channel rates hit their targets on 100k messages") {
  const v1::Journey j = TextJourney(R"pb(
    id: "blast" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "go" } } next: "push" } }
    nodes { id: "push" action { channel: "push" template_id: "x"
            await_delivery { timeout { seconds: 600 } } next: "" } })pb");
  std::string log;
  const absl::Time t0 = absl::FromUnixSeconds(1767607200);
  for (int i = 0; i < 100000; ++i) {
    absl::StrAppend(&log, "{\"subject\":\"u", i, "\",\"name\":\"go\",\"time\":\"",
                    FormatEventTime(t0 + absl::Milliseconds(i * 10)), "\"}\n");
  }
  std::istringstream in(log);
  SimOptions options;
  options.seed = 9;
  options.channels["push"] = ChannelModel{0.1, absl::Minutes(5), 0.02};
  absl::StatusOr<SimResult> r = Simulate(j, in, "log", nullptr, "", options);
  REQUIRE_THAT(StatusOf(r), IsOk());
  const ChannelStats& push = r->channels.at("push");
  CHECK(push.sends == 100000);
  CHECK(push.refused / 100000.0 == Approx(0.1).margin(0.005));
  CHECK(push.lost / double(push.sends - push.refused) == Approx(0.02).margin(0.003));
  CHECK(push.delivered == push.sends - push.refused - push.lost);
  const v1::ActionReport& a = r->report.versions(0).actions(0);
  CHECK(a.delivered() == push.delivered);
  REQUIRE(a.undelivered_size() == 1);
  CHECK(a.undelivered(0).reason() == "delivery_timeout");
  CHECK(a.undelivered(0).count() == push.lost);
}

TEST_CASE("Effects parse and refuse nonsense") {
  absl::StatusOr<Effect> e = ParseEffect("push:paid=+2.5pp");
  REQUIRE_THAT(StatusOf(e), IsOk());
  CHECK(e->arm == "push");
  CHECK(e->goal == "paid");
  CHECK(e->points == Approx(0.025));
  CHECK(e->relative == 0);
  e = ParseEffect("off30:ordered_3d=20%");
  REQUIRE_THAT(StatusOf(e), IsOk());
  CHECK(e->relative == Approx(0.2));
  CHECK(e->points == 0);
  for (const char* bad : {"push=+2pp", ":paid=+2pp", "push:=+2pp", "push:paid", "push:paid=2",
                          "push:paid=+2", "push:paid=-1pp", "push:paid=0%", "push:paid=100pp",
                          "push:paid=nanpp", "push:paid=+twopp"}) {
    INFO(bad);
    CHECK(ParseEffect(bad).status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK_THAT(std::string(ParseEffect("push:paid=-1pp").status().message()),
             Catch::Contains("an effect raises a rate"));
}

TEST_CASE("Normal quantiles and the sample a test needs against hand-computed values") {
  CHECK(internal::NormalQuantile(0.975) == Approx(1.9599639845400536).margin(1e-9));
  CHECK(internal::NormalQuantile(0.8) == Approx(0.8416212335729144).margin(1e-9));
  CHECK(internal::NormalQuantile(0.5) == Approx(0).margin(1e-12));
  CHECK(internal::NormalQuantile(0.01) == Approx(-2.3263478740408408).margin(1e-9));
  CHECK(internal::NormalQuantile(1e-10) == Approx(-6.361340902404056).margin(1e-8));
  CHECK(std::isnan(internal::NormalQuantile(0)));
  CHECK(std::isnan(internal::NormalQuantile(1)));
  // 10% against 12%: (1.96 sqrt(2 * 0.11 * 0.89) + 0.8416 sqrt(0.09 + 0.1056))^2 / 0.02^2
  // = 3840.85, rounded up.
  CHECK(SamplePerArm(0.10, 0.02) == 3841);
  CHECK(SamplePerArm(0.10, 0) == 0);
  CHECK(SamplePerArm(0.95, 0.1) == 0);  // A rate past 1.
}

// Visitors enter, a split sends half a coupon (arm "coupon", the other
// "control"), and a goal node waits a day for a purchase. In the log, every
// tenth visitor buys an hour after the visit, whatever its arm.
constexpr char kEffectJourney[] = R"pb(
  id: "visits" version: 1 settings { state: ACTIVE split_seed: 5 }
  nodes { id: "visit" trigger { event { matcher { event: "visit" } } next: "ab" } }
  nodes { id: "ab" split { variants { name: "control" weight: 1 control: true next: "bought" }
                           variants { name: "coupon" weight: 1 next: "bought" } } }
  nodes { id: "bought" goal { conversion { event: "buy" } window { seconds: 86400 } } })pb";

// The log: a visit every half second, and every tenth visitor buying an
// hour later (among the visits of then), in time order.
std::string EffectLogWithPurchases(int subjects) {
  struct Line {
    absl::Time at;
    std::string text;
  };
  std::vector<Line> lines;
  const absl::Time t0 = absl::FromUnixSeconds(1767607200);
  for (int i = 0; i < subjects; ++i) {
    const absl::Time at = t0 + absl::Milliseconds(i * 500);
    lines.push_back({at, absl::StrCat("{\"subject\":\"v", i, "\",\"name\":\"visit\",\"time\":\"",
                                      FormatEventTime(at), "\"}\n")});
    if (i % 10 == 0) {
      lines.push_back({at + absl::Hours(1),
                       absl::StrCat("{\"subject\":\"v", i, "\",\"name\":\"buy\",\"time\":\"",
                                    FormatEventTime(at + absl::Hours(1)), "\"}\n")});
    }
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const Line& a, const Line& b) { return a.at < b.at; });
  std::string log;
  for (const Line& l : lines) log += l.text;
  return log;
}

absl::StatusOr<SimResult> SimulateEffect(const std::string& log, std::vector<Effect> effects,
                                         uint64_t seed = 1) {
  std::istringstream in(log);
  SimOptions options;
  options.seed = seed;
  options.effects = std::move(effects);
  return Simulate(TextJourney(kEffectJourney), in, "log", nullptr, "", options);
}

// The rates of the goal's experiment: control first, then coupon.
std::pair<double, double> Rates(const SimResult& r) {
  const v1::ExperimentReport& e = r.report.versions(0).experiments(0);
  return {e.arms(0).rate(), e.arms(1).rate()};
}

TEST_CASE("An effect hits its target rate on 100k subjects and leaves the other arm alone") {
  const std::string log = EffectLogWithPurchases(100000);
  absl::StatusOr<SimResult> none = SimulateEffect(log, {});
  REQUIRE_THAT(StatusOf(none), IsOk());
  const auto [control_rate, coupon_rate] = Rates(*none);
  CHECK(control_rate == Approx(0.1).margin(0.003));
  CHECK(coupon_rate == Approx(0.1).margin(0.003));
  CHECK(none->effects.empty());

  // +2.5 percentage points: the coupon arm converts at its own log rate
  // plus 2.5 points, within three standard errors (0.2 points at 50k).
  absl::StatusOr<SimResult> points = SimulateEffect(log, {*ParseEffect("coupon:bought=+2.5pp")});
  REQUIRE_THAT(StatusOf(points), IsOk());
  REQUIRE(points->effects.size() == 1);
  const EffectResult& e = points->effects[0];
  CHECK(e.windows == points->report.versions(0).experiments(0).arms(1).reached());
  const double log_rate = static_cast<double>(e.converted_by_log) / e.windows;
  CHECK(log_rate == Approx(coupon_rate).margin(1e-12));
  CHECK(Rates(*points).second - log_rate == Approx(0.025).margin(0.002));
  CHECK(Rates(*points).first == control_rate);  // The control is the log's.
  CHECK(points->report.versions(0).experiments(0).significant());
  CHECK(e.sample_per_arm == SamplePerArm(log_rate, 0.025));

  // +20% of the rate: 10% becomes 12%.
  absl::StatusOr<SimResult> relative = SimulateEffect(log, {*ParseEffect("coupon:bought=+20%")});
  REQUIRE_THAT(StatusOf(relative), IsOk());
  CHECK(Rates(*relative).second == Approx(log_rate * 1.2).margin(0.002));

  // The same seed converts the same subjects; another seed others.
  absl::StatusOr<SimResult> again = SimulateEffect(log, {*ParseEffect("coupon:bought=+2.5pp")});
  REQUIRE_THAT(StatusOf(again), IsOk());
  CHECK(again->report.SerializeAsString() == points->report.SerializeAsString());
  absl::StatusOr<SimResult> other =
      SimulateEffect(log, {*ParseEffect("coupon:bought=+2.5pp")}, /*seed=*/2);
  REQUIRE_THAT(StatusOf(other), IsOk());
  CHECK(other->effects[0].converted_by_effect != e.converted_by_effect);
}

TEST_CASE("An effect on an arm or goal the journey lacks or on a conditional goal is refused") {
  const std::string log = EffectLogWithPurchases(10);
  absl::Status s = SimulateEffect(log, {*ParseEffect("cupon:bought=+2pp")}).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(s.message()),
             Catch::Contains("no split of journey visits has an arm \"cupon\" (its arms: "
                             "control, coupon)"));
  s = SimulateEffect(log, {*ParseEffect("coupon:paid=+2pp")}).status();
  CHECK_THAT(std::string(s.message()),
             Catch::Contains("journey visits has no goal \"paid\" (its goals: bought)"));
  std::istringstream in(log);
  SimOptions options;
  options.effects = {*ParseEffect("coupon:bought=+2pp")};
  v1::Journey conditional = TextJourney(kEffectJourney);
  conditional.mutable_nodes(2)->mutable_goal()->mutable_conversion()->mutable_where()
      ->mutable_compare()->set_path("event.amount");
  conditional.mutable_nodes(2)->mutable_goal()->mutable_conversion()->mutable_where()
      ->mutable_compare()->set_op(v1::EXISTS);
  s = Simulate(conditional, in, "log", nullptr, "", options).status();
  CHECK_THAT(std::string(s.message()), Catch::Contains("a condition"));
}

TEST_CASE("The generator is deterministic for a seed and ordered in time") {
  auto generate = [](Scenario scenario, uint64_t seed) {
    std::ostringstream out;
    GeneratorOptions o;
    o.scenario = scenario;
    o.subjects = 300;
    o.days = 5;
    o.seed = seed;
    absl::StatusOr<int64_t> n = GenerateEvents(o, out);
    REQUIRE_THAT(StatusOf(n), IsOk());
    CHECK(*n > 100);
    return out.str();
  };
  for (Scenario s : {Scenario::kEcommerce, Scenario::kGame, Scenario::kLoyalty}) {
    const std::string a = generate(s, 1);
    CHECK(a == generate(s, 1));
    CHECK(a != generate(s, 2));
    // Every line parses and time never goes backwards.
    std::istringstream lines(a);
    std::string line;
    absl::Time last = absl::InfinitePast();
    int count = 0;
    while (std::getline(lines, line)) {
      absl::StatusOr<Event> e = ParseEventLine(line);
      REQUIRE_THAT(StatusOf(e), IsOk());
      CHECK(e->time >= last);
      last = e->time;
      ++count;
    }
    CHECK(count > 100);
  }
  std::ostringstream out;
  GeneratorOptions bad;
  bad.subjects = 0;
  CHECK_FALSE(GenerateEvents(bad, out).ok());
  CHECK(ParseScenario("loyalty").value() == Scenario::kLoyalty);
  CHECK(ParseScenario("bank").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A/B analysis and the text report") {
  const v1::Journey j = TextJourney(kJourney);
  std::string log;
  const absl::Time t0 = absl::FromUnixSeconds(1767607200);
  for (int i = 0; i < 2000; ++i) {
    const std::string u = absl::StrCat("u", i);
    absl::StrAppend(&log, "{\"subject\":\"", u, "\",\"name\":\"signup\",\"time\":\"",
                    FormatEventTime(t0 + absl::Seconds(i)), "\"}\n");
  }
  // The mail arm buys twice as often as control.
  for (int i = 0; i < 2000; ++i) {
    const std::string u = absl::StrCat("u", i);
    const bool mail = AssignVariant(5, "welcome", "ab", "user", u, {1, 1}) == 1;
    if (i % (mail ? 5 : 10) != 0) continue;
    absl::StrAppend(&log, "{\"subject\":\"", u, "\",\"name\":\"buy\",\"time\":\"",
                    FormatEventTime(t0 + absl::Hours(2) + absl::Seconds(i)), "\"}\n");
  }
  std::istringstream in(log);
  SimOptions options;
  options.trace_subject = "u0";
  absl::StatusOr<SimResult> r = Simulate(j, in, "log", nullptr, "", options);
  REQUIRE_THAT(StatusOf(r), IsOk());
  // The engine's report carries the statistics; the text shows them.
  REQUIRE(r->report.versions_size() == 1);
  const auto& ab = r->report.versions(0).experiments();
  REQUIRE(ab.size() == 1);
  CHECK(ab[0].goal() == "goal");
  REQUIRE(ab[0].arms_size() == 2);
  CHECK(ab[0].arms(0).variant() == "control");
  CHECK(ab[0].arms(0).control());
  CHECK(ab[0].arms(1).rate() == Approx(0.2).margin(0.02));
  CHECK(ab[0].arms(0).rate() == Approx(0.1).margin(0.02));
  CHECK(ab[0].arms(1).lift() == Approx(1.0).margin(0.3));
  CHECK(ab[0].significant());
  CHECK_THAT(ab[0].verdict(), Catch::StartsWith("Significant (p < 0.0001): mail converts "
                                                "better than control"));
  const std::string text = RenderText(j, *r);
  CHECK_THAT(text, Catch::Contains("A/B  goal goal by split ab"));
  CHECK_THAT(text, Catch::Contains("Funnel: 2,000 entered, 2,000 exited, 0 in flight"));
  CHECK_THAT(text, Catch::Contains("enter signed_up"));  // the trace of u0
}

TEST_CASE("The text report counts zone attributes that fell back to the journey's zone") {
  const v1::Journey j = TextJourney(R"pb(
    id: "morning" version: 1
    settings { state: ACTIVE default_time_zone: "Asia/Shanghai" }
    nodes { id: "t" trigger { event { matcher { event: "signup" } } next: "nine" } }
    nodes { id: "nine" delay { until_time_of_day { hour: 9 } next: "" } }
  )pb");
  std::istringstream events(
      "{\"subject\":\"u1\",\"name\":\"signup\",\"time\":\"2026-01-05T12:00:00Z\"}\n"
      "{\"subject\":\"u2\",\"name\":\"signup\",\"time\":\"2026-01-05T12:00:01Z\"}\n");
  std::istringstream profiles(
      "{\"subject\":\"u1\",\"attributes\":{\"time_zone\":\"../../../../etc/passwd\"}}\n"
      "{\"subject\":\"u2\",\"attributes\":{\"time_zone\":\"Europe/Berlin\"}}\n");
  absl::StatusOr<SimResult> r = Simulate(j, events, "log", &profiles, "profiles", SimOptions());
  REQUIRE_THAT(StatusOf(r), IsOk());
  CHECK(r->engine.unknown_time_zones == 1);
  CHECK_THAT(RenderText(j, *r), Catch::Contains("1 zone lookups fell back to the journey's zone"));
}

TEST_CASE("Golden: the DOT picture of a small simulation") {
  const v1::Journey j = TextJourney(kJourney);
  std::string log;
  const absl::Time t0 = absl::FromUnixSeconds(1767607200);
  for (int i = 0; i < 20; ++i) {
    absl::StrAppend(&log, "{\"subject\":\"u", i, "\",\"name\":\"signup\",\"time\":\"",
                    FormatEventTime(t0 + absl::Seconds(i)), "\"}\n");
  }
  for (int i = 0; i < 20; i += 3) {
    absl::StrAppend(&log, "{\"subject\":\"u", i, "\",\"name\":\"buy\",\"time\":\"",
                    FormatEventTime(t0 + absl::Hours(1) + absl::Seconds(i)), "\"}\n");
  }
  std::istringstream in(log);
  SimOptions options;
  options.channels["email"] = ChannelModel{0.3, absl::Minutes(2), 0};
  absl::StatusOr<SimResult> r = Simulate(j, in, "log", nullptr, "", options);
  REQUIRE_THAT(StatusOf(r), IsOk());
  const std::string dot = RenderDot(j, r->report);
  const char* golden_path = CAIRN_SOURCE_DIR "/tests/data/welcome_ab.dot";
  if (std::getenv("CAIRN_UPDATE_GOLDEN") != nullptr) std::ofstream(golden_path) << dot;
  std::ifstream golden_file(golden_path);
  std::stringstream golden;
  golden << golden_file.rdbuf();
  INFO("If the change is intended, rerun with CAIRN_UPDATE_GOLDEN=1 and review the diff.");
  CHECK(dot == golden.str());
}

// What `cairn sim` does with an example folder: its journey, events,
// profiles (if any) and behaviours (if any), with `options` otherwise.
absl::StatusOr<SimResult> SimulateExample(const std::string& name,
                                          SimOptions options = SimOptions()) {
  const std::string dir = absl::StrCat(CAIRN_SOURCE_DIR, "/examples/", name, "/");
  absl::StatusOr<v1::Journey> journey = LoadJourneyFile(dir + "journey.textproto");
  if (!journey.ok()) return journey.status();
  if (std::ifstream(dir + "behaviors.textproto")) {
    absl::StatusOr<v1::BehaviorSet> behaviors = LoadBehaviorSetFile(dir + "behaviors.textproto");
    if (!behaviors.ok()) return behaviors.status();
    options.behaviors = *behaviors;
  }
  std::ifstream events(dir + "events.jsonl");
  std::ifstream profiles(dir + "profiles.jsonl");
  return Simulate(*journey, events, "events.jsonl", profiles ? &profiles : nullptr,
                  "profiles.jsonl", options);
}

// The number of messages `action` of the newest version sent.
int64_t Sent(const SimResult& r, const std::string& action) {
  const v1::VersionReport& v = *r.report.versions().rbegin();
  for (const v1::ActionReport& a : v.actions()) {
    if (a.node_id() == action) return a.sent();
  }
  FAIL("no node " << action);
  return -1;
}

TEST_CASE("Example share_referral: the 11th share ever enters once and nobody else") {
  absl::StatusOr<SimResult> r = SimulateExample("share_referral");
  REQUIRE_THAT(StatusOf(r), IsOk());
  CHECK(r->errors.empty());
  const v1::VersionReport& v = *r->report.versions().rbegin();
  CHECK(v.entered() == 1);  // u_fan; u_ten stops at 10 shares, u_casual at 4.
  CHECK(Sent(*r, "gift_push") == 1);
  REQUIRE(r->behaviors.behaviors_size() == 1);
  CHECK(r->behaviors.behaviors(0).subjects() == 3);
}

TEST_CASE("Example checkin_streak: 7 local days in a row rewards and a broken streak wins back") {
  absl::StatusOr<SimResult> r = SimulateExample("checkin_streak");
  REQUIRE_THAT(StatusOf(r), IsOk());
  CHECK(r->errors.empty());
  const v1::VersionReport& v = *r->report.versions().rbegin();
  // u_li, u_wang and u_chen (7 days in New York); u_zhao's run breaks at 5.
  CHECK(v.entered() == 3);
  CHECK(Sent(*r, "vip_trial") == 2);              // Not u_wang, the VIP.
  CHECK(Sent(*r, "first_purchase_coupon") == 2);  // Not u_wang, who paid.
  CHECK(Sent(*r, "winback_sms") == 3);            // Every streak ends by the run's end.
}

TEST_CASE("Example vip_upgrade: a change to gold enters and the switch picks the offer") {
  absl::StatusOr<SimResult> r = SimulateExample("vip_upgrade");
  REQUIRE_THAT(StatusOf(r), IsOk());
  CHECK(r->errors.empty());
  CHECK(r->profile_updates == 8);
  const v1::VersionReport& v = *r->report.versions().rbegin();
  // m_amy, m_ben, m_cai (silver first, gold later) and m_eli once: m_dee was
  // gold already, and m_eli's second upgrade is within the 30-day cooldown.
  CHECK(v.entered() == 4);
  REQUIRE(v.entries_refused_size() == 1);
  CHECK(v.entries_refused(0).reason() == "reentry_cooldown");
  CHECK(Sent(*r, "welcome") == 4);
  CHECK(Sent(*r, "apac_bundle") == 1);       // m_amy, APAC.
  CHECK(Sent(*r, "concierge_invite") == 1);  // m_ben, spend raised in the same update.
  CHECK(Sent(*r, "gold_coupon") == 2);       // m_cai and m_eli.
  REQUIRE(v.goals_size() == 1);
  CHECK(v.goals(0).overall().converted() == 2);  // m_ben and m_amy ordered.
}

TEST_CASE("Event logs: a line with attributes is a timed profile update") {
  json::LogLine line;
  REQUIRE_THAT(json::ParseLogLine(R"({"subject":"u1","subject_type":"member",)"
                                  R"("time":"2026-01-05T10:00:00Z","attributes":{"tier":"gold"}})",
                                  &line),
               IsOk());
  CHECK(line.is_profile);
  CHECK(line.profile.subject_id == "u1");
  CHECK(line.profile.subject_type == "member");
  CHECK(line.time == absl::FromUnixSeconds(1767607200));
  CHECK(*FindAttribute(line.profile.attributes, "tier") == Value::String("gold"));
  // The same storage then takes an event.
  REQUIRE_THAT(json::ParseLogLine(
                   R"({"subject":"u2","name":"signup","time":"2026-01-05T10:00:00Z"})", &line),
               IsOk());
  CHECK_FALSE(line.is_profile);
  CHECK(line.event.subject_id == "u2");
  CHECK(line.event.name == "signup");
}

TEST_CASE("Example repeat_buyer: 2 paid orders in 7 days enter and the goal counts") {
  absl::StatusOr<SimResult> r = SimulateExample("repeat_buyer");
  REQUIRE_THAT(StatusOf(r), IsOk());
  CHECK(r->errors.empty());
  const v1::VersionReport& v = *r->report.versions().rbegin();
  // Shoppers 1, 5, 9 (again 3 days later) and 2, 6, 10 (6 days later);
  // 3, 7, 11 buy again 8 days later, outside the window.
  CHECK(v.entered() == 6);
  CHECK(Sent(*r, "coupon_push") == 6);
}

v1::Journey ExampleJourney(const std::string& name) {
  absl::StatusOr<v1::Journey> journey =
      LoadJourneyFile(absl::StrCat(CAIRN_SOURCE_DIR, "/examples/", name, "/journey.textproto"));
  REQUIRE_THAT(StatusOf(journey), IsOk());
  return *std::move(journey);
}

const v1::SegmentReport& SegmentOf(const SimResult& r, const std::string& name) {
  for (const v1::SegmentReport& s : r.behaviors.segments()) {
    if (s.name() == name) return s;
  }
  FAIL("no segment " << name);
  return r.behaviors.segments(0);
}

// The run's default end, 7 days after the last event (2026-11-30), leaves
// time for every lapsed whale's 14 days of silence and 7-day goal.
TEST_CASE("Example whale_winback: whales who stop paying are mailed and those who pay are not") {
  absl::StatusOr<SimResult> r = SimulateExample("whale_winback");
  REQUIRE_THAT(StatusOf(r), IsOk());
  CHECK(r->errors.empty());
  CHECK(r->until == absl::FromCivil(absl::CivilSecond(2026, 12, 7, 20, 0, 0), absl::UTCTimeZone()));
  const v1::VersionReport& v = *r->report.versions().rbegin();
  // p_kato, p_lin and p_diaz, each 14 days after their last purchase.
  CHECK(v.entered() == 3);
  CHECK(Sent(*r, "offer_mail") == 3);
  REQUIRE(v.goals_size() == 1);
  CHECK(v.goals(0).overall().converted() == 1);  // p_lin paid again
  CHECK(v.goals(0).overall().expired() == 2);
  // Whales: the three above, p_park, p_wang and p_okafor, who keep paying.
  const v1::SegmentReport& whales = SegmentOf(*r, "whales");
  CHECK(whales.members() == 6);
  CHECK(whales.entered() == 6);
  CHECK(whales.left() == 0);
  CHECK_FALSE(whales.time_driven());
  const v1::SegmentReport& lapsed = SegmentOf(*r, "lapsed_whales");
  CHECK(lapsed.members() == 2);  // p_kato and p_diaz; p_lin came back
  CHECK(lapsed.entered() == 3);
  CHECK(lapsed.left() == 1);
  CHECK(lapsed.time_driven());
}

TEST_CASE("Example whale_winback: the trace shows when each player is mailed") {
  // Player -> the trace lines wanted, in order (none: never entered), times
  // in the journey's zone (Shanghai, an hour behind Tokyo), each message
  // sent with what the channel did.
  const std::map<std::string, std::vector<std::string>> want = {
      // Lapsed at 21:40 in Tokyo: mailed at 19:00 the next day.
      {"p_kato",
       {"2026-11-19T20:40:00.000000001+08:00  enter lapsed",
        "2026-11-20T18:00:00+08:00  enter offer_mail", "exit at not_back: no_purchase_in_7d"}},
      // Mailed at 19:00 in Shanghai; paying two days later ends the journey.
      {"p_lin",
       {"2026-11-23T21:05:00.000000001+08:00  enter lapsed",
        "2026-11-24T19:00:00+08:00  enter offer_mail",
        "2026-11-24T19:00:00+08:00    send in_game_mail whale_personal_offer "
        "(name=Lin, purchases=4, total_spent=1272) message ",
        ": delivered, reported 2026-11-24T19:01:00+08:00",
        "2026-11-26T21:10:00+08:00  exit at offer_open: exit_on:purchase"}},
      // Whales who keep paying, one of them 12 days 23 hours apart.
      {"p_park", {}},
      {"p_wang", {}},
      {"p_okafor", {}},
      // Minnows.
      {"p_silva", {}},
      {"p_ng", {}},
  };
  for (const auto& [player, lines] : want) {
    INFO(player);
    SimOptions options;
    options.trace_subject = player;
    absl::StatusOr<SimResult> r = SimulateExample("whale_winback", options);
    REQUIRE_THAT(StatusOf(r), IsOk());
    const std::string trace = absl::StrJoin(r->trace, "\n");
    INFO(trace);
    if (lines.empty()) CHECK(r->trace.empty());
    size_t at = 0;
    for (const std::string& line : lines) {
      at = trace.find(line, at);
      CHECK(at != std::string::npos);
    }
  }
}

// ---- The report's segments, as text and as JSON ----

TEST_CASE("The text report lists each segment with its members and transitions") {
  absl::StatusOr<SimResult> r = SimulateExample("whale_winback");
  REQUIRE_THAT(StatusOf(r), IsOk());
  const std::string text = RenderText(ExampleJourney("whale_winback"), *r);
  CHECK_THAT(text, Catch::Contains("\nSegments (members at the end; entered and left during "
                                   "the run)\n"));
  CHECK_THAT(text, Catch::Contains("  whales                        6 members          6 entered "
                                   "         0 left\n"));
  CHECK_THAT(text, Catch::Contains("  lapsed_whales                 2 members          3 entered "
                                   "         1 left  time-driven\n"));
  // After the behaviours.
  CHECK(text.find("Behaviours (") < text.find("Segments ("));

  // No segments, no section.
  absl::StatusOr<SimResult> none = SimulateExample("repeat_buyer");
  REQUIRE_THAT(StatusOf(none), IsOk());
  CHECK_THAT(RenderText(ExampleJourney("repeat_buyer"), *none),
             !Catch::Contains("Segments"));
}

TEST_CASE("The JSON report is the journey report with the behaviours report beside its fields") {
  absl::StatusOr<SimResult> r = SimulateExample("whale_winback");
  REQUIRE_THAT(StatusOf(r), IsOk());
  const std::string json = RenderJson(*r);
  absl::StatusOr<JsonValue> parsed = ParseJson(json);
  REQUIRE_THAT(StatusOf(parsed), IsOk());
  REQUIRE(parsed->type == JsonValue::Type::kObject);
  // The report's own fields come first, as before, then "behaviors",
  // "effects" (none here), "input" and "warnings".
  CHECK(parsed->object.front().first == "journey_id");
  CHECK(parsed->object.front().second.string == "whale_winback");
  REQUIRE(parsed->object.size() >= 3);
  REQUIRE(parsed->object.back().first == "warnings");
  REQUIRE(parsed->object[parsed->object.size() - 2].first == "input");
  REQUIRE(parsed->object[parsed->object.size() - 3].first == "effects");
  CHECK(parsed->object[parsed->object.size() - 3].second.array.empty());
  REQUIRE(parsed->object[parsed->object.size() - 4].first == "behaviors");
  const JsonValue& behaviors = parsed->object[parsed->object.size() - 4].second;
  std::map<std::string, const JsonValue*> members;
  for (const auto& [key, value] : behaviors.object) members[key] = &value;
  REQUIRE(members.count("behaviors") == 1);
  CHECK(members["behaviors"]->array.size() == 3);
  REQUIRE(members.count("segments") == 1);
  REQUIRE(members["segments"]->array.size() == 2);
  std::map<std::string, const JsonValue*> lapsed;
  for (const auto& [key, value] : members["segments"]->array[1].object) lapsed[key] = &value;
  CHECK(lapsed["name"]->string == "lapsed_whales");
  // Counts are numbers (protobuf's own mapping writes int64 as strings).
  REQUIRE(lapsed["members"]->type == JsonValue::Type::kNumber);
  CHECK(lapsed["members"]->number == 2);
  CHECK(lapsed["entered"]->number == 3);
  CHECK(lapsed["left"]->number == 1);
  CHECK(lapsed["time_driven"]->boolean);
  // Indented one level below the report's members.
  CHECK_THAT(json, Catch::Contains("\n  \"behaviors\": {\n    \"behaviors\": [\n"));
  CHECK_THAT(json, Catch::Contains("\n  },\n  \"effects\": [],\n  \"input\": {\"event_lines\": "));
  CHECK_THAT(json, Catch::EndsWith("\"messages_written\": 0},\n  \"warnings\": []\n}\n"));
  // The input summary: what went in, counted.
  const JsonValue& input = parsed->object[parsed->object.size() - 2].second;
  std::map<std::string, const JsonValue*> counts;
  for (const auto& [key, value] : input.object) counts[key] = &value;
  CHECK(counts["event_lines"]->number == static_cast<double>(r->event_lines));
  CHECK(counts["events_applied"]->number == static_cast<double>(r->engine.events_applied));
  CHECK(counts["bad_event_lines"]->number == 0);
  CHECK(counts["first_event"]->string == json::FormatEventTime(r->first_event));
  // protobuf's mapping, kept for protobuf readers: the same fields, int64
  // as strings, and it reads back as the report.
  const std::string proto_json = RenderProtoJson(*r);
  CHECK_THAT(proto_json, Catch::Contains("\"members\": \"2\""));
  v1::JourneyReport report;
  google::protobuf::util::JsonParseOptions ignore_behaviors;
  ignore_behaviors.ignore_unknown_fields = true;
  REQUIRE(google::protobuf::util::JsonStringToMessage(proto_json, &report, ignore_behaviors).ok());
  CHECK(google::protobuf::util::MessageDifferencer::Equals(report, r->report));

  // A run without behaviours has the member too, with empty lists.
  absl::StatusOr<SimResult> plain = SimulateExample("vip_upgrade");
  REQUIRE_THAT(StatusOf(plain), IsOk());
  absl::StatusOr<JsonValue> plain_parsed = ParseJson(RenderJson(*plain));
  REQUIRE_THAT(StatusOf(plain_parsed), IsOk());
  REQUIRE(plain_parsed->object[plain_parsed->object.size() - 4].first == "behaviors");
  for (const auto& [key, value] :
       plain_parsed->object[plain_parsed->object.size() - 4].second.object) {
    INFO(key);
    CHECK(value.array.empty());
  }
}

TEST_CASE("Every message sent goes to the messages log with what the channel did") {
  SimOptions options;
  options.channels["push"] = ChannelModel{0.3, absl::Minutes(2), 0.3};
  std::ostringstream log;
  options.messages = &log;
  absl::StatusOr<SimResult> r = SimulateExample("coupon_rollout", options);
  REQUIRE_THAT(StatusOf(r), IsOk());
  const ChannelStats& push = r->channels.at("push");
  REQUIRE(push.sends > 3);
  const std::vector<std::string> lines = absl::StrSplit(log.str(), '\n', absl::SkipEmpty());
  REQUIRE(static_cast<int64_t>(lines.size()) == push.sends);
  CHECK(r->messages_written == push.sends);
  std::map<std::string, int64_t> outcomes;
  for (const std::string& line : lines) {
    absl::StatusOr<JsonValue> parsed = ParseJson(line);
    REQUIRE_THAT(StatusOf(parsed), IsOk());
    std::map<std::string, const JsonValue*> f;
    for (const auto& [key, value] : parsed->object) f[key] = &value;
    CHECK(f["journey_id"]->string == "coupon_rollout");
    CHECK(f["version"]->number == 1);
    CHECK(f["channel"]->string == "push");
    CHECK(f["template_id"]->string == "coupon_" + f["variant"]->string);
    CHECK(f["message_id"]->string.size() == 16);
    REQUIRE(f["params"]->type == JsonValue::Type::kObject);
    CHECK(f["params"]->object.size() == 1);
    const std::string outcome = f["outcome"]->string;
    ++outcomes[outcome];
    if (outcome == "refused") CHECK(f["reason"]->string == "simulated_failure");
    if (outcome == "delivered") {
      absl::Time sent, reported;
      std::string err;
      REQUIRE(absl::ParseTime(absl::RFC3339_full, f["time"]->string, &sent, &err));
      REQUIRE(absl::ParseTime(absl::RFC3339_full, f["report_at"]->string, &reported, &err));
      CHECK(reported - sent == absl::Minutes(2));
    }
  }
  CHECK(outcomes["refused"] == push.refused);
  CHECK(outcomes["lost"] == push.lost);
  CHECK(outcomes["delivered"] == push.sends - push.refused - push.lost);
}

TEST_CASE("A run warns about what it silently could not do") {
  const v1::Journey j = TextJourney(R"pb(
    id: "reminder" version: 1
    settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "booked" } } next: "before" } }
    nodes { id: "before" delay { relative { path: "profile.appointment" offset { seconds: -86400 }
                                            if_past: CONTINUE } next: "send" } }
    nodes { id: "send" action { channel: "sms" template_id: "remind" next: "later" } }
    nodes { id: "later" delay { duration { seconds: 2592000 } next: "" } })pb");
  // An integer where the appointment's time should be (u2 has none); a
  // subject traced who never comes; a channel model for a typo.
  std::istringstream profiles(R"({"subject":"u1","attributes":{"appointment":1767225600}})"
                              "\n");
  std::istringstream log(
      R"({"subject":"u1","name":"booked","time":"2026-01-05T10:00:00Z"})" "\n"
      R"({"subject":"u2","name":"booked","time":"2026-01-05T11:00:00Z","properties":{}})" "\n");
  SimOptions options;
  options.trace_subject = "nobody";
  options.channels["smss"] = ChannelModel{};
  absl::StatusOr<SimResult> r = Simulate(j, log, "log", &profiles, "profiles", options);
  REQUIRE_THAT(StatusOf(r), IsOk());
  const std::string all = absl::StrJoin(r->warnings, "\n");
  INFO(all);
  REQUIRE(r->warnings.size() == 3);
  CHECK_THAT(r->warnings[0], Catch::StartsWith("--sink smss: the journey sends on no channel "
                                               "\"smss\" (it sends on sms)"));
  CHECK_THAT(r->warnings[1], Catch::StartsWith("--trace nobody: the subject took no step"));
  CHECK_THAT(r->warnings[2], Catch::StartsWith("2 enrollments exited delay_time_missing"));

  // A log without the trigger's event; a run that ends with people inside.
  std::istringstream other(R"({"subject":"u1","name":"viewed","time":"2026-01-05T10:00:00Z"})"
                           "\n");
  r = Simulate(j, other, "log", nullptr, "", SimOptions());
  REQUIRE_THAT(StatusOf(r), IsOk());
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0] ==
        "nobody entered the journey: no line of the log was a booked event that its trigger "
        "accepted");
  const v1::Journey held = TextJourney(R"pb(
    id: "held" version: 1
    settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "booked" } } next: "wait" } }
    nodes { id: "wait" delay { duration { seconds: 2592000 } next: "" } })pb");
  std::istringstream booked(R"({"subject":"u1","name":"booked","time":"2026-01-05T10:00:00Z"})"
                            "\n");
  r = Simulate(held, booked, "log", nullptr, "", SimOptions());
  REQUIRE_THAT(StatusOf(r), IsOk());
  REQUIRE(r->warnings.size() == 1);
  CHECK_THAT(r->warnings[0], Catch::StartsWith("1 enrollment is still in flight at the default "
                                               "end (7 days after the last event)"));
  // With --until the end is the caller's: no warning.
  std::istringstream again(R"({"subject":"u1","name":"booked","time":"2026-01-05T10:00:00Z"})"
                           "\n");
  SimOptions until;
  until.until = absl::FromUnixSeconds(1767225600) + absl::Hours(24 * 10);
  r = Simulate(held, again, "log", nullptr, "", until);
  REQUIRE_THAT(StatusOf(r), IsOk());
  CHECK(r->warnings.empty());
  // --until auto: on until the last one leaves, 30 days after booking.
  std::istringstream auto_log(
      R"({"subject":"u1","name":"booked","time":"2026-01-05T10:00:00Z"})" "\n"
      R"({"subject":"u2","name":"booked","time":"2026-01-06T10:00:00Z"})" "\n");
  SimOptions until_auto;
  until_auto.until_auto = true;
  r = Simulate(held, auto_log, "log", nullptr, "", until_auto);
  REQUIRE_THAT(StatusOf(r), IsOk());
  CHECK(r->warnings.empty());
  CHECK(r->until == absl::FromUnixSeconds(1767693600) + absl::Hours(24 * 30));  // 6 Jan + 30d
  CHECK(r->report.versions(0).in_flight() == 0);
  CHECK(r->report.versions(0).exited() == 2);
}

TEST_CASE("Simulate declares a set of segments without behaviours") {
  const v1::Journey j = TextJourney(R"pb(
    id: "gold_hello" version: 1
    settings { state: ACTIVE }
    nodes { id: "t" trigger { segment { segment: "gold" on: ENTERED } next: "push" } }
    nodes { id: "push" action { channel: "push" template_id: "hello" next: "" } }
  )pb");
  absl::StatusOr<v1::BehaviorSet> gold = ParseBehaviorSet(
      R"pb(segments {
             name: "gold"
             condition { compare { path: "profile.tier" op: EQ value { string_value: "gold" } } }
           })pb",
      JourneyFormat::kText);
  REQUIRE_THAT(StatusOf(gold), IsOk());
  SimOptions options;
  options.behaviors = *gold;
  std::istringstream events(
      "{\"subject\":\"ann\",\"name\":\"login\",\"time\":\"2026-01-05T10:00:00Z\"}\n"
      "{\"subject\":\"ann\",\"time\":\"2026-01-05T11:00:00Z\",\"attributes\":{\"tier\":\"gold\"}}\n");
  absl::StatusOr<SimResult> r = Simulate(j, events, "events", nullptr, "", options);
  REQUIRE_THAT(StatusOf(r), IsOk());
  CHECK(r->errors.empty());
  REQUIRE(r->behaviors.segments_size() == 1);
  CHECK(r->behaviors.segments(0).members() == 1);
  CHECK(Sent(*r, "push") == 1);
}

// ---- The loyalty scenario: a log that exercises behaviours ----

// A generated loyalty log and its members' profiles, as `cairn gen
// --scenario loyalty --profiles FILE` writes them.
struct LoyaltyLog {
  std::string events;
  std::string profiles;
};

LoyaltyLog GenerateLoyalty(int64_t members, int days, uint64_t seed,
                           absl::Time start = GeneratorOptions().start) {
  GeneratorOptions o;
  o.scenario = Scenario::kLoyalty;
  o.subjects = members;
  o.days = days;
  o.seed = seed;
  o.start = start;
  std::ostringstream events, profiles;
  REQUIRE_THAT(StatusOf(GenerateEvents(o, events)), IsOk());
  absl::StatusOr<int64_t> n = GenerateProfiles(o, profiles);
  REQUIRE_THAT(StatusOf(n), IsOk());
  CHECK(*n == members);
  return {events.str(), profiles.str()};
}

TEST_CASE("Example coupon_rollout: members enter and the small log leaves the test running") {
  absl::StatusOr<SimResult> r = SimulateExample("coupon_rollout");
  REQUIRE_THAT(StatusOf(r), IsOk());
  CHECK(r->errors.empty());
  const v1::VersionReport& v = *r->report.versions().rbegin();
  CHECK(v.entered() == 20);  // The twenty VIP members, once each in a fortnight.
  CHECK(Sent(*r, "pct20_push") + Sent(*r, "off30_push") == 15);
  REQUIRE(v.rollouts_size() == 1);
  CHECK(v.rollouts(0).status() == "testing");  // 200 per arm is far away.
}

TEST_CASE("Example coupon_rollout: with a simulated effect the 30-off coupon is rolled out") {
  const LoyaltyLog log = GenerateLoyalty(15000, 14, 2026);
  const std::string dir = absl::StrCat(CAIRN_SOURCE_DIR, "/examples/coupon_rollout/");
  absl::StatusOr<v1::Journey> journey = LoadJourneyFile(dir + "journey.textproto");
  REQUIRE_THAT(StatusOf(journey), IsOk());
  SimOptions options;
  options.seed = 2026;
  options.effects = {*ParseEffect("off30_300:ordered_3d=+10pp")};
  std::istringstream events(log.events), profiles(log.profiles);
  absl::StatusOr<SimResult> r =
      Simulate(*journey, events, "events", &profiles, "profiles", options);
  REQUIRE_THAT(StatusOf(r), IsOk());
  const v1::VersionReport& v = r->report.versions(0);
  REQUIRE(v.rollouts_size() == 1);
  const v1::RolloutReport& rollout = v.rollouts(0);
  CHECK(rollout.status() == "decided");
  CHECK(rollout.winner() == "off30_300");
  CHECK(rollout.arms(2).p_value() < rollout.alpha_per_test());
  CHECK(rollout.arms(0).share_after() == Approx(20));
  CHECK(rollout.arms(2).share_after() == Approx(80));
  // After the decision nobody new gets the 20% coupon: a run stopped at the
  // decision sent it as often as the whole run, while the 30-off coupon
  // kept going out.
  absl::Time decided;
  std::string err;
  REQUIRE(absl::ParseTime(absl::RFC3339_full, rollout.concluded_at(), &decided, &err));
  CHECK(decided < r->last_event);
  options.until = decided;
  std::istringstream events_again(log.events), profiles_again(log.profiles);
  absl::StatusOr<SimResult> to_decision =
      Simulate(*journey, events_again, "events", &profiles_again, "profiles", options);
  REQUIRE_THAT(StatusOf(to_decision), IsOk());
  CHECK(Sent(*to_decision, "pct20_push") == Sent(*r, "pct20_push"));
  CHECK(Sent(*to_decision, "off30_push") < Sent(*r, "off30_push"));
  // The text report says what happened.
  const std::string text = RenderText(*journey, *r);
  CHECK_THAT(text, Catch::Contains("Roll-out  split coupon_test judged on ordered_3d: off30_300 won at"));
  CHECK_THAT(text, Catch::Contains("Effect  off30_300 on ordered_3d +10pp: "));
}

TEST_CASE("A bandit split converges on the arm with a simulated effect") {
  // The coupon test as a bandit: the arms' shares follow their orders.
  const LoyaltyLog log = GenerateLoyalty(15000, 14, 2026);
  absl::StatusOr<v1::Journey> journey =
      LoadJourneyFile(absl::StrCat(CAIRN_SOURCE_DIR, "/examples/coupon_rollout/journey.textproto"));
  REQUIRE_THAT(StatusOf(journey), IsOk());
  v1::Split* split = journey->mutable_nodes(1)->mutable_split();
  split->clear_rule();
  split->mutable_bandit()->set_goal("ordered_3d");
  split->mutable_bandit()->set_draws(2000);
  SimOptions options;
  options.seed = 2026;
  options.effects = {*ParseEffect("off30_300:ordered_3d=+10pp")};
  std::istringstream events(log.events), profiles(log.profiles);
  absl::StatusOr<SimResult> r = Simulate(*journey, events, "events", &profiles, "profiles", options);
  REQUIRE_THAT(StatusOf(r), IsOk());
  const v1::RolloutReport& bandit = r->report.versions(0).rollouts(0);
  CHECK(bandit.kind() == "bandit");
  CHECK(bandit.arms(2).probability_best() > 0.9);
  CHECK(bandit.arms(2).share_after() > 85);
  const std::string text = RenderText(*journey, *r);
  CHECK_THAT(text, Catch::Contains("Bandit  split coupon_test rewarded on ordered_3d: "));
}

std::vector<Event> EventsOf(const std::string& log) {
  std::vector<Event> out;
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    absl::StatusOr<Event> e = ParseEventLine(line);
    REQUIRE_THAT(StatusOf(e), IsOk());
    out.push_back(*std::move(e));
  }
  return out;
}

std::vector<ProfileLine> ProfilesOf(const std::string& log) {
  std::vector<ProfileLine> out;
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    absl::StatusOr<ProfileLine> p = ParseProfileLine(line);
    REQUIRE_THAT(StatusOf(p), IsOk());
    out.push_back(*std::move(p));
  }
  return out;
}

// Each member's zone name, from their profile.
std::map<std::string, std::string> ZonesOf(const std::vector<ProfileLine>& profiles) {
  std::map<std::string, std::string> zones;
  for (const ProfileLine& p : profiles) {
    const Value* zone = FindAttribute(p.attributes, "time_zone");
    REQUIRE(zone != nullptr);
    zones[p.subject_id] = zone->string_value();
  }
  return zones;
}

TEST_CASE("Loyalty profiles are deterministic and only the loyalty scenario has them") {
  const LoyaltyLog a = GenerateLoyalty(500, 3, 4);
  CHECK(a.profiles == GenerateLoyalty(500, 3, 4).profiles);
  CHECK(a.profiles != GenerateLoyalty(500, 3, 5).profiles);
  const std::vector<ProfileLine> profiles = ProfilesOf(a.profiles);
  REQUIRE(profiles.size() == 500);
  CHECK(profiles.front().subject_id == "m0");
  CHECK(profiles.back().subject_id == "m499");
  std::map<std::string, int> per_zone;
  int vips = 0;
  for (const ProfileLine& p : profiles) {
    ++per_zone[FindAttribute(p.attributes, "time_zone")->string_value()];
    const Value* vip = FindAttribute(p.attributes, "vip");
    REQUIRE(vip != nullptr);
    vips += vip->bool_value() ? 1 : 0;
  }
  CHECK(per_zone.size() == 4);
  CHECK(per_zone["Asia/Shanghai"] > per_zone["America/New_York"]);
  CHECK(per_zone["America/New_York"] > 50);
  CHECK(per_zone["Europe/London"] > 0);
  CHECK(per_zone["Asia/Kolkata"] > 0);
  CHECK(vips > 50);
  CHECK(vips < 200);
  // Profiles do not depend on the period: the same members, whatever the days.
  CHECK(a.profiles == GenerateLoyalty(500, 9, 4).profiles);

  std::ostringstream out;
  GeneratorOptions o;
  for (Scenario s : {Scenario::kEcommerce, Scenario::kGame}) {
    o.scenario = s;
    absl::StatusOr<int64_t> n = GenerateProfiles(o, out);
    CHECK(n.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(n.status().message()), Catch::Contains("only the loyalty scenario"));
  }
  o.scenario = Scenario::kLoyalty;
  o.subjects = 0;
  CHECK(GenerateProfiles(o, out).status().code() == absl::StatusCode::kInvalidArgument);
  o.subjects = 1;
  o.days = 0;
  CHECK(GenerateEvents(o, out).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(out.str().empty());
}

// The members' local days: the period covers the end of DST in London
// (2026-10-25) and New York (2026-11-01).
TEST_CASE("Loyalty members check in once per local day in streaks across DST and midnight") {
  const absl::Time start = absl::FromCivil(absl::CivilDay(2026, 10, 20), absl::UTCTimeZone());
  const int days = 16;
  const LoyaltyLog log = GenerateLoyalty(400, days, 3, start);
  const std::map<std::string, std::string> zones = ZonesOf(ProfilesOf(log.profiles));

  std::map<std::string, std::vector<absl::CivilDay>> checkins;  // in local days
  std::map<std::string, int> shares;
  std::map<std::string, std::vector<absl::Time>> orders;
  int near_midnight_in_shanghai = 0;
  for (const Event& e : EventsOf(log.events)) {
    INFO(e.subject_id << " " << e.name << " " << FormatEventTime(e.time));
    REQUIRE(zones.count(e.subject_id) == 1);
    CHECK(e.time >= start);
    CHECK(e.time < start + absl::Hours(24 * days));
    if (e.name == "check_in") {
      absl::TimeZone tz;
      REQUIRE(absl::LoadTimeZone(zones.at(e.subject_id), &tz));
      const absl::CivilSecond local = absl::ToCivilSecond(e.time, tz);
      checkins[e.subject_id].push_back(absl::CivilDay(local));
      if (zones.at(e.subject_id) == "Asia/Shanghai" && (local.hour() == 23 || local.hour() == 0)) {
        ++near_midnight_in_shanghai;
      }
    } else if (e.name == "share") {
      ++shares[e.subject_id];
      CHECK(FindAttribute(e.properties, "product") != nullptr);
    } else {
      REQUIRE(e.name == "order_paid");
      orders[e.subject_id].push_back(e.time);
      const Value* amount = FindAttribute(e.properties, "amount");
      REQUIRE(amount != nullptr);
      CHECK(amount->type() == Value::Type::kDouble);
      CHECK(amount->double_value() > 0);
    }
  }

  // Runs of consecutive local days, and which runs cross the DST ends.
  int longest = 0, broken = 0, across_new_york_dst = 0, across_london_dst = 0;
  for (const auto& [member, local_days] : checkins) {
    INFO(member);
    for (size_t i = 1; i < local_days.size(); ++i) {
      CHECK(local_days[i] > local_days[i - 1]);  // one check-in a local day, in order
    }
    int run = 0;
    for (size_t i = 0; i < local_days.size(); ++i) {
      run = i > 0 && local_days[i] == local_days[i - 1] + 1 ? run + 1 : 1;
      if (i > 0 && local_days[i] > local_days[i - 1] + 1) ++broken;
      longest = std::max(longest, run);
      // Checked in the day before the change, on it, and the day after.
      if (run >= 3 && local_days[i] == absl::CivilDay(2026, 11, 2) &&
          zones.at(member) == "America/New_York") {
        ++across_new_york_dst;
      }
      if (run >= 3 && local_days[i] == absl::CivilDay(2026, 10, 26) &&
          zones.at(member) == "Europe/London") {
        ++across_london_dst;
      }
    }
  }
  CHECK(longest >= 7);
  CHECK(broken > 50);
  CHECK(across_new_york_dst > 0);
  CHECK(across_london_dst > 0);
  CHECK(near_midnight_in_shanghai > 0);

  // A few members share more than 10 times; most share rarely or never.
  int over_ten = 0;
  for (const auto& [member, n] : shares) over_ten += n > 10 ? 1 : 0;
  CHECK(over_ten > 0);
  CHECK(over_ten < 40);
  // Some buy again within 7 days.
  int repeat_buyers = 0;
  for (const auto& [member, times] : orders) {
    for (size_t i = 1; i < times.size(); ++i) {
      if (times[i] - times[i - 1] <= absl::Hours(24 * 7)) {
        ++repeat_buyers;
        break;
      }
    }
  }
  CHECK(repeat_buyers > 10);
}

// An example's journey and behaviours.
struct Example {
  v1::Journey journey;
  v1::BehaviorSet behaviors;
};

Example LoadExample(const std::string& name) {
  const std::string dir = absl::StrCat(CAIRN_SOURCE_DIR, "/examples/", name, "/");
  absl::StatusOr<v1::Journey> journey = LoadJourneyFile(dir + "journey.textproto");
  REQUIRE_THAT(StatusOf(journey), IsOk());
  absl::StatusOr<v1::BehaviorSet> behaviors = LoadBehaviorSetFile(dir + "behaviors.textproto");
  REQUIRE_THAT(StatusOf(behaviors), IsOk());
  return {*std::move(journey), *std::move(behaviors)};
}

// Messages sent by every action of the newest version.
int64_t SentByAll(const SimResult& r) {
  int64_t sent = 0;
  for (const v1::ActionReport& a : r.report.versions().rbegin()->actions()) sent += a.sent();
  return sent;
}

TEST_CASE("Every behaviour example enters members and sends on a generated loyalty log") {
  const LoyaltyLog log = GenerateLoyalty(300, 14, 11);
  // Members the share_referral journey must enter: more than 10 shares.
  std::map<std::string, int> shares;
  for (const Event& e : EventsOf(log.events)) shares[e.subject_id] += e.name == "share";
  int64_t sharers = 0;
  for (const auto& [member, n] : shares) sharers += n > 10 ? 1 : 0;
  REQUIRE(sharers > 0);

  for (const char* name : {"checkin_streak", "share_referral", "repeat_buyer"}) {
    INFO(name);
    const Example example = LoadExample(name);
    SimOptions options;
    options.behaviors = example.behaviors;
    std::istringstream events(log.events), profiles(log.profiles);
    absl::StatusOr<SimResult> r =
        Simulate(example.journey, events, "loyalty.jsonl", &profiles, "profiles.jsonl", options);
    REQUIRE_THAT(StatusOf(r), IsOk());
    CHECK(r->errors.empty());
    CHECK(r->engine.events_rejected == 0);
    CHECK(r->engine.unknown_time_zones == 0);
    const v1::VersionReport& v = *r->report.versions().rbegin();
    CHECK(v.entered() > 0);
    CHECK(SentByAll(*r) > 0);
    for (const v1::BehaviorReport& b : r->behaviors.behaviors()) {
      INFO(b.ShortDebugString());
      // checkin_streak's game counts "purchase"; members pay with order_paid.
      CHECK(b.subjects() > (b.event() == "purchase" ? -1 : 0));
    }
    const std::string example_name = name;
    if (example_name == "share_referral") {
      CHECK(v.entered() == sharers);  // once each, and nobody else
    } else if (example_name == "checkin_streak") {
      CHECK(Sent(*r, "vip_trial") > 0);
      CHECK(Sent(*r, "winback_sms") > 0);
    } else {
      CHECK(Sent(*r, "coupon_push") == v.entered());
    }
  }
}

// ---- Sim parity: `cairn sim` is a host feeding one Engine ----

// The file's text; "" when it does not exist (an example without profiles).
std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Accepts every message and notes its id and time; thread-safe, so that the
// shards of a ShardedEngine can share it.
class NotingSink : public ChannelSink {
 public:
  SendResult Send(const Message& m) override {
    std::lock_guard<std::mutex> lock(mu_);
    sent_.push_back({m.time, m.message_id});
    return SendResult::Accepted();
  }
  // The sends since the last call.
  std::vector<std::pair<absl::Time, std::string>> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<absl::Time, std::string>> out;
    out.swap(sent_);
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<absl::Time, std::string>> sent_;
};

std::vector<std::string> ChannelsOf(const v1::Journey& journey) {
  std::vector<std::string> channels;
  for (const v1::Node& node : journey.nodes()) {
    if (node.has_action() &&
        std::find(channels.begin(), channels.end(), node.action().channel()) == channels.end()) {
      channels.push_back(node.action().channel());
    }
  }
  return channels;
}

// What a run leaves: the journey's report, the ids of the messages sent
// (sorted), and every behaviour's value for some subjects.
struct Outcome {
  v1::JourneyReport report;
  std::vector<std::string> ids;
  std::vector<std::string> values;  // "subject behaviour = value"
};

std::vector<std::string> ValuesOf(
    const std::vector<std::string>& subjects, const v1::BehaviorSet& behaviors,
    const std::function<absl::StatusOr<Value>(const std::string&, const std::string&)>& read) {
  std::vector<std::string> out;
  for (const std::string& subject : subjects) {
    for (const v1::Behavior& b : behaviors.behaviors()) {
      absl::StatusOr<Value> v = read(subject, b.name());
      REQUIRE_THAT(StatusOf(v), IsOk());
      out.push_back(absl::StrCat(subject, " ", b.name(), " = ", v->DebugString()));
    }
  }
  return out;
}

// The inputs `cairn sim` takes: events and profiles, parsed.
struct SimInputs {
  std::string events;  // JSON lines
  std::string profiles;
  std::vector<Event> parsed_events;
  std::vector<ProfileLine> parsed_profiles;
  std::vector<std::string> subjects;  // whose behaviour values are compared
  absl::Time start;                   // the first event's time
  absl::Time until;                   // 7 days after the last
};

SimInputs InputsOf(std::string events, std::string profiles, int sample_every) {
  SimInputs in;
  in.parsed_events = EventsOf(events);
  in.parsed_profiles = ProfilesOf(profiles);
  in.events = std::move(events);
  in.profiles = std::move(profiles);
  REQUIRE(!in.parsed_events.empty());
  in.start = in.parsed_events.front().time;
  absl::Time last = in.start;
  std::set<std::string> subjects;
  for (const Event& e : in.parsed_events) {
    last = std::max(last, e.time);
    subjects.insert(e.subject_id);
  }
  in.until = last + absl::Hours(24 * 7);
  int i = 0;
  for (const std::string& s : subjects) {
    if (i++ % sample_every == 0) in.subjects.push_back(s);
  }
  return in;
}

// Through the simulator. `deliver`: every send's delivery report comes a
// minute later (the default channel); otherwise none ever comes.
Outcome RunSim(const Example& example, const SimInputs& in, bool deliver) {
  SimOptions options;
  options.behaviors = example.behaviors;
  for (const std::string& channel : ChannelsOf(example.journey)) {
    options.channels[channel] = ChannelModel{0, absl::Minutes(1), deliver ? 0.0 : 1.0};
  }
  Outcome out;
  options.on_finish = [&](Engine& engine) {
    out.values = ValuesOf(in.subjects, example.behaviors,
                          [&](const std::string& subject, const std::string& behavior) {
                            return engine.BehaviorValue("", subject, behavior);
                          });
  };
  std::istringstream events(in.events), profiles(in.profiles);
  absl::StatusOr<SimResult> r =
      Simulate(example.journey, events, "events", &profiles, "profiles", options);
  REQUIRE_THAT(StatusOf(r), IsOk());
  REQUIRE(r->errors.empty());
  out.report = r->report;
  // The simulator keeps counts, not ids: every message has a report entry,
  // so the ids are compared through the engines below instead.
  return out;
}

// Through one Engine, driven as the simulator documents: profiles at the
// first event's time, engine time moved to each event before it, delivery
// reports and timers played in time order between events, and engine time
// moved to `until` at the end.
Outcome RunEngine(const Example& example, const SimInputs& in, bool deliver) {
  EngineOptions options;
  options.start_time = in.start;
  Engine engine(options);
  NotingSink sink;
  for (const std::string& channel : ChannelsOf(example.journey)) {
    REQUIRE_THAT(engine.RegisterChannel(channel, &sink), IsOk());
  }
  REQUIRE_THAT(engine.DeclareBehaviors(example.behaviors), IsOk());
  REQUIRE_THAT(engine.Deploy(example.journey), IsOk());
  for (const ProfileLine& p : in.parsed_profiles) {
    REQUIRE_THAT(engine.UpsertProfile(p.subject_id, p.attributes, in.start, p.subject_type),
                 IsOk());
  }
  Outcome out;
  std::multimap<absl::Time, std::string> reports;  // due delivery reports
  auto take_sends = [&] {
    for (auto& [time, id] : sink.Take()) {
      if (deliver) reports.emplace(time + absl::Minutes(1), id);
      out.ids.push_back(std::move(id));
    }
  };
  auto run_until = [&](absl::Time t) {
    while (true) {
      take_sends();
      const absl::Time report = reports.empty() ? absl::InfiniteFuture() : reports.begin()->first;
      const absl::Time timer = engine.next_timer_time();
      if (std::min(report, timer) > t) return;
      if (timer < report) {
        REQUIRE_THAT(engine.AdvanceTo(timer), IsOk());
        continue;
      }
      (void)engine.ReportDelivery(reports.begin()->second, DeliveryOutcome::kDelivered,
                                  std::max(report, engine.now()));
      reports.erase(reports.begin());
    }
  };
  for (const Event& e : in.parsed_events) {
    run_until(e.time);
    REQUIRE_THAT(engine.AdvanceTo(e.time), IsOk());
    (void)engine.Ingest(e);  // rejections are counted in the report's engine stats
  }
  run_until(in.until);
  REQUIRE_THAT(engine.AdvanceTo(in.until), IsOk());
  take_sends();
  absl::StatusOr<v1::JourneyReport> report = engine.Report(example.journey.id());
  REQUIRE_THAT(StatusOf(report), IsOk());
  out.report = *std::move(report);
  std::sort(out.ids.begin(), out.ids.end());
  out.values = ValuesOf(in.subjects, example.behaviors,
                        [&](const std::string& subject, const std::string& behavior) {
                          return engine.BehaviorValue("", subject, behavior);
                        });
  return out;
}

// Through a ShardedEngine with two shards, with no delivery reports (a
// shard's sends are known only after a flush, too late to interleave their
// reports with the other shard's timers exactly).
Outcome RunSharded(const Example& example, const SimInputs& in) {
  ShardedEngineOptions options;
  options.shards = 2;
  options.engine.start_time = in.start;
  NotingSink sink;
  absl::StatusOr<std::unique_ptr<ShardedEngine>> created =
      ShardedEngine::Create(options, [&](int, Engine& engine) -> absl::Status {
        for (const std::string& channel : ChannelsOf(example.journey)) {
          CAIRN_RETURN_IF_ERROR(engine.RegisterChannel(channel, &sink));
        }
        CAIRN_RETURN_IF_ERROR(engine.DeclareBehaviors(example.behaviors));
        return engine.Deploy(example.journey);
      });
  REQUIRE_THAT(StatusOf(created), IsOk());
  ShardedEngine& engine = **created;
  for (const ProfileLine& p : in.parsed_profiles) {
    REQUIRE_THAT(engine.UpsertProfile(p.subject_id, p.attributes, in.start, p.subject_type),
                 IsOk());
  }
  for (const Event& e : in.parsed_events) {
    engine.AdvanceTo(e.time);
    REQUIRE_THAT(engine.Ingest(e), IsOk());
  }
  engine.AdvanceTo(in.until);
  engine.Flush();
  Outcome out;
  for (auto& [time, id] : sink.Take()) out.ids.push_back(std::move(id));
  std::sort(out.ids.begin(), out.ids.end());
  absl::StatusOr<v1::JourneyReport> report = engine.Report(example.journey.id());
  REQUIRE_THAT(StatusOf(report), IsOk());
  out.report = *std::move(report);
  out.values = ValuesOf(in.subjects, example.behaviors,
                        [&](const std::string& subject, const std::string& behavior) {
                          return engine.BehaviorValue("", subject, behavior);
                        });
  return out;
}

void CheckSameOutcome(const Outcome& got, const Outcome& want, bool compare_ids) {
  INFO("got:\n" << got.report.DebugString() << "want:\n" << want.report.DebugString());
  CHECK(google::protobuf::util::MessageDifferencer::Equals(got.report, want.report));
  if (compare_ids) CHECK(got.ids == want.ids);
  REQUIRE(got.values.size() == want.values.size());
  for (size_t i = 0; i < got.values.size(); ++i) CHECK(got.values[i] == want.values[i]);
}

TEST_CASE("Sim parity: a behaviour example simulates as one Engine and a ShardedEngine run it") {
  const LoyaltyLog generated = GenerateLoyalty(200, 12, 5);
  for (const char* name : {"checkin_streak", "share_referral", "repeat_buyer"}) {
    const Example example = LoadExample(name);
    const std::string dir = absl::StrCat(CAIRN_SOURCE_DIR, "/examples/", name, "/");
    struct Log {
      const char* what;
      SimInputs inputs;
    };
    const Log logs[] = {
        {"the example's own log",
         InputsOf(ReadFile(dir + "events.jsonl"), ReadFile(dir + "profiles.jsonl"), 1)},
        {"a generated loyalty log", InputsOf(generated.events, generated.profiles, 7)},
    };
    for (const Log& log : logs) {
      INFO(name << " over " << log.what);
      for (bool deliver : {true, false}) {
        INFO((deliver ? "delivery reports a minute after each send" : "no delivery reports"));
        const Outcome sim = RunSim(example, log.inputs, deliver);
        const Outcome engine = RunEngine(example, log.inputs, deliver);
        REQUIRE(!engine.ids.empty());  // the journey sent something
        CheckSameOutcome(sim, engine, /*compare_ids=*/false);
        // The simulator's report counts sends; the engine's ids are the sends.
        int64_t sent = 0;
        for (const v1::ActionReport& a : sim.report.versions(0).actions()) sent += a.sent();
        CHECK(sent == static_cast<int64_t>(engine.ids.size()));
        if (!deliver) CheckSameOutcome(RunSharded(example, log.inputs), engine, true);
      }
    }
  }
}

// The parity check itself can fail: a journey that sends differently, or a
// behaviour counted differently, is told apart.
TEST_CASE("Sim parity: a different declaration or journey is told apart") {
  const Example example = LoadExample("share_referral");
  const std::string dir = absl::StrCat(CAIRN_SOURCE_DIR, "/examples/share_referral/");
  const SimInputs in = InputsOf(ReadFile(dir + "events.jsonl"), "", 1);
  const Outcome want = RunEngine(example, in, true);

  Example other = example;
  other.behaviors.mutable_behaviors(0)->mutable_event()->set_event("view_product");
  const Outcome counted_otherwise = RunSim(other, in, true);
  CHECK(counted_otherwise.values != want.values);

  other = example;
  other.journey.mutable_nodes(0)->mutable_trigger()->mutable_event()->mutable_profile_filter()
      ->mutable_compare()->mutable_value()->set_int_value(3);
  const Outcome entered_otherwise = RunSim(other, in, true);
  CHECK_FALSE(google::protobuf::util::MessageDifferencer::Equals(entered_otherwise.report,
                                                                 want.report));
  CHECK(entered_otherwise.values == want.values);
}

}  // namespace
}  // namespace cairn::sim
