// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "tools/subprocess.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace cairn::tools {
namespace {

// Owns a posix_spawn_file_actions_t, which must be destroyed on every path.
class FileActions {
 public:
  FileActions() { error_ = posix_spawn_file_actions_init(&actions_); }
  ~FileActions() {
    if (error_ == 0) posix_spawn_file_actions_destroy(&actions_);
  }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;

  // 0, or the errno value of a failed init.
  int error() const { return error_; }
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
  int error_;
};

}  // namespace

absl::Status RunProgram(const std::vector<std::string>& argv) {
  if (argv.empty()) return absl::InvalidArgumentError("no program to run");
  const std::string& name = argv[0];
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  // The child gets an empty stdin: ours may be the event log (`--events -`),
  // which it must neither read nor wait on.
  FileActions actions;
  int error = actions.error();
  if (error == 0) {
    error = posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null",
                                             O_RDONLY, 0);
  }
  if (error != 0) {
    return absl::InternalError(
        absl::StrCat("cannot run `", name, "`: ", std::strerror(error)));
  }
  pid_t pid;
  // glibc reports a failed exec (program not found, not executable) as
  // posix_spawnp's result rather than as the child's exit status 127.
  const int spawn_error =
      posix_spawnp(&pid, name.c_str(), actions.get(), nullptr, args.data(), environ);
  if (spawn_error == ENOENT) {
    return absl::NotFoundError(absl::StrCat("`", name, "` is not on PATH"));
  }
  if (spawn_error != 0) {
    return absl::InternalError(
        absl::StrCat("cannot run `", name, "`: ", std::strerror(spawn_error)));
  }
  int wait_status;
  while (waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(
          absl::StrCat("cannot wait for `", name, "`: ", std::strerror(errno)));
    }
  }
  if (WIFEXITED(wait_status)) {
    if (WEXITSTATUS(wait_status) == 0) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("`", name, "` exited with status ", WEXITSTATUS(wait_status)));
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::InternalError(
        absl::StrCat("`", name, "` was killed by signal ", WTERMSIG(wait_status)));
  }
  return absl::InternalError(absl::StrCat("`", name, "` stopped unexpectedly"));
}

std::string PathArgument(const std::string& path) {
  if (!path.empty() && path[0] == '-') return absl::StrCat("./", path);
  return path;
}

}  // namespace cairn::tools
