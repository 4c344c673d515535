// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// ShardedEngine scaling: the same 2M-event stream over 1M subjects (the
// cart-abandonment journey and two others, mostly events nothing listens
// to) through 1 and 2 shards. The producer (this thread) builds and routes
// each event while the shard threads apply them, so on a 2-core machine the
// producer shares a core with a shard at 2 shards. Build with `release`:
//   build/release/bench/cairn_bench_sharded --benchmark_counters_tabular=true

#include <memory>
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

std::vector<cairn::v1::Journey> Journeys() {
  absl::StatusOr<cairn::v1::Journey> cart = cairn::LoadJourneyFile(
      CAIRN_SOURCE_DIR "/examples/cart_abandonment/journey.textproto");
  if (!cart.ok()) std::abort();
  return {*cart, Parse(R"pb(
    id: "reminder" version: 1 settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
    nodes { id: "t" trigger { event { matcher { event: "signup" } } next: "d" } }
    nodes { id: "d" delay { duration { seconds: 3600 } next: "p" } }
    nodes { id: "p" action { channel: "push" template_id: "welcome" } })pb"),
          Parse(R"pb(
    id: "win_back" version: 1 settings { state: ACTIVE reentry { mode: AFTER_EXIT } }
    nodes { id: "t" trigger { event { matcher { event: "login" } } next: "w" } }
    nodes { id: "w" wait { branches { matcher { event: "login" } next: "" }
            timeout { seconds: 604800 } on_timeout: "p" } }
    nodes { id: "p" action { channel: "push" template_id: "gift" } })pb")};
}

// The engine benchmark's mix: mostly searches and page views, some views,
// carts, payments and logins.
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

void BM_Sharded(benchmark::State& state) {
  const int shards = static_cast<int>(state.range(0));
  const int events = 2'000'000;
  const absl::Time start = absl::FromUnixSeconds(1767225600);
  const std::vector<cairn::Event> stream = MakeStream(1'000'000, events, start);
  const std::vector<cairn::v1::Journey> journeys = Journeys();
  for (auto _ : state) {
    state.PauseTiming();
    cairn::ShardedEngineOptions options;
    options.shards = shards;
    options.engine.start_time = start;
    options.engine.dedup_window = absl::ZeroDuration();
    std::vector<NullSink> sinks(shards);
    auto engine = cairn::ShardedEngine::Create(options, [&](int shard, cairn::Engine& e) {
      CAIRN_RETURN_IF_ERROR(e.RegisterChannel("push", &sinks[shard]));
      for (const cairn::v1::Journey& j : journeys) CAIRN_RETURN_IF_ERROR(e.Deploy(j));
      return absl::OkStatus();
    });
    if (!engine.ok()) std::abort();
    state.ResumeTiming();
    for (const cairn::Event& e : stream) {
      if (!(*engine)->Ingest(e).ok()) std::abort();
    }
    (*engine)->Flush();
    state.PauseTiming();
    engine->reset();
    state.ResumeTiming();
  }
  state.counters["events_per_s"] = benchmark::Counter(
      static_cast<double>(events) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Sharded)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
