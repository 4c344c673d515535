// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The bad-input catalogue: every public entry point and every file format
// that can reject input, one table row per way to get it wrong, each with the
// exact error it must give and a check that the rejection changed nothing.
//
//   Engine inputs   Two engines are fed the same journeys and inputs, leaving
//                   subjects mid-journey; the bad input goes to one of them.
//                   Both must then have the same reports, snapshot (counters
//                   aside) and counters but for the one rejected counter, and
//                   give the same sink calls for the same continuation.
//   Restore         The engine is left fresh: it equals a never-restored twin
//                   and a good snapshot still restores into it.
//   Files, lines    The error names the file and the line or field; nothing
//                   is produced.
//
// Journey compile problems have their own catalogue in compile_test.cc.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cairn/cairn.h"
#include "cairn/testing/harness.h"
#include "cairn/v1/snapshot.pb.h"
#include "catch2/catch.hpp"
#include "google/protobuf/stubs/logging.h"
#include "json/event_lines.h"
#include "sim/generator.h"
#include "sim/simulator.h"
#include "util/record_io.h"
#include "testing/deep_journey.h"
#include "testing/snapshot_records.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::IsOk;
using testing::StatusOf;
using testing::TextJourney;

// ---------------------------------------------------------------------------
// Expected errors.

enum class Match {
  kExact,     // the whole message
  kPrefix,    // the message starts with it (the rest is variable or another library's)
};

struct Expected {
  absl::StatusCode code;
  std::string message;
  Match match = Match::kExact;
};

Expected Exact(absl::StatusCode code, std::string message) {
  return {code, std::move(message), Match::kExact};
}
Expected Prefix(absl::StatusCode code, std::string message) {
  return {code, std::move(message), Match::kPrefix};
}

void CheckError(const absl::Status& status, const Expected& expected) {
  INFO("got " << status.ToString());
  CHECK(status.code() == expected.code);
  const std::string message(status.message());
  switch (expected.match) {
    case Match::kExact:
      CHECK(message == expected.message);
      break;
    case Match::kPrefix:
      CHECK_THAT(message, Catch::StartsWith(expected.message));
      break;
  }
}

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr auto kNotFound = absl::StatusCode::kNotFound;
constexpr auto kExists = absl::StatusCode::kAlreadyExists;
constexpr auto kPrecondition = absl::StatusCode::kFailedPrecondition;
constexpr auto kOutOfRange = absl::StatusCode::kOutOfRange;
constexpr auto kDataLoss = absl::StatusCode::kDataLoss;
constexpr auto kExhausted = absl::StatusCode::kResourceExhausted;

// Case names must be unique, so a failure points at one row.
template <typename Case>
void CheckUniqueNames(const std::vector<Case>& cases) {
  std::map<std::string, int> seen;
  for (const Case& c : cases) CHECK(++seen[c.name] == 1);
}

// ---------------------------------------------------------------------------
// Engine counters.

using Counter = int64_t EngineStats::*;

const std::vector<std::pair<const char*, Counter>>& CounterNames() {
  static const auto* const kNames = new std::vector<std::pair<const char*, Counter>>{
      {"events_applied", &EngineStats::events_applied},
      {"events_ignored", &EngineStats::events_ignored},
      {"events_rejected", &EngineStats::events_rejected},
      {"events_duplicate", &EngineStats::events_duplicate},
      {"enrollments_applied", &EngineStats::enrollments_applied},
      {"enrollments_rejected", &EngineStats::enrollments_rejected},
      {"profile_updates_applied", &EngineStats::profile_updates_applied},
      {"profile_updates_rejected", &EngineStats::profile_updates_rejected},
      {"delivery_reports_applied", &EngineStats::delivery_reports_applied},
      {"delivery_reports_rejected", &EngineStats::delivery_reports_rejected},
      {"late_inputs", &EngineStats::late_inputs},
      {"too_late_inputs", &EngineStats::too_late_inputs},
      {"future_inputs", &EngineStats::future_inputs},
      {"limits_reached", &EngineStats::limits_reached},
      {"timers_fired", &EngineStats::timers_fired},
      {"messages_sent", &EngineStats::messages_sent},
      {"messages_failed", &EngineStats::messages_failed},
      {"unknown_time_zones", &EngineStats::unknown_time_zones},
      {"subjects", &EngineStats::subjects},
      {"enrollments_in_flight", &EngineStats::enrollments_in_flight},
  };
  return *kNames;
}

// One counter per line, so a difference reads as a diff.
std::string CounterText(const EngineStats& stats) {
  std::string out;
  for (const auto& [name, counter] : CounterNames()) {
    absl::StrAppend(&out, name, "=", stats.*counter, "\n");
  }
  return out;
}

// A rejected input's expected effect on the counters.
struct Delta {
  Counter counter;
  int64_t by;
};

EngineStats Plus(EngineStats stats, const std::vector<Delta>& deltas) {
  for (const Delta& d : deltas) stats.*(d.counter) += d.by;
  return stats;
}

const Delta kEventRejected{&EngineStats::events_rejected, 1};
const Delta kEventDuplicate{&EngineStats::events_duplicate, 1};
const Delta kEnrollRejected{&EngineStats::enrollments_rejected, 1};
const Delta kProfileRejected{&EngineStats::profile_updates_rejected, 1};
const Delta kDeliveryRejected{&EngineStats::delivery_reports_rejected, 1};
const Delta kErasureRejected{&EngineStats::erasures_rejected, 1};
const Delta kMergeRejected{&EngineStats::merges_rejected, 1};
const Delta kTooLate{&EngineStats::too_late_inputs, 1};
const Delta kFuture{&EngineStats::future_inputs, 1};
const Delta kLimit{&EngineStats::limits_reached, 1};

// ---------------------------------------------------------------------------
// Two engines fed identically.

// Monday 2026-01-05 00:00 UTC.
absl::Time At(absl::Duration since_start) {
  return absl::FromUnixSeconds(1767571200) + since_start;
}

EngineOptions Options() {
  EngineOptions o;
  o.start_time = At(absl::ZeroDuration());
  o.max_lateness = absl::Hours(1);
  o.dedup_window = absl::Hours(24);
  // Short, so that the prelude leaves a forgotten message behind.
  o.delivery_report_window = absl::Minutes(90);
  o.frequency_caps.push_back({"sms", 2, absl::Hours(6)});
  // Wide enough for the duplicates stamped up to a day ahead below.
  o.max_input_lead = absl::Hours(48);
  return o;
}

// Bytes that are not UTF-8: a Latin-1 "José", a lone continuation byte, an
// overlong '/', and a UTF-16 surrogate.
const std::string kLatin1 = "Jos\xE9";
const std::string kOverlong = "a\xC0\xAF" "b";
const std::string kSurrogate = "\xED\xA0\x80";

constexpr char kWelcomeV1[] = R"pb(
  id: "welcome" version: 1
  settings { state: ACTIVE }
  nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "wait_1h" } }
  nodes { id: "wait_1h" delay { duration { seconds: 3600 } next: "hello" } }
  nodes { id: "hello" action { channel: "push" template_id: "welcome"
          params { key: "name" value: "{{profile.name}}" } next: "bought" } }
  nodes { id: "bought" goal { conversion { event: "buy" } window { seconds: 86400 }
          on_converted: "" on_expired: "" } }
)pb";

constexpr char kPromo[] = R"pb(
  id: "promo" version: 1
  settings { state: ACTIVE }
  nodes { id: "segment" trigger { audience { audience: "vip" } next: "mail" } }
  nodes { id: "mail" action { channel: "email" template_id: "promo"
          params { key: "code" value: "{{entry.code}}" }
          await_delivery { timeout { seconds: 600 } } next: "done" on_failure: "retry" } }
  nodes { id: "retry" action { channel: "sms" template_id: "promo_sms" next: "done" } }
  nodes { id: "done" exit { reason: "done" } }
)pb";

constexpr char kOrders[] = R"pb(
  id: "orders" version: 1
  settings { state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 5 } }
  nodes { id: "ordered" trigger { event { matcher { event: "order"
            where { compare { path: "event.amount" op: GE value { double_value: 100 } } } } }
          next: "shipped" } }
  nodes { id: "shipped" wait {
    branches { name: "this_order" next: "mark"
      matcher { event: "shipped" where { compare { path: "event.order_id" op: EQ
                                                    other_path: "entry.order_id" } } } }
    timeout { seconds: 86400 } on_timeout: "" } }
  nodes { id: "mark" update {
    assignments { attribute: "last_order" value { path: "entry.order_id" } }
    add_tags: "buyer" next: "thanks" } }
  nodes { id: "thanks" action { channel: "sms" template_id: "shipped"
          params { key: "order" value: "{{profile.last_order}}" } } }
)pb";

v1::Journey WelcomeV2() {
  v1::Journey j = TextJourney(kWelcomeV1);
  j.set_version(2);
  j.mutable_nodes(2)->mutable_action()->set_template_id("welcome_v2");
  return j;
}

// Records every sink and observer call as a line of text, and the id of the
// latest message per "subject/node".
class Recorder : public ChannelSink, public ProfileSink, public Observer {
 public:
  explicit Recorder(std::string* log) : log_(log) {}

  SendResult Send(const Message& m) override {
    absl::StrAppend(log_, "send ", m.channel, " ", m.message_id, " ", m.journey_id, " v",
                    m.journey_version, " ", m.node_id, " ", m.subject_type, ":",
                    m.subject_id, " ", m.template_id, " ", absl::FormatTime(m.time),
                    m.awaits_delivery ? " awaits" : "");
    for (const auto& [key, value] : m.params) absl::StrAppend(log_, " ", key, "=", value);
    absl::StrAppend(log_, "\n");
    ids_[absl::StrCat(m.subject_id, "/", m.node_id)] = m.message_id;
    return SendResult::Accepted();
  }
  void Write(const ProfileWrite& w) override {
    absl::StrAppend(log_, "profile ", w.subject_id, " by ", w.journey_id, "/", w.node_id,
                    " at ", absl::FormatTime(w.time), " set");
    for (const auto& [name, value] : w.set) {
      absl::StrAppend(log_, " ", name, "=", value.DebugString());
    }
    for (const std::string& tag : w.add_tags) absl::StrAppend(log_, " +", tag);
    absl::StrAppend(log_, "\n");
  }
  void OnStep(const TraceStep& s) override {
    const char* kind = s.kind == TraceStep::Kind::kEnter   ? "enter"
                       : s.kind == TraceStep::Kind::kLeave ? "leave"
                                                           : "exit";
    absl::StrAppend(log_, "  ", kind, " ", s.journey_id, " v", s.journey_version, " ",
                    s.subject_id, " ", s.node_id, " ", s.detail, " ",
                    absl::FormatTime(s.time), "\n");
  }

  // The latest message sent to `subject` by node `node`.
  std::string Id(absl::string_view subject, absl::string_view node) const {
    auto it = ids_.find(absl::StrCat(subject, "/", node));
    REQUIRE(it != ids_.end());
    return it->second;
  }

 private:
  std::string* log_;
  std::map<std::string, std::string> ids_;
};

// An engine and what it did. Members are in destruction-safe order: the
// engine goes before the sinks it points to.
struct World {
  explicit World(EngineOptions options = Options()) : engine(std::move(options)) {}

  // Logs a call's status, so that two worlds' logs also compare statuses.
  void Log(absl::string_view what, const absl::Status& status) {
    absl::StrAppend(&log, what, ": ", status.ToString(), "\n");
  }

  std::string log;
  std::string rogue_log;
  Recorder recorder{&log};
  Recorder rogue{&rogue_log};  // A second sink; must never be used.
  Engine engine;
};

void RegisterChannels(World* w) {
  for (const char* channel : {"push", "email", "sms"}) {
    REQUIRE_THAT(w->engine.RegisterChannel(channel, &w->recorder), IsOk());
  }
  w->engine.SetProfileSink(&w->recorder);
  w->engine.SetObserver(&w->recorder);
}

// Channels and the first three journeys (the prelude deploys welcome v2).
void Setup(World* w) {
  RegisterChannels(w);
  for (const char* text : {kWelcomeV1, kPromo, kOrders}) {
    REQUIRE_THAT(w->engine.Deploy(TextJourney(text)), IsOk());
  }
}

// What a restored engine needs: every version the prelude deploys, in order.
void SetupForRestore(World* w) {
  Setup(w);
  REQUIRE_THAT(w->engine.Deploy(WelcomeV2()), IsOk());
}

Event MakeEvent(absl::string_view id, absl::string_view subject, absl::string_view name,
                absl::Duration at, Attributes properties = {}) {
  Event e;
  e.id = std::string(id);
  e.subject_id = std::string(subject);
  e.name = std::string(name);
  e.time = At(at);
  e.properties = std::move(properties);
  return e;
}

absl::Duration Min(int64_t n) { return absl::Minutes(n); }

// Leaves subjects everywhere: welcome v1 and v2 in their goal wait (u1, u2,
// u3) and delay (u4), an order waiting for its shipment (u1), a promo mail
// awaiting its delivery report (p4), a reported message (u1's hello), a
// message whose delivery wait timed out (p5's mail), one forgotten (p2's
// mail), and a de-duplication ledger. Ends at engine time start + 2h.
void Prelude(World* w) {
  Engine& e = w->engine;
  auto ok = [&](absl::string_view what, const absl::Status& s) {
    w->Log(what, s);
    REQUIRE_THAT(s, IsOk());
  };
  ok("profile u1", e.UpsertProfile("u1", {{"name", Value::String("Ada")}}, At(Min(0))));
  ok("signup u1", e.Ingest(MakeEvent("e-u1", "u1", "signup", Min(0))));
  ok("signup u2", e.Ingest(MakeEvent("e-u2", "u2", "signup", Min(5))));
  ok("enroll p1", e.Enroll("promo", "p1", At(Min(10)), {{"code", Value::String("VIP1")}}));
  ok("enroll p2", e.Enroll("promo", "p2", At(Min(10))));
  ok("deliver p1", e.ReportDelivery(w->recorder.Id("p1", "mail"),
                                    DeliveryOutcome::kDelivered, At(Min(12))));
  ok("order u1", e.Ingest(MakeEvent("o-1", "u1", "order", Min(15),
                                    {{"amount", Value::Int(150)},
                                     {"order_id", Value::String("o1")}})));
  ok("order u2", e.Ingest(MakeEvent("o-2", "u2", "order", Min(15),
                                    {{"amount", Value::Int(50)},
                                     {"order_id", Value::String("o2")}})));
  ok("deploy welcome v2", e.Deploy(WelcomeV2()));
  ok("signup u3", e.Ingest(MakeEvent("e-u3", "u3", "signup", Min(20))));
  ok("advance", e.AdvanceTo(At(Min(60))));
  ok("deliver u1 hello", e.ReportDelivery(w->recorder.Id("u1", "hello"),
                                          DeliveryOutcome::kDelivered, At(Min(61))));
  ok("enroll p5", e.Enroll("promo", "p5", At(Min(90))));
  ok("signup u4", e.Ingest(MakeEvent("e-u4", "u4", "signup", Min(110))));
  ok("enroll p4", e.Enroll("promo", "p4", At(Min(115)), {{"code", Value::String("VIP4")}}));
  ok("advance", e.AdvanceTo(At(Min(120))));
}

// Message ids the continuation reports on, taken after the prelude.
struct PreludeIds {
  std::string p4_mail;
  std::string u2_hello;
};

PreludeIds IdsOf(const World& w) {
  return {w.recorder.Id("p4", "mail"), w.recorder.Id("u2", "hello")};
}

// The same good inputs for both engines after the bad one: they must answer
// and send alike. Every status goes to the log.
void Continue(World* w, const PreludeIds& ids) {
  Engine& e = w->engine;
  w->Log("deliver p4", e.ReportDelivery(ids.p4_mail, DeliveryOutcome::kFailed, At(Min(121)),
                                        "bounced"));
  w->Log("buy u1", e.Ingest(MakeEvent("b-u1", "u1", "buy", Min(130))));
  w->Log("shipped u1", e.Ingest(MakeEvent("s-u1", "u1", "shipped", Min(130),
                                          {{"order_id", Value::String("o1")}})));
  // A repeat of the prelude's first event: still inside the dedup window.
  w->Log("signup u1 again", e.Ingest(MakeEvent("e-u1", "u1", "signup", Min(130))));
  w->Log("signup u5", e.Ingest(MakeEvent("e-u5", "u5", "signup", Min(140))));
  w->Log("enroll p6", e.Enroll("promo", "p6", At(Min(150))));
  w->Log("profile u5", e.UpsertProfile("u5", {{"name", Value::String("Bo")}}, At(Min(150))));
  w->Log("order u2", e.Ingest(MakeEvent("o-3", "u2", "order", Min(180),
                                        {{"amount", Value::Int(300)},
                                         {"order_id", Value::String("o3")}})));
  w->Log("advance", e.AdvanceTo(At(absl::Hours(72))));
  w->Log("deliver u2 hello", e.ReportDelivery(ids.u2_hello, DeliveryOutcome::kDelivered,
                                              At(absl::Hours(72) + Min(1))));
  w->Log("page view", e.Ingest(MakeEvent("v-1", "u9", "page_view", absl::Hours(73))));
}

