// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cairn/hash.h"
#include "cairn/input.h"
#include "cairn/status_macros.h"
#include "json/event_lines.h"
#include "stats/stats.h"
#include "util/proto_time.h"
#include "timer/local_time.h"
#include "util/stable_hasher.h"

namespace cairn::sim {
namespace {


// A delivery report waiting to be fed back.
struct PendingReport {
  absl::Time time;
  uint64_t seq;
  std::string message_id;
  ChannelStats* stats;
  bool operator>(const PendingReport& o) const {
    return std::tie(time, seq) > std::tie(o.time, o.seq);
  }
};
using ReportQueue =
    std::priority_queue<PendingReport, std::vector<PendingReport>, std::greater<>>;

// What a simulated channel did with one message.
struct SendFate {
  enum class Kind { kRefused, kLost, kDelivered };
  Kind kind;
  absl::string_view reason;  // kRefused
  absl::Time report_at;      // kDelivered: when its delivery report comes
};

// Every message of a run, as the journey sent it and as the channel dealt
// with it: JSON lines for SimOptions::messages, and the traced subject's
// messages in its trace.
class MessageLog {
 public:
  MessageLog(const SimOptions& options, absl::TimeZone zone, SimResult* result)
      : out_(options.messages), trace_subject_(options.trace_subject), zone_(zone),
        result_(result) {}

  void Record(const Message& m, const SendFate& fate) {
    if (out_ != nullptr) WriteLine(m, fate);
    if (!trace_subject_.empty() && m.subject_id == trace_subject_) TraceLine(m, fate);
  }

  // `t` in the journey's zone, as the trace prints times.
  std::string LocalTime(absl::Time t) const {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E*S%Ez", t, zone_);
  }

 private:
  void WriteLine(const Message& m, const SendFate& fate) {
    line_.clear();
    const auto field = [this](absl::string_view key, absl::string_view value) {
      line_ += ',';
      json::AppendJsonString(key, &line_);
      line_ += ':';
      json::AppendJsonString(value, &line_);
    };
    line_ += "{\"time\":";
    json::AppendJsonString(json::FormatEventTime(m.time), &line_);
    field("subject_id", m.subject_id);
    field("subject_type", m.subject_type);
    field("journey_id", m.journey_id);
    absl::StrAppend(&line_, ",\"version\":", m.journey_version);
    field("node_id", m.node_id);
    field("variant", m.variant);
    field("channel", m.channel);
    field("template_id", m.template_id);
    line_ += ",\"params\":{";
    for (size_t i = 0; i < m.params.size(); ++i) {
      if (i > 0) line_ += ',';
      json::AppendJsonString(m.params[i].first, &line_);
      line_ += ':';
      json::AppendJsonString(m.params[i].second, &line_);
    }
    line_ += '}';
    field("message_id", m.message_id);
    switch (fate.kind) {
      case SendFate::Kind::kRefused:
        field("outcome", "refused");
        field("reason", fate.reason);
        break;
      case SendFate::Kind::kLost:
        field("outcome", "lost");
        break;
      case SendFate::Kind::kDelivered:
        field("outcome", "delivered");
        field("report_at", json::FormatEventTime(fate.report_at));
        break;
    }
    line_ += "}\n";
    *out_ << line_;
    ++result_->messages_written;
  }

  void TraceLine(const Message& m, const SendFate& fate) {
    std::string line = absl::StrCat(LocalTime(m.time), "    send ", m.channel, " ", m.template_id);
    if (!m.params.empty()) {
      line += " (";
      for (size_t i = 0; i < m.params.size(); ++i) {
        absl::StrAppend(&line, i > 0 ? ", " : "", m.params[i].first, "=", m.params[i].second);
      }
      line += ")";
    }
    absl::StrAppend(&line, " message ", m.message_id, ": ");
    switch (fate.kind) {
      case SendFate::Kind::kRefused:
        absl::StrAppend(&line, "refused (", fate.reason, ")");
        break;
      case SendFate::Kind::kLost:
        line += "accepted, no delivery report";
        break;
      case SendFate::Kind::kDelivered:
        absl::StrAppend(&line, "delivered, reported ", LocalTime(fate.report_at));
        break;
    }
    result_->trace.push_back(std::move(line));
  }

