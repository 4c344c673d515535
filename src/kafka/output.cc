// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "cairn/kafka/output.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "json/json.h"
#include "kafka/json_write.h"
#include "json/event_lines.h"
#include "util/utf8.h"

namespace cairn::kafka {
namespace {

using internal::AppendField;
using internal::AppendKey;

void AppendStrings(absl::string_view key, const std::vector<std::string>& list,
                   std::string* out) {
  AppendKey(key, out);
  out->push_back('[');
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out->push_back(',');
    json::AppendJsonString(list[i], out);
  }
  out->push_back(']');
}

// JSON holds UTF-8 only: text from a record that is not is written escaped.
// `value` as it is when UTF-8, else escaped.
std::string Text(absl::string_view value) {
  return cairn::internal::IsValidUtf8(value) ? std::string(value)
                                             : cairn::internal::Escaped(value);
}

void AppendText(absl::string_view key, absl::string_view value, std::string* out) {
  AppendField(key, Text(value), out);
}

}  // namespace

std::string EncodeMessageRecord(const Message& m) {
  std::string out = "{";
  AppendField("message_id", m.message_id, &out);
  AppendField("journey", m.journey_id, &out);
  AppendKey("version", &out);
  absl::StrAppend(&out, m.journey_version);
  AppendField("node", m.node_id, &out);
  AppendField("channel", m.channel, &out);
  AppendField("template", m.template_id, &out);
  AppendField("subject", m.subject_id, &out);
  AppendField("subject_type", m.subject_type, &out);
  AppendField("time", json::FormatEventTime(m.time), &out);
  AppendKey("params", &out);
  out.push_back('{');
  for (const auto& [key, value] : m.params) AppendField(key, value, &out);
  out.push_back('}');
  if (!m.variant.empty()) AppendField("variant", m.variant, &out);
  AppendKey("awaits_delivery", &out);
  out.append(m.awaits_delivery ? "true" : "false");
  out.push_back('}');
  return out;
}

std::string EncodeProfileWriteRecord(const ProfileWrite& w) {
  std::string out = "{";
  AppendField("subject", w.subject_id, &out);
  AppendField("subject_type", w.subject_type, &out);
  AppendField("journey", w.journey_id, &out);
  AppendField("node", w.node_id, &out);
  AppendField("time", json::FormatEventTime(w.time), &out);
  AppendKey("set", &out);
  out.push_back('{');
  for (const auto& [name, value] : w.set) {
    AppendKey(name, &out);
    internal::AppendLenientJsonValue(value, &out);
  }
  out.push_back('}');
  AppendStrings("unset", w.unset, &out);
  AppendStrings("add_tags", w.add_tags, &out);
  AppendStrings("remove_tags", w.remove_tags, &out);
  out.push_back('}');
  return out;
}

std::string EncodeJourneyChangeResult(const JourneyChangeResult& r) {
  std::string out = "{";
  AppendKey("partition", &out);
  absl::StrAppend(&out, r.partition);
  AppendKey("offset", &out);
  absl::StrAppend(&out, r.offset);
  AppendField("time", json::FormatEventTime(r.time), &out);
  AppendField("change", r.change, &out);
  const bool behaviors = r.change == "behaviors";
  if (behaviors) {
    AppendKey("behaviors", &out);
    out.push_back('[');
    for (size_t i = 0; i < r.behaviors.size(); ++i) {
      if (i > 0) out.push_back(',');
      json::AppendJsonString(Text(r.behaviors[i]), &out);
    }
    out.push_back(']');
  } else {
    AppendText("journey", r.journey_id, &out);
  }
  if (r.change == "deploy") {
    AppendKey("version", &out);
    absl::StrAppend(&out, r.version);
  } else if (!behaviors) {
    AppendField("state", r.state, &out);
  }
  AppendField("result", r.applied ? "applied" : "refused", &out);
  if (!r.applied) AppendText("error", r.error, &out);
  if (!behaviors) {
    AppendKey("versions", &out);
    absl::StrAppend(&out, "[", absl::StrJoin(r.versions, ","), "]");
  }
  out.push_back('}');
  return out;
}

}  // namespace cairn::kafka
