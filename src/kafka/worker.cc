// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/kafka/worker.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"
#include "cairn/engine.h"
#include "cairn/journey_io.h"
#include "cairn/kafka/output.h"
#include "cairn/kafka/record.h"
#include "cairn/sink.h"
#include "cairn/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "kafka/client.h"
#include "kafka/json_write.h"

namespace cairn::kafka {

using internal::KafkaHandle;
using internal::MessageHandle;
using internal::PartitionList;
using internal::Quote;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr size_t kMaxBadRecordsKept = 1000;
constexpr size_t kMaxJourneyChangesKept = 1000;
const std::string kFormatHeaderName(kFormatHeader);  // NUL-terminated
const std::string kMessageIdHeaderName(kMessageIdHeader);

class StderrLog final : public WorkerLog {
 public:
  void Info(absl::string_view line) override {
    std::fprintf(stderr, "cairn worker: %.*s\n", static_cast<int>(line.size()), line.data());
  }
  void Warning(absl::string_view line) override {
    std::fprintf(stderr, "cairn worker: WARNING: %.*s\n", static_cast<int>(line.size()),
                 line.data());
  }
};

int Milliseconds(absl::Duration d) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 0, 1 << 30));
}

SteadyClock::duration ToSteady(absl::Duration d) {
  return std::chrono::duration_cast<SteadyClock::duration>(absl::ToChronoNanoseconds(d));
}

// Every channel a journey's actions send on.
std::set<std::string> ChannelsOf(const v1::Journey& journey) {
  std::set<std::string> channels;
  for (const v1::Node& node : journey.nodes()) {
    if (node.has_action()) channels.insert(node.action().channel());
  }
  return channels;
}

// The versions of journey `id` among `journeys` (a partition's, in deploy
// order), oldest first.
std::vector<int64_t> VersionsOf(const std::vector<v1::Journey>& journeys, absl::string_view id) {
  std::vector<int64_t> versions;
  for (const v1::Journey& journey : journeys) {
    if (journey.id() == id) versions.push_back(journey.version());
  }
  return versions;
}

// "cart_abandonment@2,welcome@1": each journey a partition has deployed, by
// id, with the version that takes its new entries. (Deployed ids passed the
// compiler's character rules, so they print as they are.)
std::string NewestVersions(const std::vector<v1::Journey>& journeys) {
  std::map<std::string, int64_t> newest;
  for (const v1::Journey& journey : journeys) {
    int64_t& version = newest[journey.id()];
    version = std::max(version, journey.version());
  }
  return absl::StrJoin(newest, ",", [](std::string* out, const auto& entry) {
    absl::StrAppend(out, entry.first, "@", entry.second);
  });
}

constexpr absl::string_view kPartitionSnapshotMagic = "CAIRNWP1";

absl::Status CheckOptions(const WorkerOptions& o) {
  auto required = [](absl::string_view name, const std::string& value) {
    return value.empty() ? absl::InvalidArgumentError(absl::StrCat(name, " is required"))
                         : absl::OkStatus();
  };
  CAIRN_RETURN_IF_ERROR(required("brokers", o.brokers));
  CAIRN_RETURN_IF_ERROR(required("group", o.group));
  CAIRN_RETURN_IF_ERROR(required("input_topic", o.input_topic));
  CAIRN_RETURN_IF_ERROR(required("message_topic", o.message_topic));
  if (o.message_topic == o.input_topic || o.profile_topic == o.input_topic ||
      o.deploy_result_topic == o.input_topic) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the input topic \"", o.input_topic, "\" cannot also be an output topic"));
  }
  if (o.journeys.empty()) return absl::InvalidArgumentError("journeys is empty");
  if (o.checkpoints == nullptr) return absl::InvalidArgumentError("checkpoints is required");
  if (o.checkpoint_every_records < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint_every_records is ", o.checkpoint_every_records, ": must be >= 1"));
  }
  for (const auto& [name, value] :
       {std::pair<const char*, absl::Duration>{"checkpoint_interval", o.checkpoint_interval},
        {"flush_timeout", o.flush_timeout},
        {"health_interval", o.health_interval}}) {
    if (value <= absl::ZeroDuration() || value == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " is ", absl::FormatDuration(value), ": must be finite and > 0"));
    }
  }
  return ValidateEngineOptions(o.engine);
}

}  // namespace

