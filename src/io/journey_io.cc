// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/journey_io.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cairn/journey.h"
#include "cairn/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "json/json.h"

namespace cairn {
namespace {

// Deeper than protobuf's JSON parser lets a journey nest (100 objects), so
// that the strict reading below refuses no journey for its depth alone;
// protobuf's limit and message apply as before.
constexpr int kJsonJourneyMaxDepth = 128;

// The deepest a valid journey nests, below the Journey itself: a sequence
// step's matcher (Node, Trigger, SequenceTrigger, EventMatcher) holds the
// root Predicate at level 5, each further predicate level adds a
// PredicateList and a Predicate, and the innermost comparison holds a
// Comparison, a Value and a StringList.
constexpr int kDeepestValidJourney = 5 + 2 * (kMaxPredicateDepth - 1) + 3;
static_assert(kDeepestValidJourney <= kMaxJourneyMessageDepth,
              "the loaders must accept every journey the compiler accepts");
// Protobuf's own decoders (Kafka records, snapshots) stop at 100 levels, and
// they wrap journeys in a few more.
static_assert(kMaxJourneyMessageDepth + 8 <= 100);

// Collects text-format parse errors as "line:column: message".
class TextErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    // The parser counts from zero; editors count from one.
    errors_.push_back(absl::StrCat(line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, int column, const std::string& message) override {
    errors_.push_back(
        absl::StrCat(line + 1, ":", column + 1, ": warning: ", message));
  }
  std::string Joined() const { return absl::StrJoin(errors_, "; "); }

 private:
  std::vector<std::string> errors_;
};

// The path of the first field in `message` (recursively) that the schema
// does not know, with its number, e.g. "nodes[2].action: field 17"; empty
// when there is none. The wire format keeps such fields silently, but a
// journey from a newer schema may rely on them, so they are refused.
std::string FindUnknownField(const google::protobuf::Message& message,
                             const std::string& path) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* reflection = message.GetReflection();
  const google::protobuf::UnknownFieldSet& unknown = reflection->GetUnknownFields(message);
  if (!unknown.empty()) {
    return absl::StrCat(path.empty() ? "" : absl::StrCat(path, ": "), "field ",
                        unknown.field(0).number());
  }
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string prefix = path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        std::string found = FindUnknownField(reflection->GetRepeatedMessage(message, field, i),
                                             absl::StrCat(prefix, "[", i, "]"));
        if (!found.empty()) return found;
      }
    } else {
      std::string found = FindUnknownField(reflection->GetMessage(message, field), prefix);
      if (!found.empty()) return found;
    }
  }
  return "";
}

}  // namespace

absl::string_view JourneyFormatName(JourneyFormat format) {
  switch (format) {
    case JourneyFormat::kText:
      return "text";
    case JourneyFormat::kJson:
      return "json";
    case JourneyFormat::kBinary:
      return "binary";
  }
  return "?";
}

absl::StatusOr<JourneyFormat> JourneyFormatFromPath(absl::string_view path) {
  for (absl::string_view ext : {".textproto", ".txtpb", ".pbtxt"}) {
    if (absl::EndsWith(path, ext)) return JourneyFormat::kText;
  }
  if (absl::EndsWith(path, ".json")) return JourneyFormat::kJson;
  for (absl::string_view ext : {".binpb", ".pb"}) {
    if (absl::EndsWith(path, ext)) return JourneyFormat::kBinary;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": unknown journey file extension; use .textproto (or .txtpb, "
            ".pbtxt), .json, or .binpb (or .pb)"));
}

