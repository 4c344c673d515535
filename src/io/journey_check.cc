// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "io/journey_check.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "json/json.h"
#include "util/nearest.h"

namespace cairn::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

// A text format file reports at most this many syntax errors: past a few,
// the rest are more often the first one's echoes than news.
constexpr int kMaxSyntaxErrors = 20;

// As ParseJourney: see kJsonJourneyMaxDepth in journey_io.cc.
constexpr int kJsonJourneyMaxDepth = 128;

// One step of a field path: "nodes[3]" is the name "nodes" and index 3,
// "node_map[\"a\"]" the name "node_map" and key "a".
struct PathStep {
  std::string name;
  int index = -1;
  std::optional<std::string> key;
};

// "nodes[3].delay.duration" as its steps. A step that does not read as
// NAME, NAME[N] or NAME["KEY"] ends the path there: what comes before it
// still locates the problem.
std::vector<PathStep> SplitPath(absl::string_view path) {
  std::vector<PathStep> steps;
  while (!path.empty()) {
    PathStep step;
    const size_t end = path.find_first_of(".[");
    step.name = std::string(path.substr(0, end));
    path = end == absl::string_view::npos ? "" : path.substr(end);
    if (absl::ConsumePrefix(&path, "[")) {
      const size_t close = path.find(']');
      if (close == absl::string_view::npos) break;
      absl::string_view inside = path.substr(0, close);
      path = path.substr(close + 1);
      if (absl::ConsumePrefix(&inside, "\"") && absl::ConsumeSuffix(&inside, "\"")) {
        step.key = std::string(inside);
      } else if (!absl::SimpleAtoi(inside, &step.index) || step.index < 0) {
        break;
      }
    }
    if (step.name.empty()) break;
    steps.push_back(std::move(step));
    if (!path.empty() && !absl::ConsumePrefix(&path, ".")) break;
  }
  return steps;
}

