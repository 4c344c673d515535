// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/kafka/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cairn/status_macros.h"
#include "util/record_io.h"

namespace cairn::kafka {
namespace {

constexpr char kMagic[] = "CAIRNCKP";  // 8 bytes on disk, without the NUL
constexpr size_t kMagicSize = 8;
// magic, version u32, partition i32, offset i64, body length u64, body CRC
// u32, header CRC u32 (of everything before it).
constexpr size_t kHeaderSize = kMagicSize + 4 + 4 + 8 + 8 + 4 + 4;
constexpr char kPrefix[] = "checkpoint-p";
constexpr char kSuffix[] = ".ckpt";
constexpr int kPartitionDigits = 10;
constexpr int kOffsetDigits = 19;
constexpr char kTempInfix[] = ".tmp-";
// Checkpoints hold subjects' profiles: only the worker's user may read them.
constexpr mode_t kFileMode = 0600;
constexpr mode_t kDirectoryMode = 0700;
// A read that fails with an I/O error is tried this often in all, with the
// pause growing by kRetryPause each time: a shared file system (NFS, EFS)
// has transient errors, and falling back past a good checkpoint replays
// records for nothing.
constexpr int kReadAttempts = 3;
constexpr absl::Duration kRetryPause = absl::Milliseconds(20);
// A listed file that vanished before it was read was pruned by another
// writer (a zombie worker saving a newer checkpoint): the listing is read
// again this often in all before the file counts as unreadable.
constexpr int kListAttempts = 3;

void PutU32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

absl::Status ErrnoError(int error, absl::string_view path, absl::string_view what) {
  return absl::Status(absl::ErrnoToStatusCode(error),
                      absl::StrCat(path, ": ", what, ": ", std::strerror(error)));
}

std::string Header(int32_t partition, int64_t offset, absl::string_view body) {
  std::string header(kMagic, kMagicSize);
  PutU32(DirectoryCheckpointStore::kFormatVersion, &header);
  PutU32(static_cast<uint32_t>(partition), &header);
  PutU64(static_cast<uint64_t>(offset), &header);
  PutU64(body.size(), &header);
  PutU32(internal::Crc32c(body), &header);
  PutU32(internal::Crc32c(header), &header);
  return header;
}

absl::Status WriteAll(int fd, absl::string_view data, absl::string_view path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, path, "write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Writes `path` from scratch and flushes it to disk.
absl::Status WriteFileSynced(const std::string& path, absl::string_view header,
                             absl::string_view body) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
  if (fd < 0) return ErrnoError(errno, path, "create");
  // The umask may only take bits away; fchmod makes the mode exact.
  absl::Status s;
  if (::fchmod(fd, kFileMode) != 0) s = ErrnoError(errno, path, "chmod");
  if (s.ok()) s = WriteAll(fd, header, path);
  if (s.ok()) s = WriteAll(fd, body, path);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoError(errno, path, "fsync");
  if (::close(fd) != 0 && s.ok()) s = ErrnoError(errno, path, "close");
  return s;
}

absl::Status SyncDirectory(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, directory, "open directory");
  absl::Status s;
  if (::fsync(fd) != 0) s = ErrnoError(errno, directory, "fsync directory");
  ::close(fd);
  return s;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, path, "open");
  std::string out;
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return ErrnoError(error, path, "read");
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Parses a checkpoint file name; false for any other file.
bool ParseFileName(absl::string_view name, int32_t* partition, int64_t* offset) {
  const absl::string_view prefix = kPrefix;
  const absl::string_view suffix = kSuffix;
  const size_t size = prefix.size() + kPartitionDigits + 2 + kOffsetDigits + suffix.size();
  if (name.size() != size || !absl::StartsWith(name, prefix) || !absl::EndsWith(name, suffix)) {
    return false;
  }
  name.remove_prefix(prefix.size());
  const absl::string_view p = name.substr(0, kPartitionDigits);
  if (name.substr(kPartitionDigits, 2) != "-o") return false;
  const absl::string_view o = name.substr(kPartitionDigits + 2, kOffsetDigits);
  auto digits = [](absl::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return digits(p) && digits(o) && absl::SimpleAtoi(p, partition) &&
         absl::SimpleAtoi(o, offset);
}

// True for the temporary file of a save ("." + checkpoint name + ".tmp-" +
// pid and counter) of `partition`.
bool IsTempFileOf(absl::string_view name, int32_t partition) {
  if (!absl::ConsumePrefix(&name, ".")) return false;
  const size_t infix = name.find(kTempInfix);
  int32_t p = 0;
  int64_t o = 0;
  return infix != absl::string_view::npos && ParseFileName(name.substr(0, infix), &p, &o) &&
         p == partition;
}

// Creates `directory` (and its parents) if it does not exist; the
// directory itself is made kDirectoryMode whatever the umask. An existing
// directory keeps its mode: the operator may have chosen it.
absl::Status CreateDirectory(const std::string& directory) {
  std::error_code ec;
  if (std::filesystem::exists(directory, ec)) return absl::OkStatus();
  const std::filesystem::path parent = std::filesystem::path(directory).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
    if (ec) return ErrnoError(ec.value(), parent.string(), "create directory");
  }
  if (::mkdir(directory.c_str(), kDirectoryMode) != 0) {
    if (errno == EEXIST) return absl::OkStatus();  // another worker was faster
    return ErrnoError(errno, directory, "create directory");
  }
  if (::chmod(directory.c_str(), kDirectoryMode) != 0) {
    return ErrnoError(errno, directory, "chmod");
  }
  return absl::OkStatus();
}

// Reads a file, trying again after an I/O error; a file that does not
// exist (NotFound) is not tried again.
absl::StatusOr<std::string> ReadFileRetrying(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  for (int attempt = 1; attempt < kReadAttempts && !bytes.ok() &&
                        !absl::IsNotFound(bytes.status());
       ++attempt) {
    absl::SleepFor(kRetryPause * attempt);
    bytes = ReadFile(path);
  }
  return bytes;
}

// Checks a checkpoint file's bytes; on success moves the body into
// *snapshot. The error says what is wrong.
absl::Status Verify(std::string bytes, int32_t partition, int64_t offset,
                    std::string* snapshot) {
  if (bytes.size() < kHeaderSize) {
    return absl::DataLossError(absl::StrCat("truncated: ", bytes.size(),
                                            " bytes, shorter than the ", kHeaderSize,
                                            "-byte header"));
  }
  const char* h = bytes.data();
  if (absl::string_view(h, kMagicSize) != absl::string_view(kMagic, kMagicSize)) {
    return absl::DataLossError("not a Cairn checkpoint (bad magic)");
  }
  const uint32_t header_crc = GetU32(h + kHeaderSize - 4);
  const uint32_t header_actual = internal::Crc32c(absl::string_view(h, kHeaderSize - 4));
  if (header_crc != header_actual) {
    return absl::DataLossError(absl::StrFormat(
        "header checksum mismatch (stored %08x, computed %08x)", header_crc, header_actual));
  }
  const uint32_t version = GetU32(h + 8);
  if (version != DirectoryCheckpointStore::kFormatVersion) {
    return absl::DataLossError(absl::StrCat("format version ", version,
                                            " is not the one this build reads (",
                                            DirectoryCheckpointStore::kFormatVersion, ")"));
  }
  const int32_t p = static_cast<int32_t>(GetU32(h + 12));
  const int64_t o = static_cast<int64_t>(GetU64(h + 16));
  if (p != partition || o != offset) {
    return absl::DataLossError(absl::StrCat("holds partition ", p, " offset ", o,
                                            ", not the partition ", partition, " offset ",
                                            offset, " its name says"));
  }
  const uint64_t length = GetU64(h + 24);
  const uint64_t body_size = bytes.size() - kHeaderSize;
  if (body_size != length) {
    return absl::DataLossError(absl::StrCat("the body is ", body_size,
                                            " bytes, the header says ", length));
  }
  const uint32_t body_crc = GetU32(h + 32);
  const uint32_t body_actual =
      internal::Crc32c(absl::string_view(bytes).substr(kHeaderSize));
  if (body_crc != body_actual) {
    return absl::DataLossError(absl::StrFormat(
        "body checksum mismatch (stored %08x, computed %08x)", body_crc, body_actual));
  }
  bytes.erase(0, kHeaderSize);
  *snapshot = std::move(bytes);
  return absl::OkStatus();
}

}  // namespace