namespace {

// Parses `data` as `format` into *message, whose kind `what` names in
// errors ("journey", "behaviour set"); the rules of ParseJourney.
absl::Status ParseMessage(absl::string_view data, JourneyFormat format, absl::string_view what,
                          google::protobuf::Message* message) {
  google::protobuf::Message& journey = *message;
  switch (format) {
    case JourneyFormat::kText: {
      google::protobuf::TextFormat::Parser parser;
      // Unlimited by default in this protobuf: a deep enough input would
      // overflow the stack.
      parser.SetRecursionLimit(kMaxJourneyMessageDepth);
      TextErrorCollector errors;
      parser.RecordErrorsTo(&errors);
      google::protobuf::io::ArrayInputStream input(
          data.data(), static_cast<int>(data.size()));
      if (!parser.Parse(&input, &journey)) {
        return absl::InvalidArgumentError(
            absl::StrCat("text ", what, " does not parse: ", errors.Joined()));
      }
      return absl::OkStatus();
    }
    case JourneyFormat::kJson: {
      // protobuf's JSON parser accepts trailing commas and lets a repeated
      // key replace the first (a second "id" renames the journey), and
      // locates its errors by echoing the text around them. Cairn's strict
      // reader goes over the document first: it refuses both, in every
      // object, and says line:column.
      json::JsonReadOptions strict;
      strict.lines = true;
      strict.max_depth = kJsonJourneyMaxDepth;
      if (absl::StatusOr<json::JsonValue> checked = json::ParseJson(data, strict);
          !checked.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("JSON ", what, " does not parse: ", checked.status().message()));
      }
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = false;
      auto status = google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(data.data(), data.size()), &journey,
          options);
      if (!status.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "JSON ", what, " does not parse: ", status.message().as_string()));
      }
      return absl::OkStatus();
    }
    case JourneyFormat::kBinary: {
      if (data.size() > static_cast<size_t>(INT32_MAX)) {
        return absl::InvalidArgumentError(
            absl::StrCat("binary ", what, " does not parse: larger than 2 GiB"));
      }
      google::protobuf::io::CodedInputStream input(
          reinterpret_cast<const uint8_t*>(data.data()), static_cast<int>(data.size()));
      input.SetRecursionLimit(kMaxJourneyMessageDepth);
      if (!journey.ParseFromCodedStream(&input) || !input.ConsumedEntireMessage()) {
        // The parser does not say which: both read as a bad encoding.
        return absl::InvalidArgumentError(absl::StrCat(
            "binary ", what, " does not parse: not a valid ", journey.GetTypeName(),
            " in protobuf wire format (or nested more than ", kMaxJourneyMessageDepth,
            " messages deep)"));
      }
      if (std::string unknown = FindUnknownField(journey, ""); !unknown.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "binary ", what, " has a field this version of Cairn does not know (", unknown,
            "); it may come from a newer schema"));
      }
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown ", what, " format"));
}

// Reads `path` and parses it by its extension (see ParseMessage).
absl::Status LoadMessageFile(const std::string& path, absl::string_view what,
                             google::protobuf::Message* message) {
  absl::StatusOr<JourneyFormat> format = JourneyFormatFromPath(path);
  if (!format.ok()) return format.status();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is a directory, not a ", what, " file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat(path, ": read error"));
  }
  absl::Status parsed = ParseMessage(contents.str(), *format, what, message);
  if (!parsed.ok()) {
    return absl::Status(parsed.code(), absl::StrCat(path, ": ", parsed.message()));
  }
  return absl::OkStatus();
}

// The files in a journey format under directory `dir` (recursively), in
// path order: the behaviour files (named kBehaviorSetFileStem) when
// `behaviors`, else every other one.
absl::StatusOr<std::vector<std::string>> DefinitionFiles(const std::string& dir, bool behaviors) {
  std::vector<std::string> files;
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    if ((it->path().stem().string() == kBehaviorSetFileStem) != behaviors) continue;
    const std::string file = it->path().string();
    if (JourneyFormatFromPath(file).ok()) files.push_back(file);
  }
  if (ec) return absl::NotFoundError(absl::StrCat(dir, ": ", ec.message()));
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListJourneyFiles(const std::string& dir) {
  return DefinitionFiles(dir, /*behaviors=*/false);
}

absl::StatusOr<v1::Journey> ParseJourney(absl::string_view data, JourneyFormat format) {
  v1::Journey journey;
  CAIRN_RETURN_IF_ERROR(ParseMessage(data, format, "journey", &journey));
  return journey;
}

absl::StatusOr<v1::BehaviorSet> ParseBehaviorSet(absl::string_view data, JourneyFormat format) {
  v1::BehaviorSet set;
  CAIRN_RETURN_IF_ERROR(ParseMessage(data, format, "behaviour set", &set));
  return set;
}

absl::StatusOr<v1::Journey> LoadJourneyFile(const std::string& path) {
  v1::Journey journey;
  CAIRN_RETURN_IF_ERROR(LoadMessageFile(path, "journey", &journey));
  return journey;
}

absl::StatusOr<v1::BehaviorSet> LoadBehaviorSetFile(const std::string& path) {
  v1::BehaviorSet set;
  CAIRN_RETURN_IF_ERROR(LoadMessageFile(path, "behaviour set", &set));
  return set;
}

