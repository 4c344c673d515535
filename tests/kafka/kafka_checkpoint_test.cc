// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// cairn/kafka/checkpoint.h: DirectoryCheckpointStore saves and loads
// checkpoints atomically and privately, keeps the newest N per partition,
// falls back past every kind of damage to the newest intact one, saying
// what it skipped, and refuses (rather than report "none") when checkpoints
// exist but none can be used.

#include "cairn/kafka/checkpoint.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/cairn.h"
#include "catch2/catch.hpp"
#include "util/record_io.h"
#include "testing/test_util.h"

namespace cairn::kafka {
namespace {

namespace fs = std::filesystem;
using testing::IsOk;
using testing::StatusOf;

// A fresh, empty directory for one test.
std::string FreshDir(const std::string& name) {
  const std::string dir = absl::StrCat(CAIRN_TEST_TMPDIR, "/checkpoints/", name);
  fs::remove_all(dir);
  return dir;
}

std::unique_ptr<DirectoryCheckpointStore> OpenStore(const std::string& dir, int keep = 3) {
  absl::StatusOr<std::unique_ptr<DirectoryCheckpointStore>> store =
      DirectoryCheckpointStore::Open(dir, keep);
  REQUIRE_THAT(StatusOf(store), IsOk());
  return *std::move(store);
}

std::string PathOf(const std::string& dir, int32_t partition, int64_t offset) {
  return absl::StrCat(dir, "/", DirectoryCheckpointStore::FileName(partition, offset));
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  REQUIRE(out.good());
}

std::vector<int64_t> Offsets(CheckpointStore& store, int32_t partition) {
  absl::StatusOr<std::vector<CheckpointInfo>> list = store.List(partition);
  REQUIRE_THAT(StatusOf(list), IsOk());
  std::vector<int64_t> out;
  for (const CheckpointInfo& info : *list) {
    CHECK(info.partition == partition);
    out.push_back(info.offset);
  }
  return out;
}

// Names of the files in `dir`, sorted.
std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const std::string kBinary("snap\0shot\xff\x01 bytes", 18);

TEST_CASE("Checkpoints: file names sort by partition then offset") {
  CHECK(DirectoryCheckpointStore::FileName(3, 1234) ==
        "checkpoint-p0000000003-o0000000000000001234.ckpt");
  CHECK(DirectoryCheckpointStore::FileName(2147483647, 9223372036854775807) ==
        "checkpoint-p2147483647-o9223372036854775807.ckpt");
}

TEST_CASE("Checkpoints: save then load gives the checkpoint back") {
  const std::string dir = FreshDir("round_trip");
  auto store = OpenStore(dir);
  REQUIRE(fs::is_directory(dir));  // Open created it
  REQUIRE_THAT(store->Save(0, 42, kBinary), IsOk());
  std::vector<std::string> warnings;
  absl::StatusOr<Checkpoint> loaded = store->LoadNewest(0, &warnings);
  REQUIRE_THAT(StatusOf(loaded), IsOk());
  CHECK(loaded->partition == 0);
  CHECK(loaded->offset == 42);
  CHECK(loaded->snapshot == kBinary);
  CHECK(warnings.empty());
  // The file is the header and the body, nothing else.
  CHECK(Files(dir) == std::vector<std::string>{DirectoryCheckpointStore::FileName(0, 42)});
  CHECK(fs::file_size(PathOf(dir, 0, 42)) == 40 + kBinary.size());

  SECTION("an empty snapshot") {
    REQUIRE_THAT(store->Save(0, 43, ""), IsOk());
    loaded = store->LoadNewest(0, nullptr);
    REQUIRE_THAT(StatusOf(loaded), IsOk());
    CHECK(loaded->offset == 43);
    CHECK(loaded->snapshot.empty());
  }
  SECTION("another store on the same directory sees it") {
    auto again = OpenStore(dir);
    loaded = again->LoadNewest(0, nullptr);
    REQUIRE_THAT(StatusOf(loaded), IsOk());
    CHECK(loaded->snapshot == kBinary);
  }
  SECTION("the same offset again replaces it") {
    REQUIRE_THAT(store->Save(0, 42, "second"), IsOk());
    loaded = store->LoadNewest(0, nullptr);
    REQUIRE_THAT(StatusOf(loaded), IsOk());
    CHECK(loaded->snapshot == "second");
    CHECK(Offsets(*store, 0) == std::vector<int64_t>{42});
  }
}

constexpr char kJourney[] = R"pb(
  id: "welcome" version: 1 settings { state: ACTIVE }
  nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "wait" } }
  nodes { id: "wait" delay { duration { seconds: 3600 } next: "" } }
)pb";

