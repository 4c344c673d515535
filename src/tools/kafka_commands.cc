// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "tools/kafka_commands.h"

#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cairn/engine.h"
#include "cairn/input.h"
#include "cairn/journey.h"
#include "cairn/journey_io.h"
#include "cairn/kafka/checkpoint.h"
#include "cairn/kafka/broadcast.h"
#include "cairn/kafka/worker.h"
#include "fmt/core.h"
#include "tools/cli.h"
#include "util/utf8.h"

namespace cairn::tools {
namespace {

volatile std::sig_atomic_t stop_requested = 0;

void RequestStop(int) { stop_requested = 1; }

void CatchStopSignals() {
  std::signal(SIGTERM, RequestStop);
  std::signal(SIGINT, RequestStop);
}

// Parses --NAME as a positive duration ("30s", "1h"); *out keeps its
// default when the flag is absent. False (with *error set) if malformed.
bool DurationFlag(const Flags& flags, const std::string& name, absl::Duration* out,
                  std::string* error, bool allow_infinite = false) {
  const std::optional<std::string> text = flags.Get(name);
  if (!text) return true;
  if (!absl::ParseDuration(*text, out) || *out <= absl::ZeroDuration() ||
      (*out == absl::InfiniteDuration() && !allow_infinite)) {
    *error = absl::StrCat("--", name, " \"", internal::Escaped(*text),
                          "\" is not a positive duration like 30s",
                          allow_infinite ? " (or inf)" : "");
    return false;
  }
  return true;
}

// Parses every --config KEY=VALUE.
bool ClientConfig(const Flags& flags, std::vector<std::pair<std::string, std::string>>* out,
                  std::string* error) {
  for (const std::string& kv : flags.All("config")) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = absl::StrCat("--config \"", internal::Escaped(kv), "\" is not KEY=VALUE");
      return false;
    }
    out->emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return true;
}

void PrintStats(const kafka::WorkerStats& s) {
  fmt::print(stderr,
             "cairn worker: records applied {}, rejected {}, bad {}; messages {}, profile "
             "writes {}; checkpoints {} ({} bytes); partitions assigned {}, revoked {}; "
             "restored {}, from the beginning {}, checkpoints skipped {}; journey changes "
             "applied {}, refused {}\n",
             s.records_applied, s.records_rejected, s.records_bad, s.messages_produced,
             s.profile_writes_produced, s.checkpoints_saved, s.checkpoint_bytes,
             s.partitions_assigned, s.partitions_revoked, s.restored_from_checkpoint,
             s.started_from_beginning, s.checkpoint_warnings,
             s.journeys_deployed + s.journey_states_changed, s.journey_changes_refused);
}

}  // namespace

void AddWorkerFlags(CLI::App* command) {
  AddFlag(command, "brokers", "HOST:PORT,...", "the Kafka bootstrap servers; required");
  AddFlag(command, "group", "G", "the consumer group the workers share; required");
  AddFlag(command, "topic", "T", "the input topic; required");
  AddFlag(command, "journeys", "PATH",
          "a journey file, or a folder of them (with behaviors.textproto\n"
          "beside them); required");
  AddFlag(command, "checkpoints", "DIR", "where each partition's checkpoints go; required");
  AddFlag(command, "message-topic", "T", "where messages go (default TOPIC.messages)");
  AddFlag(command, "profile-topic", "T", "where profile writes go (default TOPIC.profiles)");
  AddFlag(command, "deploy-result-topic", "T",
          "where each partition's result of a deploy or state change goes\n"
          "(default: none; the topic must exist)");
  AddFlag(command, "checkpoint-records", "N",
          "checkpoint a partition every N records (default 100000)");
  AddFlag(command, "checkpoint-interval", "DURATION",
          "and at least this often, e.g. 30s (the default)");
  AddFlag(command, "keep", "N", "checkpoints kept per partition (default 3)");
  AddFlag(command, "health-interval", "DURATION",
          "how often each partition logs a health line (default 60s)");
  AddFlag(command, "max-lateness", "DURATION",
          "how late an input may be before it is rejected (default 1h)");
  AddFlag(command, "max-input-lead", "DURATION",
          "how far ahead of engine time an input's time may be (default 1h;\n"
          "inf trusts every record's time)");
  AddRepeatedFlag(command, "config", "KEY=VALUE", "a librdkafka setting; repeatable");
}