namespace {

// Adds `item` (a behaviour or a segment, `kind` naming which) from `file` to
// `merged` unless `merged` already holds the same declaration under its
// name; InvalidArgument naming both files when it holds a different one.
// `declared_in`: each name in `merged`, with its index there and its file.
template <typename Item>
absl::Status MergeDeclaration(const Item& item, const std::string& file, const char* kind,
                              std::map<std::string, std::pair<int, std::string>>* declared_in,
                              google::protobuf::RepeatedPtrField<Item>* merged) {
  auto [at, added] = declared_in->emplace(item.name(), std::make_pair(merged->size(), file));
  if (added) {
    *merged->Add() = item;
    return absl::OkStatus();
  }
  if (google::protobuf::util::MessageDifferencer::Equals(merged->Get(at->second.first), item)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(kind, " \"", item.name(),
                                                 "\" is declared differently in ",
                                                 at->second.second, " and ", file));
}

}  // namespace

absl::StatusOr<v1::BehaviorSet> LoadBehaviorSets(const std::string& path) {
  v1::BehaviorSet merged;
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return merged;
  CAIRN_ASSIGN_OR_RETURN(const std::vector<std::string> files,
                         DefinitionFiles(path, /*behaviors=*/true));
  std::map<std::string, std::pair<int, std::string>> behaviors, segments;
  for (const std::string& file : files) {
    absl::StatusOr<v1::BehaviorSet> set = LoadBehaviorSetFile(file);
    if (!set.ok()) return set.status();
    for (const v1::Behavior& b : set->behaviors()) {
      CAIRN_RETURN_IF_ERROR(
          MergeDeclaration(b, file, "behaviour", &behaviors, merged.mutable_behaviors()));
    }
    for (const v1::Segment& s : set->segments()) {
      CAIRN_RETURN_IF_ERROR(
          MergeDeclaration(s, file, "segment", &segments, merged.mutable_segments()));
    }
  }
  return merged;
}

absl::StatusOr<std::vector<v1::Journey>> LoadJourneys(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    absl::StatusOr<v1::Journey> journey = LoadJourneyFile(path);
    if (!journey.ok()) return journey.status();
    return std::vector<v1::Journey>{*std::move(journey)};
  }
  // behaviors.<ext> beside a journey holds its behaviours (cairn sim reads
  // it), not a journey.
  CAIRN_ASSIGN_OR_RETURN(const std::vector<std::string> files, ListJourneyFiles(path));
  if (files.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": no journey files (.textproto, .txtpb, .pbtxt, .json, .binpb, .pb)"));
  }
  std::vector<std::pair<v1::Journey, std::string>> loaded;
  for (const std::string& file : files) {
    absl::StatusOr<v1::Journey> journey = LoadJourneyFile(file);
    if (!journey.ok()) return journey.status();
    loaded.emplace_back(*std::move(journey), file);
  }
  std::stable_sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.first.id(), a.first.version()) <
           std::make_pair(b.first.id(), b.first.version());
  });
  for (size_t i = 1; i < loaded.size(); ++i) {
    if (loaded[i].first.id() == loaded[i - 1].first.id() &&
        loaded[i].first.version() == loaded[i - 1].first.version()) {
      return absl::InvalidArgumentError(absl::StrCat(
          loaded[i - 1].second, " and ", loaded[i].second, " both hold journey \"",
          loaded[i].first.id(), "\" version ", loaded[i].first.version()));
    }
  }
  std::vector<v1::Journey> out;
  for (auto& [journey, file] : loaded) out.push_back(std::move(journey));
  return out;
}

absl::StatusOr<std::string> SerializeJourney(const v1::Journey& journey,
                                             JourneyFormat format) {
  std::string out;
  switch (format) {
    case JourneyFormat::kText: {
      google::protobuf::TextFormat::Printer printer;
      if (!printer.PrintToString(journey, &out)) {
        return absl::InternalError("journey cannot be printed as text");
      }
      return out;
    }
    case JourneyFormat::kJson: {
      google::protobuf::util::JsonPrintOptions options;
      options.add_whitespace = true;
      options.preserve_proto_field_names = true;
      auto status =
          google::protobuf::util::MessageToJsonString(journey, &out, options);
      if (!status.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "journey cannot be printed as JSON: ", status.message().as_string()));
      }
      return out;
    }
    case JourneyFormat::kBinary: {
      google::protobuf::io::StringOutputStream stream(&out);
      google::protobuf::io::CodedOutputStream coded(&stream);
      coded.SetSerializationDeterministic(true);
      if (!journey.SerializeToCodedStream(&coded)) {
        return absl::InternalError("journey cannot be serialized");
      }
      coded.Trim();
      return out;
    }
  }
  return absl::InvalidArgumentError("unknown journey format");
}

}  // namespace cairn