// The enum values a person may write, without the *_UNSPECIFIED that
// every Cairn enum starts with and refuses.
std::string ValidEnumNames(const EnumDescriptor& e) {
  std::vector<std::string> names;
  for (int i = 0; i < e.value_count(); ++i) {
    if (e.value(i)->number() == 0 && absl::EndsWith(e.value(i)->name(), "_UNSPECIFIED")) continue;
    names.push_back(e.value(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

// The enum types of the fields named `name` in the messages reachable from
// `root`, into *found; `seen` guards against recursive messages.
void CollectEnumFields(const Descriptor* root, const std::string& name,
                       std::set<const Descriptor*>* seen, std::set<const EnumDescriptor*>* found) {
  if (!seen->insert(root).second) return;
  for (int i = 0; i < root->field_count(); ++i) {
    const FieldDescriptor* field = root->field(i);
    if (field->name() == name && field->enum_type() != nullptr) found->insert(field->enum_type());
    if (field->message_type() != nullptr) CollectEnumFields(field->message_type(), name, seen, found);
  }
}

// For a field `name` that message `type` does not have: "; did you mean
// \"next\"?" when one of its fields is a likely typo of it (by proto or JSON
// name), else "; its fields: a, b, c" (empty for an unknown type).
std::string UnknownFieldHint(const Descriptor* type, absl::string_view name) {
  if (type == nullptr) return "";
  std::vector<std::string> names;
  for (int i = 0; i < type->field_count(); ++i) names.push_back(type->field(i)->name());
  for (int i = 0; i < type->field_count(); ++i) {
    if (type->field(i)->json_name() != type->field(i)->name()) {
      names.push_back(type->field(i)->json_name());
    }
  }
  if (std::optional<std::string> meant = internal::Nearest(std::string(name), names)) {
    return absl::StrCat("; did you mean \"", *meant, "\"?");
  }
  names.resize(static_cast<size_t>(type->field_count()));
  return absl::StrCat("; its fields: ", absl::StrJoin(names, ", "));
}

// protobuf's text format error for a value its enum does not have,
// 'Unknown enumeration value of "SKIP" for field "if_past".', in Cairn's
// words with the values that are valid. The error does not say which
// message the field is in: the names are listed when every enum field of
// that name in a journey has the same type. Other messages are returned
// as they are.
std::string ExplainTextError(const std::string& message) {
  absl::string_view rest = message;
  if (absl::ConsumePrefix(&rest, "Message type \"")) {
    // 'Message type "cairn.v1.Trigger" has no field named "nxt".'
    const std::vector<std::string> parts = absl::StrSplit(rest, "\" has no field named \"");
    if (parts.size() != 2 || !absl::EndsWith(parts[1], "\".")) return message;
    const std::string field = parts[1].substr(0, parts[1].size() - 2);
    return absl::StrCat(message.substr(0, message.size() - 1),
                        UnknownFieldHint(google::protobuf::DescriptorPool::generated_pool()
                                             ->FindMessageTypeByName(parts[0]),
                                         field));
  }
  if (!absl::ConsumePrefix(&rest, "Unknown enumeration value of \"")) return message;
  const std::vector<std::string> parts = absl::StrSplit(rest, "\" for field \"");
  if (parts.size() != 2 || !absl::EndsWith(parts[1], "\".")) return message;
  const std::string value = parts[0];
  const std::string field = parts[1].substr(0, parts[1].size() - 2);
  std::set<const Descriptor*> seen;
  std::set<const EnumDescriptor*> enums;
  CollectEnumFields(v1::Journey::descriptor(), field, &seen, &enums);
  std::string out = absl::StrCat("unknown value ", value, " for field ", field);
  if (enums.size() == 1) absl::StrAppend(&out, "; valid values: ", ValidEnumNames(**enums.begin()));
  return out;
}

// ---- Text format ----

// Collects the parser's errors and warnings as problems, at the lines and
// columns of the parser's own counting (from 0, a tab advancing to the
// next multiple of 8); TextLines turns them into the file's.
class CollectingErrors : public google::protobuf::io::ErrorCollector {
 public:
  struct Entry {
    int line;
    int column;
    bool warning;
    std::string message;
  };

  void AddError(int line, int column, const std::string& message) override {
    entries_.push_back({line, column, false, message});
  }
  void AddWarning(int line, int column, const std::string& message) override {
    entries_.push_back({line, column, true, message});
  }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

// Where each line of a text starts, to turn the tokenizer's positions
// into byte offsets and back.
class TextLines {
 public:
  explicit TextLines(absl::string_view text) : text_(text) {
    starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') starts_.push_back(i + 1);
    }
  }

  // The byte offset of the tokenizer's (line, column), both from 0, where
  // a tab advances the column to the next multiple of 8. Past the end of
  // a line is the line's end; past the last line, the text's end.
  size_t Offset(int line, int column) const {
    if (line < 0) return 0;
    if (static_cast<size_t>(line) >= starts_.size()) return text_.size();
    size_t at = starts_[line];
    int col = 0;
    while (at < text_.size() && text_[at] != '\n' && col < column) {
      col = text_[at] == '\t' ? col + 8 - col % 8 : col + 1;
      ++at;
    }
    return at;
  }

  // Line `line` (from 0) without its newline; empty past the end.
  absl::string_view Line(int line) const {
    if (line < 0 || static_cast<size_t>(line) >= starts_.size()) return "";
    const size_t begin = starts_[line];
    const size_t end = text_.find('\n', begin);
    return text_.substr(begin, end == absl::string_view::npos ? absl::string_view::npos
                                                              : end - begin);
  }

 private:
  absl::string_view text_;
  std::vector<size_t> starts_;
};

// A token of a text format file and its byte range.
struct TextToken {
  std::string text;
  int line;
  size_t begin;
  size_t end;
};

// Every token of `text`, by protobuf's tokenizer (as the text format
// parser reads it: '#' starts a comment); its own errors are left to the
// parser to report.
std::vector<TextToken> Tokenize(absl::string_view text, const TextLines& lines) {
  class Silent : public google::protobuf::io::ErrorCollector {
   public:
    void AddError(int, int, const std::string&) override {}
  } silent;
  google::protobuf::io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  google::protobuf::io::Tokenizer tokenizer(&input, &silent);
  tokenizer.set_comment_style(google::protobuf::io::Tokenizer::SH_COMMENT_STYLE);
  std::vector<TextToken> tokens;
  while (tokenizer.Next()) {
    const auto& t = tokenizer.current();
    tokens.push_back({t.text, t.line, lines.Offset(t.line, t.column),
                      lines.Offset(t.line, t.end_column)});
  }
  return tokens;
}

bool Opens(const std::string& token) { return token == "{" || token == "<"; }
bool Closes(const std::string& token) { return token == "}" || token == ">"; }

// Leaves out of *text the statement at the parser's error position
// (line, column from 0), so that parsing again goes on past it: the
// tokens of the error's line, and when that line opens blocks, everything
// to the tokens that close them. A line's closing braces for blocks opened
// before it are kept (the block still ends there) unless the error is at
// one of them. Newlines stay, so that later lines keep their numbers.
// Returns false when nothing was left out (the error is at the end).
bool LeaveOutStatement(int line, int column, std::string* text) {
  const TextLines lines(*text);
  const std::vector<TextToken> tokens = Tokenize(*text, lines);
  const size_t error_at = lines.Offset(line, column);
  std::vector<bool> keep(tokens.size(), true);
  bool any = false;
  int depth = 0;
  bool past_line = false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const TextToken& t = tokens[i];
    if (t.line < line) continue;
    if (t.line > line) {
      if (depth <= 0) break;
      past_line = true;
    }
    if (Opens(t.text)) {
      ++depth;
    } else if (Closes(t.text) && depth == 0) {
      // The end of a block opened before the line: kept, unless it is the
      // error (a brace too many).
      if (t.begin != error_at) continue;
    } else if (Closes(t.text)) {
      --depth;
    }
    keep[i] = false;
    any = true;
    if (past_line && depth == 0) break;
  }
  if (!any) return false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (keep[i]) continue;
    for (size_t at = tokens[i].begin; at < tokens[i].end; ++at) (*text)[at] = ' ';
  }
  return true;
}

// The byte column (from 1) of the parser's (line, column) in `text`.
int ByteColumn(const TextLines& lines, int line, int column) {
  return static_cast<int>(lines.Offset(line, column) - lines.Offset(line, 0)) + 1;
}

// The byte column (from 1) of a parser error: where the parser stood, or,
// for a field name or an enum value it does not know (reported at the
// token after it), where that name starts.
int ErrorColumn(const TextLines& lines, int line, int column, const std::string& message) {
  const int at = ByteColumn(lines, line, column);
  for (const char* quoted : {"has no field named \"", "Unknown enumeration value of \""}) {
    const size_t named = message.find(quoted);
    if (named == std::string::npos) continue;
    const size_t name_begin = named + std::char_traits<char>::length(quoted);
    const size_t name_end = message.find('"', name_begin);
    if (name_end == std::string::npos) return at;
    const absl::string_view name(message.data() + name_begin, name_end - name_begin);
    const absl::string_view before = lines.Line(line).substr(0, at - 1);
    const size_t found = before.rfind(name);
    return found == absl::string_view::npos ? at : static_cast<int>(found) + 1;
  }
  return at;
}

// Parses text format `data` into *journey and *tree, going on past syntax
// errors (LeaveOutStatement); each error and warning becomes a problem in
// *problems. True when the text parsed without an error.
bool ParseText(absl::string_view data, v1::Journey* journey, TextFormat::ParseInfoTree* tree,
               std::vector<SourceProblem>* problems) {
  const TextLines lines(data);
  std::string text(data);
  std::set<std::tuple<int, int, std::string>> reported;
  std::optional<std::pair<int, int>> last_error;
  int errors = 0;
  bool too_many = false;
  for (int pass = 0; pass <= kMaxSyntaxErrors && !too_many; ++pass) {
    TextFormat::Parser parser;
    parser.SetRecursionLimit(kMaxJourneyMessageDepth);
    CollectingErrors collected;
    parser.RecordErrorsTo(&collected);
    if (pass == 0) parser.WriteLocationsTo(tree);
    journey->Clear();
    google::protobuf::io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
    const bool parsed = parser.Parse(&input, journey);
    std::optional<std::pair<int, int>> first_error;
    for (const CollectingErrors::Entry& e : collected.entries()) {
      if (!e.warning && !first_error) first_error = std::make_pair(e.line, e.column);
      if (!reported.emplace(e.line, e.column, e.message).second) continue;
      SourceProblem p;
      p.severity = e.warning ? SourceProblem::Severity::kWarning : SourceProblem::Severity::kError;
      p.line = e.line + 1;
      p.column = ErrorColumn(lines, e.line, e.column, e.message);
      p.message = e.warning ? e.message : ExplainTextError(e.message);
      if (!e.warning && ++errors > kMaxSyntaxErrors) {
        too_many = true;
        break;
      }
      problems->push_back(std::move(p));
    }
    if (parsed && errors == 0) return true;
    if (too_many) break;
    // A parse that failed without saying where, or that made no progress
    // past the last error, cannot be taken further.
    if (parsed || !first_error || (last_error && *first_error <= *last_error)) break;
    last_error = first_error;
    if (!LeaveOutStatement(first_error->first, first_error->second, &text)) break;
  }
  std::stable_sort(problems->begin(), problems->end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.line, a.column) < std::make_pair(b.line, b.column);
  });
  if (too_many) {
    problems->push_back({SourceProblem::Severity::kError, 0, 0, "", "",
                         absl::StrCat("more than ", kMaxSyntaxErrors,
                                      " syntax errors; the rest are not listed")});
  }
  return false;
}

