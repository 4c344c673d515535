// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Loading and saving journeys in text, JSON and binary form, and the bounds
// on how deeply their input may nest.

#include "cairn/journey_io.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cairn/journey.h"
#include "catch2/catch.hpp"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/util/message_differencer.h"
#include "io/journey_format.h"
#include "testing/deep_journey.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::IsOk;
using testing::StatusOf;
using testing::TextJourney;

const char* const kExamples[] = {
    CAIRN_SOURCE_DIR "/examples/cart_abandonment/journey.textproto",
    CAIRN_SOURCE_DIR "/examples/repurchase_fallback/journey.textproto",
    CAIRN_SOURCE_DIR "/examples/game_day1_retention/journey.textproto",
    CAIRN_SOURCE_DIR "/examples/test_drive/journey.textproto",
};

// A scratch file removed at scope exit.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& contents)
      : path_(std::string(CAIRN_TEST_TMPDIR) + "/" + name) {
    std::ofstream out(path_, std::ios::binary);
    out << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST_CASE("Round trip text -> binary -> JSON -> text keeps every example") {
  for (const char* path : kExamples) {
    INFO(path);
    absl::StatusOr<v1::Journey> original = LoadJourneyFile(path);
    REQUIRE_THAT(StatusOf(original), IsOk());

    absl::StatusOr<std::string> binary = SerializeJourney(*original, JourneyFormat::kBinary);
    REQUIRE_THAT(StatusOf(binary), IsOk());
    absl::StatusOr<v1::Journey> from_binary = ParseJourney(*binary, JourneyFormat::kBinary);
    REQUIRE_THAT(StatusOf(from_binary), IsOk());

    absl::StatusOr<std::string> json = SerializeJourney(*from_binary, JourneyFormat::kJson);
    REQUIRE_THAT(StatusOf(json), IsOk());
    absl::StatusOr<v1::Journey> from_json = ParseJourney(*json, JourneyFormat::kJson);
    REQUIRE_THAT(StatusOf(from_json), IsOk());

    absl::StatusOr<std::string> text = SerializeJourney(*from_json, JourneyFormat::kText);
    REQUIRE_THAT(StatusOf(text), IsOk());
    absl::StatusOr<v1::Journey> from_text = ParseJourney(*text, JourneyFormat::kText);
    REQUIRE_THAT(StatusOf(from_text), IsOk());

    CHECK(google::protobuf::util::MessageDifferencer::Equals(*original, *from_text));
    // Serialisation is deterministic: the same journey prints the same bytes.
    CHECK(*SerializeJourney(*original, JourneyFormat::kText) == *text);
    CHECK(*SerializeJourney(*from_text, JourneyFormat::kBinary) == *binary);
  }
}

TEST_CASE("Files load by extension in each format") {
  absl::StatusOr<v1::Journey> original = LoadJourneyFile(kExamples[0]);
  REQUIRE_THAT(StatusOf(original), IsOk());
  for (JourneyFormat format :
       {JourneyFormat::kText, JourneyFormat::kJson, JourneyFormat::kBinary}) {
    const std::string ext = format == JourneyFormat::kText   ? ".txtpb"
                            : format == JourneyFormat::kJson ? ".json"
                                                             : ".binpb";
    INFO(ext);
    TempFile file("roundtrip" + ext, *SerializeJourney(*original, format));
    absl::StatusOr<v1::Journey> loaded = LoadJourneyFile(file.path());
    REQUIRE_THAT(StatusOf(loaded), IsOk());
    CHECK(google::protobuf::util::MessageDifferencer::Equals(*original, *loaded));
  }
}

TEST_CASE("JourneyFormatFromPath knows the extensions and refuses others") {
  CHECK(*JourneyFormatFromPath("a/b.textproto") == JourneyFormat::kText);
  CHECK(*JourneyFormatFromPath("b.pbtxt") == JourneyFormat::kText);
  CHECK(*JourneyFormatFromPath("b.json") == JourneyFormat::kJson);
  CHECK(*JourneyFormatFromPath("b.pb") == JourneyFormat::kBinary);
  absl::StatusOr<JourneyFormat> bad = JourneyFormatFromPath("journey.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(bad.status().message()),
             Catch::StartsWith("journey.yaml: unknown journey file extension"));
  CHECK(JourneyFormatName(JourneyFormat::kJson) == "json");
}

TEST_CASE("A missing file is NotFound and names the path") {
  absl::StatusOr<v1::Journey> j = LoadJourneyFile("/nonexistent/cart.textproto");
  REQUIRE_FALSE(j.ok());
  CHECK(j.status().code() == absl::StatusCode::kNotFound);
  CHECK(j.status().message() == "/nonexistent/cart.textproto: cannot open file");
}

TEST_CASE("Text parse errors give line and column") {
  absl::StatusOr<v1::Journey> j = ParseJourney("id: \"x\"\nversion: one\n", JourneyFormat::kText);
  REQUIRE_FALSE(j.ok());
  CHECK(j.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(j.status().message()),
             Catch::StartsWith("text journey does not parse: 2:10: "));
}

TEST_CASE("A misspelt field is an error, not silently ignored") {
  absl::StatusOr<v1::Journey> text = ParseJourney("id: \"x\" verison: 1", JourneyFormat::kText);
  REQUIRE_FALSE(text.ok());
  CHECK_THAT(std::string(text.status().message()), Catch::Contains("verison"));
  absl::StatusOr<v1::Journey> json =
      ParseJourney(R"({"id": "x", "verison": 1})", JourneyFormat::kJson);
  REQUIRE_FALSE(json.ok());
  CHECK_THAT(std::string(json.status().message()),
             Catch::StartsWith("JSON journey does not parse: "));
  CHECK_THAT(std::string(json.status().message()), Catch::Contains("verison"));
}

TEST_CASE("Malformed JSON and binary are rejected") {
  CHECK_FALSE(ParseJourney("{\"id\": ", JourneyFormat::kJson).ok());
  CHECK_FALSE(ParseJourney(R"({"version": "many"})", JourneyFormat::kJson).ok());
  absl::StatusOr<v1::Journey> bin = ParseJourney("\xff\xff\xff", JourneyFormat::kBinary);
  REQUIRE_FALSE(bin.ok());
  CHECK(bin.status().message() ==
        "binary journey does not parse: not a valid cairn.v1.Journey in protobuf wire format "
        "(or nested more than 64 messages deep)");
}

// protobuf's JSON parser accepts each of these; a duplicate "id" would
// silently rename the journey. Positions are line:column, counting from 1.
TEST_CASE("Strict JSON: trailing commas and duplicate keys are errors with line and column") {
  auto error = [](const std::string& json) {
    absl::StatusOr<v1::Journey> j = ParseJourney(json, JourneyFormat::kJson);
    REQUIRE_FALSE(j.ok());
    CHECK(j.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(j.status().message());
  };
  SECTION("a trailing comma in an object") {
    CHECK(error("{\n  \"id\": \"welcome\",\n  \"version\": 1,\n}\n") ==
          "JSON journey does not parse: 3:15: trailing comma");
  }
  SECTION("a trailing comma in an array") {
    CHECK(error("{\n  \"id\": \"welcome\",\n  \"nodes\": [\n    {\"id\": \"a\"},\n  ]\n}\n") ==
          "JSON journey does not parse: 4:16: trailing comma");
  }
  SECTION("a trailing comma in a nested object") {
    CHECK(error("{\"settings\": {\"state\": \"ACTIVE\", }}") ==
          "JSON journey does not parse: 1:32: trailing comma");
  }
  SECTION("a duplicate key at the top") {
    CHECK(error("{\n  \"id\": \"welcome\",\n  \"version\": 1,\n  \"id\": \"other\"\n}\n") ==
          "JSON journey does not parse: 4:3: duplicate key \"id\" (first at 2:3)");
  }
  SECTION("a duplicate key in a node, as deep as it goes") {
    CHECK(error("{\"id\": \"welcome\", \"nodes\": [\n"
                "  {\"id\": \"a\", \"exit\": {}},\n"
                "  {\"id\": \"f\", \"filter\": {\"predicate\": {\"compare\": {\n"
                "     \"path\": \"event.sku\", \"op\": \"EQ\", \"path\": \"event.x\"}}}}]}") ==
          "JSON journey does not parse: 4:39: duplicate key \"path\" (first at 4:6)");
  }
  SECTION("the same key in two objects is no duplicate") {
    CHECK_THAT(StatusOf(ParseJourney(R"({"id": "w", "nodes": [{"id": "a"}, {"id": "b"}]})",
                                     JourneyFormat::kJson)),
               IsOk());
  }
  SECTION("a key with a control character is escaped in the message") {
    CHECK(error("{\"a\\u001b\": 1, \"a\\u001b\": 2}") ==
          "JSON journey does not parse: 1:16: duplicate key \"a\\u{001B}\" (first at 1:2)");
    // So is a bidirectional override, which JSON quoting would keep.
    CHECK(error("{\"a\\u202e\": 1, \"a\\u202e\": 2}") ==
          "JSON journey does not parse: 1:16: duplicate key \"a\\u{202E}\" (first at 1:2)");
  }
}

TEST_CASE("Strict JSON: the depth protobuf accepts still loads and far deeper is refused") {
  auto nested = [](int nots) {
    std::string predicate;
    for (int i = 0; i < nots; ++i) predicate += "{\"not\": ";
    predicate += "{\"compare\": {\"path\": \"profile.a\"}}" + std::string(nots, '}');
    return absl::StrCat(R"({"nodes": [{"id": "f", "filter": {"predicate": )", predicate,
                        "}}]}");
  };
  // 95 is the deepest protobuf's JSON parser takes here (101 nested objects).
  CHECK_THAT(StatusOf(ParseJourney(nested(95), JourneyFormat::kJson)), IsOk());
  absl::StatusOr<v1::Journey> deep = ParseJourney(nested(300), JourneyFormat::kJson);
  REQUIRE_FALSE(deep.ok());
  CHECK_THAT(std::string(deep.status().message()),
             Catch::Matches("JSON journey does not parse: 1:[0-9]+: nested too deeply"));
}

TEST_CASE("Strict JSON: a file's error reads path: ... line:column") {
  TempFile file("duplicate.json", "{\n  \"id\": \"welcome\",\n  \"id\": \"renamed\"\n}\n");
  absl::StatusOr<v1::Journey> j = LoadJourneyFile(file.path());
  REQUIRE_FALSE(j.ok());
  CHECK(j.status().message() ==
        file.path() + ": JSON journey does not parse: 3:3: duplicate key \"id\" (first at 2:3)");
}

TEST_CASE("Binary journeys with fields this schema does not know are rejected") {
  v1::Journey j;
  j.set_id("x");
  j.add_nodes()->set_id("a");
  std::string bytes = *SerializeJourney(j, JourneyFormat::kBinary);
  REQUIRE(ParseJourney(bytes, JourneyFormat::kBinary).ok());
  // Field 99 of the first node (a varint 1): tag (99 << 3) = 792 = 0x98 0x06.
  std::string node_bytes = j.nodes(0).SerializeAsString() + "\x98\x06\x01";
  std::string with_unknown = std::string("\x0a\x01x") + "\x2a" +
                             static_cast<char>(node_bytes.size()) + node_bytes;
  absl::StatusOr<v1::Journey> parsed = ParseJourney(with_unknown, JourneyFormat::kBinary);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().message() ==
        "binary journey has a field this version of Cairn does not know (nodes[0]: field 99); "
        "it may come from a newer schema");
}

TEST_CASE("A file's parse error is prefixed with its path") {
  TempFile file("broken.json", "{\"nodes\": [");
  absl::StatusOr<v1::Journey> j = LoadJourneyFile(file.path());
  REQUIRE_FALSE(j.ok());
  CHECK_THAT(std::string(j.status().message()),
             Catch::StartsWith(file.path() + ": JSON journey does not parse"));
}

TEST_CASE("JSON uses the proto field names and reads camelCase too") {
  v1::Journey j;
  j.set_id("x");
  j.mutable_settings()->set_default_time_zone("UTC");
  absl::StatusOr<std::string> json = SerializeJourney(j, JourneyFormat::kJson);
  REQUIRE_THAT(StatusOf(json), IsOk());
  CHECK_THAT(*json, Catch::Contains("\"default_time_zone\""));
  absl::StatusOr<v1::Journey> camel =
      ParseJourney(R"({"id": "x", "settings": {"defaultTimeZone": "UTC"}})",
                   JourneyFormat::kJson);
  REQUIRE_THAT(StatusOf(camel), IsOk());
  CHECK(camel->settings().default_time_zone() == "UTC");
}

}  // namespace
}  // namespace cairn

