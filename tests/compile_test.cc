// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The compiler: a catalogue of invalid journeys, each with the exact problem
// it must report (node and field named), a journey with many problems that
// must all be reported, and the shape of the compiled form.

#include "cairn/journey.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "compile/journey_graph.h"
#include "testing/deep_journey.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::IsOk;
using testing::ProblemsToString;
using testing::StatusOf;
using testing::TextJourney;

// A valid journey: signup -> push -> exit. Catalogue cases add to or replace
// parts of it.
constexpr char kHeader[] = R"pb(id: "welcome" version: 1)pb";
constexpr char kSettings[] = R"pb(settings { state: ACTIVE })pb";
constexpr char kNodes[] = R"pb(
  nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "send" } }
  nodes { id: "send" action { channel: "push" template_id: "welcome" next: "done" } }
  nodes { id: "done" exit {} }
)pb";

struct Case {
  const char* name;
  std::string journey;  // Text format.
  JourneyProblem expected;
};

std::string With(const std::string& settings, const std::string& nodes,
                 const std::string& header = kHeader) {
  return absl::StrCat(header, "\n", settings, "\n", nodes);
}
std::string WithSettings(const std::string& settings) {
  return With(settings, kNodes);
}
std::string WithNodes(const std::string& nodes) {
  return With(kSettings, nodes);
}
// The base journey with `send` replaced by `node` (which must lead to done).
std::string WithSend(const std::string& node) {
  return WithNodes(absl::StrCat(
      R"pb(nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "send" } })pb",
      "\n", node, "\n", R"pb(nodes { id: "done" exit {} })pb"));
}

JourneyProblem Problem(std::string node, std::string field, std::string message) {
  return JourneyProblem{"welcome", std::move(node), std::move(field), std::move(message)};
}