TEST_CASE("Checkpoints: an engine restored from a loaded checkpoint goes on") {
  const std::string dir = FreshDir("engine");
  auto store = OpenStore(dir);
  EngineOptions options;
  options.start_time = absl::FromUnixSeconds(1767225600);
  Engine engine(options);
  REQUIRE_THAT(engine.Deploy(testing::TextJourney(kJourney)), IsOk());
  Event e;
  e.subject_id = "u1";
  e.name = "signup";
  e.time = options.start_time + absl::Minutes(1);
  REQUIRE_THAT(engine.Ingest(e), IsOk());
  std::ostringstream snapshot;
  REQUIRE_THAT(engine.Snapshot(snapshot), IsOk());
  REQUIRE_THAT(store->Save(7, 1001, snapshot.str()), IsOk());

  absl::StatusOr<Checkpoint> loaded = store->LoadNewest(7, nullptr);
  REQUIRE_THAT(StatusOf(loaded), IsOk());
  CHECK(loaded->offset == 1001);
  Engine restored(options);
  REQUIRE_THAT(restored.Deploy(testing::TextJourney(kJourney)), IsOk());
  std::istringstream in(loaded->snapshot);
  REQUIRE_THAT(restored.Restore(in), IsOk());
  CHECK(restored.stats().enrollments_in_flight == 1);
  CHECK(restored.next_timer_time() == engine.next_timer_time());
}

TEST_CASE("Checkpoints: the newest is the highest offset and only keep are kept") {
  const std::string dir = FreshDir("keep");
  auto store = OpenStore(dir, 3);
  for (int64_t offset : {10, 20, 30, 40, 50}) {
    REQUIRE_THAT(store->Save(0, offset, absl::StrCat("at ", offset)), IsOk());
  }
  CHECK(Offsets(*store, 0) == std::vector<int64_t>{50, 40, 30});
  CHECK(Files(dir) == std::vector<std::string>{DirectoryCheckpointStore::FileName(0, 30),
                                              DirectoryCheckpointStore::FileName(0, 40),
                                              DirectoryCheckpointStore::FileName(0, 50)});
  absl::StatusOr<Checkpoint> loaded = store->LoadNewest(0, nullptr);
  REQUIRE_THAT(StatusOf(loaded), IsOk());
  CHECK(loaded->snapshot == "at 50");

  SECTION("a lower offset saved later is kept, and the higher stays newest") {
    auto one = OpenStore(dir, 1);
    REQUIRE_THAT(one->Save(0, 45, "at 45"), IsOk());
    CHECK(Offsets(*one, 0) == std::vector<int64_t>{50, 45});
    loaded = one->LoadNewest(0, nullptr);
    REQUIRE_THAT(StatusOf(loaded), IsOk());
    CHECK(loaded->snapshot == "at 50");
    REQUIRE_THAT(one->Save(0, 60, "at 60"), IsOk());
    CHECK(Offsets(*one, 0) == std::vector<int64_t>{60});
  }
}

// The permission bits of `path`.
mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

