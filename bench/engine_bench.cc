// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine throughput: events per second on a realistic mix where most events
// match nothing, timer fires per second, and snapshot write/read speed and
// size for a million in-flight subjects. Build with the `release` preset:
//   build/release/bench/cairn_bench_engine --benchmark_counters_tabular=true

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "cairn/cairn.h"

namespace {

class NullSink : public cairn::ChannelSink {
 public:
  cairn::SendResult Send(const cairn::Message&) override { return cairn::SendResult::Accepted(); }
};

cairn::v1::Journey Parse(const char* text) {
  absl::StatusOr<cairn::v1::Journey> j = cairn::ParseJourney(text, cairn::JourneyFormat::kText);
  if (!j.ok()) std::abort();
  return *j;
}

cairn::v1::Journey Cart() {
  absl::StatusOr<cairn::v1::Journey> j = cairn::LoadJourneyFile(
      CAIRN_SOURCE_DIR "/examples/cart_abandonment/journey.textproto");
  if (!j.ok()) std::abort();
  return *j;
}

const char kReminder[] = R"pb(
  id: "reminder" version: 1 settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "t" trigger { event { matcher { event: "signup" } } next: "d" } }
  nodes { id: "d" delay { duration { seconds: 3600 } next: "p" } }
  nodes { id: "p" action { channel: "push" template_id: "welcome" } })pb";

const char kWinBack[] = R"pb(
  id: "win_back" version: 1 settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
  nodes { id: "t" trigger { event { matcher { event: "login" } } next: "w" } }
  nodes { id: "w" wait { branches { matcher { event: "login" } next: "" }
          timeout { seconds: 604800 } on_timeout: "p" } }
  nodes { id: "p" action { channel: "push" template_id: "gift" } })pb";

struct Fixture {
  NullSink sink;
  cairn::Engine engine;
  explicit Fixture(cairn::EngineOptions options = cairn::EngineOptions())
      : engine(std::move(options)) {
    if (!engine.RegisterChannel("push", &sink).ok()) std::abort();
    for (const cairn::v1::Journey& j : {Cart(), Parse(kReminder), Parse(kWinBack)}) {
      if (!engine.Deploy(j).ok()) std::abort();
    }
  }
};

// Mostly searches and page views (no journey listens), some views, carts,
// payments and logins.
std::vector<cairn::Event> MakeStream(int subjects, int events, absl::Time start) {
  std::vector<cairn::Event> out;
  out.reserve(events);
  uint64_t x = 42;
  const char* kNames[] = {"search", "page_view", "search", "page_view", "page_view",
                          "product_view", "add_to_cart", "payment", "login", "search"};
  for (int i = 0; i < events; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    cairn::Event e;
    e.subject_id = absl::StrCat("u", (x >> 20) % subjects);
    e.name = kNames[(x >> 50) % 10];
    e.time = start + absl::Milliseconds(i);
    out.push_back(std::move(e));
  }
  return out;
}

void BM_Ingest(benchmark::State& state) {
  const int subjects = static_cast<int>(state.range(0));
  const int events = 2'000'000;
  const absl::Time start = absl::FromUnixSeconds(1767225600);
  const std::vector<cairn::Event> stream = MakeStream(subjects, events, start);
  for (auto _ : state) {
    state.PauseTiming();
    cairn::EngineOptions options;
    options.start_time = start;
    options.dedup_window = absl::ZeroDuration();
    auto fixture = std::make_unique<Fixture>(options);
    state.ResumeTiming();
    for (const cairn::Event& e : stream) {
      if (!fixture->engine.Ingest(e).ok()) std::abort();
    }
    state.PauseTiming();
    fixture.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * events);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events) * state.iterations(),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Ingest)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_TimerFires(benchmark::State& state) {
  const int subjects = static_cast<int>(state.range(0));
  const absl::Time start = absl::FromUnixSeconds(1767225600);
  for (auto _ : state) {
    state.PauseTiming();
    cairn::EngineOptions options;
    options.start_time = start;
    auto fixture = std::make_unique<Fixture>(options);
    cairn::Event e;
    e.name = "signup";
    for (int i = 0; i < subjects; ++i) {
      e.subject_id = absl::StrCat("u", i);
      e.time = start + absl::Microseconds(i);
      if (!fixture->engine.Ingest(e).ok()) std::abort();
    }
    state.ResumeTiming();
    // Every subject's one-hour delay fires, and each sends a push.
    if (!fixture->engine.AdvanceTo(start + absl::Hours(2)).ok()) std::abort();
    state.PauseTiming();
    fixture.reset();
    state.ResumeTiming();
  }
  state.counters["fires_per_s"] = benchmark::Counter(
      static_cast<double>(subjects) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TimerFires)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_Snapshot(benchmark::State& state) {
  const int subjects = static_cast<int>(state.range(0));
  const absl::Time start = absl::FromUnixSeconds(1767225600);
  cairn::EngineOptions options;
  options.start_time = start;
  Fixture fixture(options);
  cairn::Event e;
  e.name = "login";  // Each subject waits in win_back for a week.
  for (int i = 0; i < subjects; ++i) {
    e.subject_id = absl::StrCat("u", i);
    e.time = start + absl::Microseconds(i);
    if (!fixture.engine.Ingest(e).ok()) std::abort();
  }
  std::string bytes;
  double write_s = 0, read_s = 0;
  for (auto _ : state) {
    std::ostringstream out;
    auto t0 = std::chrono::steady_clock::now();
    if (!fixture.engine.Snapshot(out).ok()) std::abort();
    auto t1 = std::chrono::steady_clock::now();
    bytes = out.str();
    Fixture fresh(options);
    std::istringstream in(bytes);
    auto t2 = std::chrono::steady_clock::now();
    if (!fresh.engine.Restore(in).ok()) std::abort();
    auto t3 = std::chrono::steady_clock::now();
    write_s += std::chrono::duration<double>(t1 - t0).count();
    read_s += std::chrono::duration<double>(t3 - t2).count();
  }
  const double mb = bytes.size() / 1e6;
  state.counters["bytes_per_subject"] = static_cast<double>(bytes.size()) / subjects;
  state.counters["write_MB_per_s"] = mb * state.iterations() / write_s;
  state.counters["read_MB_per_s"] = mb * state.iterations() / read_s;
  state.counters["snapshot_MB"] = mb;
}
BENCHMARK(BM_Snapshot)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