// Produces messages and write-backs. Sends never fail in the engine's eyes:
// the engine must do the same whatever the broker does, so that a replay
// gives the same ids. A message the producer refuses or cannot deliver makes
// the worker fail instead, before the next checkpoint, so that the records
// that sent it are read again by the partition's next owner.
class OutputSink final : public ChannelSink, public ProfileSink {
 public:
  explicit OutputSink(Worker::Impl* worker) : worker_(worker) {}
  SendResult Send(const Message& message) override;
  void Write(const ProfileWrite& write) override;

 private:
  Worker::Impl* worker_;
};

class Worker::Impl {
 public:
  explicit Impl(WorkerOptions options)
      : options_(std::move(options)),
        log_(options_.log != nullptr ? options_.log : &stderr_log_),
        sink_(this) {}

  ~Impl() {
    // Leaving without a checkpoint: the revocation that closing the
    // consumer triggers must not checkpoint.
    abandoning_ = true;
    if (consumer_ != nullptr && !closed_) rd_kafka_consumer_close(consumer_.get());
    consumer_.reset();
    producer_.reset();
  }

  absl::Status Init();
  absl::Status Poll(absl::Duration timeout);
  absl::Status Close();

  std::vector<int32_t> partitions() const {
    std::vector<int32_t> out;
    for (const auto& [p, state] : partitions_) out.push_back(p);
    return out;
  }
  absl::StatusOr<int64_t> next_offset(int32_t partition) const {
    auto it = partitions_.find(partition);
    if (it == partitions_.end()) {
      return absl::NotFoundError(absl::StrCat("partition ", partition, " is not assigned"));
    }
    return it->second.next_offset;
  }
  const WorkerStats& stats() const { return stats_; }
  const WorkerOptions& options() const { return options_; }

  // Produces one output record; `produced` counts it once the producer has
  // taken it.
  void Produce(const std::string& topic, const std::string& key, const std::string& value,
               absl::string_view message_id, int64_t* produced);
  WorkerStats& mutable_stats() { return stats_; }
  void OnDelivery(const rd_kafka_message_t* message);
  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);

 private:
  // One assigned partition.
  struct PartitionState {
    std::unique_ptr<Engine> engine;
    // The journeys the engine has deployed, in order (PartitionSnapshot).
    std::vector<v1::Journey> journeys;
    // The offset of the next record; -1 until the first record when the
    // partition started from its beginning.
    int64_t next_offset = -1;
    int64_t records_since_checkpoint = 0;
    int64_t records = 0, rejected = 0, bad = 0;
    // Deploy and state records refused since the partition was assigned
    // here, and the last of them ("181240 (deploy of journey ...)").
    int64_t changes_refused = 0;
    std::string last_refused;
    int64_t checkpoint_offset = -1;
    SteadyClock::time_point last_checkpoint;
  };

  // An engine with `journeys` deployed in order, enforcing `share` of the
  // group's entry and rate limits (EngineOptions::limit_share).
  // `restoring`: they are a checkpoint's, deployed with DeployForRestore.
  absl::StatusOr<std::unique_ptr<Engine>> NewEngine(const std::vector<v1::Journey>& journeys,
                                                    bool restoring, LimitShare share);
  // Partition `partition`'s part of the share options_.engine gives the
  // group: the topic's partitions split it, as a ShardedEngine's shards do.
  absl::StatusOr<LimitShare> PartitionShare(int32_t partition);
  absl::Status RegisterChannels(const v1::Journey& journey, Engine& engine);
  void ApplyJourneyChange(int32_t partition, int64_t offset, const EngineInput& input,
                          PartitionState& state);
  absl::Status Assign(int32_t partition, int64_t* start_offset);
  absl::Status Checkpoint(int32_t partition, PartitionState& state, absl::string_view why);
  void Apply(const rd_kafka_message_t* message);
  void LogHealth();
  void Fail(absl::Status status) {
    if (fatal_.ok()) {
      fatal_ = std::move(status);
      log_->Warning(absl::StrCat("stopping: ", fatal_.message()));
    }
  }

  WorkerOptions options_;
  StderrLog stderr_log_;
  WorkerLog* log_;
  OutputSink sink_;
  KafkaHandle producer_;
  KafkaHandle consumer_;
  std::map<int32_t, PartitionState> partitions_;
  WorkerStats stats_;
  absl::Status fatal_;
  int polls_since_producer_poll_ = 0;
  bool abandoning_ = false;
  bool closed_ = false;
  SteadyClock::time_point last_health_ = SteadyClock::now();
};

SendResult OutputSink::Send(const Message& message) {
  worker_->Produce(worker_->options().message_topic, message.subject_id,
                   EncodeMessageRecord(message), message.message_id,
                   &worker_->mutable_stats().messages_produced);
  return SendResult::Accepted();
}

