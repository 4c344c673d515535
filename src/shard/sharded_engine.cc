// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// ShardedEngine: one Engine and one thread per shard. The producer appends
// inputs to the shard's open batch; a full batch (or Flush) is handed to the
// shard's queue under its mutex, so the per-input cost of synchronisation is
// one lock per batch, not per input.

#include "cairn/sharded_engine.h"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/hash.h"
#include "cairn/status_macros.h"
#include "exec/input_checks.h"
#include "util/stable_hasher.h"
#include "util/utf8.h"

namespace cairn {
namespace {

// One queued input.
// One queued input. An event, by far the most common, moves only its Event
// in (a few cache lines, written by the producer and read by the shard's
// thread); what the rarer kinds carry besides sits behind a pointer.
struct Input {
  enum class Kind : uint8_t { kEvent, kEnroll, kProfile, kDelivery, kAdvance };
  struct Extra {
    std::string text;       // kEnroll: journey id. kDelivery: message id.
    std::string reason;     // kDelivery.
    Attributes attributes;  // kEnroll: context. kProfile: attributes.
  };
  Input() = default;
  explicit Input(Event&& e) : event(std::move(e)) {}

  Kind kind = Kind::kEvent;
  DeliveryOutcome outcome = DeliveryOutcome::kDelivered;
  Event event;  // kEvent; kEnroll/kProfile/kDelivery use its subject, kAdvance its time.
  std::unique_ptr<Extra> extra;  // kEnroll, kProfile, kDelivery.
};

// A unit of work queued to a shard: a batch of inputs, or the shard's
// events of a batch given to IngestBatch (shared by every shard, read-only).
struct Work {
  std::vector<Input> inputs;
  std::shared_ptr<const std::vector<Event>> events;
  std::vector<uint32_t> picks;  // Indices into *events, in order.
};

// A shard's engine options: the sharded engine's, enforcing the shard's
// part of every entry and rate limit (EngineOptions::limit_share), so that
// the shards together keep within each limit.
EngineOptions ShardOptions(int shard, const ShardedEngineOptions& options) {
  EngineOptions engine = options.engine;
  engine.limit_share = ComposeShares(options.engine.limit_share, {shard, options.shards});
  return engine;
}

}  // namespace

class ShardedEngine::Shard {
 public:
  Shard(int index, const ShardedEngineOptions& options)
      : index_(index), options_(options), engine_(ShardOptions(index, options)) {
    open_.reserve(static_cast<size_t>(options.batch_size));
  }

