// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Predicates: compile-time checks (every problem, with its field) and
// run-time semantics (missing paths, mixed numbers, lists, path-vs-path).

#include "predicate/predicate.h"

#include <cmath>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "google/protobuf/text_format.h"
#include "testing/test_util.h"

namespace cairn::internal {
namespace {

v1::Predicate P(const std::string& text) {
  v1::Predicate p;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, &p));
  return p;
}

// Test bindings: "root.key" -> value.
class FakeBindings : public Bindings {
 public:
  FakeBindings& Set(const std::string& path, Value v) {
    values_[path] = std::move(v);
    return *this;
  }
  FakeBindings& SetNow(absl::Time now) {
    now_ = now;
    return *this;
  }
  const Value* Find(PathRoot root, absl::string_view key, Value* /*scratch*/) const override {
    auto it = values_.find(absl::StrCat(PathRootName(root), ".", key));
    return it == values_.end() ? nullptr : &it->second;
  }
  std::optional<absl::Time> Now() const override { return now_; }

 private:
  std::map<std::string, Value> values_;
  std::optional<absl::Time> now_;
};

struct Compiled {
  CompiledPredicate predicate;
  std::vector<JourneyProblem> problems;
};

Compiled CompileP(const std::string& text, PredicateScope scope = {},
                  const TypeDeclarations* decls = nullptr) {
  ProblemList problems("j");
  scope.declarations = decls;
  Compiled out;
  out.predicate = CompiledPredicate::Compile(P(text), scope,
                                             FieldScope(&problems, "n", "p"));
  out.problems = std::move(problems).Take();
  return out;
}

bool Eval(const std::string& text, const FakeBindings& b) {
  Compiled c = CompileP(text);
  INFO(cairn::testing::ProblemsToString(c.problems));
  REQUIRE(c.problems.empty());
  return c.predicate.Evaluate(b);
}

TEST_CASE("ParsePath accepts the five roots and rejects the rest") {
  std::string error;
  auto p = ParsePath("entry.order_id", &error);
  REQUIRE(p);
  CHECK(p->root == PathRoot::kEntry);
  CHECK(p->key == "order_id");
  CHECK(ParsePath("behavior.shares_30d", &error)->root == PathRoot::kBehavior);
  CHECK(ParsePath("segment.lapsed_whales", &error)->root == PathRoot::kSegment);
  CHECK(ParsePath("profile.address.city", &error)->key == "address.city");
  CHECK_FALSE(ParsePath("user.age", &error));
  CHECK(error == "path \"user.age\" has unknown root \"user\"; use profile., event., entry., behavior. or segment.");
  CHECK_FALSE(ParsePath("profile.", &error));
  CHECK(error == "path \"profile.\" names no attribute after \"profile.\"");
  CHECK_FALSE(ParsePath("event", &error));
  CHECK_FALSE(ParsePath("", &error));
}

TEST_CASE("Comparisons on present values") {
  FakeBindings b;
  b.Set("profile.tier", Value::String("gold"))
      .Set("profile.age", Value::Int(30))
      .Set("profile.score", Value::Double(7.5))
      .Set("profile.tags", Value::StringList({"vip", "beta"}))
      .Set("profile.joined", Value::Timestamp(absl::FromUnixSeconds(1000)));
  CHECK(Eval(R"(compare { path: "profile.tier" op: EQ value { string_value: "gold" } })", b));
  CHECK_FALSE(Eval(R"(compare { path: "profile.tier" op: NE value { string_value: "gold" } })", b));
  CHECK(Eval(R"(compare { path: "profile.age" op: GE value { int_value: 30 } })", b));
  CHECK_FALSE(Eval(R"(compare { path: "profile.age" op: GT value { int_value: 30 } })", b));
  // Numbers compare across int and double.
  CHECK(Eval(R"(compare { path: "profile.age" op: EQ value { double_value: 30.0 } })", b));
  CHECK(Eval(R"(compare { path: "profile.score" op: LT value { int_value: 8 } })", b));
  CHECK(Eval(R"(compare { path: "profile.tier" op: IN value { string_list_value { values: "silver" values: "gold" } } })", b));
  CHECK_FALSE(Eval(R"(compare { path: "profile.tier" op: IN value { string_list_value { values: "silver" } } })", b));
  CHECK(Eval(R"(compare { path: "profile.tier" op: CONTAINS value { string_value: "ol" } })", b));
  CHECK(Eval(R"(compare { path: "profile.tags" op: CONTAINS value { string_value: "vip" } })", b));
  CHECK_FALSE(Eval(R"(compare { path: "profile.tags" op: CONTAINS value { string_value: "vi" } })", b));
  CHECK(Eval(R"(compare { path: "profile.tier" op: PREFIX value { string_value: "go" } })", b));
  CHECK(Eval(R"(compare { path: "profile.joined" op: LT value { timestamp_value { seconds: 2000 } } })", b));
  CHECK(Eval(R"(compare { path: "profile.tier" op: EXISTS })", b));
  CHECK(Eval(R"(compare { path: "profile.tier" op: LT value { string_value: "silver" } })", b));
}

