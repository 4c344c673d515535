// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "tools/cli.h"

#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "cairn/version.h"
#include "fmt/core.h"
#include "util/nearest.h"
#include "util/utf8.h"

namespace cairn::tools {
namespace {

constexpr char kHelpCommand[] = "help";
constexpr char kVersionCommand[] = "version";

std::string VersionLine() { return absl::StrCat("cairn ", cairn::Version()); }

// The tool's name, then the command's if any: "cairn" or "cairn sim".
std::string CommandPath(const std::string& command) {
  return command.empty() ? "cairn" : absl::StrCat("cairn ", command);
}

const CLI::Option* FindFlag(const CLI::App* command, const std::string& name) {
  return command->get_option_no_throw("--" + name);
}

// The long flag names of `command`, with their dashes ("--journey").
std::vector<std::string> FlagNames(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::Option* option : command.get_options()) {
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
  }
  return names;
}

std::vector<std::string> CommandNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(command->get_name());
  }
  return names;
}

// "; did you mean X?" when a name in `names` is near `typo`, else "".
std::string DidYouMean(const std::string& typo, const std::vector<std::string>& names,
                       bool quoted) {
  const std::optional<std::string> nearest = internal::Nearest(typo, names);
  if (!nearest) return "";
  return quoted ? absl::StrCat("; did you mean \"", *nearest, "\"?")
                : absl::StrCat("; did you mean ", *nearest, "?");
}

// An argument CLI11 left over: a flag `command` does not have, or a stray
// argument. The message says which, with the nearest flag for a typo.
std::string LeftOver(const CLI::App& command, const std::string& arg) {
  if (arg.size() > 1 && arg[0] == '-') {
    const std::string name = arg.substr(0, arg.find('='));
    return absl::StrCat("unknown flag ", internal::Escaped(name),
                        DidYouMean(name, FlagNames(command), /*quoted=*/false));
  }
  return absl::StrCat("unexpected argument \"", internal::Escaped(arg), "\"");
}

// A switch given a value other than true or false, as an error; "" if none.
std::string CheckSwitches(const CLI::App& command) {
  for (const CLI::Option* option : command.get_options()) {
    if (option->get_expected_max() != 0 || option->get_lnames().empty()) continue;
    for (const std::string& value : option->results()) {
      if (value != "true" && value != "false") {
        return absl::StrCat("--", option->get_lnames().front(),
                            " takes no value, or =true or =false");
      }
    }
  }
  return "";
}

// CLI11's message for an error it found while parsing, in the tool's words
// where they differ.
std::string ParseErrorMessage(const CLI::ParseError& e) {
  std::string what = e.what();
  // "--sink: 1 required CHANNEL:SPEC missing" (the flag was last).
  const size_t colon = what.find(':');
  if (e.get_name() == "ArgumentMismatch" && what.rfind("--", 0) == 0 &&
      colon != std::string::npos && what.find(" required ", colon) != std::string::npos) {
    return absl::StrCat(what.substr(0, colon), " needs a value");
  }
  return what;
}

// `cairn help [COMMAND]`: the tool's help, or one command's, on stdout.
int Help(const CLI::App& app, const CLI::App& help) {
  const std::vector<std::string> args = Flags(&help).Arguments();
  if (args.empty()) {
    // Not app.help(): that describes the selected command, `help` itself.
    std::fputs(app.get_formatter()->make_help(&app, "cairn", CLI::AppFormatMode::Normal).c_str(),
               stdout);
    return 0;
  }
  if (args.size() > 1) return Usage(kHelpCommand, "give one command");
  const std::vector<const CLI::App*> named = app.get_subcommands(
      [&args](const CLI::App* command) { return command->get_name() == args[0]; });
  if (named.empty()) {
    // As `cairn simm` would say it: the list to choose from is cairn --help.
    return Usage("",
                 absl::StrCat("unknown command \"", internal::Escaped(args[0]), "\"",
                              DidYouMean(args[0], CommandNames(app), /*quoted=*/true)));
  }
  std::fputs(named.front()->help("cairn").c_str(), stdout);
  return 0;
}

}  // namespace

std::optional<std::string> Flags::Get(const std::string& name) const {
  const CLI::Option* option = FindFlag(command_, name);
  if (option == nullptr || option->results().empty()) return std::nullopt;
  const std::string& last = option->results().back();
  if (option->get_expected_max() == 0 && last != "true") return std::nullopt;
  return last;
}

