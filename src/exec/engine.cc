// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The executor. Each input is validated, then time moves forward (firing due
// timers in order), then the input is applied. An enrollment advances node by
// node until it reaches a blocking node or exits; see docs/semantics.md for
// every rule implemented here.

#include "cairn/engine.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cairn/options.h"
#include "cairn/status_macros.h"
#include "compile/journey_graph.h"
#include "exec/engine_impl.h"
#include "exec/engine_state.h"

namespace cairn {

Engine::Impl::Impl(EngineOptions options)
    : internal::EngineState(options.start_time),
      options_(std::move(options)),
      holdout_seed_text_(absl::StrCat(options_.holdout_seed)),
      options_fingerprint_(ComputeOptionsFingerprint()) {
  for (const FrequencyCap& cap : options_.frequency_caps) {
    auto [it, inserted] = capped_channels_.try_emplace(
        cap.channel, static_cast<int32_t>(capped_channels_.size()), cap.window);
    if (!inserted) it->second.second = std::max(it->second.second, cap.window);
  }
  rate_sends_.resize(options_.rate_limits.size());
  for (size_t i = 0; i < options_.rate_limits.size(); ++i) {
    rate_channels_.emplace(options_.rate_limits[i].channel, static_cast<int32_t>(i));
  }
  for (const QuietHours& q : options_.quiet_hours) {
    internal::QuietRule& rule = quiet_rules_.emplace_back();
    rule.channel = q.channel;
    rule.window.opens = q.start_hour * 60 + q.start_minute;
    rule.window.closes = q.end_hour * 60 + q.end_minute;
    for (absl::Weekday day : q.weekdays) {
      rule.window.weekday_mask |= static_cast<uint8_t>(1u << internal::WeekdayBit(day));
    }
  }
}

absl::StatusOr<Engine> Engine::Create(EngineOptions options) {
  CAIRN_RETURN_IF_ERROR(ValidateEngineOptions(options));
  return Engine(std::move(options));
}

Engine::Engine(EngineOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
Engine::Engine(Engine&& other) noexcept = default;
Engine& Engine::operator=(Engine&& other) noexcept = default;
Engine::~Engine() = default;

absl::Status Engine::RegisterChannel(absl::string_view channel, ChannelSink* sink) {
  return impl_->RegisterChannel(channel, sink);
}
void Engine::SetProfileSink(ProfileSink* sink) { impl_->SetProfileSink(sink); }
void Engine::SetObserver(Observer* observer) { impl_->SetObserver(observer); }
absl::Status Engine::Deploy(const v1::Journey& journey) { return impl_->Deploy(journey); }
absl::Status Engine::Deploy(std::shared_ptr<const CompiledJourney> journey) {
  return impl_->Deploy(std::move(journey));
}
absl::Status Engine::DeployForRestore(const v1::Journey& journey) {
  return impl_->DeployForRestore(journey);
}
absl::Status Engine::RetireVersion(absl::string_view journey_id, int64_t version) {
  return impl_->RetireVersion(journey_id, version);
}
absl::Status Engine::SetJourneyState(absl::string_view journey_id,
                                     v1::JourneyState state) {
  return impl_->SetJourneyState(journey_id, state);
}
absl::Status Engine::DeclareBehaviors(const v1::BehaviorSet& behaviors) {
  return impl_->DeclareBehaviors(behaviors);
}
absl::Status Engine::SeedBehavior(const BehaviorSeed& seed) { return impl_->SeedBehavior(seed); }

absl::StatusOr<Value> Engine::BehaviorValue(absl::string_view subject_type,
                                            absl::string_view subject_id,
                                            absl::string_view behavior) {
  return impl_->BehaviorValue(subject_type, subject_id, behavior);
}
v1::BehaviorsReport Engine::BehaviorsReport() const { return impl_->BehaviorsReport(); }

absl::StatusOr<v1::SubjectReport> Engine::Inspect(absl::string_view subject_type,
                                                  absl::string_view subject_id) const {
  return impl_->Inspect(subject_type, subject_id);
}
absl::Status Engine::Ingest(const Event& event) { return impl_->Ingest(event); }
absl::Status Engine::Enroll(absl::string_view journey_id, absl::string_view subject_id,
                            absl::Time time, const Attributes& context) {
  return impl_->Enroll(journey_id, subject_id, time, context);
}
absl::Status Engine::Forget(absl::string_view subject_id, absl::Time time,
                            absl::string_view subject_type) {
  return impl_->Forget(subject_id, time, subject_type);
}
absl::Status Engine::MergeSubjects(absl::string_view from_id, absl::string_view into_id,
                                   absl::Time time, absl::string_view subject_type) {
  return impl_->MergeSubjects(from_id, into_id, time, subject_type);
}
absl::Status Engine::UpsertProfile(absl::string_view subject_id,
                                   const Attributes& attributes, absl::Time time,
                                   absl::string_view subject_type) {
  return impl_->UpsertProfile(subject_id, attributes, time, subject_type);
}
absl::Status Engine::ReportDelivery(absl::string_view message_id,
                                    DeliveryOutcome outcome, absl::Time time,
                                    absl::string_view reason) {
  return impl_->ReportDelivery(message_id, outcome, time, reason);
}
absl::Status Engine::AdvanceTo(absl::Time time) { return impl_->AdvanceTo(time); }

int64_t Engine::RunScheduled(int64_t max_subjects) { return impl_->RunScheduled(max_subjects); }
absl::Time Engine::now() const { return impl_->now(); }
absl::Time Engine::next_timer_time() const { return impl_->next_timer_time(); }
absl::StatusOr<v1::JourneyReport> Engine::Report(absl::string_view journey_id) const {
  return impl_->Report(journey_id);
}
EngineStats Engine::stats() const { return impl_->stats(); }
absl::Status Engine::Snapshot(std::ostream& out) const { return impl_->Snapshot(out); }
absl::Status Engine::Restore(std::istream& in) { return impl_->Restore(in); }
std::vector<std::string> Engine::journey_ids() const { return impl_->journey_ids(); }

}  // namespace cairn
