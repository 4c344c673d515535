// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine throughput: events per second on a realistic mix where most events
// match nothing, the same stream through the floor (the least work any
// engine must do per event), the same ingest with three behaviours declared
// against it without them, with five segments declared against it with
// their behaviours only, heap allocations per event on the path of
// events no journey listens to, timer fires per second, and snapshot
// write/read speed and size for a million in-flight subjects. Build with the
// `release` preset:
//   build/release/bench/cairn_bench_engine --benchmark_counters_tabular=true
// scripts/bench runs it (and the rest) and writes build/bench/summary.json.
//
// Every operator new in this program is counted (see the replacement at the
// end of the file), so each benchmark can report allocations per event.
// Setting CAIRN_BENCH_ALLOC_TRACE=N prints the call stacks of the first N
// allocations inside the measured loops of BM_NonMatching and BM_TimerFires.

#include <execinfo.h>
#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "bench_setup.h"
#include "cairn/cairn.h"

namespace {

// Every pass starts from cold memory, whatever ran before it: blocks of
// 128 KiB and more (the engine's and the floor's big arrays) are always fresh
// mappings, and each pass first returns the free heap pages to the system
// (malloc_trim). Otherwise glibc raises the mapping threshold after the first
// big block is freed and keeps freed small blocks' pages, so a pass after a
// big one reuses pages already faulted in and runs up to 25% faster: results
// would depend on run order.
[[maybe_unused]] const int kFixedMmapThreshold = [] {
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  return 0;
}();

// ---- Allocation counting (the operator new replacement is at the end) ----

std::atomic<int64_t> g_allocations{0};
// While > 0, each allocation prints its call stack and decrements it.
std::atomic<int> g_trace_budget{0};
thread_local bool t_in_trace = false;

void TraceAllocation(std::size_t size) {
  if (t_in_trace) return;
  if (g_trace_budget.load(std::memory_order_relaxed) <= 0) return;
  t_in_trace = true;
  g_trace_budget.fetch_sub(1, std::memory_order_relaxed);
  void* frames[32];
  const int n = backtrace(frames, 32);
  char header[96];
  const int len = std::snprintf(header, sizeof(header),
                                "---- allocation of %zu bytes in a traced loop:\n", size);
  if (len > 0) (void)!write(STDERR_FILENO, header, static_cast<size_t>(len));
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
  t_in_trace = false;
}

// A relaxed load and store, not fetch_add: a locked add waits for the store
// buffer to drain, and perf put about 10% of a timer-firing run's samples on
// it. The benchmarks allocate on one thread, so no count is lost.
inline void CountAllocation(std::size_t size) {
  g_allocations.store(g_allocations.load(std::memory_order_relaxed) + 1,
                      std::memory_order_relaxed);
  if (g_trace_budget.load(std::memory_order_relaxed) > 0) TraceAllocation(size);
}

int64_t Allocations() { return g_allocations.load(std::memory_order_relaxed); }

// CAIRN_BENCH_ALLOC_TRACE=N: print the stacks of the first N allocations in
// a traced loop. Resolve the "(+0x...)" offsets with
//   addr2line -f -C -e build/release/bench/cairn_bench_engine 0x...
int TraceBudget() {
  static const int budget = [] {
    const char* env = std::getenv("CAIRN_BENCH_ALLOC_TRACE");
    return env == nullptr ? 0 : std::atoi(env);
  }();
  return budget;
}

// ---- Engine set-up ----

using cairn::bench::BenchBehaviors;
using cairn::bench::Fixture;
using cairn::bench::kStart;

cairn::EngineOptions IngestOptions() {
  cairn::EngineOptions options;
  options.start_time = kStart;
  options.dedup_window = absl::ZeroDuration();
  return options;
}

// ---- The event stream ----

using Stream = cairn::bench::EventStream;

// Two million events, or two per subject when there are more subjects
// (20 M events for the 10 M-subject run, so most subjects are seen; about
// 3 GB resident at the end of that run). The 100k and 1M runs repeat three
// times (scripts/bench takes the median): one run lasts half a second, and
// the machine may be shared. BM_EngineVsFloor alternates the two.
int64_t StreamEvents(int subjects) {
  return std::max<int64_t>(2'000'000, 2 * static_cast<int64_t>(subjects));
}

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// This thread's CPU time: unlike the wall clock, it does not count the time
// another job's process holds the core, so on a shared machine it moves
// less (it still counts that job's effect on the caches).
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void ReportRate(benchmark::State& state, int64_t events, double seconds, int64_t allocations) {
  state.SetItemsProcessed(state.iterations() * events);
  state.counters["events"] = static_cast<double>(events);
  state.counters["events_per_s"] = static_cast<double>(events) / seconds;
  state.counters["ns_per_event"] = seconds * 1e9 / static_cast<double>(events);
  state.counters["allocations_per_event"] =
      static_cast<double>(allocations) / static_cast<double>(events);
}

// One pass of the stream through an engine or the floor: the seconds spent
// in the timed loops and the allocations made in them.
struct Pass {
  double seconds = 0;
  double cpu_seconds = 0;  // The thread's CPU time in the same loops.
  int64_t allocations = 0;
  int64_t subjects_known = 0;
  int64_t enrollments_in_flight = 0;
};

// What an ingest pass sets up before its timed loop.
struct IngestSetup {
  // Every payment of the stream carries an amount.
  bool amounts = false;
  // Declared before the stream when set (not owned).
  const cairn::v1::BehaviorSet* declared = nullptr;
  // UpsertBenchProfiles() before the stream.
  bool profiles = false;
};

// The three journeys deployed and `setup` done; the stream ingested one
// event at a time. Only the Ingest calls are timed.
Pass IngestPass(int subjects, const IngestSetup& setup,
                cairn::v1::BehaviorsReport* report = nullptr) {
  Pass pass;
  malloc_trim(0);
  auto fixture = std::make_unique<Fixture>(IngestOptions());
  if (setup.declared != nullptr) {
    cairn::bench::CheckOrDie(fixture->engine.DeclareBehaviors(*setup.declared));
  }
  if (setup.profiles) {
    cairn::bench::CheckOrDie(cairn::bench::UpsertBenchProfiles(fixture->engine, subjects));
  }
  Stream stream(subjects, StreamEvents(subjects), setup.amounts);
  std::vector<cairn::Event> chunk;
  while (stream.Next(&chunk)) {
    const int64_t a0 = Allocations();
    const double c0 = ThreadCpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    for (const cairn::Event& e : chunk) {
      if (!fixture->engine.Ingest(e).ok()) std::abort();
    }
    const auto t1 = std::chrono::steady_clock::now();
    pass.cpu_seconds += ThreadCpuSeconds() - c0;
    pass.allocations += Allocations() - a0;
    pass.seconds += Seconds(t0, t1);
  }
  pass.subjects_known = fixture->engine.stats().subjects;
  pass.enrollments_in_flight = fixture->engine.stats().enrollments_in_flight;
  if (report != nullptr) *report = fixture->engine.BehaviorsReport();
  return pass;
}

Pass EnginePass(int subjects) { return IngestPass(subjects, IngestSetup()); }

// The floor: the least work any engine must do per event on the same
// stream. Intern the subject id (find it in an absl::flat_hash_map, insert
// it when new) and touch one small per-subject record. No event-name lookup,
// no journey: a physical limit, not an engine.
struct FloorRecord {
  int64_t events = 0;
  absl::Time last_seen;
};

Pass FloorPass(int subjects) {
  Pass pass;
  malloc_trim(0);
  absl::flat_hash_map<std::string, uint32_t> index;
  std::vector<FloorRecord> records;
  Stream stream(subjects, StreamEvents(subjects));
  std::vector<cairn::Event> chunk;
  while (stream.Next(&chunk)) {
    const int64_t a0 = Allocations();
    const auto t0 = std::chrono::steady_clock::now();
    for (const cairn::Event& e : chunk) {
      uint32_t slot;
      auto it = index.find(e.subject_id);
      if (it != index.end()) {
        slot = it->second;
      } else {
        slot = static_cast<uint32_t>(records.size());
        records.emplace_back();
        index.emplace(e.subject_id, slot);
      }
      FloorRecord& r = records[slot];
      ++r.events;
      r.last_seen = e.time;
    }
    benchmark::DoNotOptimize(records.data());
    const auto t1 = std::chrono::steady_clock::now();
    pass.allocations += Allocations() - a0;
    pass.seconds += Seconds(t0, t1);
  }
  pass.subjects_known = static_cast<int64_t>(records.size());
  return pass;
}

// ---- Benchmarks ----

void RunPasses(benchmark::State& state, Pass (*run)(int)) {
  const int subjects = static_cast<int>(state.range(0));
  Pass total;
  for (auto _ : state) {
    const Pass pass = run(subjects);
    state.SetIterationTime(pass.seconds);
    total.seconds += pass.seconds;
    total.allocations += pass.allocations;
    total.subjects_known = pass.subjects_known;
    total.enrollments_in_flight = pass.enrollments_in_flight;
  }
  const double n = static_cast<double>(state.iterations());
  ReportRate(state, StreamEvents(subjects), total.seconds / n,
             static_cast<int64_t>(static_cast<double>(total.allocations) / n));
  state.counters["subjects_known"] = static_cast<double>(total.subjects_known);
  if (run == EnginePass) {
    state.counters["enrollments_in_flight"] = static_cast<double>(total.enrollments_in_flight);
  }
}

void BM_Ingest(benchmark::State& state) { RunPasses(state, EnginePass); }
BENCHMARK(BM_Ingest)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->Repetitions(3);
BENCHMARK(BM_Ingest)
    ->Arg(10'000'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

void BM_Floor(benchmark::State& state) { RunPasses(state, FloorPass); }
BENCHMARK(BM_Floor)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->Repetitions(3);
BENCHMARK(BM_Floor)
    ->Arg(10'000'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// The engine against the floor, in alternating passes (engine, floor,
// engine, ...), so a change in the machine's load hits both alike. Reports
// the median of each and the median of the per-pair ratios: scripts/bench
// takes engine_events_per_s, floor_events_per_s and engine_vs_floor from it.
void BM_EngineVsFloor(benchmark::State& state) {
  const int subjects = static_cast<int>(state.range(0));
  const int pairs = 5;
  const double events = static_cast<double>(StreamEvents(subjects));
  std::vector<double> engine, floor, ratio;
  for (auto _ : state) {
    double seconds = 0;
    for (int i = 0; i < pairs; ++i) {
      const Pass e = EnginePass(subjects);
      const Pass f = FloorPass(subjects);
      engine.push_back(events / e.seconds);
      floor.push_back(events / f.seconds);
      ratio.push_back(f.seconds / e.seconds);
      seconds += e.seconds + f.seconds;
    }
    state.SetIterationTime(seconds);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  state.counters["engine_events_per_s"] = median(engine);
  state.counters["floor_events_per_s"] = median(floor);
  state.counters["engine_vs_floor"] = median(ratio);
  state.counters["engine_vs_floor_min"] = *std::min_element(ratio.begin(), ratio.end());
  state.counters["engine_vs_floor_max"] = *std::max_element(ratio.begin(), ratio.end());
}
BENCHMARK(BM_EngineVsFloor)
    ->Arg(1'000'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// Alternating pairs of ingest passes with and without some setup (the
// order flips from pair to pair, so that neither side always runs on a
// warmer machine), as BM_BehaviorsVsNone and BM_SegmentsVsNone run them.
struct PairedIngest {
  std::vector<double> with, without;  // Events per second of each pass.
  std::vector<double> ratio;          // Per pair: without's time / with's.
  std::vector<double> cpu_ratio;      // The same, of the thread's CPU time.
  double with_allocations_per_event = 0;
  double without_allocations_per_event = 0;
};

PairedIngest RunPairs(benchmark::State& state, int subjects, const IngestSetup& with_setup,
                      const IngestSetup& without_setup, cairn::v1::BehaviorsReport* report) {
  // Fifteen: on a shared VM one run's per-pair ratios spanned 0.55 to 1.2,
  // and the median of five moved by 0.1 from run to run.
  constexpr int kPairs = 15;
  const double events = static_cast<double>(StreamEvents(subjects));
  PairedIngest p;
  int64_t allocations_with = 0, allocations_without = 0;
  for (auto _ : state) {
    double seconds = 0;
    for (int i = 0; i < kPairs; ++i) {
      Pass w, n;
      if (i % 2 == 0) {
        n = IngestPass(subjects, without_setup);
        w = IngestPass(subjects, with_setup, report);
      } else {
        w = IngestPass(subjects, with_setup, report);
        n = IngestPass(subjects, without_setup);
      }
      p.with.push_back(events / w.seconds);
      p.without.push_back(events / n.seconds);
      p.ratio.push_back(n.seconds / w.seconds);
      p.cpu_ratio.push_back(n.cpu_seconds / w.cpu_seconds);
      allocations_with += w.allocations;
      allocations_without += n.allocations;
      seconds += w.seconds + n.seconds;
    }
    state.SetIterationTime(seconds);
  }
  const double passes = static_cast<double>(p.with.size());
  p.with_allocations_per_event = static_cast<double>(allocations_with) / passes / events;
  p.without_allocations_per_event = static_cast<double>(allocations_without) / passes / events;
  return p;
}

// Reports `p` as counters: <with>_events_per_s, <with>_ns_per_event and
// <with>_allocations_per_event (likewise for <without>), and the median,
// least and greatest of the per-pair ratios as <ratio> (of CPU time as
// <ratio>_cpu), which scripts/bench reads.
void ReportPairs(const PairedIngest& p, const std::string& with, const std::string& without,
                 const std::string& ratio, benchmark::State& state) {
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto range = [&](const std::vector<double>& v, const std::string& name) {
    state.counters[name] = median(v);
    state.counters[name + "_min"] = *std::min_element(v.begin(), v.end());
    state.counters[name + "_max"] = *std::max_element(v.begin(), v.end());
  };
  state.counters[with + "_events_per_s"] = median(p.with);
  state.counters[without + "_events_per_s"] = median(p.without);
  state.counters[with + "_ns_per_event"] = 1e9 / median(p.with);
  state.counters[without + "_ns_per_event"] = 1e9 / median(p.without);
  range(p.ratio, ratio);
  // The same ratio of the thread's CPU time, steadier on a busy machine.
  range(p.cpu_ratio, ratio + "_cpu");
  state.counters[with + "_allocations_per_event"] = p.with_allocations_per_event;
  state.counters[without + "_allocations_per_event"] = p.without_allocations_per_event;
}

// Ingest with the three behaviours of BenchBehaviors() declared (a 7-day
// count of product views at 1-hour resolution, a 30-day sum of payment
// amounts, a daily login streak) against the same ingest without them, in
// alternating passes: the same stream (payments carry an amount in both),
// the same journeys, each pass from cold memory. The order flips from one
// pair to the next, so that neither side always runs second. Reports the
// median of each and the median of the per-pair ratios (with / without):
// scripts/bench takes behaviors_events_per_s, no_behaviors_events_per_s and
// behaviors_vs_none from it. Also the allocations per event on each side,
// and the subjects and bytes each behaviour holds at the end
// (Engine::BehaviorsReport).
void BM_BehaviorsVsNone(benchmark::State& state) {
  const int subjects = static_cast<int>(state.range(0));
  cairn::v1::BehaviorsReport report;
  const cairn::v1::BehaviorSet behaviors = BenchBehaviors();
  IngestSetup with_setup, without_setup;
  with_setup.amounts = without_setup.amounts = true;
  with_setup.declared = &behaviors;
  const PairedIngest pairs = RunPairs(state, subjects, with_setup, without_setup, &report);
  // Every behaviour must have counted something, or the figure says nothing.
  for (const cairn::v1::BehaviorReport& b : report.behaviors()) {
    if (b.subjects() == 0) std::abort();
  }
  ReportPairs(pairs, "behaviors", "no_behaviors", "behaviors_vs_none", state);
  for (const cairn::v1::BehaviorReport& b : report.behaviors()) {
    state.counters[absl::StrCat(b.name(), "_subjects")] = static_cast<double>(b.subjects());
    state.counters[absl::StrCat(b.name(), "_report_bytes")] = static_cast<double>(b.bytes());
  }
}
BENCHMARK(BM_BehaviorsVsNone)
    ->Arg(1'000'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// Ingest with five segments declared (BenchSegmentSet(true): three that
// only an input changes, on profile attributes and an all-time count, and
// two that time alone changes, a payer silent for 10 minutes and a 7-day
// window) against the same ingest with their behaviours only, in
// alternating pairs as BM_BehaviorsVsNone: both sides declare the same five
// behaviours (BenchBehaviors() and two on payments) and upsert the same
// profiles (one subject in ten) before the stream, untimed. Reports the
// median of each side and of the per-pair ratios (behaviours only / with
// segments): scripts/bench takes segments_events_per_s,
// segments_behaviors_events_per_s and segments_vs_behaviors from it. Also
// the allocations per event on each side, and each segment's members,
// entered and left at the end (Engine::BehaviorsReport).
void BM_SegmentsVsNone(benchmark::State& state) {
  const int subjects = static_cast<int>(state.range(0));
  cairn::v1::BehaviorsReport report;
  const cairn::v1::BehaviorSet segments = cairn::bench::BenchSegmentSet(true);
  const cairn::v1::BehaviorSet behaviors_only = cairn::bench::BenchSegmentSet(false);
  IngestSetup with_setup, without_setup;
  with_setup.amounts = without_setup.amounts = true;
  with_setup.profiles = without_setup.profiles = true;
  with_setup.declared = &segments;
  without_setup.declared = &behaviors_only;
  const PairedIngest pairs = RunPairs(state, subjects, with_setup, without_setup, &report);
  // Every segment must have held someone, and time alone must have moved
  // payers into lapsed_payers, or the figure says nothing.
  if (report.segments_size() != 5) std::abort();
  for (const cairn::v1::SegmentReport& s : report.segments()) {
    if (s.members() + s.left() == 0) std::abort();
    if (s.name() == "lapsed_payers" && (!s.time_driven() || s.entered() == 0)) std::abort();
  }
  ReportPairs(pairs, "segments", "segments_behaviors", "segments_vs_behaviors", state);
  for (const cairn::v1::SegmentReport& s : report.segments()) {
    state.counters[absl::StrCat(s.name(), "_members")] = static_cast<double>(s.members());
    state.counters[absl::StrCat(s.name(), "_entered")] = static_cast<double>(s.entered());
    state.counters[absl::StrCat(s.name(), "_left")] = static_cast<double>(s.left());
  }
}
BENCHMARK(BM_SegmentsVsNone)
    ->Arg(1'000'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// Heap allocations on the non-matching path. The engine is warmed up with
// the 1M-subject stream above (2 M events: subjects, sequences and
// enrollments in flight), then 1 M more events are ingested and every
// operator new during them is counted.
//   /0: names no journey listens to ("search", "page_view"), the bulk of
//       real traffic;
//   /1: "payment" from subjects the engine has never seen: a name the cart
//       journey listens to (the sequence's absent event) that finds nothing.
void BM_NonMatching(benchmark::State& state) {
  const bool listened = state.range(0) == 1;
  const int subjects = 1'000'000;
  const int64_t warmup = 2'000'000;
  const int events = 1'000'000;
  int64_t allocations = 0;
  double seconds = 0;
  for (auto _ : state) {
    auto fixture = std::make_unique<Fixture>(IngestOptions());
    Stream stream(subjects, warmup);
    std::vector<cairn::Event> chunk;
    while (stream.Next(&chunk)) {
      for (const cairn::Event& e : chunk) {
        if (!fixture->engine.Ingest(e).ok()) std::abort();
      }
    }
    const int64_t applied = fixture->engine.stats().events_applied;
    // Continues one millisecond apart after the warm-up, so no timer comes
    // due (the nearest is the cart sequence's one-day absent window).
    chunk.clear();
    chunk.reserve(events);
    uint64_t x = 7;
    for (int i = 0; i < events; ++i) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      cairn::Event e;
      // Unseen subjects ("n...") for the listened name; known ones otherwise.
      e.subject_id = listened ? absl::StrCat("n", i)
                              : absl::StrCat("u", (x >> 20) % static_cast<uint64_t>(subjects));
      e.name = listened ? "payment" : ((x >> 50) % 2 ? "search" : "page_view");
      e.time = kStart + absl::Milliseconds(warmup + i);
      chunk.push_back(std::move(e));
    }
    g_trace_budget.store(TraceBudget());
    const int64_t a0 = Allocations();
    const auto t0 = std::chrono::steady_clock::now();
    for (const cairn::Event& e : chunk) {
      if (!fixture->engine.Ingest(e).ok()) std::abort();
    }
    const auto t1 = std::chrono::steady_clock::now();
    allocations += Allocations() - a0;
    g_trace_budget.store(0);
    // Nothing may have matched.
    if (fixture->engine.stats().events_applied != applied + (listened ? events : 0)) std::abort();
    state.SetIterationTime(Seconds(t0, t1));
    seconds += Seconds(t0, t1);
    fixture.reset();
  }
  ReportRate(state, events, seconds / static_cast<double>(state.iterations()),
             allocations / state.iterations());
}
BENCHMARK(BM_NonMatching)
    ->Arg(0)
    ->Arg(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

void BM_TimerFires(benchmark::State& state) {
  const int subjects = static_cast<int>(state.range(0));
  const absl::Time start = kStart;
  int64_t allocations = 0;
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
    const int64_t a0 = Allocations();
    g_trace_budget.store(TraceBudget());
    if (!fixture->engine.AdvanceTo(start + absl::Hours(2)).ok()) std::abort();
    g_trace_budget.store(0);
    allocations += Allocations() - a0;
    state.PauseTiming();
    if (fixture->engine.stats().timers_fired < subjects) std::abort();
    fixture.reset();
    state.ResumeTiming();
  }
  state.counters["fires_per_s"] = benchmark::Counter(
      static_cast<double>(subjects) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["allocations_per_fire"] =
      static_cast<double>(allocations) / static_cast<double>(subjects * state.iterations());
}
BENCHMARK(BM_TimerFires)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->Repetitions(3);

// A daily scheduled audience (issue 19) over `subjects` known subjects, a
// tenth of them in it, each entering and sent a push: how long the whole
// run takes to evaluate, and the longest single input while it runs (the
// pause it causes to other inputs). The run begins with an AdvanceTo to the
// occurrence; then events of other subjects arrive one per millisecond, each
// taking one slice (EngineOptions::scheduled_run_slice, 4,096), until the
// run is done.
void BM_ScheduledRun(benchmark::State& state) {
  const int subjects = static_cast<int>(state.range(0));
  const absl::Time start = kStart;
  double run_s = 0;
  double longest_pause_ms = 0;
  double longest_pause_cpu_ms = 0;
  int64_t inputs = 0;
  for (auto _ : state) {
    state.PauseTiming();
    cairn::EngineOptions options;
    options.start_time = start;
    cairn::bench::NullSink sink;
    cairn::Engine engine(options);
    cairn::bench::CheckOrDie(engine.RegisterChannel("push", &sink));
    absl::StatusOr<cairn::v1::Journey> journey = cairn::ParseJourney(R"pb(
      id: "daily_digest" version: 1
      settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
      nodes { id: "t" trigger { schedule {
                schedule { frequency: DAILY at { hour: 10 } }
                condition { compare { path: "profile.digest" op: EQ value { bool_value: true } } } }
              next: "send" } }
      nodes { id: "send" action { channel: "push" template_id: "digest" } })pb",
                                                                        cairn::JourneyFormat::kText);
    cairn::bench::CheckOrDie(journey.status());
    cairn::bench::CheckOrDie(engine.Deploy(*journey));
    for (int i = 0; i < subjects; ++i) {
      cairn::bench::CheckOrDie(engine.UpsertProfile(absl::StrCat("u", i),
                                      {{"digest", cairn::Value::Bool(i % 10 == 0)}}, start));
    }
    const absl::Time occurrence = start + absl::Hours(10);
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    auto before = t0;
    double cpu_before = ThreadCpuSeconds();
    cairn::bench::CheckOrDie(engine.AdvanceTo(occurrence));
    auto after = std::chrono::steady_clock::now();
    double longest = std::chrono::duration<double>(after - before).count();
    double longest_cpu = ThreadCpuSeconds() - cpu_before;
    cairn::Event e;
    e.name = "app_open";
    e.subject_id = "someone_else";
    int64_t n = 1;
    // RunScheduled(0) evaluates nobody: it says what the runs still hold.
    while (engine.RunScheduled(0) > 0) {
      e.time = occurrence + absl::Milliseconds(n);
      before = std::chrono::steady_clock::now();
      cpu_before = ThreadCpuSeconds();
      cairn::bench::CheckOrDie(engine.Ingest(e));
      after = std::chrono::steady_clock::now();
      longest = std::max(longest, std::chrono::duration<double>(after - before).count());
      longest_cpu = std::max(longest_cpu, ThreadCpuSeconds() - cpu_before);
      ++n;
    }
    run_s += std::chrono::duration<double>(after - t0).count();
    longest_pause_ms = std::max(longest_pause_ms, longest * 1e3);
    longest_pause_cpu_ms = std::max(longest_pause_cpu_ms, longest_cpu * 1e3);
    inputs += n;
    state.PauseTiming();
    const cairn::v1::JourneyReport report = *engine.Report("daily_digest");
    if (report.versions(0).entered() != (subjects + 9) / 10) std::abort();
    state.ResumeTiming();
  }
  state.counters["run_s"] = run_s / state.iterations();
  // Wall-clock time, and the thread's CPU time (which leaves out the time
  // other jobs on a busy machine held the core).
  state.counters["longest_pause_ms"] = longest_pause_ms;
  state.counters["longest_pause_cpu_ms"] = longest_pause_cpu_ms;
  state.counters["inputs_to_finish"] = static_cast<double>(inputs) / state.iterations();
  state.counters["subjects_per_s"] = static_cast<double>(subjects) * state.iterations() / run_s;
}
BENCHMARK(BM_ScheduledRun)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->Repetitions(3);

void BM_Snapshot(benchmark::State& state) {
  const int subjects = static_cast<int>(state.range(0));
  const absl::Time start = kStart;
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

// ---- Global operator new replacement: counts every allocation ----
//
// Every form malloc()s or aligned_alloc()s, so every delete is free(). (GCC
// cannot see that the new and delete it pairs are these, hence the pragma.)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  CountAllocation(size);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  CountAllocation(size);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  CountAllocation(size);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  CountAllocation(size);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new(std::size_t size, std::align_val_t align) {
  CountAllocation(size);
  const std::size_t a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (std::max<std::size_t>(size, 1) + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return operator new(size, align);
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  try {
    return operator new(size, align);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return operator new(size, align, std::nothrow);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

BENCHMARK_MAIN();
