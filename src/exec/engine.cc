// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The executor. Each input is validated, then time moves forward (firing due
// timers in order), then the input is applied. An enrollment advances node by
// node until it reaches a blocking node or exits; see docs/semantics.md for
// every rule implemented here.

#include "cairn/engine.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cairn/hash.h"
#include "cairn/journey_io.h"
#include "cairn/options.h"
#include "cairn/status_macros.h"
#include "cairn/v1/snapshot.pb.h"
#include "compile/journey_graph.h"
#include "exec/chunked_vector.h"
#include "exec/engine_state.h"
#include "exec/migration.h"
#include "exec/sent_messages.h"
#include "exec/stable_hasher.h"
#include "exec/subject_index.h"
#include "exec/variant.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "predicate/predicate.h"
#include "snapshot/record_io.h"
#include "timer/local_time.h"
#include "timer/timer_queue.h"
#include "util/proto_time.h"
#include "util/utf8.h"
#include "exec/engine_impl.h"
#include "exec/input_checks.h"

namespace cairn {

using internal::ActionCounters;
using internal::CompiledMatcher;
using internal::Enrollment;
using internal::GoalCounters;
using internal::GoalStats;
using internal::GoalTracker;
using internal::GraphNode;
using internal::JourneyEntry;
using internal::JourneyGraph;
using internal::JourneyHistory;
using internal::JourneyVersion;
using internal::StatFields;
using internal::kExitEdge;
using internal::PathRoot;
using internal::SentMessage;
using internal::SubjectState;

namespace {

constexpr absl::string_view kDefaultSubjectType = "user";

// Timer kinds.
constexpr uint8_t kNodeTimer = 0;     // target: enrollment slot
constexpr uint8_t kTrackerTimer = 1;  // target: goal tracker slot
constexpr uint8_t kSequenceTimer = 2; // target: pending sequence slot
constexpr uint8_t kProgressTimer = 3;  // target: subject; frees expired partial matches
static_assert(kProgressTimer <= internal::TimerQueue::kMaxKind, "timer kinds fit in two bits");

absl::string_view SubjectTypeOrDefault(absl::string_view type) {
  return type.empty() ? kDefaultSubjectType : type;
}

// Sorted-attribute helpers for profiles.
const Value* FindSorted(const Attributes& attrs, absl::string_view name) {
  auto it = std::lower_bound(
      attrs.begin(), attrs.end(), name,
      [](const auto& a, absl::string_view n) { return absl::string_view(a.first) < n; });
  return it != attrs.end() && it->first == name ? &it->second : nullptr;
}

void SetSorted(Attributes* attrs, absl::string_view name, Value value) {
  auto it = std::lower_bound(
      attrs->begin(), attrs->end(), name,
      [](const auto& a, absl::string_view n) { return absl::string_view(a.first) < n; });
  if (it != attrs->end() && it->first == name) {
    if (value.is_null()) {
      attrs->erase(it);
    } else {
      it->second = std::move(value);
    }
  } else if (!value.is_null()) {
    attrs->insert(it, {std::string(name), std::move(value)});
  }
}

// Whether `graph` reads entry.`name` anywhere.
bool ReadsEntry(const JourneyGraph& graph, absl::string_view name) {
  return std::binary_search(
      graph.entry_keys.begin(), graph.entry_keys.end(), name,
      [](absl::string_view a, absl::string_view b) { return a < b; });
}

// The part of `source` that `graph` can read as entry.*, in source order.
Attributes EntryContext(const JourneyGraph& graph, const Attributes& source) {
  Attributes kept;
  if (graph.entry_keys.empty()) return kept;
  for (const auto& property : source) {
    if (ReadsEntry(graph, property.first)) kept.push_back(property);
  }
  return kept;
}

// Adds one to the count of `reason`, looked up by string_view: operator[]
// builds a std::string key on every call, and every enrollment exit counts
// two reasons (about 8% of a timer fire in BM_TimerFires).
//
// Reasons also come from hosts (a sink's failure reason, a delivery
// report's): a counter keeps at most kMaxReasonsPerCounter distinct ones and
// counts any further new reason as "(other)", so that a host passing, say,
// a provider's message text cannot grow a report without bound.
constexpr size_t kMaxReasonsPerCounter = 1000;

// The longest failure reason a sink may give that is counted as it is.
constexpr size_t kMaxSinkReasonBytes = 256;

void CountReason(internal::ReasonCounts* counts, absl::string_view reason) {
  auto it = counts->find(reason);
  if (it == counts->end()) {
    if (counts->size() >= kMaxReasonsPerCounter) reason = "(other)";
    it = counts->try_emplace(std::string(reason), 0).first;
  }
  ++it->second;
}

// Renders a value into a template: strings raw, lists comma-separated.
std::string RenderValue(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return "";
    case Value::Type::kString:
      return v.string_value();
    case Value::Type::kStringList: {
      std::string out;
      for (const std::string& s : v.string_list_value()) {
        if (!out.empty()) out += ",";
        out += s;
      }
      return out;
    }
    default:
      return v.DebugString();
  }
}

// What predicates and templates see during one step.
class StepBindings : public internal::Bindings {
 public:
  StepBindings(const Attributes* profile, const Event* event,
               const Attributes* entry)
      : profile_(profile), event_(event), entry_(entry) {}

  const Value* Find(PathRoot root, absl::string_view key) const override {
    switch (root) {
      case PathRoot::kProfile:
        return profile_ == nullptr ? nullptr : FindSorted(*profile_, key);
      case PathRoot::kEntry:
        return entry_ == nullptr ? nullptr : FindAttribute(*entry_, key);
      case PathRoot::kEvent:
        if (event_ == nullptr) return nullptr;
        if (const Value* builtin = Builtin(key)) return builtin;
        return FindAttribute(event_->properties, key);
    }
    return nullptr;
  }

 private:
  // The built-in event fields shadow properties of the same name.
  const Value* Builtin(absl::string_view key) const {
    if (key == "name") {
      builtin_ = Value::String(event_->name);
    } else if (key == "id") {
      builtin_ = Value::String(event_->id);
    } else if (key == "subject_id") {
      builtin_ = Value::String(event_->subject_id);
    } else if (key == "subject_type") {
      builtin_ = Value::String(std::string(SubjectTypeOrDefault(event_->subject_type)));
    } else if (key == "time") {
      builtin_ = Value::Timestamp(event_->time);
    } else {
      return nullptr;
    }
    return &builtin_;
  }

  const Attributes* profile_;
  const Event* event_;
  const Attributes* entry_;
  mutable Value builtin_;
};

// Renders a compiled template parameter into *out, replacing its contents;
// missing values render empty.
void RenderParam(const internal::CompiledParam& param, const internal::Bindings& b,
                 std::string* out) {
  out->clear();
  for (const internal::CompiledParam::Part& part : param.parts) {
    if (!part.path) {
      out->append(part.text);
    } else if (const Value* v = b.Find(part.path->root, part.path->key)) {
      out->append(RenderValue(*v));
    }
  }
}

}  // namespace

Engine::Impl::Impl(EngineOptions options)
    : options_(std::move(options)),
      now_(options_.start_time),
      holdout_seed_text_(absl::StrCat(options_.holdout_seed)) {
  for (const FrequencyCap& cap : options_.frequency_caps) {
    auto [it, inserted] = capped_channels_.try_emplace(
        cap.channel, static_cast<int32_t>(capped_channels_.size()), cap.window);
    if (!inserted) it->second.second = std::max(it->second.second, cap.window);
  }
}

absl::Status Engine::Impl::RegisterChannel(absl::string_view channel, ChannelSink* sink) {
  if (channel.empty()) return absl::InvalidArgumentError("channel name is empty");
  if (sink == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel ", channel, ": sink is null"));
  }
  if (!sinks_.emplace(std::string(channel), sink).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("channel ", channel, " already has a sink"));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::Deploy(const v1::Journey& journey) {
  absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled = Compile(journey);
  if (!compiled.ok()) return compiled.status();
  return Deploy(*std::move(compiled));
}

absl::Status Engine::Impl::DeployForRestore(const v1::Journey& journey) {
  if (!Fresh()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "DeployForRestore of journey ", internal::Escaped(journey.id()),
        " needs a fresh engine: it rebuilds a snapshot's versions before Restore, before "
        "any input; use Deploy"));
  }
  absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled = Compile(journey);
  if (!compiled.ok()) return compiled.status();
  return Deploy(*std::move(compiled), /*check_migration=*/false);
}

absl::Status Engine::Impl::Deploy(std::shared_ptr<const CompiledJourney> compiled,
                                  bool check_migration) {
  if (compiled == nullptr) return absl::InvalidArgumentError("Deploy: journey is null");
  const JourneyGraph& graph = compiled->graph();
  const v1::Journey& journey = compiled->definition();
  const std::string& id = journey.id();

  auto existing = journey_index_.find(id);
  if (existing != journey_index_.end()) {
    const JourneyEntry& entry = journeys_[existing->second];
    const int64_t latest = versions_[entry.versions.back()].compiled->version();
    if (journey.version() <= latest) {
      return absl::AlreadyExistsError(absl::StrCat(
          "journey ", id, ": version ", journey.version(),
          " is not newer than the deployed version ", latest));
    }
  }

  JourneyVersion v;
  v.sinks.resize(graph.channels.size());
  for (size_t c = 0; c < graph.channels.size(); ++c) {
    auto it = sinks_.find(graph.channels[c]);
    if (it == sinks_.end()) {
      // Name the first node that uses the channel.
      std::string node_id;
      for (const GraphNode& n : graph.nodes) {
        if (n.kind == NodeKind::kAction && n.channel == static_cast<int32_t>(c)) {
          node_id = n.id;
          break;
        }
      }
      return absl::FailedPreconditionError(absl::StrCat(
          "journey ", id, ", node ", node_id, ", field action.channel: channel \"",
          graph.channels[c], "\" has no registered sink; call RegisterChannel first"));
    }
    v.sinks[c] = it->second;
  }

  // An awaited send must stay known until its wait ends.
  for (const GraphNode& n : graph.nodes) {
    if (n.kind == NodeKind::kAction && n.def->action().has_await_delivery() &&
        n.duration > options_.delivery_report_window) {
      return absl::FailedPreconditionError(absl::StrCat(
          "journey ", id, ", node ", n.id, ", field action.await_delivery.timeout: ",
          internal::FormatDurationShort(n.duration),
          " is longer than the engine's delivery_report_window (",
          internal::FormatDurationShort(options_.delivery_report_window),
          "), after which the report could not be matched"));
    }
  }

  std::vector<uint32_t> moving;  // Enrollment slots a migration moves.
  if (existing != journey_index_.end() && journey.has_migration()) {
    // The graphs decide, never where enrollments are now: every engine
    // with these versions (each Kafka partition, each shard) must agree.
    if (check_migration) {
      CAIRN_RETURN_IF_ERROR(internal::CheckMigration(
          graph, SubjectTypeOrDefault(journey.settings().subject_type()),
          MigrationSources(existing->second), options_.quiet_hours));
    }
    CAIRN_RETURN_IF_ERROR(PlanMigration(journey, graph, existing->second, &moving));
  }

  // All checks passed: from here on nothing fails.
  uint32_t journey_slot;
  if (existing == journey_index_.end()) {
    journey_slot = static_cast<uint32_t>(journeys_.size());
    journeys_.push_back(JourneyEntry{id, journey.settings().state(), {}});
    journey_index_.emplace(id, journey_slot);
  } else {
    journey_slot = existing->second;
    journeys_[journey_slot].state = journey.settings().state();
  }
  v.graph = &graph;
  v.compiled = std::move(compiled);
  v.journey = journey_slot;
  v.subject_type =
      std::string(SubjectTypeOrDefault(journey.settings().subject_type()));
  v.version_text = absl::StrCat(journey.version());
  v.message_id_prefix =
      internal::StableHasher().Add(graph.definition.id()).Add(v.version_text);
  v.seed_text = absl::StrCat(journey.settings().split_seed());
  for (const std::string& name : graph.event_names) {
    v.global_event.push_back(InternEvent(name));
  }
  internal::VersionCounters& c = v.counters;
  c.nodes.resize(graph.nodes.size());
  c.actions.resize(graph.nodes.size());
  c.node_goals.resize(graph.nodes.size());
  c.journey_goals.resize(graph.goals.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    c.nodes[i].left.assign(graph.nodes[i].edges.size(), 0);
  }
  const uint32_t new_version = static_cast<uint32_t>(versions_.size());
  journeys_[journey_slot].versions.push_back(new_version);
  versions_.push_back(std::move(v));
  RebuildTriggerIndex();
  for (uint32_t slot : moving) Migrate(slot, new_version);
  return absl::OkStatus();
}

std::vector<internal::MigrationSource> Engine::Impl::MigrationSources(uint32_t journey_slot) const {
  const std::vector<uint32_t>& versions = journeys_[journey_slot].versions;
  size_t first = 0;
  for (size_t i = 1; i < versions.size(); ++i) {
    if (versions_[versions[i]].graph->definition.has_migration()) first = i;
  }
  std::vector<internal::MigrationSource> sources;
  for (size_t i = first; i < versions.size(); ++i) {
    const JourneyVersion& v = versions_[versions[i]];
    if (v.retired) continue;
    sources.push_back({v.graph, v.compiled->version(), v.subject_type});
  }
  return sources;
}

absl::Status Engine::Impl::PlanMigration(const v1::Journey& journey, const JourneyGraph& graph,
                                         uint32_t journey_slot, std::vector<uint32_t>* moving) {
  for (uint32_t slot = 0; slot < enrollments_.size(); ++slot) {
    const Enrollment& e = enrollments_[slot];
    if (!e.live || versions_[e.version].journey != journey_slot) continue;
    const JourneyVersion& from = versions_[e.version];
    const GraphNode& node = from.graph->nodes[e.node];
    auto to = graph.migration.find(node.id);
    if (from.graph->instance_key != graph.instance_key ||
        from.subject_type != SubjectTypeOrDefault(journey.settings().subject_type()) ||
        to == graph.migration.end() || graph.nodes[to->second].kind != node.kind) {
      moving->clear();
      return absl::InternalError(absl::StrCat(
          "journey ", journey.id(), ": version ", journey.version(),
          " passed the migration check, yet an enrollment at node \"", node.id,
          "\" of version ", from.compiled->version(), " cannot move; nothing was deployed"));
    }
    moving->push_back(slot);
  }
  return absl::OkStatus();
}