TEST_CASE("Checkpoints: files are 0600 and a created directory 0700, whatever the umask") {
  const std::string parent = FreshDir("modes");
  const std::string dir = parent + "/nested/checkpoints";
  const mode_t old_umask = ::umask(0);  // the most permissive umask
  absl::StatusOr<std::unique_ptr<DirectoryCheckpointStore>> store =
      DirectoryCheckpointStore::Open(dir);
  const absl::Status saved = store.ok() ? (*store)->Save(0, 10, "profiles") : store.status();
  ::umask(old_umask);
  REQUIRE_THAT(saved, IsOk());
  CHECK(ModeOf(dir) == 0700);
  CHECK(ModeOf(PathOf(dir, 0, 10)) == 0600);

  SECTION("an existing directory keeps the mode its operator chose") {
    const std::string mine = parent + "/chosen";
    fs::create_directories(mine);
    fs::permissions(mine, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
    auto again = OpenStore(mine);
    REQUIRE_THAT(again->Save(0, 10, "profiles"), IsOk());
    CHECK(ModeOf(mine) == 0750);
    CHECK(ModeOf(PathOf(mine, 0, 10)) == 0600);
  }
}

TEST_CASE("Checkpoints: leftover temporary files and strangers are ignored") {
  const std::string dir = FreshDir("temp");
  auto store = OpenStore(dir, 1);
  REQUIRE_THAT(store->Save(0, 10, "good"), IsOk());
  // What a save that crashed before its rename leaves behind, at a higher
  // offset, and files that only look like checkpoints.
  const std::string name = DirectoryCheckpointStore::FileName(0, 99);
  WriteAll(absl::StrCat(dir, "/.", name, ".tmp-123-0"), "half a checkpoint");
  WriteAll(absl::StrCat(dir, "/", name, ".tmp"), "junk");
  WriteAll(absl::StrCat(dir, "/checkpoint-p0-o99.ckpt"), "junk");
  WriteAll(absl::StrCat(dir, "/checkpoint-p000000000x-o0000000000000000099.ckpt"), "junk");
  WriteAll(absl::StrCat(dir, "/README"), "notes");
  CHECK(Offsets(*store, 0) == std::vector<int64_t>{10});
  std::vector<std::string> warnings;
  absl::StatusOr<Checkpoint> loaded = store->LoadNewest(0, &warnings);
  REQUIRE_THAT(StatusOf(loaded), IsOk());
  CHECK(loaded->snapshot == "good");
  CHECK(warnings.empty());
  // Saving does not trip over them, leaves no temporary file of its own,
  // and deletes what a crashed save of its partition left, and only that.
  const std::string other_partition =
      absl::StrCat(dir, "/.", DirectoryCheckpointStore::FileName(1, 99), ".tmp-123-0");
  WriteAll(other_partition, "another partition's");
  REQUIRE_THAT(store->Save(0, 20, "newer"), IsOk());
  std::vector<std::string> expected = {
      absl::StrCat(".", DirectoryCheckpointStore::FileName(1, 99), ".tmp-123-0"),
      "README",
      "checkpoint-p0-o99.ckpt",
      absl::StrCat(name, ".tmp"),
      "checkpoint-p000000000x-o0000000000000000099.ckpt",
      DirectoryCheckpointStore::FileName(0, 20)};
  std::sort(expected.begin(), expected.end());
  CHECK(Files(dir) == expected);
  CHECK(Offsets(*store, 0) == std::vector<int64_t>{20});
}

// ---- Damage ----

struct Damage {
  std::string name;
  // Changes the bytes of the newest checkpoint file (offset 30).
  std::function<std::string(std::string)> apply;
  std::string problem;  // what the warning says after the path
};

uint32_t Crc(const std::string& s) { return internal::Crc32c(s); }

std::string SetU32(std::string bytes, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>(v >> (8 * i));
  return bytes;
}

// Rewrites the header's checksum, so that a change to a header field
// reaches the check of that field.
std::string ResealHeader(std::string bytes) {
  return SetU32(bytes, 36, Crc(bytes.substr(0, 36)));
}

// `bytes` with the bits of `mask` flipped at `at`. (Through replace(): GCC 12
// at -O3 misreads a direct store into a moved-in string as an overflow.)
std::string FlipBits(std::string bytes, size_t at, char mask) {
  const char flipped = static_cast<char>(bytes.at(at) ^ mask);
  return bytes.replace(at, 1, 1, flipped);
}

std::vector<Damage> DamageCatalogue() {
  // The newest checkpoint holds "at 30" (5 bytes): 45 bytes in all.
  return {
      {"empty", [](std::string) { return std::string(); },
       "truncated: 0 bytes, shorter than the 40-byte header"},
      {"cut inside the header", [](std::string b) { return b.substr(0, 10); },
       "truncated: 10 bytes, shorter than the 40-byte header"},
      {"cut inside the body", [](std::string b) { return b.substr(0, 43); },
       "the body is 3 bytes, the header says 5"},
      {"bytes appended", [](std::string b) { return b + "xx"; },
       "the body is 7 bytes, the header says 5"},
      {"another file format",
       [](std::string b) {
         return b.replace(0, 1, 1, 'X');
       },
       "not a Cairn checkpoint (bad magic)"},
      {"a header bit flipped",
       [](std::string b) {
         return FlipBits(std::move(b), 16, 0x01);  // the offset
       },
       ""},  // checksum values vary; checked by prefix below
      {"a body bit flipped",
       [](std::string b) {
         return FlipBits(std::move(b), 42, 0x20);
       },
       ""},
      {"a newer format version", [](std::string b) { return ResealHeader(SetU32(b, 8, 2)); },
       "format version 2 is not the one this build reads (1)"},
      {"another partition's checkpoint under this name",
       [](std::string b) { return ResealHeader(SetU32(b, 12, 1)); },
       "holds partition 1 offset 30, not the partition 0 offset 30 its name says"},
  };
}

TEST_CASE("Checkpoints: a damaged newest checkpoint falls back to the previous one") {
  for (const Damage& d : DamageCatalogue()) {
    INFO("damage: " << d.name);
    const std::string dir = FreshDir("damage");
    auto store = OpenStore(dir);
    for (int64_t offset : {10, 20, 30}) {
      REQUIRE_THAT(store->Save(0, offset, absl::StrCat("at ", offset)), IsOk());
    }
    const std::string newest = PathOf(dir, 0, 30);
    const std::string bytes = ReadAll(newest);
    REQUIRE(bytes.size() == 45);
    WriteAll(newest, d.apply(bytes));

    std::vector<std::string> warnings;
    absl::StatusOr<Checkpoint> loaded = store->LoadNewest(0, &warnings);
    REQUIRE_THAT(StatusOf(loaded), IsOk());
    CHECK(loaded->offset == 20);
    CHECK(loaded->snapshot == "at 20");
    REQUIRE(warnings.size() == 1);
    if (d.name == "a header bit flipped") {
      CHECK_THAT(warnings[0], Catch::Matchers::StartsWith(newest + ": header checksum mismatch (stored "));
    } else if (d.name == "a body bit flipped") {
      CHECK_THAT(warnings[0], Catch::Matchers::StartsWith(newest + ": body checksum mismatch (stored "));
    } else {
      CHECK(warnings[0] == absl::StrCat(newest, ": ", d.problem, ": skipped"));
    }
    CHECK_THAT(warnings[0], Catch::Matchers::EndsWith(": skipped"));
  }
}

TEST_CASE("Checkpoints: a body checksum warning names both checksums") {
  const std::string dir = FreshDir("crc");
  auto store = OpenStore(dir);
  REQUIRE_THAT(store->Save(0, 10, "abc"), IsOk());
  REQUIRE_THAT(store->Save(0, 20, "abc"), IsOk());
  const std::string path = PathOf(dir, 0, 20);
  std::string bytes = ReadAll(path);
  bytes[40] = 'x';
  WriteAll(path, bytes);
  std::vector<std::string> warnings;
  REQUIRE_THAT(StatusOf(store->LoadNewest(0, &warnings)), IsOk());
  char expected[128];
  std::snprintf(expected, sizeof(expected),
                ": body checksum mismatch (stored %08x, computed %08x): skipped", Crc("abc"),
                Crc("xbc"));
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == path + expected);
}