  std::ostream* const out_;
  const std::string trace_subject_;
  const absl::TimeZone zone_;
  SimResult* const result_;
  std::string line_;  // Reused: a run may write millions.
};

class SimulatedChannel : public ChannelSink {
 public:
  SimulatedChannel(ChannelModel model, std::string seed, ChannelStats* stats,
                   ReportQueue* reports, uint64_t* seq, MessageLog* log)
      : model_(model), seed_(std::move(seed)), stats_(stats), reports_(reports), seq_(seq),
        log_(log) {}

  SendResult Send(const Message& m) override {
    ++stats_->sends;
    if (internal::UnitInterval(StableHash64({seed_, m.message_id, "fail"})) < model_.fail) {
      ++stats_->refused;
      log_->Record(m, {SendFate::Kind::kRefused, kSimulatedFailure, absl::InfinitePast()});
      return SendResult::Failed(std::string(kSimulatedFailure));
    }
    if (internal::UnitInterval(StableHash64({seed_, m.message_id, "timeout"})) < model_.timeout) {
      ++stats_->lost;
      log_->Record(m, {SendFate::Kind::kLost, "", absl::InfinitePast()});
    } else {
      reports_->push(PendingReport{m.time + model_.delay, (*seq_)++, m.message_id, stats_});
      log_->Record(m, {SendFate::Kind::kDelivered, "", m.time + model_.delay});
    }
    return SendResult::Accepted();
  }

 private:
  static constexpr absl::string_view kSimulatedFailure = "simulated_failure";

  ChannelModel model_;
  std::string seed_;
  ChannelStats* stats_;
  ReportQueue* reports_;
  uint64_t* seq_;
  MessageLog* log_;
};

class TraceObserver : public Observer {
 public:
  TraceObserver(std::string subject, const MessageLog* log, std::vector<std::string>* out)
      : subject_(std::move(subject)), log_(log), out_(out) {}
  void OnStep(const TraceStep& s) override {
    if (s.subject_id != subject_) return;
    std::string line = absl::StrCat(log_->LocalTime(s.time), "  ");
    switch (s.kind) {
      case TraceStep::Kind::kEnter:
        absl::StrAppend(&line, "enter ", s.node_id);
        break;
      case TraceStep::Kind::kLeave:
        absl::StrAppend(&line, "  leave ", s.node_id, " by ", s.detail);
        break;
      case TraceStep::Kind::kExit:
        absl::StrAppend(&line, "exit at ", s.node_id, ": ", s.detail);
        break;
    }
    out_->push_back(std::move(line));
  }

 private:
  std::string subject_;
  const MessageLog* log_;
  std::vector<std::string>* out_;
};

// SimOptions::effects at work (see Effect): follows enrollments through
// entries, splits and goal nodes, notes the log's own conversions, and
// holds each window of an effect's arm until 1 ms before it ends, when
// Decide says whether the simulation converts it.
class EffectModel {
 public:
  // One effect, bound to the journey.
  struct Bound {
    Effect effect;
    std::string event;  // The goal's conversion event.
    absl::Duration window;
    bool journey_goal = false;  // Else a goal node, effect.goal.
  };

