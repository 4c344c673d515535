// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Shared helpers for Cairn's Catch2 tests: status matchers and a quick way to
// write journeys inline in text format.

#ifndef CAIRN_TESTS_TESTING_TEST_UTIL_H_
#define CAIRN_TESTS_TESTING_TEST_UTIL_H_

#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "catch2/catch.hpp"

namespace cairn::testing {

// Matches an OK absl::Status; on failure prints the status.
class IsOkMatcher : public Catch::MatcherBase<absl::Status> {
 public:
  bool match(const absl::Status& status) const override { return status.ok(); }
  std::string describe() const override { return "is OK"; }
};
inline IsOkMatcher IsOk() { return IsOkMatcher(); }

// The status of a StatusOr, for use with IsOk().
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

// The IANA zone `name`, from the zone database; the test fails if it does
// not load.
inline absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone tz;
  REQUIRE(absl::LoadTimeZone(name, &tz));
  return tz;
}

// The instant of a civil time in UTC, and in the zone named `zone`.
inline absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), absl::UTCTimeZone());
}
inline absl::Time Local(const std::string& zone, int y, int mo, int d, int h = 0, int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), Zone(zone));
}

// An event named `name` of the user `subject` at `time`, with no id and no
// properties: what tests hand straight to an engine.
inline Event EventAt(const std::string& subject, const std::string& name, absl::Time time) {
  Event e;
  e.subject_id = subject;
  e.name = name;
  e.time = time;
  return e;
}

// Parses a text-format journey or fails the test.
inline v1::Journey TextJourney(const std::string& text) {
  absl::StatusOr<v1::Journey> journey = ParseJourney(text, JourneyFormat::kText);
  INFO(journey.status().ToString());
  REQUIRE(journey.ok());
  return *journey;
}

// A channel sink that accepts every message and keeps none.
class NullSink : public ChannelSink {
 public:
  SendResult Send(const Message&) override { return SendResult::Accepted(); }
};

// Parses a text-format behaviour set (behaviours and segments) or fails
// the test.
inline v1::BehaviorSet TextBehaviors(const std::string& text) {
  absl::StatusOr<v1::BehaviorSet> set = ParseBehaviorSet(text, JourneyFormat::kText);
  INFO(set.status().ToString());
  REQUIRE(set.ok());
  return *set;
}

// Renders problems one per line, for failure messages.
inline std::string ProblemsToString(const std::vector<JourneyProblem>& problems) {
  std::ostringstream out;
  for (const JourneyProblem& p : problems) out << p.ToString() << "\n";
  return out.str();
}

}  // namespace cairn::testing

namespace Catch {
template <>
struct StringMaker<absl::Status> {
  static std::string convert(const absl::Status& s) { return s.ToString(); }
};
}  // namespace Catch

#endif  // CAIRN_TESTS_TESTING_TEST_UTIL_H_
