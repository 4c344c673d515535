// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// ProblemList collects JourneyProblems while a journey is validated (by the
// compiler and by the predicates it compiles), so that
// validation can report every problem rather than stop at the first.
//
// Thread-safety: not thread-safe; one list per validation.

#ifndef CAIRN_UTIL_PROBLEMS_H_
#define CAIRN_UTIL_PROBLEMS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "cairn/journey.h"

namespace cairn::internal {

class ProblemList {
 public:
  explicit ProblemList(std::string journey_id)
      : journey_id_(std::move(journey_id)) {}

  // Records a problem in node `node_id` (empty: journey level) at `field`.
  void Add(absl::string_view node_id, std::string field, std::string message) {
    problems_.push_back(JourneyProblem{journey_id_, std::string(node_id),
                                       std::move(field), std::move(message)});
  }

  // Adds `text` to the end of the message of the index-th problem
  // recorded; for what is learnt about a problem after it is recorded.
  void AppendToMessage(size_t index, absl::string_view text) {
    problems_[index].message.append(text.data(), text.size());
  }

  bool empty() const { return problems_.empty(); }
  size_t size() const { return problems_.size(); }
  std::vector<JourneyProblem> Take() && { return std::move(problems_); }

 private:
  std::string journey_id_;
  std::vector<JourneyProblem> problems_;
};

// A ProblemList bound to one node, with a field prefix, so nested validators
// (predicates, matchers) need not know where they sit.
class FieldScope {
 public:
  FieldScope(ProblemList* problems, absl::string_view node_id,
             std::string prefix)
      : problems_(problems), node_id_(node_id), prefix_(std::move(prefix)) {}

  // A scope for the sub-field `name` ("where", "variants[2]").
  FieldScope Child(absl::string_view name) const {
    return FieldScope(problems_, node_id_,
                      prefix_.empty() ? std::string(name)
                                      : absl::StrCat(prefix_, ".", name));
  }
  // A scope for element `index` of the repeated field `name`.
  FieldScope Element(absl::string_view name, int index) const {
    return Child(absl::StrCat(name, "[", index, "]"));
  }

  // Records a problem at this scope's field.
  void Add(std::string message) const {
    problems_->Add(node_id_, prefix_, std::move(message));
  }
  // Records a problem at sub-field `name`.
  void AddAt(absl::string_view name, std::string message) const {
    Child(name).Add(std::move(message));
  }

  const std::string& field() const { return prefix_; }

 private:
  ProblemList* problems_;
  absl::string_view node_id_;
  std::string prefix_;
};

}  // namespace cairn::internal

#endif  // CAIRN_UTIL_PROBLEMS_H_