  ~Shard() {
    Hand();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    ready_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  Engine& engine() { return engine_; }

  void Start() { thread_ = std::thread([this] { Run(); }); }

  // Appends an input, built in place by fill(Input&), to the open batch.
  template <typename Fill>
  void Add(Fill fill) {
    fill(open_.emplace_back());
    HandIfFull();
  }

  // Appends an event input, its Event move-constructed in place.
  void AddEvent(Event&& event) {
    open_.emplace_back(std::move(event));
    HandIfFull();
  }

  void HandIfFull() {
    if (open_.size() >= static_cast<size_t>(options_.batch_size)) Hand();
  }

  // Queues the open batch, waiting while the queue is full.
  void Hand() {
    if (open_.empty()) return;
    Work work;
    work.inputs = std::move(open_);
    Push(std::move(work), &open_);
    open_.reserve(static_cast<size_t>(options_.batch_size));
  }

  // Queues this shard's events of a shared batch (after the open batch, so
  // that the order of calls is kept).
  void HandShared(std::shared_ptr<const std::vector<Event>> events,
                  std::vector<uint32_t> picks) {
    Hand();
    Work work;
    work.events = std::move(events);
    work.picks = std::move(picks);
    Push(std::move(work), nullptr);
  }

  // Waits until every handed batch has been applied.
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return applied_ == handed_; });
  }

 private:
  // Queue length at which a producer waiting for room resumes.
  size_t LowWater() const { return static_cast<size_t>(options_.max_queued_batches) / 2; }

  // Queues `work`, waiting while the queue is full. When `spare` is given,
  // it gets the storage of an applied batch, if one is kept for reuse (no
  // allocation per batch).
  void Push(Work work, std::vector<Input>* spare) {
    std::unique_lock<std::mutex> lock(mu_);
    if (queue_.size() >= static_cast<size_t>(options_.max_queued_batches)) {
      // Full: wait until the shard has drained half the queue, not just
      // one batch. Waking for every batch would switch threads once per
      // batch on both sides, and with more threads than cores that time
      // comes out of the shards'.
      producer_waiting_ = true;
      room_.wait(lock, [&] { return queue_.size() <= LowWater(); });
      producer_waiting_ = false;
    }
    queue_.push_back(std::move(work));
    ++handed_;
    if (spare != nullptr) {
      if (!spare_.empty()) {
        *spare = std::move(spare_.back());
        spare_.pop_back();
      } else {
        *spare = std::vector<Input>();
      }
    }
    lock.unlock();
    ready_.notify_one();
  }

  void Run() {
    Work work;
    while (true) {
      bool wake_producer = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // Stopping, and nothing left.
        work = std::move(queue_.front());
        queue_.pop_front();
        wake_producer = producer_waiting_ && queue_.size() <= LowWater();
      }
      if (wake_producer) room_.notify_one();
      for (Input& input : work.inputs) Apply(input);
      for (uint32_t i : work.picks) Report(engine_.Ingest((*work.events)[i]));
      work.inputs.clear();
      work.events.reset();  // The last shard to finish frees the batch.
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++applied_;
        if (work.inputs.capacity() > 0 && spare_.size() < 2) {
          spare_.push_back(std::move(work.inputs));
        }
      }
      work = Work();
      done_cv_.notify_all();
    }
  }

  void Report(const absl::Status& status) {
    if (!status.ok() && options_.on_rejected) options_.on_rejected(index_, status);
  }

  void Apply(Input& in) {
    absl::Status status;
    switch (in.kind) {
      case Input::Kind::kEvent:
        status = engine_.Ingest(in.event);
        break;
      case Input::Kind::kEnroll:
        status = engine_.Enroll(in.extra->text, in.event.subject_id, in.event.time,
                                in.extra->attributes);
        break;
      case Input::Kind::kProfile:
        status = engine_.UpsertProfile(in.event.subject_id, in.extra->attributes, in.event.time,
                                       in.event.subject_type);
        break;
      case Input::Kind::kDelivery:
        status = engine_.ReportDelivery(in.extra->text, in.outcome, in.event.time,
                                        in.extra->reason);
        break;
      case Input::Kind::kAdvance:
        status = engine_.AdvanceTo(in.event.time);
        break;
    }
    Report(status);
  }

  const int index_;
  const ShardedEngineOptions& options_;
  Engine engine_;
  std::vector<Input> open_;  // Producer side only.

  std::mutex mu_;
  std::condition_variable ready_;    // A batch was queued, or stop.
  std::condition_variable room_;     // A batch left the queue.
  std::condition_variable done_cv_;  // A batch was applied.
  std::deque<Work> queue_;
  std::vector<std::vector<Input>> spare_;  // Applied batches, for reuse.
  bool producer_waiting_ = false;  // Hand is waiting for room.
  int64_t handed_ = 0;
  int64_t applied_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

int ShardedEngine::ShardOf(absl::string_view subject_id, int shards) {
  // StableHash64({"shard", subject_id}), with the first part hashed once:
  // every input is routed through here, on the producer's thread.
  static const internal::StableHasher kPrefix = [] {
    internal::StableHasher h;
    h.Add("shard");
    return h;
  }();
  const uint64_t h = internal::StableHasher(kPrefix).Add(subject_id).Finish();
  return static_cast<int>(h % static_cast<uint64_t>(shards));
}

absl::StatusOr<std::unique_ptr<ShardedEngine>> ShardedEngine::Create(
    ShardedEngineOptions options, const std::function<absl::Status(int, Engine&)>& set_up) {
  if (options.shards < 1 || options.shards > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("shards is ", options.shards, "; it must be between 1 and 1024"));
  }
  if (options.batch_size < 1) return absl::InvalidArgumentError("batch_size must be at least 1");
  if (options.max_queued_batches < 1) {
    return absl::InvalidArgumentError("max_queued_batches must be at least 1");
  }
  CAIRN_RETURN_IF_ERROR(ValidateEngineOptions(options.engine));
  // Each shard's share of the limits must be one an engine accepts too.
  for (int i = 0; i < options.shards; ++i) {
    absl::Status shard_options = ValidateEngineOptions(ShardOptions(i, options));
    if (!shard_options.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("shard ", i, " of ", options.shards, ": ", shard_options.message()));
    }
  }
  std::unique_ptr<ShardedEngine> engine(new ShardedEngine(std::move(options)));
  for (int i = 0; i < engine->options_.shards; ++i) {
    engine->shards_.push_back(std::make_unique<Shard>(i, engine->options_));
    if (set_up) {
      absl::Status status = set_up(i, engine->shards_.back()->engine());
      if (!status.ok()) {
        return absl::Status(status.code(), absl::StrCat("shard ", i, ": ", status.message()));
      }
    }
  }
  for (auto& shard : engine->shards_) shard->Start();
  return engine;
}