  // Binds `effects` to `journey`: InvalidArgument for an arm no split has,
  // a goal the journey lacks, or a conversion a simulated event cannot meet.
  static absl::StatusOr<std::vector<Bound>> Bind(const v1::Journey& journey,
                                                 const std::vector<Effect>& effects) {
    std::set<std::string> arms;
    for (const v1::Node& n : journey.nodes()) {
      if (!n.has_split()) continue;
      for (const v1::SplitVariant& v : n.split().variants()) arms.insert(v.name());
    }
    std::vector<Bound> bound;
    for (const Effect& e : effects) {
      const std::string flag = absl::StrCat("--effect ", e.arm, ":", e.goal);
      if (arms.count(e.arm) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            flag, ": no split of journey ", journey.id(), " has an arm \"", e.arm, "\" (its arms: ",
            arms.empty() ? std::string("none") : absl::StrJoin(arms, ", "), ")"));
      }
      Bound b;
      b.effect = e;
      const v1::EventMatcher* conversion = nullptr;
      std::vector<std::string> goals;
      for (const v1::JourneyGoal& g : journey.settings().goals()) {
        goals.push_back(g.name());
        if (g.name() != e.goal) continue;
        conversion = &g.conversion();
        b.journey_goal = true;
        b.window = internal::DurationFromProto(g.window()).value_or(absl::ZeroDuration());
      }
      for (const v1::Node& n : journey.nodes()) {
        if (!n.has_goal()) continue;
        goals.push_back(n.id());
        if (n.id() != e.goal || conversion != nullptr) continue;
        conversion = &n.goal().conversion();
        b.window = internal::DurationFromProto(n.goal().window()).value_or(absl::ZeroDuration());
      }
      if (conversion == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            flag, ": journey ", journey.id(), " has no goal \"", e.goal, "\" (its goals: ",
            goals.empty() ? std::string("none") : absl::StrJoin(goals, ", "), ")"));
      }
      if (conversion->has_where() || conversion->same_key()) {
        return absl::InvalidArgumentError(absl::StrCat(
            flag, ": the goal's conversion has a condition (", conversion->event(),
            " with where or same_key) that a simulated event cannot be made to meet; an effect "
            "needs a goal on an event name alone"));
      }
      b.event = conversion->event();
      bound.push_back(std::move(b));
    }
    return bound;
  }

  EffectModel(const v1::Journey& journey, std::vector<Bound> bound, uint64_t seed)
      : bound_(std::move(bound)), seed_(absl::StrCat(seed)) {
    for (const v1::Node& n : journey.nodes()) {
      if (n.has_trigger()) triggers_.insert(n.id());
      if (n.has_split()) splits_.insert(n.id());
    }
    for (const Bound& b : bound_) results_.push_back(EffectResult{b.effect});
  }

  bool empty() const { return bound_.empty(); }

  void OnStep(const TraceStep& s) {
    const std::string subject(s.subject_id);
    if (s.kind == TraceStep::Kind::kEnter && triggers_.count(std::string(s.node_id))) {
      entered_[subject] = s.time;
      arm_.erase(subject);
      return;
    }
    if (s.kind == TraceStep::Kind::kLeave && splits_.count(std::string(s.node_id))) {
      arm_[subject] = std::string(s.detail);
      auto entry = entered_.find(subject);
      for (size_t i = 0; i < bound_.size(); ++i) {
        const Bound& b = bound_[i];
        if (!b.journey_goal || b.effect.arm != s.detail || entry == entered_.end()) continue;
        Hold(i, subject, entry->second, s.time);
      }
      return;
    }
    if (s.kind == TraceStep::Kind::kEnter) {
      auto arm = arm_.find(subject);
      for (size_t i = 0; i < bound_.size(); ++i) {
        const Bound& b = bound_[i];
        if (b.journey_goal || b.effect.goal != s.node_id || arm == arm_.end() ||
            arm->second != b.effect.arm) {
          continue;
        }
        Hold(i, subject, s.time, s.time);
      }
    }
  }

  // A line of the log: a conversion it makes is the log's own.
  void OnLogEvent(const Event& e) {
    for (const Bound& b : bound_) {
      if (b.event == e.name) {
        last_conversion_[e.subject_id] = std::max(last_conversion_[e.subject_id], e.time);
      }
    }
  }

  // When the next held window is due; InfiniteFuture with none.
  absl::Time next() const { return held_.empty() ? absl::InfiniteFuture() : held_.top().due; }

  // Takes the next held window: the conversion event to feed the engine at
  // its due time, or nullopt when the log converted it or the draw says no.
  std::optional<Event> Decide() {
    Held h = held_.top();
    held_.pop();
    const Bound& b = bound_[h.effect];
    EffectResult& r = results_[h.effect];
    ++r.windows;
    auto converted = last_conversion_.find(h.subject);
    if (converted != last_conversion_.end() && converted->second >= h.start) {
      ++r.converted_by_log;
      return std::nullopt;
    }
    // The arm's rate by the log so far, and the chance that makes it rise
    // by the effect.
    const double rate = static_cast<double>(r.converted_by_log) / static_cast<double>(r.windows);
    const double p = rate < 1 ? std::min(1.0, b.effect.Rise(rate) / (1 - rate)) : 0;
    if (internal::UnitInterval(StableHash64({seed_, "effect", h.subject, b.effect.arm, b.effect.goal,
                           absl::StrCat(absl::ToUnixNanos(h.start))})) >= p) {
      return std::nullopt;
    }
    ++r.converted_by_effect;
    Event e;
    e.name = b.event;
    e.subject_id = h.subject;
    e.time = h.due;
    return e;
  }

  // The results, each with the sample a test needs to detect it.
  std::vector<EffectResult> Results() const {
    std::vector<EffectResult> out = results_;
    for (EffectResult& r : out) {
      if (r.windows == 0) continue;
      const double rate = static_cast<double>(r.converted_by_log) / static_cast<double>(r.windows);
      r.sample_per_arm = SamplePerArm(rate, r.effect.Rise(rate));
    }
    return out;
  }

 private:
  struct Held {
    absl::Time due;  // 1 ms before the window ends.
    uint64_t seq;
    size_t effect;
    std::string subject;
    absl::Time start;  // The window's start.
    bool operator>(const Held& o) const { return std::tie(due, seq) > std::tie(o.due, o.seq); }
  };

  // Holds effect `i`'s window of `subject`, from `start`, if it has not
  // ended by `now`.
  void Hold(size_t i, const std::string& subject, absl::Time start, absl::Time now) {
    const absl::Time due = start + bound_[i].window - absl::Milliseconds(1);
    if (due <= now) return;
    held_.push(Held{due, seq_++, i, subject, start});
  }

  std::vector<Bound> bound_;
  std::string seed_;
  std::set<std::string> triggers_, splits_;
  std::vector<EffectResult> results_;
  // By subject: its latest entry, the arm of the latest split it left in
  // that enrollment, and its latest conversion event in the log.
  absl::flat_hash_map<std::string, absl::Time> entered_;
  absl::flat_hash_map<std::string, std::string> arm_;
  absl::flat_hash_map<std::string, absl::Time> last_conversion_;
  std::priority_queue<Held, std::vector<Held>, std::greater<>> held_;
  uint64_t seq_ = 0;
};

