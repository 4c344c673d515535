// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "sim/generator.h"

#include <algorithm>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "json/event_lines.h"
#include "timer/local_time.h"
#include "util/stable_hasher.h"

namespace cairn::sim {
namespace {

// SplitMix64: tiny, fast, and the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() { return internal::SplitMix64Mix(state_ += internal::kSplitMix64Increment); }
  double Uniform() { return internal::UnitInterval(Next()); }
  bool Chance(double p) { return Uniform() < p; }
  int64_t Between(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }

 private:
  uint64_t state_;
};

struct GenEvent {
  absl::Time time;
  std::string name;
  std::string properties;  // JSON object text, "" for none.
};

// Session start hours (local time), weighted towards lunch and evening.
constexpr int kHourWeights[24] = {2, 1, 1, 1, 1, 1, 2, 4, 6, 6, 6, 7,
                                  9, 8, 6, 6, 6, 7, 9, 12, 14, 14, 10, 5};
constexpr absl::Duration kLocalOffset = absl::Hours(8);  // China time.

absl::Duration SessionStartOfDay(Rng& rng) {
  int total = 0;
  for (int w : kHourWeights) total += w;
  int pick = static_cast<int>(rng.Next() % total);
  int hour = 0;
  while (pick >= kHourWeights[hour]) pick -= kHourWeights[hour++];
  return absl::Hours(hour) + absl::Seconds(rng.Between(0, 3599)) - kLocalOffset;
}

// Loyalty members' zones and how many of every 20 members live in each:
// two with DST on different dates, two without, one of them half an hour
// off the hour.
struct MemberZone {
  const char* name;
  int weight;
};
constexpr MemberZone kMemberZones[] = {
    {"Asia/Shanghai", 10}, {"America/New_York", 5}, {"Europe/London", 3}, {"Asia/Kolkata", 2}};

// Loads kMemberZones, in order.
absl::StatusOr<std::vector<absl::TimeZone>> LoadMemberZones() {
  std::vector<absl::TimeZone> zones;
  for (const MemberZone& z : kMemberZones) {
    std::optional<absl::TimeZone> tz = internal::LoadZone(z.name);
    if (!tz) {
      return absl::FailedPreconditionError(absl::StrCat(
          "time zone \"", z.name,
          "\" is not in the zone database ($TZDIR, else /usr/share/zoneinfo); install tzdata"));
    }
    zones.push_back(*tz);
  }
  return zones;
}

struct MemberProfile {
  int zone;  // index into kMemberZones
  bool vip;
};

// Drawn from a stream of its own, not the member's event stream, so that
// profiles can be written without generating any event.
MemberProfile ProfileOf(uint64_t seed, int64_t index) {
  Rng rng(seed * 0xd6e8feb86659fd93ULL ^ (index + 1) * 0xa0761d6478bd642fULL);
  int total = 0;
  for (const MemberZone& z : kMemberZones) total += z.weight;
  int pick = static_cast<int>(rng.Next() % total);
  int zone = 0;
  while (pick >= kMemberZones[zone].weight) pick -= kMemberZones[zone++].weight;
  return MemberProfile{zone, rng.Chance(0.2)};
}

const char* SubjectPrefix(Scenario scenario) {
  switch (scenario) {
    case Scenario::kGame:
      return "p";
    case Scenario::kLoyalty:
      return "m";
    case Scenario::kEcommerce:
      break;
  }
  return "u";
}

class Subject {
 public:
  // `zones`: LoadMemberZones(), for loyalty; not used otherwise.
  Subject(const GeneratorOptions& o, int64_t index, const std::vector<absl::TimeZone>& zones)
      : options_(o), rng_(o.seed * 0x9e3779b97f4a7c15ULL ^ (index + 1) * 0xd1b54a32d192ed03ULL),
        id_(absl::StrCat(SubjectPrefix(o.scenario), index)) {
    first_day_ = o.scenario == Scenario::kGame
                     ? static_cast<int>(rng_.Between(0, std::max(0, o.days / 3)))
                     : 0;
    day_ = first_day_;
    if (o.scenario == Scenario::kLoyalty) DrawMember(zones[ProfileOf(o.seed, index).zone]);
  }

