// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Checking a journey file's text for `cairn validate`: every syntax error
// of a text file, enum values listed, and compiler problems placed at the
// lines of text and JSON files.

#include "io/journey_check.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"

namespace cairn::internal {
namespace {

// A valid journey in text format; its lines are numbered in the comments
// the tests below rely on.
constexpr char kValidText[] = R"pb(id: "j"
version: 1
settings { state: ACTIVE }
nodes {
  id: "t"
  trigger { event { matcher { event: "signup" } } next: "wait" }
}
nodes {
  id: "wait"
  delay { duration { seconds: 60 } next: "done" }
}
nodes { id: "done" exit {} }
)pb";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

TEST_CASE("JourneyCheck: a valid text journey has no problems") {
  const JourneyCheck check = CheckJourneyText(kValidText, JourneyFormat::kText);
  CHECK(check.problems.empty());
  CHECK(check.valid());
  REQUIRE(check.journey.has_value());
  CHECK(check.journey->nodes_size() == 3);
}

TEST_CASE("JourneyCheck: two syntax errors in a text file are both reported with line and column") {
  std::string text = Replace(kValidText, "version: 1", "verison: 1");
  text = Replace(text, "next: \"done\"", "nxet: \"done\"");
  const JourneyCheck check = CheckJourneyText(text, JourneyFormat::kText);
  CHECK_FALSE(check.valid());
  CHECK_FALSE(check.journey.has_value());
  REQUIRE(check.problems.size() == 2);
  CHECK(check.problems[0].line == 2);
  CHECK(check.problems[0].column == 1);
  CHECK(check.problems[0].message ==
        "Message type \"cairn.v1.Journey\" has no field named \"verison\"; did you mean "
        "\"version\"?");
  CHECK(check.problems[1].line == 10);
  CHECK(check.problems[1].column == 36);
  CHECK(check.problems[1].message ==
        "Message type \"cairn.v1.Delay\" has no field named \"nxet\"; did you mean \"next\"?");
}

TEST_CASE("JourneyCheck: an error on a line that opens a block skips the block") {
  // The misspelt node's block is left out whole; the error after it is
  // still found, and nothing in between is reported.
  std::string text = Replace(kValidText, "  delay { duration", "  dealy { duration");
  text = Replace(text, "nodes { id: \"done\" exit {} }", "nodes { id: \"done\" exti {} }");
  const JourneyCheck check = CheckJourneyText(text, JourneyFormat::kText);
  REQUIRE(check.problems.size() == 2);
  CHECK(check.problems[0].line == 10);
  CHECK_THAT(check.problems[0].message, Catch::Contains("\"dealy\""));
  CHECK(check.problems[1].line == 12);
  CHECK_THAT(check.problems[1].message, Catch::Contains("\"exti\"; did you mean \"exit\"?"));
}

TEST_CASE("JourneyCheck: a text enum value that does not exist lists the valid ones") {
  const std::string text = Replace(
      kValidText, "duration { seconds: 60 }",
      "relative { path: \"entry.at\" offset { seconds: 0 } if_past: SKIP }");
  const JourneyCheck check = CheckJourneyText(text, JourneyFormat::kText);
  REQUIRE(check.problems.size() == 1);
  CHECK(check.problems[0].line == 10);
  CHECK(check.problems[0].column == 70);
  CHECK(check.problems[0].message ==
        "unknown value SKIP for field if_past; valid values: CONTINUE, EXIT");
}

TEST_CASE("JourneyCheck: a compiler problem in a text file is at its field's line") {
  const std::string text = Replace(kValidText, "seconds: 60", "seconds: -60");
  const JourneyCheck check = CheckJourneyText(text, JourneyFormat::kText);
  CHECK_FALSE(check.valid());
  REQUIRE(check.journey.has_value());
  REQUIRE(check.problems.size() == 1);
  const SourceProblem& p = check.problems[0];
  CHECK(p.field == "nodes[1].delay.duration");
  CHECK(p.node_id == "wait");
  CHECK(p.line == 10);
  CHECK(p.column == 11);
  CHECK_THAT(p.Describe(), Catch::StartsWith("node wait, field delay.duration: "));
}

TEST_CASE("JourneyCheck: a problem with an absent field is at the deepest field present") {
  // The delay has no duration at all: the problem names delay.duration,
  // the text holds only delay.
  const std::string text = Replace(kValidText, "duration { seconds: 60 } ", "");
  const JourneyCheck check = CheckJourneyText(text, JourneyFormat::kText);
  REQUIRE_FALSE(check.problems.empty());
  CHECK(check.problems[0].line == 10);
  CHECK(check.problems[0].column == 3);
}

// kValidText as JSON, one member a line.
constexpr char kValidJson[] = R"({
  "id": "j",
  "version": 1,
  "settings": {"state": "ACTIVE"},
  "nodes": [
    {"id": "t",
     "trigger": {"event": {"matcher": {"event": "signup"}}, "next": "wait"}},
    {"id": "wait",
     "delay": {
       "duration": "60s",
       "next": "done"}},
    {"id": "done", "exit": {}}
  ]
}
)";