// The observer the simulated engine has: the tracer, the effects, or both.
class ReplayObserver : public Observer {
 public:
  ReplayObserver(TraceObserver* tracer, EffectModel* effects)
      : tracer_(tracer), effects_(effects) {}
  void OnStep(const TraceStep& s) override {
    if (tracer_ != nullptr) tracer_->OnStep(s);
    if (effects_ != nullptr) effects_->OnStep(s);
  }

 private:
  TraceObserver* tracer_;
  EffectModel* effects_;
};

bool IsBlank(absl::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// Counts a bad input line in *counter; under --strict it ends the run (the
// error is returned), else its message is kept, up to options.max_errors.
absl::Status BadLine(const SimOptions& options, SimResult* result, absl::string_view file,
                     int64_t line_no, const absl::Status& s, int64_t* counter) {
  ++*counter;
  const std::string message = absl::StrCat(file, ":", line_no, ": ", s.message());
  if (options.strict) return absl::InvalidArgumentError(message);
  if (static_cast<int>(result->errors.size()) < options.max_errors) {
    result->errors.push_back(message);
  }
  return absl::OkStatus();
}

// Reads the event log lazily, one event at a time, counting lines and bytes
// into the result and reporting progress and bad lines.
class EventReader {
 public:
  EventReader(std::istream& events, absl::string_view name, const SimOptions& options,
              SimResult* result)
      : events_(events), name_(name), options_(options), result_(result) {}

  // The next event or timed profile update into *out: true, or false at the
  // end of the log.
  absl::StatusOr<bool> Next(json::LogLine* out) {
    while (std::getline(events_, line_)) {
      ++line_no_;
      result_->bytes += static_cast<int64_t>(line_.size()) + 1;
      if (options_.progress && (line_no_ & 0xffff) == 0) {
        options_.progress(line_no_, result_->bytes);
      }
      if (IsBlank(line_)) continue;
      ++result_->event_lines;
      if (absl::Status parsed = json::ParseLogLine(line_, out); !parsed.ok()) {
        absl::Status s =
            BadLine(options_, result_, name_, line_no_, parsed, &result_->bad_event_lines);
        if (!s.ok()) return s;
        continue;
      }
      if (out->is_profile) ++result_->profile_updates;
      if (out->is_erasure) ++result_->erasures;
      if (out->is_merge) ++result_->merges;
      return true;
    }
    if (events_.bad()) return absl::DataLossError(absl::StrCat(name_, ": read error"));
    return false;
  }

 private:
  std::istream& events_;
  const absl::string_view name_;
  const SimOptions& options_;
  SimResult* const result_;
  std::string line_;
  int64_t line_no_ = 0;
};

// The engine under simulation, the simulated channels its actions send
// through, and the delivery reports those channels will feed back.
class Replay {
 public:
  // `zone`: the journey's, in which the trace shows times.
  Replay(absl::Time start, absl::TimeZone zone, const SimOptions& options, SimResult* result,
         EffectModel* effects)
      : options_(options),
        result_(result),
        engine_(EngineOptionsFrom(start)),
        messages_(options, zone, result),
        tracer_(options.trace_subject, &messages_, &result->trace),
        effects_(effects),
        observer_(options.trace_subject.empty() ? nullptr : &tracer_,
                  effects->empty() ? nullptr : effects) {}
  Replay(const Replay&) = delete;
  Replay& operator=(const Replay&) = delete;

  // Registers a simulated channel for each channel the journey's actions
  // name, sets the tracer if a subject is traced, and deploys the journey.
  absl::Status Deploy(const v1::Journey& journey) {
    const std::string seed = absl::StrCat(options_.seed);
    for (const v1::Node& node : journey.nodes()) {
      if (node.kind_case() != v1::Node::kAction) continue;
      const std::string& channel = node.action().channel();
      if (result_->channels.count(channel)) continue;
      auto model = options_.channels.find(channel);
      sinks_.push_back(std::make_unique<SimulatedChannel>(
          model == options_.channels.end() ? ChannelModel() : model->second, seed,
          &result_->channels[channel], &reports_, &report_seq_, &messages_));
      absl::Status s = engine_.RegisterChannel(channel, sinks_.back().get());
      if (!s.ok()) return s;
    }
    if (!options_.trace_subject.empty() || !effects_->empty()) engine_.SetObserver(&observer_);
    // Declared first, at the start of the log: they count every event, and
    // the journey's reads of them are checked when it deploys. A set of
    // segments alone (on profile attributes) is declared too.
    if (options_.behaviors.behaviors_size() > 0 || options_.behaviors.segments_size() > 0) {
      CAIRN_RETURN_IF_ERROR(engine_.DeclareBehaviors(options_.behaviors));
    }
    return engine_.Deploy(journey);
  }

  // Applies the profile lines of `profiles` at `start`, reporting bad ones.
  absl::Status LoadProfiles(std::istream& profiles, absl::string_view name, absl::Time start) {
    std::string pline;
    int64_t pno = 0;
    while (std::getline(profiles, pline)) {
      ++pno;
      if (IsBlank(pline)) continue;
      ++result_->profile_lines;
      absl::StatusOr<json::ProfileLine> p = json::ParseProfileLine(pline);
      absl::Status applied =
          p.ok() ? engine_.Apply(ProfileUpdate{std::move(p->subject_id),
                                               std::move(p->subject_type),
                                               std::move(p->attributes), start})
                 : p.status();
      if (!applied.ok()) {
        absl::Status s =
            BadLine(options_, result_, name, pno, applied, &result_->bad_profile_lines);
        if (!s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

  // Plays delivery reports, timers and the effects' conversions in time
  // order up to `t`, so each lands exactly when it is due, between the
  // timers around it (a timer first on a tie, then a report).
  absl::Status RunUntil(absl::Time t) {
    while (true) {
      const absl::Time report = reports_.empty() ? absl::InfiniteFuture() : reports_.top().time;
      const absl::Time timer = engine_.next_timer_time();
      const absl::Time effect = effects_->next();
      if (std::min({report, timer, effect}) > t) return absl::OkStatus();
      if (timer < report && timer <= effect) {
        CAIRN_RETURN_IF_ERROR(engine_.Apply(ClockTick{timer}));
        continue;
      }
      if (effect < report) {
        if (effect > engine_.now()) CAIRN_RETURN_IF_ERROR(engine_.Apply(ClockTick{effect}));
        if (std::optional<Event> conversion = effects_->Decide()) {
          (void)engine_.Apply(*std::move(conversion));
        }
        continue;
      }
      PendingReport r = reports_.top();
      reports_.pop();
      ++r.stats->delivered;
      // Rejections (the message's wait already timed out) are counted by
      // the engine itself.
      (void)engine_.Apply(DeliveryReport{std::move(r.message_id), DeliveryOutcome::kDelivered,
                                         /*reason=*/"", /*subject_id=*/"",
                                         std::max(r.time, engine_.now())});
    }
  }

  // Plays what is due before `time`, then `input`, a line of the log (an
  // event, or a timed profile update), at it.
  absl::Status Play(const EngineInput& input, absl::Time time) {
    if (result_->first_event == absl::InfinitePast()) result_->first_event = time;
    result_->last_event = std::max(result_->last_event, time);
    CAIRN_RETURN_IF_ERROR(RunUntil(time));
    // A replay trusts its log's times as the host's clock: it moves engine
    // time to each line (max_input_lead would otherwise refuse an event
    // after a quiet night). AdvanceTo refuses only a time the engine cannot
    // hold, which the input's own check then rejects and counts.
    if (time > engine_.now()) (void)engine_.Apply(ClockTick{time});
    // Engine rejections (late, duplicate, bad strings or times) are counted
    // in its stats.
    (void)engine_.Apply(input);
    return absl::OkStatus();
  }

  // Plays what is due, one timer or delivery report at a time, until
  // nobody is in flight or the next is after `limit`; sets result.until to
  // the time it stopped at (at least `from`).
  absl::Status RunWhileInFlight(absl::Time from, absl::Time limit) {
    while (engine_.stats().enrollments_in_flight > 0) {
      const absl::Time report = reports_.empty() ? absl::InfiniteFuture() : reports_.top().time;
      const absl::Time next = std::min({report, engine_.next_timer_time(), effects_->next()});
      if (next > limit) {
        result_->until = limit;
        return absl::OkStatus();
      }
      CAIRN_RETURN_IF_ERROR(RunUntil(next));
    }
    result_->until = std::max(from, engine_.now());
    return absl::OkStatus();
  }

  // Plays everything due up to result.until (with until_auto, until nobody
  // is in flight, from the last event to result.until at most), then takes
  // the journey's report and the engine's stats into the result.
  absl::Status Finish(const std::string& journey_id, absl::Time last) {
    if (options_.until_auto) CAIRN_RETURN_IF_ERROR(RunWhileInFlight(last, result_->until));
    CAIRN_RETURN_IF_ERROR(RunUntil(result_->until));
    CAIRN_RETURN_IF_ERROR(engine_.Apply(ClockTick{result_->until}));
    absl::StatusOr<v1::JourneyReport> report = engine_.Report(journey_id);
    if (!report.ok()) return report.status();
    result_->report = *std::move(report);
    result_->engine = engine_.stats();
    result_->behaviors = engine_.BehaviorsReport();
    if (options_.on_finish) options_.on_finish(engine_);
    return absl::OkStatus();
  }

 private:
  // Engine options that start the engine's clock at `start`.
  static EngineOptions EngineOptionsFrom(absl::Time start) {
    EngineOptions options;
    options.start_time = start;
    // Offline, no input waits behind a scheduled run: each is done whole
    // when its occurrence begins (who enters is the same either way).
    options.scheduled_run_slice = std::numeric_limits<int64_t>::max();
    return options;
  }

  const SimOptions& options_;
  SimResult* const result_;
  // Holds pointers to the sinks and the tracer below but does not call them
  // when destroyed, which happens after them.
  Engine engine_;
  ReportQueue reports_;
  uint64_t report_seq_ = 0;
  MessageLog messages_;
  std::vector<std::unique_ptr<SimulatedChannel>> sinks_;
  TraceObserver tracer_;
  EffectModel* effects_;
  ReplayObserver observer_;
};

}  // namespace

absl::StatusOr<std::pair<std::string, ChannelModel>> ParseChannelModel(
    absl::string_view spec) {
  const size_t colon = spec.find(':');
  const std::string channel(spec.substr(0, colon));
  if (channel.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sink \"", spec, "\": expected CHANNEL:key=value,..."));
  }
  ChannelModel model;
  if (colon == absl::string_view::npos) return std::make_pair(channel, model);
  for (absl::string_view kv : absl::StrSplit(spec.substr(colon + 1), ',', absl::SkipEmpty())) {
    const size_t eq = kv.find('=');
    const absl::string_view key = kv.substr(0, eq);
    const absl::string_view value = eq == absl::string_view::npos ? "" : kv.substr(eq + 1);
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--sink \"", spec, "\": ", key.empty() ? "(empty key)" : key, ": ", why));
    };
    if (key == "fail" || key == "timeout") {
      double rate;
      if (!absl::SimpleAtod(value, &rate) || !(rate >= 0 && rate <= 1)) {  // NaN fails too
        return bad("expected a rate between 0 and 1");
      }
      (key == "fail" ? model.fail : model.timeout) = rate;
    } else if (key == "delay") {
      absl::Duration d;
      if (!absl::ParseDuration(value, &d) || d < absl::ZeroDuration()) {
        return bad("expected a duration such as 30s, 5m or 2h");
      }
      model.delay = d;
    } else {
      return bad("unknown key; use fail, delay or timeout");
    }
  }
  return std::make_pair(channel, model);
}

