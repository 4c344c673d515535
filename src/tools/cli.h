// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The `cairn` tool's command line, on CLI11: each command declares its flags
// (with descriptions, for `cairn COMMAND --help`) and a function that runs
// with the values given. RunTool parses, reports usage errors the same way
// for every command (stderr, exit 2, a hint, the nearest valid name for a
// typo) and prints help and the version.
//
// Flags are --name VALUE or --name=VALUE; given twice, the last counts,
// except repeated flags (AddRepeatedFlag), which collect. Switches take no
// value, or =true / =false.

#ifndef CAIRN_TOOLS_CLI_H_
#define CAIRN_TOOLS_CLI_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace cairn::tools {

// The flags one command was given, read by name without the dashes.
class Flags {
 public:
  explicit Flags(const CLI::App* command) : command_(command) {}

  // The last value of --NAME; for a switch, "true" when on. Nullopt when
  // not given (or a switch turned off).
  std::optional<std::string> Get(const std::string& name) const;
  // Every value of --NAME, in order (for repeated flags).
  std::vector<std::string> All(const std::string& name) const;
  // The command's positional arguments (AddArguments), in order.
  std::vector<std::string> Arguments() const;

 private:
  const CLI::App* command_;
};

// Adds --NAME VALUE to `command`; VALUE_NAME shows in help ("FILE").
void AddFlag(CLI::App* command, const std::string& name, const std::string& value_name,
             const std::string& description);
// Adds --NAME VALUE that may be given more than once, every value kept.
void AddRepeatedFlag(CLI::App* command, const std::string& name, const std::string& value_name,
                     const std::string& description);
// Adds the boolean --NAME (also --NAME=true, --NAME=false).
void AddSwitch(CLI::App* command, const std::string& name, const std::string& description);
// Lets `command` take positional arguments, any number, shown as
// VALUE_NAME... in help.
void AddArguments(CLI::App* command, const std::string& value_name,
                  const std::string& description);

// A command of the tool.
struct Command {
  std::string name;
  // One line for `cairn help`, and the first line of the command's help.
  std::string summary;
  // Declares the command's flags.
  std::function<void(CLI::App*)> add_flags;
  // Runs the command with the flags it was given; returns the exit code.
  std::function<int(const Flags&)> run;
  // Printed after the flags in the command's help (exit status, notes);
  // may be empty.
  std::string footer;
};

// Parses argv, runs the command it names and returns the exit code: 0 for
// help and the version, 2 for a usage error, else the command's.
int RunTool(const std::vector<Command>& commands, int argc, const char* const* argv);

// Prints "cairn COMMAND: ERROR" and a one-line hint to `cairn COMMAND
// --help` to stderr; returns 2. For errors found after parsing (a value
// that does not parse, a required flag missing).
int Usage(const std::string& command, const std::string& error);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_CLI_H_