// Every record of a snapshot as text, with the counters (which a rejected
// input changes) cleared from the clock record.
std::vector<std::string> SnapshotRecords(const Engine& engine) {
  std::vector<std::string> records;
  for (v1::SnapshotRecord& r : testing::SnapshotRecordsOf(engine)) {
    if (r.has_clock()) r.mutable_clock()->clear_stats();
    records.push_back(r.ShortDebugString());
  }
  return records;
}

// The first difference between two snapshots, or "".
std::string SnapshotDifference(const Engine& a, const Engine& b) {
  const std::vector<std::string> ra = SnapshotRecords(a);
  const std::vector<std::string> rb = SnapshotRecords(b);
  for (size_t i = 0; i < std::max(ra.size(), rb.size()); ++i) {
    const std::string x = i < ra.size() ? ra[i] : "(none)";
    const std::string y = i < rb.size() ? rb[i] : "(none)";
    if (x != y) return absl::StrCat("record ", i + 1, ":\n  ", x, "\nvs\n  ", y);
  }
  return "";
}

std::string Reports(const Engine& engine) {
  std::string out;
  for (const std::string& id : engine.journey_ids()) {
    absl::StatusOr<v1::JourneyReport> r = engine.Report(id);
    REQUIRE_THAT(StatusOf(r), IsOk());
    absl::StrAppend(&out, r->DebugString());
  }
  return out;
}

// The first line where two texts differ, or "".
std::string FirstDifference(const std::string& a, const std::string& b) {
  std::istringstream x(a);
  std::istringstream y(b);
  std::string lx;
  std::string ly;
  for (int line = 1;; ++line) {
    const bool more_x = static_cast<bool>(std::getline(x, lx));
    const bool more_y = static_cast<bool>(std::getline(y, ly));
    if (!more_x && !more_y) return "";
    if (!more_x) lx = "(end)";
    if (!more_y) ly = "(end)";
    if (lx != ly) return absl::StrCat("line ", line, ":\n  ", lx, "\nvs\n  ", ly);
  }
}

// `bad` got the rejected input, `good` did not: everything observable must
// match, counters but for `deltas`.
void CheckSameState(const World& bad, const World& good, const std::vector<Delta>& deltas) {
  CHECK(bad.engine.now() == good.engine.now());
  CHECK(bad.engine.next_timer_time() == good.engine.next_timer_time());
  CHECK(bad.engine.journey_ids() == good.engine.journey_ids());
  CHECK(FirstDifference(Reports(bad.engine), Reports(good.engine)) == "");
  CHECK(FirstDifference(CounterText(bad.engine.stats()),
                        CounterText(Plus(good.engine.stats(), deltas))) == "");
  CHECK(SnapshotDifference(bad.engine, good.engine) == "");
  CHECK(FirstDifference(bad.log, good.log) == "");
  CHECK(bad.rogue_log.empty());
}

struct EngineCase {
  const char* name;
  std::function<absl::Status(World&)> call;
  Expected expected;
  std::vector<Delta> deltas;  // counters the rejection moves
};

// A journey deployable next to the others, with a channel nobody registered.
v1::Journey FaxJourney(absl::string_view id, int64_t version) {
  v1::Journey j = TextJourney(R"pb(
    id: "fax" version: 1 settings { state: PAUSED }
    nodes { id: "t" trigger { audience {} next: "send" } }
    nodes { id: "send" action { channel: "fax" template_id: "f" } })pb");
  j.set_id(std::string(id));
  j.set_version(version);
  return j;
}

// The id of the message `node` sent to `subject` on its first entry into
// `journey`, by the documented stable hash (sink.h); `visit` is the node's
// position on the subject's path.
std::string MessageId(absl::string_view journey, absl::string_view version,
                      absl::string_view subject, absl::string_view node,
                      absl::string_view visit) {
  return HashToHex(StableHash64({journey, version, "user", subject, "1", node, visit}));
}
std::string U1Hello() { return MessageId("welcome", "1", "u1", "hello", "3"); }
std::string P2Mail() { return MessageId("promo", "1", "p2", "mail", "2"); }
std::string P4Mail() { return MessageId("promo", "1", "p4", "mail", "2"); }
std::string P5Mail() { return MessageId("promo", "1", "p5", "mail", "2"); }

std::string Resolved(const std::string& id) {
  return absl::StrCat("delivery report: message ", id,
                      " is already resolved (reported before, or its delivery wait timed out)");
}
std::string Unknown(const std::string& id) {
  return absl::StrCat("delivery report: unknown message id ", id,
                      " (never sent, or older than the delivery report window)");
}

