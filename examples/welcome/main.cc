// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The README's "Using Cairn from C++" as a program that runs: a service's
// push sender, the welcome journey, one sign-up, the report, and where the
// user is; then the same on a ShardedEngine. The README's C++ snippets are
// these lines, word for word (tests/readme_test.cc checks).
//
//   cairn_example_welcome examples/welcome/journey.textproto

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cairn/cairn.h"
#include "cairn/sharded_engine.h"

namespace {

// Stands in for a push provider's client: prints what it is asked to send.
class PushClient {
 public:
  bool Enqueue(const std::string& subject, const std::string& template_id,
               const std::vector<std::pair<std::string, std::string>>& params) {
    std::printf("push to %s: %s", subject.c_str(), template_id.c_str());
    for (const auto& [key, value] : params) std::printf(" %s=%s", key.c_str(), value.c_str());
    std::printf("\n");
    return true;
  }
};

// The service's clock. Fixed here, so that the example prints the same on
// every run; the engine never reads a clock of its own.
absl::Time Now() {
  return absl::FromCivil(absl::CivilMinute(2026, 1, 5, 9, 0), absl::UTCTimeZone());
}

// What the example prints: the journey's counts, and where the user is.
void Print(const cairn::v1::JourneyReport& report, const cairn::v1::SubjectReport& where) {
  const cairn::v1::VersionReport& v = report.versions(0);
  std::printf("%s: %lld entered, %lld sent\n", report.journey_id().c_str(),
              static_cast<long long>(v.entered()), static_cast<long long>(v.actions(0).sent()));
  for (const cairn::v1::EnrollmentStatus& e : where.enrollments()) {
    std::printf("%s: in %s at %s since %s, next timer %s\n", where.subject_id().c_str(),
                e.journey_id().c_str(), e.node_id().c_str(), e.since().c_str(),
                e.next_timer().c_str());
  }
}

class PushSender : public cairn::ChannelSink {
 public:
  cairn::SendResult Send(const cairn::Message& m) override {
    // m.message_id is deterministic: use it to de-duplicate after a crash.
    return push_client_.Enqueue(m.subject_id, m.template_id, m.params)
               ? cairn::SendResult::Accepted()
               : cairn::SendResult::Failed("no_device_token");
  }

 private:
  PushClient push_client_;
};

absl::Status Run(PushSender* push, const std::string& path, const cairn::Event& event) {
  cairn::Engine engine(cairn::EngineOptions{});
  CAIRN_RETURN_IF_ERROR(engine.RegisterChannel("push", push));
  CAIRN_ASSIGN_OR_RETURN(cairn::v1::Journey journey, cairn::LoadJourneyFile(path));
  CAIRN_RETURN_IF_ERROR(engine.Deploy(journey));   // lists every problem if invalid
  CAIRN_RETURN_IF_ERROR(engine.AdvanceTo(Now()));  // your clock, not the client's
  CAIRN_RETURN_IF_ERROR(engine.Ingest(event));     // events, Enroll, UpsertProfile,
  CAIRN_RETURN_IF_ERROR(engine.AdvanceTo(Now() + absl::Hours(1)));  // ReportDelivery
  CAIRN_ASSIGN_OR_RETURN(cairn::v1::JourneyReport report, engine.Report("welcome"));
  // Where one user is, cheap enough per request: each journey's node, since
  // when, the next timer, the split arm, the delivery report awaited.
  CAIRN_ASSIGN_OR_RETURN(cairn::v1::SubjectReport where, engine.Inspect("user", event.subject_id));
  Print(report, where);
  return absl::OkStatus();
}

absl::Status RunSharded(const cairn::v1::Journey& journey, std::vector<PushSender>& push_senders,
                        const cairn::Event& event, std::vector<cairn::Event> polled) {
  cairn::ShardedEngineOptions options;
  options.shards = 4;
  options.engine.start_time = Now();
  CAIRN_ASSIGN_OR_RETURN(auto engine, cairn::ShardedEngine::Create(
      options, [&](int shard, cairn::Engine& e) -> absl::Status {
        CAIRN_RETURN_IF_ERROR(e.RegisterChannel("push", &push_senders[shard]));
        return e.Deploy(journey);
      }));
  CAIRN_RETURN_IF_ERROR(engine->Ingest(event));   // queued to the subject's shard
  CAIRN_RETURN_IF_ERROR(engine->IngestBatch(std::move(polled)));  // a batch, shared by the shards
  engine->Flush();                                // wait until applied
  engine->AdvanceTo(Now() + absl::Hours(1));      // every shard's clock
  CAIRN_ASSIGN_OR_RETURN(auto report, engine->Report("welcome"));  // summed over shards
  std::printf("welcome on 4 shards: %lld entered, %lld sent\n",
              static_cast<long long>(report.versions(0).entered()),
              static_cast<long long>(report.versions(0).actions(0).sent()));
  return absl::OkStatus();
}

cairn::Event SignUp(const std::string& user, const std::string& name) {
  cairn::Event event;
  event.subject_id = user;
  event.name = "signup";
  event.time = Now();
  event.properties.emplace_back("name", cairn::Value::String(name));
  return event;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s JOURNEY_FILE\n", argv[0]);
    return 2;
  }
  PushSender push;
  absl::Status status = Run(&push, argv[1], SignUp("u1", "Ana"));
  if (status.ok()) {
    absl::StatusOr<cairn::v1::Journey> journey = cairn::LoadJourneyFile(argv[1]);
    std::vector<PushSender> push_senders(4);
    status = journey.ok() ? RunSharded(*journey, push_senders, SignUp("u2", "Bo"),
                                       {SignUp("u3", "Chen"), SignUp("u4", "Dana")})
                          : journey.status();
  }
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
