// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The `cairn` command-line tool.
//
//   cairn validate PATH...   check journey files (tools/validate_command.h);
//                            summarise the valid ones, list every problem
//                            of the invalid ones.
//   cairn sim ...            replay an event log through a journey.
//   cairn gen ...            write a synthetic event log.
//   cairn worker ...         run journeys on a Kafka topic (with
//   cairn clock / deploy /   CAIRN_WITH_KAFKA; tools/kafka_commands.h).
//         declare / state ...
//   cairn help [COMMAND], cairn COMMAND --help (or -h), cairn --version
//
// tools/cli.h parses the command line. Exit codes: 0 all good, 1 a journey
// is invalid or an input unusable, 2 usage.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "absl/strings/numbers.h"
#include "fmt/core.h"
#include "sim/generator.h"
#include "sim/render.h"
#include "sim/simulator.h"
#include "timer/local_time.h"
#include "tools/cli.h"
#include "tools/fmt_command.h"
#include "tools/subprocess.h"
#include "tools/validate_command.h"
#ifdef CAIRN_HAVE_KAFKA
#include "tools/kafka_commands.h"
#endif
#include "util/proto_time.h"
#include "util/utf8.h"

namespace {

using cairn::tools::Flags;
using cairn::tools::Usage;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Fills `options` from sim's flags (strict, trace, seed, until, sinks,
// effects); on a
// bad value, says why in *error and returns false.
bool ParseSimOptions(const Flags& flags, cairn::sim::SimOptions* options, std::string* error) {
  options->strict = flags.Get("strict").has_value();
  options->trace_subject = flags.Get("trace").value_or("");
  if (auto seed = flags.Get("seed"); seed && !absl::SimpleAtoi(*seed, &options->seed)) {
    *error = "--seed must be a non-negative integer";
    return false;
  }
  if (auto until = flags.Get("until")) {
    absl::Time t;
    std::string err;
    if (*until == "auto") {
      options->until_auto = true;
    } else if (std::optional<absl::CivilDay> day = cairn::internal::ParseDate(*until)) {
      options->until = absl::FromCivil(*day, absl::UTCTimeZone());
    } else if (absl::ParseTime(absl::RFC3339_full, *until, &t, &err)) {
      options->until = t;
    } else {
      *error = absl::StrCat("--until \"", cairn::internal::Escaped(*until),
                            "\" is not an RFC 3339 time, a date YYYY-MM-DD or auto");
      return false;
    }
  }
  for (const std::string& spec : flags.All("sink")) {
    auto model = cairn::sim::ParseChannelModel(spec);
    if (!model.ok()) {
      *error = std::string(model.status().message());
      return false;
    }
    options->channels[model->first] = model->second;
  }
  for (const std::string& spec : flags.All("effect")) {
    absl::StatusOr<cairn::sim::Effect> effect = cairn::sim::ParseEffect(spec);
    if (!effect.ok()) {
      *error = std::string(effect.status().message());
      return false;
    }
    options->effects.push_back(*std::move(effect));
  }
  return true;
}

// The files sim reads: the event log (a file, or stdin for "-") and the
// optional profiles.
struct SimInputs {
  std::ifstream events_file;
  std::istream* events = &std::cin;
  // The event log's size for the progress line's ETA; -1 for stdin.
  int64_t total_bytes = -1;
  std::ifstream profiles_file;
};

// Opens sim's input files into *inputs; on failure, says which file on
// stderr and returns false.
bool OpenSimInputs(const std::string& events_path,
                   const std::optional<std::string>& profiles_path, SimInputs* inputs) {
  if (events_path != "-") {
    inputs->events_file.open(events_path, std::ios::binary | std::ios::ate);
    if (!inputs->events_file) {
      fmt::print(stderr, "cairn sim: {}: cannot open file\n", events_path);
      return false;
    }
    inputs->total_bytes = static_cast<int64_t>(inputs->events_file.tellg());
    inputs->events_file.seekg(0);
    inputs->events = &inputs->events_file;
  } else {
    // Out of step with C stdio, std::cin reads in blocks as a file stream
    // does; in step it reads a character at a time (1.6x slower over a
    // whole log). sim prints through C stdio only, so nothing it prints can
    // be reordered by this.
    std::ios::sync_with_stdio(false);
  }
  if (profiles_path) {
    inputs->profiles_file.open(*profiles_path);
    if (!inputs->profiles_file) {
      fmt::print(stderr, "cairn sim: {}: cannot open file\n", *profiles_path);
      return false;
    }
  }
  return true;
}

// A progress callback that redraws one stderr line: lines read, rate and
// an ETA from the bytes read of `total_bytes` (unknown when not positive).
std::function<void(int64_t, int64_t)> ProgressLine(std::chrono::steady_clock::time_point started,
                                                   int64_t total_bytes) {
  return [started, total_bytes](int64_t lines, int64_t bytes) {
    const double elapsed = Seconds(started);
    const double rate = lines / std::max(elapsed, 1e-9);
    std::string eta = "?";
    if (total_bytes > 0 && bytes > 0) {
      eta = fmt::format("{:.0f}s", elapsed * (static_cast<double>(total_bytes) / bytes - 1));
    }
    fmt::print(stderr, "\r  {} lines, {:.0f} lines/s, ETA {}   ",
               cairn::sim::WithCommas(lines), rate, eta);
  };
}

// Prints the simulation's report to stdout, as JSON (counts as numbers, or
// as protobuf's mapping writes them) or as text.
void PrintSimResult(const std::string& format, const cairn::v1::Journey& journey,
                    const cairn::sim::SimResult& result) {
  if (format == "json") {
    std::fputs(cairn::sim::RenderJson(result).c_str(), stdout);
  } else if (format == "proto-json") {
    std::fputs(cairn::sim::RenderProtoJson(result).c_str(), stdout);
  } else {
    std::fputs(cairn::sim::RenderText(journey, result).c_str(), stdout);
  }
}

// Writes the picture of the run that --dot and --svg ask for (--svg alone
// keeps its DOT source beside it as SVG.dot); returns 1 if one could not be
// written, else 0.
int WriteSimPictures(const Flags& flags, const cairn::v1::Journey& journey,
                     const cairn::v1::JourneyReport& report) {
  int status = 0;
  const std::string dot = cairn::sim::RenderDot(journey, report);
  std::optional<std::string> dot_path = flags.Get("dot");
  const std::optional<std::string> svg_path = flags.Get("svg");
  if (svg_path && !dot_path) dot_path = *svg_path + ".dot";
  if (dot_path) {
    std::ofstream out(*dot_path);
    out << dot;
    if (!out) {
      fmt::print(stderr, "cairn sim: cannot write {}\n", *dot_path);
      status = 1;
    }
  }
  if (svg_path && status == 0) {
    // No shell: the paths go to `dot` as arguments, whatever they hold.
    const absl::Status rendered = cairn::tools::RunProgram(
        {"dot", "-Tsvg", "-o", cairn::tools::PathArgument(*svg_path),
         cairn::tools::PathArgument(*dot_path)});
    if (absl::IsNotFound(rendered)) {
      fmt::print(stderr,
                 "cairn sim: cannot write {}: Graphviz's `dot` is not installed or not "
                 "on PATH (apt-get install graphviz); the graph is in {}\n",
                 *svg_path, *dot_path);
      status = 1;
    } else if (!rendered.ok()) {
      fmt::print(stderr, "cairn sim: cannot write {}: {}; the graph is in {}\n", *svg_path,
                 std::string(rendered.message()), *dot_path);
      status = 1;
    }
  }
  return status;
}

// The behaviours a simulation declares: the --behaviors file, else
// behaviors.textproto in the journey's folder (said on stderr), else none.
// False, with the error printed, when a file does not load.
bool LoadSimBehaviors(const std::optional<std::string>& flag, const std::string& journey_path,
                      cairn::v1::BehaviorSet* out) {
  std::string path;
  if (flag) {
    path = *flag;
  } else {
    const std::filesystem::path beside =
        std::filesystem::path(journey_path).parent_path() /
        absl::StrCat(cairn::kBehaviorSetFileStem, ".textproto");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(beside, ec)) return true;
    path = beside.string();
    fmt::print(stderr, "cairn sim: behaviours from {}\n", path);
  }
  absl::StatusOr<cairn::v1::BehaviorSet> set = cairn::LoadBehaviorSetFile(path);
  if (!set.ok()) {
    fmt::print(stderr, "cairn sim: {}\n", std::string(set.status().message()));
    return false;
  }
  *out = *std::move(set);
  return true;
}