DirectoryCheckpointStore::DirectoryCheckpointStore(std::string directory, int keep)
    : directory_(std::move(directory)), keep_(keep) {}

absl::StatusOr<std::unique_ptr<DirectoryCheckpointStore>> DirectoryCheckpointStore::Open(
    std::string directory, int keep) {
  if (directory.empty()) {
    return absl::InvalidArgumentError("checkpoint directory: the path is empty");
  }
  if (keep < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint directory ", directory, ": keep is ", keep,
                     ", must be at least 1"));
  }
  CAIRN_RETURN_IF_ERROR(CreateDirectory(directory));
  std::error_code ec;
  if (!std::filesystem::is_directory(directory, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(directory, ": not a directory"));
  }
  return std::unique_ptr<DirectoryCheckpointStore>(
      new DirectoryCheckpointStore(std::move(directory), keep));
}

std::string DirectoryCheckpointStore::FileName(int32_t partition, int64_t offset) {
  return absl::StrFormat("%s%0*d-o%0*d%s", kPrefix, kPartitionDigits, partition,
                         kOffsetDigits, offset, kSuffix);
}

absl::Status DirectoryCheckpointStore::Save(int32_t partition, int64_t offset,
                                            absl::string_view snapshot) {
  if (partition < 0 || offset < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint: partition ", partition, " offset ", offset, ": must not be negative"));
  }
  const std::string name = FileName(partition, offset);
  const std::string path = absl::StrCat(directory_, "/", name);
  // Hidden, and never parsed as a checkpoint: a crash leaves it ignored.
  const std::string temp = absl::StrCat(directory_, "/.", name, ".tmp-", ::getpid(), "-",
                                        temp_counter_.fetch_add(1));
  absl::Status s = WriteFileSynced(temp, Header(partition, offset, snapshot), snapshot);
  if (s.ok() && std::rename(temp.c_str(), path.c_str()) != 0) {
    s = ErrnoError(errno, temp, absl::StrCat("rename to ", name));
  }
  if (!s.ok()) {
    ::unlink(temp.c_str());
    return s;
  }
  CAIRN_RETURN_IF_ERROR(SyncDirectory(directory_));

  std::vector<CheckpointInfo> all;
  std::vector<std::string> temps;
  CAIRN_RETURN_IF_ERROR(Scan(partition, &all, &temps));
  // This save's own temporary file is gone (renamed), and the partition has
  // one writer at a time: any other is left by a save that crashed.
  for (const std::string& leftover : temps) {
    if (::unlink(leftover.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError(errno, leftover,
                        absl::StrCat("saved ", name, " but could not delete this leftover"));
    }
  }
  int kept = 0;
  for (const CheckpointInfo& info : all) {
    if (info.offset == offset || kept < keep_) {
      ++kept;
      continue;
    }
    if (::unlink(info.location.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError(errno, info.location,
                        absl::StrCat("saved ", name, " but could not delete this older one"));
    }
  }
  return absl::OkStatus();
}

absl::Status DirectoryCheckpointStore::Scan(int32_t partition,
                                            std::vector<CheckpointInfo>* checkpoints,
                                            std::vector<std::string>* temps) {
  std::error_code ec;
  std::filesystem::directory_iterator it(directory_, ec);
  if (ec) return ErrnoError(ec.value(), directory_, "list");
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    int32_t p = 0;
    int64_t o = 0;
    if (ParseFileName(name, &p, &o)) {
      if (p == partition) checkpoints->push_back({p, o, absl::StrCat(directory_, "/", name)});
    } else if (temps != nullptr && IsTempFileOf(name, partition)) {
      temps->push_back(absl::StrCat(directory_, "/", name));
    }
  }
  if (ec) return ErrnoError(ec.value(), directory_, "list");
  std::sort(checkpoints->begin(), checkpoints->end(),
            [](const CheckpointInfo& a, const CheckpointInfo& b) { return a.offset > b.offset; });
  return absl::OkStatus();
}

absl::StatusOr<std::vector<CheckpointInfo>> DirectoryCheckpointStore::List(int32_t partition) {
  std::vector<CheckpointInfo> out;
  CAIRN_RETURN_IF_ERROR(Scan(partition, &out, nullptr));
  return out;
}

absl::StatusOr<Checkpoint> DirectoryCheckpointStore::LoadNewest(
    int32_t partition, std::vector<std::string>* warnings) {
  // What was wrong with each file of the last listing, newest first.
  std::vector<std::string> problems;
  bool unreadable = false;  // an I/O error, not damage
  size_t found = 0;
  for (int listing = 1; listing <= kListAttempts; ++listing) {
    std::vector<CheckpointInfo> all;
    CAIRN_RETURN_IF_ERROR(Scan(partition, &all, nullptr));
    if (all.empty() && listing == 1) {
      return absl::NotFoundError(absl::StrCat("no checkpoint for partition ", partition,
                                              " in ", directory_));
    }
    found = std::max(found, all.size());
    problems.clear();
    unreadable = false;
    bool vanished = false;
    for (const CheckpointInfo& info : all) {
      Checkpoint checkpoint;
      checkpoint.partition = info.partition;
      checkpoint.offset = info.offset;
      absl::StatusOr<std::string> bytes = ReadFileRetrying(info.location);
      if (!bytes.ok() && absl::IsNotFound(bytes.status()) && listing < kListAttempts) {
        vanished = true;  // pruned under us: a newer one is listed now
        break;
      }
      absl::Status s = bytes.ok() ? Verify(*std::move(bytes), info.partition, info.offset,
                                           &checkpoint.snapshot)
                                  : bytes.status();
      if (s.ok()) {
        if (warnings != nullptr) {
          for (const std::string& p : problems) warnings->push_back(absl::StrCat(p, ": skipped"));
        }
        return checkpoint;
      }
      unreadable = unreadable || !bytes.ok();
      // A read error already starts with the path.
      problems.push_back(bytes.ok() ? absl::StrCat(info.location, ": ", s.message())
                                    : std::string(s.message()));
    }
    if (!vanished) break;
  }
  // Checkpoints exist but none can be used. Starting the partition from its
  // beginning would send every message since then again, far outside any
  // sender's de-duplication window: refuse, and let an operator decide.
  if (warnings != nullptr) {
    for (const std::string& p : problems) warnings->push_back(absl::StrCat(p, ": skipped"));
  }
  const std::string message = absl::StrCat(
      "partition ", partition, " has ", found, " checkpoint", found == 1 ? "" : "s", " in ",
      directory_, " but none is usable (", absl::StrJoin(problems, "; "),
      "); not starting the partition from its beginning, which would send every message "
      "again: make a checkpoint readable, or remove them all to start over");
  return unreadable ? absl::UnavailableError(message) : absl::DataLossError(message);
}

}  // namespace cairn::kafka