std::vector<Case> Catalogue() {
  return {
      {"empty journey id", With(kSettings, kNodes, "version: 1"),
       {"", "", "id", "journey id is empty"}},
      {"journey id with a space", With(kSettings, kNodes, R"pb(id: "cart abandon" version: 1)pb"),
       {"cart abandon", "", "id",
        "journey id \"cart abandon\" may only contain letters, digits, '_', '-' and '.'"}},
      {"description not UTF-8",
       With(kSettings, kNodes, R"pb(id: "welcome" version: 1 description: "caf\351")pb"),
       Problem("", "description", "not valid UTF-8; strings must be UTF-8 text")},
      {"template parameter not UTF-8",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "send" } }
         nodes { id: "send" action { channel: "push" template_id: "welcome"
                 params { key: "greeting" value: "\xff" } next: "done" } }
         nodes { id: "done" exit {} })pb"),
       {"welcome", "send", "action.params[0].value", "not valid UTF-8; strings must be UTF-8 text"}},
      {"version zero", With(kSettings, kNodes, R"pb(id: "welcome")pb"),
       Problem("", "version", "version is 0; versions start at 1")},
      {"state not set", WithSettings("settings { }"),
       Problem("", "settings.state", "journey state is not set; say ACTIVE, PAUSED or STOPPED")},
      {"re-entry mode not set",
       WithSettings(R"pb(settings { state: ACTIVE reentry { } })pb"),
       Problem("", "settings.reentry.mode",
               "re-entry mode is not set; use NEVER, AFTER_EXIT or CONCURRENT (or drop reentry for NEVER)")},
      {"cooldown with policy never",
       WithSettings(R"pb(settings { state: ACTIVE reentry { mode: NEVER cooldown { seconds: 60 } } })pb"),
       Problem("", "settings.reentry.cooldown", "cooldown only applies to AFTER_EXIT, not NEVER")},
      {"negative cooldown",
       WithSettings(R"pb(settings { state: ACTIVE reentry { mode: AFTER_EXIT cooldown { seconds: -60 } } })pb"),
       Problem("", "settings.reentry.cooldown", "cooldown is negative")},
      {"concurrent without a limit",
       WithSettings(R"pb(settings { state: ACTIVE reentry { mode: CONCURRENT } })pb"),
       Problem("", "settings.reentry.max_concurrent",
               "max_concurrent is 0; CONCURRENT needs at least 1")},
      {"unknown time zone",
       WithSettings(R"pb(settings { state: ACTIVE default_time_zone: "Mars/Olympus_Mons" })pb"),
       Problem("", "settings.default_time_zone",
               "unknown time zone \"Mars/Olympus_Mons\"; use an IANA name such as \"Asia/Shanghai\" (is tzdata installed?)")},
      // The zone loader reads a name as a path: these must not reach it.
      {"time zone that is a relative path",
       WithSettings(R"pb(settings { state: ACTIVE default_time_zone: "../../../../etc/passwd" })pb"),
       Problem("", "settings.default_time_zone",
               "malformed time zone name \"../../../../etc/passwd\"; use an IANA name such as \"Asia/Shanghai\"")},
      {"time zone that is an absolute path",
       WithSettings(R"pb(settings { state: ACTIVE default_time_zone: "/proc/self/environ" })pb"),
       Problem("", "settings.default_time_zone",
               "malformed time zone name \"/proc/self/environ\"; use an IANA name such as \"Asia/Shanghai\"")},
      {"active window ends before it starts",
       WithSettings(R"pb(settings { state: ACTIVE active_window { start { seconds: 2000 } end { seconds: 1000 } } })pb"),
       Problem("", "settings.active_window.end", "active window ends before it starts")},
      {"journey goal without window",
       WithSettings(R"pb(settings { state: ACTIVE goals { name: "paid" conversion { event: "payment" } } })pb"),
       Problem("", "settings.goals[0].window", "goal window is not set; it must be positive")},
      {"exit-on without event name",
       WithSettings(R"pb(settings { state: ACTIVE exit_on { } })pb"),
       Problem("", "settings.exit_on[0].event", "event name is empty")},
      {"attribute declared without type",
       WithSettings(R"pb(settings { state: ACTIVE attributes { path: "profile.age" } })pb"),
       Problem("", "settings.attributes[0].type",
               "type of \"profile.age\" is not set; use VALUE_TYPE_STRING, _INT, _DOUBLE, _BOOL, _TIMESTAMP or _STRING_LIST")},
      {"no nodes", WithNodes(""), Problem("", "nodes", "journey has no nodes")},
      {"empty node id",
       WithNodes(absl::StrCat(kNodes, R"pb(nodes { exit {} })pb")),
       Problem("", "id", "node #3: node id is empty")},
      {"duplicate node id",
       WithNodes(absl::StrCat(kNodes, R"pb(nodes { id: "send" exit {} })pb")),
       Problem("send", "id", "node id \"send\" is used by node #1 and node #3")},
      {"node without a kind",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "blank" } }
         nodes { id: "blank" })pb"),
       Problem("blank", "kind",
               "node has no kind: set one of trigger, filter, delay, split, action, wait, goal, update, exit, switch")},
      {"dangling edge",
       WithSend(R"pb(nodes { id: "send" action { channel: "push" template_id: "t" next: "dnoe" on_failure: "done" } })pb"),
       Problem("send", "action.next",
               "edge leads to unknown node \"dnoe\"; did you mean \"done\"?")},
      {"edge into a trigger",
       WithSend(R"pb(nodes { id: "send" action { channel: "push" template_id: "t" next: "signed_up" on_failure: "done" } })pb"),
       Problem("send", "action.next",
               "edge leads into trigger \"signed_up\"; triggers are entry points only")},
      {"no trigger",
       WithNodes(R"pb(nodes { id: "send" action { channel: "push" template_id: "t" } })pb"),
       Problem("", "nodes", "journey has no trigger node: nothing can enter it")},
      {"unreachable node",
       WithNodes(absl::StrCat(kNodes, R"pb(nodes { id: "orphan" exit {} })pb")),
       Problem("orphan", "id", "node is unreachable: no path from a trigger leads here")},
      {"cycle without a blocking node",
       WithSend(R"pb(
         nodes { id: "send" action { channel: "push" template_id: "t" next: "check" } }
         nodes { id: "check" filter {
           predicate { compare { path: "profile.vip" op: EXISTS } }
           on_true: "done" on_false: "send" } })pb"),
       Problem("check", "filter.on_false",
               "cycle send -> check -> send has no blocking node (delay, wait, goal or an action "
               "awaiting delivery): an enrollment would loop without time passing")},
      {"split weight zero",
       WithSend(R"pb(nodes { id: "send" split {
         variants { name: "a" weight: 50 next: "done" }
         variants { name: "b" weight: 0 next: "done" } } })pb"),
       Problem("send", "split.variants[1].weight", "weight is 0; weights must be positive")},
      {"split weight negative",
       WithSend(R"pb(nodes { id: "send" split {
         variants { name: "a" weight: -5 next: "done" }
         variants { name: "b" weight: 10 next: "done" } } })pb"),
       Problem("send", "split.variants[0].weight", "weight is -5; weights must be positive")},
      {"split with one variant",
       WithSend(R"pb(nodes { id: "send" split { variants { name: "a" weight: 1 next: "done" } } })pb"),
       Problem("send", "split.variants", "a split needs at least 2 variants, has 1")},
      {"split with too many variants",
       [] {
         std::string variants;
         for (int i = 0; i <= 1024; ++i) {
           absl::StrAppend(&variants, "variants { name: \"v", i, "\" weight: 1 next: \"done\" }\n");
         }
         return WithSend(absl::StrCat("nodes { id: \"send\" split { ", variants, "} }"));
       }(),
       Problem("send", "split.variants", "a split may have at most 1024 variants, has 1025")},
      {"split with two controls",
       WithSend(R"pb(nodes { id: "send" split {
         variants { name: "a" weight: 1 control: true next: "done" }
         variants { name: "b" weight: 1 control: true next: "done" } } })pb"),
       Problem("send", "split.variants[1].control", "more than one variant is marked control")},
      {"switch without branches",
       WithSend(R"pb(nodes { id: "send" switch { default { next: "done" } } })pb"),
       Problem("send", "switch.branches",
               "switch has no branches; add at least one, each a name, a predicate and where it "
               "leads")},
      {"switch without a default",
       WithSend(R"pb(nodes { id: "send" switch { branches { name: "gold"
         predicate { compare { path: "profile.tier" op: EQ value { string_value: "gold" } } }
         next: "done" } } })pb"),
       Problem("send", "switch.default",
               "switch has no default: set default { next: \"...\" } for subjects no branch "
               "matches (default {} lets them leave the journey)")},
      {"switch with a repeated branch name",
       WithSend(R"pb(nodes { id: "send" switch {
         branches { name: "gold" predicate { compare { path: "profile.tier" op: EXISTS } } next: "done" }
         branches { name: "gold" predicate { compare { path: "profile.vip" op: EXISTS } } next: "done" }
         default { next: "done" } } })pb"),
       Problem("send", "switch.branches[1].name", "branch name \"gold\" is used twice")},
      {"switch branch without a name",
       WithSend(R"pb(nodes { id: "send" switch {
         branches { predicate { compare { path: "profile.tier" op: EXISTS } } next: "done" }
         default { next: "done" } } })pb"),
       Problem("send", "switch.branches[0].name", "branch name is empty")},
      {"switch branch named default",
       WithSend(R"pb(nodes { id: "send" switch {
         branches { name: "default" predicate { compare { path: "profile.tier" op: EXISTS } } next: "done" }
         default { next: "done" } } })pb"),
       Problem("send", "switch.branches[0].name",
               "branch name \"default\" is reserved for the default edge")},
      {"switch branch without a predicate",
       WithSend(R"pb(nodes { id: "send" switch {
         branches { name: "gold" next: "done" } default { next: "done" } } })pb"),
       Problem("send", "switch.branches[0].predicate", "switch branch has no predicate")},
      {"switch branch leading to an unknown node",
       WithSend(R"pb(nodes { id: "send" switch {
         branches { name: "gold" predicate { compare { path: "profile.tier" op: EXISTS } } next: "gold_offer" }
         default { next: "done" } } })pb"),
       Problem("send", "switch.branches[0].next", "edge leads to unknown node \"gold_offer\"")},
      {"switch default leading to an unknown node",
       WithSend(R"pb(nodes { id: "send" switch {
         branches { name: "gold" predicate { compare { path: "profile.tier" op: EXISTS } } next: "done" }
         default { next: "basic_offer" } } })pb"),
       Problem("send", "switch.default.next", "edge leads to unknown node \"basic_offer\"")},
      {"switch branch comparing incompatible types",
       With(R"pb(settings { state: ACTIVE attributes { path: "profile.tier" type: VALUE_TYPE_STRING } })pb",
            R"pb(nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "route" } }
                 nodes { id: "route" switch {
                   branches { name: "gold" predicate { compare { path: "profile.tier" op: GT value { int_value: 3 } } }
                     next: "done" }
                   default { next: "done" } } }
                 nodes { id: "done" exit {} })pb"),
       Problem("route", "switch.branches[0].predicate.compare.value",
               "operator GT compares profile.tier (string) with int 3: incompatible types")},
      {"switch branch with an empty predicate",
       WithSend(R"pb(nodes { id: "send" switch {
         branches { name: "gold" predicate { } next: "done" } default { next: "done" } } })pb"),
       Problem("send", "switch.branches[0].predicate", "predicate is empty: set compare, all, any or not")},
      {"switch with too many branches",
       [] {
         std::string branches;
         for (int i = 0; i <= 64; ++i) {
           absl::StrAppend(&branches, "branches { name: \"b", i,
                           "\" predicate { compare { path: \"profile.tier\" op: EXISTS } } "
                           "next: \"done\" }\n");
         }
         return WithSend(
             absl::StrCat("nodes { id: \"send\" switch { ", branches, "default { next: \"done\" } } }"));
       }(),
       Problem("send", "switch.branches", "a switch may have at most 64 branches, has 65")},
      {"switch whose every edge leaves the journey",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "send" } }
         nodes { id: "send" switch {
           branches { name: "gold" predicate { compare { path: "profile.tier" op: EXISTS } } }
           default { } } })pb"),
       Problem("send", "switch",
               "every branch of the switch and its default leave the journey: every enrollment "
               "would exit here; use an exit node instead")},
      {"action without channel",
       WithSend(R"pb(nodes { id: "send" action { template_id: "t" next: "done" } })pb"),
       Problem("send", "action.channel",
               "action has no channel; name the channel a sink is registered for, e.g. \"push\"")},
      {"action without template",
       WithSend(R"pb(nodes { id: "send" action { channel: "sms" next: "done" } })pb"),
       Problem("send", "action.template_id", "action has no template_id")},
      {"template placeholder with unknown root",
       WithSend(R"pb(nodes { id: "send" action { channel: "sms" template_id: "t"
         params { key: "name" value: "Hi {{user.name}}" } next: "done" } })pb"),
       Problem("send", "action.params[\"name\"]",
               "path \"user.name\" has unknown root \"user\"; use profile., event., entry., behavior. or segment.")},
      {"delivery timeout zero",
       WithSend(R"pb(nodes { id: "send" action { channel: "sms" template_id: "t"
         await_delivery { timeout { } } next: "done" } })pb"),
       Problem("send", "action.await_delivery.timeout", "delivery timeout is 0s; it must be positive")},
      {"negative delay",
       WithSend(R"pb(nodes { id: "send" delay { duration { seconds: -3600 } next: "done" } })pb"),
       Problem("send", "delay.duration", "delay is -1h; it must be positive")},
      {"delay of a century",
       WithSend(R"pb(nodes { id: "send" delay { duration { seconds: 3155760000 } next: "done" } })pb"),
       Problem("send", "delay.duration",
               "duration 36525d is longer than 18250d, the most a journey may hold (50 years)")},
      {"relative delay offset of minus a century",
       WithSend(R"pb(nodes { id: "send" delay { relative { path: "profile.due"
         offset { seconds: -3155760000 } if_past: CONTINUE } next: "done" } })pb"),
       Problem("send", "delay.relative.offset",
               "duration -36525d is longer than 18250d, the most a journey may hold (50 years)")},
      {"delay without kind",
       WithSend(R"pb(nodes { id: "send" delay { next: "done" } })pb"),
       Problem("send", "delay",
               "delay has no kind: set duration, until_time_of_day, relative, until_anniversary, "
               "until_date or until_best_time")},
      {"best time without a behaviour",
       WithSend(R"pb(nodes { id: "send" delay { until_best_time { within { seconds: 86400 } }
         next: "done" } })pb"),
       Problem("send", "delay.until_best_time.behavior",
               "behavior is empty; name an HOUR_OF_WEEK behaviour to learn from")},
      {"best time without a look-ahead",
       WithSend(R"pb(nodes { id: "send" delay { until_best_time { behavior: "app_hours" }
         next: "done" } })pb"),
       Problem("send", "delay.until_best_time.within",
               "within is not set; say how far ahead to look, e.g. { seconds: 86400 }")},
      {"best time within 90 minutes",
       WithSend(R"pb(nodes { id: "send" delay { until_best_time { behavior: "app_hours"
         within { seconds: 5400 } } next: "done" } })pb"),
       Problem("send", "delay.until_best_time.within",
               "within is 1h30m; it must be a whole number of hours from 1h to 168h (7 days)")},
      {"best time within 8 days",
       WithSend(R"pb(nodes { id: "send" delay { until_best_time { behavior: "app_hours"
         within { seconds: 691200 } } next: "done" } })pb"),
       Problem("send", "delay.until_best_time.within",
               "within is 8d; it must be a whole number of hours from 1h to 168h (7 days)")},
      {"best time with negative history",
       WithSend(R"pb(nodes { id: "send" delay { until_best_time { behavior: "app_hours"
         within { seconds: 86400 } min_events: -1 } next: "done" } })pb"),
       Problem("send", "delay.until_best_time.min_events", "min_events -1 is not in 0..10000")},
      {"best time falling back to hour 24",
       WithSend(R"pb(nodes { id: "send" delay { until_best_time { behavior: "app_hours"
         within { seconds: 86400 } fallback_time { hour: 24 } } next: "done" } })pb"),
       Problem("send", "delay.until_best_time.fallback_time.hour", "hour 24 is not in 0..23")},
      {"time of day hour 24",
       WithSend(R"pb(nodes { id: "send" delay { until_time_of_day { hour: 24 } next: "done" } })pb"),
       Problem("send", "delay.until_time_of_day.hour", "hour 24 is not in 0..23")},
      {"relative delay without if_past",
       WithSend(R"pb(nodes { id: "send" delay { relative { path: "profile.appointment_time"
         offset { seconds: -86400 } } next: "done" } })pb"),
       Problem("send", "delay.relative.if_past",
               "if_past is not set; say CONTINUE or EXIT for a time that has already passed")},
      {"anniversary without a date",
       WithSend(R"pb(nodes { id: "send" delay { until_anniversary { at { hour: 10 } } next: "done" } })pb"),
       Problem("send", "delay.until_anniversary.path",
               "path is empty; name the date, e.g. profile.birthday")},
      {"anniversary a year and a day before",
       WithSend(R"pb(nodes { id: "send" delay { until_anniversary { path: "profile.birthday"
         days_before: 366 } next: "done" } })pb"),
       Problem("send", "delay.until_anniversary.days_before", "days_before 366 is not in 0..365")},
      {"anniversary on weekdays",
       WithSend(R"pb(nodes { id: "send" delay { until_anniversary { path: "profile.birthday"
         at { hour: 10 weekdays: MONDAY } } next: "done" } })pb"),
       Problem("send", "delay.until_anniversary.at.weekdays", "weekdays do not apply here")},
      {"anniversary of an event property",
       WithSend(R"pb(nodes { id: "send" delay { until_anniversary { path: "event.birthday" }
         next: "done" } })pb"),
       Problem("send", "delay.until_anniversary.path",
               "\"event.birthday\": a delay cannot read event.*; use profile.* or entry.*")},
      {"anniversary of a number",
       With(R"pb(settings { state: ACTIVE attributes { path: "profile.birthday" type: VALUE_TYPE_INT } })pb",
            R"pb(nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "send" } }
                 nodes { id: "send" delay { until_anniversary { path: "profile.birthday" } next: "done" } }
                 nodes { id: "done" exit {} })pb"),
       Problem("send", "delay.until_anniversary.path",
               "\"profile.birthday\" is declared int; a calendar delay needs a date "
               "(\"YYYY-MM-DD\"), a timestamp or an RFC 3339 string")},
      {"date that does not exist",
       WithSend(R"pb(nodes { id: "send" delay { until_date { on: "2027-02-29" if_past: CONTINUE }
         next: "done" } })pb"),
       Problem("send", "delay.until_date.on", "\"2027-02-29\" is not a date YYYY-MM-DD in 1970..2261")},
      {"date without a date",
       WithSend(R"pb(nodes { id: "send" delay { until_date { if_past: CONTINUE } next: "done" } })pb"),
       Problem("send", "delay.until_date", "until_date has no date: set on (\"YYYY-MM-DD\") or path")},
      {"date without if_past",
       WithSend(R"pb(nodes { id: "send" delay { until_date { on: "2027-08-25" at { hour: 9 } }
         next: "done" } })pb"),
       Problem("send", "delay.until_date.if_past",
               "if_past is not set; say CONTINUE or EXIT for a time that has already passed")},
      {"date at minute 60",
       WithSend(R"pb(nodes { id: "send" delay { until_date { on: "2027-08-25" at { minute: 60 }
         if_past: CONTINUE } next: "done" } })pb"),
       Problem("send", "delay.until_date.at.minute", "minute 60 is not in 0..59")},
      {"schedule without a frequency",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { schedule { schedule { at { hour: 9 } } } next: "done" } }
         nodes { id: "done" exit {} })pb"),
       Problem("signed_up", "trigger.schedule.schedule.frequency",
               "frequency is not set; say ONCE, DAILY, WEEKLY or MONTHLY")},
      {"one-off schedule without a date",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { schedule { schedule { frequency: ONCE } } next: "done" } }
         nodes { id: "done" exit {} })pb"),
       Problem("signed_up", "trigger.schedule.schedule.start_date",
               "a ONCE schedule needs start_date, the date it runs on")},
      {"weekly schedule without weekdays",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { schedule { schedule { frequency: WEEKLY at { hour: 9 } } }
                 next: "done" } }
         nodes { id: "done" exit {} })pb"),
       Problem("signed_up", "trigger.schedule.schedule.at.weekdays",
               "a WEEKLY schedule needs the weekdays it runs on")},
      {"monthly schedule on day 32",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { schedule { schedule { frequency: MONTHLY day_of_month: 32 } }
                 next: "done" } }
         nodes { id: "done" exit {} })pb"),
       Problem("signed_up", "trigger.schedule.schedule.day_of_month",
               "day_of_month 32 is not in 1..31")},
      {"schedule that ends before it starts",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { schedule { schedule { frequency: DAILY
                 start_date: "2027-02-01" end_date: "2027-01-31" } } next: "done" } }
         nodes { id: "done" exit {} })pb"),
       Problem("signed_up", "trigger.schedule.schedule.end_date",
               "end_date is before start_date: the schedule never runs")},
      {"weekly schedule with no weekday between its dates",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { schedule { schedule { frequency: WEEKLY
                 start_date: "2027-02-01" end_date: "2027-02-03" at { weekdays: SUNDAY } } }
                 next: "done" } }
         nodes { id: "done" exit {} })pb"),
       Problem("signed_up", "trigger.schedule.schedule.end_date",
               "no occurrence falls between start_date and end_date: the schedule never runs")},
      {"scheduled audience reading the event",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { schedule { schedule { frequency: DAILY }
                 condition { compare { path: "event.plan" op: EXISTS } } } next: "done" } }
         nodes { id: "done" exit {} })pb"),
       Problem("signed_up", "trigger.schedule.condition",
               "event.plan: a scheduled entry has no event in hand; read profile.*, behavior.* or segment.*")},
      {"two schedule triggers",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { schedule { schedule { frequency: DAILY } } next: "done" } }
         nodes { id: "again" trigger { schedule { schedule { frequency: DAILY } } next: "done" } }
         nodes { id: "done" exit {} })pb"),
       Problem("again", "trigger.schedule",
               "a journey has one schedule trigger at most; node \"signed_up\" has one (put every occurrence in one schedule)")},
      {"send window that never opens",
       WithSettings(R"pb(settings { state: ACTIVE send_window { opens { hour: 9 } closes { hour: 9 } } })pb"),
       Problem("", "settings.send_window.closes",
               "the window closes when it opens, so it never opens; drop send_window to allow any time")},
      {"quiet hours that end when they start",
       WithSettings(R"pb(settings { state: ACTIVE quiet_hours { start { hour: 22 } end { hour: 22 } } })pb"),
       Problem("", "settings.quiet_hours[0].end",
               "the quiet hours end when they start, so they hold nothing back; drop them or give a different end")},
      {"quiet hours starting on a weekday twice",
       WithSettings(R"pb(settings { state: ACTIVE quiet_hours {
         start { hour: 22 } end { hour: 8 } weekdays: [ FRIDAY, FRIDAY ] } })pb"),
       Problem("", "settings.quiet_hours[0].weekdays[1]", "FRIDAY is listed twice")},
      {"quiet hours with weekdays on their start time",
       WithSettings(R"pb(settings { state: ACTIVE quiet_hours {
         start { hour: 22 weekdays: FRIDAY } end { hour: 8 } } })pb"),
       Problem("", "settings.quiet_hours[0].start.weekdays",
               "weekdays do not apply here")},
      {"entry limit below zero",
       WithSettings(R"pb(settings { state: ACTIVE entry_limits { per_day: -1 total: 10 } })pb"),
       Problem("", "settings.entry_limits.per_day", "per_day is -1; it must be 0 (no limit) or more")},
      {"entry limits that limit nothing",
       WithSettings(R"pb(settings { state: ACTIVE entry_limits { } })pb"),
       Problem("", "settings.entry_limits",
               "entry_limits sets no limit; set per_day, total or per_occurrence, or drop it")},
      {"entry limit per occurrence without a schedule",
       WithSettings(R"pb(settings { state: ACTIVE entry_limits { per_occurrence: 100 } })pb"),
       Problem("", "settings.entry_limits.per_occurrence",
               "per_occurrence counts entries per run of a schedule trigger, and this journey has none; use per_day or total")},
      {"rate limit of no messages",
       WithSettings(R"pb(settings { state: ACTIVE rate_limit { max_messages: 0 per { seconds: 1 } } })pb"),
       Problem("", "settings.rate_limit.max_messages", "max_messages is 0; it must be at least 1")},
      {"rate limit without an interval",
       WithSettings(R"pb(settings { state: ACTIVE rate_limit { max_messages: 10 } })pb"),
       Problem("", "settings.rate_limit.per", "rate limit interval is not set; it must be positive")},
      {"transactional action with over_cap",
       WithSend(R"pb(nodes { id: "send" action { channel: "sms" template_id: "code"
         transactional: true over_cap: DEFER next: "done" } })pb"),
       Problem("send", "action.over_cap", "a transactional action is never capped; drop over_cap")},
      {"action send window on a weekday twice",
       WithSend(R"pb(nodes { id: "send" action { channel: "push" template_id: "welcome"
         send_window { opens { hour: 9 } closes { hour: 18 } weekdays: [ MONDAY, MONDAY ] }
         next: "done" } })pb"),
       Problem("send", "action.send_window.weekdays[1]", "MONDAY is listed twice")},
      {"wait without timeout",
       WithSend(R"pb(nodes { id: "send" wait { branches { matcher { event: "visit" } next: "done" } } })pb"),
       Problem("send", "wait.timeout", "wait timeout is not set; it must be positive")},
      {"wait without branches",
       WithSend(R"pb(nodes { id: "send" wait { timeout { seconds: 60 } on_timeout: "done" } })pb"),
       Problem("send", "wait.branches", "wait has no branches; add at least one event to wait for")},
      {"goal without window",
       WithSend(R"pb(nodes { id: "send" goal { conversion { event: "payment" } on_converted: "done" } })pb"),
       Problem("send", "goal.window", "goal window is not set; it must be positive")},
      {"predicate comparing incompatible types",
       With(R"pb(settings { state: ACTIVE attributes { path: "profile.age" type: VALUE_TYPE_INT } })pb",
            R"pb(nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "adult" } }
                 nodes { id: "adult" filter {
                   predicate { compare { path: "profile.age" op: GE value { string_value: "18" } } }
                   on_true: "done" } }
                 nodes { id: "done" exit {} })pb"),
       Problem("adult", "filter.predicate.compare.value",
               "operator GE compares profile.age (int) with string \"18\": incompatible types")},
      {"predicate with unknown root",
       WithSend(R"pb(nodes { id: "send" filter {
         predicate { compare { path: "customer.tier" op: EXISTS } } on_true: "done" } })pb"),
       Problem("send", "filter.predicate.compare.path",
               "path \"customer.tier\" has unknown root \"customer\"; use profile., event., entry., behavior. or segment.")},
      {"trigger reading entry context",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { event { matcher { event: "signup"
           where { compare { path: "entry.plan" op: EXISTS } } } } next: "done" } }
         nodes { id: "done" exit {} })pb"),
       Problem("signed_up", "trigger.event.matcher.where.compare.path",
               "path \"entry.plan\" reads entry.*, which is empty in a trigger: the subject has not entered yet")},
      {"trigger leading nowhere",
       WithNodes(R"pb(nodes { id: "signed_up" trigger { audience { } } })pb"),
       Problem("signed_up", "trigger.next", "trigger leads nowhere: set next")},
      {"sequence of one step",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { sequence { steps { event: "a" } within { seconds: 60 } } next: "done" } }
         nodes { id: "done" exit {} })pb"),
       Problem("signed_up", "trigger.sequence.steps",
               "a sequence needs at least 2 steps, has 1; use an event trigger for one")},
      {"sequence absent without window",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { sequence { steps { event: "a" } steps { event: "b" }
           within { seconds: 60 } absent { event: "c" } } next: "done" } }
         nodes { id: "done" exit {} })pb"),
       Problem("signed_up", "trigger.sequence.absent_within",
               "absent_within is not set; it must be positive")},
      {"filter leading nowhere",
       WithNodes(R"pb(
         nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "send" } }
         nodes { id: "send" filter { predicate { all { } } } })pb"),
       Problem("send", "filter",
               "filter has neither on_true nor on_false: every enrollment would exit here; use an exit node instead")},
      {"same_key without an instance key",
       WithSend(R"pb(nodes { id: "send" wait { branches { matcher { event: "visit" same_key: true }
         next: "done" } timeout { seconds: 60 } } })pb"),
       Problem("send", "wait.branches[0].matcher.same_key", "same_key needs settings.instance_key")},
      {"same_key in a trigger",
       With(R"pb(settings { state: ACTIVE instance_key: "order_id" })pb",
            R"pb(nodes { id: "signed_up" trigger { event { matcher { event: "signup" same_key: true } }
                   next: "done" } }
                 nodes { id: "done" exit {} })pb"),
       Problem("signed_up", "trigger.event.matcher.same_key",
               "same_key is not allowed in a trigger: there is no entry yet")},
      {"update writing a dotted attribute",
       WithSend(R"pb(nodes { id: "send" update { assignments { attribute: "profile.vip"
         value { literal { bool_value: true } } } next: "done" } })pb"),
       Problem("send", "update.assignments[0].attribute",
               "attribute \"profile.vip\" contains '.'; write the bare profile attribute name")},
  };
}

