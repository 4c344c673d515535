// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "sim/generator.h"

#include <algorithm>
#include <queue>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "json/event_lines.h"

namespace cairn::sim {
namespace {

// SplitMix64: tiny, fast, and the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return (Next() >> 11) * (1.0 / 9007199254740992.0); }
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

class Subject {
 public:
  Subject(const GeneratorOptions& o, int64_t index)
      : options_(o), rng_(o.seed * 0x9e3779b97f4a7c15ULL ^ (index + 1) * 0xd1b54a32d192ed03ULL),
        id_(absl::StrCat(o.scenario == Scenario::kGame ? "p" : "u", index)) {
    first_day_ = o.scenario == Scenario::kGame
                     ? static_cast<int>(rng_.Between(0, std::max(0, o.days / 3)))
                     : 0;
    day_ = first_day_;
  }

  const std::string& id() const { return id_; }

  // The next event. Days are generated while the next day could hold an
  // event earlier than the earliest pending one (sessions of day d start at
  // local midnight of d at the earliest), so events come out in time order.
  bool Peek(absl::Time* t) {
    while (day_ < options_.days &&
           (pending_.empty() ||
            options_.start + absl::Hours(24 * day_) - kLocalOffset <= pending_.front().time)) {
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
  void Add(absl::Time t, std::string name, std::string props = "") {
    if (t >= options_.start + absl::Hours(24 * options_.days)) return;
    GenEvent e{t, std::move(name), std::move(props)};
    auto at = std::upper_bound(pending_.begin(), pending_.end(), e.time,
                               [](absl::Time a, const GenEvent& b) { return a < b.time; });
    pending_.insert(at, std::move(e));
  }

  void GenerateDay() {
    const int day = day_++;
    const absl::Time midnight = options_.start + absl::Hours(24 * day);
    if (options_.scenario == Scenario::kEcommerce) {
      if (rng_.Chance(0.35)) Shop(midnight + SessionStartOfDay(rng_));
    } else {
      Play(day, midnight + SessionStartOfDay(rng_));
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
  std::vector<GenEvent> pending_;  // Sorted by time; a day or two of events.
};

}  // namespace

absl::StatusOr<Scenario> ParseScenario(absl::string_view name) {
  if (name == "ecommerce") return Scenario::kEcommerce;
  if (name == "game") return Scenario::kGame;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown scenario \"", name, "\"; use ecommerce or game"));
}

absl::StatusOr<int64_t> GenerateEvents(const GeneratorOptions& options, std::ostream& out) {
  if (options.subjects <= 0) {
    return absl::InvalidArgumentError("subjects must be positive");
  }
  if (options.days <= 0) return absl::InvalidArgumentError("days must be positive");
  std::vector<Subject> subjects;
  subjects.reserve(options.subjects);
  using Entry = std::pair<absl::Time, int64_t>;  // (next time, subject)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  for (int64_t i = 0; i < options.subjects; ++i) {
    subjects.emplace_back(options, i);
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

}  // namespace cairn::sim
