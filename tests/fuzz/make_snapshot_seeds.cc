// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Regenerates the snapshot fuzz target's seed corpus: runs every input of the
// engine-inputs corpus through the fixed engine and writes its snapshot.
// Run it after a snapshot format change:
//   make_snapshot_seeds tests/fuzz/corpus/engine_inputs_fuzz tests/fuzz/corpus/snapshot_fuzz

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_support.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s INPUT_CORPUS_DIR OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  std::vector<std::filesystem::path> inputs;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    if (entry.is_regular_file()) inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  for (const auto& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    cairn::fuzz::RecordingSinks sinks;
    std::unique_ptr<cairn::Engine> engine = cairn::fuzz::MakeEngine(&sinks);
    cairn::fuzz::ByteReader reader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    cairn::fuzz::RunInputs(&reader, &engine, &sinks);
    const std::filesystem::path out_path =
        std::filesystem::path(argv[2]) / ("snapshot-of-" + path.filename().string());
    std::ofstream out(out_path, std::ios::binary);
    if (!engine->Snapshot(out).ok() || !out.flush()) {
      std::fprintf(stderr, "cannot write %s\n", out_path.c_str());
      return 1;
    }
  }
  std::printf("wrote %zu snapshots to %s\n", inputs.size(), argv[2]);
  return 0;
}
