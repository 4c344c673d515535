// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "tools/validate_command.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cairn/cairn.h"
#include "compile/journey_graph.h"
#include "fmt/core.h"
#include "io/journey_check.h"
#include "json/json.h"
#include "util/proto_time.h"
#include "util/utf8.h"

namespace cairn::tools {
namespace {

using internal::JourneyCheck;
using internal::SourceProblem;

// How stdin is named in problems, as compilers name it.

// A duration as the summary shows it ("90m"), "?" when out of range.
std::string Dur(const google::protobuf::Duration& d) {
  absl::StatusOr<absl::Duration> v = cairn::internal::DurationFromProto(d);
  return v.ok() ? cairn::internal::FormatDurationShort(*v) : "?";
}

// An event matcher: its event, and whether it has a condition.
std::string DescribeMatcher(const cairn::v1::EventMatcher& m) {
  return m.has_where() ? absl::StrCat(m.event(), " (with condition)") : m.event();
}

// A split rule with its defaults filled in, as the engine applies it.
std::string DescribeRule(const cairn::v1::SplitRule& r) {
  const auto duration = [](bool has, const google::protobuf::Duration& d, absl::Duration def) {
    return has ? Dur(d) : cairn::internal::FormatDurationShort(def);
  };
  std::string out = absl::StrCat(
      "judged on ", r.goal(), ", checked every ",
      duration(r.has_check_every(), r.check_every(), cairn::internal::kDefaultRuleCheckEvery),
      " from ",
      duration(r.has_min_duration(), r.min_duration(), cairn::internal::kDefaultRuleMinDuration),
      " with ", r.min_per_arm() > 0 ? r.min_per_arm() : cairn::internal::kDefaultRuleMinPerArm,
      " per arm, alpha ", r.alpha() > 0 ? r.alpha() : cairn::internal::kDefaultRuleAlpha);
  if (r.has_control_percent()) absl::StrAppend(&out, ", control ", r.control_percent(), "% after");
  if (r.has_max_duration() && (r.max_duration().seconds() > 0 || r.max_duration().nanos() > 0)) {
    absl::StrAppend(&out, ", at most ", Dur(r.max_duration()));
  }
  return out;
}

// What enters a journey by trigger `t`, in a few words.
std::string DescribeTrigger(const cairn::v1::Trigger& t) {
  switch (t.kind_case()) {
    case cairn::v1::Trigger::kEvent:
      return absl::StrCat(
          "on event ", DescribeMatcher(t.event().matcher()),
          t.event().has_profile_filter() ? ", profile filter" : "");
    case cairn::v1::Trigger::kAudience:
      return absl::StrCat("audience ", t.audience().audience().empty()
                                           ? "(host enrolls)"
                                           : t.audience().audience());
    case cairn::v1::Trigger::kSequence: {
      std::vector<std::string> steps;
      for (const auto& s : t.sequence().steps()) steps.push_back(DescribeMatcher(s));
      std::string out = absl::StrCat("sequence ", absl::StrJoin(steps, " -> "),
                                     " within ", Dur(t.sequence().within()));
      if (t.sequence().has_absent()) {
        absl::StrAppend(&out, ", then no ", DescribeMatcher(t.sequence().absent()),
                        " within ", Dur(t.sequence().absent_within()));
      }
      return out;
    }
    case cairn::v1::Trigger::kAttributeChange: {
      const cairn::v1::AttributeChangeTrigger& a = t.attribute_change();
      return absl::StrCat("on change of profile.", a.attribute(), a.has_from() ? ", from condition" : "",
                          a.has_to() ? ", to condition" : "");
    }
    case cairn::v1::Trigger::kSegment: {
      const cairn::v1::SegmentTrigger& s = t.segment();
      return absl::StrCat(s.on() == cairn::v1::SegmentTrigger::LEFT ? "on leaving" : "on entering",
                          " segment.", s.segment(),
                          s.existing_members() ? ", existing members too" : "");
    }
    case cairn::v1::Trigger::kSchedule: {
      const cairn::v1::ScheduleTrigger& s = t.schedule();
      const cairn::v1::Schedule& when = s.schedule();
      std::string out = absl::StrCat(
          "on schedule ", cairn::v1::Schedule::Frequency_Name(when.frequency()),
          absl::StrFormat(" at %02d:%02d", when.at().hour(), when.at().minute()),
          when.subject_time_zone() ? " in each subject's zone" : "");
      if (!s.segment().empty()) absl::StrAppend(&out, ", segment.", s.segment());
      if (s.has_condition()) absl::StrAppend(&out, ", with condition");
      return out;
    }
    case cairn::v1::Trigger::KIND_NOT_SET:
      break;
  }
  return "?";
}

// Prints a valid journey's summary: nodes by kind, triggers, splits,
// switches, goals, channels and events.
void PrintSummary(const cairn::CompiledJourney& j) {
  const cairn::v1::Journey& def = j.definition();
  fmt::print("  journey   {} v{}{}\n", j.id(), j.version(),
             def.name().empty() ? "" : absl::StrCat(" \"", def.name(), "\""));
  int counts[cairn::kNodeKindCount] = {};
  for (int i = 0; i < j.node_count(); ++i) {
    ++counts[static_cast<int>(j.node_kind(i))];
  }
  std::vector<std::string> kinds;
  for (int k = 0; k < cairn::kNodeKindCount; ++k) {
    if (counts[k] == 0) continue;
    kinds.push_back(absl::StrCat(
        counts[k], " ", cairn::NodeKindName(static_cast<cairn::NodeKind>(k))));
  }
  fmt::print("  nodes     {}: {}\n", j.node_count(), absl::StrJoin(kinds, ", "));
  for (int t : j.triggers()) {
    fmt::print("  trigger   {}: {}\n", j.node_id(t),
               DescribeTrigger(def.nodes(t).trigger()));
  }
  for (const cairn::v1::Node& n : def.nodes()) {
    if (n.kind_case() != cairn::v1::Node::kSplit) continue;
    std::vector<std::string> arms;
    for (const auto& v : n.split().variants()) {
      arms.push_back(absl::StrCat(v.name(), " ", v.weight(),
                                  v.control() ? " (control)" : ""));
    }
    fmt::print("  split     {}: {}\n", n.id(), absl::StrJoin(arms, " / "));
    if (n.split().has_rule()) fmt::print("  rule      {}: {}\n", n.id(), DescribeRule(n.split().rule()));
  }
  for (const cairn::v1::Node& n : def.nodes()) {
    if (n.kind_case() != cairn::v1::Node::kSwitch) continue;
    std::vector<std::string> branches;
    auto target = [](const std::string& next) { return next.empty() ? "(exit)" : next; };
    for (const auto& b : n.switch_().branches()) {
      branches.push_back(absl::StrCat(b.name(), " -> ", target(b.next())));
    }
    branches.push_back(absl::StrCat("default -> ", target(n.switch_().default_().next())));
    fmt::print("  switch    {}: {}\n", n.id(), absl::StrJoin(branches, " / "));
  }
  for (const cairn::v1::Node& n : def.nodes()) {
    if (n.kind_case() != cairn::v1::Node::kGoal) continue;
    fmt::print("  goal      {}: {} within {}\n", n.id(),
               DescribeMatcher(n.goal().conversion()), Dur(n.goal().window()));
  }
  for (const auto& g : def.settings().goals()) {
    fmt::print("  goal      {} (journey): {} within {} of entry\n", g.name(),
               DescribeMatcher(g.conversion()), Dur(g.window()));
  }
  fmt::print("  channels  {}\n",
             j.channels().empty() ? "(none)" : absl::StrJoin(j.channels(), ", "));
  fmt::print("  events    {}\n", absl::StrJoin(j.event_names(), ", "));
}

// One journey to check: a file, or stdin.
struct Input {
  // The path as given or found in a directory, or kStdinName.
  std::string name;
  bool is_stdin = false;
  // Why the input cannot be checked (a directory without journey files);
  // empty when it can.
  std::string error;
};

// The result of checking one input, for either output format.
struct Checked {
  std::string name;
  JourneyCheck check;
};

// The inputs `arguments` name, in order, directories expanded to their
// journey files; a directory without any, or one that cannot be read, is
// an input with an error.
std::vector<Input> ExpandArguments(const std::vector<std::string>& arguments) {
  std::vector<Input> inputs;
  for (const std::string& argument : arguments) {
    if (argument == "-") {
      inputs.push_back({kStdinName, true, ""});
      continue;
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(argument, ec)) {
      inputs.push_back({argument, false, ""});
      continue;
    }
    absl::StatusOr<std::vector<std::string>> files = ListJourneyFiles(argument);
    std::string error;
    if (!files.ok()) {
      error = std::string(files.status().message());
    } else if (files->empty()) {
      error = "no journey files (.textproto, .txtpb, .pbtxt, .json, .binpb, .pb) in the directory";
    }
    if (!error.empty()) {
      inputs.push_back({argument, false, std::move(error)});
      continue;
    }
    for (std::string& file : *files) inputs.push_back({std::move(file), false, ""});
  }
  return inputs;
}

// Reads and checks one input; a file that cannot be read or whose
// extension names no journey format is one problem without a place.
Checked CheckInput(const Input& input, JourneyFormat stdin_format) {
  Checked out{input.name, {}};
  auto fail = [&out](std::string message) {
    out.check.problems.push_back(
        {SourceProblem::Severity::kError, 0, 0, "", "", std::move(message)});
    return out;
  };
  if (!input.error.empty()) return fail(input.error);
  absl::StatusOr<JourneyText> text = ReadJourneyText(input.name, input.is_stdin, stdin_format);
  if (!text.ok()) return fail(std::string(text.status().message()));
  out.check = internal::CheckJourneyText(text->data, text->format);
  return out;
}


// Prints every problem, a summary of each valid journey and, for more
// than one input, how many are valid.
void PrintText(const std::vector<Checked>& results) {
  int valid = 0;
  for (const Checked& c : results) {
    for (const SourceProblem& p : c.check.problems) {
      fmt::print("{}\n", ProblemLine(c.name, p));
    }
    if (!c.check.valid()) continue;
    absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled =
        Compile(*c.check.journey);
    if (!compiled.ok()) {  // Cannot happen after ValidateJourney; be loud.
      fmt::print("{}: error: {}\n", c.name, std::string(compiled.status().message()));
      continue;
    }
    ++valid;
    fmt::print("{}: ok\n", c.name);
    PrintSummary(**compiled);
  }
  if (results.size() > 1) {
    fmt::print("\n{} of {} journeys valid\n", valid, results.size());
  }
}

// The document of --format json: {"valid": ALL, "files": [{"file", "valid",
// "problems": [{"line", "column", "severity", "field", "node", "message"}]}]},
// line and column only when known, field and node only when not empty.
std::string JsonReport(const std::vector<Checked>& results) {
  bool all_valid = true;
  std::vector<std::string> files;
  for (const Checked& c : results) {
    std::vector<std::string> problems;
    for (const SourceProblem& p : c.check.problems) {
      std::string out = "{";
      if (p.line > 0) absl::StrAppend(&out, "\"line\":", p.line, ",\"column\":", p.column, ",");
      absl::StrAppend(&out, "\"severity\":\"", p.SeverityName(), "\",");
      if (!p.field.empty()) {
        out += "\"field\":";
        json::AppendJsonString(p.field, &out);
        out += ",";
      }
      if (!p.node_id.empty()) {
        out += "\"node\":";
        json::AppendJsonString(p.node_id, &out);
        out += ",";
      }
      out += "\"message\":";
      json::AppendJsonString(p.message, &out);
      out += "}";
      problems.push_back(std::move(out));
    }
    all_valid = all_valid && c.check.valid();
    std::string file = "{\"file\":";
    json::AppendJsonString(c.name, &file);
    absl::StrAppend(&file, ",\"valid\":", c.check.valid() ? "true" : "false",
                    ",\"problems\":[", absl::StrJoin(problems, ",\n    "), "]}");
    files.push_back(std::move(file));
  }
  return absl::StrCat("{\"valid\":", all_valid ? "true" : "false", ",\"files\":[\n  ",
                      absl::StrJoin(files, ",\n  "), "\n]}\n");
}

}  // namespace

absl::StatusOr<JourneyText> ReadJourneyText(const std::string& path, bool is_stdin,
                                            JourneyFormat stdin_format) {
  JourneyText out;
  std::ostringstream contents;
  if (is_stdin) {
    out.format = stdin_format;
    contents << std::cin.rdbuf();
  } else {
    absl::StatusOr<JourneyFormat> by_extension = JourneyFormatFromPath(path);
    if (!by_extension.ok()) {
      return absl::InvalidArgumentError(
          "unknown journey file extension; use .textproto (or .txtpb, .pbtxt), .json, or .binpb "
          "(or .pb)");
    }
    out.format = *by_extension;
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError("cannot open file");
    contents << in.rdbuf();
    if (in.bad()) return absl::DataLossError("read error");
  }
  out.data = contents.str();
  return out;
}

std::optional<JourneyFormat> InputFormatNamed(const std::string& name) {
  // The extensions' names: textproto, json, binpb and their aliases.
  absl::StatusOr<JourneyFormat> named = JourneyFormatFromPath(absl::StrCat(".", name));
  if (!named.ok()) return std::nullopt;
  return *named;
}

std::string ProblemLine(const std::string& file, const SourceProblem& p) {
  const std::string where =
      p.line > 0 ? absl::StrCat(file, ":", p.line, ":", p.column) : file;
  return absl::StrCat(where, ": ", p.SeverityName(), ": ", p.Describe());
}

int Validate(const Flags& flags) {
  const std::vector<std::string> arguments = flags.Arguments();
  if (arguments.empty()) return Usage("validate", "no files given");
  const std::string format = flags.Get("format").value_or("text");
  if (format != "text" && format != "json") return Usage("validate", "--format is text or json");
  JourneyFormat stdin_format = JourneyFormat::kText;
  if (const std::optional<std::string> input_format = flags.Get("input-format")) {
    const std::optional<JourneyFormat> named = InputFormatNamed(*input_format);
    if (!named) return Usage("validate", "--input-format is textproto, json or binpb");
    stdin_format = *named;
  }
  if (std::count(arguments.begin(), arguments.end(), "-") > 1) {
    return Usage("validate", "- (stdin) given more than once");
  }

  std::vector<Checked> results;
  for (const Input& input : ExpandArguments(arguments)) {
    results.push_back(CheckInput(input, stdin_format));
  }
  if (format == "json") {
    std::fputs(JsonReport(results).c_str(), stdout);
  } else {
    PrintText(results);
  }
  for (const Checked& c : results) {
    if (!c.check.valid()) return 1;
  }
  return 0;
}

void AddValidateFlags(CLI::App* command) {
  AddFlag(command, "format", "text|json",
          "the problems as FILE:LINE:COLUMN: lines and summaries (default),\n"
          "or as one JSON document");
  AddFlag(command, "input-format", "textproto|json|binpb",
          "the format of stdin (-); default textproto. Files go by extension");
  AddArguments(command, "PATH",
               "journey files (.textproto, .json, .binpb), directories of them\n"
               "(searched recursively, in path order), or - for stdin");
}

}  // namespace cairn::tools
