// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Regenerates the snapshot fuzz target's seed corpus: runs every input of the
// engine-inputs corpus through the fixed engine and writes its snapshot, then
// writes forged variants of those snapshots (state no engine writes, with
// valid checksums: times outside the engine's range, an unsorted profile, a
// rewound enrollment id, counts at the top of int64), which Restore must
// refuse. Run it after a snapshot format change:
//   make_snapshot_seeds tests/fuzz/corpus/engine_inputs_fuzz tests/fuzz/corpus/snapshot_fuzz

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cairn/v1/snapshot.pb.h"
#include "fuzz_support.h"
#include "util/record_io.h"

namespace {

using Records = std::vector<cairn::v1::SnapshotRecord>;

Records ReadRecords(const std::string& bytes) {
  std::istringstream in(bytes);
  cairn::internal::RecordReader reader(&in);
  Records records;
  while (true) {
    cairn::v1::SnapshotRecord r;
    absl::StatusOr<bool> more = reader.Read(&r);
    cairn::fuzz::Check(more.ok(), "a snapshot the engine wrote does not read");
    if (!*more) return records;
    records.push_back(std::move(r));
  }
}

std::string WriteRecords(const Records& records) {
  std::ostringstream out;
  cairn::internal::RecordWriter writer(&out);
  for (const cairn::v1::SnapshotRecord& r : records) {
    cairn::fuzz::Check(writer.Write(r).ok(), "write a record");
  }
  return out.str();
}

// An edit of a snapshot's records; false when the snapshot has nothing it
// applies to.
using Edit = std::function<bool(Records*)>;

// Edits the first record `pred` accepts.
template <typename Pred, typename Change>
Edit EditFirst(Pred pred, Change change) {
  return [pred, change](Records* records) {
    for (cairn::v1::SnapshotRecord& r : *records) {
      if (pred(r)) {
        change(&r);
        return true;
      }
    }
    return false;
  };
}

std::vector<std::pair<std::string, Edit>> Forgeries() {
  using cairn::v1::SnapshotRecord;
  auto clock = [](const SnapshotRecord& r) { return r.has_clock(); };
  return {
      {"time-past-range", EditFirst(clock, [](SnapshotRecord* r) {
         r->mutable_clock()->set_now_nanos(INT64_MAX);
       })},
      {"time-before-1970", EditFirst(clock, [](SnapshotRecord* r) {
         r->mutable_clock()->set_now_nanos(-1);
       })},
      {"rewound-enrollment-id", EditFirst(clock, [](SnapshotRecord* r) {
         r->mutable_clock()->set_next_enrollment_uid(1);
       })},
      {"stat-at-int64-max", EditFirst(clock, [](SnapshotRecord* r) {
         r->mutable_clock()->set_stats(0, INT64_MAX);
       })},
      {"timer-past-range",
       EditFirst([](const SnapshotRecord& r) { return r.has_timer(); },
                 [](SnapshotRecord* r) { r->mutable_timer()->set_due_nanos(INT64_MAX); })},
      {"sequence-start-at-end",
       EditFirst([](const SnapshotRecord& r) {
                   return r.has_subject() && r.subject().sequences_size() > 0 &&
                          r.subject().sequences(0).starts_nanos_size() > 0;
                 },
                 [](SnapshotRecord* r) {
                   r->mutable_subject()->mutable_sequences(0)->set_starts_nanos(0, INT64_MAX);
                 })},
      {"unsorted-profile",
       EditFirst([](const SnapshotRecord& r) {
                   return r.has_subject() && r.subject().profile_size() >= 2;
                 },
                 [](SnapshotRecord* r) {
                   r->mutable_subject()->mutable_profile()->SwapElements(0, 1);
                 })},
      {"report-count-at-int64-max",
       EditFirst([](const SnapshotRecord& r) { return r.has_counters(); },
                 [](SnapshotRecord* r) {
                   r->mutable_counters()->mutable_report()->set_entered(INT64_MAX);
                 })},
      {"rule-decided-for-no-arm",
       EditFirst([](const SnapshotRecord& r) {
                   return r.has_counters() && r.counters().rollouts_size() > 0;
                 },
                 [](SnapshotRecord* r) {
                   cairn::v1::SnapshotRollout* rule = r->mutable_counters()->mutable_rollouts(0);
                   rule->set_status(1);
                   rule->set_winner(7);
                   rule->set_modulus(100);
                   rule->set_concluded_nanos(rule->started_nanos());
                 })},
      {"entry-count-wraps",
       EditFirst([](const SnapshotRecord& r) {
                   return r.has_subject() && r.subject().history_size() > 0;
                 },
                 [](SnapshotRecord* r) {
                   r->mutable_subject()->mutable_history(0)->set_entries(UINT32_MAX);
                 })},
  };
}

}  // namespace

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
  std::vector<std::string> snapshots;
  auto write = [&](const std::string& name, const std::string& bytes) {
    const std::filesystem::path out_path = std::filesystem::path(argv[2]) / name;
    std::ofstream out(out_path, std::ios::binary);
    out << bytes;
    if (!out.flush()) {
      std::fprintf(stderr, "cannot write %s\n", out_path.c_str());
      std::exit(1);
    }
  };
  for (const auto& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    cairn::fuzz::ByteReader reader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    cairn::fuzz::FuzzRun run;
    for (const cairn::fuzz::Input& input : cairn::fuzz::DecodeInputs(&reader, {})) {
      cairn::fuzz::Check(run.Apply(input).ok(), "an input broke an invariant");
    }
    std::ostringstream out;
    cairn::fuzz::Check(run.engine().Snapshot(out).ok(), "snapshot");
    snapshots.push_back(out.str());
    write("snapshot-of-" + path.filename().string(), snapshots.back());
  }
  // Each forgery once, of the first snapshot it applies to.
  int forged = 0;
  for (const auto& [name, edit] : Forgeries()) {
    for (const std::string& snapshot : snapshots) {
      Records records = ReadRecords(snapshot);
      if (!edit(&records)) continue;
      write("forged-" + name, WriteRecords(records));
      ++forged;
      break;
    }
  }
  std::printf("wrote %zu snapshots and %d forgeries to %s\n", snapshots.size(), forged, argv[2]);
  return 0;
}
