// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The host's extension points: where the engine's outputs go.
//   ChannelSink  receives each message an action sends (push, SMS, ...);
//   ProfileSink  receives profile write-backs from update nodes;
//   Observer     receives a per-step trace (enter, leave, exit).
// All are called synchronously on the thread that called the Engine input
// that caused them, in a deterministic order. They must not call back into
// the Engine.

#ifndef CAIRN_SINK_H_
#define CAIRN_SINK_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/event.h"

namespace cairn {

// One message an action node sends.
struct Message {
  // Deterministic id: a stable hash of (journey id, version, subject type,
  // subject id, the subject's entry ordinal in the journey, node id, visit)
  // as 16 lower-case hex digits. The same inputs give the same ids, so a
  // host can de-duplicate sends after a crash and replay.
  std::string message_id;
  std::string journey_id;
  int64_t journey_version = 0;
  std::string node_id;
  std::string channel;
  std::string template_id;
  std::string subject_id;
  std::string subject_type;
  // Template parameters with {{...}} placeholders substituted, sorted by key.
  std::vector<std::pair<std::string, std::string>> params;
  // Engine time of the send.
  absl::Time time;
  // The most recent split variant the enrollment passed; empty if none.
  std::string variant;
  // True when the journey waits for ReportDelivery() on this message.
  bool awaits_delivery = false;
};

// A channel's immediate answer to Send().
struct SendResult {
  // Accepted: the channel took the message (delivery may still fail later).
  static SendResult Accepted() { return SendResult{true, ""}; }
  // Failed at once, e.g. "no_device_token", "invalid_phone".
  static SendResult Failed(std::string reason) {
    return SendResult{false, std::move(reason)};
  }

  bool accepted = true;
  // Why it failed; counted per reason in the report. Empty is reported as
  // "unspecified".
  std::string failure_reason;
};

// Delivers messages on one channel. Implemented by the host.
class ChannelSink {
 public:
  virtual ~ChannelSink() = default;
  // Takes one message. Must not block for long: the engine is paused while it
  // runs. Returning Failed sends the enrollment down the action's on_failure
  // edge (or next, without one). `message` is valid only during the call (the
  // engine reuses the object for its next send): copy what you keep.
  virtual SendResult Send(const Message& message) = 0;
};

// A write-back to a subject's profile, from an update node. The engine has
// already applied it to its own copy of the profile.
struct ProfileWrite {
  std::string subject_id;
  std::string subject_type;
  std::string journey_id;
  std::string node_id;
  absl::Time time;
  // Attributes set, in definition order.
  Attributes set;
  // Attributes removed.
  std::vector<std::string> unset;
  // Tags added to / removed from the "tags" string list.
  std::vector<std::string> add_tags;
  std::vector<std::string> remove_tags;
};

// Receives profile write-backs. Implemented by the host.
class ProfileSink {
 public:
  virtual ~ProfileSink() = default;
  virtual void Write(const ProfileWrite& write) = 0;
};

// One step of an enrollment, for tracing.
struct TraceStep {
  enum class Kind {
    kEnter,  // arrived at node_id
    kLeave,  // left node_id by edge `detail` (the edge label)
    kExit,   // ended at node_id for reason `detail`
  };
  Kind kind = Kind::kEnter;
  absl::Time time;
  absl::string_view journey_id;
  int64_t journey_version = 0;
  absl::string_view subject_id;
  absl::string_view node_id;
  absl::string_view detail;
};

// Receives every step. Implemented by the host (or cairn::testing). The
// string_views are valid only during the call.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void OnStep(const TraceStep& step) = 0;
};

}  // namespace cairn

#endif  // CAIRN_SINK_H_