void OutputSink::Write(const ProfileWrite& write) {
  if (worker_->options().profile_topic.empty()) return;
  worker_->Produce(worker_->options().profile_topic, write.subject_id,
                   EncodeProfileWriteRecord(write), "",
                   &worker_->mutable_stats().profile_writes_produced);
}

namespace {

void DeliveryCallback(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  static_cast<Worker::Impl*>(opaque)->OnDelivery(message);
}

void RebalanceCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<Worker::Impl*>(opaque)->OnRebalance(err, partitions);
}

}  // namespace

absl::Status Worker::Impl::Init() {
  CAIRN_RETURN_IF_ERROR(CheckOptions(options_));
  // Every journey must deploy: better now than on the first assignment.
  CAIRN_RETURN_IF_ERROR(
      NewEngine(options_.journeys, /*restoring=*/false, options_.engine.limit_share).status());

  const std::vector<absl::string_view> reserved = {
      "bootstrap.servers", "group.id", "enable.auto.commit", "enable.auto.offset.store",
      "enable.partition.eof", "enable.idempotence", "acks"};
  CAIRN_ASSIGN_OR_RETURN(producer_, internal::NewIdempotentProducer(
                                        options_.brokers, options_.client_config, reserved,
                                        DeliveryCallback, this));
  {
    CAIRN_ASSIGN_OR_RETURN(internal::ConfHandle conf,
                           internal::NewConf(options_.client_config, reserved));
    CAIRN_RETURN_IF_ERROR(internal::SetConf(conf.get(), "bootstrap.servers", options_.brokers));
    CAIRN_RETURN_IF_ERROR(internal::SetConf(conf.get(), "group.id", options_.group));
    CAIRN_RETURN_IF_ERROR(internal::SetConf(conf.get(), "enable.auto.commit", "false"));
    CAIRN_RETURN_IF_ERROR(internal::SetConf(conf.get(), "enable.auto.offset.store", "false"));
    CAIRN_RETURN_IF_ERROR(internal::SetConf(conf.get(), "enable.partition.eof", "false"));
    rd_kafka_conf_set_rebalance_cb(conf.get(), RebalanceCallback);
    rd_kafka_conf_set_opaque(conf.get(), this);
    CAIRN_ASSIGN_OR_RETURN(consumer_, internal::NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  }
  rd_kafka_poll_set_consumer(consumer_.get());
  PartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), options_.input_topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_.get(), topics.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("cannot subscribe to \"", options_.input_topic,
                                            "\": ", rd_kafka_err2str(err)));
  }
  log_->Info(absl::StrCat("joining group \"", options_.group, "\" on topic \"",
                          options_.input_topic, "\" with ", options_.journeys.size(),
                          " journeys"));
  return absl::OkStatus();
}

// Every channel goes to the message topic; a journey deployed later may
// bring new ones.
absl::Status Worker::Impl::RegisterChannels(const v1::Journey& journey, Engine& engine) {
  for (const std::string& channel : ChannelsOf(journey)) {
    absl::Status s = engine.RegisterChannel(channel, &sink_);
    if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<LimitShare> Worker::Impl::PartitionShare(int32_t partition) {
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(options_.flush_timeout));
  CAIRN_ASSIGN_OR_RETURN(const int partitions, internal::PartitionCount(
                                                   producer_.get(), options_.input_topic,
                                                   timeout_ms));
  if (partition < 0 || partition >= partitions) {
    return absl::InternalError(absl::StrCat("partition ", partition, " is not one of the ",
                                            partitions, " of \"", options_.input_topic, "\""));
  }
  return ComposeShares(options_.engine.limit_share, {partition, partitions});
}

absl::StatusOr<std::unique_ptr<Engine>> Worker::Impl::NewEngine(
    const std::vector<v1::Journey>& journeys, bool restoring, LimitShare share) {
  EngineOptions options = options_.engine;
  options.limit_share = share;
  CAIRN_RETURN_IF_ERROR(ValidateEngineOptions(options));
  auto engine = std::make_unique<Engine>(std::move(options));
  engine->SetProfileSink(&sink_);
  // A checkpoint brings its own behaviours, which Restore reads.
  if (!restoring && options_.behaviors.behaviors_size() > 0) {
    CAIRN_RETURN_IF_ERROR(engine->DeclareBehaviors(options_.behaviors));
  }
  for (const v1::Journey& journey : journeys) {
    CAIRN_RETURN_IF_ERROR(RegisterChannels(journey, *engine));
    // A checkpoint's journeys were each accepted when the partition read
    // them, perhaps under an older build's migration rule: they are its
    // history, not a new deploy to judge.
    absl::Status s =
        restoring ? engine->DeployForRestore(journey) : engine->Deploy(journey);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("journey \"", journey.id(), "\" version ",
                                                     journey.version(), ": ", s.message()));
    }
  }
  return engine;
}