TEST_CASE("A missing path makes every comparison false, NE included") {
  FakeBindings b;
  CHECK_FALSE(Eval(R"(compare { path: "profile.tier" op: EQ value { string_value: "x" } })", b));
  CHECK_FALSE(Eval(R"(compare { path: "profile.tier" op: NE value { string_value: "x" } })", b));
  CHECK_FALSE(Eval(R"(compare { path: "profile.tier" op: EXISTS })", b));
  CHECK(Eval(R"(not { compare { path: "profile.tier" op: EXISTS } })", b));
  b.Set("event.order_id", Value::String("o1"));
  CHECK_FALSE(Eval(R"(compare { path: "event.order_id" op: EQ other_path: "entry.order_id" })", b));
}

TEST_CASE("Path against path: event.order_id == entry.order_id") {
  FakeBindings b;
  b.Set("event.order_id", Value::String("o1")).Set("entry.order_id", Value::String("o1"));
  const std::string same = R"(compare { path: "event.order_id" op: EQ other_path: "entry.order_id" })";
  CHECK(Eval(same, b));
  b.Set("entry.order_id", Value::String("o2"));
  CHECK_FALSE(Eval(same, b));
}

TEST_CASE("Undeclared values of the wrong type compare false at run time") {
  FakeBindings b;
  b.Set("profile.age", Value::String("thirty"));
  CHECK_FALSE(Eval(R"(compare { path: "profile.age" op: GT value { int_value: 18 } })", b));
  CHECK_FALSE(Eval(R"(compare { path: "profile.age" op: EQ value { int_value: 18 } })", b));
  CHECK_FALSE(Eval(R"(compare { path: "profile.age" op: NE value { int_value: 18 } })", b));
  b.Set("profile.flag", Value::Bool(false)).Set("profile.other", Value::Bool(true));
  CHECK_FALSE(Eval(R"(compare { path: "profile.flag" op: LT other_path: "profile.other" })", b));
  b.Set("profile.other", Value::StringList({"a"}));
  CHECK_FALSE(Eval(R"(compare { path: "profile.age" op: IN other_path: "profile.flag" })", b));
  CHECK_FALSE(Eval(R"(compare { path: "profile.flag" op: CONTAINS value { string_value: "a" } })", b));
  CHECK_FALSE(Eval(R"(compare { path: "profile.flag" op: PREFIX value { string_value: "a" } })", b));
  b.Set("profile.x", Value::Double(std::nan("")));
  CHECK_FALSE(Eval(R"(compare { path: "profile.x" op: LT value { int_value: 1 } })", b));
  CHECK_FALSE(Eval(R"(compare { path: "profile.x" op: EQ value { int_value: 1 } })", b));
}