// The location (from 1) of the deepest step of `steps` that the parsed
// text holds; {0, 0} when not even the first does.
std::pair<int, int> LocateInText(const std::vector<PathStep>& steps, const TextLines& lines,
                                 const TextFormat::ParseInfoTree& root) {
  std::pair<int, int> best{0, 0};
  const Descriptor* type = v1::Journey::descriptor();
  const TextFormat::ParseInfoTree* tree = &root;
  for (const PathStep& step : steps) {
    const FieldDescriptor* field = type == nullptr ? nullptr : type->FindFieldByName(step.name);
    if (field == nullptr || tree == nullptr || step.key) break;
    // A repeated field without an index (a problem with the whole list)
    // is placed at its first element.
    const int index = field->is_repeated() ? std::max(step.index, 0) : -1;
    const TextFormat::ParseLocation at = tree->GetLocation(field, index);
    if (at.line < 0) break;
    best = {at.line + 1, ByteColumn(lines, at.line, at.column)};
    if (field->message_type() == nullptr) break;
    tree = tree->GetTreeForNested(field, index);
    type = field->message_type();
  }
  return best;
}

// ---- JSON ----

// "if_past" as proto3 JSON names it: "ifPast".
std::string LowerCamel(absl::string_view name) {
  std::string out;
  bool upper = false;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out.push_back(upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    upper = false;
  }
  return out;
}

