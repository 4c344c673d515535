// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// cairn::ShardedEngine: N Engines on N threads, one per shard, with subjects
// partitioned by a documented stable hash. Inputs are routed to their
// subject's shard and queued there in call order; each shard applies its
// queue on its own thread, so a subject's inputs are applied in order and
// its outputs (sink calls, observer steps) happen on its shard's thread.
//
// Determinism: each shard is an Engine fed a deterministic input sequence,
// so the same inputs and shard count give the same outputs. With inputs in
// time order, every subject's outputs and the merged reports equal those of
// one Engine over the same inputs, for any shard count. (Engine time is per
// shard: an out-of-order input is judged late against its own shard's time.)
// The one exception is a binding entry or rate limit: each shard enforces
// its share of every such limit (EngineOptions::limit_share, set here to
// the shard's part of options.engine.limit_share), so the shards together
// never enter or send more than the limit, yet may enter or send less than
// one Engine would when their subjects' load is uneven.
//
// The partition: shard = StableHash64({"shard", subject id}) % shards (see
// cairn/hash.h), so a host can route related work the same way. The subject
// type does not take part: a subject id's inputs of every type meet on one
// shard, which is what an audience enrollment (typed by its journey) needs.
//
// Thread-safety: the input methods, Flush, Report, stats and the journey
// state change must be called from one thread at a time (the producer).
// Sinks and observers registered on a shard's Engine are called only on that
// shard's thread; a sink shared by several shards must be thread-safe.
//
// Example:
//   cairn::ShardedEngineOptions options;
//   options.shards = 2;
//   auto engine = cairn::ShardedEngine::Create(
//       options, [&](int shard, cairn::Engine& e) -> absl::Status {
//         CAIRN_RETURN_IF_ERROR(e.RegisterChannel("push", &push_sinks[shard]));
//         return e.Deploy(journey);
//       });
//   CAIRN_RETURN_IF_ERROR((*engine)->Ingest(event));
//   (*engine)->Flush();
//   auto report = (*engine)->Report("cart_abandonment");

#ifndef CAIRN_SHARDED_ENGINE_H_
#define CAIRN_SHARDED_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "cairn/engine.h"
#include "cairn/event.h"
#include "cairn/options.h"
#include "cairn/report.h"  // IWYU pragma: export (MergeJourneyReports)
#include "cairn/v1/report.pb.h"

namespace cairn {

struct ShardedEngineOptions {
  // Number of shards, each an Engine on its own thread. Default 1.
  // REQUIRES: 1..1024.
  int shards = 1;
  // Options of every shard's Engine, each with its part of
  // engine.limit_share (see above). REQUIRES: each shard's options valid
  // (every engine rate limit at least shards × limit_share.parts messages).
  EngineOptions engine;
  // Inputs collected per shard before they are handed to its thread: larger
  // batches cost less per input, smaller ones apply sooner. Flush() hands
  // over partial batches. Default 512. REQUIRES: >= 1.
  int batch_size = 512;
  // Batches queued per shard at most; an input for a full shard blocks the
  // caller until the shard catches up (back-pressure, bounded memory).
  // Default 64. REQUIRES: >= 1.
  int max_queued_batches = 64;
  // Called on the shard's thread with every status an input got from the
  // shard's Engine other than OK (the Engine also counts it in its stats).
  // May be empty.
  std::function<void(int shard, const absl::Status& status)> on_rejected;
};

class ShardedEngine {
 public:
  // The shard of a subject id, as documented above. REQUIRES: shards >= 1.
  static int ShardOf(absl::string_view subject_id, int shards);

  // Creates the shards. `set_up(shard, engine)` is called once per shard, on
  // the caller's thread before any shard thread starts: register channels,
  // profile sink and observer, deploy the journeys (every shard must deploy
  // the same ones), or restore the shard's snapshot. The first error it
  // returns is returned, as are invalid options (InvalidArgument).
  static absl::StatusOr<std::unique_ptr<ShardedEngine>> Create(
      ShardedEngineOptions options, const std::function<absl::Status(int, Engine&)>& set_up);

  ShardedEngine(const ShardedEngine&) = delete;
  ShardedEngine& operator=(const ShardedEngine&) = delete;
  // Applies every queued input, then stops the threads.
  ~ShardedEngine();

