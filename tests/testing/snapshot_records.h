// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Reading a snapshot's records back, for tests that look inside one.

#ifndef CAIRN_TESTS_TESTING_SNAPSHOT_RECORDS_H_
#define CAIRN_TESTS_TESTING_SNAPSHOT_RECORDS_H_

#include <sstream>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "cairn/v1/snapshot.pb.h"
#include "catch2/catch.hpp"
#include "util/record_io.h"
#include "testing/test_util.h"

namespace cairn::testing {

// The records of a snapshot stream; fails the test if it does not read.
inline std::vector<v1::SnapshotRecord> ReadSnapshotRecords(const std::string& bytes) {
  std::istringstream in(bytes);
  internal::RecordReader reader(&in);
  std::vector<v1::SnapshotRecord> records;
  while (true) {
    v1::SnapshotRecord r;
    absl::StatusOr<bool> more = reader.Read(&r);
    REQUIRE_THAT(StatusOf(more), IsOk());
    if (!*more) break;
    records.push_back(std::move(r));
  }
  return records;
}

// The records of `engine`'s snapshot now.
inline std::vector<v1::SnapshotRecord> SnapshotRecordsOf(const Engine& engine) {
  std::ostringstream out;
  REQUIRE_THAT(engine.Snapshot(out), IsOk());
  return ReadSnapshotRecords(out.str());
}

// `records` written back as a snapshot stream, each with its checksum: a
// state no engine wrote, for a restore to judge.
inline std::string WriteSnapshotRecords(const std::vector<v1::SnapshotRecord>& records) {
  std::ostringstream out;
  {
    internal::RecordWriter writer(&out);
    for (const v1::SnapshotRecord& r : records) REQUIRE_THAT(writer.Write(r), IsOk());
  }
  return out.str();
}

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_TESTING_SNAPSHOT_RECORDS_H_