TEST_CASE("The base journey of the catalogue is valid") {
  const v1::Journey j = TextJourney(WithNodes(kNodes));
  std::vector<JourneyProblem> problems = ValidateJourney(j);
  INFO(ProblemsToString(problems));
  CHECK(problems.empty());
}

TEST_CASE("Catalogue: each invalid journey reports exactly its problem") {
  const std::vector<Case> cases = Catalogue();
  REQUIRE(cases.size() >= 20);
  for (const Case& c : cases) {
    SECTION(c.name) {
      const v1::Journey journey = TextJourney(c.journey);
      std::vector<JourneyProblem> problems = ValidateJourney(journey);
      INFO(ProblemsToString(problems));
      REQUIRE(problems.size() == 1);
      CHECK(problems[0].journey_id == c.expected.journey_id);
      CHECK(problems[0].node_id == c.expected.node_id);
      CHECK(problems[0].field == c.expected.field);
      CHECK(problems[0].message == c.expected.message);
      // Compile refuses it with the same text.
      absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled = Compile(journey);
      REQUIRE_FALSE(compiled.ok());
      CHECK(compiled.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK_THAT(std::string(compiled.status().message()),
                 Catch::Contains(problems[0].ToString()));
    }
  }
}

// A journey nested 98 deep used to compile and deploy, and then could not
// be decoded from its own Kafka deploy record or checkpoint.
TEST_CASE("Predicates nest at most kMaxPredicateDepth levels") {
  using testing::Nesting;
  for (Nesting nesting : {Nesting::kAll, Nesting::kNot}) {
    INFO((nesting == Nesting::kAll ? "all" : "not"));
    const v1::Journey at_limit = TextJourney(testing::DeepJourneyText(kMaxPredicateDepth, nesting));
    CHECK(ValidateJourney(at_limit).empty());
    CHECK_THAT(StatusOf(Compile(at_limit)), IsOk());

    const v1::Journey over = TextJourney(testing::DeepJourneyText(kMaxPredicateDepth + 1, nesting));
    const std::vector<JourneyProblem> problems = ValidateJourney(over);
    INFO(ProblemsToString(problems));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].journey_id == "deep");
    CHECK(problems[0].node_id == testing::kDeepNode);
    CHECK(problems[0].field == testing::kDeepField);
    CHECK(problems[0].message ==
          absl::StrCat("predicate nests more than ", kMaxPredicateDepth,
                       " levels deep (each all, any and not is a level); flatten it"));
    absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled = Compile(over);
    REQUIRE_FALSE(compiled.ok());
    CHECK_THAT(std::string(compiled.status().message()),
               Catch::Contains(problems[0].ToString()));
  }
  // Built in memory, a predicate can nest deeper than any loader accepts;
  // the compiler measures it without recursing and stops at the bound.
  const std::vector<JourneyProblem> problems =
      ValidateJourney(testing::DeepJourneyInMemory(1000));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].field == testing::kDeepField);
}

