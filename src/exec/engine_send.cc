// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Engine::Impl: the send path (an action's message and the record of it) and
// the send policies it applies (holdout, consent, quiet hours, the send
// window, frequency caps, rate limits). What the action node does with the
// outcome is in node_action.cc.

#include "exec/engine_impl.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "cairn/hash.h"
#include "cairn/options.h"
#include "compile/journey_graph.h"
#include "exec/bindings.h"
#include "exec/engine_state.h"
#include "exec/sent_messages.h"
#include "util/stable_hasher.h"
#include "predicate/predicate.h"
#include "timer/local_time.h"
#include "util/utf8.h"

namespace cairn {
namespace {

// The longest failure reason a sink may give that is counted as it is.
constexpr size_t kMaxSinkReasonBytes = 256;

}  // namespace

using internal::ActionCounters;
using internal::CountReason;
using internal::Enrollment;
using internal::FindSorted;
using internal::GraphNode;
using internal::JourneyVersion;
using internal::RenderParam;
using internal::SentMessage;
using internal::SubjectState;

bool Engine::Impl::HeldOut(const SubjectState& s) const {
  if (options_.holdout_percent <= 0) return false;
  const uint64_t h = StableHash64({"holdout", holdout_seed_text_, subjects_.TypeOf(s), s.id});
  return static_cast<double>(h % 10000) < options_.holdout_percent * 100;
}

bool Engine::Impl::OptedOut(const SubjectState& s, absl::string_view channel) const {
  if (options_.opt_out_attribute.empty()) return false;
  const Value* list = FindSorted(s.profile, options_.opt_out_attribute);
  if (list == nullptr || list->type() != Value::Type::kStringList) return false;
  for (const std::string& c : list->string_list_value()) {
    if (c == channel || c == "all") return true;
  }
  return false;
}

std::optional<absl::Time> Engine::Impl::QuietUntil(const Enrollment& e, absl::string_view channel) {
  const internal::JourneyGraph& graph = *versions_[e.version].graph;
  const std::vector<internal::QuietRule>& rules =
      graph.has_quiet_hours ? graph.quiet_hours : quiet_rules_;
  std::optional<absl::Time> until;
  std::optional<absl::TimeZone> zone;  // Looked up once, if any rule applies.
  for (const internal::QuietRule& q : rules) {
    if (!q.channel.empty() && q.channel != channel) continue;
    if (!zone) zone = SubjectZone(e);
    const absl::TimeZone tz = *zone;
    if (!internal::InsideLocalWindow(absl::ToCivilSecond(now_, tz), q.window)) continue;
    const absl::Time t =
        internal::NextLocalTime(now_, tz, q.window.closes / 60, q.window.closes % 60, 0);
    if (!until || t > *until) until = t;
  }
  return until;
}

std::vector<absl::Time>* Engine::Impl::Ledger(uint32_t subject, absl::string_view key,
                                              bool create) {
  auto cap_window = capped_channels_.find(key);
  if (cap_window == capped_channels_.end()) return nullptr;
  internal::SubjectState& s = subjects_[subject];
  const int32_t channel = cap_window->second.first;
  std::vector<absl::Time>* times =
      create ? &s.MutableExtra().LedgerOf(channel)
             : (s.extra != nullptr ? s.extra->FindLedger(channel) : nullptr);
  if (times == nullptr) return nullptr;
  const absl::Time horizon = now_ - cap_window->second.second;
  times->erase(times->begin(),
               std::upper_bound(times->begin(), times->end(), horizon));
  return times;
}

std::optional<absl::Time> Engine::Impl::CapFreesAt(uint32_t subject, absl::string_view channel) {
  if (capped_channels_.empty()) return std::nullopt;  // Spares hashing the channel.
  std::optional<absl::Time> frees;
  for (const absl::string_view key : {channel, kEveryChannel}) {
    const std::vector<absl::Time>* times = Ledger(subject, key, /*create=*/false);
    if (times == nullptr) continue;
    for (const FrequencyCap& cap : options_.frequency_caps) {
      if (cap.channel != key) continue;
      // The sends inside the window are the ledger's tail (it is in time
      // order); the cap frees when enough of them have left the window
      // that one more fits.
      const auto first = std::upper_bound(times->begin(), times->end(), now_ - cap.window);
      const int64_t in_window = times->end() - first;
      if (in_window < cap.max_messages) continue;
      const absl::Time t = *(first + (in_window - cap.max_messages)) + cap.window;
      if (!frees || t > *frees) frees = t;
    }
  }
  return frees;
}

std::optional<absl::Time> Engine::Impl::RateSlot(const Enrollment& e, absl::string_view channel) {
  JourneyVersion& v = versions_[e.version];
  if (rate_channels_.empty() && v.graph->rate_max == 0) return std::nullopt;
  // The limits on this send: (sends, max, per).
  absl::InlinedVector<std::tuple<std::deque<absl::Time>*, int32_t, absl::Duration>, 3> limits;
  for (const absl::string_view key : {channel, kEveryChannel}) {
    auto it = rate_channels_.find(key);
    if (it == rate_channels_.end()) continue;
    const RateLimit& l = options_.rate_limits[it->second];
    limits.emplace_back(&rate_sends_[it->second], RateShare(l.max_messages), l.per);
  }
  if (v.graph->rate_max > 0) {
    limits.emplace_back(&journeys_[v.journey].rate_sends, RateShare(v.graph->rate_max),
                        v.graph->rate_per);
  }
  absl::Time at = now_;
  for (const auto& [sends, max, per] : limits) {
    at = std::max(at, internal::RateSends::NextFree(sends, max, per, now_));
  }
  // Counted now, or reserved at `at`: either way the list stays in order
  // (`at` is never before a slot any of them holds).
  for (const auto& [sends, max, per] : limits) sends->push_back(at);
  if (at == now_) return std::nullopt;
  return at;
}

void Engine::Impl::RecordSend(uint32_t subject, absl::string_view channel) {
  if (capped_channels_.empty()) return;
  for (const absl::string_view key : {channel, kEveryChannel}) {
    if (std::vector<absl::Time>* times = Ledger(subject, key, /*create=*/true)) {
      times->push_back(now_);
    }
  }
}

Engine::Impl::SendOutcome Engine::Impl::SendMessage(uint32_t slot,
                                                   const internal::Bindings& bindings) {
  using Kind = SendOutcome::Kind;
  const Enrollment& e = enrollments_[slot];
  JourneyVersion& v = versions_[e.version];
  const GraphNode& node = v.graph->nodes[e.node];
  const v1::Action& action = node.def->action();
  const SubjectState& s = subjects_[e.subject];
  ActionCounters& counters = v.counters.actions[e.node];
  // A slot a rate limit reserved for this send is its to use now, and
  // only now: if another policy puts it off again, it competes afresh.
  const bool reserved = e.rate_reserved;
  enrollments_[slot].rate_reserved = false;

  // The policies, in this order (docs/semantics.md). A transactional
  // message is held back by consent and its own send window only.
  if (!node.transactional && HeldOut(s)) {
    CountReason(&counters.suppressed, "holdout");
    return {Kind::kHeldOut, absl::InfinitePast(), 0};
  }
  if (OptedOut(s, action.channel())) {
    CountReason(&counters.suppressed, "opted_out");
    return {Kind::kSuppressed, absl::InfinitePast(), 0};
  }
  if (!node.transactional) {
    if (std::optional<absl::Time> end = QuietUntil(e, action.channel())) {
      CountReason(&counters.deferred, "quiet_hours");
      return {Kind::kDeferred, *end, 0};
    }
  }
  if (node.send_window) {
    if (std::optional<absl::Time> opens =
            internal::NextOpening(now_, SubjectZone(e), *node.send_window)) {
      CountReason(&counters.deferred, "send_window");
      return {Kind::kDeferred, *opens, 0};
    }
  }
  if (!node.transactional) {
    if (std::optional<absl::Time> frees = CapFreesAt(e.subject, action.channel())) {
      if (node.defer_over_cap) {
        CountReason(&counters.deferred, "frequency_cap");
        return {Kind::kDeferred, *frees, 0};
      }
      CountReason(&counters.suppressed, "frequency_cap");
      return {Kind::kSuppressed, absl::InfinitePast(), 0};
    }
  }
  if (!reserved) {
    if (std::optional<absl::Time> at = RateSlot(e, action.channel())) {
      CountReason(&counters.deferred, "rate_limit");
      const int64_t delay_ms = absl::ToInt64Milliseconds(*at - now_);
      counters.rate_delay_ms_total += delay_ms;
      counters.rate_delay_ms_max = std::max(counters.rate_delay_ms_max, delay_ms);
      enrollments_[slot].rate_reserved = true;
      return {Kind::kDeferred, *at, 0};
    }
  }

  // Filled in place: the previous send's strings keep their buffers, so a
  // send allocates nothing here once they are long enough.
  Message& m = message_;
  // StableHash64({journey id, version, subject type, subject id, ordinal,
  // node id, visits}), continued from the version's hashed first two parts.
  // Keyed journeys add the key value, since ordinals count per key.
  internal::StableHasher hasher = v.message_id_prefix;
  hasher.Add(subjects_.TypeOf(s))
      .Add(s.id)
      .Add(absl::AlphaNum(e.ordinal).Piece())
      .Add(node.id)
      .Add(absl::AlphaNum(e.visits).Piece());
  if (!v.graph->instance_key.empty()) {
    hasher.Add(InstanceKey(*v.graph, ContextOf(e)).value_or(""));
  }
  // A subject whose id was forgotten before (Engine::Forget) starts its
  // entry ordinals afresh: its incarnation keeps its ids new.
  if (s.incarnation > 0) hasher.Add(absl::AlphaNum(s.incarnation).Piece());
  const uint64_t id = hasher.Finish();
  m.message_id.resize(16);
  internal::WriteHashHex(id, m.message_id.data());
  if (e.version != message_version_ || e.node != message_node_) {
    // What depends on the action node alone is copied only when it
    // changes: sends come in runs from one node (a delay's timers firing).
    m.journey_id = v.graph->definition.id();
    m.journey_version = v.compiled->version();
    m.node_id = node.id;
    m.channel = action.channel();
    m.template_id = action.template_id();
    m.params.resize(node.params.size());
    for (size_t i = 0; i < node.params.size(); ++i) m.params[i].first = node.params[i].key;
    message_version_ = e.version;
    message_node_ = e.node;
  }
  m.subject_id = s.id;
  m.subject_type = subjects_.TypeOf(s);
  for (size_t i = 0; i < node.params.size(); ++i) {  // sorted by key
    RenderParam(node.params[i], bindings, &m.params[i].second);
  }
  m.time = now_;
  if (e.split_node >= 0) {
    m.variant = v.graph->nodes[e.split_node].def->split().variants(e.variant).name();
  } else {
    m.variant.clear();
  }
  m.awaits_delivery = action.has_await_delivery();

  const SendResult result = v.sinks[node.channel]->Send(m);
  if (!result.accepted) {
    ++stats_.messages_failed;
    if (result.failure_reason.empty()) {
      CountReason(&counters.failed, "unspecified");
    } else if (internal::IsValidUtf8(result.failure_reason) &&
               result.failure_reason.size() <= kMaxSinkReasonBytes) {
      CountReason(&counters.failed, result.failure_reason);
    } else {
      // A sink's reason is text from outside too: a report (and the
      // snapshot holding it) takes only valid UTF-8 of a sane length.
      CountReason(&counters.failed,
                  internal::Escaped(absl::string_view(result.failure_reason)
                                        .substr(0, kMaxSinkReasonBytes)));
    }
    return {Kind::kFailed, absl::InfinitePast(), 0};
  }
  ++stats_.messages_sent;
  ++counters.sent;
  CountDay(e.version, &internal::DayCounter::sent);
  if (!node.transactional) RecordSend(e.subject, action.channel());
  RememberMessage(id, SentMessage{e.version, e.node, slot, e.generation,
                                  m.awaits_delivery, false});
  return {m.awaits_delivery ? Kind::kAwaitingDelivery : Kind::kSent, absl::InfinitePast(), id};
}

uint64_t Engine::Impl::AwaitingMessage(uint32_t slot) const {
  if (!enrollments_[slot].awaiting) return 0;
  auto it = awaiting_messages_.find(slot);
  return it == awaiting_messages_.end() ? 0 : it->second;
}

void Engine::Impl::StopAwaiting(uint32_t slot) {
  Enrollment& e = enrollments_[slot];
  if (!e.awaiting) return;
  e.awaiting = false;
  awaiting_messages_.erase(slot);
}

const Attributes& Engine::Impl::ContextOf(const Enrollment& e) const {
  static const Attributes* const kEmpty = new Attributes();
  return e.context == 0 ? *kEmpty : *contexts_[e.context];
}

void Engine::Impl::SetContext(uint32_t slot, Attributes context) {
  Enrollment& e = enrollments_[slot];
  if (context.empty()) {
    ClearContext(slot);
    return;
  }
  if (e.context == 0) {
    if (contexts_.empty()) contexts_.emplace_back();  // Number 0: none.
    if (free_contexts_.empty()) {
      e.context = static_cast<uint32_t>(contexts_.size());
      contexts_.push_back(std::make_unique<Attributes>());
    } else {
      e.context = free_contexts_.back();
      free_contexts_.pop_back();
    }
  }
  *contexts_[e.context] = std::move(context);
}

void Engine::Impl::ClearContext(uint32_t slot) {
  Enrollment& e = enrollments_[slot];
  if (e.context == 0) return;
  contexts_[e.context]->clear();
  free_contexts_.push_back(e.context);
  e.context = 0;
}

void Engine::Impl::RememberMessage(uint64_t id, const SentMessage& m) {
  ForgetOldMessages();
  messages_.Insert(id, now_, m);
}

void Engine::Impl::ForgetOldMessages(absl::Time now) {
  messages_.ForgetSentBefore(now - options_.delivery_report_window,
                             [&](const SentMessage& m) {
                               if (!m.resolved) {
                                 ++versions_[m.version].counters.actions[m.node].unreported;
                               }
                             });
}

}  // namespace cairn
