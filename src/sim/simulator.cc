// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "sim/simulator.h"

#include <memory>
#include <queue>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cairn/hash.h"
#include "cairn/input.h"
#include "cairn/status_macros.h"
#include "json/event_lines.h"

namespace cairn::sim {
namespace {

// A uniform number in [0, 1) from a stable hash.
double Unit(uint64_t hash) { return (hash >> 11) * (1.0 / 9007199254740992.0); }

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

class SimulatedChannel : public ChannelSink {
 public:
  SimulatedChannel(ChannelModel model, std::string seed, ChannelStats* stats,
                   ReportQueue* reports, uint64_t* seq)
      : model_(model), seed_(std::move(seed)), stats_(stats), reports_(reports), seq_(seq) {}

  SendResult Send(const Message& m) override {
    ++stats_->sends;
    if (Unit(StableHash64({seed_, m.message_id, "fail"})) < model_.fail) {
      ++stats_->refused;
      return SendResult::Failed("simulated_failure");
    }
    if (Unit(StableHash64({seed_, m.message_id, "timeout"})) < model_.timeout) {
      ++stats_->lost;
    } else {
      reports_->push(PendingReport{m.time + model_.delay, (*seq_)++, m.message_id, stats_});
    }
    return SendResult::Accepted();
  }