int Worker(const Flags& flags) {
  std::string error;
  for (const char* required : {"brokers", "group", "topic", "journeys", "checkpoints"}) {
    if (!flags.Get(required)) return Usage("worker", absl::StrCat("--", required, " is required"));
  }
  kafka::WorkerOptions options;
  options.brokers = *flags.Get("brokers");
  options.group = *flags.Get("group");
  options.input_topic = *flags.Get("topic");
  options.message_topic =
      flags.Get("message-topic").value_or(absl::StrCat(options.input_topic, ".messages"));
  options.profile_topic =
      flags.Get("profile-topic").value_or(absl::StrCat(options.input_topic, ".profiles"));
  // No default: the topic must exist, and workers written for a cluster
  // without it must not start failing.
  options.deploy_result_topic = flags.Get("deploy-result-topic").value_or("");
  if (auto n = flags.Get("checkpoint-records");
      n && (!absl::SimpleAtoi(*n, &options.checkpoint_every_records) ||
            options.checkpoint_every_records < 1)) {
    return Usage("worker", "--checkpoint-records must be a positive integer");
  }
  int keep = 3;
  if (auto n = flags.Get("keep"); n && (!absl::SimpleAtoi(*n, &keep) || keep < 1)) {
    return Usage("worker", "--keep must be a positive integer");
  }
  if (!DurationFlag(flags, "checkpoint-interval", &options.checkpoint_interval, &error) ||
      !DurationFlag(flags, "health-interval", &options.health_interval, &error) ||
      !DurationFlag(flags, "max-lateness", &options.engine.max_lateness, &error) ||
      !DurationFlag(flags, "max-input-lead", &options.engine.max_input_lead, &error,
                    /*allow_infinite=*/true) ||
      !ClientConfig(flags, &options.client_config, &error)) {
    return Usage("worker", error);
  }

  absl::StatusOr<std::vector<v1::Journey>> journeys = LoadJourneys(*flags.Get("journeys"));
  if (!journeys.ok()) {
    fmt::print(stderr, "cairn worker: {}\n", std::string(journeys.status().message()));
    return 1;
  }
  options.journeys = *std::move(journeys);
  // Behaviour files beside the journeys (behaviors.textproto, ...).
  absl::StatusOr<v1::BehaviorSet> behaviors = LoadBehaviorSets(*flags.Get("journeys"));
  if (!behaviors.ok()) {
    fmt::print(stderr, "cairn worker: {}\n", std::string(behaviors.status().message()));
    return 1;
  }
  options.behaviors = *std::move(behaviors);
  absl::StatusOr<std::unique_ptr<kafka::DirectoryCheckpointStore>> store =
      kafka::DirectoryCheckpointStore::Open(*flags.Get("checkpoints"), keep);
  if (!store.ok()) {
    fmt::print(stderr, "cairn worker: checkpoints: {}\n", std::string(store.status().message()));
    return 1;
  }
  options.checkpoints = store->get();

  CatchStopSignals();
  absl::StatusOr<std::unique_ptr<kafka::Worker>> worker = kafka::Worker::Create(options);
  if (!worker.ok()) {
    fmt::print(stderr, "cairn worker: {}\n", std::string(worker.status().message()));
    return 1;
  }
  while (stop_requested == 0) {
    absl::Status s = (*worker)->Poll(absl::Milliseconds(100));
    if (!s.ok()) {
      // Leave without checkpointing: the partitions resume from their last
      // checkpoints, wherever they go next.
      fmt::print(stderr, "cairn worker: {}\n", std::string(s.message()));
      PrintStats((*worker)->stats());
      return 1;
    }
  }
  absl::Status closed = (*worker)->Close();
  PrintStats((*worker)->stats());
  if (!closed.ok()) {
    fmt::print(stderr, "cairn worker: {}\n", std::string(closed.message()));
    return 1;
  }
  return 0;
}