TEST_CASE("A journey has at most kMaxJourneyNodes nodes") {
  // A trigger, then a chain of filters, the last node an exit.
  const auto chain = [](int nodes) {
    v1::Journey j = TextJourney(R"pb(
      id: "long" version: 1 settings { state: ACTIVE }
      nodes { id: "n0" trigger { event { matcher { event: "go" } } next: "n1" } })pb");
    for (int i = 1; i < nodes - 1; ++i) {
      v1::Node* n = j.add_nodes();
      n->set_id(absl::StrCat("n", i));
      n->mutable_filter()->mutable_predicate()->mutable_compare()->set_path("profile.x");
      n->mutable_filter()->mutable_predicate()->mutable_compare()->set_op(v1::EXISTS);
      n->mutable_filter()->set_on_true(absl::StrCat("n", i + 1));
      n->mutable_filter()->set_on_false(absl::StrCat("n", nodes - 1));
    }
    v1::Node* last = j.add_nodes();
    last->set_id(absl::StrCat("n", nodes - 1));
    last->mutable_exit()->set_reason("end");
    return j;
  };
  CHECK_THAT(StatusOf(Compile(chain(internal::kMaxJourneyNodes))), IsOk());
  const std::vector<JourneyProblem> problems = ValidateJourney(chain(internal::kMaxJourneyNodes + 1));
  INFO(ProblemsToString(problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].field == "nodes");
  CHECK(problems[0].message == "a journey may have at most 32767 nodes; this one has 32768");
}