TEST_CASE("JourneyCheck: a valid JSON journey has no problems") {
  const JourneyCheck check = CheckJourneyText(kValidJson, JourneyFormat::kJson);
  CHECK(check.problems.empty());
  CHECK(check.valid());
}

TEST_CASE("JourneyCheck: a compiler problem in a JSON file is at its key's line") {
  const std::string text = Replace(kValidJson, "\"60s\"", "\"-60s\"");
  const JourneyCheck check = CheckJourneyText(text, JourneyFormat::kJson);
  REQUIRE(check.problems.size() == 1);
  CHECK(check.problems[0].field == "nodes[1].delay.duration");
  CHECK(check.problems[0].line == 10);
  CHECK(check.problems[0].column == 8);
}

TEST_CASE("JourneyCheck: a JSON key in lowerCamelCase is located too") {
  const std::string text =
      Replace(kValidJson, "\"duration\": \"60s\"", "\"untilTimeOfDay\": {\"hour\": 25}");
  const JourneyCheck check = CheckJourneyText(text, JourneyFormat::kJson);
  REQUIRE(check.problems.size() == 1);
  CHECK(check.problems[0].field == "nodes[1].delay.until_time_of_day.hour");
  CHECK(check.problems[0].line == 10);
  CHECK(check.problems[0].column == 27);
}

TEST_CASE("JourneyCheck: a JSON syntax error has line and column") {
  const std::string text = Replace(kValidJson, "\"next\": \"done\"}}", "\"next\": \"done\",}}");
  const JourneyCheck check = CheckJourneyText(text, JourneyFormat::kJson);
  REQUIRE(check.problems.size() == 1);
  CHECK(check.problems[0].line == 11);
  CHECK(check.problems[0].column == 22);
  CHECK(check.problems[0].message == "trailing comma");
}

TEST_CASE("JourneyCheck: a JSON field protobuf does not know is at its key") {
  const std::string text = Replace(kValidJson, "\"next\": \"done\"}}", "\"nxet\": \"done\"}}");
  const JourneyCheck check = CheckJourneyText(text, JourneyFormat::kJson);
  REQUIRE(check.problems.size() == 1);
  CHECK(check.problems[0].field == "nodes[1].delay.nxet");
  CHECK(check.problems[0].line == 11);
  CHECK(check.problems[0].column == 8);
  CHECK(check.problems[0].message == "no such field; did you mean \"next\"?");
}

TEST_CASE("JourneyCheck: an unknown JSON field far from any name lists the message's fields") {
  const std::string text =
      Replace(kValidJson, "\"next\": \"done\"}}", "\"next\": \"done\", \"colour\": 1}}");
  const JourneyCheck check = CheckJourneyText(text, JourneyFormat::kJson);
  REQUIRE(check.problems.size() == 1);
  CHECK(check.problems[0].field == "nodes[1].delay.colour");
  CHECK_THAT(check.problems[0].message,
             Catch::StartsWith("no such field; its fields: duration, until_time_of_day, relative,"));
}

TEST_CASE("JourneyCheck: a JSON enum value that does not exist lists the valid ones") {
  const std::string text = Replace(kValidJson, "\"ACTIVE\"", "\"ACTIV\"");
  const JourneyCheck check = CheckJourneyText(text, JourneyFormat::kJson);
  REQUIRE(check.problems.size() == 1);
  CHECK(check.problems[0].field == "settings.state");
  CHECK(check.problems[0].line == 4);
  CHECK(check.problems[0].column == 16);
  CHECK(check.problems[0].message ==
        "unknown value ACTIV for field state; valid values: ACTIVE, PAUSED, STOPPED");
}

TEST_CASE("JourneyCheck: a binary journey's problems have no place") {
  const JourneyCheck check = CheckJourneyText("\xff\xff", JourneyFormat::kBinary);
  REQUIRE(check.problems.size() == 1);
  CHECK(check.problems[0].line == 0);
  CHECK_THAT(check.problems[0].message, Catch::Contains("does not parse"));
}

}  // namespace
}  // namespace cairn::internal
