// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: the table of node kinds. Each kind's hooks are defined in
// its own file (exec/node_<kind>.cc); a new kind adds its file and its row
// here.

#include "exec/engine_impl.h"

namespace cairn {

const Engine::Impl::NodeHooks& Engine::Impl::HooksOf(NodeKind kind) {
  //                     arrive               on_event          on_timer           on_delivery
  static constexpr NodeHooks kTrigger{&Impl::ArriveTrigger, nullptr, nullptr, nullptr};
  static constexpr NodeHooks kFilter{&Impl::ArriveFilter, nullptr, nullptr, nullptr};
  static constexpr NodeHooks kDelay{&Impl::ArriveDelay, nullptr, &Impl::DelayTimer, nullptr};
  static constexpr NodeHooks kSplit{&Impl::ArriveSplit, nullptr, nullptr, nullptr};
  static constexpr NodeHooks kAction{&Impl::ArriveAction, nullptr, &Impl::ActionTimer,
                                     &Impl::ActionDelivery};
  static constexpr NodeHooks kWait{&Impl::ArriveWait, &Impl::WaitEvent, &Impl::WaitTimer,
                                   nullptr};
  static constexpr NodeHooks kGoal{&Impl::ArriveGoal, &Impl::GoalEvent, &Impl::GoalTimer,
                                   nullptr};
  static constexpr NodeHooks kUpdate{&Impl::ArriveUpdate, nullptr, nullptr, nullptr};
  static constexpr NodeHooks kExit{&Impl::ArriveExit, nullptr, nullptr, nullptr};
  static constexpr NodeHooks kSwitch{&Impl::ArriveSwitch, nullptr, nullptr, nullptr};
  switch (kind) {
    case NodeKind::kTrigger: return kTrigger;
    case NodeKind::kFilter: return kFilter;
    case NodeKind::kDelay: return kDelay;
    case NodeKind::kSplit: return kSplit;
    case NodeKind::kAction: return kAction;
    case NodeKind::kWait: return kWait;
    case NodeKind::kGoal: return kGoal;
    case NodeKind::kUpdate: return kUpdate;
    case NodeKind::kExit: return kExit;
    case NodeKind::kSwitch: return kSwitch;
  }
  return kExit;  // Unreachable: the compiler accepts only the kinds above.
}

}  // namespace cairn
