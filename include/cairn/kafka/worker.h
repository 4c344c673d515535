// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// cairn::kafka::Worker: runs Cairn on a partitioned Kafka input topic, as a
// member of a consumer group. Each partition assigned to the worker gets its
// own Engine, restored from the partition's newest checkpoint; the worker
// reads the partition's records (cairn/kafka/record.h) in offset order and
// applies each to that engine. Messages go to the message topic and profile
// write-backs to the profile topic (cairn/kafka/output.h), through an
// idempotent producer.
//
// Effectively once. Every `checkpoint_every_records` records of a
// partition, every `checkpoint_interval`, on revocation and on Close, the
// worker waits until the broker has acknowledged every output so far, then
// saves the engine's snapshot with the offset of the next record to the
// CheckpointStore, then commits that offset to the group. A worker that
// takes the partition over (after a crash or a rebalance) restores that
// checkpoint and reads on from its offset. Because the engine is
// deterministic and its time comes only from the records (event times and
// tick records, never a clock), the records after the checkpoint produce
// the same messages with the same ids again: the message topic may hold a
// repeat of an id, never a new one, and never misses one. Downstream
// senders de-duplicate by the "cairn-message-id" header (docs/scale-out.md).
//
// The checkpoint, not the group's committed offset, says where to resume:
// the committed offset is there for lag monitoring. A checkpoint that is
// corrupt is skipped (with a warning) for the previous one; with none the
// partition starts from its beginning, with a warning. A checkpoint that is
// intact but does not restore (a build that cannot read it, other engine
// options) is an error: the worker never guesses.
//
// Journeys change through the log, never through a worker's own
// configuration: a deploy record or a state change (cairn/kafka/record.h,
// written into every partition by `cairn deploy` / BroadcastWriter) is
// applied at its offset, and the journeys a partition has deployed are part
// of its checkpoint (PartitionSnapshot). So every replay deploys at the same
// point. `journeys` are the partition's journeys at the start of its log.
// Each partition applies or refuses such a record on its own (a deploy its
// engine refuses is refused on every partition with the same versions, but
// partitions restored from older builds' checkpoints may differ), so the
// worker reports every outcome per partition: a log line, WorkerStats
// (journey_changes, journey_changes_refused), the partition's health line
// (the newest version of each journey it runs, and its refusals), and a
// deploy-result record (cairn/kafka/output.h) when `deploy_result_topic` is
// set.
//
// Bad records — ones that do not decode — are counted and logged with
// their partition:offset and skipped; inputs the engine rejects (late,
// duplicate, unknown message id) are counted as rejected. Neither stops the
// worker. Only a failure that could lose or repeat work is an error: a
// checkpoint that cannot be saved or restored, or a message the producer
// could not deliver. Then Poll returns the error and the worker must be
// dropped without Close; its partitions resume from their last checkpoints.
//
// Thread-safety: a Worker is used by one thread at a time.
//
// Example:
//   CAIRN_ASSIGN_OR_RETURN(auto store, DirectoryCheckpointStore::Open("/var/cairn"));
//   WorkerOptions options;
//   options.brokers = "kafka-1:9092,kafka-2:9092";
//   options.group = "cairn-shop";
//   options.input_topic = "shop-inputs";
//   options.message_topic = "shop-messages";
//   options.profile_topic = "shop-profiles";
//   CAIRN_ASSIGN_OR_RETURN(options.journeys, LoadJourneys("/etc/cairn/journeys"));
//   options.checkpoints = store.get();
//   CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Worker> worker, Worker::Create(options));
//   while (!stop) CAIRN_RETURN_IF_ERROR(worker->Poll(absl::Milliseconds(100)));
//   CAIRN_RETURN_IF_ERROR(worker->Close());

#ifndef CAIRN_KAFKA_WORKER_H_
#define CAIRN_KAFKA_WORKER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/kafka/checkpoint.h"
#include "cairn/kafka/output.h"
#include "cairn/options.h"
#include "cairn/v1/behavior.pb.h"
#include "cairn/v1/journey.pb.h"

namespace cairn::kafka {

// Where the worker's health lines go: assignments, restores, checkpoints,
// per-partition lag, bad records. Called on the worker's thread.
class WorkerLog {
 public:
  virtual ~WorkerLog() = default;
  virtual void Info(absl::string_view line) = 0;
  virtual void Warning(absl::string_view line) = 0;
};

struct WorkerOptions {
  // Kafka bootstrap servers, "host:port,...". Required.
  std::string brokers;
  // The consumer group. Required.
  std::string group;
  // The input topic (every engine input, keyed by subject). Required.
  std::string input_topic;
  // Where messages go. Required.
  std::string message_topic;
  // Where profile write-backs go; empty: they are not published (the
  // engines still apply them to their own profiles).
  std::string profile_topic;
  // Where each partition's result of each deploy and state-change record
  // goes (JourneyChangeResult, keyed by journey id); empty: not published
  // (the log, stats and health lines still show them). The topic must
  // exist: an output that cannot be delivered stops the worker.
  std::string deploy_result_topic;

  // The journeys a partition's engine deploys when it starts from the
  // beginning of its log, in this order (as LoadJourneys gives them); a
  // partition restored from a checkpoint runs the journeys the checkpoint
  // holds instead. Every worker of a group must have the same ones.
  // Required.
  std::vector<v1::Journey> journeys;
  // The behaviours a partition's engine declares, before deploying
  // `journeys`, when it starts from the beginning of its log (a restored
  // partition has its checkpoint's). Every worker of a group must have the
  // same ones.
  v1::BehaviorSet behaviors;
  // The engines' options; the same in every worker of the group. Each
  // partition's engine enforces its part of engine.limit_share, split by
  // the input topic's partition count (read from the brokers when the
  // partition is assigned), so that the group together keeps within every
  // entry and rate limit, as a ShardedEngine's shards do.
  EngineOptions engine;

