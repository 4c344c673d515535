// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/testing/harness.h"

#include <algorithm>
#include <utility>

#include "cairn/journey_io.h"

namespace cairn::testing {

SendResult RecordingChannelSink::Send(const Message& message) {
  SendResult result = SendResult::Accepted();
  if (policy_) {
    if (std::optional<std::string> reason = policy_(message)) {
      result = SendResult::Failed(*std::move(reason));
    }
  }
  attempts_.push_back(Attempt{message, result});
  return result;
}

void RecordingChannelSink::FailAll(std::string reason) {
  policy_ = [reason = std::move(reason)](const Message&) {
    return std::optional<std::string>(reason);
  };
}

std::vector<Message> RecordingChannelSink::accepted() const {
  std::vector<Message> out;
  for (const Attempt& a : attempts_) {
    if (a.result.accepted) out.push_back(a.message);
  }
  return out;
}

void RecordingObserver::OnStep(const TraceStep& s) {
  steps_.push_back(Step{s.kind, s.time, std::string(s.journey_id), s.journey_version,
                        std::string(s.subject_id), std::string(s.node_id),
                        std::string(s.detail)});
}

absl::Time Harness::DefaultStart() {
  return absl::FromCivil(absl::CivilSecond(2026, 1, 5, 0, 0, 0), absl::UTCTimeZone());
}

namespace {
EngineOptions WithStart(EngineOptions options, absl::Time start) {
  options.start_time = start;
  return options;
}
}  // namespace

Harness::Harness(absl::Time start, EngineOptions options)
    : now_(start), engine_(WithStart(std::move(options), start)) {
  engine_.SetProfileSink(&profiles_);
  engine_.SetObserver(&observer_);
}

RecordingChannelSink& Harness::channel(absl::string_view name) {
  auto it = channels_.find(name);
  if (it != channels_.end()) return *it->second;
  auto sink = std::make_unique<RecordingChannelSink>();
  RecordingChannelSink& ref = *sink;
  channels_.emplace(std::string(name), std::move(sink));
  // Cannot fail: the name is new and non-empty or the engine reports it.
  (void)engine_.RegisterChannel(name, &ref);
  return ref;
}

absl::Status Harness::Deploy(const v1::Journey& journey) {
  for (const v1::Node& node : journey.nodes()) {
    if (node.kind_case() == v1::Node::kAction && !node.action().channel().empty()) {
      channel(node.action().channel());
    }
  }
  return engine_.Deploy(journey);
}

absl::Status Harness::DeployText(absl::string_view textproto) {
  absl::StatusOr<v1::Journey> journey = ParseJourney(textproto, JourneyFormat::kText);
  if (!journey.ok()) return journey.status();
  return Deploy(*journey);
}

absl::Status Harness::Event(absl::string_view subject, absl::string_view name,
                            Attributes properties) {
  return Event(subject, name, now_, std::move(properties));
}

absl::Status Harness::Event(absl::string_view subject, absl::string_view name,
                            absl::Time time, Attributes properties) {
  ::cairn::Event e;
  e.subject_id = std::string(subject);
  e.name = std::string(name);
  e.time = time;
  e.properties = std::move(properties);
  return Ingest(e);
}

absl::Status Harness::Ingest(const ::cairn::Event& event) {
  // The virtual clock is the host's, so it is trusted: it moves engine time
  // (firing what is due), and max_input_lead never refuses a test's event.
  // A time the engine cannot hold is left for Ingest to refuse.
  if (event.time > now_ && event.time < LatestInputTime()) {
    now_ = event.time;
    if (absl::Status moved = engine_.AdvanceTo(event.time); !moved.ok()) return moved;
  }
  return engine_.Ingest(event);
}

absl::Status Harness::Enroll(absl::string_view journey_id, absl::string_view subject,
                             Attributes context) {
  return engine_.Enroll(journey_id, subject, now_, context);
}

absl::Status Harness::Profile(absl::string_view subject, Attributes attributes) {
  return engine_.UpsertProfile(subject, attributes, now_);
}

absl::Status Harness::Deliver(absl::string_view message_id, DeliveryOutcome outcome,
                              absl::string_view reason) {
  return engine_.ReportDelivery(message_id, outcome, now_, reason);
}

absl::Status Harness::AdvanceTo(absl::Time t) {
  absl::Status moved = engine_.AdvanceTo(t);
  if (moved.ok() && t > now_) now_ = t;
  return moved;
}

std::vector<Message> Harness::Sent(absl::string_view subject,
                                   absl::string_view channel_name) const {
  // Merge channels by send order: message time, then the order of attempts
  // within each channel is already chronological; sort stably by time.
  std::vector<Message> out;
  for (const auto& [name, sink] : channels_) {
    if (!channel_name.empty() && name != channel_name) continue;
    for (const Message& m : sink->accepted()) {
      if (subject.empty() || m.subject_id == subject) out.push_back(m);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Message& a, const Message& b) { return a.time < b.time; });
  return out;
}

int Harness::SentTo(absl::string_view subject, absl::string_view channel_name) const {
  return static_cast<int>(Sent(subject, channel_name).size());
}

namespace {

// The node ids (kEnter) or exit reasons (kExit) of one subject's steps.
std::vector<std::string> StepsOf(const std::vector<RecordingObserver::Step>& steps,
                                 absl::string_view subject, TraceStep::Kind kind) {
  std::vector<std::string> out;
  for (const RecordingObserver::Step& s : steps) {
    if (s.subject_id != subject || s.kind != kind) continue;
    out.push_back(kind == TraceStep::Kind::kExit ? s.detail : s.node_id);
  }
  return out;
}

}  // namespace

std::vector<std::string> Harness::Path(absl::string_view subject) const {
  return StepsOf(observer_.steps(), subject, TraceStep::Kind::kEnter);
}

std::vector<std::string> Harness::Exits(absl::string_view subject) const {
  return StepsOf(observer_.steps(), subject, TraceStep::Kind::kExit);
}

}  // namespace cairn::testing