absl::StatusOr<Effect> ParseEffect(absl::string_view spec) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("--effect \"", spec, "\": ", why));
  };
  const size_t colon = spec.find(':');
  const size_t eq = spec.find('=', colon == absl::string_view::npos ? 0 : colon);
  if (colon == absl::string_view::npos || eq == absl::string_view::npos || colon == 0 ||
      eq == colon + 1) {
    return bad("expected ARM:GOAL=+2.5pp (percentage points) or ARM:GOAL=+20% (relative)");
  }
  Effect e;
  e.arm = std::string(spec.substr(0, colon));
  e.goal = std::string(spec.substr(colon + 1, eq - colon - 1));
  absl::string_view size = spec.substr(eq + 1);
  const bool points = absl::ConsumeSuffix(&size, "pp");
  const bool relative = !points && absl::ConsumeSuffix(&size, "%");
  double value;
  if ((!points && !relative) || !absl::SimpleAtod(size, &value) || !std::isfinite(value)) {
    return bad("the size is +N.Npp (percentage points) or +N% (relative)");
  }
  if (value <= 0) {
    return bad("an effect raises a rate (a simulated response adds conversions; it cannot take "
               "the log's own away)");
  }
  if (points && value >= 100) return bad("percentage points must be below 100");
  (points ? e.points : e.relative) = value / 100;
  return e;
}