 private:
  ChannelModel model_;
  std::string seed_;
  ChannelStats* stats_;
  ReportQueue* reports_;
  uint64_t* seq_;
};

class TraceObserver : public Observer {
 public:
  TraceObserver(std::string subject, std::vector<std::string>* out)
      : subject_(std::move(subject)), out_(out) {}
  void OnStep(const TraceStep& s) override {
    if (s.subject_id != subject_) return;
    std::string line = absl::StrCat(json::FormatEventTime(s.time), "  ");
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
  std::vector<std::string>* out_;
};

bool IsBlank(absl::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

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

absl::StatusOr<SimResult> Simulate(const v1::Journey& journey, std::istream& events,
                                   absl::string_view events_name, std::istream* profiles,
                                   absl::string_view profiles_name,
                                   const SimOptions& options) {
  SimResult result;
  result.trace_subject = options.trace_subject;
  auto bad_line = [&](absl::string_view file, int64_t line_no, const absl::Status& s,
                      int64_t* counter) -> absl::Status {
    ++*counter;
    const std::string message = absl::StrCat(file, ":", line_no, ": ", s.message());
    if (options.strict) return absl::InvalidArgumentError(message);
    if (static_cast<int>(result.errors.size()) < options.max_errors) {
      result.errors.push_back(message);
    }
    return absl::OkStatus();
  };

  // Read events lazily; the first one sets the engine's start time.
  std::string line;
  int64_t line_no = 0;
  auto next_event = [&](Event* out) -> absl::StatusOr<bool> {
    while (std::getline(events, line)) {
      ++line_no;
      result.bytes += static_cast<int64_t>(line.size()) + 1;
      if (options.progress && (line_no & 0xffff) == 0) options.progress(line_no, result.bytes);
      if (IsBlank(line)) continue;
      ++result.event_lines;
      absl::StatusOr<Event> e = json::ParseEventLine(line);
      if (!e.ok()) {
        absl::Status s = bad_line(events_name, line_no, e.status(), &result.bad_event_lines);
        if (!s.ok()) return s;
        continue;
      }
      *out = *std::move(e);
      return true;
    }
    if (events.bad()) return absl::DataLossError(absl::StrCat(events_name, ": read error"));
    return false;
  };

  Event event;
  absl::StatusOr<bool> have = next_event(&event);
  if (!have.ok()) return have.status();
  const absl::Time start = *have ? event.time : absl::UnixEpoch();

  EngineOptions engine_options;
  engine_options.start_time = start;
  Engine engine(engine_options);
  ReportQueue reports;
  uint64_t report_seq = 0;
  std::vector<std::unique_ptr<SimulatedChannel>> sinks;
  const std::string seed = absl::StrCat(options.seed);
  for (const v1::Node& node : journey.nodes()) {
    if (node.kind_case() != v1::Node::kAction) continue;
    const std::string& channel = node.action().channel();
    if (result.channels.count(channel)) continue;
    auto model = options.channels.find(channel);
    sinks.push_back(std::make_unique<SimulatedChannel>(
        model == options.channels.end() ? ChannelModel() : model->second, seed,
        &result.channels[channel], &reports, &report_seq));
    absl::Status s = engine.RegisterChannel(channel, sinks.back().get());
    if (!s.ok()) return s;
  }
  TraceObserver tracer(options.trace_subject, &result.trace);
  if (!options.trace_subject.empty()) engine.SetObserver(&tracer);
  absl::Status deployed = engine.Deploy(journey);
  if (!deployed.ok()) return deployed;

  if (profiles != nullptr) {
    std::string pline;
    int64_t pno = 0;
    while (std::getline(*profiles, pline)) {
      ++pno;
      if (IsBlank(pline)) continue;
      ++result.profile_lines;
      absl::StatusOr<json::ProfileLine> p = json::ParseProfileLine(pline);
      absl::Status applied =
          p.ok() ? engine.Apply(ProfileUpdate{std::move(p->subject_id),
                                              std::move(p->subject_type),
                                              std::move(p->attributes), start})
                 : p.status();
      if (!applied.ok()) {
        absl::Status s = bad_line(profiles_name, pno, applied, &result.bad_profile_lines);
        if (!s.ok()) return s;
      }
    }
  }

  // Plays delivery reports and timers in time order up to `t`, so a report
  // lands exactly when it is due, between the timers around it.
  auto run_until = [&](absl::Time t) -> absl::Status {
    while (true) {
      const absl::Time report = reports.empty() ? absl::InfiniteFuture() : reports.top().time;
      const absl::Time timer = engine.next_timer_time();
      if (std::min(report, timer) > t) return absl::OkStatus();
      if (timer < report) {
        CAIRN_RETURN_IF_ERROR(engine.Apply(ClockTick{timer}));
        continue;
      }
      PendingReport r = reports.top();
      reports.pop();
      ++r.stats->delivered;
      // Rejections (the message's wait already timed out) are counted by
      // the engine itself.
      (void)engine.Apply(DeliveryReport{std::move(r.message_id), DeliveryOutcome::kDelivered,
                                        /*reason=*/"", /*subject_id=*/"",
                                        std::max(r.time, engine.now())});
    }
  };

  while (*have) {
    if (options.until && event.time > *options.until) break;
    if (result.first_event == absl::InfinitePast()) result.first_event = event.time;
    result.last_event = std::max(result.last_event, event.time);
    CAIRN_RETURN_IF_ERROR(run_until(event.time));
    // A replay trusts its log's times as the host's clock: it moves engine
    // time to each event (max_input_lead would otherwise refuse an event
    // after a quiet night). AdvanceTo refuses only a time the engine cannot
    // hold, which Ingest then rejects and counts.
    if (event.time > engine.now()) (void)engine.Apply(ClockTick{event.time});
    // Engine rejections (late, duplicate, bad strings or times) are counted
    // in its stats. The event moves into the input: the next line replaces it.
    (void)engine.Apply(std::move(event));
    have = next_event(&event);
    if (!have.ok()) return have.status();
  }
  result.until = options.until ? *options.until
                               : std::max(result.last_event, start) + absl::Hours(24 * 7);
  CAIRN_RETURN_IF_ERROR(run_until(result.until));
  CAIRN_RETURN_IF_ERROR(engine.Apply(ClockTick{result.until}));
  absl::StatusOr<v1::JourneyReport> report = engine.Report(journey.id());
  if (!report.ok()) return report.status();
  result.report = *std::move(report);
  result.engine = engine.stats();
  return result;
}

}  // namespace cairn::sim