ShardedEngine::ShardedEngine(ShardedEngineOptions options) : options_(std::move(options)) {}

ShardedEngine::~ShardedEngine() = default;  // Each Shard drains and joins.

int ShardedEngine::shards() const { return options_.shards; }

ShardedEngine::Shard& ShardedEngine::ShardFor(absl::string_view subject_id) {
  return *shards_[ShardOf(subject_id, options_.shards)];
}

absl::Status ShardedEngine::Ingest(Event event) {
  // No subject, no shard: refused here, in the engine's words.
  if (event.subject_id.empty()) return internal::CheckEventSubject(event);
  ShardFor(event.subject_id).AddEvent(std::move(event));
  return absl::OkStatus();
}

absl::Status ShardedEngine::IngestBatch(std::vector<Event> events) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].subject_id.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "batch event ", i, " (", events[i].name.empty() ? "unnamed" : events[i].name,
          "): subject_id is empty; no event of the batch was queued"));
    }
  }
  if (events.size() > UINT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch of ", events.size(), " events; at most ", UINT32_MAX, " per batch"));
  }
  // Routing is one hash and one 4-byte index per event on this thread; the
  // events themselves stay where they are, read by their shards.
  std::vector<std::vector<uint32_t>> picks(shards_.size());
  if (shards_.size() == 1) {
    picks[0].resize(events.size());
    for (size_t i = 0; i < events.size(); ++i) picks[0][i] = static_cast<uint32_t>(i);
  } else {
    for (auto& p : picks) p.reserve(events.size() / shards_.size() + events.size() / 16 + 1);
    for (size_t i = 0; i < events.size(); ++i) {
      picks[ShardOf(events[i].subject_id, options_.shards)].push_back(static_cast<uint32_t>(i));
    }
  }
  auto shared = std::make_shared<const std::vector<Event>>(std::move(events));
  for (size_t s = 0; s < shards_.size(); ++s) {
    if (!picks[s].empty()) shards_[s]->HandShared(shared, std::move(picks[s]));
  }
  return absl::OkStatus();
}

absl::Status ShardedEngine::Enroll(absl::string_view journey_id, absl::string_view subject_id,
                                   absl::Time time, Attributes context) {
  if (subject_id.empty()) return internal::CheckEnrollSubject(journey_id, subject_id);
  ShardFor(subject_id).Add([&](Input& in) {
    in.kind = Input::Kind::kEnroll;
    in.event.subject_id = std::string(subject_id);
    in.event.time = time;
    in.extra = std::make_unique<Input::Extra>();
    in.extra->text = std::string(journey_id);
    in.extra->attributes = std::move(context);
  });
  return absl::OkStatus();
}

absl::Status ShardedEngine::UpsertProfile(absl::string_view subject_id, Attributes attributes,
                                          absl::Time time, absl::string_view subject_type) {
  if (subject_id.empty()) return internal::CheckProfileSubject(subject_id);
  ShardFor(subject_id).Add([&](Input& in) {
    in.kind = Input::Kind::kProfile;
    in.event.subject_id = std::string(subject_id);
    in.event.subject_type = std::string(subject_type);
    in.event.time = time;
    in.extra = std::make_unique<Input::Extra>();
    in.extra->attributes = std::move(attributes);
  });
  return absl::OkStatus();
}

absl::Status ShardedEngine::ReportDelivery(absl::string_view subject_id,
                                           absl::string_view message_id,
                                           DeliveryOutcome outcome, absl::Time time,
                                           absl::string_view reason) {
  if (subject_id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("delivery report ", message_id, ": subject id is empty"));
  }
  ShardFor(subject_id).Add([&](Input& in) {
    in.kind = Input::Kind::kDelivery;
    in.outcome = outcome;
    in.event.subject_id = std::string(subject_id);
    in.event.time = time;
    in.extra = std::make_unique<Input::Extra>();
    in.extra->text = std::string(message_id);
    in.extra->reason = std::string(reason);
  });
  return absl::OkStatus();
}