void Worker::Impl::Produce(const std::string& topic, const std::string& key,
                           const std::string& value, absl::string_view message_id,
                           int64_t* produced) {
  for (;;) {
    // Message records carry their id in a header; write-backs have none.
    // The producer owns the headers once it has taken the record.
    rd_kafka_headers_t* headers = rd_kafka_headers_new(2);
    rd_kafka_header_add(headers, kFormatHeaderName.c_str(), -1, kJsonFormat.data(),
                        static_cast<ssize_t>(kJsonFormat.size()));
    if (!message_id.empty()) {
      rd_kafka_header_add(headers, kMessageIdHeaderName.c_str(), -1, message_id.data(),
                          static_cast<ssize_t>(message_id.size()));
    }
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(headers);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++*produced;
      return;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      Fail(absl::UnavailableError(absl::StrCat("cannot produce to \"", topic, "\" (subject ",
                                               Quote(key), "): ", rd_kafka_err2str(err))));
      return;
    }
    // The local queue is full: wait for acknowledgements to free it.
    rd_kafka_poll(producer_.get(), 100);
  }
}

void Worker::Impl::OnDelivery(const rd_kafka_message_t* message) {
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Fail(absl::UnavailableError(
        absl::StrCat("an output to \"", rd_kafka_topic_name(message->rkt),
                     "\" was not delivered: ", rd_kafka_err2str(message->err))));
  }
}

absl::Status Worker::Impl::Assign(int32_t partition, int64_t* start_offset) {
  std::vector<std::string> warnings;
  absl::StatusOr<kafka::Checkpoint> checkpoint =
      options_.checkpoints->LoadNewest(partition, &warnings);
  for (const std::string& w : warnings) {
    ++stats_.checkpoint_warnings;
    log_->Warning(absl::StrCat("partition ", partition, ": skipping a checkpoint: ", w));
  }
  PartitionState state;
  state.last_checkpoint = SteadyClock::now();
  absl::StatusOr<LimitShare> share = PartitionShare(partition);
  if (!share.ok()) {
    return absl::Status(share.status().code(),
                        absl::StrCat("partition ", partition, ": ", share.status().message()));
  }
  if (checkpoint.ok()) {
    auto fail = [&](const absl::Status& s) {
      return absl::Status(s.code(), absl::StrCat("partition ", partition,
                                                 ": the checkpoint at offset ",
                                                 checkpoint->offset, " does not restore: ",
                                                 s.message()));
    };
    absl::StatusOr<PartitionSnapshot> contents = DecodePartitionSnapshot(checkpoint->snapshot);
    if (!contents.ok()) return fail(contents.status());
    absl::StatusOr<std::unique_ptr<Engine>> engine =
        NewEngine(contents->journeys, /*restoring=*/true, *share);
    if (!engine.ok()) return fail(engine.status());
    std::istringstream in(contents->engine_snapshot);
    absl::Status restored = (*engine)->Restore(in);
    if (!restored.ok()) return fail(restored);
    state.engine = *std::move(engine);
    state.journeys = std::move(contents->journeys);
    state.next_offset = state.checkpoint_offset = checkpoint->offset;
    *start_offset = checkpoint->offset;
    ++stats_.restored_from_checkpoint;
    log_->Info(absl::StrCat("partition ", partition, ": restored the checkpoint at offset ",
                            checkpoint->offset, " (", checkpoint->snapshot.size(), " bytes, ",
                            state.journeys.size(), " journeys); runs ",
                            NewestVersions(state.journeys)));
  } else if (absl::IsNotFound(checkpoint.status())) {
    absl::StatusOr<std::unique_ptr<Engine>> engine =
        NewEngine(options_.journeys, /*restoring=*/false, *share);
    if (!engine.ok()) {
      return absl::Status(engine.status().code(), absl::StrCat("partition ", partition, ": ",
                                                               engine.status().message()));
    }
    state.engine = *std::move(engine);
    state.journeys = options_.journeys;
    *start_offset = RD_KAFKA_OFFSET_BEGINNING;
    ++stats_.started_from_beginning;
    log_->Warning(absl::StrCat("partition ", partition,
                               ": no checkpoint; starting from the beginning"));
  } else {
    // Checkpoints exist but none is usable: never start over from the
    // beginning then (the store's message says why, file by file).
    return absl::Status(checkpoint.status().code(),
                        absl::StrCat("partition ", partition, ": cannot load a checkpoint: ",
                                     checkpoint.status().message()));
  }
  partitions_[partition] = std::move(state);
  ++stats_.partitions_assigned;
  return absl::OkStatus();
}

