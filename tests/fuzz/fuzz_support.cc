// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "fuzz_support.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/logging.h"
#include "testing/journeys.h"

namespace cairn::fuzz {
namespace {

const auto& kJourneys = testing::kStatefulJourneys;

const char* const kJourneyIds[] = {"cart", "promo", "orders", "unknown"};
const char* const kEventNames[] = {"view", "cart",  "pay",    "visit", "refund", "buy",
                                   "shipped", "noise", "opt_out", "opt_in", ""};
const char* const kZones[] = {"Asia/Shanghai", "America/New_York", "UTC", "Not/AZone", ""};

constexpr int64_t kStartSeconds = 1767225600;  // 2026-01-01T00:00:00Z

bool IsDocumentedError(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition:
      return true;
    default:
      return false;
  }
}

void CheckStatus(const absl::Status& status, absl::string_view input) {
  Check(IsDocumentedError(status.code()),
        absl::StrCat(input, " returned an undocumented status: ", status.ToString()));
}

// A value of any type, as the bytes choose.
Value AnyValue(ByteReader* r) {
  switch (r->Pick(6)) {
    case 0: return Value::String(absl::StrCat("k", r->Pick(4)));
    case 1: return Value::Int(static_cast<int8_t>(r->Byte()));
    case 2: return Value::Double(r->Byte() / 7.0);
    case 3: return Value::Bool(r->Pick(2) == 1);
    case 4: return Value::StringList({"push", "all"});
    default: return Value();
  }
}

// Engine time moves mostly forward in steps from a second to days, and
// sometimes backwards (late and too-late inputs).
absl::Time NextTime(ByteReader* r, absl::Time* clock) {
  const uint8_t b = r->Byte();
  const int64_t step = (b & 0x7f) * (b & 0x7f) * 13;  // 0 .. ~2.4 days
  if (b & 0x80 && (b & 0x3) == 0) return *clock - absl::Seconds(step);
  *clock += absl::Seconds(step);
  return *clock;
}

}  // namespace