std::vector<EngineCase> EngineCatalogue() {
  const absl::Duration now = Min(120);
  auto late = [now](absl::Duration by) { return At(now - by); };
  return {
      // ---- RegisterChannel ----
      {"RegisterChannel: empty name",
       [](World& w) { return w.engine.RegisterChannel("", &w.rogue); },
       Exact(kInvalid, "channel name is empty"), {}},
      {"RegisterChannel: empty name and null sink",
       [](World& w) { return w.engine.RegisterChannel("", nullptr); },
       Exact(kInvalid, "channel name is empty"), {}},
      {"RegisterChannel: null sink",
       [](World& w) { return w.engine.RegisterChannel("fax", nullptr); },
       Exact(kInvalid, "channel fax: sink is null"), {}},
      {"RegisterChannel: channel already has a sink",
       [](World& w) { return w.engine.RegisterChannel("push", &w.rogue); },
       Exact(kExists, "channel push already has a sink"), {}},

      // ---- Deploy ----
      {"Deploy: invalid new journey lists every problem",
       [](World& w) {
         v1::Journey j = FaxJourney("broken", 1);
         j.set_version(0);
         j.mutable_nodes(1)->mutable_action()->set_template_id("");
         return w.engine.Deploy(j);
       },
       Exact(kInvalid, "journey broken has 2 problems:\n"
                       "  journey broken, field version: version is 0; versions start at 1\n"
                       "  journey broken, node send, field action.template_id: "
                       "action has no template_id"),
       {}},
      {"Deploy: invalid new version keeps the deployed one",
       [](World& w) {
         v1::Journey j = WelcomeV2();
         j.set_version(3);
         j.mutable_nodes(1)->mutable_delay()->mutable_duration()->set_seconds(0);
         return w.engine.Deploy(j);
       },
       Exact(kInvalid, "journey welcome has 1 problem:\n"
                       "  journey welcome, node wait_1h, field delay.duration: "
                       "delay is 0s; it must be positive"),
       {}},
      {"Deploy: an empty journey",
       [](World& w) { return w.engine.Deploy(v1::Journey()); },
       Exact(kInvalid, "journey \"\" has 4 problems:\n"
                       "  journey \"\", field id: journey id is empty\n"
                       "  journey \"\", field version: version is 0; versions start at 1\n"
                       "  journey \"\", field settings.state: journey state is not set; say "
                       "ACTIVE, PAUSED or STOPPED\n"
                       "  journey \"\", field nodes: journey has no nodes"),
       {}},
      {"Deploy: the deployed version again",
       [](World& w) { return w.engine.Deploy(WelcomeV2()); },
       Exact(kExists, "journey welcome: version 2 is not newer than the deployed version 2"),
       {}},
      {"Deploy: an older version",
       [](World& w) { return w.engine.Deploy(TextJourney(kWelcomeV1)); },
       Exact(kExists, "journey welcome: version 1 is not newer than the deployed version 2"),
       {}},
      {"Deploy: an older version with another definition",
       [](World& w) {
         v1::Journey j = WelcomeV2();
         j.set_version(1);
         j.mutable_settings()->set_state(v1::STOPPED);
         return w.engine.Deploy(j);
       },
       Exact(kExists, "journey welcome: version 1 is not newer than the deployed version 2"),
       {}},
      {"Deploy: invalid and old reports the problems first",
       [](World& w) {
         v1::Journey j = TextJourney(kWelcomeV1);
         j.mutable_nodes(1)->mutable_delay()->mutable_duration()->set_seconds(0);
         return w.engine.Deploy(j);
       },
       Exact(kInvalid, "journey welcome has 1 problem:\n"
                       "  journey welcome, node wait_1h, field delay.duration: "
                       "delay is 0s; it must be positive"),
       {}},
      {"Deploy: a new journey on a channel without a sink",
       [](World& w) { return w.engine.Deploy(FaxJourney("fax", 1)); },
       Exact(kPrecondition, "journey fax, node send, field action.channel: channel \"fax\" has "
                            "no registered sink; call RegisterChannel first"),
       {}},
      {"Deploy: a new version on a channel without a sink keeps the state",
       [](World& w) { return w.engine.Deploy(FaxJourney("promo", 2)); },
       Exact(kPrecondition, "journey promo, node send, field action.channel: channel \"fax\" "
                            "has no registered sink; call RegisterChannel first"),
       {}},
      // The migration rule reads the graphs: both older versions count (v2
      // took no migration), and each one's goal, occupied or not.
      {"Deploy: a migration that leaves a waiting node unmapped",
       [](World& w) {
         v1::Journey j = WelcomeV2();
         j.set_version(3);
         (*j.mutable_migration()->mutable_node_map())["wait_1h"] = "wait_1h";
         return w.engine.Deploy(j);
       },
       Exact(kPrecondition,
             "journey welcome: version 3 cannot take the enrollments older versions may hold: "
             "version 1, node \"bought\" (goal), field migration.node_map: not mapped; "
             "version 2, node \"bought\" (goal), field migration.node_map: not mapped (every "
             "node where an enrollment can wait must map to a node of the same kind, whether "
             "or not one waits there now)"),
       {}},
      {"Deploy: a migration to a node of another kind",
       [](World& w) {
         v1::Journey j = WelcomeV2();
         j.set_version(3);
         (*j.mutable_migration()->mutable_node_map())["wait_1h"] = "bought";
         (*j.mutable_migration()->mutable_node_map())["bought"] = "bought";
         return w.engine.Deploy(j);
       },
       Exact(kPrecondition,
             "journey welcome: version 3 cannot take the enrollments older versions may hold: "
             "version 1, node \"wait_1h\" (delay), field migration.node_map[\"wait_1h\"]: "
             "maps to \"bought\", a goal node; version 2, node \"wait_1h\" (delay), field "
             "migration.node_map[\"wait_1h\"]: maps to \"bought\", a goal node (every node "
             "where an enrollment can wait must map to a node of the same kind, whether or not "
             "one waits there now)"),
       {}},
      {"DeployForRestore: an engine that has taken input",
       [](World& w) {
         v1::Journey j = WelcomeV2();
         j.set_version(3);
         return w.engine.DeployForRestore(j);
       },
       Exact(kPrecondition,
             "DeployForRestore of journey welcome needs a fresh engine: it rebuilds a "
             "snapshot's versions before Restore, before any input; use Deploy"),
       {}},

      // ---- AdvanceTo ----
      {"AdvanceTo: the infinite future (next_timer_time() with no timer)",
       [](World& w) { return w.engine.AdvanceTo(absl::InfiniteFuture()); },
       Exact(kInvalid, "advance: time must be finite (next_timer_time() is InfiniteFuture "
                       "when no timer is pending)"),
       {}},
      {"AdvanceTo: the infinite past",
       [](World& w) { return w.engine.AdvanceTo(absl::InfinitePast()); },
       Exact(kInvalid, "advance: time must be finite (next_timer_time() is InfiniteFuture "
                       "when no timer is pending)"),
       {}},

      {"AdvanceTo: after the times the engine can hold",
       [](World& w) { return w.engine.AdvanceTo(LatestInputTime()); },
       Exact(kInvalid, "advance: time 2200-01-01T00:00:00+00:00 is outside the times the "
                       "engine accepts, 1970-01-01T00:00:00+00:00 to "
                       "2200-01-01T00:00:00+00:00 (exclusive)"),
       {}},

      // ---- RetireVersion ----
      {"RetireVersion: the newest version",
       [](World& w) { return w.engine.RetireVersion("welcome", 2); },
       Exact(kPrecondition,
             "journey welcome version 2 is the newest version; deploy a newer one first"),
       {}},
      {"RetireVersion: unknown version",
       [](World& w) { return w.engine.RetireVersion("welcome", 9); },
       Exact(kNotFound, "journey welcome version 9 is not deployed"), {}},
      {"RetireVersion: unknown journey",
       [](World& w) { return w.engine.RetireVersion("nope", 1); },
       Exact(kNotFound, "journey nope is not deployed"), {}},

      // ---- SetJourneyState ----
      {"SetJourneyState: unknown journey",
       [](World& w) { return w.engine.SetJourneyState("nope", v1::PAUSED); },
       Exact(kNotFound, "journey nope is not deployed"), {}},
      {"SetJourneyState: empty journey id",
       [](World& w) { return w.engine.SetJourneyState("", v1::STOPPED); },
       Exact(kNotFound, "journey  is not deployed"), {}},
      {"SetJourneyState: unknown journey and unspecified state",
       [](World& w) { return w.engine.SetJourneyState("nope", v1::JOURNEY_STATE_UNSPECIFIED); },
       Exact(kNotFound, "journey nope is not deployed"), {}},
      {"SetJourneyState: unspecified state",
       [](World& w) { return w.engine.SetJourneyState("welcome", v1::JOURNEY_STATE_UNSPECIFIED); },
       Exact(kInvalid, "journey welcome: state must be ACTIVE, PAUSED or STOPPED"), {}},
      {"SetJourneyState: a state number outside the enum",
       [](World& w) {
         return w.engine.SetJourneyState("promo", static_cast<v1::JourneyState>(42));
       },
       Exact(kInvalid, "journey promo: state must be ACTIVE, PAUSED or STOPPED"), {}},

      // ---- Ingest ----
      {"Ingest: no subject",
       [=](World& w) { return w.engine.Ingest(MakeEvent("x", "", "signup", now)); },
       Exact(kInvalid, "event signup: subject_id is empty"), {kEventRejected}},
      {"Ingest: no subject and no name",
       [=](World& w) { return w.engine.Ingest(MakeEvent("x", "", "", now)); },
       Exact(kInvalid, "event (unnamed): subject_id is empty"), {kEventRejected}},
      {"Ingest: no name",
       [=](World& w) { return w.engine.Ingest(MakeEvent("x", "u1", "", now)); },
       Exact(kInvalid, "event of subject u1: name is empty"), {kEventRejected}},
      {"Ingest: no time",
       [=](World& w) {
         Event e = MakeEvent("x", "u9", "signup", now);
         e.time = absl::InfinitePast();
         return w.engine.Ingest(e);
       },
       Exact(kInvalid, "event signup of subject u9: time is not set"), {kEventRejected}},
      {"Ingest: time in the infinite future",
       [=](World& w) {
         Event e = MakeEvent("x", "u9", "signup", now);
         e.time = absl::InfiniteFuture();
         return w.engine.Ingest(e);
       },
       Exact(kInvalid, "event signup of subject u9: time is not set"), {kEventRejected}},
      {"Ingest: no time and a duplicate id",
       [=](World& w) {
         Event e = MakeEvent("e-u1", "u1", "signup", now);
         e.time = absl::InfinitePast();
         return w.engine.Ingest(e);
       },
       Exact(kInvalid, "event signup of subject u1: time is not set"), {kEventRejected}},
      {"Ingest: stamped 2099 by a phone with a wrong clock",
       [=](World& w) {
         Event e = MakeEvent("x", "u1", "signup", now);
         e.time = absl::FromCivil(absl::CivilSecond(2099, 1, 1, 0, 0, 0), absl::UTCTimeZone());
         return w.engine.Ingest(e);
       },
       Exact(kOutOfRange, "event at 2099-01-01T00:00:00+00:00 is 26658d22h ahead of engine "
                          "time 2026-01-05T02:00:00+00:00, beyond max_input_lead 2d: inputs "
                          "may not move the clock that far; call AdvanceTo() with the host's "
                          "clock first"),
       {kEventRejected, kFuture}},
      {"Ingest: just beyond max_input_lead, nobody listening",
       [=](World& w) {
         return w.engine.Ingest(MakeEvent("x", "u9", "page_view", now + absl::Hours(48) +
                                                                  absl::Seconds(1)));
       },
       Exact(kOutOfRange, "event at 2026-01-07T02:00:01+00:00 is 2d1s ahead of engine time "
                          "2026-01-05T02:00:00+00:00, beyond max_input_lead 2d: inputs may "
                          "not move the clock that far; call AdvanceTo() with the host's "
                          "clock first"),
       {kEventRejected, kFuture}},
      {"Ingest: after the times the engine can hold",
       [=](World& w) {
         Event e = MakeEvent("x", "u1", "signup", now);
         e.time = absl::FromCivil(absl::CivilSecond(2300, 1, 1, 0, 0, 0), absl::UTCTimeZone());
         return w.engine.Ingest(e);
       },
       Exact(kInvalid, "event: time 2300-01-01T00:00:00+00:00 is outside the times the engine "
                       "accepts, 1970-01-01T00:00:00+00:00 to 2200-01-01T00:00:00+00:00 "
                       "(exclusive)"),
       {kEventRejected}},
      {"Ingest: year 1",
       [=](World& w) {
         Event e = MakeEvent("x", "u1", "signup", now);
         e.time = absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone());
         return w.engine.Ingest(e);
       },
       Exact(kInvalid, "event: time 0001-01-01T00:00:00+00:00 is outside the times the engine "
                       "accepts, 1970-01-01T00:00:00+00:00 to 2200-01-01T00:00:00+00:00 "
                       "(exclusive)"),
       {kEventRejected}},
      {"Ingest: before 1970",
       [=](World& w) {
         Event e = MakeEvent("x", "u1", "signup", now);
         e.time = absl::FromUnixSeconds(-1);
         return w.engine.Ingest(e);
       },
       Exact(kInvalid, "event: time 1969-12-31T23:59:59+00:00 is outside the times the engine "
                       "accepts, 1970-01-01T00:00:00+00:00 to 2200-01-01T00:00:00+00:00 "
                       "(exclusive)"),
       {kEventRejected}},
      {"Ingest: a subject id in Latin-1",
       [=](World& w) { return w.engine.Ingest(MakeEvent("x", kLatin1, "signup", now)); },
       Exact(kInvalid, "event signup of subject Jos\\xE9: subject_id is not valid UTF-8 "
                       "(byte 3): \"Jos\\xE9\""),
       {kEventRejected}},
      {"Ingest: an event name with an overlong byte pair",
       [=](World& w) { return w.engine.Ingest(MakeEvent("x", "u1", kOverlong, now)); },
       Exact(kInvalid, "event a\\xC0\\xAFb of subject u1: name is not valid UTF-8 (byte 1): "
                       "\"a\\xC0\\xAFb\""),
       {kEventRejected}},
      {"Ingest: an event id holding a surrogate",
       [=](World& w) { return w.engine.Ingest(MakeEvent(kSurrogate, "u1", "signup", now)); },
       Exact(kInvalid, "event signup of subject u1: id is not valid UTF-8 (byte 0): "
                       "\"\\xED\\xA0\\x80\""),
       {kEventRejected}},
      {"Ingest: a subject type in Latin-1",
       [=](World& w) {
         Event e = MakeEvent("x", "u1", "signup", now);
         e.subject_type = kLatin1;
         return w.engine.Ingest(e);
       },
       Exact(kInvalid, "event signup of subject u1: subject_type is not valid UTF-8 (byte 3): "
                       "\"Jos\\xE9\""),
       {kEventRejected}},
      {"Ingest: a property value in Latin-1 on an event that enters a journey",
       [=](World& w) {
         return w.engine.Ingest(
             MakeEvent("x", "u9", "signup", now, {{"name", Value::String(kLatin1)}}));
       },
       Exact(kInvalid, "event signup of subject u9: property \"name\" is not valid UTF-8 "
                       "(byte 3): \"Jos\\xE9\""),
       {kEventRejected}},
      {"Ingest: a property name in Latin-1, nobody listening",
       [=](World& w) {
         return w.engine.Ingest(
             MakeEvent("x", "u9", "page_view", now, {{kLatin1, Value::Int(1)}}));
       },
       Exact(kInvalid, "event page_view of subject u9: property name is not valid UTF-8 "
                       "(byte 3): \"Jos\\xE9\""),
       {kEventRejected}},
      {"Ingest: an item of a string-list property that is not UTF-8",
       [=](World& w) {
         return w.engine.Ingest(MakeEvent(
             "x", "u9", "signup", now, {{"tags", Value::StringList({"ok", kSurrogate})}}));
       },
       Exact(kInvalid, "event signup of subject u9: an item of property \"tags\" is not valid "
                       "UTF-8 (byte 0): \"\\xED\\xA0\\x80\""),
       {kEventRejected}},
      {"Ingest: a timestamp property a snapshot cannot hold",
       [=](World& w) {
         return w.engine.Ingest(MakeEvent("x", "u9", "signup", now,
                                          {{"due", Value::Timestamp(absl::InfiniteFuture())}}));
       },
       Exact(kInvalid, "event signup of subject u9: property \"due\" is a time outside "
                       "0001-01-01..9999-12-31"),
       {kEventRejected}},
      {"Ingest: control characters in a bad subject id are escaped in the error",
       [=](World& w) {
         return w.engine.Ingest(MakeEvent("x", "u1\n\x1B[31mFORGED\xFF", "signup", now));
       },
       Exact(kInvalid, "event signup of subject u1\\n\\u{001B}[31mFORGED\\xFF: subject_id is "
                       "not valid UTF-8 (byte 14): \"u1\\n\\u{001B}[31mFORGED\\xFF\""),
       {kEventRejected}},
      {"Ingest: more text than max_input_bytes",
       [=](World& w) {
         return w.engine.Ingest(MakeEvent("x", "u9", "signup", now,
                                          {{"blob", Value::String(std::string(65536, 'z'))}}));
       },
       Exact(kInvalid, "event signup of subject u9: 65549 bytes of text, more than "
                       "max_input_bytes 65536"),
       {kEventRejected}},
      {"Ingest: older than max_lateness",
       [=](World& w) {
         return w.engine.Ingest(MakeEvent("x", "u9", "signup", now - Min(61)));
       },
       Exact(kOutOfRange, "event at 2026-01-05T00:59:00+00:00 is 1h1m older than engine time "
                          "2026-01-05T02:00:00+00:00, beyond max_lateness 1h"),
       {kEventRejected, kTooLate}},
      {"Ingest: too late although nobody listens to the name",
       [=](World& w) {
         return w.engine.Ingest(MakeEvent("x", "u9", "page_view", now - absl::Hours(2)));
       },
       Exact(kOutOfRange, "event at 2026-01-05T00:00:00+00:00 is 2h older than engine time "
                          "2026-01-05T02:00:00+00:00, beyond max_lateness 1h"),
       {kEventRejected, kTooLate}},
      {"Ingest: too late and a duplicate id is too late",
       [=](World& w) {
         return w.engine.Ingest(MakeEvent("e-u1", "u1", "signup", now - absl::Hours(2)));
       },
       Exact(kOutOfRange, "event at 2026-01-05T00:00:00+00:00 is 2h older than engine time "
                          "2026-01-05T02:00:00+00:00, beyond max_lateness 1h"),
       {kEventRejected, kTooLate}},
      {"Ingest: duplicate id at engine time",
       [=](World& w) { return w.engine.Ingest(MakeEvent("e-u1", "u1", "signup", now)); },
       Exact(kExists, "event e-u1 of user u1 was already applied within the dedup window"),
       {kEventRejected, kEventDuplicate}},
      {"Ingest: duplicate id of a late event",
       [=](World& w) {
         return w.engine.Ingest(MakeEvent("e-u4", "u4", "signup", now - Min(30)));
       },
       Exact(kExists, "event e-u4 of user u4 was already applied within the dedup window"),
       {kEventRejected, kEventDuplicate}},
      {"Ingest: duplicate id later does not move engine time",
       [=](World& w) {
         return w.engine.Ingest(MakeEvent("e-u4", "u4", "signup", now + absl::Hours(3)));
       },
       Exact(kExists, "event e-u4 of user u4 was already applied within the dedup window"),
       {kEventRejected, kEventDuplicate}},
      {"Ingest: a duplicate stamped a day later forgets no other id",
       [=](World& w) {
         return w.engine.Ingest(MakeEvent("e-u4", "u4", "signup", now + absl::Hours(23)));
       },
       Exact(kExists, "event e-u4 of user u4 was already applied within the dedup window"),
       {kEventRejected, kEventDuplicate}},
      {"Ingest: duplicate id under another event name",
       [=](World& w) {
         return w.engine.Ingest(MakeEvent("e-u2", "u2", "order", now,
                                          {{"amount", Value::Int(500)}}));
       },
       Exact(kExists, "event e-u2 of user u2 was already applied within the dedup window"),
       {kEventRejected, kEventDuplicate}},
      {"Ingest: duplicate id of a subject type spelt out",
       [=](World& w) {
         Event e = MakeEvent("o-1", "u1", "order", now);
         e.subject_type = "user";
         return w.engine.Ingest(e);
       },
       Exact(kExists, "event o-1 of user u1 was already applied within the dedup window"),
       {kEventRejected, kEventDuplicate}},

      // ---- Enroll ----
      {"Enroll: unknown journey",
       [=](World& w) { return w.engine.Enroll("nope", "p9", At(now)); },
       Exact(kNotFound, "journey nope is not deployed"), {kEnrollRejected}},
      {"Enroll: empty journey id",
       [=](World& w) { return w.engine.Enroll("", "p9", At(now)); },
       Exact(kNotFound, "journey  is not deployed"), {kEnrollRejected}},
      {"Enroll: unknown journey and empty subject",
       [=](World& w) { return w.engine.Enroll("nope", "", At(now)); },
       Exact(kNotFound, "journey nope is not deployed"), {kEnrollRejected}},
      {"Enroll: empty subject",
       [=](World& w) { return w.engine.Enroll("promo", "", At(now)); },
       Exact(kInvalid, "Enroll into journey promo: subject id is empty"), {kEnrollRejected}},
      {"Enroll: no audience trigger",
       [=](World& w) { return w.engine.Enroll("welcome", "p9", At(now)); },
       Exact(kPrecondition, "journey welcome has no audience trigger; subjects enter it "
                            "through events only"),
       {kEnrollRejected}},
      {"Enroll: older than max_lateness",
       [=](World& w) { return w.engine.Enroll("promo", "p9", late(Min(90))); },
       Exact(kOutOfRange, "enrollment at 2026-01-05T00:30:00+00:00 is 1h30m older than engine "
                          "time 2026-01-05T02:00:00+00:00, beyond max_lateness 1h"),
       {kEnrollRejected, kTooLate}},
      {"Enroll: no time",
       [=](World& w) { return w.engine.Enroll("promo", "p9", absl::InfinitePast()); },
       Exact(kInvalid, "enrollment: time is not set"), {kEnrollRejected}},
      {"Enroll: time in the infinite future",
       [=](World& w) { return w.engine.Enroll("promo", "p9", absl::InfiniteFuture()); },
       Exact(kInvalid, "enrollment: time is infinite"), {kEnrollRejected}},
      {"Enroll: a subject id in Latin-1",
       [=](World& w) { return w.engine.Enroll("promo", kLatin1, At(now)); },
       Exact(kInvalid, "Enroll into journey promo: subject id is not valid UTF-8 (byte 3): "
                       "\"Jos\\xE9\""),
       {kEnrollRejected}},
      {"Enroll: a context value that is not UTF-8",
       [=](World& w) {
         return w.engine.Enroll("promo", "p9", At(now), {{"code", Value::String(kOverlong)}});
       },
       Exact(kInvalid, "Enroll into journey promo: context \"code\" is not valid UTF-8 "
                       "(byte 1): \"a\\xC0\\xAFb\""),
       {kEnrollRejected}},
      {"Enroll: beyond max_input_lead",
       [=](World& w) { return w.engine.Enroll("promo", "p9", At(now + absl::Hours(50))); },
       Exact(kOutOfRange, "enrollment at 2026-01-07T04:00:00+00:00 is 2d2h ahead of engine "
                          "time 2026-01-05T02:00:00+00:00, beyond max_input_lead 2d: inputs "
                          "may not move the clock that far; call AdvanceTo() with the host's "
                          "clock first"),
       {kEnrollRejected, kFuture}},
      {"Enroll: after the times the engine can hold",
       [=](World& w) { return w.engine.Enroll("promo", "p9", absl::FromUnixSeconds(1LL << 40)); },
       Exact(kInvalid, "enrollment: time 36812-02-20T00:36:16+00:00 is outside the times the "
                       "engine accepts, 1970-01-01T00:00:00+00:00 to "
                       "2200-01-01T00:00:00+00:00 (exclusive)"),
       {kEnrollRejected}},
      {"Enroll: no audience trigger and too late",
       [=](World& w) { return w.engine.Enroll("welcome", "p9", late(absl::Hours(5))); },
       Exact(kPrecondition, "journey welcome has no audience trigger; subjects enter it "
                            "through events only"),
       {kEnrollRejected}},

      // ---- UpsertProfile ----
      {"UpsertProfile: empty subject",
       [=](World& w) {
         return w.engine.UpsertProfile("", {{"name", Value::String("X")}}, At(now));
       },
       Exact(kInvalid, "UpsertProfile: subject id is empty"), {kProfileRejected}},
      {"UpsertProfile: empty attribute name after good ones applies none",
       [=](World& w) {
         return w.engine.UpsertProfile(
             "u1", {{"name", Value::String("Eve")}, {"", Value::Int(1)}}, At(now));
       },
       Exact(kInvalid, "UpsertProfile for u1: an attribute name is empty"), {kProfileRejected}},
      {"UpsertProfile: empty attribute name of a new subject",
       [=](World& w) { return w.engine.UpsertProfile("u9", {{"", Value()}}, At(now)); },
       Exact(kInvalid, "UpsertProfile for u9: an attribute name is empty"), {kProfileRejected}},
      {"UpsertProfile: older than max_lateness",
       [=](World& w) {
         return w.engine.UpsertProfile("u1", {{"name", Value::String("Eve")}},
                                       late(absl::Hours(2)));
       },
       Exact(kOutOfRange, "profile update at 2026-01-05T00:00:00+00:00 is 2h older than engine "
                          "time 2026-01-05T02:00:00+00:00, beyond max_lateness 1h"),
       {kProfileRejected, kTooLate}},
      {"UpsertProfile: no time",
       [=](World& w) {
         return w.engine.UpsertProfile("u1", {{"name", Value::String("Eve")}},
                                       absl::InfinitePast());
       },
       Exact(kInvalid, "profile update: time is not set"), {kProfileRejected}},
      {"UpsertProfile: an attribute value in Latin-1 after good ones applies none",
       [=](World& w) {
         return w.engine.UpsertProfile(
             "u1", {{"name", Value::String("Eve")}, {"city", Value::String(kLatin1)}}, At(now));
       },
       Exact(kInvalid, "UpsertProfile for u1: attribute \"city\" is not valid UTF-8 (byte 3): "
                       "\"Jos\\xE9\""),
       {kProfileRejected}},
      {"UpsertProfile: an attribute name that is not UTF-8",
       [=](World& w) { return w.engine.UpsertProfile("u1", {{kSurrogate, Value::Int(1)}}, At(now)); },
       Exact(kInvalid, "UpsertProfile for u1: attribute name is not valid UTF-8 (byte 0): "
                       "\"\\xED\\xA0\\x80\""),
       {kProfileRejected}},
      {"UpsertProfile: a subject id that is not UTF-8",
       [=](World& w) { return w.engine.UpsertProfile(kLatin1, {}, At(now)); },
       Exact(kInvalid, "UpsertProfile for Jos\\xE9: subject id is not valid UTF-8 (byte 3): "
                       "\"Jos\\xE9\""),
       {kProfileRejected}},
      {"UpsertProfile: a subject type that is not UTF-8",
       [=](World& w) { return w.engine.UpsertProfile("u1", {}, At(now), kOverlong); },
       Exact(kInvalid, "UpsertProfile for u1: subject type is not valid UTF-8 (byte 1): "
                       "\"a\\xC0\\xAFb\""),
       {kProfileRejected}},
      {"UpsertProfile: an item of a string list that is not UTF-8",
       [=](World& w) {
         return w.engine.UpsertProfile(
             "u1", {{"opted_out_channels", Value::StringList({kLatin1})}}, At(now));
       },
       Exact(kInvalid, "UpsertProfile for u1: an item of attribute \"opted_out_channels\" is "
                       "not valid UTF-8 (byte 3): \"Jos\\xE9\""),
       {kProfileRejected}},
      {"UpsertProfile: beyond max_input_lead",
       [=](World& w) {
         return w.engine.UpsertProfile("u1", {{"name", Value::String("Eve")}},
                                       At(now + absl::Hours(72)));
       },
       Exact(kOutOfRange, "profile update at 2026-01-08T02:00:00+00:00 is 3d ahead of engine "
                          "time 2026-01-05T02:00:00+00:00, beyond max_input_lead 2d: inputs "
                          "may not move the clock that far; call AdvanceTo() with the host's "
                          "clock first"),
       {kProfileRejected, kFuture}},
      {"UpsertProfile: more attributes than max_profile_attributes",
       [=](World& w) {
         Attributes many;
         for (int i = 0; i < 512; ++i) many.emplace_back(absl::StrCat("a", i), Value::Int(i));
         return w.engine.UpsertProfile("u1", many, At(now));
       },
       Exact(kExhausted, "UpsertProfile for u1: the profile would hold 513 attributes, more "
                         "than max_profile_attributes 512"),
       {kProfileRejected, kLimit}},
      {"UpsertProfile: empty subject and too late",
       [=](World& w) { return w.engine.UpsertProfile("", {}, late(absl::Hours(2))); },
       Exact(kInvalid, "UpsertProfile: subject id is empty"), {kProfileRejected}},

      // ---- ReportDelivery ----
      {"ReportDelivery: malformed id",
       [=](World& w) {
         return w.engine.ReportDelivery("not-an-id", DeliveryOutcome::kDelivered, At(now));
       },
       Exact(kNotFound, "delivery report: \"not-an-id\" is not a Cairn message id"),
       {kDeliveryRejected}},
      {"ReportDelivery: empty id",
       [=](World& w) {
         return w.engine.ReportDelivery("", DeliveryOutcome::kDelivered, At(now));
       },
       Exact(kNotFound, "delivery report: \"\" is not a Cairn message id"),
       {kDeliveryRejected}},
      {"ReportDelivery: sixteen characters that are not hex",
       [=](World& w) {
         return w.engine.ReportDelivery("zzzzzzzzzzzzzzzz", DeliveryOutcome::kFailed, At(now));
       },
       Exact(kNotFound, "delivery report: \"zzzzzzzzzzzzzzzz\" is not a Cairn message id"),
       {kDeliveryRejected}},
      {"ReportDelivery: a real id with a digit too many",
       [=](World& w) {
         return w.engine.ReportDelivery(P4Mail() + "0", DeliveryOutcome::kDelivered, At(now));
       },
       Exact(kNotFound, absl::StrCat("delivery report: \"", P4Mail(),
                                     "0\" is not a Cairn message id")),
       {kDeliveryRejected}},
      {"ReportDelivery: malformed id and too late",
       [=](World& w) {
         return w.engine.ReportDelivery("x", DeliveryOutcome::kDelivered, late(absl::Hours(2)));
       },
       Exact(kNotFound, "delivery report: \"x\" is not a Cairn message id"),
       {kDeliveryRejected}},
      {"ReportDelivery: an id never sent",
       [=](World& w) {
         return w.engine.ReportDelivery("0123456789abcdef", DeliveryOutcome::kDelivered,
                                        At(now));
       },
       Exact(kNotFound, Unknown("0123456789abcdef")),
       {kDeliveryRejected}},
      {"ReportDelivery: an id older than the report window",
       [=](World& w) {
         return w.engine.ReportDelivery(P2Mail(), DeliveryOutcome::kDelivered, At(now));
       },
       Exact(kNotFound, Unknown(P2Mail())), {kDeliveryRejected}},
      {"ReportDelivery: reported before",
       [=](World& w) {
         return w.engine.ReportDelivery(U1Hello(), DeliveryOutcome::kDelivered, At(now));
       },
       Exact(kExists, Resolved(U1Hello())), {kDeliveryRejected}},
      {"ReportDelivery: reported before, now as failed",
       [=](World& w) {
         return w.engine.ReportDelivery(U1Hello(), DeliveryOutcome::kFailed, At(now),
                                        "bounced");
       },
       Exact(kExists, Resolved(U1Hello())), {kDeliveryRejected}},
      {"ReportDelivery: its delivery wait timed out",
       [=](World& w) {
         return w.engine.ReportDelivery(P5Mail(), DeliveryOutcome::kDelivered, At(now));
       },
       Exact(kExists, Resolved(P5Mail())), {kDeliveryRejected}},
      {"ReportDelivery: older than max_lateness",
       [=](World& w) {
         return w.engine.ReportDelivery(P4Mail(), DeliveryOutcome::kDelivered, late(Min(65)));
       },
       Exact(kOutOfRange, "delivery report at 2026-01-05T00:55:00+00:00 is 1h5m older than "
                          "engine time 2026-01-05T02:00:00+00:00, beyond max_lateness 1h"),
       {kDeliveryRejected, kTooLate}},
      {"ReportDelivery: a failure reason that is not UTF-8",
       [=](World& w) {
         return w.engine.ReportDelivery(P4Mail(), DeliveryOutcome::kFailed, At(now), kLatin1);
       },
       Exact(kInvalid, absl::StrCat("delivery report for ", P4Mail(), ": reason is not valid "
                                    "UTF-8 (byte 3): \"Jos\\xE9\"")),
       {kDeliveryRejected}},
      {"ReportDelivery: a malformed id with control characters is escaped",
       [=](World& w) {
         return w.engine.ReportDelivery("\x1B]0;x\a\n", DeliveryOutcome::kDelivered, At(now));
       },
       Exact(kNotFound,
             "delivery report: \"\\u{001B}]0;x\\u{0007}\\n\" is not a Cairn message id"),
       {kDeliveryRejected}},
      {"ReportDelivery: beyond max_input_lead",
       [=](World& w) {
         return w.engine.ReportDelivery(P4Mail(), DeliveryOutcome::kDelivered,
                                        At(now + absl::Hours(49)));
       },
       Exact(kOutOfRange, "delivery report at 2026-01-07T03:00:00+00:00 is 2d1h ahead of "
                          "engine time 2026-01-05T02:00:00+00:00, beyond max_input_lead 2d: "
                          "inputs may not move the clock that far; call AdvanceTo() with the "
                          "host's clock first"),
       {kDeliveryRejected, kFuture}},
      {"ReportDelivery: no time",
       [=](World& w) {
         return w.engine.ReportDelivery(P4Mail(), DeliveryOutcome::kDelivered,
                                        absl::InfinitePast());
       },
       Exact(kInvalid, "delivery report: time is not set"), {kDeliveryRejected}},

      // ---- Forget ----
      {"Forget: empty subject",
       [=](World& w) { return w.engine.Forget("", At(now)); },
       Exact(kInvalid, "Forget: subject id is empty"), {kErasureRejected}},
      {"Forget: a subject id that is not UTF-8",
       [=](World& w) { return w.engine.Forget(kLatin1, At(now)); },
       Exact(kInvalid, "Forget Jos\\xE9: subject id is not valid UTF-8 (byte 3): \"Jos\\xE9\""),
       {kErasureRejected}},
      {"Forget: a subject never seen",
       [=](World& w) { return w.engine.Forget("stranger", At(now)); },
       Exact(kNotFound, "Forget: no subject user/stranger is known (never seen, or already "
                        "forgotten)"),
       {kErasureRejected}},
      {"Forget: a known id under another type",
       [=](World& w) { return w.engine.Forget("p1", At(now), "device"); },
       Exact(kNotFound, "Forget: no subject device/p1 is known (never seen, or already "
                        "forgotten)"),
       {kErasureRejected}},
      {"Forget: beyond max_input_lead",
       [=](World& w) { return w.engine.Forget("p1", At(now + absl::Hours(49))); },
       Exact(kOutOfRange, "erasure at 2026-01-07T03:00:00+00:00 is 2d1h ahead of engine time "
                          "2026-01-05T02:00:00+00:00, beyond max_input_lead 2d: inputs may not "
                          "move the clock that far; call AdvanceTo() with the host's clock "
                          "first"),
       {kErasureRejected, kFuture}},
      {"Forget: no time",
       [=](World& w) { return w.engine.Forget("p1", absl::InfinitePast()); },
       Exact(kInvalid, "erasure: time is not set"), {kErasureRejected}},

      // ---- MergeSubjects ----
      {"MergeSubjects: nothing to merge from",
       [=](World& w) { return w.engine.MergeSubjects("", "p1", At(now)); },
       Exact(kInvalid, "MergeSubjects: the id to merge from is empty"), {kMergeRejected}},
      {"MergeSubjects: a subject into itself",
       [=](World& w) { return w.engine.MergeSubjects("p1", "p1", At(now)); },
       Exact(kInvalid, "MergeSubjects p1 into p1: a subject cannot merge into itself"),
       {kMergeRejected}},
      {"MergeSubjects: an id to merge into that is not UTF-8",
       [=](World& w) { return w.engine.MergeSubjects("p1", kLatin1, At(now)); },
       Exact(kInvalid, "MergeSubjects p1 into Jos\\xE9: id to merge into is not valid UTF-8 "
                       "(byte 3): \"Jos\\xE9\""),
       {kMergeRejected}},
      {"MergeSubjects: a subject never seen",
       [=](World& w) { return w.engine.MergeSubjects("stranger", "p1", At(now)); },
       Exact(kNotFound, "MergeSubjects: no subject user/stranger is known to merge into p1 "
                        "(never seen, or already merged or forgotten)"),
       {kMergeRejected}},

      // ---- Report, Snapshot, Restore on a used engine ----
      {"Report: unknown journey",
       [](World& w) { return StatusOf(w.engine.Report("nope")); },
       Exact(kNotFound, "journey nope is not deployed"), {}},
      {"Report: empty journey id",
       [](World& w) { return StatusOf(w.engine.Report("")); },
       Exact(kNotFound, "journey  is not deployed"), {}},
      {"Snapshot: a stream that fails",
       [](World& w) {
         std::ostringstream out;
         out.setstate(std::ios::badbit);
         return w.engine.Snapshot(out);
       },
       Exact(kDataLoss, "snapshot: write failed"), {}},
      {"Restore: an engine that has had input",
       [](World& w) {
         World source;
         SetupForRestore(&source);
         std::ostringstream out;
         REQUIRE_THAT(source.engine.Snapshot(out), IsOk());
         std::istringstream in(out.str());
         return w.engine.Restore(in);
       },
       Exact(kPrecondition, "Restore needs a fresh engine: create one, deploy the snapshot's "
                            "journeys, then restore before any input"),
       {}},
  };
}

