// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Test doubles and a harness for unit-testing journeys: an Engine on a
// virtual clock with recording sinks, so a host checks its own journey in a
// few lines.
//
// Example (Catch2):
//   cairn::testing::Harness h;
//   REQUIRE(h.Deploy(my_journey).ok());
//   REQUIRE(h.Event("u1", "add_to_cart").ok());
//   REQUIRE(h.Advance(absl::Hours(12)).ok());
//   REQUIRE(h.SentTo("u1", "push") == 1);
//
// Thread-safety: not thread-safe, like the Engine.

#ifndef CAIRN_TESTING_HARNESS_H_
#define CAIRN_TESTING_HARNESS_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/engine.h"
#include "cairn/event.h"
#include "cairn/sink.h"

namespace cairn::testing {

// A ChannelSink that records every send and answers as told (accepts by
// default).
class RecordingChannelSink : public ChannelSink {
 public:
  // One Send() call and what the sink answered.
  struct Attempt {
    Message message;
    SendResult result;
  };

  SendResult Send(const Message& message) override;

  // Decides the answer to each send: return a reason to fail it, or nullopt
  // to accept it. Replaces any earlier policy.
  void SetPolicy(std::function<std::optional<std::string>(const Message&)> policy) {
    policy_ = std::move(policy);
  }
  // Every later send fails with `reason`.
  void FailAll(std::string reason);
  // Every later send is accepted.
  void AcceptAll() { policy_ = nullptr; }

  const std::vector<Attempt>& attempts() const { return attempts_; }
  // Accepted messages only.
  std::vector<Message> accepted() const;

 private:
  std::function<std::optional<std::string>(const Message&)> policy_;
  std::vector<Attempt> attempts_;
};

// A ProfileSink that records every write.
class RecordingProfileSink : public ProfileSink {
 public:
  void Write(const ProfileWrite& write) override { writes_.push_back(write); }
  const std::vector<ProfileWrite>& writes() const { return writes_; }

 private:
  std::vector<ProfileWrite> writes_;
};

// An Observer that keeps a copy of every step.
class RecordingObserver : public Observer {
 public:
  // TraceStep with owned strings.
  struct Step {
    TraceStep::Kind kind;
    absl::Time time;
    std::string journey_id;
    int64_t journey_version;
    std::string subject_id;
    std::string node_id;
    std::string detail;
  };

  void OnStep(const TraceStep& step) override;
  const std::vector<Step>& steps() const { return steps_; }

 private:
  std::vector<Step> steps_;
};

// An Engine with a virtual clock, recording sinks and a recording observer.
class Harness {
 public:
  // Monday 2026-01-05 00:00 UTC: a fixed, readable start for tests.
  static absl::Time DefaultStart();

  explicit Harness(absl::Time start = DefaultStart(),
                   EngineOptions options = EngineOptions());
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // Deploys a journey, first registering a recording sink for each channel
  // it uses that has none yet.
  absl::Status Deploy(const v1::Journey& journey);
  // Parses a text-format journey and deploys it.
  absl::Status DeployText(absl::string_view textproto);

  // Ingests an event of a user at the current virtual time, or at `time`:
  // a later `time` first moves the virtual clock there (the harness is the
  // host, and its clock is trusted), so a test may jump days ahead with an
  // event alone.
  absl::Status Event(absl::string_view subject, absl::string_view name,
                     Attributes properties = {});
  absl::Status Event(absl::string_view subject, absl::string_view name,
                     absl::Time time, Attributes properties = {});
  // Ingests a fully specified event (its own time and subject type); a later
  // time first moves the virtual clock there, as Event() does. (To see how
  // the engine treats an untrusted time, call engine().Ingest directly.)
  absl::Status Ingest(const ::cairn::Event& event);

  // Enrolls a user into an audience journey now.
  absl::Status Enroll(absl::string_view journey_id, absl::string_view subject,
                      Attributes context = {});
  // Sets profile attributes of a user now.
  absl::Status Profile(absl::string_view subject, Attributes attributes);
  // Reports a delivery now.
  absl::Status Deliver(absl::string_view message_id,
                       DeliveryOutcome outcome = DeliveryOutcome::kDelivered,
                       absl::string_view reason = "");

  // Moves the virtual clock forward, firing timers.
  absl::Status Advance(absl::Duration d) { return AdvanceTo(now_ + d); }
  absl::Status AdvanceTo(absl::Time t);
  absl::Time now() const { return now_; }

  // The recording sink of a channel, created (and registered) if needed.
  RecordingChannelSink& channel(absl::string_view name);

  // Accepted messages, optionally only for one subject and/or channel
  // (empty matches all), in send order.
  std::vector<Message> Sent(absl::string_view subject = "",
                            absl::string_view channel = "") const;
  // How many messages a subject was sent on a channel.
  int SentTo(absl::string_view subject, absl::string_view channel) const;

  // The node ids a subject entered, in order, across journeys.
  std::vector<std::string> Path(absl::string_view subject) const;
  // The exit reasons of a subject's enrollments, in order.
  std::vector<std::string> Exits(absl::string_view subject) const;

  const std::vector<RecordingObserver::Step>& trace() const { return observer_.steps(); }
  const std::vector<ProfileWrite>& profile_writes() const { return profiles_.writes(); }

  // The engine's report for a journey.
  absl::StatusOr<v1::JourneyReport> Report(absl::string_view journey_id) const {
    return engine_.Report(journey_id);
  }

  Engine& engine() { return engine_; }

 private:
  absl::Time now_;
  std::map<std::string, std::unique_ptr<RecordingChannelSink>, std::less<>> channels_;
  RecordingProfileSink profiles_;
  RecordingObserver observer_;
  Engine engine_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTING_HARNESS_H_