void Engine::Impl::Migrate(uint32_t slot, uint32_t to_version) {
  Enrollment& e = enrollments_[slot];
  JourneyVersion& from = versions_[e.version];
  const GraphNode& node = from.graph->nodes[e.node];
  internal::NodeCounters& c = from.counters.nodes[e.node];
  --c.current;
  CountReason(&c.exits, "migrated");
  CountReason(&from.counters.exits, "migrated");
  ++from.counters.exited;
  Trace(TraceStep::Kind::kExit, e, e.node, "migrated");

  JourneyVersion& to = versions_[to_version];
  const int32_t target = to.graph->migration.at(node.id);
  int32_t split_node = -1;
  int32_t variant = -1;
  if (e.split_node >= 0) {
    const GraphNode& split = from.graph->nodes[e.split_node];
    const std::string& name = split.def->split().variants(e.variant).name();
    auto it = to.graph->node_index.find(split.id);
    if (it != to.graph->node_index.end() &&
        to.graph->nodes[it->second].kind == NodeKind::kSplit) {
      const auto& variants = to.graph->nodes[it->second].def->split().variants();
      for (int i = 0; i < variants.size(); ++i) {
        if (variants[i].name() == name) {
          split_node = it->second;
          variant = i;
          break;
        }
      }
    }
  }
  e.version = to_version;
  e.split_node = split_node;
  e.variant = static_cast<int16_t>(variant);
  ++to.counters.entered;
  ++to.counters.migrated_in;
  Enter(slot, target);
  if (to.graph->nodes[target].kind == NodeKind::kGoal) {
    CountGoal(&to.counters.node_goals[target], to_version, split_node, variant,
              &GoalCounters::reached);
  }
}