TEST_CASE("Engine inputs: each bad input gives its error and changes nothing else") {
  const std::vector<EngineCase> cases = EngineCatalogue();
  CheckUniqueNames(cases);
  for (const EngineCase& c : cases) {
    INFO("case: " << c.name);
    World bad;
    World good;
    Setup(&bad);
    Setup(&good);
    Prelude(&bad);
    Prelude(&good);
    REQUIRE(bad.log == good.log);
    const PreludeIds ids = IdsOf(good);

    CheckError(c.call(bad), c.expected);
    CheckSameState(bad, good, c.deltas);

    Continue(&bad, ids);
    Continue(&good, ids);
    CheckSameState(bad, good, c.deltas);

    // The channels registered are the same too: "fax" still has no sink.
    const absl::Status fax_bad = bad.engine.Deploy(FaxJourney("fax", 1));
    const absl::Status fax_good = good.engine.Deploy(FaxJourney("fax", 1));
    CHECK(fax_bad == fax_good);
    CHECK(fax_good.code() == kPrecondition);
  }
}

// The catalogue's worlds are worth comparing only if the continuation does
// something with every kind of state the prelude leaves.
TEST_CASE("Engine inputs: the prelude leaves state that the continuation uses") {
  World w;
  Setup(&w);
  Prelude(&w);
  const EngineStats before = w.engine.stats();
  CHECK(before.enrollments_in_flight == 6);  // u1 u2 u3 u4, u1's order, p4
  CHECK(before.subjects == 8);  // u1-u4, p1 p2 p4 p5
  CHECK(w.engine.next_timer_time() < At(absl::Hours(3)));
  // The catalogue names messages by the documented id formula.
  CHECK(w.recorder.Id("u1", "hello") == U1Hello());
  CHECK(w.recorder.Id("p2", "mail") == P2Mail());
  CHECK(w.recorder.Id("p4", "mail") == P4Mail());
  CHECK(w.recorder.Id("p5", "mail") == P5Mail());
  const PreludeIds ids = IdsOf(w);
  w.log.clear();
  Continue(&w, ids);
  CHECK_THAT(w.log, Catch::Contains("deliver p4: OK"));
  CHECK_THAT(w.log, Catch::Contains("signup u1 again: ALREADY_EXISTS"));
  CHECK_THAT(w.log, Catch::Contains("deliver u2 hello: NOT_FOUND"));
  CHECK_THAT(w.log, Catch::Contains("send sms"));
  CHECK_THAT(w.log, Catch::Contains("profile u1 by orders/mark"));
  CHECK(w.engine.stats().enrollments_in_flight == 0);
}

// ---------------------------------------------------------------------------
// Engine::Create and ValidateEngineOptions.

struct OptionsCase {
  const char* name;
  std::function<void(EngineOptions&)> change;
  std::string message;  // InvalidArgument
};