// The member of object `v` named `name` (as the proto names it, or in
// lowerCamelCase as JSON may), or null.
const json::JsonValue* Member(const json::JsonValue& v, const std::string& name) {
  if (v.type != json::JsonValue::Type::kObject) return nullptr;
  const std::string camel = LowerCamel(name);
  for (const auto& [key, value] : v.object) {
    if (key == name || key == camel) return &value;
  }
  return nullptr;
}

// The location (from 1) of the deepest step of `steps` that the document
// holds: a member's key, an element's start; {0, 0} when not even the
// first.
std::pair<int, int> LocateInJson(const std::vector<PathStep>& steps, absl::string_view text,
                                 const json::JsonValue& root) {
  const json::JsonValue* at = &root;
  const json::JsonValue* best = nullptr;
  for (const PathStep& step : steps) {
    at = Member(*at, step.name);
    if (at == nullptr) break;
    best = at;
    if (step.key) {
      at = Member(*at, *step.key);
    } else if (step.index >= 0) {
      const bool has = at->type == json::JsonValue::Type::kArray &&
                       static_cast<size_t>(step.index) < at->array.size();
      at = has ? &at->array[step.index] : nullptr;
    }
    if (at == nullptr) break;
    best = at;
  }
  if (best == nullptr) return {0, 0};
  const json::TextPosition p = json::PositionAt(text, best->offset);
  return {p.line, p.column};
}