  const std::string& id() const { return id_; }

  // The next event. Days are generated while the next day could hold an
  // event earlier than the earliest pending one (sessions of day d start at
  // local midnight of d at the earliest), so events come out in time order.
  bool Peek(absl::Time* t) {
    while (day_ < options_.days && (pending_.empty() || DayStart(day_) <= pending_.front().time)) {
      GenerateDay();
    }
    if (pending_.empty()) return false;
    *t = pending_.front().time;
    return true;
  }
  GenEvent Pop() {
    GenEvent e = std::move(pending_.front());
    pending_.erase(pending_.begin());
    return e;
  }

 private:
  // The earliest time an event of day `day` can have.
  absl::Time DayStart(int day) const {
    if (options_.scenario == Scenario::kLoyalty) {
      return absl::FromCivil(first_civil_day_ + day, zone_);  // local midnight
    }
    return options_.start + absl::Hours(24 * day) - kLocalOffset;
  }

  void Add(absl::Time t, std::string name, std::string props = "") {
    if (t >= options_.start + absl::Hours(24 * options_.days)) return;
    // Members' local days overlap the period's UTC days; the part of the
    // first local day east of UTC that falls before the period is left out.
    // (The older scenarios keep their early events: their logs must not
    // change.)
    if (options_.scenario == Scenario::kLoyalty && t < options_.start) return;
    GenEvent e{t, std::move(name), std::move(props)};
    auto at = std::upper_bound(pending_.begin(), pending_.end(), e.time,
                               [](absl::Time a, const GenEvent& b) { return a < b.time; });
    pending_.insert(at, std::move(e));
  }

  void GenerateDay() {
    const int day = day_++;
    const absl::Time midnight = options_.start + absl::Hours(24 * day);
    switch (options_.scenario) {
      case Scenario::kEcommerce:
        if (rng_.Chance(0.35)) Shop(midnight + SessionStartOfDay(rng_));
        break;
      case Scenario::kGame:
        Play(day, midnight + SessionStartOfDay(rng_));
        break;
      case Scenario::kLoyalty:
        Member(DayStart(day), DayStart(day + 1));
        break;
    }
  }

  // A member's habits, drawn once.
  void DrawMember(absl::TimeZone zone) {
    zone_ = zone;
    first_civil_day_ = absl::ToCivilDay(options_.start, absl::UTCTimeZone());
    // Most check in by day; some around local midnight, so that their local
    // days differ from the UTC days.
    habit_minute_ = rng_.Chance(0.15) ? rng_.Between(23 * 60, 24 * 60 + 60) % (24 * 60)
                                      : rng_.Between(7 * 60, 22 * 60);
    // The chance to check in again the day after a check-in, and to start
    // again the day after a miss: expected streaks from 2.5 days to 33.
    keep_ = 0.6 + 0.37 * rng_.Uniform();
    restart_ = 0.15 + 0.45 * rng_.Uniform();
    checked_in_ = rng_.Chance(0.5);
    sharer_ = rng_.Chance(0.06);
    regular_ = rng_.Chance(0.15);
  }