// ---- LoadJourneys ----

namespace cairn {
namespace {

// A fresh directory under the test's temporary directory.
std::string FreshJourneyDir(const std::string& name) {
  const std::string dir = std::string(CAIRN_TEST_TMPDIR) + "/load_journeys_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

std::string Minimal(const std::string& id, int version) {
  return absl::StrCat("id: \"", id, "\" version: ", version, "\n");
}

TEST_CASE("LoadJourneys: every journey file under a directory, by id and version") {
  const std::string dir = FreshJourneyDir("sorted");
  WriteFile(dir + "/z.textproto", Minimal("alpha", 2));
  WriteFile(dir + "/a.textproto", Minimal("beta", 1));
  WriteFile(dir + "/nested/deeper/x.txtpb", Minimal("alpha", 1));
  WriteFile(dir + "/README.md", "not a journey");
  WriteFile(dir + "/CMakeLists.txt", "not a journey either");
  std::filesystem::create_directories(dir + "/looks_like.textproto");  // a directory
  absl::StatusOr<std::vector<v1::Journey>> journeys = LoadJourneys(dir);
  REQUIRE_THAT(testing::StatusOf(journeys), testing::IsOk());
  REQUIRE(journeys->size() == 3);
  CHECK((*journeys)[0].id() == "alpha");
  CHECK((*journeys)[0].version() == 1);
  CHECK((*journeys)[1].id() == "alpha");
  CHECK((*journeys)[1].version() == 2);
  CHECK((*journeys)[2].id() == "beta");

  // A file is loaded on its own.
  absl::StatusOr<std::vector<v1::Journey>> one = LoadJourneys(dir + "/a.textproto");
  REQUIRE_THAT(testing::StatusOf(one), testing::IsOk());
  REQUIRE(one->size() == 1);
  CHECK((*one)[0].id() == "beta");
}

TEST_CASE("LoadJourneys: the examples directory holds every example") {
  absl::StatusOr<std::vector<v1::Journey>> journeys =
      LoadJourneys(std::string(CAIRN_SOURCE_DIR) + "/examples");
  REQUIRE_THAT(testing::StatusOf(journeys), testing::IsOk());
  std::vector<std::string> ids;
  for (const v1::Journey& j : *journeys) ids.push_back(j.id());
  CHECK(ids == std::vector<std::string>{"back_to_school", "birthday_greeting",
                                        "cart_abandonment", "checkin_streak",
                                        "coupon_rollout", "game_day1_retention", "points_expiry", "repeat_buyer",
                                        "repurchase_coupon", "share_referral", "test_drive",
                                        "vip_upgrade", "welcome", "whale_winback"});
}

TEST_CASE("FormatText: every example reads back the same and formats to itself") {
  absl::StatusOr<std::vector<v1::Journey>> journeys =
      LoadJourneys(std::string(CAIRN_SOURCE_DIR) + "/examples");
  REQUIRE_THAT(testing::StatusOf(journeys), testing::IsOk());
  for (const v1::Journey& j : *journeys) {
    INFO(j.id());
    const std::string text = internal::FormatText(j);
    absl::StatusOr<v1::Journey> back = ParseJourney(text, JourneyFormat::kText);
    REQUIRE_THAT(testing::StatusOf(back), testing::IsOk());
    CHECK(google::protobuf::util::MessageDifferencer::Equals(*back, j));
    CHECK(internal::FormatText(*back) == text);
    // Settings come before the nodes.
    CHECK(text.find("\nsettings {") < text.find("\nnodes {"));
  }
}

TEST_CASE("FormatText: small messages on one line, durations with their human form") {
  const v1::Journey j = TextJourney(R"pb(
    id: "j" version: 1 settings { state: ACTIVE }
    nodes { id: "d" delay { duration { seconds: 93784 nanos: 500000000 } next: "e" } }
    nodes { id: "e" exit {} }
  )pb");
  CHECK(internal::FormatText(j) ==
        "id: \"j\"\n"
        "version: 1\n"
        "\n"
        "settings {\n"
        "  state: ACTIVE\n"
        "}\n"
        "\n"
        "nodes {\n"
        "  id: \"d\"\n"
        "  delay {\n"
        "    duration { seconds: 93784 nanos: 500000000 }  # 1d2h3m4.5s\n"
        "    next: \"e\"\n"
        "  }\n"
        "}\n"
        "\n"
        "nodes {\n"
        "  id: \"e\"\n"
        "  exit {}\n"
        "}\n");
}

TEST_CASE("LoadBehaviorSets: every file's behaviours and segments as one set") {
  const std::string dir = FreshJourneyDir("behaviors");
  const std::string purchases =
      "behaviors { name: \"purchases\" event { event: \"purchase\" } function: COUNT }\n";
  const std::string whales =
      "segments { name: \"whales\" condition { compare { path: \"behavior.purchases\" "
      "op: GE value { int_value: 3 } } } }\n";
  WriteFile(dir + "/a/behaviors.textproto", purchases + whales);
  // The same declarations again, beside a journey of their own, plus one more.
  WriteFile(dir + "/b/behaviors.textproto",
            purchases + whales +
                "behaviors { name: \"last_purchase\" event { event: \"purchase\" } "
                "function: LAST_TIME }\n");
  WriteFile(dir + "/b/journey.textproto", Minimal("alpha", 1));
  absl::StatusOr<v1::BehaviorSet> set = LoadBehaviorSets(dir);
  REQUIRE_THAT(testing::StatusOf(set), testing::IsOk());
  REQUIRE(set->behaviors_size() == 2);
  CHECK(set->behaviors(0).name() == "purchases");
  CHECK(set->behaviors(1).name() == "last_purchase");
  REQUIRE(set->segments_size() == 1);
  CHECK(set->segments(0).name() == "whales");

  SECTION("a segment declared differently names both files") {
    WriteFile(dir + "/c/behaviors.textproto",
              "segments { name: \"whales\" condition { compare { path: "
              "\"behavior.purchases\" op: GE value { int_value: 5 } } } }\n");
    absl::StatusOr<v1::BehaviorSet> clash = LoadBehaviorSets(dir);
    CHECK(clash.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(clash.status().message()),
               Catch::Contains("segment \"whales\" is declared differently in " + dir +
                               "/a/behaviors.textproto and " + dir + "/c/behaviors.textproto"));
  }
  SECTION("a behaviour declared differently names both files") {
    WriteFile(dir + "/c/behaviors.textproto",
              "behaviors { name: \"purchases\" event { event: \"order_paid\" } "
              "function: COUNT }\n");
    absl::StatusOr<v1::BehaviorSet> clash = LoadBehaviorSets(dir);
    CHECK(clash.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(clash.status().message()),
               Catch::Contains("behaviour \"purchases\" is declared differently in " + dir +
                               "/a/behaviors.textproto and " + dir + "/c/behaviors.textproto"));
  }
}

TEST_CASE("LoadBehaviorSets: the examples' declarations load as one set") {
  absl::StatusOr<v1::BehaviorSet> set =
      LoadBehaviorSets(std::string(CAIRN_SOURCE_DIR) + "/examples");
  REQUIRE_THAT(testing::StatusOf(set), testing::IsOk());
  std::vector<std::string> segments;
  for (const v1::Segment& s : set->segments()) segments.push_back(s.name());
  CHECK(segments == std::vector<std::string>{"recently_stopped", "whales", "lapsed_whales"});
}

TEST_CASE("LoadJourneys: errors name the files") {
  SECTION("two files with the same id and version") {
    const std::string dir = FreshJourneyDir("twice");
    WriteFile(dir + "/a.textproto", Minimal("alpha", 1));
    WriteFile(dir + "/b/c.textproto", Minimal("alpha", 1));
    absl::StatusOr<std::vector<v1::Journey>> j = LoadJourneys(dir);
    CHECK(j.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(j.status().message()),
               Catch::Contains(dir + "/a.textproto and " + dir + "/b/c.textproto both hold "
                               "journey \"alpha\" version 1"));
  }
  SECTION("no journey files") {
    const std::string dir = FreshJourneyDir("empty");
    WriteFile(dir + "/notes.txt", "x");
    absl::StatusOr<std::vector<v1::Journey>> j = LoadJourneys(dir);
    CHECK(j.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(j.status().message()), Catch::Contains(dir + ": no journey files"));
  }
  SECTION("a file that does not parse") {
    const std::string dir = FreshJourneyDir("bad");
    WriteFile(dir + "/good.textproto", Minimal("alpha", 1));
    WriteFile(dir + "/bad.textproto", "id: \"beta\" versoin: 1\n");
    absl::StatusOr<std::vector<v1::Journey>> j = LoadJourneys(dir);
    CHECK(j.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(j.status().message()), Catch::Contains(dir + "/bad.textproto: "));
  }
  SECTION("a missing path") {
    absl::StatusOr<std::vector<v1::Journey>> j = LoadJourneys("/no/such/dir.textproto");
    CHECK(j.status().code() == absl::StatusCode::kNotFound);
  }
}

// Each loader recursed once per level of nesting with no bound: 10,000
// levels overflowed the stack (exit 139).
TEST_CASE("Input nested 10,000 deep is refused in every format, not a crash") {
  using testing::Nesting;
  for (Nesting nesting : {Nesting::kNot, Nesting::kAll}) {
    const absl::Status text =
        ParseJourney(testing::DeepJourneyText(10000, nesting), JourneyFormat::kText).status();
    INFO(text.ToString());
    CHECK(text.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(text.message()),
               Catch::StartsWith("text journey does not parse: ") &&
                   Catch::Contains("exceeded the configured recursion limit of 64"));
  }
  const TempFile file("deep.textproto", testing::DeepJourneyText(10000, testing::Nesting::kNot));
  const absl::Status loaded = LoadJourneyFile(file.path()).status();
  CHECK(loaded.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(loaded.message()), Catch::Contains("recursion limit"));

  const absl::Status json =
      ParseJourney(testing::DeepJourneyJson(10000), JourneyFormat::kJson).status();
  INFO(json.ToString());
  CHECK(json.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(json.message()), Catch::StartsWith("JSON journey does not parse: "));

  // Binary: built in memory (protobuf serializes any depth), refused on read.
  const absl::Status binary =
      ParseJourney(testing::DeepJourneyInMemory(10000).SerializeAsString(),
                   JourneyFormat::kBinary)
          .status();
  INFO(binary.ToString());
  CHECK(binary.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(binary.message()), Catch::Contains("nested more than 64 messages deep"));
}

// Every journey the compiler accepts must load back from what it is saved
// as: a journey deployed through Kafka or held in a checkpoint is stored in
// binary, and is decoded inside records that wrap it in more levels.
TEST_CASE("A journey with predicates at the depth limit round-trips through every format") {
  using testing::Nesting;
  for (Nesting nesting : {Nesting::kAll, Nesting::kNot}) {
    const v1::Journey j =
        TextJourney(testing::DeepJourneyText(kMaxPredicateDepth, nesting));
    REQUIRE_THAT(StatusOf(Compile(j)), IsOk());
    for (JourneyFormat format :
         {JourneyFormat::kText, JourneyFormat::kJson, JourneyFormat::kBinary}) {
      INFO(JourneyFormatName(format));
      absl::StatusOr<std::string> bytes = SerializeJourney(j, format);
      REQUIRE_THAT(StatusOf(bytes), IsOk());
      absl::StatusOr<v1::Journey> back = ParseJourney(*bytes, format);
      REQUIRE_THAT(StatusOf(back), IsOk());
      CHECK(google::protobuf::util::MessageDifferencer::Equals(*back, j));
    }
    // With room to spare under protobuf's default bound for the records
    // that carry a journey.
    const std::string binary = j.SerializeAsString();
    google::protobuf::io::CodedInputStream input(
        reinterpret_cast<const uint8_t*>(binary.data()), static_cast<int>(binary.size()));
    input.SetRecursionLimit(100 - 8);
    v1::Journey back;
    CHECK(back.ParseFromCodedStream(&input));
  }
}

}  // namespace
}  // namespace cairn
