// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Checkpoints of a partition's engine: where a worker that consumes one
// input partition with one Engine resumes after a restart or a rebalance.
// A checkpoint holds the partition, the offset of the next record to read
// and the engine's snapshot (Engine::Snapshot) taken after the record
// before it: restore the snapshot, seek to the offset, and the engine goes
// on exactly as if it had never stopped (docs/durability.md).
//
// CheckpointStore is the interface; DirectoryCheckpointStore keeps them as
// files in a directory on local or shared disk.
//
// Example (a worker, on partition assignment):
//   std::vector<std::string> warnings;
//   absl::StatusOr<Checkpoint> checkpoint = store.LoadNewest(partition, &warnings);
//   for (const std::string& w : warnings) LOG(WARNING) << w;
//   if (checkpoint.ok()) {
//     CAIRN_RETURN_IF_ERROR(engine.Restore(snapshot_stream(checkpoint->snapshot)));
//     Seek(partition, checkpoint->offset);
//   } else if (absl::IsNotFound(checkpoint.status())) {
//     Seek(partition, kBeginning);   // never checkpointed: say so
//   } else {
//     return checkpoint.status();    // checkpoints exist but none is usable
//   }

#ifndef CAIRN_KAFKA_CHECKPOINT_H_
#define CAIRN_KAFKA_CHECKPOINT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cairn::kafka {

// One partition's engine state at an offset.
struct Checkpoint {
  int32_t partition = 0;
  // The offset of the next record to read.
  int64_t offset = 0;
  // The bytes Engine::Snapshot wrote.
  std::string snapshot;
};

// A stored checkpoint, as listed (not read).
struct CheckpointInfo {
  int32_t partition = 0;
  int64_t offset = 0;
  // Where it is, for messages: a file path for DirectoryCheckpointStore.
  std::string location;
};

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;

  // Stores a checkpoint atomically: a reader, or a restart after a crash,
  // sees all of it or none of it. Replaces one at the same partition and
  // offset. May drop older checkpoints of the partition.
  // InvalidArgument for a negative partition or offset; other errors when
  // the checkpoint could not be stored (then nothing older was dropped).
  virtual absl::Status Save(int32_t partition, int64_t offset,
                            absl::string_view snapshot) = 0;

  // The checkpoint of `partition` with the highest offset that is intact.
  // Every newer one that is not (unreadable after retries, truncated,
  // corrupt, of a newer format) is skipped, and a warning naming it and what
  // is wrong is appended to *warnings (if not null).
  // NotFound only when the partition has no checkpoint at all: it then
  // starts from its beginning. When checkpoints exist but none is usable,
  // an error naming the partition and each checkpoint with its problem
  // (Unavailable if any could not be read, DataLoss if all are damaged):
  // starting over would send every message of the partition again, so the
  // caller must stop rather than start from the beginning.
  virtual absl::StatusOr<Checkpoint> LoadNewest(
      int32_t partition, std::vector<std::string>* warnings) = 0;

  // The checkpoints stored for `partition`, highest offset first, without
  // reading or checking them.
  virtual absl::StatusOr<std::vector<CheckpointInfo>> List(int32_t partition) = 0;
};

// Checkpoints as files in one directory (one per deployment: the files do
// not name the topic). Each is written to a temporary file, flushed to disk
// (fsync), then renamed into place, and the directory is flushed too. A file
// holds a header — magic "CAIRNCKP", format version, partition, offset,
// body length, CRC-32C of the body, CRC-32C of the header — then the body,
// the engine snapshot. Files are named
//   checkpoint-p<partition, 10 digits>-o<offset, 19 digits>.ckpt
// Other files are ignored, except the temporary files that a crashed save
// of a partition left: the next save of that partition deletes them.
//
// Checkpoints hold profile data: files are created 0600 and a directory
// that Open creates 0700, whatever the umask (an existing directory keeps
// its mode). A read that fails with an I/O error is retried a few times
// before the checkpoint is skipped; a file that vanishes between listing
// and reading (pruned by another writer, such as a zombie worker) makes
// LoadNewest list the directory again.
//
// After each Save the `keep` checkpoints of the partition with the highest
// offsets are kept, and the one just saved even if it is not among them
// (a worker that fell back past a corrupt checkpoint saves lower offsets
// until it passes it again); older ones are deleted.
//
// Thread-safety: different partitions may be saved and loaded concurrently,
// from threads or processes; each partition must have one writer at a time.
class DirectoryCheckpointStore final : public CheckpointStore {
 public:
  // The checkpoint format version this build writes and reads.
  static constexpr uint32_t kFormatVersion = 1;

  // Creates the directory if it does not exist. InvalidArgument for an
  // empty path or keep < 1; the file system's error if the directory
  // cannot be created or is not a directory.
  static absl::StatusOr<std::unique_ptr<DirectoryCheckpointStore>> Open(
      std::string directory, int keep = 3);

  // The file name of a checkpoint (without the directory).
  static std::string FileName(int32_t partition, int64_t offset);

  absl::Status Save(int32_t partition, int64_t offset,
                    absl::string_view snapshot) override;
  absl::StatusOr<Checkpoint> LoadNewest(int32_t partition,
                                        std::vector<std::string>* warnings) override;
  absl::StatusOr<std::vector<CheckpointInfo>> List(int32_t partition) override;

  const std::string& directory() const { return directory_; }
  int keep() const { return keep_; }

 private:
  DirectoryCheckpointStore(std::string directory, int keep);

  // Appends the checkpoints of `partition`, highest offset first, and (if
  // `temps` is not null) the paths of its leftover temporary files.
  absl::Status Scan(int32_t partition, std::vector<CheckpointInfo>* checkpoints,
                    std::vector<std::string>* temps);

  std::string directory_;
  int keep_;
  std::atomic<uint64_t> temp_counter_{0};
};

}  // namespace cairn::kafka

#endif  // CAIRN_KAFKA_CHECKPOINT_H_
