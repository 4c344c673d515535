// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// `cairn worker` and `cairn clock` as separate processes against
// librdkafka's mock cluster (which lives in this test process, on loopback
// listeners): three workers in one group on an 8-partition topic carrying a
// generated 50,000-subject stream; one is killed with SIGKILL mid-stream,
// after a checkpoint and holding records it has not checkpointed since; the
// group rebalances and the survivors restore its partitions from their
// checkpoints and finish. The
// reports merged from the final checkpoints equal one plain Engine's over
// the same stream, every message id of the plain run is in the message
// topic, and no other id is.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cairn/kafka/broadcast.h"
#include "kafka_test_util.h"

extern char** environ;

namespace cairn::kafka {
namespace {

using namespace testing;  // NOLINT: the helpers of this test suite

constexpr int kPartitions = 8;

std::string FreshDir(const std::string& name) {
  const std::string dir = std::string(CAIRN_TEST_TMPDIR) + "/process_test_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A child process running the `cairn` tool, its stdout and stderr in a file.
class Process {
 public:
  Process(const std::vector<std::string>& args, std::string log_path)
      : log_path_(std::move(log_path)) {
    std::vector<std::string> argv = {CAIRN_TOOL_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c_argv;
    for (std::string& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 2, 1);
    const int err = posix_spawn(&pid_, c_argv[0], &actions, nullptr, c_argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(err == 0);
  }
  ~Process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }

  void Signal(int signal) { REQUIRE(kill(pid_, signal) == 0); }

  // Waits for the process to end; its wait status.
  int Wait() {
    int status = 0;
    REQUIRE(waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    return status;
  }

  std::string Log() const {
    std::ifstream in(log_path_);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  // Waits until the log matches `pattern` (up to `timeout`).
  bool WaitForLog(const std::regex& pattern, std::chrono::seconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::regex_search(Log(), pattern)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
};

int ExitCode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

TEST_CASE("cairn worker: one of three is killed mid-stream and the survivors finish") {
  MockCluster cluster;
  const std::string input = "shop-inputs";
  cluster.CreateTopic(input, kPartitions);
  cluster.CreateTopic("shop-inputs.messages", kPartitions);
  cluster.CreateTopic("shop-inputs.profiles", kPartitions);
  const std::string dir = FreshDir("kill");
  const std::string checkpoints = dir + "/checkpoints";

  const Stream stream = GenerateStream(50000, 2, absl::Hours(24 * 8));
  std::vector<Record> records;
  for (const EngineInput& in : stream.inputs) {
    for (Record& r : JsonRecords(in, kPartitions)) records.push_back(std::move(r));
  }
  const size_t first_part = records.size() * 6 / 10;
  Produce(cluster.bootstraps(), input, records, 0, first_part);

  auto worker_args = [&](const std::string& records_per_checkpoint,
                         const std::string& interval) {
    return std::vector<std::string>{
        "worker", "--brokers", cluster.bootstraps(), "--group", "cairn-shop", "--topic", input,
        "--journeys", std::string(CAIRN_SOURCE_DIR) + "/examples", "--checkpoints", checkpoints,
        "--checkpoint-records", records_per_checkpoint, "--checkpoint-interval", interval,
        "--health-interval", "200ms", "--config", "session.timeout.ms=6000", "--config",
        "heartbeat.interval.ms=500", "--config", "log_level=3"};
  };
  // The victim checkpoints every 3,000 records of a partition (never on
  // time), so that it is killed with some partitions checkpointed and
  // records read since.
  Process victim(worker_args("3000", "1h"), dir + "/victim.log");
  Process a(worker_args("5000", "1s"), dir + "/a.log");
  Process b(worker_args("5000", "1s"), dir + "/b.log");

  // Kill it once it has checkpointed and then read records it has not.
  const bool checkpointed =
      victim.WaitForLog(std::regex("checkpoint p[0-9]+ offset="), std::chrono::seconds(120));
  const size_t seen = victim.Log().size();
  bool holding = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (checkpointed && !holding && std::chrono::steady_clock::now() < deadline) {
    holding = std::regex_search(victim.Log().substr(seen), std::regex("uncheckpointed=[1-9]"));
    if (!holding) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  INFO(victim.Log());
  REQUIRE(checkpointed);
  REQUIRE(holding);
  victim.Signal(SIGKILL);
  const int victim_status = victim.Wait();
  CHECK((WIFSIGNALED(victim_status) && WTERMSIG(victim_status) == SIGKILL));

  // The rest of the stream, then the clock's tick into every partition.
  Produce(cluster.bootstraps(), input, records, first_part);
  {
    Process clock({"clock", "--brokers", cluster.bootstraps(), "--topic", input, "--at",
                   absl::FormatTime(absl::RFC3339_full, stream.end, absl::UTCTimeZone())},
                  dir + "/clock.log");
    const int status = clock.Wait();
    INFO(clock.Log());
    REQUIRE(ExitCode(status) == 0);
  }
  const std::vector<int64_t> ends = EndOffsets(cluster.bootstraps(), input, kPartitions);
  absl::StatusOr<std::unique_ptr<DirectoryCheckpointStore>> store =
      DirectoryCheckpointStore::Open(checkpoints);
  REQUIRE_THAT(StatusOf(store), IsOk());
  const bool finished = WaitForCheckpointsAt(**store, ends, std::chrono::seconds(300));
  a.Signal(SIGTERM);
  b.Signal(SIGTERM);
  const int a_status = a.Wait();
  const int b_status = b.Wait();
  INFO("a:\n" << a.Log() << "b:\n" << b.Log());
  REQUIRE(finished);
  CHECK(ExitCode(a_status) == 0);
  CHECK(ExitCode(b_status) == 0);

  // The victim's partitions were restored by the survivors.
  const std::string survivors = a.Log() + b.Log();
  CHECK(std::regex_search(survivors, std::regex("restored the checkpoint at offset")));

  std::vector<EngineInput> inputs = stream.inputs;
  inputs.push_back(ClockTick{stream.end});
  const std::vector<v1::Journey> journeys = ExampleJourneys();
  const PlainRun plain = RunPlainEngine(journeys, EngineOptions(), inputs);
  CheckSameReports(ReportsFromCheckpoints(**store, ends, EngineOptions()),
                   plain.reports);

  std::vector<std::string> ids;
  for (const ReadRecord& r : ReadTopic(cluster.bootstraps(), "shop-inputs.messages", kPartitions)) {
    ids.push_back(r.message_id);
  }
  const std::set<std::string> got(ids.begin(), ids.end());
  const std::set<std::string> want(plain.ids.begin(), plain.ids.end());
  REQUIRE(want.size() == plain.ids.size());  // ids are unique in one run
  std::vector<std::string> missing, unexpected;
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                      std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                      std::back_inserter(unexpected));
  INFO(ids.size() - got.size() << " repeats in the message topic");
  CHECK(missing.empty());
  CHECK(unexpected.empty());
  WARN(plain.ids.size() << " messages; the message topic holds " << ids.size() << " ("
                        << ids.size() - got.size() << " repeats after the kill)");
}

TEST_CASE("cairn worker: bad usage and bad set-up say what is wrong") {
  const std::string dir = FreshDir("worker_usage");
  const std::string journeys = std::string(CAIRN_SOURCE_DIR) + "/examples";
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    const char* says;
  };
  const std::vector<std::string> base = {"worker", "--brokers", "localhost:1", "--group", "g",
                                         "--topic", "t", "--checkpoints", dir + "/ckpt"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const std::vector<Case> cases = {
      {{"worker", "--brokers", "localhost:1"}, 2, "--group is required"},
      {with({}), 2, "--journeys is required"},
      {with({"--journeys", journeys, "--checkpoint-records", "0"}), 2,
       "--checkpoint-records must be a positive integer"},
      {with({"--journeys", journeys, "--checkpoint-interval", "soon"}), 2,
       "--checkpoint-interval \"soon\" is not a positive duration"},
      {with({"--journeys", journeys, "--max-input-lead", "-1h"}), 2,
       "--max-input-lead \"-1h\" is not a positive duration like 30s (or inf)"},
      {with({"--journeys", journeys, "--max-lateness", "inf"}), 2,
       "--max-lateness \"inf\" is not a positive duration like 30s"},
      {with({"--journeys", journeys, "--config", "novalue"}), 2,
       "--config \"novalue\" is not KEY=VALUE"},
      {with({"--journeys", journeys, "--keep", "-1"}), 2, "--keep must be a positive integer"},
      {with({"--journeys", dir + "/none"}), 1, "none"},
      {with({"--journeys", journeys, "--config", "enable.auto.commit=true"}), 1,
       "\"enable.auto.commit\" is set by the worker"},
      {with({"--journeys", journeys, "--message-topic", "t"}), 1,
       "cannot also be an output topic"},
  };
  int n = 0;
  for (const Case& c : cases) {
    Process p(c.args, absl::StrCat(dir, "/", ++n, ".log"));
    const int status = p.Wait();
    INFO(p.Log());
    CHECK(ExitCode(status) == c.exit_code);
    CHECK_THAT(p.Log(), Catch::Contains(c.says));
  }
}

TEST_CASE("cairn clock: bad usage and a missing topic say what is wrong") {
  MockCluster cluster;
  const std::string dir = FreshDir("clock");
  {
    Process p({"clock", "--brokers", cluster.bootstraps()}, dir + "/usage.log");
    CHECK(ExitCode(p.Wait()) == 2);
    CHECK_THAT(p.Log(), Catch::Contains("--brokers and --topic are required"));
  }
  {
    Process p({"clock", "--brokers", cluster.bootstraps(), "--topic", "t", "--at", "noon"},
              dir + "/at.log");
    CHECK(ExitCode(p.Wait()) == 2);
    CHECK_THAT(p.Log(), Catch::Contains("--at \"noon\" is not an RFC 3339 time"));
  }
  {
    Process p({"clock", "--brokers", cluster.bootstraps(), "--topic", "t", "--every", "0s"},
              dir + "/every.log");
    CHECK(ExitCode(p.Wait()) == 2);
    CHECK_THAT(p.Log(), Catch::Contains("--every \"0s\" is not a positive duration"));
  }
  {
    Process p({"clock", "--brokers", cluster.bootstraps(), "--topic", "no-such-topic", "--at",
               "2026-01-05T10:00:00Z"},
              dir + "/missing.log");
    CHECK(ExitCode(p.Wait()) == 1);
    CHECK_THAT(p.Log(), Catch::Contains("topic \"no-such-topic\" does not exist"));
  }
}

TEST_CASE("cairn deploy and cairn state write into every partition") {
  MockCluster cluster;
  cluster.CreateTopic("in", 3);
  const std::string dir = FreshDir("deploy");
  const std::string cart =
      std::string(CAIRN_SOURCE_DIR) + "/examples/cart_abandonment/journey.textproto";
  {
    Process p({"deploy", "--brokers", cluster.bootstraps(), "--topic", "in", "--journey", cart,
               "--at", "2026-01-05T10:00:00Z"},
              dir + "/deploy.log");
    const int status = p.Wait();
    INFO(p.Log());
    CHECK(ExitCode(status) == 0);
    // It wrote a record; whether each partition takes it is up to the
    // partition, later, and the command says so and where to look.
    CHECK_THAT(p.Log(), Catch::Contains("cairn deploy: wrote the deploy of journey "
                                        "\"cart_abandonment\" version 1 at "
                                        "2026-01-05T10:00:00+00:00 into 3 partitions\n"
                                        "cairn deploy: not applied yet: each partition applies "
                                        "or refuses it when its worker reads it."));
    CHECK_THAT(p.Log(), Catch::Contains("--deploy-result-topic"));
  }
  {
    Process p({"state", "--brokers", cluster.bootstraps(), "--topic", "in", "--journey",
               "cart_abandonment", "--state", "paused", "--at", "2026-01-05T11:00:00Z"},
              dir + "/state.log");
    const int status = p.Wait();
    INFO(p.Log());
    CHECK(ExitCode(status) == 0);
    CHECK_THAT(p.Log(), Catch::Contains("cairn state: wrote the state paused of journey "
                                        "\"cart_abandonment\" at 2026-01-05T11:00:00+00:00 into "
                                        "3 partitions\ncairn state: not applied yet"));
  }
  const std::vector<ReadRecord> records = ReadTopic(cluster.bootstraps(), "in", 3);
  REQUIRE(records.size() == 6);
  for (const ReadRecord& r : records) {
    INFO(r.partition << ":" << r.offset);
    absl::StatusOr<EngineInput> input = DecodeRecord(r.key, r.format, r.payload);
    REQUIRE_THAT(StatusOf(input), IsOk());
    if (r.offset == 0) {
      REQUIRE(std::holds_alternative<JourneyDeploy>(*input));
      CHECK(std::get<JourneyDeploy>(*input).journey.id() == "cart_abandonment");
    } else {
      REQUIRE(std::holds_alternative<JourneyStateChange>(*input));
      CHECK(std::get<JourneyStateChange>(*input).state == v1::PAUSED);
    }
  }

  // A journey that does not compile is refused before anything is written.
  std::ofstream(dir + "/bad.textproto") << "id: \"bad\" version: 1\n";
  {
    Process p({"deploy", "--brokers", cluster.bootstraps(), "--topic", "in", "--journey",
               dir + "/bad.textproto"},
              dir + "/bad.log");
    CHECK(ExitCode(p.Wait()) == 1);
    CHECK_THAT(p.Log(), Catch::Contains("journey bad has"));
  }
  {
    Process p({"state", "--brokers", cluster.bootstraps(), "--topic", "in", "--journey", "x",
               "--state", "asleep"},
              dir + "/usage.log");
    CHECK(ExitCode(p.Wait()) == 2);
    CHECK_THAT(p.Log(), Catch::Contains("--state \"asleep\" is not active, paused or stopped"));
  }
  CHECK(ReadTopic(cluster.bootstraps(), "in", 3).size() == 6);
}

TEST_CASE("cairn declare writes behaviours into every partition and refuses a bad set") {
  MockCluster cluster;
  cluster.CreateTopic("in", 3);
  const std::string dir = FreshDir("declare");
  const std::string behaviors =
      std::string(CAIRN_SOURCE_DIR) + "/examples/share_referral/behaviors.textproto";
  {
    Process p({"declare", "--brokers", cluster.bootstraps(), "--topic", "in", "--behaviors",
               behaviors, "--at", "2026-01-05T10:00:00Z"},
              dir + "/declare.log");
    const int status = p.Wait();
    INFO(p.Log());
    CHECK(ExitCode(status) == 0);
    CHECK_THAT(p.Log(), Catch::Contains("cairn declare: wrote the declaration of 1 behaviour "
                                        "at 2026-01-05T10:00:00+00:00 into 3 partitions\n"
                                        "cairn declare: not applied yet"));
  }
  const std::vector<ReadRecord> records = ReadTopic(cluster.bootstraps(), "in", 3);
  REQUIRE(records.size() == 3);
  for (const ReadRecord& r : records) {
    absl::StatusOr<EngineInput> input = DecodeRecord(r.key, r.format, r.payload);
    REQUIRE_THAT(StatusOf(input), IsOk());
    REQUIRE(std::holds_alternative<BehaviorDeclaration>(*input));
    const BehaviorDeclaration& d = std::get<BehaviorDeclaration>(*input);
    REQUIRE(d.behaviors.behaviors_size() == 1);
    CHECK(d.behaviors.behaviors(0).name() == "shares");
  }

  // A set with problems is refused before anything is written, naming them.
  std::ofstream(dir + "/bad.textproto")
      << "behaviors { name: \"a\" event { event: \"x\" } function: COUNT }\n"
         "behaviors { name: \"a\" event { event: \"y\" } function: COUNT }\n";
  {
    Process p({"declare", "--brokers", cluster.bootstraps(), "--topic", "in", "--behaviors",
               dir + "/bad.textproto"},
              dir + "/bad.log");
    CHECK(ExitCode(p.Wait()) == 1);
    CHECK_THAT(p.Log(), Catch::Contains("behaviour \"a\" is declared twice"));
  }
  {
    Process p({"declare", "--brokers", cluster.bootstraps(), "--topic", "in"}, dir + "/usage.log");
    CHECK(ExitCode(p.Wait()) == 2);
    CHECK_THAT(p.Log(), Catch::Contains("--behaviors is required"));
  }
  CHECK(ReadTopic(cluster.bootstraps(), "in", 3).size() == 3);
}

TEST_CASE("BroadcastWriter: a tick into every partition and its errors") {
  MockCluster cluster;
  cluster.CreateTopic("ticks", 4);
  BroadcastWriterOptions options;
  options.brokers = cluster.bootstraps();
  options.topic = "ticks";
  options.timeout = absl::Seconds(10);
  absl::StatusOr<std::unique_ptr<BroadcastWriter>> writer = BroadcastWriter::Create(options);
  REQUIRE_THAT(StatusOf(writer), IsOk());
  const absl::Time t = absl::FromUnixSeconds(1767607200);
  absl::StatusOr<int> n = (*writer)->Tick(t);
  REQUIRE_THAT(StatusOf(n), IsOk());
  CHECK(*n == 4);
  const std::vector<ReadRecord> ticks = ReadTopic(cluster.bootstraps(), "ticks", 4);
  REQUIRE(ticks.size() == 4);
  for (int32_t p = 0; p < 4; ++p) {
    CHECK(ticks[p].partition == p);
    absl::StatusOr<EngineInput> input =
        DecodeRecord(ticks[p].key, ticks[p].format, ticks[p].payload);
    REQUIRE_THAT(StatusOf(input), IsOk());
    CHECK(std::get<ClockTick>(*input).time == t);
  }
  CHECK((*writer)->Tick(absl::InfiniteFuture()).status().code() ==
        absl::StatusCode::kInvalidArgument);
  // Keyed inputs go to one partition, never to all.
  Event e;
  e.subject_id = "u1";
  e.name = "signup";
  e.time = t;
  absl::StatusOr<int> keyed = (*writer)->Write(e);
  CHECK(keyed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(keyed.status().message()),
             Catch::Contains("a event record is keyed by its subject"));

  options.topic = "no-such-topic";
  absl::StatusOr<std::unique_ptr<BroadcastWriter>> missing = BroadcastWriter::Create(options);
  REQUIRE_THAT(StatusOf(missing), IsOk());
  absl::StatusOr<int> none = (*missing)->Tick(t);
  CHECK(none.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(none.status().message()), Catch::Contains("no-such-topic"));

  options.brokers.clear();
  CHECK(BroadcastWriter::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
  options.brokers = cluster.bootstraps();
  options.client_config = {{"acks", "1"}};
  CHECK(BroadcastWriter::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::kafka
