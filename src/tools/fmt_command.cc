// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "tools/fmt_command.h"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cairn/journey_io.h"
#include "io/journey_check.h"
#include "io/journey_format.h"
#include "tools/validate_command.h"

namespace cairn::tools {
namespace {

// True for a line with the comment fmt writes itself, a duration's human
// form after it: `duration { seconds: 3600 }  # 1h`. Formatting writes it
// again, so it is not a comment that would be lost.
bool HasDurationComment(absl::string_view line) {
  const size_t hash = line.find("  # ");
  if (hash == absl::string_view::npos) return false;
  const absl::string_view code = absl::StripAsciiWhitespace(line.substr(0, hash));
  const absl::string_view comment = line.substr(hash + 4);
  return absl::EndsWith(code, " }") &&
         (absl::StrContains(code, "{ seconds: ") || absl::StrContains(code, "{ nanos: ")) &&
         !comment.empty() && comment.find_first_of(" #") == absl::string_view::npos;
}

}  // namespace

TextComments FindTextComments(absl::string_view text) {
  TextComments out;
  size_t at = 0;
  // The header: whole lines that are blank or comments, from the top.
  while (at < text.size()) {
    const size_t end = text.find('\n', at);
    const absl::string_view line =
        text.substr(at, end == absl::string_view::npos ? absl::string_view::npos : end - at);
    const absl::string_view stripped = absl::StripLeadingAsciiWhitespace(line);
    if (!stripped.empty() && stripped[0] != '#') break;
    at = end == absl::string_view::npos ? text.size() : end + 1;
  }
  out.header = std::string(text.substr(0, at));
  // Blank lines closing the header go; the formatter puts one back.
  while (!out.header.empty() && absl::ascii_isspace(out.header.back())) out.header.pop_back();
  if (!out.header.empty()) out.header += "\n\n";
  // A '#' outside a string literal starts a comment.
  char quote = 0;
  for (size_t i = at; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote || c == '\n') {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#') {
      const size_t begin = text.rfind('\n', i) == absl::string_view::npos ? 0 : text.rfind('\n', i) + 1;
      const size_t end = std::min(text.find('\n', i), text.size());
      if (!HasDurationComment(text.substr(begin, end - begin))) {
        out.others = true;
        break;
      }
      i = end;  // The rest of the line is the comment.
    }
  }
  return out;
}

namespace {

// `journey` written in `format`, text with `header` before it.
std::optional<std::string> Render(const v1::Journey& journey, JourneyFormat format,
                                  const std::string& header) {
  if (format == JourneyFormat::kText) return header + internal::FormatText(journey);
  absl::StatusOr<std::string> out = SerializeJourney(journey, format);
  if (!out.ok()) return std::nullopt;
  return *out;
}

}  // namespace

int Fmt(const Flags& flags) {
  const std::vector<std::string> paths = flags.Arguments();
  if (paths.empty()) return Usage("fmt", "no files given");
  std::optional<JourneyFormat> to;
  if (const std::optional<std::string> name = flags.Get("to")) {
    if (*name == "text" || *name == "textproto") {
      to = JourneyFormat::kText;
    } else if (*name == "json") {
      to = JourneyFormat::kJson;
    } else {
      return Usage("fmt", "--to is text or json");
    }
  }
  JourneyFormat stdin_format = JourneyFormat::kText;
  if (const std::optional<std::string> name = flags.Get("input-format")) {
    const std::optional<JourneyFormat> named = InputFormatNamed(*name);
    if (!named) return Usage("fmt", "--input-format is textproto, json or binpb");
    stdin_format = *named;
  }
  const bool write = flags.Get("write").has_value();
  const bool check = flags.Get("check").has_value();
  const bool drop_comments = flags.Get("drop-comments").has_value();
  if (write && check) return Usage("fmt", "--write and --check do not go together");
  if (!write && !check && paths.size() > 1) {
    return Usage("fmt", "several files: rewrite them with --write, or test them with --check");
  }
  if ((write || check) && to) {
    return Usage("fmt", "--to converts one file to stdout; it does not go with --write or --check");
  }
  for (const std::string& path : paths) {
    if ((write || check) && path == "-") return Usage("fmt", "--write and --check take files, not -");
  }

  int status = 0;
  for (const std::string& path : paths) {
    const std::string name = path == "-" ? kStdinName : path;
    absl::StatusOr<JourneyText> source = ReadJourneyText(path, path == "-", stdin_format);
    if (!source.ok()) {
      fmt::print(stderr, "{}: error: {}\n", name, std::string(source.status().message()));
      status = 1;
      continue;
    }
    const internal::JourneyCheck parsed = internal::CheckJourneyText(source->data, source->format);
    if (!parsed.journey) {
      for (const internal::SourceProblem& p : parsed.problems) {
        if (p.severity == internal::SourceProblem::Severity::kError) {
          fmt::print(stderr, "{}\n", ProblemLine(name, p));
        }
      }
      status = 1;
      continue;
    }
    // A binary journey is written as text; others keep their format.
    const JourneyFormat out_format =
        to.value_or(source->format == JourneyFormat::kBinary ? JourneyFormat::kText
                                                             : source->format);
    TextComments comments;
    if (source->format == JourneyFormat::kText) comments = FindTextComments(source->data);
    const std::optional<std::string> formatted =
        Render(*parsed.journey, out_format, out_format == JourneyFormat::kText ? comments.header : "");
    if (!formatted) {
      fmt::print(stderr, "{}: error: cannot be written as {}\n", name,
                 out_format == JourneyFormat::kJson ? "JSON" : "text");
      status = 1;
      continue;
    }
    if (check) {
      if (*formatted != source->data) {
        fmt::print("{}: not formatted\n", name);
        status = 1;
      }
      continue;
    }
    if (comments.others && !drop_comments) {
      if (write) {
        fmt::print(stderr,
                   "{}: error: has comments after its header, which cairn fmt cannot keep; "
                   "left as it was (--drop-comments rewrites it without them)\n",
                   name);
        status = 1;
        continue;
      }
      fmt::print(stderr, "{}: warning: comments after the header are not kept\n", name);
    }
    if (!write) {
      std::fwrite(formatted->data(), 1, formatted->size(), stdout);
      continue;
    }
    if (*formatted == source->data) continue;
    // Written beside it, then renamed over it: a failed write leaves the
    // file as it was.
    const std::string temp = path + ".cairn-fmt.tmp";
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      out << *formatted;
      out.close();
      if (!out || std::rename(temp.c_str(), path.c_str()) != 0) {
        std::remove(temp.c_str());
        fmt::print(stderr, "{}: error: cannot write file\n", name);
        status = 1;
        continue;
      }
    }
    fmt::print(stderr, "formatted {}\n", name);
  }
  return status;
}

void AddFmtFlags(CLI::App* command) {
  AddFlag(command, "to", "text|json",
          "convert to this format (to stdout); default: the file's own (a\n"
          ".binpb file is written as text)");
  AddSwitch(command, "write", "rewrite each file in place (only if it changes)");
  AddSwitch(command, "check",
            "change nothing; list the files that are not formatted, and exit 1\n"
            "if there is one");
  AddSwitch(command, "drop-comments",
            "let --write rewrite a file whose comments after the header would be\n"
            "lost");
  AddFlag(command, "input-format", "textproto|json|binpb",
          "the format of stdin (-); default textproto. Files go by extension");
  AddArguments(command, "FILE", "journey files (.textproto, .json, .binpb), or - for stdin");
}

}  // namespace cairn::tools