std::vector<OptionsCase> OptionsCatalogue() {
  return {
      {"max_lateness negative", [](EngineOptions& o) { o.max_lateness = -absl::Nanoseconds(1); },
       "max_lateness is negative"},
      {"dedup_window negative", [](EngineOptions& o) { o.dedup_window = -absl::Seconds(1); },
       "dedup_window is negative"},
      {"delivery_report_window negative",
       [](EngineOptions& o) { o.delivery_report_window = -absl::Hours(1); },
       "delivery_report_window is negative"},
      {"max_steps_per_input zero", [](EngineOptions& o) { o.max_steps_per_input = 0; },
       "max_steps_per_input must be at least 1"},
      {"max_steps_per_input negative", [](EngineOptions& o) { o.max_steps_per_input = -5; },
       "max_steps_per_input must be at least 1"},
      {"max_input_lead negative", [](EngineOptions& o) { o.max_input_lead = -absl::Seconds(1); },
       "max_input_lead is negative"},
      {"start_time in 2200", [](EngineOptions& o) { o.start_time = LatestInputTime(); },
       "start_time 2200-01-01T00:00:00+00:00 is outside the times an engine accepts, "
       "1970-01-01T00:00:00+00:00 to 2200-01-01T00:00:00+00:00"},
      {"max_input_bytes below 1 KiB", [](EngineOptions& o) { o.max_input_bytes = 1023; },
       "max_input_bytes must be at least 1024"},
      {"max_profile_attributes zero", [](EngineOptions& o) { o.max_profile_attributes = 0; },
       "max_profile_attributes must be at least 1"},
      {"max_profile_bytes zero", [](EngineOptions& o) { o.max_profile_bytes = 0; },
       "max_profile_bytes must be at least 1"},
      {"max_opt_out_channels zero", [](EngineOptions& o) { o.max_opt_out_channels = 0; },
       "max_opt_out_channels must be at least 1"},
      {"max_instances_per_subject zero",
       [](EngineOptions& o) { o.max_instances_per_subject = 0; },
       "max_instances_per_subject must be at least 1"},
      {"frequency cap on channel \"all\" (every channel is the empty name)",
       [](EngineOptions& o) { o.frequency_caps.push_back({"all", 1, absl::Hours(1)}); },
       "frequency_caps[0]: channel \"all\": leave channel empty to cap every channel together"},
      {"rate limit on channel \"all\"",
       [](EngineOptions& o) { o.rate_limits.push_back({"all", 10, absl::Seconds(1)}); },
       "rate_limits[0]: channel \"all\": leave channel empty to limit every channel together"},
      {"rate limit of no messages",
       [](EngineOptions& o) { o.rate_limits.push_back({"sms", 0, absl::Seconds(1)}); },
       "rate_limits[0]: max_messages must be at least 1"},
      {"rate limit over no time",
       [](EngineOptions& o) { o.rate_limits.push_back({"sms", 10, absl::ZeroDuration()}); },
       "rate_limits[0]: per must be positive"},
      {"two rate limits on one channel",
       [](EngineOptions& o) {
         o.rate_limits.push_back({"sms", 10, absl::Seconds(1)});
         o.rate_limits.push_back({"sms", 500, absl::Minutes(1)});
       },
       "rate_limits[1]: a second limit on channel \"sms\"; give each channel one"},
      {"limit share of no parts", [](EngineOptions& o) { o.limit_share = {0, 0}; },
       "limit_share.parts must be 1..1048576"},
      {"limit share part past the parts", [](EngineOptions& o) { o.limit_share = {3, 3}; },
       "limit_share.part must be 0..parts-1"},
      {"limit share part negative", [](EngineOptions& o) { o.limit_share = {-1, 3}; },
       "limit_share.part must be 0..parts-1"},
      {"rate limit smaller than the parts sharing it",
       [](EngineOptions& o) {
         o.limit_share = {0, 4};
         o.rate_limits.push_back({"sms", 3, absl::Seconds(1)});
       },
       "rate_limits[0]: max_messages 3 cannot be shared by 4 engines (limit_share.parts): each "
       "needs at least one message per interval"},
      {"quiet hours with a weekday twice",
       [](EngineOptions& o) {
         o.quiet_hours.push_back(
             {"", 22, 0, 8, 0, {absl::Weekday::friday, absl::Weekday::friday}});
       },
       "quiet_hours[0]: weekdays: a day is listed twice"},
      {"second frequency cap with max_messages zero",
       [](EngineOptions& o) {
         o.frequency_caps.push_back({"sms", 1, absl::Hours(1)});
         o.frequency_caps.push_back({"push", 0, absl::Hours(1)});
       },
       "frequency_caps[1]: max_messages must be at least 1"},
      {"frequency cap with a zero window",
       [](EngineOptions& o) { o.frequency_caps.push_back({"sms", 1, absl::ZeroDuration()}); },
       "frequency_caps[0]: window must be positive"},
      {"frequency cap with a negative window",
       [](EngineOptions& o) { o.frequency_caps.push_back({"sms", 1, -absl::Hours(1)}); },
       "frequency_caps[0]: window must be positive"},
      {"quiet hours start_hour 24",
       [](EngineOptions& o) { o.quiet_hours.push_back({"", 24, 0, 8, 0, {}}); },
       "quiet_hours[0]: hours must be 0..23, minutes 0..59"},
      {"quiet hours start_hour -1",
       [](EngineOptions& o) { o.quiet_hours.push_back({"", -1, 0, 8, 0, {}}); },
       "quiet_hours[0]: hours must be 0..23, minutes 0..59"},
      {"second quiet hours end_hour 24",
       [](EngineOptions& o) {
         o.quiet_hours.push_back({"push", 22, 0, 8, 0, {}});
         o.quiet_hours.push_back({"sms", 22, 0, 24, 0, {}});
       },
       "quiet_hours[1]: hours must be 0..23, minutes 0..59"},
      {"quiet hours start_minute 60",
       [](EngineOptions& o) { o.quiet_hours.push_back({"", 22, 60, 8, 0, {}}); },
       "quiet_hours[0]: hours must be 0..23, minutes 0..59"},
      {"quiet hours end_minute -1",
       [](EngineOptions& o) { o.quiet_hours.push_back({"", 22, 0, 8, -1, {}}); },
       "quiet_hours[0]: hours must be 0..23, minutes 0..59"},
      {"holdout_percent negative", [](EngineOptions& o) { o.holdout_percent = -0.5; },
       "holdout_percent must be between 0 and 100"},
      {"holdout_percent over 100", [](EngineOptions& o) { o.holdout_percent = 100.5; },
       "holdout_percent must be between 0 and 100"},
      {"holdout_percent not a number",
       [](EngineOptions& o) { o.holdout_percent = std::numeric_limits<double>::quiet_NaN(); },
       "holdout_percent must be between 0 and 100"},
      {"holdout_percent infinite",
       [](EngineOptions& o) { o.holdout_percent = std::numeric_limits<double>::infinity(); },
       "holdout_percent must be between 0 and 100"},
      {"two bad options name the first",
       [](EngineOptions& o) {
         o.holdout_percent = 101;
         o.max_lateness = -absl::Seconds(1);
       },
       "max_lateness is negative"},
  };
}

TEST_CASE("Engine::Create refuses every out-of-range option by name") {
  const std::vector<OptionsCase> cases = OptionsCatalogue();
  CheckUniqueNames(cases);
  for (const OptionsCase& c : cases) {
    INFO("case: " << c.name);
    EngineOptions options;
    c.change(options);
    absl::StatusOr<Engine> engine = Engine::Create(options);
    REQUIRE_FALSE(engine.ok());
    CheckError(engine.status(), Exact(kInvalid, c.message));
    CheckError(ValidateEngineOptions(options), Exact(kInvalid, c.message));
  }
}

TEST_CASE("Engine::Create accepts the edges of every range") {
  EngineOptions o;
  o.max_lateness = absl::ZeroDuration();
  o.dedup_window = absl::ZeroDuration();
  o.delivery_report_window = absl::ZeroDuration();
  o.max_steps_per_input = 1;
  o.frequency_caps.push_back({"sms", 1, absl::Nanoseconds(1)});
  o.quiet_hours.push_back({"", 0, 0, 23, 59, {}});
  o.holdout_percent = 100;
  CHECK_THAT(StatusOf(Engine::Create(o)), IsOk());
  o.holdout_percent = 0;
  CHECK_THAT(StatusOf(Engine::Create(o)), IsOk());
}

// ---------------------------------------------------------------------------
// Restore.

std::vector<v1::SnapshotRecord> Records(const std::string& bytes) {
  return testing::ReadSnapshotRecords(bytes);
}

std::string Encode(const std::vector<v1::SnapshotRecord>& records) {
  std::ostringstream out;
  internal::RecordWriter writer(&out);
  for (const v1::SnapshotRecord& r : records) REQUIRE_THAT(writer.Write(r), IsOk());
  return out.str();
}

// A record's bytes as written: varint length, bytes, CRC-32C.
std::string Frame(const std::string& body) {
  std::string out;
  uint64_t len = body.size();
  do {
    out.push_back(static_cast<char>((len & 0x7f) | (len > 0x7f ? 0x80 : 0)));
    len >>= 7;
  } while (len != 0);
  out += body;
  const uint32_t crc = internal::Crc32c(body);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  return out;
}

// The index of the first record for which `pred` holds.
int FindRecord(const std::vector<v1::SnapshotRecord>& records,
               const std::function<bool(const v1::SnapshotRecord&)>& pred) {
  for (size_t i = 0; i < records.size(); ++i) {
    if (pred(records[i])) return static_cast<int>(i);
  }
  FAIL("no such record in the snapshot");
  return -1;
}

// A good snapshot (taken after the prelude), its records, and what the
// source engine did after it.
struct Source {
  std::string snapshot;
  std::vector<v1::SnapshotRecord> records;
  PreludeIds ids;
  std::string continuation_log;
  std::string reports;
  std::string counters;
};

const Source& TheSource() {
  static const Source* const kSource = [] {
    auto* s = new Source;
    World w;
    Setup(&w);
    Prelude(&w);
    std::ostringstream out;
    REQUIRE_THAT(w.engine.Snapshot(out), IsOk());
    s->snapshot = out.str();
    s->records = Records(s->snapshot);
    s->ids = IdsOf(w);
    w.log.clear();
    Continue(&w, s->ids);
    s->continuation_log = w.log;
    s->reports = Reports(w.engine);
    s->counters = CounterText(w.engine.stats());
    return s;
  }();
  return *kSource;
}

// The good snapshot with one record changed.
std::string Edited(const std::function<bool(const v1::SnapshotRecord&)>& which,
                   const std::function<void(v1::SnapshotRecord&)>& edit) {
  std::vector<v1::SnapshotRecord> records = TheSource().records;
  edit(records[FindRecord(records, which)]);
  return Encode(records);
}

// The good snapshot with one record removed.
std::string Without(const std::function<bool(const v1::SnapshotRecord&)>& which) {
  std::vector<v1::SnapshotRecord> records = TheSource().records;
  records.erase(records.begin() + FindRecord(records, which));
  return Encode(records);
}

// The byte offset at which record `index` (0-based) starts.
size_t RecordOffset(size_t index) {
  const std::vector<v1::SnapshotRecord>& all = TheSource().records;
  return Encode({all.begin(), all.begin() + index}).size();
}

bool IsHeader(const v1::SnapshotRecord& r) { return r.has_header(); }
bool IsTrailer(const v1::SnapshotRecord& r) { return r.has_trailer(); }
bool IsLiveEnrollment(const v1::SnapshotRecord& r) {
  return r.has_enrollment() && r.enrollment().live();
}
bool IsCounters(const v1::SnapshotRecord& r) { return r.has_counters(); }
bool IsSubjectWithEnrollment(const v1::SnapshotRecord& r) {
  return r.has_subject() && r.subject().enrollments_size() > 0;
}
bool IsTimer(const v1::SnapshotRecord& r) { return r.has_timer(); }

struct RestoreCase {
  const char* name;
  std::function<std::string()> bytes;
  Expected expected;
  // How the restoring engine is made, when not as the snapshot needs
  // (SetupForRestore with Options()).
  std::function<void(World*)> setup = nullptr;
  EngineOptions options = Options();

  bool engine_matches() const { return setup == nullptr && !other_options; }
  bool other_options = false;
  void Setup(World* w) const { setup ? setup(w) : SetupForRestore(w); }
};

std::vector<RestoreCase> RestoreCatalogue() {
  auto snapshot = [] { return TheSource().snapshot; };
  std::vector<RestoreCase> cases = {
      // ---- The engine does not match the snapshot ----
      {"other options", snapshot,
       Exact(kPrecondition,
             "snapshot: taken with different EngineOptions (policies, windows or limits)")},
      {"no journeys deployed", snapshot,
       Exact(kPrecondition, "snapshot: journey welcome version 1 is not deployed (deploy the "
                            "snapshot's journeys, in the same order, first)"),
       RegisterChannels},
      {"the newest version missing", snapshot,
       Exact(kPrecondition, "snapshot: journey welcome version 2 is not deployed (deploy the "
                            "snapshot's journeys, in the same order, first)"),
       Setup},
      {"journeys deployed in another order", snapshot,
       Exact(kPrecondition, "snapshot: journey welcome version 1 is not deployed (deploy the "
                            "snapshot's journeys, in the same order, first)"),
       [](World* w) {
         RegisterChannels(w);
         for (const char* text : {kPromo, kWelcomeV1, kOrders}) {
           REQUIRE_THAT(w->engine.Deploy(TextJourney(text)), IsOk());
         }
         REQUIRE_THAT(w->engine.Deploy(WelcomeV2()), IsOk());
       }},
      {"a journey the snapshot does not know", snapshot,
       Exact(kPrecondition,
             "snapshot: the engine has journeys deployed that the snapshot does not know"),
       [](World* w) {
         SetupForRestore(w);
         REQUIRE_THAT(w->engine.RegisterChannel("fax", &w->recorder), IsOk());
         REQUIRE_THAT(w->engine.Deploy(FaxJourney("fax", 1)), IsOk());
       }},
      {"a different definition under the same version", snapshot,
       Exact(kPrecondition,
             "snapshot: journey promo version 1 is deployed with a different definition"),
       [](World* w) {
         RegisterChannels(w);
         v1::Journey promo = TextJourney(kPromo);
         promo.set_description("edited");
         for (const v1::Journey& j : {TextJourney(kWelcomeV1), promo, TextJourney(kOrders)}) {
           REQUIRE_THAT(w->engine.Deploy(j), IsOk());
         }
         REQUIRE_THAT(w->engine.Deploy(WelcomeV2()), IsOk());
       }},
      {"a newer snapshot format",
       [] { return Edited(IsHeader, [](auto& r) { r.mutable_header()->set_format_version(2); }); },
       Exact(kPrecondition, "snapshot: format version 2 is newer than this engine's (1)")},

      // ---- Bytes that are not a snapshot ----
      {"no bytes", [] { return std::string(); },
       Exact(kDataLoss, "snapshot: does not start with a header")},
      {"text", [] { return std::string("hello, world"); },
       Exact(kDataLoss, "snapshot: record 1 is truncated")},
      {"a journey file", [] { return std::string(kPromo); },
       Exact(kDataLoss, "snapshot: record 1 fails its checksum")},
      {"a length that never ends", [] { return std::string(10, '\xff'); },
       Exact(kDataLoss, "snapshot: record 1 has a bad length")},
      {"a length beyond the limit", [] { return std::string("\x80\x80\x80\x80\x08"); },
       Exact(kDataLoss, "snapshot: record 1 claims 2147483648 bytes")},
      {"a checksummed record that does not parse", [] { return Frame("\xff\xff\xff"); },
       Exact(kDataLoss, "snapshot: record 1 does not parse")},
      {"an empty record first", [] { return Frame(""); },
       Exact(kDataLoss, "snapshot: does not start with a header")},

      // ---- A damaged snapshot ----
      {"cut inside the first length", [] { return std::string(1, '\x80'); },
       Exact(kDataLoss, "snapshot: record 1 is truncated (length)")},
      {"cut in the middle of record 3",
       [] { return TheSource().snapshot.substr(0, RecordOffset(2) + 3); },
       Exact(kDataLoss, "snapshot: record 3 is truncated")},
      {"cut in half",  // The record it cuts depends on the snapshot's layout.
       [] { return TheSource().snapshot.substr(0, TheSource().snapshot.size() / 2); },
       Prefix(kDataLoss, "snapshot: record ")},
      {"cut before the trailer",
       [] { return TheSource().snapshot.substr(0, RecordOffset(TheSource().records.size() - 1)); },
       Exact(kDataLoss, "snapshot: truncated (no trailer)")},
      {"the last checksum byte missing",
       [] { return TheSource().snapshot.substr(0, TheSource().snapshot.size() - 1); },
       Exact(kDataLoss, absl::StrCat("snapshot: record ", TheSource().records.size(),
                                     " is truncated"))},
      {"a bit flipped in record 2",
       [] {
         std::string s = TheSource().snapshot;
         s[RecordOffset(1) + 3] ^= 0x10;
         return s;
       },
       Exact(kDataLoss, "snapshot: record 2 fails its checksum")},
      {"a bit flipped in the header's checksum",
       [] {
         std::string s = TheSource().snapshot;
         s[RecordOffset(1) - 1] ^= 0x01;
         return s;
       },
       Exact(kDataLoss, "snapshot: record 1 fails its checksum")},
      {"the header missing", [] { return Without(IsHeader); },
       Exact(kDataLoss, "snapshot: does not start with a header")},
      {"a record missing", [] { return Without(IsTimer); },
       Exact(kDataLoss, "snapshot: record count does not match the trailer")},
      {"a record of no kind",
       [] { return Edited(IsTimer, [](auto& r) { r.Clear(); }); },
       Exact(kDataLoss, "snapshot: unexpected record")},
      {"an enrollment at a node out of range",
       [] {
         return Edited(IsLiveEnrollment,
                       [](auto& r) { r.mutable_enrollment()->set_node(999); });
       },
       Exact(kDataLoss, "snapshot: enrollment node is out of range")},
      {"counters of a version out of range",
       [] {
         return Edited(IsCounters,
                       [](auto& r) { r.mutable_counters()->set_version_index(4); });
       },
       Exact(kDataLoss, "snapshot: version index is out of range")},
      {"a subject's enrollment out of range",
       [] {
         return Edited(IsSubjectWithEnrollment,
                       [](auto& r) { r.mutable_subject()->set_enrollments(0, 999); });
       },
       Exact(kDataLoss, "snapshot: enrollment's subject list is out of range")},
      {"a free enrollment slot out of range",
       [] {
         std::vector<v1::SnapshotRecord> records = TheSource().records;
         v1::SnapshotRecord free;
         free.mutable_free_slots()->set_kind(v1::SnapshotFreeSlots::ENROLLMENT);
         free.mutable_free_slots()->add_slots(100000);
         records.insert(records.end() - 1, free);
         records.back().mutable_trailer()->set_records(records.back().trailer().records() + 1);
         return Encode(records);
       },
       Exact(kDataLoss, "snapshot: free slot is out of range")},
      {"a live enrollment listed as a free slot",
       [] {
         std::vector<v1::SnapshotRecord> records = TheSource().records;
         uint32_t live = 0;
         for (const v1::SnapshotRecord& r : records) {
           if (r.has_enrollment()) {
             if (r.enrollment().live()) break;
             ++live;
           }
         }
         v1::SnapshotRecord free;
         free.mutable_free_slots()->set_kind(v1::SnapshotFreeSlots::ENROLLMENT);
         free.mutable_free_slots()->add_slots(live);
         records.insert(records.end() - 1, free);
         records.back().mutable_trailer()->set_records(records.back().trailer().records() + 1);
         return Encode(records);
       },
       Exact(kDataLoss, "snapshot: free slot is out of range")},
      {"a message at a node out of range",
       [] {
         return Edited([](const v1::SnapshotRecord& r) { return r.has_message(); },
                       [](auto& r) { r.mutable_message()->set_node(999); });
       },
       Exact(kDataLoss, "snapshot: message is out of range")},
      {"an enrollment's split variant out of range",
       [] {
         return Edited(IsLiveEnrollment, [](auto& r) {
           r.mutable_enrollment()->set_split_node(0);
           r.mutable_enrollment()->set_variant(7);
         });
       },
       Exact(kDataLoss, "snapshot: enrollment split is out of range")},
      {"an enrollment's split variant beyond what an enrollment holds",
       [] {
         // 65536 would read back as 0 if it were narrowed before the check.
         return Edited(IsLiveEnrollment, [](auto& r) {
           r.mutable_enrollment()->set_split_node(0);
           r.mutable_enrollment()->set_variant(65536);
         });
       },
       Exact(kDataLoss, "snapshot: enrollment split is out of range")},
      {"a timer of an unknown kind",
       [] {
         return Edited([](const v1::SnapshotRecord& r) { return r.has_timer(); },
                       [](auto& r) { r.mutable_timer()->set_kind(4); });
       },
       Exact(kDataLoss, "snapshot: timer target is out of range")},
      {"an in-flight count that does not match the enrollments",
       [] {
         return Edited([](const v1::SnapshotRecord& r) { return r.has_clock(); },
                       [](auto& r) { r.mutable_clock()->set_in_flight(r.clock().in_flight() + 1); });
       },
       Exact(kDataLoss, "snapshot: in-flight count is out of range")},
      {"a subject recorded twice",
       [] {
         // A copy of the first subject, with nothing attached, after the
         // last one (so no other subject's index moves).
         std::vector<v1::SnapshotRecord> records = TheSource().records;
         size_t first = records.size(), last = 0;
         for (size_t i = 0; i < records.size(); ++i) {
           if (records[i].has_subject()) {
             first = std::min(first, i);
             last = i;
           }
         }
         v1::SnapshotRecord copy = records[first];
         copy.mutable_subject()->clear_enrollments();
         copy.mutable_subject()->clear_trackers();
         copy.mutable_subject()->clear_sequences();
         records.insert(records.begin() + static_cast<long>(last) + 1, copy);
         records.back().mutable_trailer()->set_records(records.back().trailer().records() + 1);
         return Encode(records);
       },
       Exact(kDataLoss, "snapshot: subject (a repeated id) is out of range")},
      {"a timer's target out of range",
       [] { return Edited(IsTimer, [](auto& r) { r.mutable_timer()->set_target(999); }); },
       Exact(kDataLoss, "snapshot: timer target is out of range")},
      {"a journey record of an unknown journey",
       [] {
         return Edited([](const v1::SnapshotRecord& r) { return r.has_journey(); },
                       [](auto& r) { r.mutable_journey()->set_journey_id("nope"); });
       },
       Exact(kDataLoss, "snapshot: journey id is out of range")},
      {"the trailer counting one record too many",
       [] {
         return Edited(IsTrailer, [](auto& r) {
           r.mutable_trailer()->set_records(r.trailer().records() + 1);
         });
       },
       Exact(kDataLoss, "snapshot: record count does not match the trailer")},
  };
  cases[0].options.holdout_percent = 5;
  cases[0].other_options = true;
  return cases;
}