// A "LINE:COLUMN: what" error of json::ParseJson as a problem.
SourceProblem JsonSyntaxProblem(absl::string_view error) {
  SourceProblem p;
  const std::vector<absl::string_view> parts = absl::StrSplit(error, absl::MaxSplits(':', 2));
  if (parts.size() == 3 && absl::SimpleAtoi(parts[0], &p.line) &&
      absl::SimpleAtoi(parts[1], &p.column)) {
    p.message = std::string(absl::StripLeadingAsciiWhitespace(parts[2]));
  } else {
    p.line = p.column = 0;
    p.message = std::string(error);
  }
  return p;
}

// protobuf's JSON schema error, "(nodes[0].delay) ifPast: Cannot find
// field." or "(settings.state): invalid value \"X\" for type
// type.googleapis.com/cairn.v1.JourneyState", as a problem at the field it
// names, an unknown enum value with the values that are valid.
SourceProblem JsonSchemaProblem(absl::string_view error, absl::string_view text,
                                const json::JsonValue& root) {
  SourceProblem p;
  p.message = std::string(error);
  absl::string_view rest = error;
  if (!absl::ConsumePrefix(&rest, "(")) return p;
  const size_t close = rest.find(')');
  if (close == absl::string_view::npos) return p;
  std::string path(rest.substr(0, close));
  rest = rest.substr(close + 1);
  std::string hint;  // For an unknown field: the one likely meant.
  if (!absl::ConsumePrefix(&rest, ":")) {
    // " key: what": the key is the field at fault.
    absl::ConsumePrefix(&rest, " ");
    const size_t colon = rest.find(':');
    if (colon == absl::string_view::npos) return p;
    const absl::string_view key = rest.substr(0, colon);
    path = path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
    rest = rest.substr(colon + 1);
    if (absl::StripAsciiWhitespace(rest) == "Cannot find field.") {
      // The message type the field is missing from, by the path's steps.
      const Descriptor* type = v1::Journey::descriptor();
      const std::vector<PathStep> steps = SplitPath(path);
      for (size_t i = 0; i + 1 < steps.size() && type != nullptr; ++i) {
        const FieldDescriptor* f = type->FindFieldByName(steps[i].name);
        if (f == nullptr) f = type->FindFieldByCamelcaseName(steps[i].name);
        type = f == nullptr ? nullptr : f->message_type();
      }
      hint = UnknownFieldHint(type, key);
      rest = "no such field";
    }
  }
  p.field = path;
  p.message = absl::StrCat(absl::StripAsciiWhitespace(rest), hint);
  constexpr absl::string_view kEnumPrefix = "type.googleapis.com/";
  const size_t for_type = p.message.rfind(absl::StrCat(" for type ", kEnumPrefix));
  if (absl::StartsWith(p.message, "invalid value \"") && for_type != std::string::npos) {
    const std::string type_name =
        p.message.substr(for_type + 10 + kEnumPrefix.size());
    const EnumDescriptor* e =
        google::protobuf::DescriptorPool::generated_pool()->FindEnumTypeByName(type_name);
    if (e != nullptr) {
      const std::string value = p.message.substr(15, for_type - 15 - 1);
      const std::vector<PathStep> steps = SplitPath(path);
      p.message = absl::StrCat("unknown value ", value, " for field ",
                               steps.empty() ? path : steps.back().name,
                               "; valid values: ", ValidEnumNames(*e));
    }
  }
  const auto [line, column] = LocateInJson(SplitPath(path), text, root);
  p.line = line;
  p.column = column;
  return p;
}