TEST_CASE("Checkpoints: an unreadable checkpoint is skipped with the reason") {
  const std::string dir = FreshDir("unreadable");
  auto store = OpenStore(dir);
  REQUIRE_THAT(store->Save(0, 10, "at 10"), IsOk());
  // A directory where a checkpoint file should be: it opens, but does not read.
  const std::string path = PathOf(dir, 0, 20);
  fs::create_directory(path);
  std::vector<std::string> warnings;
  absl::StatusOr<Checkpoint> loaded = store->LoadNewest(0, &warnings);
  REQUIRE_THAT(StatusOf(loaded), IsOk());
  CHECK(loaded->offset == 10);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == path + ": read: Is a directory: skipped");
}

TEST_CASE("Checkpoints: a checkpoint that vanished before it was read is skipped") {
  // A zombie worker pruning the partition deletes a file between our
  // listing and our read; a dangling link is such a file, every time.
  const std::string dir = FreshDir("vanished");
  auto store = OpenStore(dir);
  REQUIRE_THAT(store->Save(0, 10, "at 10"), IsOk());
  const std::string path = PathOf(dir, 0, 20);
  fs::create_symlink(dir + "/gone", path);
  std::vector<std::string> warnings;
  absl::StatusOr<Checkpoint> loaded = store->LoadNewest(0, &warnings);
  REQUIRE_THAT(StatusOf(loaded), IsOk());
  CHECK(loaded->offset == 10);
  CHECK(warnings == std::vector<std::string>{path + ": open: No such file or directory: skipped"});
}

