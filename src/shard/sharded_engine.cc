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
#include "exec/engine_state.h"
#include "exec/stable_hasher.h"

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
  Kind kind = Kind::kEvent;
  DeliveryOutcome outcome = DeliveryOutcome::kDelivered;
  Event event;  // kEvent; kEnroll/kProfile/kDelivery use its subject, kAdvance its time.
  std::unique_ptr<Extra> extra;  // kEnroll, kProfile, kDelivery.
};

}  // namespace

class ShardedEngine::Shard {
 public:
  Shard(int index, const ShardedEngineOptions& options)
      : index_(index), options_(options), engine_(options.engine) {
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
    if (open_.size() >= static_cast<size_t>(options_.batch_size)) Hand();
  }

  // Queues the open batch, waiting while the queue is full.
  void Hand() {
    if (open_.empty()) return;
    std::unique_lock<std::mutex> lock(mu_);
    room_.wait(lock, [&] {
      return queue_.size() < static_cast<size_t>(options_.max_queued_batches);
    });
    queue_.push_back(std::move(open_));
    ++handed_;
    // Reuse an applied batch's storage: no allocation per batch.
    if (!spare_.empty()) {
      open_ = std::move(spare_.back());
      spare_.pop_back();
    } else {
      open_ = std::vector<Input>();
    }
    lock.unlock();
    ready_.notify_one();
    open_.reserve(static_cast<size_t>(options_.batch_size));
  }

  // Waits until every handed batch has been applied.
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return applied_ == handed_; });
  }

 private:
  void Run() {
    std::vector<Input> batch;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // Stopping, and nothing left.
        batch = std::move(queue_.front());
        queue_.pop_front();
      }
      room_.notify_one();
      for (Input& input : batch) Apply(input);
      batch.clear();
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++applied_;
        if (spare_.size() < 2) spare_.push_back(std::move(batch));
      }
      batch = std::vector<Input>();
      done_cv_.notify_all();
    }
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
    if (!status.ok() && options_.on_rejected) options_.on_rejected(index_, status);
  }

  const int index_;
  const ShardedEngineOptions& options_;
  Engine engine_;
  std::vector<Input> open_;  // Producer side only.

  std::mutex mu_;
  std::condition_variable ready_;    // A batch was queued, or stop.
  std::condition_variable room_;     // A batch left the queue.
  std::condition_variable done_cv_;  // A batch was applied.
  std::deque<std::vector<Input>> queue_;
  std::vector<std::vector<Input>> spare_;  // Applied batches, for reuse.
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
  if (event.subject_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "event ", event.name.empty() ? "(unnamed)" : event.name, ": subject_id is empty"));
  }
  ShardFor(event.subject_id).Add([&](Input& in) { in.event = std::move(event); });
  return absl::OkStatus();
}

absl::Status ShardedEngine::Enroll(absl::string_view journey_id, absl::string_view subject_id,
                                   absl::Time time, Attributes context) {
  if (subject_id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("enrollment in ", journey_id, ": subject id is empty"));
  }
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
  if (subject_id.empty()) {
    return absl::InvalidArgumentError("profile update: subject id is empty");
  }
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

absl::Status ShardedEngine::SetJourneyState(absl::string_view journey_id,
                                            v1::JourneyState state) {
  Flush();
  for (auto& shard : shards_) {
    CAIRN_RETURN_IF_ERROR(shard->engine().SetJourneyState(journey_id, state));
  }
  return absl::OkStatus();
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
  for (auto& shard : shards_) {
    EngineStats s = shard->engine().stats();
    const std::vector<int64_t*> from = internal::StatFields(&s);
    const std::vector<int64_t*> into = internal::StatFields(&sum);
    for (size_t i = 0; i < from.size(); ++i) *into[i] += *from[i];
    sum.subjects += s.subjects;
    sum.enrollments_in_flight += s.enrollments_in_flight;
  }
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