int64_t SamplePerArm(double rate, double difference, double alpha, double power) {
  const double p1 = rate;
  const double p2 = rate + difference;
  if (!(p1 >= 0 && p2 <= 1 && difference > 0 && alpha > 0 && alpha < 1 && power > 0 &&
        power < 1)) {
    return 0;
  }
  const double z_alpha = internal::NormalQuantile(1 - alpha / 2);
  const double z_power = internal::NormalQuantile(power);
  const double mean = (p1 + p2) / 2;
  const double n = std::pow(z_alpha * std::sqrt(2 * mean * (1 - mean)) +
                                z_power * std::sqrt(p1 * (1 - p1) + p2 * (1 - p2)),
                            2) /
                   (difference * difference);
  return static_cast<int64_t>(std::ceil(n));
}

absl::StatusOr<SimResult> Simulate(const v1::Journey& journey, std::istream& events,
                                   absl::string_view events_name, std::istream* profiles,
                                   absl::string_view profiles_name,
                                   const SimOptions& options) {
  SimResult result;
  result.trace_subject = options.trace_subject;
  // The first event sets the engine's start time.
  EventReader reader(events, events_name, options, &result);
  json::LogLine line;
  absl::StatusOr<bool> have = reader.Next(&line);
  if (!have.ok()) return have.status();
  const absl::Time start = *have ? line.time : absl::UnixEpoch();

  absl::StatusOr<std::vector<EffectModel::Bound>> bound =
      EffectModel::Bind(journey, options.effects);
  if (!bound.ok()) return bound.status();
  EffectModel effects(journey, *std::move(bound), options.seed);
  // The trace's zone; a name that does not load fails the deploy below.
  const absl::TimeZone zone =
      internal::LoadZone(journey.settings().default_time_zone()).value_or(absl::UTCTimeZone());
  Replay replay(start, zone, options, &result, &effects);
  // The profiles are what subjects were before the log begins, so they are
  // loaded before the journey is deployed: setting them is not a change an
  // attribute_change trigger would see.
  if (profiles != nullptr) {
    CAIRN_RETURN_IF_ERROR(replay.LoadProfiles(*profiles, profiles_name, start));
  }
  CAIRN_RETURN_IF_ERROR(replay.Deploy(journey));
  while (*have) {
    if (options.until && line.time > *options.until) break;
    // Next assigns what is moved out anew.
    if (line.is_profile) {
      CAIRN_RETURN_IF_ERROR(replay.Play(ProfileUpdate{std::move(line.profile.subject_id),
                                                      std::move(line.profile.subject_type),
                                                      std::move(line.profile.attributes),
                                                      line.time},
                                        line.time));
    } else if (line.is_merge) {
      CAIRN_RETURN_IF_ERROR(replay.Play(SubjectMerge{std::move(line.merge_from),
                                                     std::move(line.profile.subject_id),
                                                     std::move(line.profile.subject_type),
                                                     line.time},
                                        line.time));
    } else if (line.is_erasure) {
      CAIRN_RETURN_IF_ERROR(replay.Play(SubjectErasure{std::move(line.profile.subject_id),
                                                       std::move(line.profile.subject_type),
                                                       line.time},
                                        line.time));
    } else {
      effects.OnLogEvent(line.event);
      CAIRN_RETURN_IF_ERROR(replay.Play(std::move(line.event), line.time));
    }
    have = reader.Next(&line);
    if (!have.ok()) return have.status();
  }
  const absl::Time last = std::max(result.last_event, start);
  result.until = options.until_auto ? last + kAutoUntilLimit
                 : options.until    ? *options.until
                                    : last + absl::Hours(24 * 7);
  CAIRN_RETURN_IF_ERROR(replay.Finish(journey.id(), last));
  result.effects = effects.Results();
  result.warnings = SimWarnings(journey, options, result);
  return result;
}

