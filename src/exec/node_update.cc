// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The update node: writes the subject's profile (assignments, unsets, tags)
// and tells the host's ProfileSink, then takes its one edge.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "cairn/options.h"
#include "compile/journey_graph.h"
#include "exec/bindings.h"
#include "exec/engine_impl.h"
#include "exec/engine_state.h"
#include "predicate/predicate.h"

namespace cairn {

using internal::Enrollment;
using internal::FindSorted;
using internal::GraphNode;
using internal::JourneyVersion;
using internal::SetSorted;
using internal::SubjectState;

bool Engine::Impl::ArriveUpdate(uint32_t slot, const internal::Bindings& bindings) {
  Enrollment& e = enrollments_[slot];
  const JourneyVersion& v = versions_[e.version];
  const GraphNode& node = v.graph->nodes[e.node];
  const v1::Update& u = node.def->update();
  SubjectState& s = subjects_[e.subject];
  ProfileWrite write;
  write.subject_id = s.id;
  write.subject_type = subjects_.TypeOf(s);
  write.journey_id = v.graph->definition.id();
  write.node_id = node.id;
  write.time = now_;
  // Values are read before any is written, so assignments see the profile
  // as it was when the enrollment arrived.
  for (int i = 0; i < u.assignments_size(); ++i) {
    const internal::CompiledOperand& operand = node.assignments[i];
    Value value = operand.literal;
    if (operand.path) {
      Value scratch;
      const Value* found = bindings.Find(operand.path->root, operand.path->key, &scratch);
      value = found != nullptr ? *found : Value();
    }
    write.set.emplace_back(u.assignments(i).attribute(), std::move(value));
  }
  // Segments reading what it writes are re-checked after this step; a
  // change this causes triggers no journey (docs/journeys.md, "Segments").
  QueueAttributeChecks(e.subject, s.profile, write.set, /*triggers=*/false);
  for (const auto& [name, value] : write.set) SetSorted(&s.profile, name, value);
  for (const std::string& name : u.unset()) {
    QueueAttributeChecks(e.subject, s.profile, {{name, Value()}}, /*triggers=*/false);
    SetSorted(&s.profile, name, Value());
    write.unset.push_back(name);
  }
  if (u.add_tags_size() > 0 || u.remove_tags_size() > 0) {
    std::vector<std::string> tags;
    if (const Value* t = FindSorted(s.profile, "tags");
        t != nullptr && t->type() == Value::Type::kStringList) {
      tags = t->string_list_value();
    }
    for (const std::string& tag : u.add_tags()) {
      if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
      write.add_tags.push_back(tag);
    }
    for (const std::string& tag : u.remove_tags()) {
      tags.erase(std::remove(tags.begin(), tags.end(), tag), tags.end());
      write.remove_tags.push_back(tag);
    }
    Attributes tagged = {{"tags", Value::StringList(std::move(tags))}};
    QueueAttributeChecks(e.subject, s.profile, tagged, /*triggers=*/false);
    SetSorted(&s.profile, "tags", std::move(tagged[0].second));
  }
  MarkStateChanged(e.subject);
  if (profile_sink_ != nullptr) profile_sink_->Write(write);
  Leave(slot, 0);
  return false;
}

}  // namespace cairn