  // One local day of a member, [start, end): 23, 24 or 25 hours.
  void Member(absl::Time start, absl::Time end) {
    // An offset into the day; one landing past its end (a short DST day)
    // stays in it, so a day's check-in is never counted on the next.
    auto at = [&](absl::Duration offset) {
      return start + std::clamp(offset, absl::ZeroDuration(), end - start - absl::Seconds(1));
    };
    checked_in_ = rng_.Chance(checked_in_ ? keep_ : restart_);
    if (checked_in_) {
      Add(at(absl::Minutes(habit_minute_ + rng_.Between(-40, 40)) +
             absl::Seconds(rng_.Between(0, 59))),
          "check_in");
    }
    if (rng_.Chance(sharer_ ? 0.8 : 0.06)) {
      const int64_t shares = sharer_ ? rng_.Between(1, 4) : 1;
      absl::Duration t = absl::Hours(rng_.Between(9, 21)) + absl::Seconds(rng_.Between(0, 3599));
      for (int64_t i = 0; i < shares; ++i) {
        Add(at(t), "share", absl::StrFormat(R"({"product":"P%d"})", rng_.Between(1, 200)));
        t += absl::Seconds(rng_.Between(30, 900));
      }
    }
    if (rng_.Chance(regular_ ? 0.35 : 0.03)) {
      // Prices end in .50, .90 or .99, so an amount is never read as an int.
      constexpr int kCents[] = {50, 90, 99};
      Add(at(absl::Hours(rng_.Between(10, 22)) + absl::Seconds(rng_.Between(0, 3599))),
          "order_paid",
          absl::StrFormat(R"({"order_id":"%s-%d","amount":%d.%02d})", id_, ++orders_,
                          rng_.Between(9, 299), kCents[rng_.Between(0, 2)]));
    }
  }

  void Shop(absl::Time t) {
    if (rng_.Chance(0.3)) {
      Add(t, "search", absl::StrFormat(R"({"query":"q%d"})", rng_.Between(1, 50)));
      t += absl::Seconds(rng_.Between(10, 90));
    }
    const int views = static_cast<int>(rng_.Between(1, 5));
    int64_t product = 0, price = 0;
    for (int i = 0; i < views; ++i) {
      product = rng_.Between(1, 200);
      price = 10 * rng_.Between(1, 60);
      Add(t, "product_view",
          absl::StrFormat(R"({"product_id":"P%d","price":%d})", product, price));
      t += absl::Seconds(rng_.Between(20, 240));
    }
    if (!rng_.Chance(0.35)) return;
    Add(t, "add_to_cart", absl::StrFormat(R"({"product_id":"P%d","price":%d})", product, price));
    const double u = rng_.Uniform();
    absl::Time paid;
    if (u < 0.30) {
      paid = t + absl::Seconds(rng_.Between(60, 2400));  // checks out now
    } else if (u < 0.45) {
      paid = t + absl::Seconds(rng_.Between(3600, 48 * 3600));  // comes back
    } else {
      return;  // abandons
    }
    Add(paid, "payment",
        absl::StrFormat(R"({"order_id":"%s-%d","amount":%d})", id_, ++orders_, price));
  }

  void Play(int day, absl::Time t) {
    if (day == first_day_) {
      Add(t, "register", absl::StrFormat(R"({"channel":"%s"})",
                                         rng_.Chance(0.02) ? "qa" : "store"));
      t += absl::Seconds(rng_.Between(30, 300));
    } else {
      // Retention decays with age; a churned player never returns.
      if (churned_ || rng_.Chance(0.08)) {
        churned_ = true;
        return;
      }
      const double active = 0.25 + 0.45 / (1 + 0.3 * (day - first_day_));
      if (!rng_.Chance(active)) return;
    }
    Add(t, "login");
    const int rounds = static_cast<int>(rng_.Between(1, 6));
    for (int i = 0; i < rounds; ++i) {
      t += absl::Seconds(rng_.Between(60, 900));
      if (rng_.Chance(0.4)) Add(t, "level_up", absl::StrFormat(R"({"level":%d})", ++level_));
    }
    if (rng_.Chance(0.03)) {
      Add(t + absl::Seconds(30), "purchase",
          absl::StrFormat(R"({"amount":%d})", 6 * rng_.Between(1, 50)));
    }
  }

