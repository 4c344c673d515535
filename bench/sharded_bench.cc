// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// ShardedEngine scaling: the same 2M-event stream over 1M subjects (the
// cart-abandonment journey and two others, mostly events nothing listens
// to) through 1 and 2 shards. The producer (this thread) builds and routes
// each event while the shard threads apply them, so on a 2-core machine the
// producer shares a core with a shard at 2 shards. Build with `release`:
//   build/release/bench/cairn_bench_sharded --benchmark_counters_tabular=true

#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "bench_setup.h"
#include "cairn/cairn.h"

namespace {

void BM_Sharded(benchmark::State& state) {
  const int shards = static_cast<int>(state.range(0));
  const int events = 2'000'000;
  const absl::Time start = cairn::bench::kStart;
  std::vector<cairn::Event> stream;
  cairn::bench::EventStream source(1'000'000, events);
  for (std::vector<cairn::Event> chunk; source.Next(&chunk);) {
    std::move(chunk.begin(), chunk.end(), std::back_inserter(stream));
  }
  std::vector<cairn::Event> inputs;
  for (auto _ : state) {
    state.PauseTiming();
    cairn::ShardedEngineOptions options;
    options.shards = shards;
    options.engine.start_time = start;
    options.engine.dedup_window = absl::ZeroDuration();
    std::vector<cairn::bench::NullSink> sinks(shards);
    auto engine = cairn::ShardedEngine::Create(options, [&](int shard, cairn::Engine& e) {
      return cairn::bench::SetUpBenchEngine(e, &sinks[shard]);
    });
    if (!engine.ok()) std::abort();
    // A host builds each event once and hands it over: moved, not copied.
    inputs = stream;
    state.ResumeTiming();
    for (cairn::Event& e : inputs) {
      if (!(*engine)->Ingest(std::move(e)).ok()) std::abort();
    }
    (*engine)->Flush();
    state.PauseTiming();
    engine->reset();
    inputs.clear();  // (The moved-from events: not the engine's work.)
    state.ResumeTiming();
  }
  state.counters["events_per_s"] = benchmark::Counter(
      static_cast<double>(events) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Sharded)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