TEST_CASE("A journey with several problems reports all of them, in order") {
  const v1::Journey j = TextJourney(R"pb(
    id: "cart"
    version: 2
    settings { state: ACTIVE default_time_zone: "Nowhere/City" }
    nodes { id: "carted" trigger { event { matcher { event: "add_to_cart" } } next: "split" } }
    nodes { id: "split" split {
      variants { name: "push" weight: 90 next: "push" }
      variants { name: "control" weight: 0 control: true next: "goal" } } }
    nodes { id: "push" action { template_id: "drop" next: "goal" } }
    nodes { id: "goal" goal { conversion { event: "payment" } on_converted: "paid" } }
    nodes { id: "paid" exit {} }
    nodes { id: "paid" exit {} }
    nodes { id: "lost" exit {} }
  )pb");
  std::vector<JourneyProblem> problems = ValidateJourney(j);
  INFO(ProblemsToString(problems));
  REQUIRE(problems.size() == 6);
  CHECK(problems[0].field == "settings.default_time_zone");
  CHECK((problems[1].node_id == "paid" && problems[1].field == "id"));
  CHECK(problems[1].message == "node id \"paid\" is used by node #4 and node #5");
  CHECK((problems[2].node_id == "split" && problems[2].field == "split.variants[1].weight"));
  CHECK((problems[3].node_id == "push" && problems[3].field == "action.channel"));
  CHECK((problems[4].node_id == "goal" && problems[4].field == "goal.window"));
  CHECK((problems[5].node_id == "lost" && problems[5].field == "id"));
  for (const JourneyProblem& p : problems) CHECK(p.journey_id == "cart");

  absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled = Compile(j);
  REQUIRE_FALSE(compiled.ok());
  const std::string message(compiled.status().message());
  CHECK_THAT(message, Catch::StartsWith("journey cart has 6 problems:\n  journey cart, field "
                                        "settings.default_time_zone: unknown time zone"));
  for (const JourneyProblem& p : problems) CHECK_THAT(message, Catch::Contains(p.ToString()));
}

