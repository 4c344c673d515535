// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The simulator: statistics against hand-computed values, the event-log
// format and its error reports, the generator's determinism, simulated
// channel rates, and a golden picture.

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "cairn/cairn.h"
#include "catch2/catch.hpp"
#include "sim/event_log.h"
#include "sim/generator.h"
#include "sim/json.h"
#include "sim/render.h"
#include "sim/simulator.h"
#include "sim/stats.h"
#include "testing/test_util.h"

namespace cairn::sim {
namespace {

using testing::IsOk;
using testing::StatusOf;
using testing::TextJourney;

// Expected values were computed by hand from the textbook formulas (and, for
// chi-square, the closed forms of the survival function for even degrees of
// freedom: df 2 -> exp(-x/2), df 4 -> exp(-x/2)(1 + x/2)).
TEST_CASE("Wilson score interval") {
  Interval i = WilsonInterval(45, 100);
  CHECK(i.low == Approx(0.3561453797951198).margin(1e-9));
  CHECK(i.high == Approx(0.5475539700255787).margin(1e-9));
  i = WilsonInterval(0, 10);
  CHECK(i.low == Approx(0.0).margin(1e-9));
  CHECK(i.high == Approx(0.2775327998628892).margin(1e-9));
  i = WilsonInterval(10, 10);
  CHECK(i.low == Approx(0.7224672001371107).margin(1e-9));
  CHECK(i.high == Approx(1.0).margin(1e-9));
  i = WilsonInterval(0, 0);
  CHECK(i.low == 0);
  CHECK(i.high == 0);
}

TEST_CASE("Two-proportion z-test") {
  TestResult t = TwoProportionZTest(120, 1000, 90, 1000);
  REQUIRE(t.valid);
  CHECK(t.statistic == Approx(2.1882658846227234).margin(1e-6));
  CHECK(t.p_value == Approx(0.028650240398448486).margin(1e-6));
  CHECK_FALSE(TwoProportionZTest(0, 0, 5, 10).valid);
  CHECK_FALSE(TwoProportionZTest(0, 10, 0, 10).valid);  // no variance
}

TEST_CASE("Chi-square test of independence") {
  TestResult t = ChiSquareTest({30, 45, 60}, {300, 300, 300});
  REQUIRE(t.valid);
  CHECK(t.degrees_of_freedom == 2);
  CHECK(t.statistic == Approx(11.764705882352942).margin(1e-6));
  CHECK(t.p_value == Approx(0.002788217040049421).margin(1e-6));
  t = ChiSquareTest({10, 20, 30, 25, 15}, {100, 100, 100, 100, 100});
  CHECK(t.degrees_of_freedom == 4);
  CHECK(t.statistic == Approx(15.625).margin(1e-6));
  CHECK(t.p_value == Approx(0.003565935554687706).margin(1e-6));
  // For two arms, chi-square's p equals the z-test's.
  t = ChiSquareTest({120, 90}, {1000, 1000});
  CHECK(t.statistic == Approx(4.788507581803671).margin(1e-6));
  CHECK(t.p_value == Approx(0.02865024039844844).margin(1e-6));
  CHECK_FALSE(ChiSquareTest({1}, {10}).valid);
  CHECK(RegularizedGammaQ(1.5, 0) == 1);
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
  CHECK(error(R"({"a":1,})") == "column 8: expected a key string");
  CHECK(error(R"({"a":1 "b":2})") == "column 8: expected ',' or '}'");
  CHECK(error(R"({"a":01})") == "column 6: leading zero");
  CHECK(error(R"({"a":"x)") == "column 8: unterminated string");
  CHECK(error(R"({"a":tru})") == "column 6: invalid literal");
  CHECK(error(R"({"a":1,"a":2})") == "column 11: duplicate key \"a\"");
  CHECK(error(R"({"a":"\ud800"})") == "column 13: unpaired surrogate");
  CHECK(error("{} x") == "column 4: unexpected text after the value");
  CHECK(error(std::string(100, '[')) == "column 66: nested too deeply");
  CHECK(error("") == "column 1: unexpected end of input");
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
  for (Scenario s : {Scenario::kEcommerce, Scenario::kGame}) {
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
  CHECK_FALSE(ParseScenario("bank").ok());
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
  std::vector<AbResult> ab = AnalyzeSplits(j, r->report);
  REQUIRE(ab.size() == 1);
  CHECK(ab[0].goal == "goal");
  REQUIRE(ab[0].arms.size() == 2);
  CHECK(ab[0].arms[0].variant == "control");
  CHECK(ab[0].arms[0].control);
  CHECK(ab[0].arms[1].rate == Approx(0.2).margin(0.02));
  CHECK(ab[0].arms[0].rate == Approx(0.1).margin(0.02));
  CHECK(*ab[0].arms[1].lift == Approx(1.0).margin(0.3));
  CHECK(ab[0].significant);
  CHECK_THAT(ab[0].verdict, Catch::StartsWith("Significant (p = < 0.0001): mail converts better "
                                              "than control"));
  const std::string text = RenderText(j, *r);
  CHECK_THAT(text, Catch::Contains("A/B  goal goal by split ab"));
  CHECK_THAT(text, Catch::Contains("Funnel: 2,000 entered, 2,000 exited, 0 in flight"));
  CHECK_THAT(text, Catch::Contains("enter signed_up"));  // the trace of u0
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

}  // namespace
}  // namespace cairn::sim
