// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Journeys shared by tests. Two small ones: welcome (an event, a delay, a
// push) and promo (an audience enrollment, a mail awaiting its delivery
// report, an SMS fallback). And kStatefulJourneys, for the tests that need
// everything the engine keeps state for (snapshots, sharding, fuzzing): a
// sequence trigger with an absence window, a split, an action with a
// fallback, a goal, an update and a journey goal (cart); an audience
// trigger, a local-time delay, an awaited delivery with a fallback and a
// wait (promo); a keyed journey with a same-key wait (orders). They use the
// channels push, sms and email.

#ifndef CAIRN_TESTS_TESTING_JOURNEYS_H_
#define CAIRN_TESTS_TESTING_JOURNEYS_H_

namespace cairn::testing {

// An event starts an hour's delay, then a push that greets the subject by
// profile.name.
inline constexpr char kWelcomeJourney[] = R"pb(
  id: "welcome" version: 1
  settings { state: ACTIVE }
  nodes { id: "signed_up" trigger { event { matcher { event: "signup" } } next: "wait_1h" } }
  nodes { id: "wait_1h" delay { duration { seconds: 3600 } next: "hello" } }
  nodes { id: "hello" action { channel: "push" template_id: "welcome"
          params { key: "name" value: "{{profile.name}}" } } }
)pb";

// An audience enrollment sends a mail that awaits its delivery report
// (ten minutes); a failed delivery sends an SMS.
inline constexpr char kPromoJourney[] = R"pb(
  id: "promo" version: 1
  settings { state: ACTIVE }
  nodes { id: "segment" trigger { audience { audience: "vip" } next: "mail" } }
  nodes { id: "mail" action { channel: "email" template_id: "promo"
          params { key: "code" value: "{{entry.code}}" }
          await_delivery { timeout { seconds: 600 } } next: "done" on_failure: "retry" } }
  nodes { id: "retry" action { channel: "sms" template_id: "promo_sms" next: "done" } }
  nodes { id: "done" exit { reason: "done" } }
)pb";

inline constexpr const char* kStatefulJourneys[] = {
    R"pb(id: "cart" version: 1
      settings { state: ACTIVE split_seed: 3 reentry { mode: AFTER_EXIT cooldown { seconds: 3600 } }
                 exit_on { event: "refund" } goals { name: "paid_2d" conversion { event: "pay" }
                 window { seconds: 172800 } } }
      nodes { id: "t" trigger { sequence { steps { event: "view" } steps { event: "cart" }
              within { seconds: 7200 } absent { event: "pay" } absent_within { seconds: 1800 } }
              next: "split" } }
      nodes { id: "split" split { variants { name: "push" weight: 70 next: "push" }
              variants { name: "control" weight: 30 control: true next: "goal" } } }
      nodes { id: "push" action { channel: "push" template_id: "p"
              params { key: "sku" value: "{{entry.sku}}" } next: "goal" on_failure: "sms" } }
      nodes { id: "sms" action { channel: "sms" template_id: "s" next: "goal" } }
      nodes { id: "goal" goal { conversion { event: "pay" } window { seconds: 43200 }
              on_converted: "tag" on_expired: "" } }
      nodes { id: "tag" update { add_tags: "recovered" next: "" } })pb",
    R"pb(id: "promo" version: 1
      settings { state: ACTIVE reentry { mode: CONCURRENT max_concurrent: 2 } }
      nodes { id: "aud" trigger { audience {} next: "morning" } }
      nodes { id: "morning" delay { until_time_of_day { hour: 9 } next: "mail" } }
      nodes { id: "mail" action { channel: "email" template_id: "m"
              await_delivery { timeout { seconds: 1800 } } next: "visit" on_failure: "sms" } }
      nodes { id: "sms" action { channel: "sms" template_id: "m2" next: "visit" } }
      nodes { id: "visit" wait { branches { name: "came" matcher { event: "visit" } next: "" }
              timeout { seconds: 86400 } on_timeout: "" } })pb",
    R"pb(id: "orders" version: 1
      settings { state: ACTIVE instance_key: "order" reentry { mode: NEVER } }
      nodes { id: "t" trigger { event { matcher { event: "buy" } } next: "ship" } }
      nodes { id: "ship" wait { branches { matcher { event: "shipped" same_key: true } next: "" }
              timeout { seconds: 20000 } on_timeout: "late" } }
      nodes { id: "late" action { channel: "sms" template_id: "late" } })pb",
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_TESTING_JOURNEYS_H_
