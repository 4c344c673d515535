// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Decoding cost against the number of attributes in one input: a JSON
// object, a profile line, an event line whose duplicate property sends it to
// the tree-based reader, and Kafka records in both formats. Each runs at 10k
// to 80k attributes; linear decoding takes about 8 times as long at 80k as
// at 10k, where the old duplicate-key check (each key compared with every
// earlier one) took 50 to 95 times as long (6.4 s for an 80k object).

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "cairn/kafka/record.h"
#include "cairn/v1/input.pb.h"
#include "json/json.h"
#include "json/event_lines.h"

namespace {

// `{"p0":0,"p1":1,...}` with `n` members, then `tail` before the brace.
std::string Members(int64_t n, absl::string_view tail = "") {
  std::string out = "{";
  for (int64_t i = 0; i < n; ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",", "\"p", i, "\":", i);
  }
  absl::StrAppend(&out, tail, "}");
  return out;
}

// 10k to 80k attributes, doubling. At 80k glibc may hand the freed vectors
// back to the kernel after each iteration, so that the next one pays a page
// fault per page (expensive in a VM): run with
// GLIBC_TUNABLES=glibc.malloc.trim_threshold=4000000000:glibc.malloc.mmap_threshold=4000000000
// to read the decoder's own scaling.
void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {10000, 20000, 40000, 80000}) b->Arg(n);
  b->Unit(benchmark::kMillisecond);
}

// Times `decode(input)`, which must succeed (or, with `expect_ok` false,
// fail), and counts the attributes decoded.
template <typename Decode>
void TimeDecode(benchmark::State& state, const std::string& input, Decode decode,
                bool expect_ok = true) {
  for (auto _ : state) {
    auto result = decode(input);
    if (result.ok() != expect_ok) state.SkipWithError("unexpected result");
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_ParseJsonObject(benchmark::State& state) {
  TimeDecode(state, Members(state.range(0)),
             [](absl::string_view text) { return cairn::json::ParseJson(text); });
}
BENCHMARK(BM_ParseJsonObject)->Apply(Sizes);

void BM_ParseProfileLine(benchmark::State& state) {
  TimeDecode(state,
             absl::StrCat(R"({"subject":"u1","attributes":)", Members(state.range(0)), "}"),
             cairn::json::ParseProfileLine);
}
BENCHMARK(BM_ParseProfileLine)->Apply(Sizes);

// The last property repeats the first: the one-pass reader gives up and the
// tree-based reader finds and words the duplicate.
void BM_EventLineDuplicateProperty(benchmark::State& state) {
  TimeDecode(state,
             absl::StrCat(
                 R"({"subject":"u1","name":"e","time":"2026-01-05T10:00:00Z","properties":)",
                 Members(state.range(0), R"(,"p0":0)"), "}"),
             cairn::json::ParseEventLine, /*expect_ok=*/false);
}
BENCHMARK(BM_EventLineDuplicateProperty)->Apply(Sizes);

void BM_DecodeJsonProfileRecord(benchmark::State& state) {
  TimeDecode(state,
             absl::StrCat(R"({"kind":"profile","attributes":)", Members(state.range(0)),
                          R"(,"time":"2026-01-05T10:00:00Z"})"),
             [](absl::string_view payload) {
               return cairn::kafka::DecodeRecord("u1", cairn::kafka::kJsonFormat, payload);
             });
}
BENCHMARK(BM_DecodeJsonProfileRecord)->Apply(Sizes);

void BM_DecodeProtoEventRecord(benchmark::State& state) {
  cairn::v1::InputRecord record;
  cairn::v1::Event* event = record.mutable_event();
  event->set_name("e");
  event->mutable_time()->set_seconds(1767607200);
  for (int64_t i = 0; i < state.range(0); ++i) {
    (*event->mutable_properties())[absl::StrCat("p", i)].set_int_value(i);
  }
  TimeDecode(state, record.SerializeAsString(), [](absl::string_view payload) {
    return cairn::kafka::DecodeRecord("u1", cairn::kafka::kProtoFormat, payload);
  });
}
BENCHMARK(BM_DecodeProtoEventRecord)->Apply(Sizes);

}  // namespace

BENCHMARK_MAIN();