void Check(bool condition, absl::string_view what) {
  if (condition) return;
  std::fprintf(stderr, "invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

void SilenceProtobufLogs() {
  static const bool silenced = [] {
    google::protobuf::SetLogHandler(
        [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
    return true;
  }();
  (void)silenced;
}

std::string ByteReader::Bytes(size_t max_size) {
  const size_t n = std::min<size_t>(Pick(static_cast<int>(max_size) + 1), size_ - std::min(pos_, size_));
  std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
  pos_ += n;
  return out;
}

SendResult RecordingSinks::Send(const Message& message) {
  if (reader != nullptr && reader->Pick(5) == 0) {
    ++refused;
    return SendResult::Failed(reader->Pick(2) == 0 ? "no_token" : "");
  }
  sent_ids.push_back(message.message_id);
  return SendResult::Accepted();
}

EngineOptions FuzzEngineOptions() {
  EngineOptions o;
  o.start_time = absl::FromUnixSeconds(kStartSeconds);
  o.frequency_caps.push_back({"sms", 2, absl::Hours(6)});
  o.quiet_hours.push_back({"push", 23, 0, 7, 0});
  o.holdout_percent = 3;
  o.delivery_report_window = absl::Hours(48);
  return o;
}

std::unique_ptr<Engine> MakeEngine(RecordingSinks* sinks) {
  auto engine = std::make_unique<Engine>(FuzzEngineOptions());
  for (const char* channel : {"push", "sms", "email"}) {
    Check(engine->RegisterChannel(channel, sinks).ok(), "register channel");
  }
  engine->SetProfileSink(sinks);
  // Parsed once: every fuzz input builds at least one engine.
  static const std::vector<v1::Journey>* const journeys = [] {
    auto* parsed = new std::vector<v1::Journey>();
    for (const char* text : kJourneys) {
      absl::StatusOr<v1::Journey> journey = ParseJourney(text, JourneyFormat::kText);
      Check(journey.ok(), journey.status().ToString());
      parsed->push_back(*std::move(journey));
    }
    return parsed;
  }();
  for (const v1::Journey& journey : *journeys) {
    absl::Status deployed = engine->Deploy(journey);
    Check(deployed.ok(), deployed.ToString());
  }
  return engine;
}

void CheckInvariants(const Engine& engine, const InputCounts& counts) {
  int64_t in_flight = 0;
  for (const std::string& id : engine.journey_ids()) {
    absl::StatusOr<v1::JourneyReport> report = engine.Report(id);
    Check(report.ok(), report.status().ToString());
    for (const v1::VersionReport& v : report->versions()) {
      const std::string where = absl::StrCat(id, " v", v.version());
      Check(v.entered() == v.exited() + v.in_flight(),
            absl::StrCat(where, ": entered != exited + in_flight"));
      Check(v.in_flight() >= 0, absl::StrCat(where, ": negative in_flight"));
      int64_t occupied = 0;
      for (const v1::NodeReport& n : v.nodes()) {
        Check(n.current() >= 0, absl::StrCat(where, " ", n.node_id(), ": negative current"));
        occupied += n.current();
      }
      Check(occupied == v.in_flight(), absl::StrCat(where, ": node occupancy != in_flight"));
      int64_t exits = 0;
      for (const v1::ReasonCount& r : v.exits()) exits += r.count();
      Check(exits == v.exited(), absl::StrCat(where, ": exit reasons != exited"));
      for (const v1::ActionReport& a : v.actions()) {
        int64_t undelivered = 0;
        for (const v1::ReasonCount& r : a.undelivered()) undelivered += r.count();
        Check(a.awaiting_report() >= 0 && a.unreported() >= 0,
              absl::StrCat(where, " ", a.node_id(), ": negative delivery counts"));
        Check(a.sent() == a.delivered() + undelivered + a.unreported() + a.awaiting_report(),
              absl::StrCat(where, " ", a.node_id(), ": sends do not balance"));
      }
      in_flight += v.in_flight();
    }
  }
  const EngineStats s = engine.stats();
  Check(s.enrollments_in_flight == in_flight, "stats in flight != reports in flight");
  Check(s.events_applied + s.events_ignored + s.events_rejected == counts.events,
        "events not counted exactly once");
  Check(s.enrollments_applied + s.enrollments_rejected == counts.enrollments,
        "enrollments not counted exactly once");
  Check(s.profile_updates_applied + s.profile_updates_rejected == counts.profile_updates,
        "profile updates not counted exactly once");
  Check(s.delivery_reports_applied + s.delivery_reports_rejected == counts.delivery_reports,
        "delivery reports not counted exactly once");
}

void RunInputs(ByteReader* r, std::unique_ptr<Engine>* engine, RecordingSinks* sinks) {
  sinks->reader = r;
  InputCounts counts;
  absl::Time clock = absl::FromUnixSeconds(kStartSeconds);
  while (!r->empty()) {
    const std::string subject = absl::StrCat("s", r->Pick(12));
    const absl::Time before = (*engine)->now();
    absl::Status status;
    const char* input = "";
    switch (r->Pick(10)) {
      case 0: case 1: case 2: case 3: {
        input = "Ingest";
        Event e;
        e.subject_id = r->Pick(16) == 0 ? "" : subject;
        e.subject_type = r->Pick(8) == 0 ? "device" : "";
        e.name = kEventNames[r->Pick(11)];
        e.time = NextTime(r, &clock);
        if (r->Pick(2) == 0) e.id = absl::StrCat("e", r->Pick(8));
        e.properties.emplace_back("sku", AnyValue(r));
        e.properties.emplace_back("order", Value::String(absl::StrCat("o", r->Pick(3))));
        if (r->Pick(4) == 0) e.properties.emplace_back("channel", AnyValue(r));
        ++counts.events;
        status = (*engine)->Ingest(e);
        break;
      }
      case 4:
        input = "Enroll";
        ++counts.enrollments;
        status = (*engine)->Enroll(kJourneyIds[r->Pick(4)], r->Pick(16) == 0 ? "" : subject,
                                   NextTime(r, &clock), {{"sku", AnyValue(r)}});
        break;
      case 5: {
        input = "ReportDelivery";
        std::string id;
        if (!sinks->sent_ids.empty() && r->Pick(4) != 0) {
          id = sinks->sent_ids[r->Byte() % sinks->sent_ids.size()];
        } else {
          id = r->Bytes(17);
        }
        ++counts.delivery_reports;
        status = (*engine)->ReportDelivery(
            id, r->Pick(3) == 0 ? DeliveryOutcome::kFailed : DeliveryOutcome::kDelivered,
            NextTime(r, &clock), r->Pick(2) == 0 ? "bounced" : "");
        break;
      }
      case 6: {
        input = "UpsertProfile";
        Attributes attributes;
        attributes.emplace_back("time_zone", Value::String(kZones[r->Pick(5)]));
        if (r->Pick(2) == 0) attributes.emplace_back("opted_out_channels", AnyValue(r));
        if (r->Pick(8) == 0) attributes.emplace_back("", AnyValue(r));
        ++counts.profile_updates;
        status = (*engine)->UpsertProfile(r->Pick(16) == 0 ? "" : subject, attributes,
                                          NextTime(r, &clock));
        break;
      }
      case 7:
        input = "AdvanceTo";
        status = (*engine)->AdvanceTo(NextTime(r, &clock));
        Check(status.ok(), "AdvanceTo failed");
        break;
      case 8: {
        input = "SetJourneyState";
        const v1::JourneyState states[] = {v1::ACTIVE, v1::PAUSED, v1::STOPPED,
                                           v1::JOURNEY_STATE_UNSPECIFIED};
        // Stopping is rare so that journeys mostly keep running.
        const int pick = r->Pick(16);
        status = (*engine)->SetJourneyState(kJourneyIds[r->Pick(4)],
                                            states[pick < 7 ? 0 : pick < 13 ? 1 : pick < 15 ? 2 : 3]);
        break;
      }
      default: {
        // A restart: snapshot, restore into a fresh engine, go on with it.
        // Rare, since it rebuilds the engine.
        input = "Snapshot/Restore";
        if (r->Pick(8) != 0) break;
        std::stringstream stream;
        status = (*engine)->Snapshot(stream);
        Check(status.ok(), absl::StrCat("Snapshot: ", status.ToString()));
        std::unique_ptr<Engine> restored = MakeEngine(sinks);
        status = restored->Restore(stream);
        Check(status.ok(), absl::StrCat("Restore of a fresh snapshot: ", status.ToString()));
        Check(restored->now() == (*engine)->now(), "restored engine time differs");
        *engine = std::move(restored);
        break;
      }
    }
    CheckStatus(status, input);
    Check((*engine)->now() >= before, absl::StrCat(input, " moved engine time backwards"));
    CheckInvariants(**engine, counts);
  }
  sinks->reader = nullptr;
}

}  // namespace cairn::fuzz
