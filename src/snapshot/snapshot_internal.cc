// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// What the snapshot records of every kind share: times, named values,
// count ranges and references into the deployed graphs.

#include "snapshot/snapshot_internal.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/options.h"
#include "compile/journey_graph.h"
#include "exec/engine_impl.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "util/proto_time.h"

namespace cairn::internal {

int64_t Nanos(absl::Time t) {
  return t == absl::InfinitePast() ? INT64_MIN : absl::ToUnixNanos(t);
}

void WriteValues(const Attributes& attrs,
                 google::protobuf::RepeatedPtrField<v1::SnapshotNamedValue>* out) {
  for (const auto& [name, value] : attrs) {
    v1::SnapshotNamedValue* nv = out->Add();
    nv->set_name(name);
    if (!value.is_null()) *nv->mutable_value() = value.ToProto();
  }
}

absl::Status ReadValues(const google::protobuf::RepeatedPtrField<v1::SnapshotNamedValue>& in,
                        Attributes* out) {
  out->clear();
  for (const v1::SnapshotNamedValue& nv : in) {
    Value value;
    if (nv.has_value()) {
      absl::StatusOr<Value> v = Value::FromProto(nv.value());
      if (!v.ok()) return absl::DataLossError(absl::StrCat("snapshot: ", v.status().message()));
      value = *std::move(v);
    }
    out->emplace_back(nv.name(), std::move(value));
  }
  return absl::OkStatus();
}

// Whether every int64 in `m` (a report: all counts) is in
// [0, kMaxRestoredCount].
bool CountsInRange(const google::protobuf::Message& m) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Descriptor* descriptor = m.GetDescriptor();
  const google::protobuf::Reflection* reflection = m.GetReflection();
  auto in_range = [](int64_t v) { return v >= 0 && v <= kMaxRestoredCount; };
  // Field by field, asking reflection only about counts (an unset one reads
  // 0) and messages: a report has many messages, most of whose fields are
  // names, and listing each one's set fields was a good part of a restore.
  for (int k = 0; k < descriptor->field_count(); ++k) {
    const FieldDescriptor* f = descriptor->field(k);
    const FieldDescriptor::CppType type = f->cpp_type();
    if (type != FieldDescriptor::CPPTYPE_INT64 && type != FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    if (f->is_repeated()) {
      const int n = reflection->FieldSize(m, f);
      for (int i = 0; i < n; ++i) {
        const bool ok = type == FieldDescriptor::CPPTYPE_INT64
                            ? in_range(reflection->GetRepeatedInt64(m, f, i))
                            : CountsInRange(reflection->GetRepeatedMessage(m, f, i));
        if (!ok) return false;
      }
    } else if (type == FieldDescriptor::CPPTYPE_INT64) {
      if (!in_range(reflection->GetInt64(m, f))) return false;
    } else if (reflection->HasField(m, f) && !CountsInRange(reflection->GetMessage(m, f))) {
      return false;
    }
  }
  return true;
}

// A time read from a snapshot, which must be one this engine could have
// stored: from EarliestInputTime() up to the longest journey duration past
// LatestInputTime() (a timer's due time), or, where `may_be_never`,
// INT64_MIN for "never". Anything else is a forgery, and the engine's
// arithmetic on it (a window's end, a minute bucket) could overflow.
bool ReadTime(int64_t nanos, bool may_be_never, absl::Time* out) {
  if (may_be_never && nanos == INT64_MIN) {
    *out = absl::InfinitePast();
    return true;
  }
  *out = absl::FromUnixNanos(nanos);
  return *out >= EarliestInputTime() &&
         *out < LatestInputTime() + internal::MaxJourneyDuration();
}

// Whether `node` of `version` exists and is of `kind`.
bool NodeIs(const std::vector<JourneyVersion>& versions, uint32_t version, int32_t node,
            NodeKind kind) {
  return version < versions.size() && node >= 0 &&
         static_cast<size_t>(node) < versions[version].graph->nodes.size() &&
         versions[version].graph->nodes[node].kind == kind;
}

// Whether (split, variant) names a variant of a split of `version`, or is
// (-1, -1): none.
bool SplitOk(const std::vector<JourneyVersion>& versions, uint32_t version, int32_t split,
             int32_t variant) {
  if (split == -1) return variant == -1;
  return NodeIs(versions, version, split, NodeKind::kSplit) && variant >= 0 &&
         variant < versions[version].graph->nodes[split].def->split().variants_size();
}

// Whether `node` of `version` is a sequence trigger.
bool IsSequence(const std::vector<JourneyVersion>& versions, uint32_t version, int32_t node) {
  return NodeIs(versions, version, node, NodeKind::kTrigger) &&
         versions[version].graph->nodes[node].def->trigger().has_sequence();
}

// The total of `counts`; -1 for a negative count or a total past
// kMaxRestoredCount (which could overflow the sums checks make).
int64_t SumCounts(const internal::ReasonCounts& counts) {
  int64_t total = 0;
  for (const auto& [reason, count] : counts) {
    if (count < 0 || count > kMaxRestoredCount - total) return -1;
    total += count;
  }
  return total;
}

}  // namespace cairn::internal