// Whether `w` is as if Restore had never been called: it equals a twin
// that was only set up.
void CheckFresh(const World& w, const RestoreCase& c) {
  World twin(c.options);
  c.Setup(&twin);
  CHECK(CounterText(w.engine.stats()) == CounterText(EngineStats()));
  CHECK(w.engine.now() == c.options.start_time);
  CHECK(w.engine.next_timer_time() == absl::InfiniteFuture());
  CHECK(w.engine.journey_ids() == twin.engine.journey_ids());
  CHECK(FirstDifference(Reports(w.engine), Reports(twin.engine)) == "");
  CHECK(SnapshotDifference(w.engine, twin.engine) == "");
  CHECK(w.log.empty());
}

TEST_CASE("Restore: each bad snapshot gives its error and leaves the engine fresh") {
  const Source& source = TheSource();
  REQUIRE(Encode(source.records) == source.snapshot);  // Edits start from the real bytes.
  const std::vector<RestoreCase> cases = RestoreCatalogue();
  CheckUniqueNames(cases);
  for (const RestoreCase& c : cases) {
    INFO("case: " << c.name);
    World w(c.options);
    c.Setup(&w);
    const std::string bytes = c.bytes();
    std::istringstream in(bytes);
    CheckError(w.engine.Restore(in), c.expected);
    CheckFresh(w, c);

    // Still fresh: where the engine matches, the good snapshot restores and
    // the engine continues exactly as the source did.
    std::istringstream good(source.snapshot);
    const absl::Status again = w.engine.Restore(good);
    if (!c.engine_matches()) {
      // The good snapshot does not fit this engine either; it goes on as a
      // fresh twin does.
      CHECK(again.code() == absl::StatusCode::kFailedPrecondition);
      World twin(c.options);
      c.Setup(&twin);
      Continue(&w, source.ids);
      Continue(&twin, source.ids);
      CHECK(FirstDifference(w.log, twin.log) == "");
      CHECK(FirstDifference(Reports(w.engine), Reports(twin.engine)) == "");
      CHECK(FirstDifference(CounterText(w.engine.stats()), CounterText(twin.engine.stats())) ==
            "");
      continue;
    }
    REQUIRE_THAT(again, IsOk());
    Continue(&w, source.ids);
    CHECK(FirstDifference(w.log, source.continuation_log) == "");
    CHECK(FirstDifference(Reports(w.engine), source.reports) == "");
    CHECK(FirstDifference(CounterText(w.engine.stats()), source.counters) == "");
  }
}

TEST_CASE("A refused Restore keeps what the host set before it") {
  World w(Options());
  SetupForRestore(&w);
  REQUIRE_THAT(w.engine.SetJourneyState("promo", v1::PAUSED), IsOk());
  CHECK(w.engine.Ingest(MakeEvent("x", "", "signup", Min(1))).code() ==
        absl::StatusCode::kInvalidArgument);  // a rejected input: counted, still fresh
  const std::string reports = Reports(w.engine);
  const std::string counters = CounterText(w.engine.stats());
  std::istringstream garbage("garbage");
  CHECK(w.engine.Restore(garbage).code() == absl::StatusCode::kDataLoss);
  CHECK(w.engine.Report("promo")->state() == "PAUSED");
  CHECK(FirstDifference(Reports(w.engine), reports) == "");
  CHECK(FirstDifference(CounterText(w.engine.stats()), counters) == "");
}

// ---------------------------------------------------------------------------
// Journey files: text, JSON and binary.

std::string DataFile(absl::string_view name) {
  return absl::StrCat(CAIRN_SOURCE_DIR, "/tests/data/catalogue/", name);
}

// A scratch file (or, with `directory`, a directory) removed at scope exit.
class TempPath {
 public:
  TempPath(const std::string& name, const std::string& contents, bool directory = false)
      : path_(absl::StrCat(CAIRN_TEST_TMPDIR, "/catalogue_", name)), directory_(directory) {
    if (directory) {
      REQUIRE(mkdir(path_.c_str(), 0755) == 0);
    } else {
      std::ofstream out(path_, std::ios::binary);
      out << contents;
      REQUIRE(out.good());
    }
  }
  ~TempPath() { directory_ ? rmdir(path_.c_str()) : std::remove(path_.c_str()); }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool directory_;
};

std::string BinaryOf(const char* text) {
  absl::StatusOr<std::string> bytes =
      SerializeJourney(TextJourney(text), JourneyFormat::kBinary);
  REQUIRE_THAT(StatusOf(bytes), IsOk());
  return *bytes;
}

struct JourneyCase {
  const char* name;
  std::function<absl::StatusOr<v1::Journey>()> call;
  Expected expected;
};

absl::StatusOr<v1::Journey> Text(absl::string_view data) {
  return ParseJourney(data, JourneyFormat::kText);
}
absl::StatusOr<v1::Journey> Json(absl::string_view data) {
  return ParseJourney(data, JourneyFormat::kJson);
}
absl::StatusOr<v1::Journey> Binary(absl::string_view data) {
  return ParseJourney(data, JourneyFormat::kBinary);
}

constexpr char kExtensions[] =
    ": unknown journey file extension; use .textproto (or .txtpb, .pbtxt), .json, or "
    ".binpb (or .pb)";

std::vector<JourneyCase> JourneyCatalogue() {
  return {
      // ---- Text format: every error has line:column ----
      {"text: a syntax error",
       [] { return Text("id: \"welcome\"\nversion: 1\nsettings { state: ACTIVE }}\n"); },
       Exact(kInvalid, "text journey does not parse: 3:27: Expected identifier, got: }")},
      {"text: an unknown field",
       [] { return Text("id: \"welcome\"\n  verison: 1\n"); },
       Exact(kInvalid, "text journey does not parse: 2:10: Message type \"cairn.v1.Journey\" "
                       "has no field named \"verison\".")},
      {"text: an unknown field in a node",
       [] { return Text("nodes {\n  id: \"t\"\n  trigger { audiense {} }\n}\n"); },
       Exact(kInvalid, "text journey does not parse: 3:22: Message type \"cairn.v1.Trigger\" "
                       "has no field named \"audiense\".")},
      {"text: a string for an integer",
       [] { return Text("id: \"welcome\"\nversion: \"one\"\n"); },
       Exact(kInvalid, "text journey does not parse: 2:10: Expected integer, got: \"one\"")},
      {"text: an identifier for an integer",
       [] { return Text("id: \"welcome\"\nversion: one\n"); },
       Exact(kInvalid, "text journey does not parse: 2:10: Expected integer, got: one")},
      {"text: an integer for a string",
       [] { return Text("id: 7\n"); },
       Exact(kInvalid, "text journey does not parse: 1:5: Expected string, got: 7")},
      {"text: an integer out of range",
       [] { return Text("version: 99999999999999999999\n"); },
       Exact(kInvalid, "text journey does not parse: 1:10: Integer out of range "
                       "(99999999999999999999)")},
      {"text: an unknown enum value",
       [] { return Text("settings {\n  state: RUNNING\n}\n"); },
       // The position is the token after the bad value's.
       Exact(kInvalid, "text journey does not parse: 3:1: Unknown enumeration value of "
                       "\"RUNNING\" for field \"state\".")},
      {"text: a field given twice",
       [] { return Text("id: \"a\"\nid: \"b\"\n"); },
       Exact(kInvalid, "text journey does not parse: 2:3: Non-repeated field \"id\" is "
                       "specified multiple times.")},
      {"text: two kinds in one node",
       [] { return Text("nodes { id: \"x\" exit {} \n  filter {} }\n"); },
       Exact(kInvalid, "text journey does not parse: 2:10: Field \"filter\" is specified "
                       "along with field \"exit\", another member of oneof \"kind\".")},
      {"text: an unterminated string",
       [] { return Text("id: \"welcome\nversion: 1\n"); },
       Exact(kInvalid, "text journey does not parse: 1:13: String literals cannot cross "
                       "line boundaries.")},
      {"text: a missing closing brace",
       [] { return Text("settings {\n  state: ACTIVE\n"); },
       Exact(kInvalid, "text journey does not parse: 3:1: Expected identifier, got: ")},
      {"text: JSON given as text",
       [] { return Text("{\"id\": \"welcome\"}"); },
       Exact(kInvalid, "text journey does not parse: 1:1: Expected identifier, got: {")},
      {"text: predicates nested 10,000 deep",
       [] { return Text(testing::DeepJourneyText(10000, testing::Nesting::kNot)); },
       Exact(kInvalid, "text journey does not parse: 4:395: Message is too deep, the parser "
                       "exceeded the configured recursion limit of 64.")},

      // ---- JSON: syntax (Cairn's strict reader, line:column) ----
      {"JSON: cut short", [] { return Json("{\"id\": "); },
       Exact(kInvalid, "JSON journey does not parse: 1:8: unexpected end of input")},
      {"JSON: nothing", [] { return Json(""); },
       Exact(kInvalid, "JSON journey does not parse: 1:1: unexpected end of input")},
      {"JSON: text after the object", [] { return Json(R"({"id": "x"} {"id": "y"})"); },
       Exact(kInvalid, "JSON journey does not parse: 1:13: unexpected text after the value")},
      {"JSON: a trailing comma in an object",
       [] { return Json("{\"id\": \"welcome\",\n \"version\": 1,\n}"); },
       Exact(kInvalid, "JSON journey does not parse: 2:14: trailing comma")},
      {"JSON: a trailing comma in an array",
       [] { return Json("{\"id\": \"welcome\",\n \"nodes\": [{\"id\": \"a\"},]}"); },
       Exact(kInvalid, "JSON journey does not parse: 2:23: trailing comma")},
      {"JSON: a duplicate id",
       // protobuf alone would take the second: the journey renamed.
       [] { return Json("{\"id\": \"welcome\",\n \"id\": \"other\"}"); },
       Exact(kInvalid, "JSON journey does not parse: 2:2: duplicate key \"id\" (first at 1:2)")},
      {"JSON: a duplicate key deep in a node",
       [] {
         return Json("{\"nodes\": [{\"id\": \"t\", \"trigger\": {\"event\": {\"matcher\":\n"
                     "  {\"event\": \"a\", \"event\": \"b\"}}}}]}");
       },
       Exact(kInvalid,
             "JSON journey does not parse: 2:18: duplicate key \"event\" (first at 2:4)")},

      // ---- JSON: meaning (protobuf's converter) ----
      {"JSON: an unknown field", [] { return Json(R"({"id": "x", "verison": 1})"); },
       Exact(kInvalid, "JSON journey does not parse: verison: Cannot find field.")},
      {"JSON: an unknown field in a node",
       [] { return Json(R"({"nodes": [{"id": "t", "trigger": {"audiense": {}}}]})"); },
       Exact(kInvalid, "JSON journey does not parse: (nodes[0].trigger) audiense: Cannot find "
                       "field.")},
      {"JSON: a word for an integer", [] { return Json(R"({"version": "many"})"); },
       Exact(kInvalid, "JSON journey does not parse: (version): invalid value \"many\" for "
                       "type TYPE_INT64")},
      {"JSON: a fraction for an integer", [] { return Json(R"({"version": 1.5})"); },
       Exact(kInvalid, "JSON journey does not parse: (version): invalid value 1.5 for type "
                       "TYPE_INT64")},
      {"JSON: a number for a string", [] { return Json(R"({"id": 7})"); },
       Exact(kInvalid, "JSON journey does not parse: (id): invalid value 7 for type "
                       "TYPE_STRING")},
      {"JSON: an unknown enum value",
       [] { return Json(R"({"settings": {"state": "RUNNING"}})"); },
       Exact(kInvalid, "JSON journey does not parse: (settings.state): invalid value "
                       "\"RUNNING\" for type type.googleapis.com/cairn.v1.JourneyState")},
      {"JSON: a list at the top", [] { return Json("[]"); },
       Exact(kInvalid, "JSON journey does not parse: : Root element must be a message.")},
      {"JSON: a bad duration", [] {
         return Json(R"({"nodes": [{"id": "d", "delay": {"duration": "an hour"}}]})");
       },
       Exact(kInvalid, "JSON journey does not parse: (nodes[0].delay.duration): invalid value "
                       "Field 'duration', Illegal duration format; duration must end with 's' "
                       "for type type.googleapis.com/google.protobuf.Duration")},

      {"JSON: predicates nested 10,000 deep",
       [] { return Json(testing::DeepJourneyJson(10000)); },
       // Cairn's strict reader stops first, at its own nesting bound.
       Exact(kInvalid, "JSON journey does not parse: 1:1002: nested too deeply")},

      // ---- Binary ----
      {"binary: garbage", [] { return Binary("\xff\xff\xff"); },
       Exact(kInvalid, "binary journey does not parse: not a valid cairn.v1.Journey in "
                       "protobuf wire format (or nested more than 64 messages deep)")},
      {"binary: cut short", [] {
         const std::string bytes = BinaryOf(kPromo);
         return Binary(absl::string_view(bytes).substr(0, bytes.size() - 5));
       },
       Exact(kInvalid, "binary journey does not parse: not a valid cairn.v1.Journey in "
                       "protobuf wire format (or nested more than 64 messages deep)")},
      {"binary: predicates nested 10,000 deep",
       [] { return Binary(testing::DeepJourneyInMemory(10000).SerializeAsString()); },
       Exact(kInvalid, "binary journey does not parse: not a valid cairn.v1.Journey in "
                       "protobuf wire format (or nested more than 64 messages deep)")},
      {"binary: the id with a varint's wire type",
       // A known field with the wrong wire type is kept as an unknown field.
       [] { return Binary(absl::string_view("\x08\x01", 2)); },
       Exact(kInvalid, "binary journey has a field this version of Cairn does not know "
                       "(field 1); it may come from a newer schema")},
      {"binary: an unknown field at the top",
       [] { return Binary(BinaryOf(kPromo) + std::string("\xa0\x06\x01", 3)); },
       Exact(kInvalid, "binary journey has a field this version of Cairn does not know "
                       "(field 100); it may come from a newer schema")},
      {"binary: an unknown field in a node's action",
       [] {
         v1::Journey j = TextJourney(kPromo);
         v1::Action* action = j.mutable_nodes(1)->mutable_action();
         action->GetReflection()->MutableUnknownFields(action)->AddVarint(17, 1);
         absl::StatusOr<std::string> bytes = SerializeJourney(j, JourneyFormat::kBinary);
         REQUIRE_THAT(StatusOf(bytes), IsOk());
         return Binary(*bytes);
       },
       Exact(kInvalid, "binary journey has a field this version of Cairn does not know "
                       "(nodes[1].action: field 17); it may come from a newer schema")},
      {"binary: a string that is not UTF-8",
       [] {
         google::protobuf::LogSilencer quiet;  // protobuf also logs this one.
         return Binary(absl::string_view("\x0a\x02\xc3\x28", 4));
       },
       Exact(kInvalid, "binary journey does not parse: not a valid cairn.v1.Journey in "
                       "protobuf wire format (or nested more than 64 messages deep)")},

      // ---- Format by extension ----
      {"path: an unknown extension", [] { return LoadJourneyFile(DataFile("journey.yaml")); },
       Exact(kInvalid, DataFile("journey.yaml") + kExtensions)},
      {"path: no extension", [] { return LoadJourneyFile("journey"); },
       Exact(kInvalid, absl::StrCat("journey", kExtensions))},
      {"path: an upper-case extension", [] { return LoadJourneyFile("journey.JSON"); },
       Exact(kInvalid, absl::StrCat("journey.JSON", kExtensions))},
      {"path: a backup of a journey", [] { return LoadJourneyFile("journey.textproto~"); },
       Exact(kInvalid, absl::StrCat("journey.textproto~", kExtensions))},
      {"path: empty", [] { return LoadJourneyFile(""); },
       Exact(kInvalid, kExtensions)},

      // ---- Files: every error names the file ----
      {"file: missing", [] { return LoadJourneyFile("/nonexistent/welcome.json"); },
       Exact(kNotFound, "/nonexistent/welcome.json: cannot open file")},
      {"file: a directory with a journey's name",
       [] {
         const std::string dir = absl::StrCat(CAIRN_TEST_TMPDIR, "/a_directory.textproto");
         std::filesystem::create_directories(dir);
         return LoadJourneyFile(dir);
       },
       Exact(kInvalid, absl::StrCat(CAIRN_TEST_TMPDIR,
                                    "/a_directory.textproto: is a directory, not a journey file"))},
      {"file: a text syntax error",
       [] { return LoadJourneyFile(DataFile("syntax_error.textproto")); },
       Exact(kInvalid, DataFile("syntax_error.textproto") +
                           ": text journey does not parse: 4:28: Expected identifier, got: }")},
      {"file: a text unknown field",
       [] { return LoadJourneyFile(DataFile("unknown_field.textproto")); },
       Exact(kInvalid, DataFile("unknown_field.textproto") +
                           ": text journey does not parse: 3:8: Message type "
                           "\"cairn.v1.Journey\" has no field named \"verison\".")},
      {"file: a text wrong type",
       [] { return LoadJourneyFile(DataFile("wrong_type.textproto")); },
       Exact(kInvalid, DataFile("wrong_type.textproto") +
                           ": text journey does not parse: 3:10: Expected integer, got: "
                           "\"one\"")},
      {"file: a text unknown enum value",
       [] { return LoadJourneyFile(DataFile("unknown_enum.textproto")); },
       Exact(kInvalid, DataFile("unknown_enum.textproto") +
                           ": text journey does not parse: 3:27: Unknown enumeration value "
                           "of \"RUNNING\" for field \"state\".")},
      {"file: a JSON syntax error",
       [] { return LoadJourneyFile(DataFile("syntax_error.json")); },
       Exact(kInvalid, DataFile("syntax_error.json") +
                           ": JSON journey does not parse: 3:3: expected ',' or '}'")},
      {"file: a JSON duplicate key",
       [] { return LoadJourneyFile(DataFile("duplicate_key.json")); },
       Exact(kInvalid, DataFile("duplicate_key.json") +
                           ": JSON journey does not parse: 5:5: duplicate key \"state\" "
                           "(first at 4:5)")},
      {"file: a JSON unknown field",
       [] { return LoadJourneyFile(DataFile("unknown_field.json")); },
       Exact(kInvalid, DataFile("unknown_field.json") +
                           ": JSON journey does not parse: (settings) stat: Cannot find "
                           "field.")},
      {"file: a JSON wrong type",
       [] { return LoadJourneyFile(DataFile("wrong_type.json")); },
       Exact(kInvalid, DataFile("wrong_type.json") +
                           ": JSON journey does not parse: (version): invalid value \"many\" "
                           "for type TYPE_INT64")},
      {"file: binary garbage",
       [] {
         TempPath file("garbage.binpb", "\xff\xff\xff");
         return LoadJourneyFile(file.path());
       },
       Exact(kInvalid, absl::StrCat(CAIRN_TEST_TMPDIR, "/catalogue_garbage.binpb: binary "
                                    "journey does not parse: not a valid cairn.v1.Journey in "
                                    "protobuf wire format (or nested more than 64 messages "
                                    "deep)"))},
      {"file: JSON saved as .pb",
       [] {
         TempPath file("json.pb", "{\"id\": \"welcome\"}");
         return LoadJourneyFile(file.path());
       },
       Exact(kInvalid, absl::StrCat(CAIRN_TEST_TMPDIR, "/catalogue_json.pb: binary "
                                    "journey does not parse: not a valid cairn.v1.Journey in "
                                    "protobuf wire format (or nested more than 64 messages "
                                    "deep)"))},
      {"file: binary saved as .textproto",
       [] {
         TempPath file("binary.textproto", BinaryOf(kPromo));
         return LoadJourneyFile(file.path());
       },
       Exact(kInvalid, absl::StrCat(CAIRN_TEST_TMPDIR, "/catalogue_binary.textproto: text "
                                    "journey does not parse: 2:1: Invalid control characters "
                                    "encountered in text.; 2:7: Invalid control characters "
                                    "encountered in text.; 2:9: Message type "
                                    "\"cairn.v1.Journey\" has no field named \"promo\"."))},
      {"file: text saved as .binpb",
       [] {
         TempPath file("text.binpb", kPromo);
         return LoadJourneyFile(file.path());
       },
       Exact(kInvalid, absl::StrCat(CAIRN_TEST_TMPDIR, "/catalogue_text.binpb: binary "
                                    "journey does not parse: not a valid cairn.v1.Journey in "
                                    "protobuf wire format (or nested more than 64 messages "
                                    "deep)"))},
  };
}