absl::Status Worker::Impl::Checkpoint(int32_t partition, PartitionState& state,
                                      absl::string_view why) {
  if (state.records_since_checkpoint == 0 || !fatal_.ok()) return fatal_;
  const auto started = SteadyClock::now();
  // Every output of the records before next_offset must be acknowledged
  // before the checkpoint says they are done.
  const rd_kafka_resp_err_t flushed =
      rd_kafka_flush(producer_.get(), Milliseconds(options_.flush_timeout));
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Fail(absl::UnavailableError(absl::StrCat(
        "partition ", partition, ": outputs not acknowledged within ",
        absl::FormatDuration(options_.flush_timeout), ": ", rd_kafka_err2str(flushed))));
  }
  CAIRN_RETURN_IF_ERROR(fatal_);

  std::ostringstream engine_snapshot;
  absl::Status s = state.engine->Snapshot(engine_snapshot);
  const std::string snapshot =
      s.ok() ? EncodePartitionSnapshot({state.journeys, engine_snapshot.str()}) : "";
  if (s.ok()) s = options_.checkpoints->Save(partition, state.next_offset, snapshot);
  if (!s.ok()) {
    Fail(absl::Status(s.code(), absl::StrCat("partition ", partition,
                                             ": cannot save the checkpoint at offset ",
                                             state.next_offset, ": ", s.message())));
    return fatal_;
  }
  const int64_t bytes = static_cast<int64_t>(snapshot.size());
  ++stats_.checkpoints_saved;
  stats_.checkpoint_bytes += bytes;
  state.records_since_checkpoint = 0;
  state.checkpoint_offset = state.next_offset;
  state.last_checkpoint = SteadyClock::now();

  // The committed offset is for lag monitoring; the checkpoint decides
  // where the partition resumes, so a failed commit is only a warning.
  PartitionList offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), options_.input_topic.c_str(), partition)
      ->offset = state.next_offset;
  const rd_kafka_resp_err_t committed = rd_kafka_commit(consumer_.get(), offsets.get(), 0);
  if (committed != RD_KAFKA_RESP_ERR_NO_ERROR &&
      committed != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    log_->Warning(absl::StrCat("partition ", partition, ": cannot commit offset ",
                               state.next_offset, ": ", rd_kafka_err2str(committed)));
  }
  const double ms =
      std::chrono::duration<double, std::milli>(SteadyClock::now() - started).count();
  log_->Info(absl::StrCat("checkpoint p", partition, " offset=", state.next_offset,
                          " bytes=", bytes, " ms=", static_cast<int64_t>(ms), " (", why, ")"));
  return absl::OkStatus();
}

void Worker::Impl::OnRebalance(rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t* list) {
  const bool cooperative = absl::string_view(rd_kafka_rebalance_protocol(consumer_.get())) ==
                           "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::vector<int32_t> assigned;
    for (int i = 0; i < list->cnt; ++i) {
      rd_kafka_topic_partition_t& tp = list->elems[i];
      tp.offset = RD_KAFKA_OFFSET_BEGINNING;
      if (abandoning_ || !fatal_.ok()) continue;
      absl::Status s = Assign(tp.partition, &tp.offset);
      if (!s.ok()) Fail(std::move(s));
      assigned.push_back(tp.partition);
    }
    log_->Info(absl::StrCat("assigned partitions [", absl::StrJoin(assigned, ","),
                            "]; now [", absl::StrJoin(partitions(), ","), "]"));
    rd_kafka_error_t* error = nullptr;
    rd_kafka_resp_err_t assign_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (cooperative) {
      error = rd_kafka_incremental_assign(consumer_.get(), list);
    } else {
      assign_err = rd_kafka_assign(consumer_.get(), list);
    }
    if (error != nullptr) {
      Fail(absl::InternalError(absl::StrCat("cannot assign: ", rd_kafka_error_string(error))));
      rd_kafka_error_destroy(error);
    } else if (assign_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Fail(absl::InternalError(absl::StrCat("cannot assign: ", rd_kafka_err2str(assign_err))));
    }
    return;
  }

  // Revoked (or lost, or an error): checkpoint what we hold, then let go.
  const bool lost = err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS ||
                    rd_kafka_assignment_lost(consumer_.get());
  std::vector<int32_t> revoked;
  for (int i = 0; i < list->cnt; ++i) {
    const int32_t partition = list->elems[i].partition;
    auto it = partitions_.find(partition);
    if (it == partitions_.end()) continue;
    revoked.push_back(partition);
    if (!abandoning_ && !lost) (void)Checkpoint(partition, it->second, "revoked");
    partitions_.erase(it);
    ++stats_.partitions_revoked;
  }
  if (lost && !abandoning_) {
    log_->Warning(absl::StrCat("partitions [", absl::StrJoin(revoked, ","),
                               "] were lost (", rd_kafka_err2str(err),
                               "): their new owner resumes from their last checkpoints"));
  } else {
    log_->Info(absl::StrCat("revoked partitions [", absl::StrJoin(revoked, ","), "]"));
  }
  if (cooperative) {
    rd_kafka_error_t* error = rd_kafka_incremental_unassign(consumer_.get(), list);
    if (error != nullptr) rd_kafka_error_destroy(error);
  } else {
    rd_kafka_assign(consumer_.get(), nullptr);
  }
}