std::vector<std::string> SimWarnings(const v1::Journey& journey, const SimOptions& options,
                                     const SimResult& result) {
  std::vector<std::string> warnings;
  std::set<std::string> channels;
  std::set<std::string> trigger_events;
  for (const v1::Node& n : journey.nodes()) {
    if (n.has_action()) channels.insert(n.action().channel());
    if (!n.has_trigger()) continue;
    if (n.trigger().has_event()) trigger_events.insert(n.trigger().event().matcher().event());
    if (n.trigger().has_sequence() && n.trigger().sequence().steps_size() > 0) {
      trigger_events.insert(n.trigger().sequence().steps(0).event());
    }
  }
  for (const auto& [channel, model] : options.channels) {
    if (channels.count(channel) == 0) {
      warnings.push_back(absl::StrCat(
          "--sink ", channel, ": the journey sends on no channel \"", channel, "\" (it sends on ",
          channels.empty() ? std::string("none") : absl::StrJoin(channels, ", "),
          "); the model changes nothing"));
    }
  }
  for (const EffectResult& e : result.effects) {
    if (e.windows > 0) continue;
    warnings.push_back(absl::StrCat("--effect ", e.effect.arm, ":", e.effect.goal,
                                    ": no enrollment of arm ", e.effect.arm, " reached the end of a ",
                                    e.effect.goal, " window, so the effect changed nothing"));
  }
  if (!options.trace_subject.empty() && result.trace.empty()) {
    warnings.push_back(absl::StrCat("--trace ", options.trace_subject,
                                    ": the subject took no step in the journey (it never "
                                    "entered), so there is nothing to trace"));
  }
  int64_t entered = 0, in_flight = 0, time_missing = 0;
  for (const v1::VersionReport& v : result.report.versions()) {
    entered += v.entered();
    in_flight += v.in_flight();
    for (const v1::ReasonCount& r : v.exits()) {
      if (r.reason() == "delay_time_missing") time_missing += r.count();
    }
  }
  if (entered == 0) {
    warnings.push_back(absl::StrCat(
        "nobody entered the journey",
        trigger_events.empty()
            ? std::string()
            : absl::StrCat(": no line of the log was a ", absl::StrJoin(trigger_events, " or "),
                           " event that its trigger accepted")));
  }
  if (time_missing > 0) {
    warnings.push_back(absl::StrCat(
        time_missing, " enrollment", time_missing == 1 ? "" : "s",
        " exited delay_time_missing: a delay's path held no time (a timestamp or an RFC 3339 "
        "string, or a date \"YYYY-MM-DD\" for calendar delays; an integer is not one)"));
  }
  if (result.engine.unknown_time_zones > 0) {
    warnings.push_back(absl::StrCat(
        result.engine.unknown_time_zones,
        " zone lookups fell back to a default zone: a subject's zone attribute is not a known "
        "IANA zone name"));
  }
  if (options.until_auto && in_flight > 0) {
    warnings.push_back(absl::StrCat(
        in_flight, " enrollment", in_flight == 1 ? " is" : "s are",
        " still in flight 365 days after the last event, where --until auto stops (a journey "
        "that loops, or re-enters on a schedule, never empties)"));
  } else if (!options.until && in_flight > 0) {
    warnings.push_back(absl::StrCat(
        in_flight, " enrollment", in_flight == 1 ? " is" : "s are",
        " still in flight at the default end (7 days after the last event); pass --until (a "
        "time, a date or auto) to run longer"));
  }
  return warnings;
}

}  // namespace cairn::sim