// The Journey field path of a compiler problem: its node's place in the
// nodes list and its field. A node is found by its id, the first with
// that id when several share it.
std::string FullPath(const v1::Journey& journey, const JourneyProblem& problem) {
  if (problem.node_id.empty()) return problem.field;
  for (int i = 0; i < journey.nodes_size(); ++i) {
    if (journey.nodes(i).id() != problem.node_id) continue;
    const std::string node = absl::StrCat("nodes[", i, "]");
    return problem.field.empty() ? node : absl::StrCat(node, ".", problem.field);
  }
  return problem.field;
}

}  // namespace

absl::string_view SourceProblem::SeverityName() const {
  return severity == Severity::kError ? "error" : "warning";
}

std::string SourceProblem::Describe() const {
  std::string where;
  if (!node_id.empty()) where = absl::StrCat("node ", node_id);
  // A node's own field, as the compiler names it, follows its id.
  const std::string node_prefix = "nodes[";
  std::string shown = field;
  if (!node_id.empty() && absl::StartsWith(shown, node_prefix)) {
    const size_t dot = shown.find("].");
    shown = dot == std::string::npos ? "" : shown.substr(dot + 2);
  }
  if (!shown.empty()) {
    absl::StrAppend(&where, where.empty() ? "" : ", ", "field ", shown);
  }
  return where.empty() ? message : absl::StrCat(where, ": ", message);
}

bool JourneyCheck::valid() const {
  return std::none_of(problems.begin(), problems.end(), [](const SourceProblem& p) {
    return p.severity == SourceProblem::Severity::kError;
  });
}

JourneyCheck CheckJourneyText(absl::string_view data, JourneyFormat format) {
  JourneyCheck check;
  v1::Journey journey;
  // Places a compiler problem's path in the text; set by the format.
  std::function<std::pair<int, int>(const std::vector<PathStep>&)> locate;
  TextFormat::ParseInfoTree tree;
  const TextLines lines(data);
  json::JsonValue document;
  switch (format) {
    case JourneyFormat::kText:
      if (!ParseText(data, &journey, &tree, &check.problems)) return check;
      locate = [&](const std::vector<PathStep>& steps) {
        return LocateInText(steps, lines, tree);
      };
      break;
    case JourneyFormat::kJson: {
      json::JsonReadOptions strict;
      strict.lines = true;
      strict.max_depth = kJsonJourneyMaxDepth;
      absl::StatusOr<json::JsonValue> parsed = json::ParseJson(data, strict);
      if (!parsed.ok()) {
        check.problems.push_back(JsonSyntaxProblem(parsed.status().message()));
        return check;
      }
      document = *std::move(parsed);
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = false;
      const auto status = google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(data.data(), data.size()), &journey, options);
      if (!status.ok()) {
        check.problems.push_back(
            JsonSchemaProblem(status.message().as_string(), data, document));
        return check;
      }
      locate = [&](const std::vector<PathStep>& steps) {
        return LocateInJson(steps, data, document);
      };
      break;
    }
    case JourneyFormat::kBinary: {
      absl::StatusOr<v1::Journey> parsed = ParseJourney(data, format);
      if (!parsed.ok()) {
        check.problems.push_back(
            {SourceProblem::Severity::kError, 0, 0, "", "", std::string(parsed.status().message())});
        return check;
      }
      journey = *std::move(parsed);
      locate = [](const std::vector<PathStep>&) { return std::make_pair(0, 0); };
      break;
    }
  }
  for (const JourneyProblem& problem : ValidateJourney(journey)) {
    SourceProblem p;
    p.field = FullPath(journey, problem);
    p.node_id = problem.node_id;
    p.message = problem.message;
    std::tie(p.line, p.column) = locate(SplitPath(p.field));
    check.problems.push_back(std::move(p));
  }
  check.journey = std::move(journey);
  return check;
}

}  // namespace cairn::internal
