// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Compile-time and predicate-evaluation costs: how long Deploy() will spend
// compiling a journey, and what one compiled predicate costs per event.

#include <string>

#include "absl/container/flat_hash_map.h"
#include "benchmark/benchmark.h"
#include "cairn/cairn.h"
#include "predicate/predicate.h"

namespace {

cairn::v1::Journey LoadExample() {
  auto journey = cairn::LoadJourneyFile(
      CAIRN_SOURCE_DIR "/examples/cart_abandonment/journey.textproto");
  if (!journey.ok()) std::abort();
  return *journey;
}

void BM_CompileCartAbandonment(benchmark::State& state) {
  const cairn::v1::Journey journey = LoadExample();
  for (auto _ : state) {
    auto compiled = cairn::Compile(journey);
    benchmark::DoNotOptimize(compiled);
  }
}
BENCHMARK(BM_CompileCartAbandonment);

void BM_ParseTextJourney(benchmark::State& state) {
  const std::string text =
      *cairn::SerializeJourney(LoadExample(), cairn::JourneyFormat::kText);
  for (auto _ : state) {
    auto journey = cairn::ParseJourney(text, cairn::JourneyFormat::kText);
    benchmark::DoNotOptimize(journey);
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_ParseTextJourney);

class MapBindings : public cairn::internal::Bindings {
 public:
  const cairn::Value* Find(cairn::internal::PathRoot root, absl::string_view key,
                           cairn::Value* /*scratch*/) const override {
    if (root != cairn::internal::PathRoot::kProfile) return nullptr;
    auto it = profile.find(key);
    return it == profile.end() ? nullptr : &it->second;
  }
  absl::flat_hash_map<std::string, cairn::Value> profile;
};

void BM_EvaluatePredicate(benchmark::State& state) {
  cairn::v1::Predicate proto;
  auto* all = proto.mutable_all();
  auto* tier = all->add_predicates()->mutable_compare();
  tier->set_path("profile.tier");
  tier->set_op(cairn::v1::IN);
  tier->mutable_value()->mutable_string_list_value()->add_values("gold");
  tier->mutable_value()->mutable_string_list_value()->add_values("diamond");
  auto* spend = all->add_predicates()->mutable_compare();
  spend->set_path("profile.spend");
  spend->set_op(cairn::v1::GE);
  spend->mutable_value()->set_double_value(300);
  cairn::internal::ProblemList problems("bench");
  auto compiled = cairn::internal::CompiledPredicate::Compile(
      proto, {}, cairn::internal::FieldScope(&problems, "", ""));
  MapBindings bindings;
  bindings.profile["tier"] = cairn::Value::String("diamond");
  bindings.profile["spend"] = cairn::Value::Int(450);
  for (auto _ : state) {
    benchmark::DoNotOptimize(compiled.Evaluate(bindings));
  }
}
BENCHMARK(BM_EvaluatePredicate);

}  // namespace

BENCHMARK_MAIN();
