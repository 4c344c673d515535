// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Reports from several engines, merged (shards and Kafka partitions use this;
// sharded_test and the Kafka tests check the sums end to end).

#include "cairn/report.h"

#include "catch2/catch.hpp"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::StatusOf;

TEST_CASE("MergeJourneyReports refuses reports of different shapes") {
  v1::JourneyReport a;
  a.set_journey_id("cart");
  a.add_versions()->set_version(1);
  v1::JourneyReport b = a;
  b.set_journey_id("promo");
  CHECK(StatusOf(MergeJourneyReports({a, b})).message() ==
        "report 1 (journey promo, 1 versions) does not match report 0 (journey cart, 1 versions)");
  b = a;
  b.mutable_versions(0)->add_nodes()->set_node_id("x");
  CHECK(StatusOf(MergeJourneyReports({a, b})).message() ==
        "report 1: journey cart version 1 has other nodes, edges, actions or goals than in "
        "report 0");
  CHECK(StatusOf(MergeJourneyReports({})).message() == "no reports to merge");
  a.mutable_versions(0)->set_entered(2);
  b = a;
  b.mutable_versions(0)->set_entered(3);
  CHECK(MergeJourneyReports({a, b})->versions(0).entered() == 5);
}

}  // namespace
}  // namespace cairn