void Worker::Impl::Apply(const rd_kafka_message_t* m) {
  auto it = partitions_.find(m->partition);
  if (it == partitions_.end()) {
    log_->Warning(absl::StrCat("a record of unassigned partition ", m->partition, " at offset ",
                               m->offset, " was skipped"));
    return;
  }
  PartitionState& state = it->second;
  if (state.next_offset >= 0 && m->offset < state.next_offset) return;  // read already
  if (state.next_offset >= 0 && m->offset > state.next_offset) {
    log_->Warning(absl::StrCat("partition ", m->partition, ": offsets ", state.next_offset,
                               "..", m->offset - 1,
                               " are not in the log (deleted by retention or compaction?)"));
  }
  state.next_offset = m->offset + 1;
  ++state.records_since_checkpoint;
  ++state.records;

  const absl::string_view key =
      m->key == nullptr ? absl::string_view()
                        : absl::string_view(static_cast<const char*>(m->key), m->key_len);
  const absl::string_view payload =
      m->payload == nullptr
          ? absl::string_view()
          : absl::string_view(static_cast<const char*>(m->payload), m->len);
  absl::StatusOr<EngineInput> input =
      DecodeRecord(key, internal::HeaderValue(m, kFormatHeaderName), payload);
  if (!input.ok()) {
    ++state.bad;
    ++stats_.records_bad;
    if (stats_.bad_records.size() < kMaxBadRecordsKept) {
      stats_.bad_records.push_back(
          {m->partition, m->offset, std::string(input.status().message())});
    }
    log_->Warning(absl::StrCat("bad record ", m->partition, ":", m->offset, ": ",
                               input.status().message()));
  } else if (std::holds_alternative<JourneyDeploy>(*input) ||
             std::holds_alternative<JourneyStateChange>(*input) ||
             std::holds_alternative<BehaviorDeclaration>(*input)) {
    ApplyJourneyChange(m->partition, m->offset, *input, state);
  } else if (state.engine->Apply(*input).ok()) {
    ++stats_.records_applied;
  } else {
    ++state.rejected;
    ++stats_.records_rejected;
  }
  if (state.records_since_checkpoint >= options_.checkpoint_every_records) {
    (void)Checkpoint(m->partition, state, "records");
  }
}