TEST_CASE("all, any and not") {
  FakeBindings b;
  b.Set("profile.a", Value::Int(1));
  const std::string t = R"(compare { path: "profile.a" op: EQ value { int_value: 1 } })";
  const std::string f = R"(compare { path: "profile.a" op: EQ value { int_value: 2 } })";
  CHECK(Eval("all { }", b));
  CHECK_FALSE(Eval("any { }", b));
  CHECK(Eval("all { predicates { " + t + " } predicates { " + t + " } }", b));
  CHECK_FALSE(Eval("all { predicates { " + t + " } predicates { " + f + " } }", b));
  CHECK(Eval("any { predicates { " + f + " } predicates { " + t + " } }", b));
  CHECK(Eval("not { " + f + " }", b));
  CHECK(Eval("not { not { " + t + " } }", b));
  CHECK(CompiledPredicate().always_true());
  CHECK(CompiledPredicate().Evaluate(b));
}

TEST_CASE("Built-in event fields are typed") {
  Compiled c = CompileP(R"(compare { path: "event.time" op: EQ value { string_value: "x" } })");
  REQUIRE(c.problems.size() == 1);
  CHECK(c.problems[0].field == "p.compare.value");
  CHECK(c.problems[0].message ==
        "operator EQ compares event.time (timestamp) with string \"x\": incompatible types");
}

TEST_CASE("Declared types are checked on both sides") {
  TypeDeclarations decls = {{"profile.age", Value::Type::kInt},
                            {"profile.tags", Value::Type::kStringList},
                            {"entry.order_id", Value::Type::kString}};
  auto problems = [&](const std::string& text) {
    return CompileP(text, {}, &decls).problems;
  };
  CHECK(problems(R"(compare { path: "profile.age" op: LT value { double_value: 3.5 } })").empty());
  auto p = problems(R"(compare { path: "profile.tags" op: LT value { int_value: 3 } })");
  REQUIRE(p.size() == 1);
  CHECK(p[0].field == "p.compare.path");
  CHECK(p[0].message == "operator LT does not apply to profile.tags (string_list); it needs a string, a number or a timestamp");
  p = problems(R"(compare { path: "profile.age" op: EQ other_path: "entry.order_id" })");
  REQUIRE(p.size() == 1);
  CHECK(p[0].field == "p.compare.other_path");
  CHECK(p[0].message == "operator EQ compares profile.age (int) with entry.order_id (string): incompatible types");
  p = problems(R"(compare { path: "profile.age" op: PREFIX value { string_value: "1" } })");
  REQUIRE(p.size() == 1);
  CHECK(p[0].message == "operator PREFIX does not apply to profile.age (int); it needs a string");
}

TEST_CASE("Every problem in a predicate is reported with its field") {
  Compiled c = CompileP(R"(
    all {
      predicates { compare { path: "user.age" op: EQ value { int_value: 1 } } }
      predicates { compare { path: "profile.tier" } }
      predicates { compare { path: "profile.tier" op: IN value { string_value: "gold" } } }
      predicates { not { } }
      predicates { compare { path: "profile.tier" op: EXISTS value { int_value: 1 } } }
      predicates { compare { path: "profile.tier" op: GT } }
      predicates { compare { path: "profile.tier" op: EQ value { } } }
    })");
  INFO(cairn::testing::ProblemsToString(c.problems));
  REQUIRE(c.problems.size() == 7);
  CHECK(c.problems[0].field == "p.all.predicates[0].compare.path");
  CHECK(c.problems[1].field == "p.all.predicates[1].compare.op");
  CHECK(c.problems[2].field == "p.all.predicates[2].compare.value");
  CHECK(c.problems[2].message == "operator IN needs a string_list on the right, not string \"gold\"");
  CHECK(c.problems[3].field == "p.all.predicates[3].not");
  CHECK(c.problems[3].message == "predicate is empty: set compare, all, any or not");
  CHECK(c.problems[4].field == "p.all.predicates[4].compare");
  CHECK(c.problems[4].message == "EXISTS takes no right-hand side; remove value / other_path");
  CHECK(c.problems[5].field == "p.all.predicates[5].compare");
  CHECK(c.problems[5].message == "operator GT needs a right-hand side: set value, other_path or now_minus");
  CHECK(c.problems[6].field == "p.all.predicates[6].compare.value");
  for (const auto& p : c.problems) CHECK(p.node_id == "n");
}

