// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The `cairn` command-line tool.
//
//   cairn validate FILE...   check journey files; summarise the valid ones,
//                            list every problem of the invalid ones.
//
// Exit codes: 0 all good, 1 a journey is invalid or unreadable, 2 usage.

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "fmt/core.h"
#include "util/proto_time.h"

namespace {

constexpr const char kUsage[] =
    "usage: cairn <command> [args]\n"
    "\n"
    "commands:\n"
    "  validate FILE...   check journey files (.textproto, .json, .binpb);\n"
    "                     print a summary of each valid journey and every\n"
    "                     problem of each invalid one; exit 1 if any is invalid\n"
    "  help               show this text\n";

std::string Dur(const google::protobuf::Duration& d) {
  absl::StatusOr<absl::Duration> v = cairn::internal::DurationFromProto(d);
  return v.ok() ? cairn::internal::FormatDurationShort(*v) : "?";
}

std::string DescribeMatcher(const cairn::v1::EventMatcher& m) {
  return m.has_where() ? absl::StrCat(m.event(), " (with condition)") : m.event();
}

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
    case cairn::v1::Trigger::KIND_NOT_SET:
      break;
  }
  return "?";
}

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

int Validate(const std::vector<std::string>& files) {
  if (files.empty()) {
    std::fputs("cairn validate: no files given\n", stderr);
    std::fputs(kUsage, stderr);
    return 2;
  }
  int invalid = 0;
  for (const std::string& file : files) {
    absl::StatusOr<cairn::v1::Journey> journey = cairn::LoadJourneyFile(file);
    if (!journey.ok()) {
      fmt::print("{}: UNREADABLE\n  {}\n", file, std::string(journey.status().message()));
      ++invalid;
      continue;
    }
    std::vector<cairn::JourneyProblem> problems = cairn::ValidateJourney(*journey);
    if (!problems.empty()) {
      fmt::print("{}: INVALID, {} {}\n", file, problems.size(),
                 problems.size() == 1 ? "problem" : "problems");
      for (const cairn::JourneyProblem& p : problems) {
        fmt::print("  {}\n", p.ToString());
      }
      ++invalid;
      continue;
    }
    absl::StatusOr<std::shared_ptr<const cairn::CompiledJourney>> compiled =
        cairn::Compile(*journey);
    if (!compiled.ok()) {  // Cannot happen after ValidateJourney; be loud.
      fmt::print("{}: INVALID\n  {}\n", file, std::string(compiled.status().message()));
      ++invalid;
      continue;
    }
    fmt::print("{}: ok\n", file);
    PrintSummary(**compiled);
  }
  if (files.size() > 1) {
    fmt::print("\n{} of {} journeys valid\n", files.size() - invalid, files.size());
  }
  return invalid == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "validate") return Validate(args);
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  fmt::print(stderr, "cairn: unknown command \"{}\"\n", command);
  std::fputs(kUsage, stderr);
  return 2;
}