// A deploy, state change or behaviour declaration: rare, and worth a line
// in the log either way. Partitions apply such a record independently, and
// nothing else tells the operator whether each took it, so the result is
// also counted, kept in the stats, shown in the health line and written to
// the deploy-result topic.
void Worker::Impl::ApplyJourneyChange(int32_t partition, int64_t offset,
                                      const EngineInput& input, PartitionState& state) {
  const auto* deploy = std::get_if<JourneyDeploy>(&input);
  const auto* change = std::get_if<JourneyStateChange>(&input);
  const auto* declaration = std::get_if<BehaviorDeclaration>(&input);
  absl::Status s =
      deploy != nullptr ? RegisterChannels(deploy->journey, *state.engine) : absl::OkStatus();
  if (s.ok()) s = state.engine->Apply(input);

  JourneyChangeResult result;
  result.partition = partition;
  result.offset = offset;
  result.time = InputTime(input);
  std::string what;
  if (deploy != nullptr) {
    result.change = "deploy";
    result.journey_id = deploy->journey.id();
    result.version = deploy->journey.version();
    what = absl::StrCat("deploy of journey ", Quote(deploy->journey.id()), " version ",
                        deploy->journey.version());
  } else if (change != nullptr) {
    result.change = "state";
    result.journey_id = change->journey_id;
    result.state = v1::JourneyState_Name(change->state);
    what = absl::StrCat("state ", v1::JourneyState_Name(change->state), " of journey ",
                        Quote(change->journey_id));
  } else {
    result.change = "behaviors";
    for (const v1::Behavior& b : declaration->behaviors.behaviors()) {
      result.behaviors.push_back(b.name());
    }
    what = absl::StrCat("declaration of ", result.behaviors.size(),
                        result.behaviors.size() == 1 ? " behaviour" : " behaviours");
  }
  if (s.ok()) {
    ++stats_.records_applied;
    if (deploy != nullptr) {
      state.journeys.push_back(deploy->journey);
      ++stats_.journeys_deployed;
    } else if (change != nullptr) {
      ++stats_.journey_states_changed;
    } else {
      ++stats_.behaviors_declared;
    }
  } else {
    ++state.rejected;
    ++state.changes_refused;
    state.last_refused = absl::StrCat(offset, " (", what, ")");
    ++stats_.records_rejected;
    ++stats_.journey_changes_refused;
  }
  result.applied = s.ok();
  if (!s.ok()) result.error = std::string(s.message());
  if (declaration == nullptr) result.versions = VersionsOf(state.journeys, result.journey_id);
  const std::string versions =
      declaration != nullptr ? "" : absl::StrCat("; its versions here: ",
                                                 result.versions.empty()
                                                     ? "none"
                                                     : absl::StrJoin(result.versions, ","));
  if (s.ok()) {
    log_->Info(absl::StrCat("partition ", partition, ": ", what, " at offset ", offset, versions));
  } else {
    log_->Warning(absl::StrCat("partition ", partition, ": ", what, " at offset ", offset,
                               " refused: ", s.message(), versions));
  }
  if (!options_.deploy_result_topic.empty()) {
    Produce(options_.deploy_result_topic,
            declaration != nullptr ? "behaviors" : result.journey_id,
            EncodeJourneyChangeResult(result), "", &stats_.deploy_results_produced);
  }
  if (stats_.journey_changes.size() < kMaxJourneyChangesKept) {
    stats_.journey_changes.push_back(std::move(result));
  }
}

void Worker::Impl::LogHealth() {
  for (const auto& [partition, state] : partitions_) {
    int64_t low = 0, high = 0;
    std::string lag = "?";
    if (rd_kafka_get_watermark_offsets(consumer_.get(), options_.input_topic.c_str(),
                                       partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      const int64_t next = state.next_offset >= 0 ? state.next_offset : low;
      lag = absl::StrCat(std::max<int64_t>(0, high - next));
    }
    log_->Info(absl::StrCat("health p", partition, " next=", state.next_offset, " lag=", lag,
                            " uncheckpointed=", state.records_since_checkpoint,
                            " checkpoint=", state.checkpoint_offset, " records=", state.records,
                            " rejected=", state.rejected, " bad=", state.bad,
                            " journeys=", NewestVersions(state.journeys),
                            " changes_refused=", state.changes_refused,
                            state.changes_refused > 0
                                ? absl::StrCat(" last_refused=", state.last_refused)
                                : ""));
  }
}

absl::Status Worker::Impl::Poll(absl::Duration timeout) {
  CAIRN_RETURN_IF_ERROR(fatal_);
  if (closed_) return absl::FailedPreconditionError("the worker is closed");
  const auto deadline = SteadyClock::now() + ToSteady(timeout);
  do {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
    MessageHandle m(rd_kafka_consumer_poll(
        consumer_.get(), static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30))));
    // Serve the producer's delivery reports now and then (each call takes
    // a lock; per record it would cost more than applying the record).
    if (++polls_since_producer_poll_ >= 256 || m == nullptr) {
      polls_since_producer_poll_ = 0;
      rd_kafka_poll(producer_.get(), 0);
    }
    if (m != nullptr) {
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        Apply(m.get());
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        char reason[512] = "";
        if (rd_kafka_fatal_error(consumer_.get(), reason, sizeof(reason)) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
          Fail(absl::InternalError(absl::StrCat("the consumer failed: ", reason)));
        } else {
          log_->Warning(absl::StrCat("consumer: ", rd_kafka_message_errstr(m.get())));
        }
      }
    }
    CAIRN_RETURN_IF_ERROR(fatal_);
  } while (SteadyClock::now() < deadline);

  const auto now = SteadyClock::now();
  const auto interval = ToSteady(options_.checkpoint_interval);
  for (auto& [partition, state] : partitions_) {
    if (state.records_since_checkpoint > 0 && now - state.last_checkpoint >= interval) {
      CAIRN_RETURN_IF_ERROR(Checkpoint(partition, state, "interval"));
    }
  }
  if (now - last_health_ >= ToSteady(options_.health_interval)) {
    last_health_ = now;
    LogHealth();
  }
  return fatal_;
}