TEST_CASE("An edge typo names the nodes it leaves unreachable instead of a problem each") {
  // signed_up -> "sedn" (meant: send) -> done: send and done are unreachable
  // only because of the typo.
  const v1::Journey journey = testing::TextJourney(With(kSettings, R"pb(
    nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "sedn" } }
    nodes { id: "send" action { channel: "push" template_id: "t" next: "done" } }
    nodes { id: "done" exit {} })pb"));
  const std::vector<JourneyProblem> problems = ValidateJourney(journey);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0] ==
        Problem("signed_up", "trigger.next",
                "edge leads to unknown node \"sedn\"; did you mean \"send\"? (2 nodes unreachable "
                "because of this: send, done)"));
}

TEST_CASE("Two edge typos each name the nodes their own target leads to") {
  const v1::Journey journey = testing::TextJourney(With(kSettings, R"pb(
    nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "pick" } }
    nodes { id: "pick" split {
      variants { name: "a" weight: 1 next: "push_a" }
      variants { name: "b" weight: 1 next: "mail_bb" } } }
    nodes { id: "push" action { channel: "push" template_id: "t" next: "done_a" } }
    nodes { id: "mail_b" action { channel: "mail" template_id: "t" next: "done_b" } }
    nodes { id: "done_a" exit {} }
    nodes { id: "done_b" exit {} })pb"));
  const std::vector<JourneyProblem> problems = ValidateJourney(journey);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].message ==
        "edge leads to unknown node \"push_a\"; did you mean \"push\"? (2 nodes unreachable "
        "because of this: push, done_a)");
  CHECK(problems[1].message ==
        "edge leads to unknown node \"mail_bb\"; did you mean \"mail_b\"? (2 nodes unreachable "
        "because of this: mail_b, done_b)");
}