  // ---- Inputs: queued to the subject's shard, applied asynchronously ----
  // Each returns InvalidArgument without queueing when the subject id is
  // empty (it has no shard; Ingest and UpsertProfile word it as the Engine
  // does), and OK otherwise; the Engine's own verdict goes to on_rejected
  // and the shard's stats.

  absl::Status Ingest(Event event);

  // Queues a batch of events, as Ingest would one by one in this order,
  // without moving each event: the batch is shared by the shards, each
  // applying its own events, and freed when the last is done. This leaves
  // the calling thread one hash and one 4-byte index per event, which is
  // what lets a second shard's work run beside the first on two cores. Any
  // other input queued after it is applied after its events of the same
  // subject. InvalidArgument, and nothing queued, when an event's subject
  // id is empty (naming its index).
  absl::Status IngestBatch(std::vector<Event> events);
  absl::Status Enroll(absl::string_view journey_id, absl::string_view subject_id,
                      absl::Time time, Attributes context = {});
  absl::Status UpsertProfile(absl::string_view subject_id, Attributes attributes,
                             absl::Time time, absl::string_view subject_type = "");
  // Routed by the message's subject (Message::subject_id).
  absl::Status ReportDelivery(absl::string_view subject_id, absl::string_view message_id,
                              DeliveryOutcome outcome, absl::Time time,
                              absl::string_view reason = "");
  // Queued to every shard.
  void AdvanceTo(absl::Time time);

  // ---- Synchronous ----

  // Blocks until every input queued so far has been applied.
  void Flush();

  // Flushes, then runs Engine::RunScheduled(max_subjects) on every shard
  // (each shard evaluates its own subjects); returns the subjects the runs
  // in progress still hold, summed over shards.
  int64_t RunScheduled(int64_t max_subjects);

  // Flushes, then changes the journey's state on every shard. NotFound /
  // InvalidArgument as Engine::SetJourneyState.
  absl::Status SetJourneyState(absl::string_view journey_id, v1::JourneyState state);

  // Flushes, then declares `behaviors` on every shard, in shard order
  // (Engine::DeclareBehaviors), each at its own engine time. Every shard
  // has the same journeys, so a set one shard refuses every shard refuses:
  // the first shard's error is returned and no shard has changed.
  absl::Status DeclareBehaviors(const v1::BehaviorSet& behaviors);

  // Flushes, then seeds the subject's behaviour on its shard
  // (Engine::SeedBehavior), returning that engine's status: seeds are set-up
  // work, applied in order with the subject's other inputs.
  absl::Status SeedBehavior(const BehaviorSeed& seed);

  // Flushes, then forgets the subject on its shard (Engine::Forget),
  // returning that engine's status, so that a host can confirm an erasure
  // request once it returns OK.
  absl::Status Forget(absl::string_view subject_id, absl::Time time,
                      absl::string_view subject_type = "");

  // Flushes, then merges `from_id` into `into_id` on their shard
  // (Engine::MergeSubjects), returning that engine's status.
  // FailedPrecondition when the two ids are on different shards: a merge
  // moves state within one engine (route both ids of a person to one
  // shard, e.g. by a shared key, to merge them).
  absl::Status MergeSubjects(absl::string_view from_id, absl::string_view into_id,
                             absl::Time time, absl::string_view subject_type = "");

  // Flushes, then the subject's value of a behaviour, from its shard
  // (Engine::BehaviorValue).
  absl::StatusOr<Value> BehaviorValue(absl::string_view subject_type,
                                      absl::string_view subject_id,
                                      absl::string_view behavior);

  // Flushes, then where the subject is, from its shard (Engine::Inspect).
  absl::StatusOr<v1::SubjectReport> Inspect(absl::string_view subject_type,
                                            absl::string_view subject_id);

  // Flushes, then the counters of every shard, summed (MergeJourneyReports).
  absl::StatusOr<v1::JourneyReport> Report(absl::string_view journey_id);

  // Flushes, then every shard's stats, summed.
  EngineStats stats();

  // Flushes, then writes shard `shard`'s snapshot (Engine::Snapshot). To
  // restore, create a ShardedEngine with the same shard count and restore
  // each shard's snapshot in set_up. InvalidArgument for a bad shard.
  absl::Status Snapshot(int shard, std::ostream& out);

  int shards() const;

 private:
  class Shard;
  explicit ShardedEngine(ShardedEngineOptions options);
  Shard& ShardFor(absl::string_view subject_id);

  const ShardedEngineOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace cairn

#endif  // CAIRN_SHARDED_ENGINE_H_
