// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// ShardedEngine scaling: the same 2M-event stream over 1M subjects (the
// cart-abandonment journey and two others, mostly events nothing listens
// to) through 1 and 2 shards, handed over one by one (Ingest) or in batches
// of 4,096 (IngestBatch). The producer (this thread) routes each event while
// the shard threads apply them, so on a 2-core machine the producer shares a
// core with the shards at 2 shards. Build with `release`:
//   build/release/bench/cairn_bench_sharded --benchmark_counters_tabular=true

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "bench_setup.h"
#include "cairn/cairn.h"

namespace {

const int kEvents = 2'000'000;

// The 1M-subject ingest stream, built once.
const std::vector<cairn::Event>& Stream() {
  static const std::vector<cairn::Event>* const stream = [] {
    auto* events = new std::vector<cairn::Event>();
    cairn::bench::EventStream source(1'000'000, kEvents);
    for (std::vector<cairn::Event> chunk; source.Next(&chunk);) {
      std::move(chunk.begin(), chunk.end(), std::back_inserter(*events));
    }
    return events;
  }();
  return *stream;
}

// How the producer hands events over.
enum class Handover {
  kOneByOne,  // Ingest(Event): each event moved into its shard's queue.
  kBatches,   // IngestBatch of kBatchEvents events, as a host that reads
              // events in batches (a Kafka poll, a network read) would.
};
const size_t kBatchEvents = 4096;

// Puts the stream through a new ShardedEngine with `shards` shards; returns
// the seconds from the first input until Flush returns. The engine's set-up
// and tear-down and the copy of the stream it is handed are not timed.
double ShardedPass(int shards, Handover handover) {
  cairn::ShardedEngineOptions options;
  options.shards = shards;
  options.engine.start_time = cairn::bench::kStart;
  options.engine.dedup_window = absl::ZeroDuration();
  std::vector<cairn::bench::NullSink> sinks(shards);
  auto engine = cairn::ShardedEngine::Create(options, [&](int shard, cairn::Engine& e) {
    return cairn::bench::SetUpBenchEngine(e, &sinks[shard]);
  });
  if (!engine.ok()) std::abort();
  // A host builds each event once and hands it over: moved, not copied.
  const std::vector<cairn::Event>& stream = Stream();
  std::vector<cairn::Event> inputs;
  std::vector<std::vector<cairn::Event>> batches;
  if (handover == Handover::kOneByOne) {
    inputs = stream;
  } else {
    for (size_t i = 0; i < stream.size(); i += kBatchEvents) {
      batches.emplace_back(stream.begin() + i,
                           stream.begin() + std::min(stream.size(), i + kBatchEvents));
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (cairn::Event& e : inputs) {
    if (!(*engine)->Ingest(std::move(e)).ok()) std::abort();
  }
  for (std::vector<cairn::Event>& batch : batches) {
    if (!(*engine)->IngestBatch(std::move(batch)).ok()) std::abort();
  }
  (*engine)->Flush();
  const auto t1 = std::chrono::steady_clock::now();
  engine->reset();
  return std::chrono::duration<double>(t1 - t0).count();
}

// range(0): shards; range(1): 0 = Ingest one by one, 1 = IngestBatch.
void BM_Sharded(benchmark::State& state) {
  const int shards = static_cast<int>(state.range(0));
  const Handover handover = state.range(1) == 0 ? Handover::kOneByOne : Handover::kBatches;
  Stream();
  for (auto _ : state) state.SetIterationTime(ShardedPass(shards, handover));
  state.counters["events_per_s"] = benchmark::Counter(
      static_cast<double>(kEvents) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Sharded)
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({1, 1})
    ->Args({2, 1})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseManualTime();

// One shard against two in alternating passes (1, 2, 1, 2, ...), so that a
// change in the machine's load hits both alike, as BM_EngineVsFloor does.
// Reports the median events/s of each and the median of the per-pair
// speed-ups. range(0) as BM_Sharded's range(1); scripts/bench takes
// sharded_speedup_2 from the IngestBatch run and reports the other beside.
void BM_ShardedSpeedup(benchmark::State& state) {
  const Handover handover = state.range(0) == 0 ? Handover::kOneByOne : Handover::kBatches;
  const int pairs = 7;
  const double events = kEvents;
  Stream();
  std::vector<double> one, two, speedup;
  for (auto _ : state) {
    double seconds = 0;
    for (int i = 0; i < pairs; ++i) {
      const double s1 = ShardedPass(1, handover);
      const double s2 = ShardedPass(2, handover);
      one.push_back(events / s1);
      two.push_back(events / s2);
      speedup.push_back(s1 / s2);
      seconds += s1 + s2;
    }
    state.SetIterationTime(seconds);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  state.counters["events_per_s_1"] = median(one);
  state.counters["events_per_s_2"] = median(two);
  state.counters["speedup_2"] = median(speedup);
  state.counters["speedup_2_min"] = *std::min_element(speedup.begin(), speedup.end());
  state.counters["speedup_2_max"] = *std::max_element(speedup.begin(), speedup.end());
}
BENCHMARK(BM_ShardedSpeedup)
    ->Arg(0)
    ->Arg(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
