// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/kafka/record.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/charconv.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cairn/journey_io.h"
#include "cairn/status_macros.h"
#include "cairn/v1/input.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "json/json.h"
#include "kafka/json_write.h"
#include "json/event_lines.h"
#include "util/overloaded.h"
#include "util/proto_time.h"

namespace cairn::kafka {
namespace {

using internal::AppendField;
using internal::AppendKey;
using cairn::internal::Overloaded;
using internal::Quote;

constexpr char kKinds[] = "event, profile, enroll, delivery, tick, state, seed, forget, merge";

absl::Status Invalid(absl::string_view kind, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(kind, ": ", what));
}

// A record's time is a google.protobuf.Timestamp in the proto format, so the
// range is the Timestamp's in both formats.
absl::Status CheckTime(absl::string_view kind, absl::Time t) {
  if (t == absl::InfinitePast()) return Invalid(kind, "time is not set");
  if (!cairn::internal::IsTimestampTime(t)) {
    return Invalid(kind, absl::StrCat("time ", json::FormatEventTime(t),
                                      " is outside 0001-01-01..9999-12-31"));
  }
  return absl::OkStatus();
}

absl::Status CheckNotEmpty(absl::string_view kind, absl::string_view field,
                           absl::string_view value) {
  if (value.empty()) return Invalid(kind, absl::StrCat(field, " is empty"));
  return absl::OkStatus();
}

// ---- JSON ----

absl::Status CheckUniqueNames(absl::string_view kind, absl::string_view what,
                              const Attributes& attributes) {
  absl::flat_hash_set<absl::string_view> seen;
  for (const auto& [name, value] : attributes) {
    if (!seen.insert(name).second) {
      return Invalid(kind, absl::StrCat(what, " ", Quote(name), " appears twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status AppendJsonAttributes(absl::string_view kind, absl::string_view what,
                                  const Attributes& attributes, std::string* out) {
  CAIRN_RETURN_IF_ERROR(CheckUniqueNames(kind, what, attributes));
  out->push_back('{');
  bool first = true;
  for (const auto& [name, value] : attributes) {
    if (!first) out->push_back(',');
    first = false;
    json::AppendJsonString(name, out);
    out->push_back(':');
    absl::Status s = internal::AppendExactJsonValue(value, out);
    if (!s.ok()) return Invalid(kind, absl::StrCat(what, " ", Quote(name), ": ", s.message()));
  }
  out->push_back('}');
  return absl::OkStatus();
}

void AppendTimeField(absl::Time t, std::string* out) {
  AppendField("time", json::FormatEventTime(t), out);
}

absl::Status SeedJsonValue(const Value& value, absl::string_view field, std::string* out) {
  absl::Status s = internal::AppendExactJsonValue(value, out);
  if (!s.ok()) return Invalid("seed", absl::StrCat(field, ": ", s.message()));
  return absl::OkStatus();
}

// ---- JSON decoding ----

bool HasKey(const json::JsonValue& object, absl::string_view key) {
  for (const auto& entry : object.object) {
    if (entry.first == key) return true;
  }
  return false;
}

absl::StatusOr<EngineInput> EventFromJson(const json::JsonValue& object) {
  absl::StatusOr<Event> event = json::EventFromJson(object);
  if (!event.ok()) return event.status();
  return EngineInput(*std::move(event));
}

absl::StatusOr<EngineInput> ProfileFromJson(const json::JsonValue& object) {
  CAIRN_RETURN_IF_ERROR(
      json::CheckJsonKeys(object, {"subject", "subject_type", "attributes", "time"}));
  ProfileUpdate p;
  CAIRN_ASSIGN_OR_RETURN(p.subject_id, json::JsonStringField(object, "subject", true));
  CAIRN_ASSIGN_OR_RETURN(p.subject_type, json::JsonStringField(object, "subject_type", false));
  CAIRN_ASSIGN_OR_RETURN(p.attributes,
                         json::JsonAttributesField(object, "attributes", "attribute"));
  CAIRN_ASSIGN_OR_RETURN(p.time, json::JsonTimeField(object, "time"));
  return EngineInput(std::move(p));
}

absl::StatusOr<EngineInput> ForgetFromJson(const json::JsonValue& object) {
  CAIRN_RETURN_IF_ERROR(json::CheckJsonKeys(object, {"subject", "subject_type", "time"}));
  SubjectErasure f;
  CAIRN_ASSIGN_OR_RETURN(f.subject_id, json::JsonStringField(object, "subject", true));
  CAIRN_ASSIGN_OR_RETURN(f.subject_type, json::JsonStringField(object, "subject_type", false));
  CAIRN_ASSIGN_OR_RETURN(f.time, json::JsonTimeField(object, "time"));
  return EngineInput(std::move(f));
}

absl::StatusOr<EngineInput> MergeFromJson(const json::JsonValue& object) {
  CAIRN_RETURN_IF_ERROR(json::CheckJsonKeys(object, {"from", "subject", "subject_type", "time"}));
  SubjectMerge m;
  CAIRN_ASSIGN_OR_RETURN(m.from_subject_id, json::JsonStringField(object, "from", true));
  CAIRN_ASSIGN_OR_RETURN(m.subject_id, json::JsonStringField(object, "subject", true));
  CAIRN_ASSIGN_OR_RETURN(m.subject_type, json::JsonStringField(object, "subject_type", false));
  CAIRN_ASSIGN_OR_RETURN(m.time, json::JsonTimeField(object, "time"));
  return EngineInput(std::move(m));
}

absl::StatusOr<EngineInput> EnrollFromJson(const json::JsonValue& object) {
  CAIRN_RETURN_IF_ERROR(json::CheckJsonKeys(object, {"journey", "subject", "context", "time"}));
  EnrollRequest e;
  CAIRN_ASSIGN_OR_RETURN(e.journey_id, json::JsonStringField(object, "journey", true));
  CAIRN_ASSIGN_OR_RETURN(e.subject_id, json::JsonStringField(object, "subject", true));
  CAIRN_ASSIGN_OR_RETURN(e.context, json::JsonAttributesField(object, "context", "context"));
  CAIRN_ASSIGN_OR_RETURN(e.time, json::JsonTimeField(object, "time"));
  return EngineInput(std::move(e));
}

absl::StatusOr<EngineInput> DeliveryFromJson(const json::JsonValue& object) {
  CAIRN_RETURN_IF_ERROR(json::CheckJsonKeys(
      object, {"message_id", "outcome", "reason", "subject", "time"}));
  DeliveryReport d;
  CAIRN_ASSIGN_OR_RETURN(d.message_id, json::JsonStringField(object, "message_id", true));
  CAIRN_ASSIGN_OR_RETURN(std::string outcome, json::JsonStringField(object, "outcome", true));
  if (outcome == "delivered") {
    d.outcome = DeliveryOutcome::kDelivered;
  } else if (outcome == "failed") {
    d.outcome = DeliveryOutcome::kFailed;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"outcome\" ", Quote(outcome), " is not \"delivered\" or \"failed\""));
  }
  CAIRN_ASSIGN_OR_RETURN(d.reason, json::JsonStringField(object, "reason", false));
  CAIRN_ASSIGN_OR_RETURN(d.subject_id, json::JsonStringField(object, "subject", true));
  CAIRN_ASSIGN_OR_RETURN(d.time, json::JsonTimeField(object, "time"));
  return EngineInput(std::move(d));
}

absl::StatusOr<EngineInput> TickFromJson(const json::JsonValue& object) {
  CAIRN_RETURN_IF_ERROR(json::CheckJsonKeys(object, {"time"}));
  ClockTick t;
  CAIRN_ASSIGN_OR_RETURN(t.time, json::JsonTimeField(object, "time"));
  return EngineInput(t);
}

absl::string_view JourneyStateName(v1::JourneyState state) {
  switch (state) {
    case v1::ACTIVE:
      return "active";
    case v1::PAUSED:
      return "paused";
    case v1::STOPPED:
      return "stopped";
    default:
      return "";
  }
}

absl::StatusOr<EngineInput> StateFromJson(const json::JsonValue& object) {
  CAIRN_RETURN_IF_ERROR(json::CheckJsonKeys(object, {"journey", "state", "time"}));
  JourneyStateChange c;
  CAIRN_ASSIGN_OR_RETURN(c.journey_id, json::JsonStringField(object, "journey", true));
  CAIRN_ASSIGN_OR_RETURN(std::string state, json::JsonStringField(object, "state", true));
  CAIRN_ASSIGN_OR_RETURN(c.state, JourneyStateFromName(state));
  CAIRN_ASSIGN_OR_RETURN(c.time, json::JsonTimeField(object, "time"));
  return EngineInput(std::move(c));
}

// A seed entry: {"time": "...", "count": 2, "value": 9.5}, count and value
// optional.
absl::StatusOr<BehaviorSeedEntry> SeedEntryFromJson(const json::JsonValue& entry, size_t i) {
  const std::string where = absl::StrCat("history[", i, "]");
  if (entry.type != json::JsonValue::Type::kObject) {
    return Invalid("seed", absl::StrCat(where, " must be an object"));
  }
  absl::Status keys = json::CheckJsonKeys(entry, {"time", "count", "value"});
  if (!keys.ok()) return Invalid("seed", absl::StrCat(where, ": ", keys.message()));
  BehaviorSeedEntry e;
  absl::StatusOr<absl::Time> time = json::JsonTimeField(entry, "time");
  if (!time.ok()) return Invalid("seed", absl::StrCat(where, ": ", time.status().message()));
  e.time = *time;
  absl::StatusOr<Value> count = json::JsonValueField(entry, "count");
  if (!count.ok()) return Invalid("seed", absl::StrCat(where, ": ", count.status().message()));
  if (!count->is_null()) {
    if (count->type() != Value::Type::kInt) {
      return Invalid("seed", absl::StrCat(where, ": \"count\" must be an integer"));
    }
    e.count = count->int_value();
  }
  absl::StatusOr<Value> value = json::JsonValueField(entry, "value");
  if (!value.ok()) return Invalid("seed", absl::StrCat(where, ": ", value.status().message()));
  e.value = *std::move(value);
  return e;
}

absl::StatusOr<EngineInput> SeedFromJson(const json::JsonValue& object) {
  CAIRN_RETURN_IF_ERROR(json::CheckJsonKeys(
      object, {"subject", "subject_type", "behavior", "value", "history", "time"}));
  BehaviorSeed seed;
  CAIRN_ASSIGN_OR_RETURN(seed.subject_id, json::JsonStringField(object, "subject", true));
  CAIRN_ASSIGN_OR_RETURN(seed.subject_type, json::JsonStringField(object, "subject_type", false));
  CAIRN_ASSIGN_OR_RETURN(seed.behavior, json::JsonStringField(object, "behavior", true));
  CAIRN_ASSIGN_OR_RETURN(seed.value, json::JsonValueField(object, "value"));
  for (const auto& [key, history] : object.object) {
    if (key != "history") continue;
    if (history.type != json::JsonValue::Type::kArray) {
      return Invalid("seed", "\"history\" must be an array");
    }
    if (history.array.size() > static_cast<size_t>(kMaxBehaviorSeedEntries)) {
      return Invalid("seed", absl::StrCat("\"history\" holds more than ",
                                          kMaxBehaviorSeedEntries, " entries"));
    }
    for (size_t i = 0; i < history.array.size(); ++i) {
      CAIRN_ASSIGN_OR_RETURN(BehaviorSeedEntry entry, SeedEntryFromJson(history.array[i], i));
      seed.history.push_back(std::move(entry));
    }
  }
  CAIRN_ASSIGN_OR_RETURN(seed.time, json::JsonTimeField(object, "time"));
  return EngineInput(std::move(seed));
}

absl::Status MissingKey(absl::string_view kind) {
  return absl::InvalidArgumentError(
      absl::StrCat("the record has no key: a record of kind \"", kind,
                   "\" must be keyed by its subject id"));
}

absl::StatusOr<EngineInput> DecodeJson(absl::string_view key, absl::string_view payload) {
  CAIRN_ASSIGN_OR_RETURN(json::JsonValue object, json::ParseJsonObject(payload));
  std::string kind = "event";
  if (HasKey(object, "kind")) {
    CAIRN_ASSIGN_OR_RETURN(kind, json::JsonStringField(object, "kind", false));
    object.object.erase(
        std::find_if(object.object.begin(), object.object.end(),
                     [](const auto& entry) { return entry.first == "kind"; }));
  }
  absl::StatusOr<EngineInput> (*parse)(const json::JsonValue&) = nullptr;
  if (kind == "event") {
    parse = EventFromJson;
  } else if (kind == "profile") {
    parse = ProfileFromJson;
  } else if (kind == "enroll") {
    parse = EnrollFromJson;
  } else if (kind == "delivery") {
    parse = DeliveryFromJson;
  } else if (kind == "tick") {
    parse = TickFromJson;
  } else if (kind == "state") {
    parse = StateFromJson;
  } else if (kind == "seed") {
    parse = SeedFromJson;
  } else if (kind == "forget") {
    parse = ForgetFromJson;
  } else if (kind == "merge") {
    parse = MergeFromJson;
  } else if (kind == "deploy") {
    return absl::InvalidArgumentError(
        "a deploy record is written in the proto format only (`cairn deploy` writes it)");
  } else if (kind == "behaviors") {
    return absl::InvalidArgumentError(
        "a behaviors record is written in the proto format only (`cairn declare` writes it)");
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("\"kind\" ", Quote(kind), " is not one of ", kKinds));
  }
  if (kind != "tick" && kind != "state") {
    if (key.empty()) return MissingKey(kind);
    if (!HasKey(object, "subject")) {
      json::JsonValue subject;
      subject.type = json::JsonValue::Type::kString;
      subject.string = std::string(key);
      object.object.emplace_back("subject", std::move(subject));
    }
  }
  return parse(object);
}

// ---- Proto ----

absl::StatusOr<Attributes> AttributesFromProto(
    absl::string_view kind, absl::string_view what,
    const google::protobuf::Map<std::string, v1::Value>& map) {
  Attributes out;
  out.reserve(map.size());
  for (const auto& [name, proto] : map) {
    absl::StatusOr<Value> v = Value::FromProto(proto);
    if (!v.ok()) {
      return Invalid(kind, absl::StrCat(what, " ", Quote(name), ": ", v.status().message()));
    }
    out.emplace_back(name, *std::move(v));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

absl::Status AttributesToProto(absl::string_view kind, absl::string_view what,
                               const Attributes& attributes,
                               google::protobuf::Map<std::string, v1::Value>* map) {
  CAIRN_RETURN_IF_ERROR(CheckUniqueNames(kind, what, attributes));
  for (const auto& [name, value] : attributes) {
    if (value.is_null()) {
      return Invalid(kind, absl::StrCat(what, " ", Quote(name),
                                        ": a null value has no proto form"));
    }
    (*map)[name] = value.ToProto();
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> TimeFromProto(absl::string_view kind, bool has_time,
                                         const google::protobuf::Timestamp& proto) {
  if (!has_time) return absl::InfinitePast();  // ValidateInput names it
  absl::StatusOr<absl::Time> t = cairn::internal::TimeFromProto(proto);
  if (!t.ok()) return Invalid(kind, absl::StrCat("time: ", t.status().message()));
  return *t;
}

// The subject: the record's, or else the key.
std::string SubjectOrKey(const std::string& subject, absl::string_view key) {
  return subject.empty() ? std::string(key) : subject;
}

// An event record; its subject defaults to the record's key.
absl::StatusOr<EngineInput> EventFromProto(const v1::Event& p, absl::string_view key) {
  Event e;
  e.id = p.id();
  e.subject_id = SubjectOrKey(p.subject_id(), key);
  e.subject_type = p.subject_type();
  e.name = p.name();
  CAIRN_ASSIGN_OR_RETURN(e.time, TimeFromProto("event", p.has_time(), p.time()));
  CAIRN_ASSIGN_OR_RETURN(e.properties,
                         AttributesFromProto("event", "property", p.properties()));
  return EngineInput(std::move(e));
}

// A profile record; its subject defaults to the record's key. Removed
// attributes become nulls; one both set and removed, or removed twice, is
// refused.
absl::StatusOr<EngineInput> ProfileFromProto(const v1::ProfileUpdate& p, absl::string_view key) {
  ProfileUpdate u;
  u.subject_id = SubjectOrKey(p.subject_id(), key);
  u.subject_type = p.subject_type();
  CAIRN_ASSIGN_OR_RETURN(u.time, TimeFromProto("profile", p.has_time(), p.time()));
  CAIRN_ASSIGN_OR_RETURN(u.attributes,
                         AttributesFromProto("profile", "attribute", p.attributes()));
  absl::flat_hash_set<absl::string_view> removed;
  for (const std::string& name : p.removed()) {
    if (p.attributes().contains(name)) {
      return Invalid("profile",
                     absl::StrCat("attribute ", Quote(name), " is both set and removed"));
    }
    if (!removed.insert(name).second) {
      return Invalid("profile", absl::StrCat("attribute ", Quote(name), " is removed twice"));
    }
    u.attributes.emplace_back(name, Value());
  }
  std::sort(u.attributes.begin(), u.attributes.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return EngineInput(std::move(u));
}

// An enrollment record; its subject defaults to the record's key.
absl::StatusOr<EngineInput> EnrollmentFromProto(const v1::Enrollment& p, absl::string_view key) {
  EnrollRequest e;
  e.journey_id = p.journey_id();
  e.subject_id = SubjectOrKey(p.subject_id(), key);
  CAIRN_ASSIGN_OR_RETURN(e.time, TimeFromProto("enroll", p.has_time(), p.time()));
  CAIRN_ASSIGN_OR_RETURN(e.context, AttributesFromProto("enroll", "context", p.context()));
  return EngineInput(std::move(e));
}

// A delivery report, whose outcome must be set; its subject defaults to the
// record's key.
absl::StatusOr<EngineInput> DeliveryFromProto(const v1::DeliveryReport& p,
                                              absl::string_view key) {
  DeliveryReport d;
  d.message_id = p.message_id();
  switch (p.outcome()) {
    case v1::DELIVERY_OUTCOME_DELIVERED:
      d.outcome = DeliveryOutcome::kDelivered;
      break;
    case v1::DELIVERY_OUTCOME_FAILED:
      d.outcome = DeliveryOutcome::kFailed;
      break;
    case v1::DELIVERY_OUTCOME_UNSPECIFIED:
      return Invalid("delivery", "outcome is not set");
    default:
      return Invalid("delivery",
                     absl::StrCat("outcome ", static_cast<int>(p.outcome()),
                                  " is not DELIVERY_OUTCOME_DELIVERED or "
                                  "DELIVERY_OUTCOME_FAILED"));
  }
  d.reason = p.reason();
  d.subject_id = SubjectOrKey(p.subject_id(), key);
  CAIRN_ASSIGN_OR_RETURN(d.time, TimeFromProto("delivery", p.has_time(), p.time()));
  return EngineInput(std::move(d));
}

// A clock tick.
absl::StatusOr<EngineInput> ForgetFromProto(const v1::SubjectErasure& p, absl::string_view key) {
  SubjectErasure f;
  f.subject_id = SubjectOrKey(p.subject_id(), key);
  f.subject_type = p.subject_type();
  CAIRN_ASSIGN_OR_RETURN(f.time, TimeFromProto("forget", p.has_time(), p.time()));
  return EngineInput(std::move(f));
}

absl::StatusOr<EngineInput> MergeFromProto(const v1::SubjectMerge& p, absl::string_view key) {
  SubjectMerge m;
  m.from_subject_id = p.from_subject_id();
  m.subject_id = SubjectOrKey(p.subject_id(), key);
  m.subject_type = p.subject_type();
  CAIRN_ASSIGN_OR_RETURN(m.time, TimeFromProto("merge", p.has_time(), p.time()));
  return EngineInput(std::move(m));
}

absl::StatusOr<EngineInput> TickFromProto(const v1::ClockTick& p) {
  ClockTick t;
  CAIRN_ASSIGN_OR_RETURN(t.time, TimeFromProto("tick", p.has_time(), p.time()));
  return EngineInput(t);
}

// A journey deploy, its journey checked as a journey file is.
absl::StatusOr<EngineInput> DeployFromProto(const v1::JourneyDeploy& p) {
  if (!p.has_journey()) return Invalid("deploy", "journey is not set");
  // Parsing the journey again as a binary journey refuses fields this
  // build does not know, as loading a journey file does.
  absl::StatusOr<v1::Journey> journey =
      ParseJourney(p.journey().SerializeAsString(), JourneyFormat::kBinary);
  if (!journey.ok()) {
    return Invalid("deploy", absl::StrCat("journey: ", journey.status().message()));
  }
  JourneyDeploy d;
  d.journey = *std::move(journey);
  CAIRN_ASSIGN_OR_RETURN(d.time, TimeFromProto("deploy", p.has_time(), p.time()));
  return EngineInput(std::move(d));
}

// A journey state change to ACTIVE, PAUSED or STOPPED.
absl::StatusOr<EngineInput> StateFromProto(const v1::JourneyStateChange& p) {
  JourneyStateChange c;
  c.journey_id = p.journey_id();
  if (JourneyStateName(p.state()).empty()) {
    return Invalid("state", absl::StrCat("state ", static_cast<int>(p.state()),
                                         " is not ACTIVE, PAUSED or STOPPED"));
  }
  c.state = p.state();
  CAIRN_ASSIGN_OR_RETURN(c.time, TimeFromProto("state", p.has_time(), p.time()));
  return EngineInput(std::move(c));
}

// A behaviour seed; a missing entry count means 1.
absl::StatusOr<EngineInput> SeedFromProto(const v1::BehaviorSeed& p, absl::string_view key) {
  BehaviorSeed seed;
  seed.subject_id = SubjectOrKey(p.subject_id(), key);
  seed.subject_type = p.subject_type();
  seed.behavior = p.behavior();
  if (p.has_value()) {
    absl::StatusOr<Value> value = Value::FromProto(p.value());
    if (!value.ok()) return Invalid("seed", absl::StrCat("value: ", value.status().message()));
    seed.value = *std::move(value);
  }
  if (p.history_size() > kMaxBehaviorSeedEntries) {
    return Invalid("seed", absl::StrCat("history holds more than ", kMaxBehaviorSeedEntries,
                                        " entries"));
  }
  for (int i = 0; i < p.history_size(); ++i) {
    const v1::BehaviorSeedEntry& e = p.history(i);
    const std::string where = absl::StrCat("history[", i, "]");
    BehaviorSeedEntry entry;
    if (!e.has_time()) return Invalid("seed", absl::StrCat(where, ": time is not set"));
    CAIRN_ASSIGN_OR_RETURN(entry.time, TimeFromProto("seed", true, e.time()));
    entry.count = e.count() == 0 ? 1 : e.count();
    if (e.has_value()) {
      absl::StatusOr<Value> value = Value::FromProto(e.value());
      if (!value.ok()) {
        return Invalid("seed", absl::StrCat(where, ".value: ", value.status().message()));
      }
      entry.value = *std::move(value);
    }
    seed.history.push_back(std::move(entry));
  }
  CAIRN_ASSIGN_OR_RETURN(seed.time, TimeFromProto("seed", p.has_time(), p.time()));
  return EngineInput(std::move(seed));
}

// Behaviour declarations, checked as a behaviours file is (fields this
// build does not know are refused: they may change what a behaviour counts).
absl::StatusOr<EngineInput> BehaviorsFromProto(const v1::BehaviorDeclaration& p) {
  absl::StatusOr<v1::BehaviorSet> set =
      ParseBehaviorSet(p.behaviors().SerializeAsString(), JourneyFormat::kBinary);
  if (!set.ok()) return Invalid("behaviors", set.status().message());
  BehaviorDeclaration d;
  d.behaviors = *std::move(set);
  CAIRN_ASSIGN_OR_RETURN(d.time, TimeFromProto("behaviors", p.has_time(), p.time()));
  return EngineInput(std::move(d));
}

absl::StatusOr<EngineInput> DecodeProto(absl::string_view key, absl::string_view payload) {
  v1::InputRecord record;
  if (!record.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError("the payload is not a serialized cairn.v1.InputRecord");
  }
  if (record.kind_case() == v1::InputRecord::KIND_NOT_SET) {
    return absl::InvalidArgumentError(
        "the cairn.v1.InputRecord has no kind set: set one of event, profile, enroll, "
        "delivery, tick, deploy, state, seed, behaviors, forget, merge");
  }
  const bool broadcast = record.kind_case() == v1::InputRecord::kTick ||
                         record.kind_case() == v1::InputRecord::kDeploy ||
                         record.kind_case() == v1::InputRecord::kState ||
                         record.kind_case() == v1::InputRecord::kBehaviors;
  if (!broadcast && key.empty()) {
    switch (record.kind_case()) {
      case v1::InputRecord::kEvent:
        return MissingKey("event");
      case v1::InputRecord::kProfile:
        return MissingKey("profile");
      case v1::InputRecord::kEnroll:
        return MissingKey("enroll");
      case v1::InputRecord::kSeed:
        return MissingKey("seed");
      case v1::InputRecord::kForget:
        return MissingKey("forget");
      case v1::InputRecord::kMerge:
        return MissingKey("merge");
      default:
        return MissingKey("delivery");
    }
  }
  switch (record.kind_case()) {
    case v1::InputRecord::kEvent:
      return EventFromProto(record.event(), key);
    case v1::InputRecord::kProfile:
      return ProfileFromProto(record.profile(), key);
    case v1::InputRecord::kEnroll:
      return EnrollmentFromProto(record.enroll(), key);
    case v1::InputRecord::kDelivery:
      return DeliveryFromProto(record.delivery(), key);
    case v1::InputRecord::kTick:
      return TickFromProto(record.tick());
    case v1::InputRecord::kDeploy:
      return DeployFromProto(record.deploy());
    case v1::InputRecord::kState:
      return StateFromProto(record.state());
    case v1::InputRecord::kSeed:
      return SeedFromProto(record.seed(), key);
    case v1::InputRecord::kBehaviors:
      return BehaviorsFromProto(record.behaviors());
    case v1::InputRecord::kForget:
      return ForgetFromProto(record.forget(), key);
    case v1::InputRecord::kMerge:
      return MergeFromProto(record.merge(), key);
    case v1::InputRecord::KIND_NOT_SET:
      break;
  }
  return absl::InternalError("unreachable");
}

std::string SerializeDeterministic(const v1::InputRecord& record) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    record.SerializeToCodedStream(&coded);
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::JourneyState> JourneyStateFromName(absl::string_view name) {
  if (name == "active") return v1::ACTIVE;
  if (name == "paused") return v1::PAUSED;
  if (name == "stopped") return v1::STOPPED;
  return absl::InvalidArgumentError(absl::StrCat(
      "\"state\" ", Quote(name), " is not \"active\", \"paused\" or \"stopped\""));
}

absl::Status ValidateInput(const EngineInput& input) {
  const absl::string_view kind = InputKindName(input);
  CAIRN_RETURN_IF_ERROR(std::visit(
      Overloaded{
          [&](const Event& e) -> absl::Status {
            CAIRN_RETURN_IF_ERROR(CheckNotEmpty(kind, "subject_id", e.subject_id));
            return CheckNotEmpty(kind, "name", e.name);
          },
          [&](const ProfileUpdate& p) -> absl::Status {
            return CheckNotEmpty(kind, "subject_id", p.subject_id);
          },
          [&](const EnrollRequest& e) -> absl::Status {
            CAIRN_RETURN_IF_ERROR(CheckNotEmpty(kind, "journey_id", e.journey_id));
            return CheckNotEmpty(kind, "subject_id", e.subject_id);
          },
          [&](const DeliveryReport& d) -> absl::Status {
            return CheckNotEmpty(kind, "message_id", d.message_id);
          },
          [&](const ClockTick&) { return absl::OkStatus(); },
          [&](const JourneyDeploy& d) -> absl::Status {
            return CheckNotEmpty(kind, "journey.id", d.journey.id());
          },
          [&](const JourneyStateChange& c) -> absl::Status {
            CAIRN_RETURN_IF_ERROR(CheckNotEmpty(kind, "journey_id", c.journey_id));
            if (JourneyStateName(c.state).empty()) {
              return Invalid(kind, "state is not ACTIVE, PAUSED or STOPPED");
            }
            return absl::OkStatus();
          },
          [&](const BehaviorSeed& b) -> absl::Status {
            CAIRN_RETURN_IF_ERROR(CheckNotEmpty(kind, "subject_id", b.subject_id));
            CAIRN_RETURN_IF_ERROR(CheckNotEmpty(kind, "behavior", b.behavior));
            for (size_t i = 0; i < b.history.size(); ++i) {
              CAIRN_RETURN_IF_ERROR(
                  CheckTime(absl::StrCat(kind, " history[", i, "]"), b.history[i].time));
            }
            return absl::OkStatus();
          },
          [&](const BehaviorDeclaration&) { return absl::OkStatus(); },
          [&](const SubjectErasure& f) -> absl::Status {
            return CheckNotEmpty(kind, "subject_id", f.subject_id);
          },
          [&](const SubjectMerge& m) -> absl::Status {
            CAIRN_RETURN_IF_ERROR(CheckNotEmpty(kind, "from_subject_id", m.from_subject_id));
            return CheckNotEmpty(kind, "subject_id", m.subject_id);
          },
      },
      input));
  return CheckTime(kind, InputTime(input));
}

absl::StatusOr<EngineInput> DecodeRecord(absl::string_view key,
                                         absl::string_view format_header,
                                         absl::string_view payload) {
  absl::StatusOr<EngineInput> input;
  if (format_header == kJsonFormat) {
    input = DecodeJson(key, payload);
  } else if (format_header == kProtoFormat) {
    input = DecodeProto(key, payload);
  } else if (format_header.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the record has no header \"", kFormatHeader, "\" (\"json\" or \"proto\")"));
  } else {
    return absl::InvalidArgumentError(absl::StrCat("header \"", kFormatHeader, "\" is ",
                                                   Quote(format_header),
                                                   ": expected \"json\" or \"proto\""));
  }
  if (!input.ok()) return input.status();
  if (!IsBroadcast(*input) && InputSubject(*input) != key) {
    return absl::InvalidArgumentError(absl::StrCat("the record's key ", Quote(key),
                                                   " is not its subject ",
                                                   Quote(InputSubject(*input))));
  }
  CAIRN_RETURN_IF_ERROR(ValidateInput(*input));
  return input;
}

absl::StatusOr<std::string> EncodeJsonRecord(const EngineInput& input) {
  CAIRN_RETURN_IF_ERROR(ValidateInput(input));
  std::string out = "{";
  CAIRN_RETURN_IF_ERROR(std::visit(
      Overloaded{
          [&](const Event& e) -> absl::Status {
            if (!e.id.empty()) AppendField("id", e.id, &out);
            AppendField("subject", e.subject_id, &out);
            if (!e.subject_type.empty()) AppendField("subject_type", e.subject_type, &out);
            AppendField("name", e.name, &out);
            AppendTimeField(e.time, &out);
            if (!e.properties.empty()) {
              out.append(",\"properties\":");
              CAIRN_RETURN_IF_ERROR(
                  AppendJsonAttributes("event", "property", e.properties, &out));
            }
            return absl::OkStatus();
          },
          [&](const ProfileUpdate& p) -> absl::Status {
            AppendField("kind", "profile", &out);
            AppendField("subject", p.subject_id, &out);
            if (!p.subject_type.empty()) AppendField("subject_type", p.subject_type, &out);
            out.append(",\"attributes\":");
            CAIRN_RETURN_IF_ERROR(
                AppendJsonAttributes("profile", "attribute", p.attributes, &out));
            AppendTimeField(p.time, &out);
            return absl::OkStatus();
          },
          [&](const EnrollRequest& e) -> absl::Status {
            AppendField("kind", "enroll", &out);
            AppendField("journey", e.journey_id, &out);
            AppendField("subject", e.subject_id, &out);
            if (!e.context.empty()) {
              out.append(",\"context\":");
              CAIRN_RETURN_IF_ERROR(AppendJsonAttributes("enroll", "context", e.context, &out));
            }
            AppendTimeField(e.time, &out);
            return absl::OkStatus();
          },
          [&](const DeliveryReport& d) -> absl::Status {
            AppendField("kind", "delivery", &out);
            AppendField("message_id", d.message_id, &out);
            AppendField("outcome",
                        d.outcome == DeliveryOutcome::kDelivered ? "delivered" : "failed",
                        &out);
            if (!d.reason.empty()) AppendField("reason", d.reason, &out);
            if (!d.subject_id.empty()) AppendField("subject", d.subject_id, &out);
            AppendTimeField(d.time, &out);
            return absl::OkStatus();
          },
          [&](const ClockTick& t) -> absl::Status {
            AppendField("kind", "tick", &out);
            AppendTimeField(t.time, &out);
            return absl::OkStatus();
          },
          [&](const JourneyDeploy&) -> absl::Status {
            return Invalid("deploy", "a deploy record has no JSON form: use the proto format");
          },
          [&](const JourneyStateChange& c) -> absl::Status {
            AppendField("kind", "state", &out);
            AppendField("journey", c.journey_id, &out);
            AppendField("state", JourneyStateName(c.state), &out);
            AppendTimeField(c.time, &out);
            return absl::OkStatus();
          },
          [&](const BehaviorSeed& b) -> absl::Status {
            AppendField("kind", "seed", &out);
            AppendField("subject", b.subject_id, &out);
            if (!b.subject_type.empty()) AppendField("subject_type", b.subject_type, &out);
            AppendField("behavior", b.behavior, &out);
            if (!b.value.is_null()) {
              AppendKey("value", &out);
              CAIRN_RETURN_IF_ERROR(SeedJsonValue(b.value, "value", &out));
            }
            if (!b.history.empty()) {
              AppendKey("history", &out);
              out.push_back('[');
              for (size_t i = 0; i < b.history.size(); ++i) {
                const BehaviorSeedEntry& e = b.history[i];
                if (i > 0) out.push_back(',');
                out.push_back('{');
                AppendField("time", json::FormatEventTime(e.time), &out);
                AppendKey("count", &out);
                absl::StrAppend(&out, e.count);
                if (!e.value.is_null()) {
                  AppendKey("value", &out);
                  CAIRN_RETURN_IF_ERROR(
                      SeedJsonValue(e.value, absl::StrCat("history[", i, "].value"), &out));
                }
                out.push_back('}');
              }
              out.push_back(']');
            }
            AppendTimeField(b.time, &out);
            return absl::OkStatus();
          },
          [&](const BehaviorDeclaration&) -> absl::Status {
            return Invalid("behaviors",
                           "a behaviors record has no JSON form: use the proto format");
          },
          [&](const SubjectErasure& f) -> absl::Status {
            AppendField("kind", "forget", &out);
            AppendField("subject", f.subject_id, &out);
            if (!f.subject_type.empty()) AppendField("subject_type", f.subject_type, &out);
            AppendTimeField(f.time, &out);
            return absl::OkStatus();
          },
          [&](const SubjectMerge& m) -> absl::Status {
            AppendField("kind", "merge", &out);
            AppendField("from", m.from_subject_id, &out);
            AppendField("subject", m.subject_id, &out);
            if (!m.subject_type.empty()) AppendField("subject_type", m.subject_type, &out);
            AppendTimeField(m.time, &out);
            return absl::OkStatus();
          },
      },
      input));
  out.push_back('}');
  return out;
}

absl::StatusOr<std::string> EncodeProtoRecord(const EngineInput& input) {
  CAIRN_RETURN_IF_ERROR(ValidateInput(input));
  v1::InputRecord record;
  CAIRN_RETURN_IF_ERROR(std::visit(
      Overloaded{
          [&](const Event& e) -> absl::Status {
            v1::Event* p = record.mutable_event();
            p->set_id(e.id);
            p->set_subject_id(e.subject_id);
            p->set_subject_type(e.subject_type);
            p->set_name(e.name);
            *p->mutable_time() = cairn::internal::TimeToProto(e.time);
            return AttributesToProto("event", "property", e.properties,
                                     p->mutable_properties());
          },
          [&](const ProfileUpdate& u) -> absl::Status {
            v1::ProfileUpdate* p = record.mutable_profile();
            p->set_subject_id(u.subject_id);
            p->set_subject_type(u.subject_type);
            *p->mutable_time() = cairn::internal::TimeToProto(u.time);
            CAIRN_RETURN_IF_ERROR(CheckUniqueNames("profile", "attribute", u.attributes));
            for (const auto& [name, value] : u.attributes) {
              if (value.is_null()) {
                p->add_removed(name);
              } else {
                (*p->mutable_attributes())[name] = value.ToProto();
              }
            }
            return absl::OkStatus();
          },
          [&](const EnrollRequest& e) -> absl::Status {
            v1::Enrollment* p = record.mutable_enroll();
            p->set_journey_id(e.journey_id);
            p->set_subject_id(e.subject_id);
            *p->mutable_time() = cairn::internal::TimeToProto(e.time);
            return AttributesToProto("enroll", "context", e.context, p->mutable_context());
          },
          [&](const DeliveryReport& d) -> absl::Status {
            v1::DeliveryReport* p = record.mutable_delivery();
            p->set_message_id(d.message_id);
            p->set_outcome(d.outcome == DeliveryOutcome::kDelivered
                               ? v1::DELIVERY_OUTCOME_DELIVERED
                               : v1::DELIVERY_OUTCOME_FAILED);
            p->set_reason(d.reason);
            p->set_subject_id(d.subject_id);
            *p->mutable_time() = cairn::internal::TimeToProto(d.time);
            return absl::OkStatus();
          },
          [&](const ClockTick& t) -> absl::Status {
            *record.mutable_tick()->mutable_time() = cairn::internal::TimeToProto(t.time);
            return absl::OkStatus();
          },
          [&](const JourneyDeploy& d) -> absl::Status {
            *record.mutable_deploy()->mutable_journey() = d.journey;
            *record.mutable_deploy()->mutable_time() = cairn::internal::TimeToProto(d.time);
            return absl::OkStatus();
          },
          [&](const JourneyStateChange& c) -> absl::Status {
            v1::JourneyStateChange* p = record.mutable_state();
            p->set_journey_id(c.journey_id);
            p->set_state(c.state);
            *p->mutable_time() = cairn::internal::TimeToProto(c.time);
            return absl::OkStatus();
          },
          [&](const BehaviorSeed& b) -> absl::Status {
            v1::BehaviorSeed* p = record.mutable_seed();
            p->set_subject_id(b.subject_id);
            p->set_subject_type(b.subject_type);
            p->set_behavior(b.behavior);
            if (!b.value.is_null()) *p->mutable_value() = b.value.ToProto();
            for (const BehaviorSeedEntry& e : b.history) {
              if (e.count < 1) return Invalid("seed", "a history entry's count is below 1");
              v1::BehaviorSeedEntry* entry = p->add_history();
              *entry->mutable_time() = cairn::internal::TimeToProto(e.time);
              entry->set_count(e.count);
              if (!e.value.is_null()) *entry->mutable_value() = e.value.ToProto();
            }
            *p->mutable_time() = cairn::internal::TimeToProto(b.time);
            return absl::OkStatus();
          },
          [&](const SubjectMerge& m) -> absl::Status {
            v1::SubjectMerge* p = record.mutable_merge();
            p->set_from_subject_id(m.from_subject_id);
            p->set_subject_id(m.subject_id);
            p->set_subject_type(m.subject_type);
            *p->mutable_time() = cairn::internal::TimeToProto(m.time);
            return absl::OkStatus();
          },
          [&](const SubjectErasure& f) -> absl::Status {
            v1::SubjectErasure* p = record.mutable_forget();
            p->set_subject_id(f.subject_id);
            p->set_subject_type(f.subject_type);
            *p->mutable_time() = cairn::internal::TimeToProto(f.time);
            return absl::OkStatus();
          },
          [&](const BehaviorDeclaration& d) -> absl::Status {
            *record.mutable_behaviors()->mutable_behaviors() = d.behaviors;
            *record.mutable_behaviors()->mutable_time() = cairn::internal::TimeToProto(d.time);
            return absl::OkStatus();
          },
      },
      input));
  return SerializeDeterministic(record);
}

}  // namespace cairn::kafka