  const GeneratorOptions& options_;
  Rng rng_;
  std::string id_;
  int first_day_ = 0;
  int day_ = 0;
  int orders_ = 0;
  int level_ = 1;
  bool churned_ = false;
  // Loyalty members only.
  absl::TimeZone zone_;
  absl::CivilDay first_civil_day_;
  int64_t habit_minute_ = 0;  // of the local day
  double keep_ = 0;
  double restart_ = 0;
  bool checked_in_ = false;  // on the day generated last
  bool sharer_ = false;
  bool regular_ = false;
  std::vector<GenEvent> pending_;  // Sorted by time; a day or two of events.
};

}  // namespace

absl::Status CheckOptions(const GeneratorOptions& options) {
  if (options.subjects <= 0) return absl::InvalidArgumentError("subjects must be positive");
  if (options.days <= 0) return absl::InvalidArgumentError("days must be positive");
  return absl::OkStatus();
}

absl::StatusOr<Scenario> ParseScenario(absl::string_view name) {
  if (name == "ecommerce") return Scenario::kEcommerce;
  if (name == "game") return Scenario::kGame;
  if (name == "loyalty") return Scenario::kLoyalty;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown scenario \"", name, "\"; use ecommerce, game or loyalty"));
}

absl::StatusOr<int64_t> GenerateEvents(const GeneratorOptions& options, std::ostream& out) {
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  std::vector<absl::TimeZone> zones;
  if (options.scenario == Scenario::kLoyalty) {
    absl::StatusOr<std::vector<absl::TimeZone>> loaded = LoadMemberZones();
    if (!loaded.ok()) return loaded.status();
    zones = *std::move(loaded);
  }
  std::vector<Subject> subjects;
  subjects.reserve(options.subjects);
  using Entry = std::pair<absl::Time, int64_t>;  // (next time, subject)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  for (int64_t i = 0; i < options.subjects; ++i) {
    subjects.emplace_back(options, i, zones);
    absl::Time t;
    if (subjects.back().Peek(&t)) queue.push({t, i});
  }
  const std::string type = options.scenario == Scenario::kGame ? "player" : "";
  int64_t written = 0;
  std::string line;
  while (!queue.empty()) {
    const int64_t i = queue.top().second;
    queue.pop();
    Subject& s = subjects[i];
    GenEvent e = s.Pop();
    line.clear();
    absl::StrAppend(&line, "{\"id\":\"", s.id(), "-", written, "\",\"subject\":\"", s.id(), "\"");
    if (!type.empty()) absl::StrAppend(&line, ",\"subject_type\":\"", type, "\"");
    absl::StrAppend(&line, ",\"name\":\"", e.name, "\",\"time\":\"", json::FormatEventTime(e.time),
                    "\"");
    if (!e.properties.empty()) absl::StrAppend(&line, ",\"properties\":", e.properties);
    line += "}\n";
    out << line;
    ++written;
    absl::Time t;
    if (s.Peek(&t)) queue.push({t, i});
  }
  if (!out) return absl::DataLossError("write error");
  return written;
}

absl::StatusOr<int64_t> GenerateProfiles(const GeneratorOptions& options, std::ostream& out) {
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  if (options.scenario != Scenario::kLoyalty) {
    return absl::InvalidArgumentError("only the loyalty scenario has profiles");
  }
  // Checked as GenerateEvents checks them, so that profiles never name a
  // zone the events could not be generated in.
  if (absl::Status s = LoadMemberZones().status(); !s.ok()) return s;
  std::string line;
  for (int64_t i = 0; i < options.subjects; ++i) {
    const MemberProfile p = ProfileOf(options.seed, i);
    line.clear();
    absl::StrAppend(&line, "{\"subject\":\"", SubjectPrefix(options.scenario), i,
                    "\",\"attributes\":{\"time_zone\":\"", kMemberZones[p.zone].name,
                    "\",\"vip\":", p.vip ? "true" : "false", "}}\n");
    out << line;
  }
  if (!out) return absl::DataLossError("write error");
  return options.subjects;
}

}  // namespace cairn::sim
