// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// `cairn worker`, `cairn clock`, `cairn deploy` and `cairn state` (built
// with CAIRN_WITH_KAFKA).

#ifndef CAIRN_TOOLS_KAFKA_COMMANDS_H_
#define CAIRN_TOOLS_KAFKA_COMMANDS_H_

#include <string>
#include <vector>

namespace cairn::tools {

// Runs a worker (cairn/kafka/worker.h) until SIGTERM or SIGINT, then hands
// its partitions over (checkpointing them) and exits 0; 1 on a fatal error,
// 2 on bad usage.
int Worker(const std::vector<std::string>& args);

// Writes clock ticks (cairn/kafka/broadcast.h): one at --at TIME, or one per
// --every interval of the wall clock (at whole multiples of it), --count
// times or until SIGTERM or SIGINT.
int Clock(const std::vector<std::string>& args);

// Writes a deploy record of --journey FILE into every partition, at --at
// TIME (default: now), after checking that the journey compiles.
int Deploy(const std::vector<std::string>& args);

// Writes a behaviour declaration of --behaviors FILE (a cairn.v1.BehaviorSet)
// into every partition, at --at TIME (default: now), after checking the set.
int Declare(const std::vector<std::string>& args);

// Writes a journey state change (--journey ID --state active|paused|stopped)
// into every partition, at --at TIME (default: now).
int State(const std::vector<std::string>& args);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_KAFKA_COMMANDS_H_