TEST_CASE("Unreachable nodes with no edge typo each have their problem") {
  const v1::Journey journey = testing::TextJourney(With(kSettings, R"pb(
    nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "done" } }
    nodes { id: "lost" action { channel: "push" template_id: "t" next: "done" } }
    nodes { id: "also_lost" exit {} }
    nodes { id: "done" exit {} })pb"));
  const std::vector<JourneyProblem> problems = ValidateJourney(journey);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].node_id == "lost");
  CHECK(problems[1].node_id == "also_lost");
}

TEST_CASE("JourneyProblem::ToString names journey, node and field") {
  CHECK(JourneyProblem{"j", "n", "f", "m"}.ToString() == "journey j, node n, field f: m");
  CHECK(JourneyProblem{"j", "", "f", "m"}.ToString() == "journey j, field f: m");
  CHECK(JourneyProblem{"", "", "id", "m"}.ToString() == "journey \"\", field id: m");
}

TEST_CASE("A blocking node makes a loop legal") {
  // A reminder every day until the user pays: the delay breaks the cycle.
  const v1::Journey j = TextJourney(WithNodes(R"pb(
    nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "remind" } }
    nodes { id: "remind" action { channel: "push" template_id: "t" next: "paid" } }
    nodes { id: "paid" goal { conversion { event: "payment" } window { seconds: 86400 }
            on_converted: "done" on_expired: "remind" } }
    nodes { id: "done" exit {} })pb"));
  std::vector<JourneyProblem> problems = ValidateJourney(j);
  INFO(ProblemsToString(problems));
  CHECK(problems.empty());
}

// Issue 15, defect 5: each cycle was reported with its whole path, so a
// chain of filters that each lead back to the first (5,000 back edges)
// produced 108 MB of problem text, quadratic in the journey. Each back edge
// is still reported at its node and field, but a long cycle lists its first
// and last nodes only. The bound: under 2 MB for these 5,000 problems (each
// under 400 bytes: about 180 of fixed wording, the ids of eight nodes and
// the count of those left out), linear in the number of back edges.
TEST_CASE("A journey with 5000 back edges gives problem text linear in its size") {
  constexpr int kFilters = 5000;
  std::string text = R"pb(id: "loops" version: 1 settings { state: ACTIVE }
    nodes { id: "t" trigger { event { matcher { event: "signup" } } next: "f0" } }
    nodes { id: "done" exit {} })pb";
  for (int i = 0; i < kFilters; ++i) {
    // On true, on along the chain; on false, back to its start.
    absl::StrAppend(&text, "\nnodes { id: \"f", i, "\" filter { predicate { compare { ",
                    "path: \"profile.vip\" op: EXISTS } } on_true: \"",
                    i + 1 == kFilters ? "done" : absl::StrCat("f", i + 1),
                    "\" on_false: \"f0\" } }");
  }
  const std::vector<JourneyProblem> problems = ValidateJourney(TextJourney(text));
  REQUIRE(problems.size() == kFilters);
  // Each filter's message by its id: one problem at each back edge.
  absl::flat_hash_map<std::string, std::string> message;
  size_t bytes = 0;
  for (const JourneyProblem& p : problems) {
    INFO(p.ToString());
    CHECK(p.field == "filter.on_false");
    CHECK(message.emplace(p.node_id, p.message).second);
    CHECK(p.ToString().size() < 400);
    bytes += p.ToString().size();
  }
  CHECK(bytes < 2'000'000);
  constexpr char kWhy[] =
      " has no blocking node (delay, wait, goal or an action awaiting delivery): an "
      "enrollment would loop without time passing";
  // Up to eight nodes are listed in full, as in small journeys.
  CHECK(message["f0"] == absl::StrCat("cycle f0 -> f0", kWhy));
  CHECK(message["f7"] ==
        absl::StrCat("cycle f0 -> f1 -> f2 -> f3 -> f4 -> f5 -> f6 -> f7 -> f0", kWhy));
  CHECK(message["f8"] ==
        absl::StrCat("cycle f0 -> f1 -> f2 -> f3 -> ... 2 more nodes ... -> f6 -> f7 -> f8 "
                     "-> f0",
                     kWhy));
  CHECK(message["f4999"] ==
        absl::StrCat("cycle f0 -> f1 -> f2 -> f3 -> ... 4993 more nodes ... -> f4997 -> "
                     "f4998 -> f4999 -> f0",
                     kWhy));

  // Compile() joins the same problems into its error.
  const absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled =
      Compile(TextJourney(text));
  REQUIRE_FALSE(compiled.ok());
  CHECK(compiled.status().message().size() < 2'000'000);
}