TEST_CASE("Journey files: each bad input gives its error, naming file, line and field") {
  const std::vector<JourneyCase> cases = JourneyCatalogue();
  CheckUniqueNames(cases);
  for (const JourneyCase& c : cases) {
    INFO("case: " << c.name);
    const absl::StatusOr<v1::Journey> journey = c.call();
    REQUIRE_FALSE(journey.ok());
    CheckError(journey.status(), c.expected);
  }
}

TEST_CASE("JourneyFormatFromPath names the path it refuses") {
  for (const char* path : {"journey.yaml", "journey", "journey.JSON", "journey.textproto~",
                           "", "a.json/b"}) {
    INFO(path);
    absl::StatusOr<JourneyFormat> format = JourneyFormatFromPath(path);
    REQUIRE_FALSE(format.ok());
    CheckError(format.status(), Exact(kInvalid, absl::StrCat(path, kExtensions)));
  }
}

// ---------------------------------------------------------------------------
// Events and values in proto form.

TEST_CASE("Event::FromProto and Value::FromProto: each bad value gives its error") {
  auto event = [] {
    v1::Event e;
    e.set_subject_id("u1");
    e.set_name("signup");
    e.mutable_time()->set_seconds(1767571200);
    (*e.mutable_properties())["sku"].set_string_value("A-1");
    return e;
  };
  struct Case {
    const char* name;
    std::function<absl::Status()> call;
    std::string message;  // InvalidArgument
  };
  const std::vector<Case> cases = {
      {"event: a property without a kind",
       [&] {
         v1::Event e = event();
         (*e.mutable_properties())["price"];
         return StatusOf(Event::FromProto(e));
       },
       "event signup: property price: value has no kind set: set one of string_value, "
       "int_value, double_value, bool_value, timestamp_value, string_list_value"},
      {"event: a property timestamp after year 9999",
       [&] {
         v1::Event e = event();
         (*e.mutable_properties())["at"].mutable_timestamp_value()->set_seconds(253402300800);
         return StatusOf(Event::FromProto(e));
       },
       "event signup: property at: timestamp seconds 253402300800 is outside years "
       "0001..9999"},
      {"event: a time before year 1",
       [&] {
         v1::Event e = event();
         e.mutable_time()->set_seconds(-62135596801);
         return StatusOf(Event::FromProto(e));
       },
       "event signup: time: timestamp seconds -62135596801 is outside years 0001..9999"},
      {"event: a time with negative nanos",
       [&] {
         v1::Event e = event();
         e.mutable_time()->set_nanos(-1);
         return StatusOf(Event::FromProto(e));
       },
       "event signup: time: timestamp nanos -1 is out of range"},
      {"event: a time with a second of nanos",
       [&] {
         v1::Event e = event();
         e.mutable_time()->set_nanos(1000000000);
         return StatusOf(Event::FromProto(e));
       },
       "event signup: time: timestamp nanos 1000000000 is out of range"},
      {"event: no name and a bad property",
       [&] {
         v1::Event e = event();
         e.clear_name();
         (*e.mutable_properties())["price"];
         return StatusOf(Event::FromProto(e));
       },
       "event : property price: value has no kind set: set one of string_value, "
       "int_value, double_value, bool_value, timestamp_value, string_list_value"},
      {"value: no kind",
       [] { return StatusOf(Value::FromProto(v1::Value())); },
       "value has no kind set: set one of string_value, int_value, double_value, "
       "bool_value, timestamp_value, string_list_value"},
      {"value: a timestamp with negative nanos",
       [] {
         v1::Value v;
         v.mutable_timestamp_value()->set_nanos(-5);
         return StatusOf(Value::FromProto(v));
       },
       "timestamp nanos -5 is out of range"},
  };
  CheckUniqueNames(cases);
  for (const Case& c : cases) {
    INFO("case: " << c.name);
    CheckError(c.call(), Exact(kInvalid, c.message));
  }
}

// ---------------------------------------------------------------------------
// The simulator's JSON-lines event and profile logs.

struct LineCase {
  const char* name;
  std::string line;
  std::string message;  // InvalidArgument
};

constexpr char kTime[] = "\"time\":\"2026-01-05T10:00:00Z\"";

std::string Line(absl::string_view fields) {
  return absl::StrCat("{\"subject\":\"u1\",\"name\":\"signup\",", kTime, fields, "}");
}

std::vector<LineCase> EventLineCatalogue() {
  return {
      // ---- Not a JSON object ----
      {"empty line", "", "not a JSON object: column 1: unexpected end of input"},
      {"not JSON", "subject=u1", "not a JSON object: column 1: unexpected character"},
      {"a JSON list", "[1, 2]", "not a JSON object"},
      {"a JSON string", "\"signup\"", "not a JSON object"},
      {"null", "null", "not a JSON object"},
      {"cut short", "{\"subject\":\"u1\",\"name\":", "not a JSON object: column 24: "
                                                     "unexpected end of input"},
      {"text after the object", Line("") + " x",
       "not a JSON object: column 64: unexpected text after the value"},
      {"two objects on a line", Line("") + Line(""),
       "not a JSON object: column 63: unexpected text after the value"},
      {"single quotes", "{'subject':'u1'}", "not a JSON object: column 2: expected a key string"},
      {"a missing colon", "{\"subject\" \"u1\"}", "not a JSON object: column 12: expected ':'"},
      {"a missing comma in a list", Line(",\"properties\":{\"l\":[\"a\" \"b\"]}"),
       "not a JSON object: column 86: expected ',' or ']'"},
      {"a duplicate key", "{\"subject\":\"u1\",\"subject\":\"u2\"}",
       "not a JSON object: column 17: duplicate key \"subject\" (first at column 2)"},
      {"a trailing comma", "{\"subject\":\"u1\",}", "not a JSON object: column 16: trailing comma"},
      {"a control character in a string", "{\"subject\":\"u\x01\"}",
       "not a JSON object: column 14: control character in string"},
      {"an invalid escape", "{\"subject\":\"u\\x\"}", "not a JSON object: column 16: "
                                                     "invalid escape"},
      {"a short unicode escape", "{\"subject\":\"\\u12\"}",
       "not a JSON object: column 15: invalid \\u escape"},
      {"a unicode escape cut short", "{\"subject\":\"\\u12",
       "not a JSON object: column 15: truncated \\u escape"},
      {"a lone low surrogate", "{\"subject\":\"\\udc00\"}",
       "not a JSON object: column 19: unpaired surrogate"},
      {"a number with a bare point", Line(",\"properties\":{\"p\":1.}"),
       "not a JSON object: column 83: digits expected after '.'"},
      {"a number with a bare exponent", Line(",\"properties\":{\"p\":1e}"),
       "not a JSON object: column 83: digits expected in exponent"},
      {"a number out of range", Line(",\"properties\":{\"p\":1e999}"),
       "not a JSON object: column 86: number out of range"},
      {"a plus sign", Line(",\"properties\":{\"p\":+1}"),
       "not a JSON object: column 81: unexpected character"},
      {"NaN", Line(",\"properties\":{\"p\":NaN}"),
       "not a JSON object: column 81: unexpected character"},
      {"True in capitals", Line(",\"properties\":{\"p\":True}"),
       "not a JSON object: column 81: unexpected character"},

      // ---- Fields ----
      {"no fields", "{}", "missing \"subject\""},
      {"no subject", absl::StrCat("{\"name\":\"signup\",", kTime, "}"), "missing \"subject\""},
      {"no name", absl::StrCat("{\"subject\":\"u1\",", kTime, "}"), "missing \"name\""},
      {"no time", "{\"subject\":\"u1\",\"name\":\"signup\"}", "missing \"time\""},
      {"an empty subject", absl::StrCat("{\"subject\":\"\",\"name\":\"signup\",", kTime, "}"),
       "\"subject\" is empty"},
      {"an empty name", absl::StrCat("{\"subject\":\"u1\",\"name\":\"\",", kTime, "}"),
       "\"name\" is empty"},
      {"an empty time", "{\"subject\":\"u1\",\"name\":\"signup\",\"time\":\"\"}",
       "\"time\" is empty"},
      {"an unknown field", Line(",\"colour\":\"red\""), "unknown field \"colour\""},
      {"a misspelt properties", Line(",\"props\":{}"), "unknown field \"props\""},
      {"an unknown field before a missing one", "{\"subjct\":\"u1\"}",
       "unknown field \"subjct\""},

      // ---- Types ----
      {"a number for the subject", absl::StrCat("{\"subject\":7,\"name\":\"x\",", kTime, "}"),
       "\"subject\" must be a string"},
      {"null for the name", absl::StrCat("{\"subject\":\"u1\",\"name\":null,", kTime, "}"),
       "\"name\" must be a string"},
      {"a number for the id", Line(",\"id\":5"), "\"id\" must be a string"},
      {"a list for the subject type", Line(",\"subject_type\":[\"user\"]"),
       "\"subject_type\" must be a string"},
      {"a Unix time", "{\"subject\":\"u1\",\"name\":\"signup\",\"time\":1767607200}",
       "\"time\" must be a string"},
      {"a list for properties", Line(",\"properties\":[]"), "\"properties\" must be an object"},
      {"a string for properties", Line(",\"properties\":\"sku=A-1\""),
       "\"properties\" must be an object"},
      {"a list of numbers", Line(",\"properties\":{\"sizes\":[1,2]}"),
       "property \"sizes\": lists may only hold strings"},
      {"a list of lists", Line(",\"properties\":{\"sizes\":[[\"a\"]]}"),
       "property \"sizes\": lists may only hold strings"},
      {"a nested object", Line(",\"properties\":{\"cart\":{\"sku\":\"A-1\"}}"),
       "property \"cart\": nested objects are not supported"},

      // ---- Times ----
      {"a time with a space",
       "{\"subject\":\"u1\",\"name\":\"x\",\"time\":\"2026-01-05 10:00:00Z\"}",
       "\"time\" \"2026-01-05 10:00:00Z\" is not an RFC 3339 time: "},
      {"a time without a zone",
       "{\"subject\":\"u1\",\"name\":\"x\",\"time\":\"2026-01-05T10:00:00\"}",
       "\"time\" \"2026-01-05T10:00:00\" is not an RFC 3339 time: "},
      {"a date only", "{\"subject\":\"u1\",\"name\":\"x\",\"time\":\"2026-01-05\"}",
       "\"time\" \"2026-01-05\" is not an RFC 3339 time: "},
      {"month 13", "{\"subject\":\"u1\",\"name\":\"x\",\"time\":\"2026-13-05T10:00:00Z\"}",
       "\"time\" \"2026-13-05T10:00:00Z\" is not an RFC 3339 time: "},
      {"a word for a time", "{\"subject\":\"u1\",\"name\":\"x\",\"time\":\"yesterday\"}",
       "\"time\" \"yesterday\" is not an RFC 3339 time: "},
  };
}