TEST_CASE("entry.* is refused where the subject has not entered") {
  PredicateScope trigger;
  trigger.allow_entry = false;
  Compiled c = CompileP(R"(compare { path: "event.id" op: EQ other_path: "entry.id" })", trigger);
  REQUIRE(c.problems.size() == 1);
  CHECK(c.problems[0].field == "p.compare.other_path");
  CHECK_THAT(c.problems[0].message, Catch::Contains("entry.*, which is empty in a trigger"));
}

TEST_CASE("Paths lists what a predicate reads") {
  Compiled c = CompileP(R"(any { predicates { compare { path: "event.a" op: EQ other_path: "entry.b" } }
                                 predicates { compare { path: "profile.c" op: EXISTS } } })");
  REQUIRE(c.problems.empty());
  std::vector<Path> paths = c.predicate.Paths();
  REQUIRE(paths.size() == 3);
  CHECK(paths[0] == Path{PathRoot::kEvent, "a"});
  CHECK(paths[1] == Path{PathRoot::kEntry, "b"});
  CHECK(paths[2] == Path{PathRoot::kProfile, "c"});
}

// Bindings that read declarations by index: "root#slot" -> value for
// resolved reads, "root.key" for the rest, counting each kind.
class SlotBindings : public FakeBindings {
 public:
  SlotBindings& SetSlot(PathRoot root, int32_t slot, Value v) {
    slots_[absl::StrCat(PathRootName(root), "#", slot)] = std::move(v);
    return *this;
  }
  SlotBindings& SetSlotChange(PathRoot root, int32_t slot, absl::Time t) {
    changes_[absl::StrCat(PathRootName(root), "#", slot)] = t;
    return *this;
  }
  const Value* Find(PathRoot root, absl::string_view key, Value* scratch) const override {
    ++by_name;
    return FakeBindings::Find(root, key, scratch);
  }
  const Value* FindResolved(PathRoot root, absl::string_view /*key*/, int32_t slot,
                            Value* /*scratch*/) const override {
    ++by_slot;
    auto it = slots_.find(absl::StrCat(PathRootName(root), "#", slot));
    return it == slots_.end() ? nullptr : &it->second;
  }
  absl::Time NextChangeResolved(PathRoot root, absl::string_view /*key*/,
                                int32_t slot) const override {
    auto it = changes_.find(absl::StrCat(PathRootName(root), "#", slot));
    return it == changes_.end() ? absl::InfiniteFuture() : it->second;
  }
  bool FallsWithTimeResolved(PathRoot root, absl::string_view /*key*/,
                             int32_t slot) const override {
    return falling_.count(absl::StrCat(PathRootName(root), "#", slot)) > 0;
  }
  SlotBindings& SetFalling(PathRoot root, int32_t slot) {
    falling_.insert(absl::StrCat(PathRootName(root), "#", slot));
    return *this;
  }

  mutable int by_name = 0;
  mutable int by_slot = 0;

 private:
  std::map<std::string, Value> slots_;
  std::map<std::string, absl::Time> changes_;
  std::set<std::string> falling_;
};

