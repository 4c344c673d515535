// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Overloaded: one visitor for std::visit out of several lambdas, one per
// alternative (a `const auto&` lambda catches the rest).
//
// Example:
//   std::visit(Overloaded{[](const Event& e) { ... },
//                         [](const auto& other) { ... }},
//              input);

#ifndef CAIRN_UTIL_OVERLOADED_H_
#define CAIRN_UTIL_OVERLOADED_H_

namespace cairn::internal {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace cairn::internal

#endif  // CAIRN_UTIL_OVERLOADED_H_