TEST_CASE("Event lines: each bad line gives its error") {
  const std::vector<LineCase> cases = EventLineCatalogue();
  CheckUniqueNames(cases);
  for (const LineCase& c : cases) {
    INFO("case: " << c.name << "\nline: " << c.line);
    const absl::StatusOr<Event> event = json::ParseEventLine(c.line);
    REQUIRE_FALSE(event.ok());
    // Time errors end with absl's own reason.
    const bool time_error = absl::StrContains(c.message, "is not an RFC 3339 time: ");
    CheckError(event.status(),
               time_error ? Prefix(kInvalid, c.message) : Exact(kInvalid, c.message));
  }
}

std::vector<LineCase> ProfileLineCatalogue() {
  return {
      {"not JSON", "tier=gold", "not a JSON object: column 1: invalid literal"},
      {"a JSON list", "[]", "not a JSON object"},
      {"no subject", "{\"attributes\":{}}", "missing \"subject\""},
      {"an empty subject", "{\"subject\":\"\"}", "\"subject\" is empty"},
      {"a number for the subject", "{\"subject\":1}", "\"subject\" must be a string"},
      {"an unknown field", "{\"subject\":\"u1\",\"attrs\":{}}", "unknown field \"attrs\""},
      {"an event line", Line(""), "unknown field \"name\""},
      {"a list for attributes", "{\"subject\":\"u1\",\"attributes\":[]}",
       "\"attributes\" must be an object"},
      {"a nested object", "{\"subject\":\"u1\",\"attributes\":{\"a\":{\"b\":1}}}",
       "attribute \"a\": nested objects are not supported"},
      {"a list of booleans", "{\"subject\":\"u1\",\"attributes\":{\"a\":[true]}}",
       "attribute \"a\": lists may only hold strings"},
      {"a number for the subject type", "{\"subject\":\"u1\",\"subject_type\":2}",
       "\"subject_type\" must be a string"},
      {"a time", "{\"subject\":\"u1\",\"time\":\"2026-01-05T10:00:00Z\",\"attributes\":{}}",
       "a profile line has no \"time\": profiles are the state before the log begins; put a "
       "timed profile update in the event log instead"},
  };
}

// Lines of an event log with "attributes": timed profile updates.
std::vector<LineCase> TimedProfileLineCatalogue() {
  return {
      {"no time", "{\"subject\":\"u1\",\"attributes\":{}}", "missing \"time\""},
      {"a bad time", "{\"subject\":\"u1\",\"time\":\"yesterday\",\"attributes\":{}}",
       "\"time\""},
      {"a name too", Line(",\"attributes\":{}"), "unknown field \"name\""},
      {"no subject", "{\"time\":\"2026-01-05T10:00:00Z\",\"attributes\":{}}",
       "missing \"subject\""},
      {"a list for attributes",
       "{\"subject\":\"u1\",\"time\":\"2026-01-05T10:00:00Z\",\"attributes\":[]}",
       "\"attributes\" must be an object"},
  };
}

TEST_CASE("Event log lines: each bad timed profile line gives its error") {
  const std::vector<LineCase> cases = TimedProfileLineCatalogue();
  CheckUniqueNames(cases);
  json::LogLine line;
  for (const LineCase& c : cases) {
    INFO("case: " << c.name << "\nline: " << c.line);
    const absl::Status s = json::ParseLogLine(c.line, &line);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(s.message()), Catch::Contains(c.message));
  }
}

TEST_CASE("Profile lines: each bad line gives its error") {
  const std::vector<LineCase> cases = ProfileLineCatalogue();
  CheckUniqueNames(cases);
  for (const LineCase& c : cases) {
    INFO("case: " << c.name << "\nline: " << c.line);
    const absl::StatusOr<json::ProfileLine> profile = json::ParseProfileLine(c.line);
    REQUIRE_FALSE(profile.ok());
    CheckError(profile.status(), Exact(kInvalid, c.message));
  }
}

constexpr char kSimJourney[] = R"pb(
  id: "welcome" version: 1 settings { state: ACTIVE }
  nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "hello" } }
  nodes { id: "hello" action { channel: "push" template_id: "hi" } }
)pb";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST_CASE("Simulate: bad event lines are reported with file and line, or stop a strict run") {
  const std::string path = DataFile("events_bad.jsonl");
  const v1::Journey journey = TextJourney(kSimJourney);
  const std::vector<std::string> expected = {
      path + ":3: \"time\" \"2026-01-05 10:01:00\" is not an RFC 3339 time: ",
      path + ":4: missing \"time\"",
      path + ":5: not a JSON object: column 64: unexpected text after the value",
      path + ":6: unknown field \"props\"",
      path + ":7: property \"n\": lists may only hold strings",
  };
  {
    std::ifstream events(path);
    sim::SimOptions options;
    absl::StatusOr<sim::SimResult> r = sim::Simulate(journey, events, path, nullptr, "", options);
    REQUIRE_THAT(StatusOf(r), IsOk());
    CHECK(r->event_lines == 7);  // The blank line is not counted.
    CHECK(r->bad_event_lines == 5);
    REQUIRE(r->errors.size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      INFO("error " << i);
      CHECK_THAT(r->errors[i], Catch::StartsWith(expected[i]));
    }
    CHECK(r->report.versions(0).entered() == 2);  // u1 and u7 only.
  }
  {
    std::ifstream events(path);
    sim::SimOptions options;
    options.strict = true;
    absl::StatusOr<sim::SimResult> r = sim::Simulate(journey, events, path, nullptr, "", options);
    REQUIRE_FALSE(r.ok());
    CheckError(r.status(), Prefix(kInvalid, expected[0]));
  }
  {
    // max_errors keeps the first messages and still counts every bad line.
    std::ifstream events(path);
    sim::SimOptions options;
    options.max_errors = 2;
    absl::StatusOr<sim::SimResult> r = sim::Simulate(journey, events, path, nullptr, "", options);
    REQUIRE_THAT(StatusOf(r), IsOk());
    CHECK(r->bad_event_lines == 5);
    REQUIRE(r->errors.size() == 2);
    CHECK(r->errors[1] == expected[1]);
  }
}

TEST_CASE("Simulate: bad profile lines are reported with file and line") {
  const std::string path = DataFile("profiles_bad.jsonl");
  const v1::Journey journey = TextJourney(kSimJourney);
  const std::vector<std::string> expected = {
      path + ":2: \"subject\" is empty",
      path + ":3: unknown field \"attrs\"",
      // The engine's own rejection, with the line it came from.
      path + ":4: UpsertProfile for u3: an attribute name is empty",
      path + ":6: attribute \"a\": nested objects are not supported",
  };
  {
    std::istringstream events(ReadFile(DataFile("events_bad.jsonl")));
    std::ifstream profiles(path);
    sim::SimOptions options;
    absl::StatusOr<sim::SimResult> r =
        sim::Simulate(journey, events, "events", &profiles, path, options);
    REQUIRE_THAT(StatusOf(r), IsOk());
    CHECK(r->profile_lines == 5);
    CHECK(r->bad_profile_lines == 4);
    // The profiles are read after the first event line, before the others.
    REQUIRE(r->errors.size() == expected.size() + 5);
    for (size_t i = 0; i < expected.size(); ++i) CHECK(r->errors[i] == expected[i]);
    CHECK_THAT(r->errors[expected.size()], Catch::StartsWith("events:3: "));
  }
  {
    std::istringstream events("");
    std::ifstream profiles(path);
    sim::SimOptions options;
    options.strict = true;
    absl::StatusOr<sim::SimResult> r =
        sim::Simulate(journey, events, "events", &profiles, path, options);
    REQUIRE_FALSE(r.ok());
    CheckError(r.status(), Exact(kInvalid, expected[0]));
  }
}

TEST_CASE("Simulate: a journey that does not deploy or a stream that fails") {
  sim::SimOptions options;
  {
    v1::Journey journey = TextJourney(kSimJourney);
    journey.set_version(0);
    std::istringstream events("");
    CheckError(StatusOf(sim::Simulate(journey, events, "events", nullptr, "", options)),
               Exact(kInvalid, "journey welcome has 1 problem:\n  journey welcome, field "
                               "version: version is 0; versions start at 1"));
  }
  {
    v1::Journey journey = TextJourney(kSimJourney);
    journey.mutable_nodes(1)->mutable_action()->clear_channel();
    std::istringstream events("");
    CheckError(StatusOf(sim::Simulate(journey, events, "events", nullptr, "", options)),
               Exact(kInvalid, "channel name is empty"));
  }
  {
    std::istream events(nullptr);  // Fails at the first read.
    CheckError(StatusOf(sim::Simulate(TextJourney(kSimJourney), events, "events.jsonl",
                                      nullptr, "", options)),
               Exact(kDataLoss, "events.jsonl: read error"));
  }
}

// ---------------------------------------------------------------------------
// The simulator's other parsed text: --sink specs and generator options.

TEST_CASE("Sink specs: each bad spec gives its error") {
  struct Case {
    const char* spec;
    std::string message;  // InvalidArgument
  };
  const std::vector<Case> cases = {
      {"", "--sink \"\": expected CHANNEL:key=value,..."},
      {":fail=0.1", "--sink \":fail=0.1\": expected CHANNEL:key=value,..."},
      {"push:fail=2", "--sink \"push:fail=2\": fail: expected a rate between 0 and 1"},
      {"push:fail=-0.1", "--sink \"push:fail=-0.1\": fail: expected a rate between 0 and 1"},
      {"push:fail=10%", "--sink \"push:fail=10%\": fail: expected a rate between 0 and 1"},
      {"push:fail=inf", "--sink \"push:fail=inf\": fail: expected a rate between 0 and 1"},
      {"push:fail", "--sink \"push:fail\": fail: expected a rate between 0 and 1"},
      {"push:fail=", "--sink \"push:fail=\": fail: expected a rate between 0 and 1"},
      {"push:timeout=1.5", "--sink \"push:timeout=1.5\": timeout: expected a rate between 0 and 1"},
      {"push:delay=soon", "--sink \"push:delay=soon\": delay: expected a duration such as 30s, "
                          "5m or 2h"},
      {"push:delay=5", "--sink \"push:delay=5\": delay: expected a duration such as 30s, 5m "
                       "or 2h"},
      {"push:delay=-5m", "--sink \"push:delay=-5m\": delay: expected a duration such as 30s, "
                         "5m or 2h"},
      {"push:colour=red", "--sink \"push:colour=red\": colour: unknown key; use fail, delay or "
                          "timeout"},
      {"push:fail=0.1;delay=5m", "--sink \"push:fail=0.1;delay=5m\": fail: expected a rate "
                                 "between 0 and 1"},
      {"push:=0.1", "--sink \"push:=0.1\": (empty key): unknown key; use fail, delay or timeout"},
      {"push:fail=nan", "--sink \"push:fail=nan\": fail: expected a rate between 0 and 1"},
      {"push:timeout=nan", "--sink \"push:timeout=nan\": timeout: expected a rate between 0 and 1"},
  };
  std::map<std::string, int> seen;
  for (const Case& c : cases) {
    INFO("spec: " << c.spec);
    CHECK(++seen[c.spec] == 1);
    CheckError(StatusOf(sim::ParseChannelModel(c.spec)), Exact(kInvalid, c.message));
  }
}

TEST_CASE("Generator: bad scenarios and options give their errors") {
  for (const char* name : {"bank", "", "Game", "ecommerce "}) {
    INFO("scenario: " << name);
    CheckError(StatusOf(sim::ParseScenario(name)),
               Exact(kInvalid, absl::StrCat("unknown scenario \"", name,
                                            "\"; use ecommerce, game or loyalty")));
  }
  struct Case {
    const char* name;
    std::function<void(sim::GeneratorOptions&)> change;
    Expected expected;
  };
  const std::vector<Case> cases = {
      {"no subjects", [](auto& o) { o.subjects = 0; },
       Exact(kInvalid, "subjects must be positive")},
      {"negative subjects", [](auto& o) { o.subjects = -3; },
       Exact(kInvalid, "subjects must be positive")},
      {"no days", [](auto& o) { o.days = 0; }, Exact(kInvalid, "days must be positive")},
      {"no subjects and no days", [](auto& o) { o.subjects = 0; o.days = 0; },
       Exact(kInvalid, "subjects must be positive")},
  };
  CheckUniqueNames(cases);
  for (const Case& c : cases) {
    INFO("case: " << c.name);
    sim::GeneratorOptions options;
    c.change(options);
    std::ostringstream out;
    CheckError(StatusOf(sim::GenerateEvents(options, out)), c.expected);
    CHECK(out.str().empty());
  }
  {
    INFO("case: a stream that fails");
    sim::GeneratorOptions options;
    options.subjects = 2;
    options.days = 1;
    std::ostringstream out;
    out.setstate(std::ios::badbit);
    CheckError(StatusOf(sim::GenerateEvents(options, out)), Exact(kDataLoss, "write error"));
  }
  for (const Case& c : cases) {
    INFO("profiles, case: " << c.name);
    sim::GeneratorOptions options;
    options.scenario = sim::Scenario::kLoyalty;
    c.change(options);
    std::ostringstream out;
    CheckError(StatusOf(sim::GenerateProfiles(options, out)), c.expected);
    CHECK(out.str().empty());
  }
  for (sim::Scenario scenario : {sim::Scenario::kEcommerce, sim::Scenario::kGame}) {
    INFO("profiles of a scenario without them");
    sim::GeneratorOptions options;
    options.scenario = scenario;
    std::ostringstream out;
    CheckError(StatusOf(sim::GenerateProfiles(options, out)),
               Exact(kInvalid, "only the loyalty scenario has profiles"));
    CHECK(out.str().empty());
  }
  {
    INFO("case: a profile stream that fails");
    sim::GeneratorOptions options;
    options.scenario = sim::Scenario::kLoyalty;
    options.subjects = 2;
    std::ostringstream out;
    out.setstate(std::ios::badbit);
    CheckError(StatusOf(sim::GenerateProfiles(options, out)), Exact(kDataLoss, "write error"));
  }
}

// ---------------------------------------------------------------------------
// The test harness forwards the engine's errors and adds the parser's.

TEST_CASE("Harness: bad text journeys and bad inputs give the engine's errors") {
  testing::Harness h;
  CheckError(h.DeployText("id: \"x\" verison: 1"),
             Exact(kInvalid, "text journey does not parse: 1:16: Message type "
                             "\"cairn.v1.Journey\" has no field named \"verison\"."));
  CheckError(h.DeployText(kPromo), Exact(absl::StatusCode::kOk, ""));
  CheckError(h.Enroll("promo", ""), Exact(kInvalid, "Enroll into journey promo: subject id is "
                                                    "empty"));
  CheckError(h.Event("", "signup"), Exact(kInvalid, "event signup: subject_id is empty"));
  CheckError(h.Profile("u1", {{"", Value::Int(1)}}),
             Exact(kInvalid, "UpsertProfile for u1: an attribute name is empty"));
  CheckError(h.Deliver("nope"),
             Exact(kNotFound, "delivery report: \"nope\" is not a Cairn message id"));
  CHECK(h.engine().stats().subjects == 0);
  CHECK(h.Sent().empty());
}

}  // namespace
}  // namespace cairn