TEST_CASE("Resolved behaviour and segment reads go by slot and the rest by name") {
  Compiled c = CompileP(R"(all {
      predicates { compare { path: "behavior.purchases" op: GE value { int_value: 3 } } }
      predicates { compare { path: "segment.whales" op: EQ value { bool_value: true } } }
      predicates { compare { path: "behavior.unknown_here" op: EXISTS } }
      predicates { compare { path: "profile.tier" op: EQ other_path: "behavior.tier_seen" } } })");
  REQUIRE(c.problems.empty());
  std::vector<std::string> asked;
  c.predicate.ResolveDeclarations([&](const Path& path) {
    asked.push_back(absl::StrCat(PathRootName(path.root), ".", path.key));
    if (path.key == "purchases") return 4;
    if (path.key == "whales") return 0;
    if (path.key == "tier_seen") return 2;
    return -1;  // Not among the declarations: read by name.
  });
  // Only behavior.* and segment.* paths are resolved, in order.
  CHECK(asked == std::vector<std::string>{"behavior.purchases", "segment.whales",
                                          "behavior.unknown_here", "behavior.tier_seen"});
  SlotBindings b;
  b.SetSlot(PathRoot::kBehavior, 4, Value::Int(3))
      .SetSlot(PathRoot::kSegment, 0, Value::Bool(true))
      .SetSlot(PathRoot::kBehavior, 2, Value::String("gold"));
  b.Set("behavior.unknown_here", Value::Int(0)).Set("profile.tier", Value::String("gold"));
  CHECK(c.predicate.Evaluate(b));
  CHECK(b.by_slot == 3);
  CHECK(b.by_name == 2);  // behavior.unknown_here and profile.tier.
  b.SetSlot(PathRoot::kBehavior, 4, Value::Int(2));  // The slot's value decides.
  b.Set("behavior.purchases", Value::Int(100));      // Not the name's.
  CHECK_FALSE(c.predicate.Evaluate(b));

  // NextChange asks the resolved slots too.
  const absl::Time now = absl::FromUnixSeconds(1'767'225'600);
  b.SetNow(now);
  b.SetSlotChange(PathRoot::kBehavior, 4, now + absl::Hours(3));
  b.SetSlotChange(PathRoot::kSegment, 0, now + absl::Hours(2));
  CHECK(c.predicate.NextChange(b) == now + absl::Hours(2));
}

TEST_CASE("NextChange passes over a comparison a falling value keeps as it is") {
  // views: a 7-day count (falls with time); spend: a 7-day sum (does not
  // say so: a negative amount leaving would raise it).
  const auto next_change = [](const std::string& text, int64_t views, bool falling) {
    Compiled c = CompileP(text);
    REQUIRE(c.problems.empty());
    c.predicate.ResolveDeclarations([](const Path& path) { return path.key == "views" ? 1 : 2; });
    const absl::Time now = absl::FromUnixSeconds(1'767'225'600);
    SlotBindings b;
    b.SetNow(now);
    b.SetSlot(PathRoot::kBehavior, 1, Value::Int(views));
    b.SetSlotChange(PathRoot::kBehavior, 1, now + absl::Hours(5));
    if (falling) b.SetFalling(PathRoot::kBehavior, 1);
    return c.predicate.NextChange(b) - now;
  };
  const std::string at_least = R"(compare { path: "behavior.views" op: GE value { int_value: 2 } })";
  const std::string below = R"(compare { path: "behavior.views" op: LT value { int_value: 2 } })";
  const std::string equal = R"(compare { path: "behavior.views" op: EQ value { int_value: 0 } })";
  // GE false stays false as the count falls; GE true may turn false.
  CHECK(next_change(at_least, 1, true) == absl::InfiniteDuration());
  CHECK(next_change(at_least, 3, true) == absl::Hours(5));
  // LT true stays true; LT false may turn true.
  CHECK(next_change(below, 1, true) == absl::InfiniteDuration());
  CHECK(next_change(below, 3, true) == absl::Hours(5));
  // EQ 0 may turn true as it falls: never passed over.
  CHECK(next_change(equal, 1, true) == absl::Hours(5));
  // A value not known to fall is never passed over.
  CHECK(next_change(at_least, 1, false) == absl::Hours(5));
  CHECK(next_change(below, 1, false) == absl::Hours(5));
  // Inside `not` and `any` alike: time cannot change the term either way.
  CHECK(next_change(absl::StrCat("not { ", at_least, " }"), 1, true) == absl::InfiniteDuration());
  CHECK(next_change(absl::StrCat("any { predicates { ", at_least,
                                 " } predicates { compare { path: \"behavior.spend\" op: GE "
                                 "value { int_value: 1 } } } }"),
                    1, true) == absl::InfiniteDuration());
}

}  // namespace
}  // namespace cairn::internal