absl::Status Engine::Impl::RetireVersion(absl::string_view journey_id, int64_t version) {
  auto it = journey_index_.find(journey_id);
  if (it == journey_index_.end()) return UnknownJourney(journey_id);
  const JourneyEntry& entry = journeys_[it->second];
  uint32_t index = 0;
  bool found = false;
  for (uint32_t v : entry.versions) {
    if (versions_[v].compiled->version() == version) {
      index = v;
      found = true;
    }
  }
  const std::string name = absl::StrCat("journey ", journey_id, " version ", version);
  if (!found) return absl::NotFoundError(absl::StrCat(name, " is not deployed"));
  if (index == entry.versions.back()) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " is the newest version; deploy a newer one first"));
  }
  JourneyVersion& v = versions_[index];
  if (v.retired) return absl::OkStatus();
  int64_t enrollments = 0, matches = 0, trackers = 0;
  for (const Enrollment& e : enrollments_) enrollments += e.live && e.version == index;
  for (const internal::PendingSequence& p : pending_) matches += p.live && p.version == index;
  for (const GoalTracker& t : trackers_) trackers += t.live && t.version == index;
  if (enrollments + matches + trackers > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        name, " is not empty: ", enrollments, " enrollments in flight, ", matches,
        " completed sequence matches waiting, ", trackers, " journey goals still measuring"));
  }
  v.retired = true;
  // Its sends that still await a report are forgotten now (counted as
  // unreported): the counters are final. (Awaited sends cannot be among
  // them: their enrollments would still be in flight.)
  messages_.RemoveIf([&](const SentMessage& m) {
    if (m.version != index) return false;
    if (!m.resolved) ++v.counters.actions[m.node].unreported;
    return true;
  });
  // Partial sequence matches can no longer lead anywhere: free them.
  for (internal::SubjectState& subject : subjects_) {
    auto& seqs = subject.sequences;
    seqs.erase(std::remove_if(seqs.begin(), seqs.end(),
                              [&](const internal::SequenceProgress& p) {
                                return p.version == index;
                              }),
               seqs.end());
    if (seqs.empty()) seqs.shrink_to_fit();
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::SetJourneyState(absl::string_view journey_id, v1::JourneyState state) {
  auto it = journey_index_.find(journey_id);
  if (it == journey_index_.end()) return UnknownJourney(journey_id);
  if (state != v1::ACTIVE && state != v1::PAUSED && state != v1::STOPPED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "journey ", journey_id, ": state must be ACTIVE, PAUSED or STOPPED"));
  }
  journeys_[it->second].state = state;
  if (state == v1::STOPPED) {
    for (uint32_t e = 0; e < enrollments_.size(); ++e) {
      if (enrollments_[e].live &&
          versions_[enrollments_[e].version].journey == it->second) {
        Exit(e, "journey_stopped");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::Ingest(const Event& event) {
  absl::Status valid = internal::CheckEvent(event, options_.max_input_bytes);
  if (!valid.ok()) {
    ++stats_.events_rejected;
    return valid;
  }
  CAIRN_RETURN_IF_ERROR(CheckTime(event.time, &stats_.events_rejected, "event"));
  const bool consent_event = !options_.opt_out_attribute.empty() &&
                             ((!options_.opt_out_event.empty() &&
                               event.name == options_.opt_out_event) ||
                              (!options_.opt_in_event.empty() &&
                               event.name == options_.opt_in_event));
  auto gid = event_index_.find(event.name);
  if (gid == event_index_.end() && !consent_event) {
    ApplyTime(event.time);
    ++stats_.events_ignored;
    return absl::OkStatus();
  }
  const absl::string_view type = SubjectTypeOrDefault(event.subject_type);
  // The subject's index entry, looked up below, is another likely cache
  // miss: start fetching it so that it overlaps the dedup ledger's. (No
  // subject type is added before that lookup: timers fired by ApplyTime
  // never add subjects.)
  const std::optional<uint32_t> type_number = SubjectTypeNumber(type);
  if (type_number) subject_index_.Prefetch(*type_number, event.subject_id);
  if (!event.id.empty() && options_.dedup_window > absl::ZeroDuration() &&
      IsDuplicate(type, event.subject_id, event.id, std::max(event.time, now_))) {
    ++stats_.events_rejected;
    ++stats_.events_duplicate;
    return absl::AlreadyExistsError(absl::StrCat(
        "event ", event.id, " of ", type, " ", event.subject_id,
        " was already applied within the dedup window"));
  }
  ApplyTime(event.time);
  ++stats_.events_applied;
  std::optional<uint32_t> subject =
      type_number ? subject_index_.Find(*type_number, event.subject_id) : std::nullopt;
  if (consent_event) {
    if (!subject) subject = InternSubject(type, event.subject_id);
    ApplyConsent(*subject, event, event.name == options_.opt_out_event);
  }
  if (gid == event_index_.end()) return absl::OkStatus();
  const int32_t event_id = gid->second;
  if (subject) ApplyToEnrollments(*subject, event_id, event);
  for (const TriggerListener& l : trigger_listeners_[event_id]) {
    const JourneyVersion& v = versions_[l.version];
    if (v.subject_type != type) continue;
    const GraphNode& trigger = v.graph->nodes[l.node];
    if (trigger.def->trigger().kind_case() == v1::Trigger::kSequence) {
      AdvanceSequence(l.version, l.node, type, &subject, event_id, event);
      continue;
    }
    // Profile predicates need the subject; an unknown one has no profile.
    const Attributes* profile = subject ? &subjects_[*subject].profile : nullptr;
    StepBindings bindings(profile, &event, nullptr);
    if (!trigger.matchers[0].where.Evaluate(bindings) ||
        !trigger.predicate.Evaluate(bindings)) {
      continue;
    }
    if (!subject) subject = InternSubject(type, event.subject_id);
    TryEnter(l.version, l.node, *subject, &event, event.properties);
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::Enroll(absl::string_view journey_id, absl::string_view subject_id,
                                  absl::Time time, const Attributes& context) {
  auto it = journey_index_.find(journey_id);
  if (it == journey_index_.end()) {
    ++stats_.enrollments_rejected;
    return UnknownJourney(journey_id);
  }
  if (subject_id.empty()) {
    ++stats_.enrollments_rejected;
    return absl::InvalidArgumentError(
        absl::StrCat("Enroll into journey ", journey_id, ": subject id is empty"));
  }
  if (absl::Status valid = internal::CheckEnrollment(journey_id, subject_id, context,
                                                     options_.max_input_bytes);
      !valid.ok()) {
    ++stats_.enrollments_rejected;
    return valid;
  }
  const uint32_t version = journeys_[it->second].versions.back();
  const JourneyGraph& graph = *versions_[version].graph;
  int32_t audience = -1;
  for (int32_t t : graph.triggers) {
    if (graph.nodes[t].def->trigger().kind_case() == v1::Trigger::kAudience) {
      audience = t;
      break;
    }
  }
  if (audience < 0) {
    ++stats_.enrollments_rejected;
    return absl::FailedPreconditionError(absl::StrCat(
        "journey ", journey_id, " has no audience trigger; subjects enter it "
        "through events only"));
  }
  CAIRN_RETURN_IF_ERROR(CheckTime(time, &stats_.enrollments_rejected, "enrollment"));
  ApplyTime(time);
  ++stats_.enrollments_applied;
  const uint32_t subject = InternSubject(versions_[version].subject_type, subject_id);
  TryEnter(version, audience, subject, nullptr, context);
  return absl::OkStatus();
}

absl::Status Engine::Impl::UpsertProfile(absl::string_view subject_id, const Attributes& attrs,
                                         absl::Time time, absl::string_view subject_type) {
  if (absl::Status valid = internal::CheckProfileUpdate(subject_id, subject_type, attrs,
                                                        options_.max_input_bytes);
      !valid.ok()) {
    ++stats_.profile_updates_rejected;
    return valid;
  }
  CAIRN_RETURN_IF_ERROR(
      CheckTime(time, &stats_.profile_updates_rejected, "profile update"));
  const absl::string_view type = SubjectTypeOrDefault(subject_type);
  if (absl::Status fits = CheckProfileLimits(type, subject_id, attrs); !fits.ok()) {
    ++stats_.profile_updates_rejected;
    ++stats_.limits_reached;
    return fits;
  }
  ApplyTime(time);
  ++stats_.profile_updates_applied;
  const uint32_t subject = InternSubject(type, subject_id);
  for (const auto& [name, value] : attrs) {
    SetSorted(&subjects_[subject].profile, name, value);
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReportDelivery(absl::string_view message_id, DeliveryOutcome outcome,
                                          absl::Time time, absl::string_view reason) {
  uint64_t key = 0;
  // Exactly the form Cairn writes: 16 lower-case hex digits (SimpleHexAtoi
  // alone would also take "0x", signs, spaces and upper case).
  const bool well_formed =
      message_id.size() == 16 &&
      std::all_of(message_id.begin(), message_id.end(),
                  [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  if (!well_formed || !absl::SimpleHexAtoi(message_id, &key)) {
    ++stats_.delivery_reports_rejected;
    return absl::NotFoundError(absl::StrCat(
        "delivery report: \"", internal::Escaped(message_id), "\" is not a Cairn message id"));
  }
  if (absl::Status valid =
          internal::CheckDeliveryReason(message_id, reason, options_.max_input_bytes);
      !valid.ok()) {
    ++stats_.delivery_reports_rejected;
    return valid;
  }
  CAIRN_RETURN_IF_ERROR(
      CheckTime(time, &stats_.delivery_reports_rejected, "delivery report"));
  // Judged at its own time: timers due by then fire first, since they may
  // send the message, or end its delivery wait. (So a report refused as
  // unknown or repeated still moves time, as any later input would; the
  // outcome never depends on which other inputs came before it.)
  ApplyTime(time);
  SentMessage* const found = messages_.Find(key);
  if (found == nullptr) {
    ++stats_.delivery_reports_rejected;
    return absl::NotFoundError(absl::StrCat(
        "delivery report: unknown message id ", message_id,
        " (never sent, or older than the delivery report window)"));
  }
  if (found->resolved) {
    ++stats_.delivery_reports_rejected;
    return absl::AlreadyExistsError(absl::StrCat(
        "delivery report: message ", message_id,
        " is already resolved (reported before, or its delivery wait timed out)"));
  }
  SentMessage& m = *found;
  ++stats_.delivery_reports_applied;
  m.resolved = true;
  ActionCounters& counters = versions_[m.version].counters.actions[m.node];
  const bool delivered = outcome == DeliveryOutcome::kDelivered;
  if (delivered) {
    ++counters.delivered;
  } else {
    CountReason(&counters.undelivered, reason.empty() ? "unspecified" : reason);
  }
  if (m.awaiting) {
    Enrollment& e = enrollments_[m.enrollment];
    if (e.live && e.generation == m.generation && AwaitingMessage(m.enrollment) == key) {
      const uint32_t slot = m.enrollment;
      FinishAction(slot, delivered);
      Run(slot, nullptr);
    }
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::AdvanceTo(absl::Time time) {
  if (time == absl::InfiniteFuture() || time == absl::InfinitePast()) {
    return absl::InvalidArgumentError(
        "advance: time must be finite (next_timer_time() is InfiniteFuture when no "
        "timer is pending)");
  }
  CAIRN_RETURN_IF_ERROR(internal::CheckInputTimeRange(time, "advance"));
  if (time > now_) ApplyTime(time);  // An earlier time is no input: not late.
  return absl::OkStatus();
}

EngineStats Engine::Impl::stats() const {
  EngineStats s = stats_;
  s.subjects = static_cast<int64_t>(subjects_.size());
  s.enrollments_in_flight = in_flight_;
  return s;
}

std::vector<std::string> Engine::Impl::journey_ids() const {
  std::vector<std::string> ids;
  for (const JourneyEntry& j : journeys_) ids.push_back(j.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool Engine::Impl::Fresh() const {
  return subjects_.empty() && enrollments_.empty() && timers_.size() == 0 &&
         stats_.events_applied == 0 && now_ == options_.start_time;
}

absl::Status Engine::Impl::UnknownJourney(absl::string_view id) {
  return absl::NotFoundError(
      absl::StrCat("journey ", internal::Escaped(id), " is not deployed"));
}

absl::Status Engine::Impl::CheckProfileLimits(absl::string_view type, absl::string_view id,
                                              const Attributes& attrs) const {
  static const Attributes* const kNoProfile = new Attributes();
  const Attributes* profile = kNoProfile;
  if (const std::optional<uint32_t> number = SubjectTypeNumber(type)) {
    if (const std::optional<uint32_t> slot = subject_index_.Find(*number, id)) {
      profile = &subjects_[*slot].profile;
    }
  }
  int64_t count = static_cast<int64_t>(profile->size());
  int64_t bytes = internal::TextBytes(*profile);
  // The last value given for a name is the one that stays. A short update
  // (the usual) finds repeats by looking ahead; a long one by a set.
  const bool short_update = attrs.size() <= 16;
  absl::flat_hash_set<absl::string_view> later;
  for (size_t i = attrs.size(); i-- > 0;) {
    const auto& [name, value] = attrs[i];
    const bool repeated =
        short_update
            ? std::any_of(attrs.begin() + i + 1, attrs.end(),
                          [&](const auto& other) { return other.first == attrs[i].first; })
            : !later.insert(name).second;
    if (repeated) continue;
    if (const Value* old = FindSorted(*profile, name)) {
      --count;
      bytes -= internal::TextBytes(name, *old);
    }
    if (!value.is_null()) {
      ++count;
      bytes += internal::TextBytes(name, value);
    }
  }
  const auto input = [&] { return absl::StrCat("UpsertProfile for ", internal::Escaped(id)); };
  if (count > options_.max_profile_attributes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        input(), ": the profile would hold ", count, " attributes, more than "
        "max_profile_attributes ", options_.max_profile_attributes));
  }
  if (bytes > options_.max_profile_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        input(), ": the profile would hold ", bytes, " bytes of text, more than "
        "max_profile_bytes ", options_.max_profile_bytes));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::CheckTime(absl::Time time, int64_t* rejected, absl::string_view what) {
  if (absl::Status s = internal::CheckInputTimeRange(time, what); !s.ok()) {
    ++*rejected;
    return s;
  }
  if (time > now_ && time - now_ > options_.max_input_lead) {
    ++*rejected;
    ++stats_.future_inputs;
    return absl::OutOfRangeError(absl::StrCat(
        what, " at ", internal::FormatTimeUtc(time), " is ",
        internal::FormatDurationShort(time - now_), " ahead of engine time ",
        internal::FormatTimeUtc(now_), ", beyond max_input_lead ",
        internal::FormatDurationShort(options_.max_input_lead),
        ": inputs may not move the clock that far; call AdvanceTo() with the host's "
        "clock first"));
  }
  if (time < now_ && now_ - time > options_.max_lateness) {
    ++*rejected;
    ++stats_.too_late_inputs;
    return absl::OutOfRangeError(absl::StrCat(
        what, " at ", internal::FormatTimeUtc(time), " is ",
        internal::FormatDurationShort(now_ - time), " older than engine time ",
        internal::FormatTimeUtc(now_), ", beyond max_lateness ",
        internal::FormatDurationShort(options_.max_lateness)));
  }
  return absl::OkStatus();
}

void Engine::Impl::ApplyTime(absl::Time time) {
  if (time < now_) {
    ++stats_.late_inputs;
    return;
  }
  FireTimersUntil(time);
  now_ = time;
  // `time`, not now_ read back: GCC stores the Time in two parts and then
  // reloads it whole, which stalls on every input.
  ForgetOldMessages(time);
}

bool Engine::Impl::IsDuplicate(absl::string_view type, absl::string_view subject,
                               absl::string_view id, absl::Time at) {
  const absl::Time horizon = at - options_.dedup_window;
  const uint64_t key = StableHash64({type, subject, id});
  // Looking up `key` and forgetting the oldest entry (usually out of the
  // window by now, in time-ordered input) each miss the cache in a large
  // table; fetching both at once overlaps the two waits.
  dedup_seen_.prefetch(key);
  if (!dedup_order_.empty()) dedup_seen_.prefetch(dedup_order_.front().second);
  auto seen = dedup_seen_.find(key);
  // Decided before anything is forgotten: a rejected duplicate changes
  // nothing but the counters.
  if (seen != dedup_seen_.end() && seen->second > horizon) return true;
  while (!dedup_order_.empty() && dedup_order_.front().first <= horizon) {
    auto it = dedup_seen_.find(dedup_order_.front().second);
    if (it != dedup_seen_.end() && it->second <= horizon) dedup_seen_.erase(it);
    dedup_order_.pop_front();
  }
  // Bounded by count too: past max_dedup_ids the oldest ids go early.
  while (!dedup_order_.empty() &&
         static_cast<int64_t>(dedup_seen_.size()) >= options_.max_dedup_ids) {
    auto it = dedup_seen_.find(dedup_order_.front().second);
    if (it != dedup_seen_.end() && it->second == dedup_order_.front().first) {
      dedup_seen_.erase(it);
      ++stats_.limits_reached;
    }
    dedup_order_.pop_front();
  }
  // A table that grew for a burst keeps its slots after the burst's ids
  // expire: give them back once it is three-quarters empty.
  if (dedup_seen_.capacity() > 4096 && dedup_seen_.size() * 4 < dedup_seen_.capacity()) {
    dedup_seen_.rehash(0);
    dedup_order_.shrink_to_fit();
  }
  dedup_seen_[key] = at;
  dedup_order_.emplace_back(at, key);
  return false;
}

int32_t Engine::Impl::InternEvent(const std::string& name) {
  auto [it, inserted] =
      event_index_.emplace(name, static_cast<int32_t>(trigger_listeners_.size()));
  if (inserted) trigger_listeners_.emplace_back();
  return it->second;
}

void Engine::Impl::RebuildTriggerIndex() {
  for (auto& listeners : trigger_listeners_) listeners.clear();
  for (const JourneyEntry& j : journeys_) {
    const uint32_t version = j.versions.back();
    const JourneyVersion& v = versions_[version];
    for (int32_t t : v.graph->triggers) {
      const GraphNode& n = v.graph->nodes[t];
      // Event triggers listen for their event; sequences for every step
      // and the absent event, once per distinct name.
      std::vector<int32_t> events;
      for (const CompiledMatcher& m : n.matchers) events.push_back(v.global_event[m.event]);
      if (n.absent) events.push_back(v.global_event[n.absent->event]);
      std::sort(events.begin(), events.end());
      events.erase(std::unique(events.begin(), events.end()), events.end());
      for (int32_t e : events) trigger_listeners_[e].push_back({version, t});
    }
  }
}

std::optional<uint32_t> Engine::Impl::SubjectTypeNumber(absl::string_view type) const {
  auto t = subject_type_numbers_.find(type);
  if (t == subject_type_numbers_.end()) return std::nullopt;
  return t->second;
}

uint32_t Engine::Impl::InternSubject(absl::string_view type, absl::string_view id) {
  const uint32_t type_number = InternSubjectType(type);
  if (std::optional<uint32_t> slot = subject_index_.Find(type_number, id)) return *slot;
  const uint32_t slot = static_cast<uint32_t>(subjects_.size());
  SubjectState& s = subjects_.emplace_back();
  s.type = type_number;
  s.id = std::string(id);
  subject_index_.Insert(slot);
  return slot;
}

uint32_t Engine::Impl::InternSubjectType(absl::string_view type) {
  auto [it, added] = subject_type_numbers_.try_emplace(
      type, static_cast<uint32_t>(subject_types_.size()));
  if (added) subject_types_.emplace_back(type);
  return it->second;
}

JourneyHistory& Engine::Impl::History(uint32_t subject, uint32_t journey, absl::string_view key) {
  if (JourneyHistory* found = FindHistory(subject, journey, key)) return *found;
  auto& h = subjects_[subject].history;
  h.push_back(internal::MakeJourneyHistory(journey, key));
  return h.back();
}

JourneyHistory* Engine::Impl::FindHistory(uint32_t subject, uint32_t journey, absl::string_view key) {
  for (JourneyHistory& entry : subjects_[subject].history) {
    if (entry.journey == journey && internal::KeyOf(entry) == key) return &entry;
  }
  return nullptr;
}

bool Engine::Impl::MakeRoomForInstance(uint32_t subject, uint32_t journey) {
  auto& all = subjects_[subject].history;
  int held = 0;
  auto oldest_idle = all.end();
  for (auto it = all.begin(); it != all.end(); ++it) {
    if (it->journey != journey) continue;
    ++held;
    if (oldest_idle == all.end() && it->active == 0) oldest_idle = it;
  }
  if (held < options_.max_instances_per_subject) return true;
  ++stats_.limits_reached;
  if (oldest_idle == all.end()) return false;
  all.erase(oldest_idle);
  return true;
}

std::optional<std::string> Engine::Impl::InstanceKey(const JourneyGraph& g,
                                                     const Attributes& context) {
  if (g.instance_key.empty()) return std::string();
  const Value* v = FindAttribute(context, g.instance_key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  return RenderValue(*v);
}

bool Engine::Impl::Matches(const CompiledMatcher& m, const JourneyVersion& v, int32_t event_id,
                           const internal::Bindings& bindings) const {
  if (m.event < 0 || v.global_event[m.event] != event_id) return false;
  if (m.same_key) {
    const std::string& key = v.graph->instance_key;
    const Value* theirs = bindings.Find(PathRoot::kEvent, key);
    const Value* ours = bindings.Find(PathRoot::kEntry, key);
    if (theirs == nullptr || ours == nullptr ||
        RenderValue(*theirs) != RenderValue(*ours)) {
      return false;
    }
  }
  return m.where.Evaluate(bindings);
}

void Engine::Impl::ApplyToEnrollments(uint32_t subject, int32_t event_id, const Event& event) {
  // Copied (inline, no allocation for the usual few) because visiting may
  // end enrollments.
  const absl::InlinedVector<uint32_t, 8> live(subjects_[subject].enrollments.begin(),
                                              subjects_[subject].enrollments.end());
  for (uint32_t slot : live) {
    Enrollment& e = enrollments_[slot];
    if (!e.live || e.subject != subject) continue;
    const JourneyVersion& v = versions_[e.version];
    StepBindings bindings(&subjects_[subject].profile, &event, &ContextOf(e));
    bool exited = false;
    for (const CompiledMatcher& m : v.graph->exit_on) {
      if (Matches(m, v, event_id, bindings)) {
        Exit(slot, absl::StrCat("exit_on:", event.name));
        exited = true;
        break;
      }
    }
    if (exited) continue;
    const GraphNode& node = v.graph->nodes[e.node];
    if (node.kind == NodeKind::kWait) {
      for (size_t b = 0; b < node.matchers.size(); ++b) {
        if (Matches(node.matchers[b], v, event_id, bindings)) {
          Leave(slot, static_cast<int>(b));
          Run(slot, &event);
          break;
        }
      }
    } else if (node.kind == NodeKind::kGoal) {
      if (Matches(node.matchers[0], v, event_id, bindings)) {
        CountGoal(&versions_[e.version].counters.node_goals[e.node], e.version,
                  e.split_node, e.variant, &GoalCounters::converted);
        Leave(slot, 0);
        Run(slot, &event);
      }
    }
  }
  const absl::InlinedVector<uint32_t, 8> trackers(subjects_[subject].trackers.begin(),
                                                  subjects_[subject].trackers.end());
  for (uint32_t t : trackers) {
    GoalTracker& tr = trackers_[t];
    if (!tr.live) continue;
    const JourneyVersion& v = versions_[tr.version];
    StepBindings bindings(&subjects_[subject].profile, &event, &tr.entry);
    if (Matches(v.graph->goals[tr.goal].conversion, v, event_id, bindings)) {
      ResolveTracker(t, &GoalCounters::converted);
    }
  }
}

void Engine::Impl::CountGoal(GoalStats* stats, uint32_t version, int32_t split_node,
                             int32_t variant, int64_t GoalCounters::*field) {
  ++(stats->overall.*field);
  VariantCounters(stats, version, split_node, variant).*field += 1;
}

GoalCounters& Engine::Impl::VariantCounters(GoalStats* stats, uint32_t version,
                                            int32_t split_node, int32_t variant) {
  std::pair<std::string, std::string> key;
  if (split_node >= 0) {
    const GraphNode& split = versions_[version].graph->nodes[split_node];
    key = {split.id, split.def->split().variants(variant).name()};
  }
  return stats->by_variant[key];
}

internal::SequenceProgress& Engine::Impl::Progress(uint32_t subject, uint32_t version, int32_t node) {
  std::vector<internal::SequenceProgress>& all = subjects_[subject].sequences;
  for (internal::SequenceProgress& p : all) {
    if (p.version == version && p.node == node) return p;
  }
  internal::SequenceProgress& p = all.emplace_back();
  p.version = version;
  p.node = node;
  p.starts.assign(versions_[version].graph->nodes[node].matchers.size(),
                  absl::InfinitePast());
  return p;
}

void Engine::Impl::AdvanceSequence(uint32_t version, int32_t node, absl::string_view type,
                                   std::optional<uint32_t>* subject, int32_t event_id,
                                   const Event& event) {
  const JourneyVersion& v = versions_[version];
  const GraphNode& trigger = v.graph->nodes[node];
  const Attributes* profile = *subject ? &subjects_[**subject].profile : nullptr;
  StepBindings bindings(profile, &event, nullptr);
  // The absent event cancels a completed match that waits for its silence.
  if (trigger.absent && *subject && Matches(*trigger.absent, v, event_id, bindings)) {
    internal::SequenceProgress& p = Progress(**subject, version, node);
    if (p.pending != internal::kNoSlot) {
      pending_[p.pending].live = false;
      ++pending_[p.pending].generation;
      free_pending_.push_back(p.pending);
      p.pending = internal::kNoSlot;
      ++versions_[version].counters.nodes[node].sequence_cancelled;
    }
  }
  const size_t n = trigger.matchers.size();
  if (*subject) ExpireProgress(**subject, version, node, trigger.duration);
  // Later steps first, so one event advances a match by one step only.
  for (size_t i = n; i-- > 0;) {
    if (!Matches(trigger.matchers[i], v, event_id, bindings)) continue;
    if (!*subject) *subject = InternSubject(type, event.subject_id);
    internal::SequenceProgress& p = Progress(**subject, version, node);
    if (i == 0) {
      p.starts[0] = now_;
      // Only what the journey reads: a product view's other properties
      // would be copied into every partial match for nothing.
      p.context = EntryContext(*v.graph, event.properties);
      // After this start's window has passed, free it even if the subject
      // never comes back. One housekeeping timer per subject at most: a
      // subject repeating the first step a million times must not queue
      // a million timers.
      if (!subjects_[**subject].progress_timer) {
        ScheduleProgressTimer(**subject, now_ + trigger.duration);
      }
    } else if (p.starts[i - 1] != absl::InfinitePast() &&
               now_ - p.starts[i - 1] <= trigger.duration) {
      p.starts[i] = p.starts[i - 1];
      // Later steps win. Replacing rather than appending keeps the context
      // as large as the distinct names of its steps, however often a
      // middle step repeats.
      for (const auto& property : event.properties) {
        const std::string& name = property.first;
        if (!ReadsEntry(*v.graph, name)) continue;
        p.context.erase(std::remove_if(p.context.begin(), p.context.end(),
                                       [&](const auto& nv) { return nv.first == name; }),
                        p.context.end());
        p.context.push_back(property);
      }
    } else {
      continue;
    }
    if (i + 1 == n) CompleteSequence(**subject, version, node, &p, &event);
  }
}

void Engine::Impl::ExpireProgress(uint32_t subject, uint32_t version, int32_t node,
                                  absl::Duration window) {
  std::vector<internal::SequenceProgress>& all = subjects_[subject].sequences;
  for (size_t i = 0; i < all.size(); ++i) {
    internal::SequenceProgress& p = all[i];
    if (p.version != version || p.node != node) continue;
    bool any = false;
    for (absl::Time& start : p.starts) {
      if (start != absl::InfinitePast() && now_ - start > window) {
        start = absl::InfinitePast();
      }
      any = any || start != absl::InfinitePast();
    }
    if (!any && p.pending == internal::kNoSlot) {
      all.erase(all.begin() + i);
      // Most subjects that start a sequence never finish it: give the
      // list's block back, or every one of them keeps it for good.
      if (all.empty()) all.shrink_to_fit();
    } else if (!any) {
      p.context.clear();
    }
    return;
  }
}

void Engine::Impl::ScheduleProgressTimer(uint32_t subject, absl::Time end) {
  const int64_t seconds = absl::ToUnixSeconds(end);
  const int64_t minute = seconds / 60 - (seconds % 60 < 0 ? 1 : 0);
  timers_.Schedule(absl::FromUnixSeconds((minute + 1) * 60), subject, 0, kProgressTimer);
  subjects_[subject].progress_timer = true;
}

void Engine::Impl::FireProgressTimer(uint32_t subject) {
  subjects_[subject].progress_timer = false;
  ExpireAllProgress(subject);
  absl::Time latest = absl::InfinitePast();
  for (const internal::SequenceProgress& p : subjects_[subject].sequences) {
    const absl::Duration window = versions_[p.version].graph->nodes[p.node].duration;
    for (absl::Time start : p.starts) {
      if (start != absl::InfinitePast()) latest = std::max(latest, start + window);
    }
  }
  if (latest != absl::InfinitePast()) ScheduleProgressTimer(subject, latest);
}

void Engine::Impl::ExpireAllProgress(uint32_t subject) {
  absl::InlinedVector<std::pair<uint32_t, int32_t>, 4> keys;
  for (const internal::SequenceProgress& p : subjects_[subject].sequences) {
    keys.emplace_back(p.version, p.node);
  }
  for (const auto& [version, node] : keys) {
    ExpireProgress(subject, version, node, versions_[version].graph->nodes[node].duration);
  }
}

void Engine::Impl::CompleteSequence(uint32_t subject, uint32_t version, int32_t node,
                                    internal::SequenceProgress* p, const Event* event) {
  Attributes context = std::move(p->context);
  p->context.clear();
  std::fill(p->starts.begin(), p->starts.end(), absl::InfinitePast());
  const GraphNode& trigger = versions_[version].graph->nodes[node];
  ++versions_[version].counters.nodes[node].sequence_completed;
  if (!trigger.absent) {
    TryEnter(version, node, subject, event, context);
    return;
  }
  if (p->pending != internal::kNoSlot) return;  // Already waiting: one entry.
  const uint32_t slot = AllocateSlot(&pending_, &free_pending_);
  internal::PendingSequence& pending = pending_[slot];
  pending.live = true;
  pending.subject = subject;
  pending.version = version;
  pending.node = node;
  pending.context = std::move(context);
  p->pending = slot;
  timers_.Schedule(now_ + trigger.absent_within, slot, pending.generation,
                   kSequenceTimer);
}

void Engine::Impl::FireSequence(uint32_t slot) {
  internal::PendingSequence pending = std::move(pending_[slot]);
  pending_[slot].live = false;
  pending_[slot].context.clear();
  ++pending_[slot].generation;
  free_pending_.push_back(slot);
  Progress(pending.subject, pending.version, pending.node).pending = internal::kNoSlot;
  JourneyVersion& v = versions_[pending.version];
  ExpireProgress(pending.subject, pending.version, pending.node,
                 v.graph->nodes[pending.node].duration);
  if (journeys_[v.journey].versions.back() != pending.version) {
    CountReason(&v.counters.entries_refused, "superseded_by_new_version");
    return;
  }
  TryEnter(pending.version, pending.node, pending.subject, nullptr, pending.context);
}

void Engine::Impl::TryEnter(uint32_t version, int32_t trigger, uint32_t subject,
                            const Event* event, const Attributes& context) {
  JourneyVersion& v = versions_[version];
  const JourneyEntry& journey = journeys_[v.journey];
  const v1::JourneySettings& settings = v.graph->definition.settings();
  auto refuse = [&](absl::string_view reason) {
    CountReason(&v.counters.entries_refused, reason);
  };
  if (journey.state == v1::PAUSED) return refuse("journey_paused");
  if (journey.state == v1::STOPPED) return refuse("journey_stopped");
  if (settings.has_active_window()) {
    const auto& w = settings.active_window();
    if ((w.has_start() && now_ < *internal::TimeFromProto(w.start())) ||
        (w.has_end() && now_ >= *internal::TimeFromProto(w.end()))) {
      return refuse("outside_active_window");
    }
  }
  const std::optional<std::string> key = InstanceKey(*v.graph, context);
  if (!key) return refuse("missing_instance_key");
  if (!key->empty() && FindHistory(subject, v.journey, *key) == nullptr &&
      !MakeRoomForInstance(subject, v.journey)) {
    return refuse("instance_limit");
  }
  JourneyHistory& h = History(subject, v.journey, *key);
  const v1::ReentryPolicy& policy = settings.reentry();
  switch (settings.has_reentry() ? policy.mode() : v1::ReentryPolicy::NEVER) {
    case v1::ReentryPolicy::CONCURRENT:
      if (h.active >= static_cast<uint32_t>(policy.max_concurrent())) {
        return refuse("reentry_concurrent");
      }
      break;
    case v1::ReentryPolicy::AFTER_EXIT:
      if (h.active > 0) return refuse("reentry_active");
      if (h.entries > 0 &&
          now_ < internal::LastExit(h) + *internal::DurationFromProto(policy.cooldown())) {
        return refuse("reentry_cooldown");
      }
      break;
    default:
      if (h.entries > 0) return refuse("reentry_never");
      break;
  }
  ++h.entries;
  ++h.active;
  const uint32_t ordinal = h.entries;

  const uint32_t slot = AllocateEnrollment();
  Enrollment& e = enrollments_[slot];
  e.live = true;
  e.subject = subject;
  e.version = version;
  e.node = -1;
  e.ordinal = ordinal;
  e.visits = 0;
  e.split_node = -1;
  e.variant = -1;
  e.awaiting = false;
  Attributes kept = EntryContext(*v.graph, context);
  e.context = kept.empty() ? nullptr : std::make_unique<Attributes>(std::move(kept));
  e.uid = ++next_enrollment_uid_;
  subjects_[subject].enrollments.push_back(slot);
  ++v.counters.entered;
  ++in_flight_;
  for (uint32_t g = 0; g < v.graph->goals.size(); ++g) {
    const uint32_t t = AllocateTracker();
    GoalTracker& tr = trackers_[t];
    tr.live = true;
    tr.subject = subject;
    tr.version = version;
    tr.goal = g;
    tr.split_node = -1;
    tr.variant = -1;
    tr.enrollment_uid = enrollments_[slot].uid;
    tr.entry.clear();
    if (!v.graph->instance_key.empty()) {
      tr.entry.emplace_back(v.graph->instance_key, Value::String(*key));
    }
    ++v.counters.journey_goals[g].overall.reached;
    timers_.Schedule(now_ + v.graph->goals[g].window, t, tr.generation, kTrackerTimer);
    subjects_[subject].trackers.push_back(t);
  }
  Enter(slot, trigger);
  Run(slot, event);
}

void Engine::Impl::Trace(TraceStep::Kind kind, const Enrollment& e, int32_t node,
                         absl::string_view detail) {
  if (observer_ == nullptr) return;
  const JourneyVersion& v = versions_[e.version];
  TraceStep step;
  step.kind = kind;
  step.time = now_;
  step.journey_id = v.graph->definition.id();
  step.journey_version = v.compiled->version();
  step.subject_id = subjects_[e.subject].id;
  step.node_id = v.graph->nodes[node].id;
  step.detail = detail;
  observer_->OnStep(step);
}

void Engine::Impl::Enter(uint32_t slot, int32_t node) {
  Enrollment& e = enrollments_[slot];
  e.node = node;
  ++e.visits;
  internal::NodeCounters& c = versions_[e.version].counters.nodes[node];
  ++c.entered;
  ++c.current;
  Trace(TraceStep::Kind::kEnter, e, node, "");
}

void Engine::Impl::Leave(uint32_t slot, int edge) {
  Enrollment& e = enrollments_[slot];
  ++e.generation;
  StopAwaiting(slot);
  const GraphNode& node = versions_[e.version].graph->nodes[e.node];
  internal::NodeCounters& c = versions_[e.version].counters.nodes[e.node];
  ++c.left[edge];
  const internal::Edge& out = node.edges[edge];
  Trace(TraceStep::Kind::kLeave, e, e.node, out.label);
  if (out.target == kExitEdge) {
    Exit(slot, "completed");
    return;
  }
  --c.current;
  Enter(slot, out.target);
}

void Engine::Impl::Exit(uint32_t slot, absl::string_view reason) {
  Enrollment& e = enrollments_[slot];
  JourneyVersion& v = versions_[e.version];
  internal::NodeCounters& c = v.counters.nodes[e.node];
  --c.current;
  CountReason(&c.exits, reason);
  CountReason(&v.counters.exits, reason);
  ++v.counters.exited;
  --in_flight_;
  Trace(TraceStep::Kind::kExit, e, e.node, reason);
  std::string key;  // Empty for unkeyed journeys, without InstanceKey's copies.
  if (!v.graph->instance_key.empty()) key = InstanceKey(*v.graph, ContextOf(e)).value_or("");
  JourneyHistory& h = History(e.subject, v.journey, key);
  --h.active;
  internal::SetLastExit(&h, now_);
  internal::SlotList& list = subjects_[e.subject].enrollments;
  list.erase(std::find(list.begin(), list.end(), slot));
  e.live = false;
  ++e.generation;
  StopAwaiting(slot);
  e.context.reset();
  free_enrollments_.push_back(slot);
}

void Engine::Impl::ResolveTracker(uint32_t t, int64_t GoalCounters::*field) {
  GoalTracker& tr = trackers_[t];
  GoalStats& stats = versions_[tr.version].counters.journey_goals[tr.goal];
  ++(stats.overall.*field);
  // Per-variant counts are attributed when the goal resolves, to the most
  // recent split the enrollment had passed by then.
  GoalCounters& by_variant = VariantCounters(&stats, tr.version, tr.split_node, tr.variant);
  ++by_variant.reached;
  ++(by_variant.*field);
  tr.live = false;
  ++tr.generation;
  internal::SlotList& list = subjects_[tr.subject].trackers;
  list.erase(std::find(list.begin(), list.end(), t));
  // The enrollment, if still running, keeps the index; the uid check at
  // splits ignores it once the slot is reused.
  free_trackers_.push_back(t);
}

void Engine::Impl::Run(uint32_t slot, const Event* event) {
  int steps = 0;
  while (enrollments_[slot].live) {
    if (++steps > options_.max_steps_per_input) {
      Exit(slot, "step_limit");
      return;
    }
    Enrollment& e = enrollments_[slot];
    JourneyVersion& v = versions_[e.version];
    const GraphNode& node = v.graph->nodes[e.node];
    StepBindings bindings(&subjects_[e.subject].profile, event, &ContextOf(e));
    switch (node.kind) {
      case NodeKind::kTrigger:
        Leave(slot, 0);
        break;
      case NodeKind::kFilter:
        Leave(slot, node.predicate.Evaluate(bindings) ? 0 : 1);
        break;
      case NodeKind::kDelay:
        if (StartDelay(slot, bindings)) return;
        break;
      case NodeKind::kSplit: {
        const SubjectState& s = subjects_[e.subject];
        const int variant = internal::PickVariant(
            StableHash64({v.seed_text, v.graph->definition.id(), node.id, TypeOf(s), s.id}),
            node.cumulative_weights);
        e.split_node = e.node;
        e.variant = static_cast<int16_t>(variant);
        for (uint32_t t : subjects_[e.subject].trackers) {
          // The subject's live trackers that this enrollment started.
          if (trackers_[t].live && trackers_[t].enrollment_uid == e.uid) {
            trackers_[t].split_node = e.node;
            trackers_[t].variant = variant;
          }
        }
        Leave(slot, variant);
        break;
      }
      case NodeKind::kAction:
        if (SendAction(slot, bindings)) return;  // Awaiting delivery.
        break;
      case NodeKind::kWait:
        timers_.Schedule(now_ + node.duration, slot, e.generation, kNodeTimer);
        return;
      case NodeKind::kGoal:
        CountGoal(&v.counters.node_goals[e.node], e.version, e.split_node,
                  e.variant, &GoalCounters::reached);
        timers_.Schedule(now_ + node.duration, slot, e.generation, kNodeTimer);
        return;
      case NodeKind::kUpdate:
        ApplyUpdate(slot, bindings);
        Leave(slot, 0);
        break;
      case NodeKind::kExit: {
        const std::string& reason = node.def->exit().reason();
        Exit(slot, reason.empty() ? absl::string_view(node.id) : reason);
        return;
      }
    }
  }
}

bool Engine::Impl::HeldOut(const SubjectState& s) const {
  if (options_.holdout_percent <= 0) return false;
  const uint64_t h = StableHash64({"holdout", holdout_seed_text_, TypeOf(s), s.id});
  return static_cast<double>(h % 10000) < options_.holdout_percent * 100;
}

bool Engine::Impl::OptedOut(const SubjectState& s, absl::string_view channel) const {
  if (options_.opt_out_attribute.empty()) return false;
  const Value* list = FindSorted(s.profile, options_.opt_out_attribute);
  if (list == nullptr || list->type() != Value::Type::kStringList) return false;
  for (const std::string& c : list->string_list_value()) {
    if (c == channel || c == "all") return true;
  }
  return false;
}

void Engine::Impl::ApplyConsent(uint32_t subject, const Event& event, bool opt_out) {
  const Value* named = FindAttribute(event.properties, "channel");
  const std::string channel =
      named != nullptr && named->type() == Value::Type::kString ? named->string_value()
                                                                 : "all";
  Attributes& profile = subjects_[subject].profile;
  std::vector<std::string> list;
  if (const Value* v = FindSorted(profile, options_.opt_out_attribute);
      v != nullptr && v->type() == Value::Type::kStringList) {
    list = v->string_list_value();
  }
  list.erase(std::remove(list.begin(), list.end(), channel), list.end());
  if (opt_out) {
    if (static_cast<int>(list.size()) >= options_.max_opt_out_channels &&
        std::find(list.begin(), list.end(), "all") == list.end()) {
      // One channel too many to name: out of all of them, rather than
      // keep sending to someone who asked not to be contacted.
      ++stats_.limits_reached;
      list.assign({"all"});
    } else if (static_cast<int>(list.size()) < options_.max_opt_out_channels) {
      list.push_back(channel);
    }
  }
  SetSorted(&profile, options_.opt_out_attribute, Value::StringList(std::move(list)));
}

std::optional<absl::Time> Engine::Impl::QuietUntil(const Enrollment& e, absl::string_view channel) {
  std::optional<absl::Time> until;
  std::optional<absl::TimeZone> zone;  // Looked up once, if any rule applies.
  for (const QuietHours& q : options_.quiet_hours) {
    if (!q.channel.empty() && q.channel != channel) continue;
    if (!zone) zone = SubjectZone(e);
    const absl::TimeZone tz = *zone;
    const absl::CivilSecond local = absl::ToCivilSecond(now_, tz);
    const int minute = local.hour() * 60 + local.minute();
    const int start = q.start_hour * 60 + q.start_minute;
    const int end = q.end_hour * 60 + q.end_minute;
    const bool inside = start < end ? (minute >= start && minute < end)
                                    : (start > end && (minute >= start || minute < end));
    if (!inside) continue;
    const absl::Time t = internal::NextLocalTime(now_, tz, q.end_hour, q.end_minute, 0);
    if (!until || t > *until) until = t;
  }
  return until;
}

std::vector<absl::Time>* Engine::Impl::Ledger(uint32_t subject, absl::string_view channel, bool create) {
  if (capped_channels_.empty()) return nullptr;  // Spares hashing the channel.
  auto cap_window = capped_channels_.find(channel);
  if (cap_window == capped_channels_.end()) return nullptr;
  auto& ledgers = subjects_[subject].send_ledger;
  std::vector<absl::Time>* times = nullptr;
  for (auto& [id, t] : ledgers) {
    if (id == cap_window->second.first) times = &t;
  }
  if (times == nullptr) {
    if (!create) return nullptr;
    times = &ledgers.emplace_back(cap_window->second.first, std::vector<absl::Time>()).second;
  }
  const absl::Time horizon = now_ - cap_window->second.second;
  times->erase(times->begin(),
               std::upper_bound(times->begin(), times->end(), horizon));
  return times;
}

bool Engine::Impl::OverCap(uint32_t subject, absl::string_view channel) {
  std::vector<absl::Time>* times = Ledger(subject, channel, /*create=*/false);
  if (times == nullptr) return false;
  for (const FrequencyCap& cap : options_.frequency_caps) {
    if (cap.channel != channel) continue;
    const auto in_window = times->end() - std::upper_bound(times->begin(), times->end(),
                                                           now_ - cap.window);
    if (in_window >= cap.max_messages) return true;
  }
  return false;
}

void Engine::Impl::RecordSend(uint32_t subject, absl::string_view channel) {
  if (std::vector<absl::Time>* times = Ledger(subject, channel, /*create=*/true)) {
    times->push_back(now_);
  }
}

absl::TimeZone Engine::Impl::SubjectZone(const Enrollment& e) {
  const JourneyGraph& g = *versions_[e.version].graph;
  const Value* name = FindSorted(subjects_[e.subject].profile, g.time_zone_attribute);
  if (name == nullptr) return g.default_time_zone;
  if (name->type() == Value::Type::kString) {
    if (std::optional<absl::TimeZone> tz = zone_cache_.Find(name->string_value())) return *tz;
  }
  ++stats_.unknown_time_zones;
  return g.default_time_zone;
}

bool Engine::Impl::StartDelay(uint32_t slot, const internal::Bindings& bindings) {
  Enrollment& e = enrollments_[slot];
  const GraphNode& node = versions_[e.version].graph->nodes[e.node];
  const v1::Delay& delay = node.def->delay();
  absl::Time due = now_;
  switch (delay.kind_case()) {
    case v1::Delay::kUntilTimeOfDay:
      due = internal::NextLocalTime(now_, SubjectZone(e), node.hour, node.minute,
                                    node.weekday_mask);
      break;
    case v1::Delay::kRelative: {
      std::optional<absl::Time> base;
      if (const Value* v = bindings.Find(node.relative_path->root,
                                         node.relative_path->key)) {
        base = AsTime(*v);
      }
      if (!base) {
        Exit(slot, "delay_time_missing");
        return false;
      }
      due = *base + node.duration;
      // A time from a profile or event may lie anywhere; a timer must be
      // one the engine can hold (and a snapshot store exactly).
      if (due >= LatestInputTime() + internal::MaxJourneyDuration()) {
        Exit(slot, "delay_time_out_of_range");
        return false;
      }
      if (due <= now_ && delay.relative().if_past() == v1::RelativeDelay::EXIT) {
        Exit(slot, "delay_in_past");
        return false;
      }
      break;
    }
    default:
      due = now_ + node.duration;
      break;
  }
  if (due <= now_) {
    Leave(slot, 0);
    return false;
  }
  timers_.Schedule(due, slot, e.generation, kNodeTimer);
  return true;
}

std::optional<absl::Time> Engine::Impl::AsTime(const Value& v) {
  if (v.type() == Value::Type::kTimestamp) return v.timestamp_value();
  if (v.type() == Value::Type::kString) {
    absl::Time t;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, v.string_value(), &t, &error)) return t;
  }
  return std::nullopt;
}

bool Engine::Impl::SendAction(uint32_t slot, const internal::Bindings& bindings) {
  Enrollment& e = enrollments_[slot];
  JourneyVersion& v = versions_[e.version];
  const GraphNode& node = v.graph->nodes[e.node];
  const v1::Action& action = node.def->action();
  const SubjectState& s = subjects_[e.subject];
  ActionCounters& policy_counters = v.counters.actions[e.node];

  // Engine-wide policies, in this order (docs/semantics.md).
  if (HeldOut(s)) {
    CountReason(&policy_counters.suppressed, "holdout");
    FinishAction(slot, /*ok=*/true);
    return false;
  }
  if (OptedOut(s, action.channel())) {
    CountReason(&policy_counters.suppressed, "opted_out");
    FinishAction(slot, /*ok=*/false);
    return false;
  }
  if (std::optional<absl::Time> end = QuietUntil(e, action.channel())) {
    CountReason(&policy_counters.deferred, "quiet_hours");
    timers_.Schedule(*end, slot, e.generation, kNodeTimer);
    return true;
  }
  if (OverCap(e.subject, action.channel())) {
    CountReason(&policy_counters.suppressed, "frequency_cap");
    FinishAction(slot, /*ok=*/false);
    return false;
  }

  // Filled in place: the previous send's strings keep their buffers, so a
  // send allocates nothing here once they are long enough.
  Message& m = message_;
  // StableHash64({journey id, version, subject type, subject id, ordinal,
  // node id, visits}), continued from the version's hashed first two parts.
  // Keyed journeys add the key value, since ordinals count per key.
  internal::StableHasher hasher = v.message_id_prefix;
  hasher.Add(TypeOf(s))
      .Add(s.id)
      .Add(absl::AlphaNum(e.ordinal).Piece())
      .Add(node.id)
      .Add(absl::AlphaNum(e.visits).Piece());
  if (!v.graph->instance_key.empty()) {
    hasher.Add(InstanceKey(*v.graph, ContextOf(e)).value_or(""));
  }
  const uint64_t id = hasher.Finish();
  m.message_id.resize(16);
  internal::WriteHashHex(id, m.message_id.data());
  if (e.version != message_version_ || e.node != message_node_) {
    // What depends on the action node alone is copied only when it
    // changes: sends come in runs from one node (a delay's timers firing).
    m.journey_id = v.graph->definition.id();
    m.journey_version = v.compiled->version();
    m.node_id = node.id;
    m.channel = action.channel();
    m.template_id = action.template_id();
    m.params.resize(node.params.size());
    for (size_t i = 0; i < node.params.size(); ++i) m.params[i].first = node.params[i].key;
    message_version_ = e.version;
    message_node_ = e.node;
  }
  m.subject_id = s.id;
  m.subject_type = TypeOf(s);
  for (size_t i = 0; i < node.params.size(); ++i) {  // sorted by key
    RenderParam(node.params[i], bindings, &m.params[i].second);
  }
  m.time = now_;
  if (e.split_node >= 0) {
    m.variant = v.graph->nodes[e.split_node].def->split().variants(e.variant).name();
  } else {
    m.variant.clear();
  }
  m.awaits_delivery = action.has_await_delivery();

  const SendResult result = v.sinks[node.channel]->Send(m);
  ActionCounters& counters = v.counters.actions[e.node];
  if (!result.accepted) {
    ++stats_.messages_failed;
    if (result.failure_reason.empty()) {
      CountReason(&counters.failed, "unspecified");
    } else if (internal::IsValidUtf8(result.failure_reason) &&
               result.failure_reason.size() <= kMaxSinkReasonBytes) {
      CountReason(&counters.failed, result.failure_reason);
    } else {
      // A sink's reason is text from outside too: a report (and the
      // snapshot holding it) takes only valid UTF-8 of a sane length.
      CountReason(&counters.failed,
                  internal::Escaped(absl::string_view(result.failure_reason)
                                        .substr(0, kMaxSinkReasonBytes)));
    }
    FinishAction(slot, /*ok=*/false);
    return false;
  }
  ++stats_.messages_sent;
  ++counters.sent;
  RecordSend(e.subject, action.channel());
  RememberMessage(id, SentMessage{e.version, e.node, slot, e.generation,
                                  m.awaits_delivery, false});
  if (m.awaits_delivery) {
    e.awaiting = true;
    awaiting_messages_[slot] = id;
    timers_.Schedule(now_ + node.duration, slot, e.generation, kNodeTimer);
    return true;
  }
  FinishAction(slot, /*ok=*/true);
  return false;
}

void Engine::Impl::FinishAction(uint32_t slot, bool ok) {
  const Enrollment& e = enrollments_[slot];
  const GraphNode& node = versions_[e.version].graph->nodes[e.node];
  Leave(slot, !ok && node.edges.size() > 1 ? 1 : 0);
}

uint64_t Engine::Impl::AwaitingMessage(uint32_t slot) const {
  if (!enrollments_[slot].awaiting) return 0;
  auto it = awaiting_messages_.find(slot);
  return it == awaiting_messages_.end() ? 0 : it->second;
}

void Engine::Impl::StopAwaiting(uint32_t slot) {
  Enrollment& e = enrollments_[slot];
  if (!e.awaiting) return;
  e.awaiting = false;
  awaiting_messages_.erase(slot);
}

void Engine::Impl::RememberMessage(uint64_t id, const SentMessage& m) {
  ForgetOldMessages();
  messages_.Insert(id, now_, m);
}

void Engine::Impl::ForgetOldMessages(absl::Time now) {
  messages_.ForgetSentBefore(now - options_.delivery_report_window,
                             [&](const SentMessage& m) {
                               if (!m.resolved) {
                                 ++versions_[m.version].counters.actions[m.node].unreported;
                               }
                             });
}

void Engine::Impl::ApplyUpdate(uint32_t slot, const internal::Bindings& bindings) {
  Enrollment& e = enrollments_[slot];
  const JourneyVersion& v = versions_[e.version];
  const GraphNode& node = v.graph->nodes[e.node];
  const v1::Update& u = node.def->update();
  SubjectState& s = subjects_[e.subject];
  ProfileWrite write;
  write.subject_id = s.id;
  write.subject_type = TypeOf(s);
  write.journey_id = v.graph->definition.id();
  write.node_id = node.id;
  write.time = now_;
  // Values are read before any is written, so assignments see the profile
  // as it was when the enrollment arrived.
  for (int i = 0; i < u.assignments_size(); ++i) {
    const internal::CompiledOperand& operand = node.assignments[i];
    Value value = operand.literal;
    if (operand.path) {
      const Value* found = bindings.Find(operand.path->root, operand.path->key);
      value = found != nullptr ? *found : Value();
    }
    write.set.emplace_back(u.assignments(i).attribute(), std::move(value));
  }
  for (const auto& [name, value] : write.set) SetSorted(&s.profile, name, value);
  for (const std::string& name : u.unset()) {
    SetSorted(&s.profile, name, Value());
    write.unset.push_back(name);
  }
  if (u.add_tags_size() > 0 || u.remove_tags_size() > 0) {
    std::vector<std::string> tags;
    if (const Value* t = FindSorted(s.profile, "tags");
        t != nullptr && t->type() == Value::Type::kStringList) {
      tags = t->string_list_value();
    }
    for (const std::string& tag : u.add_tags()) {
      if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
      write.add_tags.push_back(tag);
    }
    for (const std::string& tag : u.remove_tags()) {
      tags.erase(std::remove(tags.begin(), tags.end(), tag), tags.end());
      write.remove_tags.push_back(tag);
    }
    SetSorted(&s.profile, "tags", Value::StringList(std::move(tags)));
  }
  if (profile_sink_ != nullptr) profile_sink_->Write(write);
}

void Engine::Impl::FireTimersUntil(absl::Time limit) {
  internal::Timer t;
  while (timers_.PopDue(limit, &t)) {
    if (t.due > now_) now_ = t.due;
    if (t.kind == kSequenceTimer) {
      if (pending_[t.target].live && pending_[t.target].generation == t.generation) {
        ++stats_.timers_fired;
        FireSequence(t.target);
      }
      continue;
    }
    if (t.kind == kProgressTimer) {
      FireProgressTimer(t.target);
      continue;
    }
    if (t.kind == kTrackerTimer) {
      if (trackers_[t.target].live && trackers_[t.target].generation == t.generation) {
        ++stats_.timers_fired;
        ResolveTracker(t.target, &GoalCounters::expired);
      }
      continue;
    }
    Enrollment& e = enrollments_[t.target];
    if (!e.live || e.generation != t.generation) continue;  // Cancelled.
    ++stats_.timers_fired;
    const uint32_t slot = t.target;
    JourneyVersion& v = versions_[e.version];
    const GraphNode& node = v.graph->nodes[e.node];
    switch (node.kind) {
      case NodeKind::kDelay:
        Leave(slot, 0);
        break;
      case NodeKind::kWait:  // Timeout: the edge after the branches.
        Leave(slot, static_cast<int>(node.edges.size()) - 1);
        break;
      case NodeKind::kGoal:
        CountGoal(&v.counters.node_goals[e.node], e.version, e.split_node,
                  e.variant, &GoalCounters::expired);
        Leave(slot, 1);
        break;
      case NodeKind::kAction: {
        if (!e.awaiting) break;  // Deferred by quiet hours: retry.
        // The delivery report did not come in time.
        SentMessage* const m = messages_.Find(AwaitingMessage(slot));
        if (m != nullptr) m->resolved = true;
        CountReason(&v.counters.actions[e.node].undelivered, "delivery_timeout");
        FinishAction(slot, /*ok=*/false);
        break;
      }
      default:
        continue;
    }
    Run(slot, nullptr);
  }
}

namespace {

void AddReasons(const internal::ReasonCounts& counts,
                google::protobuf::RepeatedPtrField<v1::ReasonCount>* out) {
  for (const auto& [reason, count] : counts) {
    v1::ReasonCount* rc = out->Add();
    rc->set_reason(reason);
    rc->set_count(count);
  }
}

void FillGoal(const GoalStats& stats, v1::GoalReport* out) {
  out->mutable_overall()->set_reached(stats.overall.reached);
  out->mutable_overall()->set_converted(stats.overall.converted);
  out->mutable_overall()->set_expired(stats.overall.expired);
  for (const auto& [key, c] : stats.by_variant) {
    v1::GoalCounts* g = out->add_by_variant();
    g->set_split_node_id(key.first);
    g->set_variant(key.second);
    g->set_reached(c.reached);
    g->set_converted(c.converted);
    g->set_expired(c.expired);
  }
}

}  // namespace

namespace {

// The counters of one version in the report's shape.
void FillVersionReport(const JourneyVersion& v, v1::VersionReport* vr) {
  const JourneyGraph& g = *v.graph;
  const internal::VersionCounters& c = v.counters;
  vr->set_version(v.compiled->version());
  vr->set_entered(c.entered);
  vr->set_exited(c.exited);
  vr->set_in_flight(c.entered - c.exited);
  vr->set_migrated_in(c.migrated_in);
  vr->set_retired(v.retired);
  AddReasons(c.exits, vr->mutable_exits());
  AddReasons(c.entries_refused, vr->mutable_entries_refused());
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const GraphNode& node = g.nodes[n];
    v1::NodeReport* nr = vr->add_nodes();
    nr->set_node_id(node.id);
    nr->set_kind(std::string(NodeKindName(node.kind)));
    nr->set_entered(c.nodes[n].entered);
    nr->set_current(c.nodes[n].current);
    for (size_t e = 0; e < node.edges.size(); ++e) {
      v1::EdgeCount* ec = nr->add_left();
      ec->set_label(node.edges[e].label);
      if (node.edges[e].target != kExitEdge) {
        ec->set_target(g.nodes[node.edges[e].target].id);
      }
      ec->set_count(c.nodes[n].left[e]);
    }
    AddReasons(c.nodes[n].exits, nr->mutable_exits());
    nr->set_sequence_completed(c.nodes[n].sequence_completed);
    nr->set_sequence_cancelled(c.nodes[n].sequence_cancelled);
    if (node.kind == NodeKind::kAction) {
      const ActionCounters& a = c.actions[n];
      v1::ActionReport* ar = vr->add_actions();
      ar->set_node_id(node.id);
      ar->set_channel(node.def->action().channel());
      ar->set_sent(a.sent);
      AddReasons(a.failed, ar->mutable_failed());
      ar->set_delivered(a.delivered);
      AddReasons(a.undelivered, ar->mutable_undelivered());
      AddReasons(a.suppressed, ar->mutable_suppressed());
      AddReasons(a.deferred, ar->mutable_deferred());
      ar->set_unreported(a.unreported);
      int64_t awaiting = a.sent - a.delivered - a.unreported;
      for (const auto& [reason, count] : a.undelivered) awaiting -= count;
      ar->set_awaiting_report(awaiting);
    } else if (node.kind == NodeKind::kGoal) {
      v1::GoalReport* gr = vr->add_goals();
      gr->set_name(node.id);
      FillGoal(c.node_goals[n], gr);
    }
  }
  for (size_t goal = 0; goal < g.goals.size(); ++goal) {
    v1::GoalReport* gr = vr->add_goals();
    gr->set_name(g.goals[goal].name);
    gr->set_journey_goal(true);
    FillGoal(c.journey_goals[goal], gr);
  }
}

// The inverse of FillVersionReport, for restoring snapshots.
void ReadVersionReport(const v1::VersionReport& vr, JourneyVersion* v) {
  const JourneyGraph& g = *v->graph;
  internal::VersionCounters& c = v->counters;
  auto read_reasons = [](const google::protobuf::RepeatedPtrField<v1::ReasonCount>& in,
                         internal::ReasonCounts* out) {
    out->clear();
    for (const v1::ReasonCount& r : in) (*out)[r.reason()] = r.count();
  };
  auto read_goal = [](const v1::GoalReport& in, GoalStats* out) {
    out->overall = GoalCounters{in.overall().reached(), in.overall().converted(),
                                in.overall().expired()};
    out->by_variant.clear();
    for (const v1::GoalCounts& gc : in.by_variant()) {
      out->by_variant[{gc.split_node_id(), gc.variant()}] =
          GoalCounters{gc.reached(), gc.converted(), gc.expired()};
    }
  };
  c.entered = vr.entered();
  c.exited = vr.exited();
  c.migrated_in = vr.migrated_in();
  v->retired = vr.retired();
  read_reasons(vr.exits(), &c.exits);
  read_reasons(vr.entries_refused(), &c.entries_refused);
  int action = 0, goal = 0;
  for (size_t n = 0; n < g.nodes.size() && static_cast<int>(n) < vr.nodes_size(); ++n) {
    const v1::NodeReport& nr = vr.nodes(static_cast<int>(n));
    internal::NodeCounters& nc = c.nodes[n];
    nc.entered = nr.entered();
    nc.current = nr.current();
    for (int e = 0; e < nr.left_size() && e < static_cast<int>(nc.left.size()); ++e) {
      nc.left[e] = nr.left(e).count();
    }
    read_reasons(nr.exits(), &nc.exits);
    nc.sequence_completed = nr.sequence_completed();
    nc.sequence_cancelled = nr.sequence_cancelled();
    if (g.nodes[n].kind == NodeKind::kAction && action < vr.actions_size()) {
      const v1::ActionReport& ar = vr.actions(action++);
      ActionCounters& a = c.actions[n];
      a.sent = ar.sent();
      a.delivered = ar.delivered();
      read_reasons(ar.failed(), &a.failed);
      read_reasons(ar.undelivered(), &a.undelivered);
      read_reasons(ar.suppressed(), &a.suppressed);
      read_reasons(ar.deferred(), &a.deferred);
      a.unreported = ar.unreported();
    } else if (g.nodes[n].kind == NodeKind::kGoal && goal < vr.goals_size()) {
      read_goal(vr.goals(goal++), &c.node_goals[n]);
    }
  }
  for (size_t j = 0; j < g.goals.size() && goal < vr.goals_size(); ++j) {
    read_goal(vr.goals(goal++), &c.journey_goals[j]);
  }
}

}  // namespace

absl::StatusOr<v1::JourneyReport> Engine::Impl::Report(
    absl::string_view journey_id) const {
  auto it = journey_index_.find(journey_id);
  if (it == journey_index_.end()) return UnknownJourney(journey_id);
  const JourneyEntry& j = journeys_[it->second];
  v1::JourneyReport report;
  report.set_journey_id(j.id);
  report.set_state(v1::JourneyState_Name(j.state));
  for (uint32_t index : j.versions) {
    FillVersionReport(versions_[index], report.add_versions());
  }
  return report;
}


// ---- Snapshots ----

namespace {

constexpr uint32_t kSnapshotFormat = 1;
constexpr size_t kFreeSlotsPerRecord = 4096;

int64_t Nanos(absl::Time t) {
  return t == absl::InfinitePast() ? INT64_MIN : absl::ToUnixNanos(t);
}

void WriteValues(const Attributes& attrs,
                 google::protobuf::RepeatedPtrField<v1::SnapshotNamedValue>* out) {
  for (const auto& [name, value] : attrs) {
    v1::SnapshotNamedValue* nv = out->Add();
    nv->set_name(name);
    if (!value.is_null()) *nv->mutable_value() = value.ToProto();
  }
}

absl::Status ReadValues(const google::protobuf::RepeatedPtrField<v1::SnapshotNamedValue>& in,
                        Attributes* out) {
  out->clear();
  for (const v1::SnapshotNamedValue& nv : in) {
    Value value;
    if (nv.has_value()) {
      absl::StatusOr<Value> v = Value::FromProto(nv.value());
      if (!v.ok()) return absl::DataLossError(absl::StrCat("snapshot: ", v.status().message()));
      value = *std::move(v);
    }
    out->emplace_back(nv.name(), std::move(value));
  }
  return absl::OkStatus();
}

// The largest count (a stat, a report counter, an enrollment id) a
// snapshot may hold: far more than any engine reaches (2^53 inputs at a
// million a second take 285 years), and far enough below INT64_MAX that the
// sums and differences restore checks and the running engine compute on
// restored counts cannot overflow.
constexpr int64_t kMaxRestoredCount = int64_t{1} << 53;

// Whether every int64 in `m` (a report: all counts) is in
// [0, kMaxRestoredCount].
bool CountsInRange(const google::protobuf::Message& m) {
  const google::protobuf::Reflection* reflection = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(m, &fields);
  for (const google::protobuf::FieldDescriptor* f : fields) {
    const int n = f->is_repeated() ? reflection->FieldSize(m, f) : 1;
    for (int i = 0; i < n; ++i) {
      if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_INT64) {
        const int64_t v = f->is_repeated() ? reflection->GetRepeatedInt64(m, f, i)
                                           : reflection->GetInt64(m, f);
        if (v < 0 || v > kMaxRestoredCount) return false;
      } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
        if (!CountsInRange(f->is_repeated() ? reflection->GetRepeatedMessage(m, f, i)
                                            : reflection->GetMessage(m, f))) {
          return false;
        }
      }
    }
  }
  return true;
}

// A time read from a snapshot, which must be one this engine could have
// stored: from EarliestInputTime() up to the longest journey duration past
// LatestInputTime() (a timer's due time), or, where `may_be_never`,
// INT64_MIN for "never". Anything else is a forgery, and the engine's
// arithmetic on it (a window's end, a minute bucket) could overflow.
bool ReadTime(int64_t nanos, bool may_be_never, absl::Time* out) {
  if (may_be_never && nanos == INT64_MIN) {
    *out = absl::InfinitePast();
    return true;
  }
  *out = absl::FromUnixNanos(nanos);
  return *out >= EarliestInputTime() &&
         *out < LatestInputTime() + internal::MaxJourneyDuration();
}

uint64_t DefinitionFingerprint(const v1::Journey& j) {
  absl::StatusOr<std::string> bytes = SerializeJourney(j, JourneyFormat::kBinary);
  return StableHash64({bytes.ok() ? *bytes : std::string()});
}

}  // namespace

uint64_t Engine::Impl::OptionsFingerprint() const {
  std::string text = absl::StrCat(
      absl::FormatDuration(options_.max_lateness), "|", absl::FormatDuration(options_.dedup_window),
      "|", absl::FormatDuration(options_.delivery_report_window), "|",
      options_.max_steps_per_input, "|", options_.opt_out_attribute, "|", options_.opt_out_event,
      "|", options_.opt_in_event, "|", options_.holdout_percent, "|", options_.holdout_seed);
  // Named only when not the default, so that snapshots written before these
  // options existed still restore into an engine that keeps the defaults.
  const EngineOptions defaults;
  if (options_.max_input_lead != defaults.max_input_lead) {
    absl::StrAppend(&text, "|lead:", absl::FormatDuration(options_.max_input_lead));
  }
  if (options_.max_input_bytes != defaults.max_input_bytes ||
      options_.max_profile_attributes != defaults.max_profile_attributes ||
      options_.max_profile_bytes != defaults.max_profile_bytes ||
      options_.max_opt_out_channels != defaults.max_opt_out_channels ||
      options_.max_instances_per_subject != defaults.max_instances_per_subject ||
      options_.max_dedup_ids != defaults.max_dedup_ids) {
    absl::StrAppend(&text, "|limits:", options_.max_input_bytes, ",",
                    options_.max_profile_attributes, ",", options_.max_profile_bytes, ",",
                    options_.max_opt_out_channels, ",", options_.max_instances_per_subject,
                    ",", options_.max_dedup_ids);
  }
  for (const FrequencyCap& c : options_.frequency_caps) {
    absl::StrAppend(&text, "|cap:", c.channel, ",", c.max_messages, ",",
                    absl::FormatDuration(c.window));
  }
  for (const QuietHours& q : options_.quiet_hours) {
    absl::StrAppend(&text, "|quiet:", q.channel, ",", q.start_hour, ":", q.start_minute, "-",
                    q.end_hour, ":", q.end_minute);
  }
  return StableHash64({text});
}

absl::Status Engine::Impl::Snapshot(std::ostream& out) const {
  internal::RecordWriter w(&out);
  v1::SnapshotRecord r;
  {
    v1::SnapshotHeader* h = r.mutable_header();
    h->set_format_version(kSnapshotFormat);
    h->set_options_fingerprint(OptionsFingerprint());
    for (const JourneyVersion& v : versions_) {
      v1::SnapshotDeployedVersion* d = h->add_versions();
      d->set_journey_id(v.graph->definition.id());
      d->set_version(v.compiled->version());
      d->set_definition_fingerprint(DefinitionFingerprint(v.graph->definition));
    }
    CAIRN_RETURN_IF_ERROR(w.Write(r));
  }
  {
    r.Clear();
    v1::SnapshotClock* c = r.mutable_clock();
    c->set_now_nanos(Nanos(now_));
    c->set_next_enrollment_uid(next_enrollment_uid_);
    // Timers are written in firing order, numbered from 0 (see below).
    c->set_next_timer_seq(timers_.size());
    c->set_in_flight(in_flight_);
    EngineStats stats = stats_;
    for (int64_t* f : StatFields(&stats)) c->add_stats(*f);
    CAIRN_RETURN_IF_ERROR(w.Write(r));
  }
  for (const JourneyEntry& j : journeys_) {
    r.Clear();
    r.mutable_journey()->set_journey_id(j.id);
    r.mutable_journey()->set_state(j.state);
    CAIRN_RETURN_IF_ERROR(w.Write(r));
  }
  for (size_t i = 0; i < versions_.size(); ++i) {
    r.Clear();
    r.mutable_counters()->set_version_index(static_cast<uint32_t>(i));
    FillVersionReport(versions_[i], r.mutable_counters()->mutable_report());
    CAIRN_RETURN_IF_ERROR(w.Write(r));
  }
  for (const SubjectState& subject : subjects_) {
    r.Clear();
    v1::SnapshotSubject* s = r.mutable_subject();
    s->set_type(TypeOf(subject));
    s->set_id(subject.id);
    WriteValues(subject.profile, s->mutable_profile());
    for (uint32_t e : subject.enrollments) s->add_enrollments(e);
    for (uint32_t t : subject.trackers) s->add_trackers(t);
    for (const JourneyHistory& h : subject.history) {
      v1::SnapshotHistory* sh = s->add_history();
      sh->set_journey(h.journey);
      sh->set_entries(h.entries);
      sh->set_active(h.active);
      sh->set_last_exit_nanos(Nanos(internal::LastExit(h)));
      if (h.key != nullptr) sh->set_key(*h.key);
    }
    for (const internal::SequenceProgress& p : subject.sequences) {
      v1::SnapshotSequence* sp = s->add_sequences();
      sp->set_version(p.version);
      sp->set_node(p.node);
      for (absl::Time t : p.starts) sp->add_starts_nanos(Nanos(t));
      WriteValues(p.context, sp->mutable_context());
      sp->set_pending(p.pending);
    }
    for (const auto& [channel, times] : subject.send_ledger) {
      v1::SnapshotLedger* l = s->add_ledgers();
      l->set_channel(channel);
      for (absl::Time t : times) l->add_sends_nanos(Nanos(t));
    }
    CAIRN_RETURN_IF_ERROR(w.Write(r));
  }
  for (uint32_t slot = 0; slot < enrollments_.size(); ++slot) {
    const Enrollment& e = enrollments_[slot];
    r.Clear();
    v1::SnapshotEnrollment* se = r.mutable_enrollment();
    se->set_live(e.live);
    se->set_generation(e.generation);
    se->set_uid(e.uid);
    se->set_subject(e.subject);
    se->set_version(e.version);
    se->set_node(e.node);
    se->set_ordinal(e.ordinal);
    se->set_visits(e.visits);
    se->set_split_node(e.split_node);
    se->set_variant(e.variant);
    se->set_awaiting_message(AwaitingMessage(slot));
    WriteValues(ContextOf(e), se->mutable_context());
    CAIRN_RETURN_IF_ERROR(w.Write(r));
  }
  for (const GoalTracker& t : trackers_) {
    r.Clear();
    v1::SnapshotTracker* st = r.mutable_tracker();
    st->set_live(t.live);
    st->set_generation(t.generation);
    st->set_subject(t.subject);
    st->set_version(t.version);
    st->set_goal(t.goal);
    st->set_enrollment_uid(t.enrollment_uid);
    st->set_split_node(t.split_node);
    st->set_variant(t.variant);
    WriteValues(t.entry, st->mutable_entry());
    CAIRN_RETURN_IF_ERROR(w.Write(r));
  }
  for (const internal::PendingSequence& p : pending_) {
    r.Clear();
    v1::SnapshotPendingSequence* sp = r.mutable_pending_sequence();
    sp->set_live(p.live);
    sp->set_generation(p.generation);
    sp->set_subject(p.subject);
    sp->set_version(p.version);
    sp->set_node(p.node);
    WriteValues(p.context, sp->mutable_context());
    CAIRN_RETURN_IF_ERROR(w.Write(r));
  }
  const std::pair<v1::SnapshotFreeSlots::Kind, const std::vector<uint32_t>*> free_lists[] = {
      {v1::SnapshotFreeSlots::ENROLLMENT, &free_enrollments_},
      {v1::SnapshotFreeSlots::TRACKER, &free_trackers_},
      {v1::SnapshotFreeSlots::PENDING_SEQUENCE, &free_pending_}};
  for (const auto& [kind, list] : free_lists) {
    for (size_t i = 0; i < list->size(); i += kFreeSlotsPerRecord) {
      r.Clear();
      r.mutable_free_slots()->set_kind(kind);
      for (size_t j = i; j < std::min(list->size(), i + kFreeSlotsPerRecord); ++j) {
        r.mutable_free_slots()->add_slots((*list)[j]);
      }
      CAIRN_RETURN_IF_ERROR(w.Write(r));
    }
  }
  // Timers in firing order, so a snapshot's bytes do not depend on how
  // buckets happened to be sorted; seq numbers that order from 0 (the queue
  // keeps no numbers: ties fire in the order they were scheduled).
  std::vector<internal::Timer> timers;
  timers.reserve(timers_.size());
  timers_.ForEach([&](const internal::Timer& t) { timers.push_back(t); });
  std::stable_sort(timers.begin(), timers.end(),
                   [](const internal::Timer& a, const internal::Timer& b) { return a.due < b.due; });
  uint64_t seq = 0;
  for (const internal::Timer& t : timers) {
    r.Clear();
    v1::SnapshotTimer* st = r.mutable_timer();
    st->set_due_nanos(Nanos(t.due));
    st->set_seq(seq++);
    st->set_target(t.target);
    st->set_generation(t.generation);
    st->set_kind(t.kind);
    CAIRN_RETURN_IF_ERROR(w.Write(r));
  }
  for (const auto& [at, key] : dedup_order_) {
    r.Clear();
    r.mutable_seen()->set_key(key);
    r.mutable_seen()->set_at_nanos(Nanos(at));
    CAIRN_RETURN_IF_ERROR(w.Write(r));
  }
  absl::Status written = absl::OkStatus();
  messages_.ForEach([&](uint64_t id, absl::Time sent, const SentMessage& m) {
    if (!written.ok()) return;
    r.Clear();
    v1::SnapshotMessage* sm = r.mutable_message();
    sm->set_id(id);
    sm->set_sent_nanos(Nanos(sent));
    sm->set_version(m.version);
    sm->set_node(m.node);
    sm->set_enrollment(m.enrollment);
    sm->set_generation(m.generation);
    sm->set_awaiting(m.awaiting);
    sm->set_resolved(m.resolved);
    written = w.Write(r);
  });
  CAIRN_RETURN_IF_ERROR(written);
  r.Clear();
  r.mutable_trailer()->set_records(w.records());
  CAIRN_RETURN_IF_ERROR(w.Write(r));
  out.flush();
  if (!out) return absl::DataLossError("snapshot: write failed");
  return absl::OkStatus();
}

void Engine::Impl::ResetToPristine() {
  now_ = options_.start_time;
  next_enrollment_uid_ = 0;
  in_flight_ = 0;
  // (Journey states, version counters and stats are put back by Restore,
  // which saved them before reading.)
  subjects_.clear();
  subject_index_.Clear();
  subject_types_.clear();
  subject_type_numbers_.clear();
  enrollments_.clear();
  awaiting_messages_.clear();
  free_enrollments_.clear();
  trackers_.clear();
  free_trackers_.clear();
  pending_.clear();
  free_pending_.clear();
  timers_ = internal::TimerQueue();
  dedup_seen_.clear();
  dedup_order_.clear();
  messages_.Clear();
}

absl::Status Engine::Impl::Restore(std::istream& in) {
  if (!Fresh()) {
    return absl::FailedPreconditionError(
        "Restore needs a fresh engine: create one, deploy the snapshot's journeys, then "
        "restore before any input");
  }
  // What a fresh engine may already hold (journey states set by the host,
  // counters of rejected inputs), put back if the restore fails.
  std::vector<v1::JourneyState> states;
  for (const JourneyEntry& j : journeys_) states.push_back(j.state);
  std::vector<std::pair<internal::VersionCounters, bool>> counters;
  for (const JourneyVersion& v : versions_) counters.emplace_back(v.counters, v.retired);
  const EngineStats stats = stats_;

  internal::RecordReader reader(&in);
  absl::Status status = RestoreRecords(&reader);
  if (!status.ok()) {
    ResetToPristine();  // Nothing half-restored survives.
    for (size_t j = 0; j < journeys_.size(); ++j) journeys_[j].state = states[j];
    for (size_t v = 0; v < versions_.size(); ++v) {
      versions_[v].counters = std::move(counters[v].first);
      versions_[v].retired = counters[v].second;
    }
    stats_ = stats;
  }
  return status;
}

// Every index a restored record holds must point where the live engine
// relies on it pointing: a checksum only proves the bytes are the ones
// written, not that a writer (or a fuzzer) wrote a consistent state.
absl::Status Engine::Impl::CheckRestoredState() const {
  auto bad = [](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("snapshot: ", what, " is out of range"));
  };
  auto node_ok = [&](uint32_t version, int32_t node, NodeKind kind) {
    return version < versions_.size() && node >= 0 &&
           static_cast<size_t>(node) < versions_[version].graph->nodes.size() &&
           versions_[version].graph->nodes[node].kind == kind;
  };
  auto split_ok = [&](uint32_t version, int32_t split, int32_t variant) {
    if (split == -1) return variant == -1;
    return node_ok(version, split, NodeKind::kSplit) && variant >= 0 &&
           variant < versions_[version].graph->nodes[split].def->split().variants_size();
  };
  auto is_sequence = [&](uint32_t version, int32_t node) {
    return node_ok(version, node, NodeKind::kTrigger) &&
           versions_[version].graph->nodes[node].def->trigger().has_sequence();
  };
  int64_t live = 0;
  for (uint32_t slot = 0; slot < enrollments_.size(); ++slot) {
    const Enrollment& e = enrollments_[slot];
    if (!e.live) continue;
    ++live;
    if (e.subject >= subjects_.size()) return bad("enrollment subject");
    // Ids are handed out by counting up: one at or past the next would be
    // handed out again.
    if (e.uid == 0 || e.uid > next_enrollment_uid_) return bad("enrollment id");
    // Counted up per node arrival and per entry into message ids: at the
    // top they would wrap and repeat an id already sent.
    if (e.visits == UINT32_MAX || e.ordinal == UINT32_MAX) return bad("enrollment visit count");
    // (The node index was checked when the record was read.)
    if (!split_ok(e.version, e.split_node, e.variant)) return bad("enrollment split");
    const internal::SlotList& list = subjects_[e.subject].enrollments;
    if (std::find(list.begin(), list.end(), slot) == list.end()) {
      return bad("enrollment's subject list");
    }
  }
  if (live != in_flight_) return bad("in-flight count");
  // Counters agree with the enrollments and with each other, as they do in
  // a running engine.
  std::vector<std::vector<int64_t>> at_node(versions_.size());
  for (size_t v = 0; v < versions_.size(); ++v) {
    at_node[v].assign(versions_[v].graph->nodes.size(), 0);
  }
  for (const Enrollment& e : enrollments_) {
    if (e.live) ++at_node[e.version][e.node];
  }
  // -1 for a negative count or a total past kMaxRestoredCount (which could
  // overflow below).
  auto sum = [](const internal::ReasonCounts& counts) {
    int64_t total = 0;
    for (const auto& [reason, count] : counts) {
      if (count < 0 || count > kMaxRestoredCount - total) return int64_t{-1};
      total += count;
    }
    return total;
  };
  for (size_t v = 0; v < versions_.size(); ++v) {
    const internal::VersionCounters& c = versions_[v].counters;
    int64_t in_version = 0;
    for (size_t n = 0; n < at_node[v].size(); ++n) {
      if (c.nodes[n].current != at_node[v][n] || c.nodes[n].entered < 0) {
        return bad("node counters");
      }
      in_version += at_node[v][n];
      const ActionCounters& a = c.actions[n];
      const int64_t undelivered = sum(a.undelivered);
      if (a.sent < 0 || a.delivered < 0 || a.unreported < 0 || undelivered < 0 ||
          sum(a.failed) < 0 || a.sent < a.delivered + undelivered + a.unreported) {
        return bad("action counters");
      }
    }
    if (c.exited < 0 || c.migrated_in < 0 || c.migrated_in > c.entered ||
        c.entered - c.exited != in_version || sum(c.exits) != c.exited) {
      return bad("version counters");
    }
  }
  for (const GoalTracker& t : trackers_) {
    if (!t.live) continue;
    if (t.subject >= subjects_.size()) return bad("tracker subject");
    if (t.enrollment_uid > next_enrollment_uid_) return bad("tracker's enrollment id");
    if (t.version >= versions_.size() || t.goal >= versions_[t.version].graph->goals.size()) {
      return bad("tracker goal");
    }
    if (!split_ok(t.version, t.split_node, t.variant)) return bad("tracker split");
  }
  for (const internal::PendingSequence& p : pending_) {
    if (!p.live) continue;
    if (p.subject >= subjects_.size() || !is_sequence(p.version, p.node)) {
      return bad("pending sequence");
    }
  }
  const size_t ledgers = capped_channels_.size();
  for (uint32_t i = 0; i < subjects_.size(); ++i) {
    const SubjectState& s = subjects_[i];
    for (uint32_t e : s.enrollments) {
      if (e >= enrollments_.size() || !enrollments_[e].live || enrollments_[e].subject != i) {
        return bad("subject's enrollment");
      }
    }
    for (uint32_t t : s.trackers) {
      if (t >= trackers_.size() || !trackers_[t].live || trackers_[t].subject != i) {
        return bad("subject's tracker");
      }
    }
    // Looked up by binary search, and written back in order.
    for (size_t a = 1; a < s.profile.size(); ++a) {
      if (!(s.profile[a - 1].first < s.profile[a].first)) {
        return absl::DataLossError(absl::StrCat(
            "snapshot: profile of subject ", i, " is not sorted by name, or repeats one"));
      }
    }
    for (const JourneyHistory& h : s.history) {
      if (h.journey >= journeys_.size()) return bad("history journey");
      // Entries number the next entry's message ids: they must not wrap.
      if (h.entries == UINT32_MAX || h.active > h.entries) return bad("history entry count");
    }
    for (const internal::SequenceProgress& p : s.sequences) {
      if (!is_sequence(p.version, p.node) ||
          p.starts.size() != versions_[p.version].graph->nodes[p.node].matchers.size()) {
        return bad("sequence progress");
      }
      if (p.pending != internal::kNoSlot &&
          (p.pending >= pending_.size() || !pending_[p.pending].live ||
           pending_[p.pending].subject != i)) {
        return bad("sequence's pending match");
      }
    }
    for (const auto& [channel, times] : s.send_ledger) {
      if (channel < 0 || static_cast<size_t>(channel) >= ledgers) return bad("send ledger");
    }
    if (s.type >= subject_types_.size()) return bad("subject type");
    if (subject_index_.Find(s.type, s.id) != i) return bad("subject (a repeated id)");
  }
  // Free slots: in range, not live, each once.
  auto free_ok = [](const std::vector<uint32_t>& free, size_t size, auto is_live) {
    std::vector<bool> seen(size, false);
    for (uint32_t slot : free) {
      if (slot >= size || seen[slot] || is_live(slot)) return false;
      seen[slot] = true;
    }
    return true;
  };
  if (!free_ok(free_enrollments_, enrollments_.size(),
               [&](uint32_t i) { return enrollments_[i].live; }) ||
      !free_ok(free_trackers_, trackers_.size(), [&](uint32_t i) { return trackers_[i].live; }) ||
      !free_ok(free_pending_, pending_.size(), [&](uint32_t i) { return pending_[i].live; })) {
    return bad("free slot");
  }
  // A remembered message still unreported is one of its action's sends
  // awaiting a report.
  std::map<std::pair<uint32_t, int32_t>, int64_t> unresolved;
  bool messages_ok = true;
  messages_.ForEach([&](uint64_t, absl::Time, const SentMessage& m) {
    if (!node_ok(m.version, m.node, NodeKind::kAction) || m.enrollment >= enrollments_.size()) {
      messages_ok = false;
    } else if (!m.resolved) {
      ++unresolved[{m.version, m.node}];
    }
  });
  if (!messages_ok) return bad("message");
  for (const auto& [where, count] : unresolved) {
    const ActionCounters& a = versions_[where.first].counters.actions[where.second];
    // (Every term is in [0, kMaxRestoredCount], checked above.)
    const int64_t awaiting = a.sent - a.delivered - a.unreported - sum(a.undelivered);
    if (count > awaiting) return bad("message (more unreported than its action sent)");
  }
  bool timers_ok = true;
  timers_.ForEach([&](const internal::Timer& t) {
    const size_t limit = t.kind == kNodeTimer       ? enrollments_.size()
                         : t.kind == kTrackerTimer  ? trackers_.size()
                         : t.kind == kSequenceTimer ? pending_.size()
                         : t.kind == kProgressTimer ? subjects_.size()
                                                    : 0;
    timers_ok = timers_ok && t.target < limit;
  });
  if (!timers_ok) return bad("timer target");
  return absl::OkStatus();
}

absl::Status Engine::Impl::RestoreRecords(internal::RecordReader* reader) {
  v1::SnapshotRecord r;
  CAIRN_ASSIGN_OR_RETURN(bool have, reader->Read(&r));
  if (!have || r.kind_case() != v1::SnapshotRecord::kHeader) {
    return absl::DataLossError("snapshot: does not start with a header");
  }
  const v1::SnapshotHeader& h = r.header();
  if (h.format_version() > kSnapshotFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot: format version ", h.format_version(), " is newer than this engine's (",
        kSnapshotFormat, ")"));
  }
  if (h.options_fingerprint() != OptionsFingerprint()) {
    return absl::FailedPreconditionError(
        "snapshot: taken with different EngineOptions (policies, windows or limits)");
  }
  for (int i = 0; i < h.versions_size(); ++i) {
    const v1::SnapshotDeployedVersion& d = h.versions(i);
    if (static_cast<size_t>(i) >= versions_.size() ||
        versions_[i].graph->definition.id() != d.journey_id() ||
        versions_[i].compiled->version() != d.version()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "snapshot: journey ", d.journey_id(), " version ", d.version(),
          " is not deployed (deploy the snapshot's journeys, in the same order, first)"));
    }
    if (DefinitionFingerprint(versions_[i].graph->definition) != d.definition_fingerprint()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "snapshot: journey ", d.journey_id(), " version ", d.version(),
          " is deployed with a different definition"));
    }
  }
  if (static_cast<size_t>(h.versions_size()) != versions_.size()) {
    return absl::FailedPreconditionError(
        "snapshot: the engine has journeys deployed that the snapshot does not know");
  }
  auto bad = [](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("snapshot: ", what, " is out of range"));
  };
  std::vector<std::pair<uint64_t, internal::Timer>> restored_timers;  // (seq, timer)
  while (true) {
    r.Clear();
    CAIRN_ASSIGN_OR_RETURN(bool more, reader->Read(&r));
    if (!more) return absl::DataLossError("snapshot: truncated (no trailer)");
    switch (r.kind_case()) {
      case v1::SnapshotRecord::kClock: {
        const v1::SnapshotClock& c = r.clock();
        if (!ReadTime(c.now_nanos(), false, &now_)) return bad("engine time");
        if (c.next_enrollment_uid() > static_cast<uint64_t>(kMaxRestoredCount)) {
          return bad("next enrollment id");
        }
        next_enrollment_uid_ = c.next_enrollment_uid();
        if (c.in_flight() < 0 || c.in_flight() > kMaxRestoredCount) {
          return bad("in-flight count");
        }
        in_flight_ = c.in_flight();
        std::vector<int64_t*> fields = StatFields(&stats_);
        for (int i = 0; i < c.stats_size() && i < static_cast<int>(fields.size()); ++i) {
          if (c.stats(i) < 0 || c.stats(i) > kMaxRestoredCount) return bad("engine stat");
          *fields[i] = c.stats(i);
        }
        break;
      }
      case v1::SnapshotRecord::kJourney: {
        auto it = journey_index_.find(r.journey().journey_id());
        if (it == journey_index_.end()) return bad("journey id");
        journeys_[it->second].state = r.journey().state();
        break;
      }
      case v1::SnapshotRecord::kCounters:
        if (r.counters().version_index() >= versions_.size()) return bad("version index");
        if (!CountsInRange(r.counters().report())) return bad("journey report count");
        ReadVersionReport(r.counters().report(), &versions_[r.counters().version_index()]);
        break;
      case v1::SnapshotRecord::kSubject: {
        const v1::SnapshotSubject& s = r.subject();
        const uint32_t slot = static_cast<uint32_t>(subjects_.size());
        SubjectState state;
        state.type = InternSubjectType(s.type());
        state.id = s.id();
        CAIRN_RETURN_IF_ERROR(ReadValues(s.profile(), &state.profile));
        state.enrollments.assign(s.enrollments().begin(), s.enrollments().end());
        state.trackers.assign(s.trackers().begin(), s.trackers().end());
        for (const v1::SnapshotHistory& sh : s.history()) {
          JourneyHistory h = internal::MakeJourneyHistory(sh.journey(), sh.key());
          h.entries = sh.entries();
          h.active = sh.active();
          absl::Time last_exit;
          if (!ReadTime(sh.last_exit_nanos(), true, &last_exit)) return bad("last exit time");
          internal::SetLastExit(&h, last_exit);
          state.history.push_back(std::move(h));
        }
        for (const v1::SnapshotSequence& sp : s.sequences()) {
          if (sp.version() >= versions_.size()) return bad("sequence version");
          internal::SequenceProgress p;
          p.version = sp.version();
          p.node = sp.node();
          for (int64_t n : sp.starts_nanos()) {
            if (!ReadTime(n, true, &p.starts.emplace_back())) return bad("sequence start time");
          }
          CAIRN_RETURN_IF_ERROR(ReadValues(sp.context(), &p.context));
          p.pending = sp.pending();
          state.sequences.push_back(std::move(p));
        }
        for (const v1::SnapshotLedger& l : s.ledgers()) {
          std::vector<absl::Time> times;
          for (int64_t n : l.sends_nanos()) {
            if (!ReadTime(n, false, &times.emplace_back())) return bad("send ledger time");
          }
          state.send_ledger.emplace_back(l.channel(), std::move(times));
        }
        subjects_.push_back(std::move(state));
        subject_index_.Insert(slot);  // A repeated id fails Validate.
        break;
      }
      case v1::SnapshotRecord::kEnrollment: {
        const v1::SnapshotEnrollment& se = r.enrollment();
        if (se.live() && (se.version() >= versions_.size() ||
                          se.node() < 0 ||
                          static_cast<size_t>(se.node()) >=
                              versions_[se.version()].graph->nodes.size())) {
          return bad("enrollment node");
        }
        Enrollment e;
        e.live = se.live();
        e.generation = se.generation();
        e.uid = se.uid();
        e.subject = se.subject();
        e.version = se.version();
        e.node = se.node();
        e.ordinal = se.ordinal();
        e.visits = se.visits();
        e.split_node = se.split_node();
        if (se.variant() < -1 || se.variant() >= internal::kMaxSplitVariants) {
          return bad("enrollment split");
        }
        e.variant = static_cast<int16_t>(se.variant());
        if (se.live() && se.awaiting_message() != 0) {
          e.awaiting = true;
          awaiting_messages_[static_cast<uint32_t>(enrollments_.size())] = se.awaiting_message();
        }
        Attributes context;
        CAIRN_RETURN_IF_ERROR(ReadValues(se.context(), &context));
        if (!context.empty()) e.context = std::make_unique<Attributes>(std::move(context));
        enrollments_.push_back(std::move(e));
        break;
      }
      case v1::SnapshotRecord::kTracker: {
        const v1::SnapshotTracker& st = r.tracker();
        if (st.live() && st.version() >= versions_.size()) return bad("tracker version");
        GoalTracker t;
        t.live = st.live();
        t.generation = st.generation();
        t.subject = st.subject();
        t.version = st.version();
        t.goal = st.goal();
        t.enrollment_uid = st.enrollment_uid();
        t.split_node = st.split_node();
        t.variant = st.variant();
        CAIRN_RETURN_IF_ERROR(ReadValues(st.entry(), &t.entry));
        trackers_.push_back(std::move(t));
        break;
      }
      case v1::SnapshotRecord::kPendingSequence: {
        const v1::SnapshotPendingSequence& sp = r.pending_sequence();
        internal::PendingSequence p;
        p.live = sp.live();
        p.generation = sp.generation();
        p.subject = sp.subject();
        p.version = sp.version();
        p.node = sp.node();
        CAIRN_RETURN_IF_ERROR(ReadValues(sp.context(), &p.context));
        pending_.push_back(std::move(p));
        break;
      }
      case v1::SnapshotRecord::kFreeSlots: {
        std::vector<uint32_t>* list =
            r.free_slots().kind() == v1::SnapshotFreeSlots::ENROLLMENT       ? &free_enrollments_
            : r.free_slots().kind() == v1::SnapshotFreeSlots::TRACKER        ? &free_trackers_
            : r.free_slots().kind() == v1::SnapshotFreeSlots::PENDING_SEQUENCE ? &free_pending_
                                                                               : nullptr;
        if (list == nullptr) return bad("free-slot kind");
        list->insert(list->end(), r.free_slots().slots().begin(), r.free_slots().slots().end());
        break;
      }
      case v1::SnapshotRecord::kTimer: {
        const v1::SnapshotTimer& st = r.timer();
        if (st.kind() > internal::TimerQueue::kMaxKind) return bad("timer target");
        absl::Time due;
        if (!ReadTime(st.due_nanos(), false, &due)) return bad("timer due time");
        restored_timers.push_back({st.seq(), internal::Timer{due, st.target(), st.generation(),
                                                             static_cast<uint8_t>(st.kind())}});
        break;
      }
      case v1::SnapshotRecord::kSeen: {
        absl::Time at;
        if (!ReadTime(r.seen().at_nanos(), false, &at)) return bad("de-duplication time");
        dedup_seen_[r.seen().key()] = at;
        dedup_order_.emplace_back(at, r.seen().key());
        break;
      }
      case v1::SnapshotRecord::kMessage: {
        const v1::SnapshotMessage& sm = r.message();
        // The engine never holds two messages with one id, so neither does
        // a snapshot it wrote.
        if (messages_.Find(sm.id()) != nullptr) return bad("message (a repeated id)");
        absl::Time sent;
        if (!ReadTime(sm.sent_nanos(), false, &sent)) return bad("message send time");
        if (!messages_.Insert(sm.id(), sent,
                              SentMessage{sm.version(), sm.node(), sm.enrollment(),
                                          sm.generation(), sm.awaiting(), sm.resolved()})) {
          return bad("message count");
        }
        break;
      }
      case v1::SnapshotRecord::kTrailer: {
        if (r.trailer().records() + 1 != reader->records()) {
          return absl::DataLossError("snapshot: record count does not match the trailer");
        }
        // Scheduled in firing order, (due, seq), whatever order they came in,
        // so that ties fire as they would have.
        std::sort(restored_timers.begin(), restored_timers.end(),
                  [](const auto& a, const auto& b) {
                    return a.second.due != b.second.due ? a.second.due < b.second.due
                                                        : a.first < b.first;
                  });
        for (const auto& [seq, t] : restored_timers) {
          timers_.Schedule(t.due, t.target, t.generation, t.kind);
          if (t.kind == kProgressTimer && t.target < subjects_.size()) {
            subjects_[t.target].progress_timer = true;
          }
        }
        return CheckRestoredState();
      }
      default:
        return absl::DataLossError("snapshot: unexpected record");
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
absl::Status Engine::Ingest(const Event& event) { return impl_->Ingest(event); }
absl::Status Engine::Enroll(absl::string_view journey_id, absl::string_view subject_id,
                            absl::Time time, const Attributes& context) {
  return impl_->Enroll(journey_id, subject_id, time, context);
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