TEST_CASE("The compiled graph lists every entry property the journey reads") {
  const v1::Journey journey = TextJourney(R"pb(
    id: "reads" version: 1
    settings { state: ACTIVE instance_key: "order"
               exit_on { event: "refund" where { compare { path: "entry.store" op: EXISTS } } }
               goals { name: "paid" conversion { event: "pay"
                       where { compare { path: "event.total" op: GE other_path: "entry.total" } } }
                       window { seconds: 3600 } } }
    nodes { id: "buy" trigger { event { matcher { event: "buy" } } next: "check" } }
    nodes { id: "check" filter { predicate { compare { path: "entry.vip" op: EXISTS } }
                                 on_true: "remind" on_false: "" } }
    nodes { id: "remind" delay { relative { path: "entry.due" offset { seconds: -60 } if_past: CONTINUE }
                                 next: "note" } }
    nodes { id: "note" update { assignments { attribute: "last_order"
                                              value { path: "entry.order_id" } }
                                next: "push" } }
    nodes { id: "push" action { channel: "push" template_id: "t"
            params { key: "a" value: "Hi {{entry.name}}, {{profile.first_name}}" } } }
  )pb");
  absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled = Compile(journey);
  REQUIRE_THAT(StatusOf(compiled), IsOk());
  // Sorted and unique; profile.* and event.* paths are not entry reads.
  CHECK((*compiled)->graph().entry_keys ==
        std::vector<std::string>{"due", "name", "order", "order_id", "store", "total", "vip"});
}

TEST_CASE("Compiled form: dense indices, resolved edges, interned names") {
  absl::StatusOr<v1::Journey> def = LoadJourneyFile(
      CAIRN_SOURCE_DIR "/examples/cart_abandonment/journey.textproto");
  REQUIRE_THAT(StatusOf(def), IsOk());
  absl::StatusOr<std::shared_ptr<const CompiledJourney>> compiled = Compile(*def);
  REQUIRE_THAT(StatusOf(compiled), IsOk());
  const CompiledJourney& j = **compiled;

  CHECK(j.id() == "cart_abandonment");
  CHECK(j.version() == 1);
  REQUIRE(j.node_count() == 6);
  CHECK(j.node_id(0) == "viewed_and_carted");
  CHECK(j.node_kind(0) == NodeKind::kTrigger);
  CHECK(j.node_kind(1) == NodeKind::kSplit);
  CHECK(j.FindNode("paid_within_12h") == 3);
  CHECK(j.FindNode("nope") == -1);
  CHECK(std::vector<int>(j.triggers().begin(), j.triggers().end()) == std::vector<int>{0});
  CHECK(std::vector<std::string>(j.event_names().begin(), j.event_names().end()) ==
        std::vector<std::string>{"add_to_cart", "payment", "product_view"});
  CHECK(j.FindEvent("payment") == 1);
  CHECK(j.FindEvent("login") == -1);
  CHECK(std::vector<std::string>(j.channels().begin(), j.channels().end()) ==
        std::vector<std::string>{"push"});

  const internal::JourneyGraph& g = j.graph();
  // Trigger: sequence steps interned in order, absent event, windows.
  const internal::GraphNode& trigger = g.nodes[0];
  REQUIRE(trigger.matchers.size() == 2);
  CHECK(trigger.matchers[0].event == j.FindEvent("product_view"));
  CHECK(trigger.matchers[1].event == j.FindEvent("add_to_cart"));
  REQUIRE(trigger.absent.has_value());
  CHECK(trigger.absent->event == j.FindEvent("payment"));
  CHECK(trigger.duration == absl::Hours(24));
  CHECK(trigger.absent_within == absl::Hours(24));
  REQUIRE(trigger.edges.size() == 1);
  CHECK(trigger.edges[0].target == 1);
  // Split: cumulative weights and labelled edges.
  const internal::GraphNode& split = g.nodes[1];
  CHECK(split.cumulative_weights == std::vector<int64_t>{90, 100});
  REQUIRE(split.edges.size() == 2);
  CHECK(split.edges[0].label == "price_drop");
  CHECK(split.edges[0].target == 2);
  CHECK(split.edges[1].field == "split.variants[1].next");
  CHECK(split.edges[1].target == 3);
  // Action and goal.
  CHECK(g.nodes[2].channel == 0);
  CHECK_FALSE(g.nodes[2].blocking);
  CHECK(g.nodes[3].blocking);
  CHECK(g.nodes[3].duration == absl::Hours(12));
  CHECK(g.nodes[3].edges[0].label == "converted");
  CHECK(g.nodes[3].edges[0].target == 4);
  CHECK(g.nodes[5].edges.empty());
  CHECK(g.default_time_zone.name() == "Asia/Shanghai");
}

TEST_CASE("Every bundled example compiles") {
  for (const char* path : {
           CAIRN_SOURCE_DIR "/examples/cart_abandonment/journey.textproto",
           CAIRN_SOURCE_DIR "/examples/repurchase_fallback/journey.textproto",
           CAIRN_SOURCE_DIR "/examples/game_day1_retention/journey.textproto",
           CAIRN_SOURCE_DIR "/examples/test_drive/journey.textproto"}) {
    INFO(path);
    absl::StatusOr<v1::Journey> def = LoadJourneyFile(path);
    REQUIRE_THAT(StatusOf(def), IsOk());
    std::vector<JourneyProblem> problems = ValidateJourney(*def);
    INFO(ProblemsToString(problems));
    CHECK(problems.empty());
    CHECK(Compile(*def).ok());
  }
}

TEST_CASE("An action awaiting delivery counts as blocking") {
  absl::StatusOr<v1::Journey> def = LoadJourneyFile(
      CAIRN_SOURCE_DIR "/examples/repurchase_fallback/journey.textproto");
  REQUIRE_THAT(StatusOf(def), IsOk());
  auto compiled = Compile(*def);
  REQUIRE_THAT(StatusOf(compiled), IsOk());
  const CompiledJourney& j = **compiled;
  const internal::GraphNode& push = j.graph().nodes[j.FindNode("coupon_push")];
  CHECK(push.blocking);
  CHECK(push.duration == absl::Minutes(10));
  REQUIRE(push.edges.size() == 2);
  CHECK(push.edges[1].label == "on_failure");
  CHECK(push.edges[1].target == j.FindNode("coupon_sms"));
  CHECK_FALSE(j.graph().nodes[j.FindNode("coupon_sms")].blocking);
  REQUIRE(j.graph().goals.size() == 1);
  CHECK(j.graph().goals[0].window == absl::Hours(72));
}

}  // namespace
}  // namespace cairn
