// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Reading and writing journey definitions in the three protobuf encodings:
// text format (.textproto), proto3 JSON (.json) and binary wire format
// (.binpb); and reading behaviour declarations (cairn.v1.BehaviorSet) the
// same ways.
//
// Thread-safety: every function here is safe to call concurrently.

#ifndef CAIRN_JOURNEY_IO_H_
#define CAIRN_JOURNEY_IO_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/v1/behavior.pb.h"
#include "cairn/v1/journey.pb.h"

namespace cairn {

// An encoding of a cairn.v1.Journey.
enum class JourneyFormat {
  kText,    // protobuf text format; extensions .textproto .txtpb .pbtxt
  kJson,    // proto3 JSON mapping; extension .json
  kBinary,  // protobuf wire format; extensions .binpb .pb
};

// "text", "json" or "binary".
absl::string_view JourneyFormatName(JourneyFormat format);

// The format a file name's extension implies. InvalidArgument, naming the
// path and the accepted extensions, for anything else.
absl::StatusOr<JourneyFormat> JourneyFormatFromPath(absl::string_view path);

// The deepest message nesting the text and binary loaders accept, counted
// below the Journey (a node is one level, its trigger two, ...). Parsing
// recurses once per level, so this bounds the stack whatever the input;
// deeper input is refused with a parse error. It admits any journey whose
// predicates are within kMaxPredicateDepth, wherever they sit, so that the
// compiler can name the node and field of one too deep. JSON is bounded
// by protobuf's JSON parser, which refuses objects and arrays nested more
// than 100 deep.
inline constexpr int kMaxJourneyMessageDepth = 64;

// Parses a journey from `data`. Errors are InvalidArgument and say where the
// input is wrong: line and column for text and for JSON syntax, the field's
// path for JSON that parses but does not fit the schema. JSON must be strict
// RFC 8259: a trailing comma or a key repeated in one object is an error
// (protobuf alone would let the last of two values win).
// Unknown fields are rejected in every format: in text and JSON a misspelt
// field name must not be silently ignored, and in binary a field from a newer
// schema may change what the journey means. Parsing does not validate the
// graph; see cairn::Compile / cairn::ValidateJourney. Input nested deeper
// than kMaxJourneyMessageDepth is refused.
//
// Example:
//   absl::StatusOr<cairn::v1::Journey> j =
//       cairn::ParseJourney(R"pb(id: "welcome" version: 1)pb",
//                           cairn::JourneyFormat::kText);
absl::StatusOr<v1::Journey> ParseJourney(absl::string_view data,
                                         JourneyFormat format);

// Reads and parses a journey file, choosing the format by extension.
// NotFound when the file cannot be opened; errors name the path.
absl::StatusOr<v1::Journey> LoadJourneyFile(const std::string& path);

// A behaviour set (Engine::DeclareBehaviors), parsed and read by the rules
// of ParseJourney and LoadJourneyFile. Parsing does not validate the
// declarations; DeclareBehaviors does.
absl::StatusOr<v1::BehaviorSet> ParseBehaviorSet(absl::string_view data, JourneyFormat format);
absl::StatusOr<v1::BehaviorSet> LoadBehaviorSetFile(const std::string& path);

// Loads a journey file, or every journey file under a directory (searched
// recursively; files whose extension is not a journey format are skipped,
// and so are behaviour files, named kBehaviorSetFileStem),
// sorted by (id, version) so that every process that loads the same files
// deploys them in the same order. InvalidArgument when a directory holds
// no journey file or two files hold the same id and version (naming both);
// a file's errors as LoadJourneyFile.
absl::StatusOr<std::vector<v1::Journey>> LoadJourneys(const std::string& path);

// The journey files LoadJourneys reads from directory `dir`: every file
// under it (recursively) whose extension is a journey format's, except
// behaviour files (kBehaviorSetFileStem), sorted by path. NotFound when
// the directory cannot be read.
absl::StatusOr<std::vector<std::string>> ListJourneyFiles(const std::string& dir);

// The name (without extension) of a file of behaviour declarations kept
// beside journeys ("behaviors.textproto"): LoadJourneys skips such files in
// a directory, and `cairn sim` reads the one beside its journey.
inline constexpr absl::string_view kBehaviorSetFileStem = "behaviors";

// Every behaviour and segment of the behaviour files (kBehaviorSetFileStem,
// any journey format's extension) under a directory, searched recursively,
// in the order of their paths, as one set; an empty set when there are
// none, or when `path` is a file. A behaviour or segment that two files
// declare identically is taken once (journeys beside each other may share
// one, as examples/checkin_streak and examples/whale_winback share
// `purchases`). InvalidArgument when two files declare the same name
// differently, naming both; a file's errors as LoadBehaviorSetFile.
absl::StatusOr<v1::BehaviorSet> LoadBehaviorSets(const std::string& path);

// Serializes `journey` in `format`. Text and JSON output are deterministic
// (fields in number order, map entries sorted by key), binary output is
// deterministic too (map entries sorted). Fails only if the message cannot
// be encoded.
absl::StatusOr<std::string> SerializeJourney(const v1::Journey& journey,
                                             JourneyFormat format);

}  // namespace cairn

#endif  // CAIRN_JOURNEY_IO_H_
