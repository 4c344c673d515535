// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The README's C++ snippets are code that builds and runs: each of them,
// paragraph by paragraph, is in examples/welcome (the program and its
// harness test, which the tests build and run), so that the README cannot
// drift from the API.

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "catch2/catch.hpp"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// `text` with each line's surrounding whitespace removed, blank lines
// dropped, one line each.
std::string Normalized(const std::string& text) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) lines.emplace_back(line);
  }
  return absl::StrJoin(lines, "\n");
}

// The paragraphs (runs of non-blank lines) of the README's ```cpp blocks.
std::vector<std::string> CppParagraphs(const std::string& readme) {
  std::vector<std::string> paragraphs;
  bool in_cpp = false;
  std::string current;
  const auto flush = [&] {
    if (!current.empty()) paragraphs.push_back(current);
    current.clear();
  };
  for (absl::string_view line : absl::StrSplit(readme, '\n')) {
    if (!in_cpp) {
      in_cpp = line == "```cpp";
      continue;
    }
    if (line == "```") {
      flush();
      in_cpp = false;
    } else if (absl::StripAsciiWhitespace(line).empty()) {
      flush();
    } else {
      absl::StrAppend(&current, line, "\n");
    }
  }
  return paragraphs;
}

TEST_CASE("Every C++ snippet of the README is in a program the tests build and run") {
  const std::string dir = CAIRN_SOURCE_DIR;
  const std::vector<std::string> paragraphs = CppParagraphs(ReadFile(dir + "/README.md"));
  REQUIRE(paragraphs.size() >= 6);  // The sink, the engine, the harness, the shards.
  const std::string sources = Normalized(ReadFile(dir + "/examples/welcome/main.cc")) + "\n\n" +
                              Normalized(ReadFile(dir + "/examples/welcome/welcome_test.cc"));
  for (const std::string& paragraph : paragraphs) {
    INFO(paragraph);
    CHECK(absl::StrContains(sources, Normalized(paragraph)));
  }
}

}  // namespace
