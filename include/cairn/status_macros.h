// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Early-return helpers for absl::Status / absl::StatusOr, which the Abseil
// release Cairn builds against (20220623) does not provide. Public because a
// host calling Cairn benefits from them too; they have no other dependency.

#ifndef CAIRN_STATUS_MACROS_H_
#define CAIRN_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status); returns it from the enclosing function
// if it is not OK.
#define CAIRN_RETURN_IF_ERROR(expr)                          \
  do {                                                       \
    ::absl::Status cairn_status_macro_status_ = (expr);      \
    if (!cairn_status_macro_status_.ok()) {                  \
      return cairn_status_macro_status_;                     \
    }                                                        \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status if not OK,
// otherwise moves its value into `lhs`, which may be a declaration:
//   CAIRN_ASSIGN_OR_RETURN(auto journey, cairn::LoadJourneyFile(path));
#define CAIRN_ASSIGN_OR_RETURN(lhs, rexpr)                               \
  CAIRN_ASSIGN_OR_RETURN_IMPL_(                                          \
      CAIRN_STATUS_MACROS_CONCAT_(cairn_statusor_, __LINE__), lhs, rexpr)

#define CAIRN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) {                                    \
    return std::move(statusor).status();                   \
  }                                                        \
  lhs = std::move(statusor).value()

#define CAIRN_STATUS_MACROS_CONCAT_INNER_(x, y) x##y
#define CAIRN_STATUS_MACROS_CONCAT_(x, y) CAIRN_STATUS_MACROS_CONCAT_INNER_(x, y)

#endif  // CAIRN_STATUS_MACROS_H_