std::vector<std::string> Flags::All(const std::string& name) const {
  const CLI::Option* option = FindFlag(command_, name);
  return option == nullptr ? std::vector<std::string>() : option->results();
}

std::vector<std::string> Flags::Arguments() const {
  for (const CLI::Option* option : command_->get_options()) {
    if (option->get_positional()) return option->results();
  }
  return {};
}

void AddFlag(CLI::App* command, const std::string& name, const std::string& value_name,
             const std::string& description) {
  command->add_option("--" + name, description)
      ->type_name(value_name)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

void AddRepeatedFlag(CLI::App* command, const std::string& name, const std::string& value_name,
                     const std::string& description) {
  // One value per --NAME: `--sink a b` leaves b over, as a stray argument.
  command->add_option("--" + name, description)
      ->type_name(value_name)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void AddSwitch(CLI::App* command, const std::string& name, const std::string& description) {
  command->add_flag("--" + name, description);
}

void AddArguments(CLI::App* command, const std::string& value_name,
                  const std::string& description) {
  command->add_option(value_name, description)
      ->expected(0, CLI::detail::expected_max_vector_size)
      ->allow_extra_args();
}

int Usage(const std::string& command, const std::string& error) {
  fmt::print(stderr, "{}: {}\nSee '{} --help' for usage.\n", CommandPath(command), error,
             CommandPath(command));
  return 2;
}

int RunTool(const std::vector<Command>& commands, int argc, const char* const* argv) {
  CLI::App app("cairn: check, simulate and run customer journeys", "cairn");
  app.require_subcommand(0, 1);
  // Left-over arguments are reported here, with the nearest valid name,
  // rather than as CLI11's "The following arguments were not expected".
  app.allow_extras();
  app.set_version_flag("--version", VersionLine, "Print the version and exit");
  app.get_formatter()->column_width(34);
  app.get_formatter()->label("SUBCOMMAND", "COMMAND");
  app.get_formatter()->label("Positionals", "Arguments");

  std::vector<std::pair<CLI::App*, const Command*>> registered;
  for (const Command& c : commands) {
    CLI::App* command = app.add_subcommand(c.name, c.summary);
    command->group("Commands");
    command->allow_extras();
    c.add_flags(command);
    if (!c.footer.empty()) command->footer(c.footer);
    registered.emplace_back(command, &c);
  }
  CLI::App* help = app.add_subcommand(kHelpCommand, "Show the commands, or a command's flags");
  help->group("Commands");
  help->allow_extras();
  AddArguments(help, "COMMAND", "the command to describe");
  CLI::App* version = app.add_subcommand(kVersionCommand, "Print the version");
  version->group("Commands");
  version->allow_extras();
  // After the commands: they would inherit it.
  app.footer("Run 'cairn COMMAND --help' (or 'cairn help COMMAND') for a command's flags.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion& e) {
    fmt::print("{}\n", e.what());
    return 0;
  } catch (const CLI::ParseError& e) {
    const std::vector<CLI::App*> selected = app.get_subcommands();
    return Usage(selected.empty() ? "" : selected.front()->get_name(), ParseErrorMessage(e));
  }

  if (const std::vector<std::string> extra = app.remaining(); !extra.empty()) {
    if (extra.front().size() > 1 && extra.front()[0] == '-') {
      return Usage("", LeftOver(app, extra.front()));
    }
    return Usage("", absl::StrCat("unknown command \"", internal::Escaped(extra.front()), "\"",
                                  DidYouMean(extra.front(), CommandNames(app), /*quoted=*/true)));
  }
  const std::vector<CLI::App*> selected = app.get_subcommands();
  if (selected.empty()) {  // Plain `cairn`: not what was meant, so exit 2.
    std::fputs(app.help().c_str(), stderr);
    return 2;
  }
  CLI::App* command = selected.front();
  if (const std::vector<std::string> extra = command->remaining(); !extra.empty()) {
    return Usage(command->get_name(), LeftOver(*command, extra.front()));
  }
  if (const std::string bad = CheckSwitches(*command); !bad.empty()) {
    return Usage(command->get_name(), bad);
  }
  if (command == help) return Help(app, *help);
  if (command == version) {
    fmt::print("{}\n", VersionLine());
    return 0;
  }
  for (const auto& [app_command, c] : registered) {
    if (app_command == command) return c->run(Flags(command));
  }
  return Usage("", "no command ran");  // Not reached: every command is registered.
}

}  // namespace cairn::tools
