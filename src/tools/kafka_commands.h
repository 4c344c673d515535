// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// `cairn worker`, `cairn clock`, `cairn deploy`, `cairn declare` and
// `cairn state` (built with CAIRN_WITH_KAFKA). Each command is a pair: a
// function that declares its flags (tools/cli.h; they make its --help) and
// one that runs it with the flags given.

#ifndef CAIRN_TOOLS_KAFKA_COMMANDS_H_
#define CAIRN_TOOLS_KAFKA_COMMANDS_H_

#include "tools/cli.h"

namespace cairn::tools {

// Runs a worker (cairn/kafka/worker.h) until SIGTERM or SIGINT, then hands
// its partitions over (checkpointing them) and exits 0; 1 on a fatal error,
// 2 on bad usage.
int Worker(const Flags& flags);
// Declares Worker's flags on `command`.
void AddWorkerFlags(CLI::App* command);

// Writes clock ticks (cairn/kafka/broadcast.h): one at --at TIME, or one per
// --every interval of the wall clock (at whole multiples of it), --count
// times or until SIGTERM or SIGINT.
int Clock(const Flags& flags);
// Declares Clock's flags on `command`.
void AddClockFlags(CLI::App* command);

// Writes a deploy record of --journey FILE into every partition, at --at
// TIME (default: now), after checking that the journey compiles.
int Deploy(const Flags& flags);
// Declares Deploy's flags on `command`.
void AddDeployFlags(CLI::App* command);

// Writes a behaviour declaration of --behaviors FILE (a cairn.v1.BehaviorSet)
// into every partition, at --at TIME (default: now), after checking the set.
int Declare(const Flags& flags);
// Declares Declare's flags on `command`.
void AddDeclareFlags(CLI::App* command);

// Writes a journey state change (--journey ID --state active|paused|stopped)
// into every partition, at --at TIME (default: now).
int State(const Flags& flags);
// Declares State's flags on `command`.
void AddStateFlags(CLI::App* command);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_KAFKA_COMMANDS_H_