const char kRefusal[] =
    "; not starting the partition from its beginning, which would send every message again: "
    "make a checkpoint readable, or remove them all to start over";

TEST_CASE("Checkpoints: when no checkpoint can be read the store refuses, not NotFound") {
  // Directories where the files should be: they cannot be read even by
  // root, which chmod 000 would not stop.
  const std::string dir = FreshDir("all_unreadable");
  auto store = OpenStore(dir);
  fs::create_directory(PathOf(dir, 0, 10));
  fs::create_directory(PathOf(dir, 0, 20));
  std::vector<std::string> warnings;
  absl::StatusOr<Checkpoint> loaded = store->LoadNewest(0, &warnings);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.status().code() == absl::StatusCode::kUnavailable);
  CHECK(loaded.status().message() ==
        absl::StrCat("partition 0 has 2 checkpoints in ", dir, " but none is usable (",
                     PathOf(dir, 0, 20), ": read: Is a directory; ", PathOf(dir, 0, 10),
                     ": read: Is a directory)", kRefusal));
  CHECK(warnings == std::vector<std::string>{
                        PathOf(dir, 0, 20) + ": read: Is a directory: skipped",
                        PathOf(dir, 0, 10) + ": read: Is a directory: skipped"});

  SECTION("one damaged and one unreadable: still unavailable, not data loss") {
    fs::remove(PathOf(dir, 0, 10));
    WriteAll(PathOf(dir, 0, 10), "garbage");
    CHECK(store->LoadNewest(0, nullptr).status().code() == absl::StatusCode::kUnavailable);
  }
}

TEST_CASE("Checkpoints: when every checkpoint is damaged the store refuses, not NotFound") {
  const std::string dir = FreshDir("all_damaged");
  auto store = OpenStore(dir);
  REQUIRE_THAT(store->Save(0, 10, "at 10"), IsOk());
  REQUIRE_THAT(store->Save(0, 20, "at 20"), IsOk());
  WriteAll(PathOf(dir, 0, 10), "garbage");
  WriteAll(PathOf(dir, 0, 20), "");
  std::vector<std::string> warnings;
  absl::StatusOr<Checkpoint> loaded = store->LoadNewest(0, &warnings);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.status().code() == absl::StatusCode::kDataLoss);
  CHECK(loaded.status().message() ==
        absl::StrCat("partition 0 has 2 checkpoints in ", dir, " but none is usable (",
                     PathOf(dir, 0, 20), ": truncated: 0 bytes, shorter than the 40-byte header; ",
                     PathOf(dir, 0, 10), ": truncated: 7 bytes, shorter than the 40-byte header)",
                     kRefusal));
  CHECK(warnings == std::vector<std::string>{
                        absl::StrCat(PathOf(dir, 0, 20),
                                     ": truncated: 0 bytes, shorter than the 40-byte header: "
                                     "skipped"),
                        absl::StrCat(PathOf(dir, 0, 10),
                                     ": truncated: 7 bytes, shorter than the 40-byte header: "
                                     "skipped")});
  // Without a warnings list: the same answer.
  CHECK(store->LoadNewest(0, nullptr).status() == loaded.status());
}