// sim's flags, in the order `cairn sim --help` lists them.
void AddSimFlags(CLI::App* command) {
  using cairn::tools::AddFlag;
  AddFlag(command, "journey", "FILE", "the journey (.textproto, .json, .binpb); required");
  AddFlag(command, "events", "FILE",
          "the event log, JSON lines (- reads stdin); required. A line with\n"
          "attributes and a time (no name) is a profile update at that time");
  AddFlag(command, "profiles", "FILE",
          "profile attributes, JSON lines, applied before the journey deploys");
  AddFlag(command, "behaviors", "FILE",
          "the engine's behaviours (cairn.v1.BehaviorSet); default:\n"
          "behaviors.textproto beside the journey, when there is one");
  AddFlag(command, "until", "TIME|DATE|auto",
          "stop at this RFC 3339 time, or at 00:00 UTC of a date YYYY-MM-DD,\n"
          "or (auto) once nobody is in flight, at most 365 days after the last\n"
          "event (default: 7 days after the last event)");
  cairn::tools::AddRepeatedFlag(command, "sink", "CHANNEL:fail=R,delay=D,timeout=R",
                                "how a simulated channel behaves, e.g.\n"
                                "push:fail=0.1,delay=5m,timeout=0.02; repeat per channel");
  cairn::tools::AddRepeatedFlag(command, "effect", "ARM:GOAL=+Npp|+N%",
                                "subjects a split assigns to ARM convert on GOAL more: by\n"
                                "N percentage points, or N% of the rate, over what the log\n"
                                "gives (e.g. push:paid=+2pp); with the sample a test needs\n"
                                "to detect it. Repeatable");
  AddFlag(command, "seed", "N", "seed of the simulated channels and effects (default 1)");
  AddFlag(command, "format", "text|json|proto-json",
          "the report as text (default), or as JSON: the cairn.v1.JourneyReport\n"
          "with the cairn.v1.BehaviorsReport as its \"behaviors\" member, counts\n"
          "as numbers (proto-json: as protobuf's JSON mapping writes them, strings)");
  AddFlag(command, "dot", "OUT.dot", "write the journey with counts as Graphviz DOT");
  AddFlag(command, "svg", "OUT.svg",
          "render the journey with counts to SVG with Graphviz's dot\n"
          "(its DOT source beside it as OUT.svg.dot unless --dot)");
  AddFlag(command, "trace", "SUBJECT",
          "print one subject's path through the journey and each message it was\n"
          "sent, times in the journey's zone");
  AddFlag(command, "messages", "FILE.jsonl",
          "write every message the journey sent, one JSON object per line: time,\n"
          "subject, journey, node, arm, channel, template, params, message id and\n"
          "what the channel did (refused, lost, delivered and when reported)");
  cairn::tools::AddSwitch(command, "strict",
                          "stop at the first bad line instead of reporting and skipping it,\n"
                          "and exit 1 when the run ends with warnings");
}