  // Not owned; must outlive the worker. Required.
  CheckpointStore* checkpoints = nullptr;
  // A partition is checkpointed after this many records since its last
  // checkpoint (>= 1)...
  int64_t checkpoint_every_records = 100000;
  // ...or when it has records not yet checkpointed and this much time (of
  // the host's steady clock: it decides only when checkpoints are taken,
  // never what the engines do) has passed since the last checkpoint (> 0).
  absl::Duration checkpoint_interval = absl::Seconds(30);
  // How long a checkpoint may wait for the broker to acknowledge the
  // outputs so far (> 0). If they are not acknowledged by then, Poll fails.
  absl::Duration flush_timeout = absl::Seconds(60);
  // How often a health line per partition is logged (> 0).
  absl::Duration health_interval = absl::Seconds(60);

  // Extra librdkafka properties for the consumer and the producer, e.g.
  // {"security.protocol", "ssl"}. The worker sets bootstrap.servers,
  // group.id, enable.auto.commit=false, enable.auto.offset.store=false,
  // enable.partition.eof, enable.idempotence=true and acks=all itself;
  // setting them here is an error.
  std::vector<std::pair<std::string, std::string>> client_config;

  // Not owned; null: lines go to stderr.
  WorkerLog* log = nullptr;
};

// A record that did not decode.
struct BadRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string error;
};

// Counters since the worker was created. Records are counted each time they
// are read: after a restore, records already read before are read again.
struct WorkerStats {
  int64_t records_applied = 0;   // the engine took the input
  int64_t records_rejected = 0;  // decoded, but the engine refused it
  int64_t records_bad = 0;       // did not decode (see bad_records)
  int64_t messages_produced = 0;
  int64_t profile_writes_produced = 0;
  int64_t checkpoints_saved = 0;
  int64_t checkpoint_bytes = 0;    // of the snapshots saved
  int64_t partitions_assigned = 0;  // each assignment of each partition
  int64_t partitions_revoked = 0;
  int64_t restored_from_checkpoint = 0;
  int64_t started_from_beginning = 0;  // the partition had no checkpoint
  int64_t checkpoint_warnings = 0;     // corrupt checkpoints skipped
  int64_t journeys_deployed = 0;       // by deploy records
  int64_t journey_states_changed = 0;  // by state records
  int64_t behaviors_declared = 0;      // by behaviors records
  // Deploy, state and behaviors records an engine refused (also in
  // records_rejected).
  int64_t journey_changes_refused = 0;
  int64_t deploy_results_produced = 0;  // to deploy_result_topic
  // The first 1000 bad records, in the order read.
  std::vector<BadRecord> bad_records;
  // What each partition did with each deploy, state and behaviors record, in the order
  // read (the first 1000).
  std::vector<JourneyChangeResult> journey_changes;
};

// What a worker stores as a partition's checkpoint (Checkpoint::snapshot):
// the journeys its engine has deployed, in deploy order (the worker's
// journeys, then those deployed by deploy records), and the engine's
// snapshot. A worker restoring the partition deploys exactly these before
// Engine::Restore (with Engine::DeployForRestore: each passed its checks when
// the partition first deployed it), whatever its own `journeys` say: they
// are the partition's state, as the deploy records in its log made it.
struct PartitionSnapshot {
  std::vector<v1::Journey> journeys;
  std::string engine_snapshot;
};

// The bytes of a PartitionSnapshot: "CAIRNWP1", the number of journeys and
// each serialized (varint length first), then the engine snapshot.
std::string EncodePartitionSnapshot(const PartitionSnapshot& snapshot);

// DataLoss naming what is wrong when `bytes` are not a PartitionSnapshot.
absl::StatusOr<PartitionSnapshot> DecodePartitionSnapshot(absl::string_view bytes);

class Worker {
 public:
  // Checks the options, compiles the journeys (each engine deploys them)
  // and connects to the brokers, joining the group. InvalidArgument naming
  // the option that is wrong or the journey that does not deploy;
  // Internal with librdkafka's message when a client cannot be created.
  static absl::StatusOr<std::unique_ptr<Worker>> Create(WorkerOptions options);

  // Leaves the group without checkpointing, as if the process had stopped:
  // call Close first to hand the partitions over cleanly.
  ~Worker();

  // Reads and applies the records that arrive within `timeout` (at least
  // one poll), serves rebalances (checkpointing revoked partitions,
  // restoring assigned ones), takes the checkpoints that are due and logs
  // health when due. An error is fatal (see the file comment).
  absl::Status Poll(absl::Duration timeout);

  // Checkpoints every assigned partition that has records not yet
  // checkpointed, commits, and leaves the group. Poll must not be called
  // afterwards. The first fatal error, if any.
  absl::Status Close();

  // The partitions assigned now, sorted.
  std::vector<int32_t> partitions() const;

  // For a partition assigned now: the offset of the next record to read.
  // NotFound otherwise.
  absl::StatusOr<int64_t> next_offset(int32_t partition) const;

  WorkerStats stats() const;

  class Impl;

 private:
  explicit Worker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::kafka

#endif  // CAIRN_KAFKA_WORKER_H_
