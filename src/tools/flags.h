// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Command-line flags for the `cairn` tool.

#ifndef CAIRN_TOOLS_FLAGS_H_
#define CAIRN_TOOLS_FLAGS_H_

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "util/utf8.h"

namespace cairn::tools {

// Flags of the form --name VALUE or --name=VALUE; repeated flags collect.
// Boolean flags take no value (or =true / =false).
class Flags {
 public:
  Flags(std::vector<std::string> with_values, std::vector<std::string> booleans)
      : with_values_(std::move(with_values)), booleans_(std::move(booleans)) {}

  // Parses args; returns false (with a message) on a stray argument, an
  // unknown flag or a flag missing its value.
  bool Parse(const std::vector<std::string>& args, std::string* error) {
    auto listed = [](const std::vector<std::string>& list, const std::string& name) {
      return std::find(list.begin(), list.end(), name) != list.end();
    };
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a.rfind("--", 0) != 0) {
        *error = absl::StrCat("unexpected argument \"", internal::Escaped(a), "\"");
        return false;
      }
      const size_t eq = a.find('=');
      std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      if (listed(booleans_, name)) {
        const std::string value = eq == std::string::npos ? "true" : a.substr(eq + 1);
        if (value != "true" && value != "false") {
          *error = absl::StrCat("--", name, " takes no value, or =true or =false");
          return false;
        }
        if (value == "true") {
          values_[name].push_back(value);
        } else {
          values_.erase(name);
        }
        continue;
      }
      if (!listed(with_values_, name)) {
        *error = absl::StrCat("unknown flag --", internal::Escaped(name));
        return false;
      }
      if (eq != std::string::npos) {
        values_[name].push_back(a.substr(eq + 1));
      } else if (i + 1 < args.size()) {
        values_[name].push_back(args[++i]);
      } else {
        *error = absl::StrCat("--", name, " needs a value");
        return false;
      }
    }
    return true;
  }
  std::optional<std::string> Get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second.back();
  }
  std::vector<std::string> All(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>() : it->second;
  }
 private:
  const std::vector<std::string> with_values_;
  const std::vector<std::string> booleans_;
  std::map<std::string, std::vector<std::string>> values_;
};

// Prints "cairn COMMAND: ERROR" and the usage text to stderr; returns 2.
int Usage(const std::string& command, const std::string& error);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_FLAGS_H_