// Runs `cairn sim`: loads the journey, behaviours and inputs, simulates,
// prints the report and writes the pictures.
int Sim(const Flags& flags) {
  std::string error;
  const std::optional<std::string> journey_path = flags.Get("journey");
  const std::optional<std::string> events_path = flags.Get("events");
  if (!journey_path || !events_path) return Usage("sim", "--journey and --events are required");
  const std::string format = flags.Get("format").value_or("text");
  if (format != "text" && format != "json" && format != "proto-json") {
    return Usage("sim", "--format is text, json or proto-json");
  }
  cairn::sim::SimOptions options;
  if (!ParseSimOptions(flags, &options, &error)) return Usage("sim", error);

  absl::StatusOr<cairn::v1::Journey> journey = cairn::LoadJourneyFile(*journey_path);
  if (!journey.ok()) {
    fmt::print(stderr, "cairn sim: {}\n", std::string(journey.status().message()));
    return 1;
  }
  if (!LoadSimBehaviors(flags.Get("behaviors"), *journey_path, &options.behaviors)) return 1;
  SimInputs inputs;
  const std::optional<std::string> profiles_path = flags.Get("profiles");
  if (!OpenSimInputs(*events_path, profiles_path, &inputs)) return 1;
  const std::optional<std::string> messages_path = flags.Get("messages");
  std::ofstream messages;
  if (messages_path) {
    messages.open(*messages_path, std::ios::binary | std::ios::trunc);
    if (!messages) {
      fmt::print(stderr, "cairn sim: cannot write {}\n", cairn::internal::Escaped(*messages_path));
      return 1;
    }
    options.messages = &messages;
  }

  const auto started = std::chrono::steady_clock::now();
  const bool show_progress = isatty(STDERR_FILENO);
  if (show_progress) options.progress = ProgressLine(started, inputs.total_bytes);
  absl::StatusOr<cairn::sim::SimResult> result = cairn::sim::Simulate(
      *journey, *inputs.events, *events_path, profiles_path ? &inputs.profiles_file : nullptr,
      profiles_path.value_or(""), options);
  if (show_progress) std::fputs("\r\033[K", stderr);
  if (!result.ok()) {
    fmt::print(stderr, "cairn sim: {}\n", std::string(result.status().message()));
    return 1;
  }
  const double elapsed = Seconds(started);

  PrintSimResult(format, *journey, *result);
  int status = WriteSimPictures(flags, *journey, result->report);
  if (messages_path) {
    messages.close();
    if (!messages) {
      fmt::print(stderr, "cairn sim: cannot write {}\n", cairn::internal::Escaped(*messages_path));
      status = 1;
    }
  }
  const int64_t events_done = result->event_lines;
  fmt::print(stderr, "simulated {} events in {:.2f} s ({} events/s)\n",
             cairn::sim::WithCommas(events_done), elapsed,
             cairn::sim::WithCommas(static_cast<int64_t>(events_done / std::max(elapsed, 1e-9))));
  for (const std::string& warning : result->warnings) {
    fmt::print(stderr, "cairn sim: warning: {}\n", warning);
  }
  // --strict: what the run warns about counts as a failure.
  if (status == 0 && options.strict && !result->warnings.empty()) return 1;
  return status;
}