void ShardedEngine::AdvanceTo(absl::Time time) {
  for (auto& shard : shards_) {
    shard->Add([&](Input& in) {
      in.kind = Input::Kind::kAdvance;
      in.event.time = time;
    });
  }
}

void ShardedEngine::Flush() {
  for (auto& shard : shards_) shard->Hand();
  for (auto& shard : shards_) shard->Wait();
}

int64_t ShardedEngine::RunScheduled(int64_t max_subjects) {
  Flush();
  int64_t remaining = 0;
  for (auto& shard : shards_) remaining += shard->engine().RunScheduled(max_subjects);
  return remaining;
}

absl::Status ShardedEngine::SetJourneyState(absl::string_view journey_id,
                                            v1::JourneyState state) {
  Flush();
  for (auto& shard : shards_) {
    CAIRN_RETURN_IF_ERROR(shard->engine().SetJourneyState(journey_id, state));
  }
  return absl::OkStatus();
}

absl::Status ShardedEngine::DeclareBehaviors(const v1::BehaviorSet& behaviors) {
  Flush();
  for (auto& shard : shards_) {
    CAIRN_RETURN_IF_ERROR(shard->engine().DeclareBehaviors(behaviors));
  }
  return absl::OkStatus();
}

absl::Status ShardedEngine::SeedBehavior(const BehaviorSeed& seed) {
  Flush();
  return ShardFor(seed.subject_id).engine().SeedBehavior(seed);
}

absl::Status ShardedEngine::Forget(absl::string_view subject_id, absl::Time time,
                                   absl::string_view subject_type) {
  if (subject_id.empty()) return absl::InvalidArgumentError("Forget: subject id is empty");
  Flush();
  return ShardFor(subject_id).engine().Forget(subject_id, time, subject_type);
}

absl::Status ShardedEngine::MergeSubjects(absl::string_view from_id, absl::string_view into_id,
                                          absl::Time time, absl::string_view subject_type) {
  if (from_id.empty() || into_id.empty()) {
    return absl::InvalidArgumentError("MergeSubjects: an id is empty");
  }
  const int shards = static_cast<int>(shards_.size());
  if (ShardOf(from_id, shards) != ShardOf(into_id, shards)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "MergeSubjects: ", internal::Escaped(from_id), " and ", internal::Escaped(into_id),
        " are on different shards (", ShardOf(from_id, shards), " and ",
        ShardOf(into_id, shards), "); a merge moves state within one engine"));
  }
  Flush();
  return ShardFor(into_id).engine().MergeSubjects(from_id, into_id, time, subject_type);
}

absl::StatusOr<v1::SubjectReport> ShardedEngine::Inspect(absl::string_view subject_type,
                                                         absl::string_view subject_id) {
  Flush();
  return ShardFor(subject_id).engine().Inspect(subject_type, subject_id);
}

absl::StatusOr<Value> ShardedEngine::BehaviorValue(absl::string_view subject_type,
                                                   absl::string_view subject_id,
                                                   absl::string_view behavior) {
  Flush();
  return ShardFor(subject_id).engine().BehaviorValue(subject_type, subject_id, behavior);
}

absl::StatusOr<v1::JourneyReport> ShardedEngine::Report(absl::string_view journey_id) {
  Flush();
  std::vector<v1::JourneyReport> reports;
  for (auto& shard : shards_) {
    CAIRN_ASSIGN_OR_RETURN(v1::JourneyReport report, shard->engine().Report(journey_id));
    reports.push_back(std::move(report));
  }
  return MergeJourneyReports(reports);
}

EngineStats ShardedEngine::stats() {
  Flush();
  EngineStats sum;
  for (auto& shard : shards_) sum += shard->engine().stats();
  return sum;
}

absl::Status ShardedEngine::Snapshot(int shard, std::ostream& out) {
  if (shard < 0 || shard >= options_.shards) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard ", shard, " does not exist (", options_.shards, " shards)"));
  }
  Flush();
  return shards_[shard]->engine().Snapshot(out);
}

}  // namespace cairn
