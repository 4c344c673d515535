// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The action node: sends a message through the send path (SendMessage in
// engine_send.cc applies the policies and calls the channel's sink) and
// decides what follows from the outcome: next on success, on_failure (if
// the node has one) when the message was suppressed or refused, a wait for
// the end of quiet hours or the opening of the send window (the node's timer
// retries), or a wait for the
// delivery report (the report decides; the node's timer is its timeout).

#include "compile/journey_graph.h"
#include "exec/engine_impl.h"
#include "exec/engine_state.h"
#include "exec/sent_messages.h"

namespace cairn {

bool Engine::Impl::ArriveAction(uint32_t slot, const internal::Bindings& bindings) {
  const SendOutcome outcome = SendMessage(slot, bindings);
  internal::Enrollment& e = enrollments_[slot];
  switch (outcome.kind) {
    case SendOutcome::Kind::kHeldOut:  // The holdout's path is the sent one.
    case SendOutcome::Kind::kSent:
      FinishAction(slot, /*ok=*/true);
      return false;
    case SendOutcome::Kind::kSuppressed:
    case SendOutcome::Kind::kFailed:
      FinishAction(slot, /*ok=*/false);
      return false;
    case SendOutcome::Kind::kDeferred:
      ScheduleTimer(outcome.retry_at, slot, e.generation, internal::TimerKind::kNode);
      return true;
    case SendOutcome::Kind::kAwaitingDelivery:
      e.awaiting = true;
      awaiting_messages_[slot] = outcome.message_id;
      ScheduleTimer(now_ + NodeOf(e).duration, slot, e.generation, internal::TimerKind::kNode);
      return true;
  }
  return false;  // Unreachable: every outcome is handled above.
}

void Engine::Impl::ActionTimer(uint32_t slot) {
  const internal::Enrollment& e = enrollments_[slot];
  // Not awaiting a report: quiet hours or the send window deferred the
  // send, and have ended or opened.
  // Run arrives at the node again and retries.
  if (!e.awaiting) return;
  // The delivery report did not come in time.
  internal::SentMessage* const m = messages_.Find(AwaitingMessage(slot));
  if (m != nullptr) m->resolved = true;
  internal::CountReason(&versions_[e.version].counters.actions[e.node].undelivered,
                        "delivery_timeout");
  FinishAction(slot, /*ok=*/false);
}

void Engine::Impl::ActionDelivery(uint32_t slot, bool delivered) {
  FinishAction(slot, delivered);
}

void Engine::Impl::FinishAction(uint32_t slot, bool ok) {
  const internal::GraphNode& node = NodeOf(enrollments_[slot]);
  Leave(slot, !ok && node.edges.size() > 1 ? 1 : 0);
}

}  // namespace cairn
