// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: the records of what the engine remembers about inputs and
// sends: the de-duplication ledger ("seen") and the sent-message table,
// each written oldest first, read, and (messages) checked against the
// actions awaiting reports.

#include "exec/engine_impl.h"

#include <cstdint>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cairn/status_macros.h"
#include "cairn/v1/snapshot.pb.h"
#include "exec/sent_messages.h"
#include "snapshot/record_arena.h"
#include "snapshot/snapshot_internal.h"
#include "util/record_io.h"

namespace cairn {

using internal::ActionCounters;
using internal::kMaxRestoredCount;
using internal::Nanos;
using internal::NodeIs;
using internal::ReadTime;
using internal::SentMessage;
using internal::SnapshotOutOfRange;
using internal::SumCounts;

// The de-duplication ledger, oldest first.
absl::Status Engine::Impl::WriteSeen(internal::RecordWriter* w,
                                     internal::RecordArena* records) const {
  for (const auto& [at, key] : dedup_order_) {
    v1::SnapshotRecord* r = records->Next();
    r->mutable_seen()->set_key(key);
    r->mutable_seen()->set_at_nanos(Nanos(at));
    CAIRN_RETURN_IF_ERROR(w->Write(*r));
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ReadSeen(const v1::SnapshotSeen& seen) {
  absl::Time at;
  if (!ReadTime(seen.at_nanos(), false, &at)) return SnapshotOutOfRange("de-duplication time");
  dedup_seen_[seen.key()] = at;
  dedup_order_.emplace_back(at, seen.key());
  return absl::OkStatus();
}

// The sent-message table, oldest first.
absl::Status Engine::Impl::WriteMessages(internal::RecordWriter* w,
                                         internal::RecordArena* records) const {
  absl::Status written = absl::OkStatus();
  messages_.ForEach([&](uint64_t id, absl::Time sent, const SentMessage& m) {
    if (!written.ok()) return;
    v1::SnapshotRecord* r = records->Next();
    v1::SnapshotMessage* sm = r->mutable_message();
    sm->set_id(id);
    sm->set_sent_nanos(Nanos(sent));
    sm->set_version(m.version);
    sm->set_node(m.node);
    sm->set_enrollment(m.enrollment);
    sm->set_generation(m.generation);
    sm->set_awaiting(m.awaiting);
    sm->set_resolved(m.resolved);
    written = w->Write(*r);
  });
  return written;
}

absl::Status Engine::Impl::ReadMessage(const v1::SnapshotMessage& sm) {
  // The engine never holds two messages with one id, so neither does
  // a snapshot it wrote.
  if (messages_.Find(sm.id()) != nullptr) return SnapshotOutOfRange("message (a repeated id)");
  absl::Time sent;
  if (!ReadTime(sm.sent_nanos(), false, &sent)) return SnapshotOutOfRange("message send time");
  if (!messages_.Insert(sm.id(), sent,
                        SentMessage{sm.version(), sm.node(), sm.enrollment(),
                                    sm.generation(), sm.awaiting(), sm.resolved()})) {
    return SnapshotOutOfRange("message count");
  }
  return absl::OkStatus();
}

// A remembered message still unreported is one of its action's sends
// awaiting a report.
absl::Status Engine::Impl::CheckMessages() const {
  std::map<std::pair<uint32_t, int32_t>, int64_t> unresolved;
  bool messages_ok = true;
  messages_.ForEach([&](uint64_t, absl::Time, const SentMessage& m) {
    if (!NodeIs(versions_, m.version, m.node, NodeKind::kAction) || m.enrollment >= enrollments_.size()) {
      messages_ok = false;
    } else if (!m.resolved) {
      ++unresolved[{m.version, m.node}];
    }
  });
  if (!messages_ok) return SnapshotOutOfRange("message");
  for (const auto& [where, count] : unresolved) {
    const ActionCounters& a = versions_[where.first].counters.actions[where.second];
    // (Every term is in [0, kMaxRestoredCount], checked above.)
    const int64_t awaiting = a.sent - a.delivered - a.unreported - SumCounts(a.undelivered);
    if (count > awaiting) return SnapshotOutOfRange("message (more unreported than its action sent)");
  }
  return absl::OkStatus();
}

}  // namespace cairn