namespace {

// What a written journey change does not say: whether the partitions take
// it. Each worker applies or refuses it when it reads it, later.
constexpr char kPartitionsDecide[] =
    "not applied yet: each partition applies or refuses it when its worker reads it. See "
    "each partition's result in the workers' log (\"partition P: ... at offset O\", and "
    "journeys= in its health lines) or in the deploy-result topic "
    "(cairn worker --deploy-result-topic); docs/scale-out.md, \"Changing journeys\"";

// Declares the flags every broadcasting command shares; `at` says what
// --at's time is of.
void AddBroadcastFlags(CLI::App* command, const std::string& at) {
  AddFlag(command, "brokers", "HOST:PORT,...", "the Kafka bootstrap servers; required");
  AddFlag(command, "topic", "T", "the workers' input topic; required");
  AddFlag(command, "at", "TIME", at);
  AddRepeatedFlag(command, "config", "KEY=VALUE", "a librdkafka setting; repeatable");
}

// Reads the flags every broadcasting command shares: --brokers, --topic
// (both required), --config, --at. Returns false with *error set on bad
// usage.
bool BroadcastFlags(const Flags& flags, kafka::BroadcastWriterOptions* options,
                    std::optional<absl::Time>* at, std::string* error) {
  if (!flags.Get("brokers") || !flags.Get("topic")) {
    *error = "--brokers and --topic are required";
    return false;
  }
  options->brokers = *flags.Get("brokers");
  options->topic = *flags.Get("topic");
  if (!ClientConfig(flags, &options->client_config, error)) return false;
  if (auto text = flags.Get("at")) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, *text, &t, &err)) {
      *error = absl::StrCat("--at \"", internal::Escaped(*text), "\" is not an RFC 3339 time");
      return false;
    }
    *at = t;
  }
  return true;
}

// Writes one broadcast input; prints what it did, and `after` on a line of
// its own when not empty. An exit code.
int WriteOnce(const std::string& command, const kafka::BroadcastWriterOptions& options,
              const EngineInput& input, const std::string& what,
              const std::string& after = "") {
  absl::StatusOr<std::unique_ptr<kafka::BroadcastWriter>> writer =
      kafka::BroadcastWriter::Create(options);
  absl::StatusOr<int> partitions =
      writer.ok() ? (*writer)->Write(input) : absl::StatusOr<int>(writer.status());
  if (!partitions.ok()) {
    fmt::print(stderr, "cairn {}: {}\n", command, std::string(partitions.status().message()));
    return 1;
  }
  fmt::print(stderr, "cairn {}: {} at {} into {} partitions\n", command, what,
             absl::FormatTime(absl::RFC3339_full, InputTime(input), absl::UTCTimeZone()),
             *partitions);
  if (!after.empty()) fmt::print(stderr, "cairn {}: {}\n", command, after);
  return 0;
}

}  // namespace

void AddClockFlags(CLI::App* command) {
  AddBroadcastFlags(command, "write one tick at this RFC 3339 time, and exit");
  AddFlag(command, "every", "DURATION",
          "write a tick at each whole multiple of this on the wall clock\n"
          "(default 1s)");
  AddFlag(command, "count", "N", "stop after N ticks (default: at SIGTERM or SIGINT)");
}

int Clock(const Flags& flags) {
  std::string error;
  kafka::BroadcastWriterOptions options;
  std::optional<absl::Time> at;
  absl::Duration every = absl::Seconds(1);
  int64_t count = -1;
  if (!BroadcastFlags(flags, &options, &at, &error) ||
      !DurationFlag(flags, "every", &every, &error)) {
    return Usage("clock", error);
  }
  if (auto n = flags.Get("count"); n && (!absl::SimpleAtoi(*n, &count) || count < 1)) {
    return Usage("clock", "--count must be a positive integer");
  }
  if (at) {
    if (flags.Get("every") || flags.Get("count")) {
      return Usage("clock", "--at writes one tick: it takes no --every or --count");
    }
    return WriteOnce("clock", options, ClockTick{*at}, "tick");
  }
  absl::StatusOr<std::unique_ptr<kafka::BroadcastWriter>> writer =
      kafka::BroadcastWriter::Create(options);
  if (!writer.ok()) {
    fmt::print(stderr, "cairn clock: {}\n", std::string(writer.status().message()));
    return 1;
  }

  // The wall clock enters here (and as the default --at of deploy and
  // state): ticks are written at whole multiples of --every, and from then
  // on they are records like any other.
  CatchStopSignals();
  for (int64_t written = 0; stop_requested == 0 && (count < 0 || written < count); ++written) {
    const absl::Time now = absl::Now();
    const absl::Time t = absl::UnixEpoch() + absl::Floor(now - absl::UnixEpoch(), every);
    absl::StatusOr<int> partitions = (*writer)->Tick(t);
    if (!partitions.ok()) {
      fmt::print(stderr, "cairn clock: {}\n", std::string(partitions.status().message()));
      return 1;
    }
    fmt::print(stderr, "cairn clock: tick at {} into {} partitions\n",
               absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone()), *partitions);
    if (count >= 0 && written + 1 >= count) break;
    const absl::Time next = t + every;
    while (stop_requested == 0 && absl::Now() < next) {
      absl::SleepFor(std::min(next - absl::Now(), absl::Milliseconds(100)));
    }
  }
  return 0;
}