// gen's flags, in the order `cairn gen --help` lists them.
void AddGenFlags(CLI::App* command) {
  using cairn::tools::AddFlag;
  AddFlag(command, "scenario", "ecommerce|game|loyalty",
          "what the log simulates (default ecommerce)");
  AddFlag(command, "subjects", "N", "how many shoppers, players or members");
  AddFlag(command, "days", "D", "how many days the log spans");
  AddFlag(command, "seed", "S", "the generator's seed; a seed always writes the same log");
  AddFlag(command, "start", "DATE", "the first day, e.g. 2026-10-20 (default 2026-01-05)");
  AddFlag(command, "profiles", "FILE",
          "write the loyalty members' profiles (time zones) here, JSON lines");
}

// Runs `cairn gen`: the profiles to --profiles first, then the events to
// stdout.
int Gen(const Flags& flags) {
  cairn::sim::GeneratorOptions options;
  auto scenario = cairn::sim::ParseScenario(flags.Get("scenario").value_or("ecommerce"));
  if (!scenario.ok()) return Usage("gen", std::string(scenario.status().message()));
  options.scenario = *scenario;
  if (auto v = flags.Get("subjects"); v && !absl::SimpleAtoi(*v, &options.subjects)) {
    return Usage("gen", "--subjects must be an integer");
  }
  if (auto v = flags.Get("days"); v && !absl::SimpleAtoi(*v, &options.days)) {
    return Usage("gen", "--days must be an integer");
  }
  if (auto v = flags.Get("seed"); v && !absl::SimpleAtoi(*v, &options.seed)) {
    return Usage("gen", "--seed must be a non-negative integer");
  }
  if (auto v = flags.Get("start"); v) {
    // A date, so that every scenario's days start at a UTC midnight.
    absl::CivilDay day;
    if (!absl::ParseCivilTime(*v, &day)) {
      return Usage("gen", "--start must be a date such as 2026-10-26");
    }
    options.start = absl::FromCivil(day, absl::UTCTimeZone());
  }
  // Bad options and a scenario without profiles are usage errors, found
  // before any output is opened (an empty profiles file left behind would
  // look like a result).
  if (absl::Status valid = cairn::sim::CheckOptions(options); !valid.ok()) {
    return Usage("gen", std::string(valid.message()));
  }
  if (auto path = flags.Get("profiles"); path) {
    if (options.scenario != cairn::sim::Scenario::kLoyalty) {
      return Usage("gen", "--profiles: only the loyalty scenario has profiles");
    }
    std::ofstream file(*path, std::ios::binary | std::ios::trunc);
    if (!file) {
      fmt::print(stderr, "cairn gen: cannot write {}\n", cairn::internal::Escaped(*path));
      return 1;
    }
    absl::StatusOr<int64_t> profiles = cairn::sim::GenerateProfiles(options, file);
    file.close();
    if (profiles.ok() && !file) profiles = absl::DataLossError("write error");
    if (!profiles.ok()) {
      if (absl::IsInvalidArgument(profiles.status())) {
        return Usage("gen", std::string(profiles.status().message()));
      }
      fmt::print(stderr, "cairn gen: {}: {}\n", cairn::internal::Escaped(*path),
                 std::string(profiles.status().message()));
      return 1;
    }
    fmt::print(stderr, "wrote {} profiles to {}\n", cairn::sim::WithCommas(*profiles),
               cairn::internal::Escaped(*path));
  }
  std::ios::sync_with_stdio(false);
  absl::StatusOr<int64_t> written = cairn::sim::GenerateEvents(options, std::cout);
  std::cout.flush();
  if (!written.ok()) {
    if (absl::IsInvalidArgument(written.status())) {
      return Usage("gen", std::string(written.status().message()));
    }
    fmt::print(stderr, "cairn gen: {}\n", std::string(written.status().message()));
    return 1;
  }
  fmt::print(stderr, "wrote {} events\n", cairn::sim::WithCommas(*written));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using cairn::tools::Command;
  // Summaries are one line of the command list in `cairn help`; footers
  // end the command's own help.
  const std::vector<Command> commands = {
      {"validate", "Check journey files and list their problems",
       cairn::tools::AddValidateFlags, cairn::tools::Validate,
       "Prints a summary of each valid journey and every problem of each invalid\n"
       "one, as FILE:LINE:COLUMN: error: MESSAGE. A directory stands for its\n"
       "journey files (as cairn worker --journeys reads them), - for stdin.\n"
       "Exit status: 0 all valid, 1 a journey is invalid or unreadable, 2 usage.\n"
       "See docs/journeys.md."},
      {"fmt", "Write journey files in one normalised form, or convert them",
       cairn::tools::AddFmtFlags, cairn::tools::Fmt,
       "Fields in number order, two-space indentation, small messages on one\n"
       "line, each duration followed by its human form (# 30d). The comment\n"
       "lines that open a text file are kept; --write refuses to drop others.\n"
       "Exit status: 0 done, 1 a file cannot be read, parsed or written (or,\n"
       "with --check, is not formatted), 2 usage. See docs/journeys.md."},
      {"sim", "Replay an event log through a journey", AddSimFlags, Sim,
       "Simulates the journey's channels and prints the funnel, channels, goals\n"
       "and A/B results; warns on stderr about what the run suggests went\n"
       "otherwise than meant. Exit status: 0 the simulation ran (bad lines are\n"
       "reported and skipped unless --strict), 1 an input does not load, a\n"
       "picture cannot be written, or --strict and a warning, 2 usage.\n"
       "See docs/simulator.md."},
      {"gen", "Write a synthetic event log to stdout", AddGenFlags, Gen,
       "Deterministic for a seed. Exit status: 0 written, 1 a file cannot be\n"
       "written, 2 usage. See docs/simulator.md."},
#ifdef CAIRN_HAVE_KAFKA
      {"worker", "Run journeys on a Kafka topic", cairn::tools::AddWorkerFlags,
       cairn::tools::Worker,
       "Joins the consumer group and runs the journeys on its partitions until\n"
       "SIGTERM or SIGINT, then hands them over, checkpointed. Exit status: 0\n"
       "stopped by a signal, 1 a fatal error, 2 usage. See docs/scale-out.md."},
      {"clock", "Write clock ticks into every partition", cairn::tools::AddClockFlags,
       cairn::tools::Clock,
       "Exit status: 0 written (or stopped by a signal), 1 a write failed, 2 usage."},
      {"deploy", "Write a journey into every partition", cairn::tools::AddDeployFlags,
       cairn::tools::Deploy,
       "Each partition's worker applies or refuses the journey when it reads it.\n"
       "Exit status: 0 written, 1 the journey does not compile or a write\n"
       "failed, 2 usage."},
      {"declare", "Write behaviours into every partition", cairn::tools::AddDeclareFlags,
       cairn::tools::Declare,
       "Each partition's worker applies or refuses them when it reads them.\n"
       "Exit status: 0 written, 1 the set has problems or a write failed,\n"
       "2 usage."},
      {"state", "Write a journey's state into every partition", cairn::tools::AddStateFlags,
       cairn::tools::State,
       "Pauses, resumes or stops the journey as each partition's worker reads it.\n"
       "Exit status: 0 written, 1 a write failed, 2 usage."},
#endif
  };
  return cairn::tools::RunTool(commands, argc, argv);
}