absl::Status Worker::Impl::Close() {
  if (closed_) return fatal_;
  if (fatal_.ok()) {
    for (auto& [partition, state] : partitions_) {
      if (!Checkpoint(partition, state, "closing").ok()) break;
    }
  }
  if (!fatal_.ok()) abandoning_ = true;
  // Leaving the group revokes the partitions; those are checkpointed now.
  rd_kafka_consumer_close(consumer_.get());
  closed_ = true;
  if (fatal_.ok()) {
    const rd_kafka_resp_err_t flushed =
        rd_kafka_flush(producer_.get(), Milliseconds(options_.flush_timeout));
    if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Fail(absl::UnavailableError(absl::StrCat("closing: outputs not acknowledged: ",
                                               rd_kafka_err2str(flushed))));
    }
  }
  log_->Info(absl::StrCat("left group \"", options_.group, "\""));
  return fatal_;
}

std::string EncodePartitionSnapshot(const PartitionSnapshot& snapshot) {
  std::string out(kPartitionSnapshotMagic);
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    coded.WriteVarint32(static_cast<uint32_t>(snapshot.journeys.size()));
    for (const v1::Journey& journey : snapshot.journeys) {
      coded.WriteVarint32(static_cast<uint32_t>(journey.ByteSizeLong()));
      journey.SerializeWithCachedSizes(&coded);
    }
  }
  out.append(snapshot.engine_snapshot);
  return out;
}

absl::StatusOr<PartitionSnapshot> DecodePartitionSnapshot(absl::string_view bytes) {
  if (!absl::StartsWith(bytes, kPartitionSnapshotMagic)) {
    return absl::DataLossError("not a Cairn worker checkpoint (no \"CAIRNWP1\" at the start)");
  }
  bytes.remove_prefix(kPartitionSnapshotMagic.size());
  // The journeys come first; the engine snapshot after them may be larger
  // than a CodedInputStream can span, and is not read through it.
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(std::min<size_t>(bytes.size(), std::numeric_limits<int>::max())));
  PartitionSnapshot out;
  uint32_t count = 0;
  if (!in.ReadVarint32(&count)) return absl::DataLossError("checkpoint: truncated journey list");
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t size = 0;
    if (!in.ReadVarint32(&size) || size > static_cast<uint32_t>(in.BytesUntilLimit())) {
      return absl::DataLossError(absl::StrCat("checkpoint: journey ", i + 1, " is truncated"));
    }
    std::string data;
    if (!in.ReadString(&data, static_cast<int>(size))) {
      return absl::DataLossError(absl::StrCat("checkpoint: journey ", i + 1, " is truncated"));
    }
    absl::StatusOr<v1::Journey> journey = ParseJourney(data, JourneyFormat::kBinary);
    if (!journey.ok()) {
      return absl::DataLossError(
          absl::StrCat("checkpoint: journey ", i + 1, ": ", journey.status().message()));
    }
    out.journeys.push_back(*std::move(journey));
  }
  const int consumed = in.CurrentPosition();
  out.engine_snapshot = std::string(bytes.substr(static_cast<size_t>(consumed)));
  return out;
}

Worker::Worker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Worker::~Worker() = default;

absl::StatusOr<std::unique_ptr<Worker>> Worker::Create(WorkerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  CAIRN_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Worker>(new Worker(std::move(impl)));
}

absl::Status Worker::Poll(absl::Duration timeout) { return impl_->Poll(timeout); }
absl::Status Worker::Close() { return impl_->Close(); }
std::vector<int32_t> Worker::partitions() const { return impl_->partitions(); }
absl::StatusOr<int64_t> Worker::next_offset(int32_t partition) const {
  return impl_->next_offset(partition);
}
WorkerStats Worker::stats() const { return impl_->stats(); }

}  // namespace cairn::kafka