void AddDeployFlags(CLI::App* command) {
  AddBroadcastFlags(command, "the deploy's RFC 3339 time (default: now)");
  AddFlag(command, "journey", "FILE", "the journey to deploy; required");
}

int Deploy(const Flags& flags) {
  std::string error;
  kafka::BroadcastWriterOptions options;
  std::optional<absl::Time> at;
  if (!BroadcastFlags(flags, &options, &at, &error)) return Usage("deploy", error);
  if (!flags.Get("journey")) return Usage("deploy", "--journey is required");
  absl::StatusOr<v1::Journey> journey = LoadJourneyFile(*flags.Get("journey"));
  if (!journey.ok()) {
    fmt::print(stderr, "cairn deploy: {}\n", std::string(journey.status().message()));
    return 1;
  }
  // Refuse a journey that does not compile here rather than in every
  // partition (where the record would be counted as rejected).
  if (absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled = Compile(*journey);
      !compiled.ok()) {
    fmt::print(stderr, "cairn deploy: {}\n", std::string(compiled.status().message()));
    return 1;
  }
  const std::string what =
      absl::StrCat("wrote the deploy of journey \"", journey->id(), "\" version ",
                   journey->version());
  return WriteOnce("deploy", options,
                   JourneyDeploy{*std::move(journey), at.value_or(absl::Now())}, what,
                   kPartitionsDecide);
}

void AddDeclareFlags(CLI::App* command) {
  AddBroadcastFlags(command, "the declaration's RFC 3339 time (default: now)");
  AddFlag(command, "behaviors", "FILE", "the behaviours (a cairn.v1.BehaviorSet); required");
}

int Declare(const Flags& flags) {
  std::string error;
  kafka::BroadcastWriterOptions options;
  std::optional<absl::Time> at;
  if (!BroadcastFlags(flags, &options, &at, &error)) return Usage("declare", error);
  if (!flags.Get("behaviors")) return Usage("declare", "--behaviors is required");
  absl::StatusOr<v1::BehaviorSet> behaviors = LoadBehaviorSetFile(*flags.Get("behaviors"));
  if (!behaviors.ok()) {
    fmt::print(stderr, "cairn declare: {}\n", std::string(behaviors.status().message()));
    return 1;
  }
  // Refuse a set with problems here rather than in every partition (a fresh
  // engine checks the set alone; what the partitions' journeys read is
  // theirs to judge).
  if (absl::Status valid = Engine().DeclareBehaviors(*behaviors); !valid.ok()) {
    fmt::print(stderr, "cairn declare: {}\n", std::string(valid.message()));
    return 1;
  }
  const std::string what =
      absl::StrCat("wrote the declaration of ", behaviors->behaviors_size(),
                   behaviors->behaviors_size() == 1 ? " behaviour" : " behaviours");
  return WriteOnce("declare", options,
                   BehaviorDeclaration{*std::move(behaviors), at.value_or(absl::Now())}, what,
                   kPartitionsDecide);
}

void AddStateFlags(CLI::App* command) {
  AddBroadcastFlags(command, "the change's RFC 3339 time (default: now)");
  AddFlag(command, "journey", "ID", "the journey's id; required");
  AddFlag(command, "state", "active|paused|stopped", "the journey's new state; required");
}

int State(const Flags& flags) {
  std::string error;
  kafka::BroadcastWriterOptions options;
  std::optional<absl::Time> at;
  if (!BroadcastFlags(flags, &options, &at, &error)) return Usage("state", error);
  if (!flags.Get("journey") || !flags.Get("state")) {
    return Usage("state", "--journey and --state are required");
  }
  const std::string name = *flags.Get("state");
  const absl::StatusOr<v1::JourneyState> state = kafka::JourneyStateFromName(name);
  if (!state.ok()) {
    return Usage("state", absl::StrCat("--state \"", internal::Escaped(name),
                                       "\" is not active, paused or stopped"));
  }
  const std::string journey_id = *flags.Get("journey");
  return WriteOnce("state", options,
                   JourneyStateChange{journey_id, *state, at.value_or(absl::Now())},
                   absl::StrCat("wrote the state ", name, " of journey \"",
                                internal::Escaped(journey_id), "\""),
                   kPartitionsDecide);
}

}  // namespace cairn::tools