TEST_CASE("Checkpoints: a partition without checkpoints is NotFound") {
  const std::string dir = FreshDir("none");
  auto store = OpenStore(dir);
  std::vector<std::string> warnings;
  absl::StatusOr<Checkpoint> loaded = store->LoadNewest(5, &warnings);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.status().code() == absl::StatusCode::kNotFound);
  CHECK(loaded.status().message() ==
        absl::StrCat("no checkpoint for partition 5 in ", dir));
  CHECK(warnings.empty());
  CHECK(Offsets(*store, 5).empty());
}

TEST_CASE("Checkpoints: partitions are independent") {
  const std::string dir = FreshDir("partitions");
  auto store = OpenStore(dir, 2);
  for (int64_t offset : {10, 20, 30, 40}) {
    REQUIRE_THAT(store->Save(1, offset, absl::StrCat("p1 at ", offset)), IsOk());
  }
  REQUIRE_THAT(store->Save(10, 5, "p10 at 5"), IsOk());
  REQUIRE_THAT(store->Save(0, 7, "p0 at 7"), IsOk());
  // Pruning partition 1 left the others alone.
  CHECK(Offsets(*store, 1) == std::vector<int64_t>{40, 30});
  CHECK(Offsets(*store, 10) == std::vector<int64_t>{5});
  CHECK(Offsets(*store, 0) == std::vector<int64_t>{7});
  CHECK(Offsets(*store, 2).empty());

  WriteAll(PathOf(dir, 10, 5), "garbage");
  CHECK(store->LoadNewest(10, nullptr).status().code() == absl::StatusCode::kDataLoss);
  std::vector<std::string> warnings;
  absl::StatusOr<Checkpoint> p1 = store->LoadNewest(1, &warnings);
  REQUIRE_THAT(StatusOf(p1), IsOk());
  CHECK(p1->partition == 1);
  CHECK(p1->snapshot == "p1 at 40");
  absl::StatusOr<Checkpoint> p0 = store->LoadNewest(0, &warnings);
  REQUIRE_THAT(StatusOf(p0), IsOk());
  CHECK(p0->snapshot == "p0 at 7");
  CHECK(warnings.empty());
}

TEST_CASE("Checkpoints: bad arguments are refused") {
  const std::string dir = FreshDir("arguments");
  SECTION("keep below one") {
    absl::StatusOr<std::unique_ptr<DirectoryCheckpointStore>> store =
        DirectoryCheckpointStore::Open(dir, 0);
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(store.status().message() ==
          absl::StrCat("checkpoint directory ", dir, ": keep is 0, must be at least 1"));
  }
  SECTION("an empty path") {
    absl::StatusOr<std::unique_ptr<DirectoryCheckpointStore>> store =
        DirectoryCheckpointStore::Open("");
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().message() == "checkpoint directory: the path is empty");
  }
  SECTION("a file where the directory should be") {
    fs::create_directories(fs::path(dir).parent_path());
    WriteAll(dir, "not a directory");
    absl::StatusOr<std::unique_ptr<DirectoryCheckpointStore>> store =
        DirectoryCheckpointStore::Open(dir);
    REQUIRE_FALSE(store.ok());
    CHECK_THAT(std::string(store.status().message()), Catch::Matchers::StartsWith(dir + ": "));
    fs::remove(dir);
  }
  SECTION("a negative offset or partition") {
    auto store = OpenStore(dir);
    absl::Status s = store->Save(0, -1, "x");
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() == "checkpoint: partition 0 offset -1: must not be negative");
    s = store->Save(-2, 0, "x");
    CHECK(s.message() == "checkpoint: partition -2 offset 0: must not be negative");
    CHECK(Files(dir).empty());
  }
  SECTION("a directory removed under the store") {
    auto store = OpenStore(dir);
    fs::remove_all(dir);
    const absl::Status s = store->Save(0, 1, "x");
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK_THAT(std::string(s.message()), Catch::Matchers::Contains(": create: "));
  }
}

}  // namespace
}  // namespace cairn::kafka
