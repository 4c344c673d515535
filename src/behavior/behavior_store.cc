// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "behavior/behavior_store.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "absl/numeric/bits.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "cairn/options.h"
#include "google/protobuf/util/message_differencer.h"
#include "predicate/event_bindings.h"
#include "timer/local_time.h"
#include "util/chunked_vector.h"
#include "util/stable_hasher.h"
#include "util/utf8.h"

namespace cairn::internal {
namespace {

using Function = v1::Behavior::Function;

absl::Status BadCell(absl::string_view behavior, absl::string_view what) {
  return absl::DataLossError(absl::StrCat("snapshot: behaviour ", behavior, ": ", what));
}

// Times are kept as Unix nanoseconds: inputs lie in [1970, 2200), well
// inside int64's range.
int64_t ToNanos(absl::Time t) { return absl::ToUnixNanos(t); }
absl::Time FromNanos(int64_t n) { return absl::FromUnixNanos(n); }

bool NanosInRange(int64_t n) {
  return n >= ToNanos(EarliestInputTime()) && n < ToNanos(LatestInputTime());
}

// ---- Parameters a column needs from its spec ----

struct Params {
  Function function = v1::Behavior::FUNCTION_UNSPECIFIED;
  bool windowed = false;
  int64_t resolution_seconds = 0;
  int64_t window_buckets = 0;
  int32_t distinct_limit = 0;
  std::string name;  // For messages.

  // The bucket holding `t` (t >= 1970: non-negative).
  uint32_t BucketOf(absl::Time t) const {
    const int64_t s = std::max<int64_t>(0, absl::ToUnixSeconds(t));
    return static_cast<uint32_t>(s / resolution_seconds);
  }
  // The first bucket of the window as of `now`.
  uint32_t Horizon(absl::Time now) const {
    const int64_t b = static_cast<int64_t>(BucketOf(now)) - window_buckets;
    return static_cast<uint32_t>(std::max<int64_t>(0, b));
  }
};

// A sample as a column adds it: with its bucket and the first bucket of
// the window as of its engine time worked out once, as several steps of an
// add read them (windows of buckets; 0 otherwise: a windowed ACTIVE_DAYS
// counts local days).
struct Placed : BehaviorColumn::Sample {
  Placed() = default;
  Placed(const BehaviorColumn::Sample& s, const Params& p) : BehaviorColumn::Sample(s) {
    if (p.windowed && p.resolution_seconds > 0) {
      bucket = p.BucketOf(time);
      horizon = p.Horizon(now);
    }
  }
  uint32_t bucket = 0;
  uint32_t horizon = 0;
};

// ---- Cells: one subject's state, by kind ----

// COUNT, all time.
struct CountCell {
  int64_t count = 0;
};

// Counts saturate rather than wrap: a host's seed may be near the limit.
int64_t Plus(int64_t count, int64_t weight) {
  return count > std::numeric_limits<int64_t>::max() - weight
             ? std::numeric_limits<int64_t>::max()
             : count + weight;
}
uint32_t Plus(uint32_t count, int64_t weight) {
  return weight >= static_cast<int64_t>(UINT32_MAX - count) ? UINT32_MAX
                                                             : count + static_cast<uint32_t>(weight);
}

void AddTo(CountCell& c, const Params&, const Placed& s) {
  c.count = Plus(c.count, s.weight);
}
bool ReadFrom(const CountCell& c, const Params&, absl::Time, int32_t, Value* out) {
  *out = Value::Int(c.count);
  return true;
}
bool Contributes(const CountCell*, const Params&, const Placed&) { return true; }
void Encode(const CountCell& c, const Params&, v1::SnapshotBehaviorCell* out) {
  out->set_count(c.count);
}
absl::Status Decode(const v1::SnapshotBehaviorCell& in, const Params& p, CountCell* c) {
  if (in.count() <= 0) return BadCell(p.name, "count out of range");
  c->count = in.count();
  return absl::OkStatus();
}
size_t HeapBytes(const CountCell&) { return 0; }

// SUM, MIN, MAX, all time.
struct NumberCell {
  double number = 0;
  int64_t count = 0;
};

double Combine(Function f, double a, double b) {
  switch (f) {
    case v1::Behavior::MIN:
      return std::min(a, b);
    case v1::Behavior::MAX:
      return std::max(a, b);
    default:
      return a + b;
  }
}

bool Contributes(const NumberCell*, const Params&, const Placed& s) {
  return s.has_number;
}
void AddTo(NumberCell& c, const Params& p, const Placed& s) {
  c.number = c.count == 0 ? s.number : Combine(p.function, c.number, s.number);
  c.count = Plus(c.count, s.weight);
}
bool ReadFrom(const NumberCell& c, const Params&, absl::Time, int32_t, Value* out) {
  *out = Value::Double(c.number);
  return true;
}
void Encode(const NumberCell& c, const Params&, v1::SnapshotBehaviorCell* out) {
  out->set_count(c.count);
  out->set_number(c.number);
}
absl::Status Decode(const v1::SnapshotBehaviorCell& in, const Params& p, NumberCell* c) {
  if (in.count() <= 0 || !std::isfinite(in.number())) return BadCell(p.name, "number out of range");
  c->count = in.count();
  c->number = in.number();
  return absl::OkStatus();
}
size_t HeapBytes(const NumberCell&) { return 0; }

// FIRST_TIME, LAST_TIME.
struct TimeCell {
  int64_t nanos = 0;
  bool set = false;
};

bool Contributes(const TimeCell*, const Params&, const Placed&) { return true; }
void AddTo(TimeCell& c, const Params& p, const Placed& s) {
  const int64_t n = ToNanos(s.time);
  if (!c.set) {
    c.nanos = n;
  } else {
    c.nanos = p.function == v1::Behavior::FIRST_TIME ? std::min(c.nanos, n) : std::max(c.nanos, n);
  }
  c.set = true;
}
bool ReadFrom(const TimeCell& c, const Params&, absl::Time, int32_t, Value* out) {
  *out = Value::Timestamp(FromNanos(c.nanos));
  return true;
}
void Encode(const TimeCell& c, const Params&, v1::SnapshotBehaviorCell* out) {
  out->set_time_nanos(c.nanos);
}
absl::Status Decode(const v1::SnapshotBehaviorCell& in, const Params& p, TimeCell* c) {
  if (!NanosInRange(in.time_nanos())) return BadCell(p.name, "time out of range");
  c->nanos = in.time_nanos();
  c->set = true;
  return absl::OkStatus();
}
size_t HeapBytes(const TimeCell&) { return 0; }

// COUNT over a window: a count per non-empty bucket, ascending. Two
// buckets fit inline: most subjects act in one or two hours of a week.
struct CountBucket {
  uint32_t bucket;
  uint32_t count;
};
struct CountBucketsCell {
  absl::InlinedVector<CountBucket, 2> buckets;
};

// SUM, MIN, MAX over a window: a count and a number per bucket.
struct NumberBucket {
  uint32_t bucket;
  uint32_t count;
  double number;
};
struct NumberBucketsCell {
  absl::InlinedVector<NumberBucket, 1> buckets;
};

// Drops the buckets before `horizon`, the window's first.
template <typename Buckets>
void Prune(Buckets* buckets, uint32_t horizon) {
  auto first = std::find_if(buckets->begin(), buckets->end(),
                            [horizon](const auto& b) { return b.bucket >= horizon; });
  buckets->erase(buckets->begin(), first);
}

// The bucket entry for `bucket`, added in order if missing.
template <typename Buckets>
auto& BucketFor(Buckets* buckets, uint32_t bucket) {
  // Usually the newest: events arrive in about time order.
  if (!buckets->empty() && buckets->back().bucket == bucket) return buckets->back();
  auto it = std::lower_bound(buckets->begin(), buckets->end(), bucket,
                             [](const auto& b, uint32_t v) { return b.bucket < v; });
  if (it != buckets->end() && it->bucket == bucket) return *it;
  typename Buckets::value_type fresh{};
  fresh.bucket = bucket;
  return *buckets->insert(it, fresh);
}

bool InWindow(const Placed& s) { return s.bucket >= s.horizon; }

bool Contributes(const CountBucketsCell*, const Params&, const Placed& s) {
  return InWindow(s);
}
void AddTo(CountBucketsCell& c, const Params&, const Placed& s) {
  Prune(&c.buckets, s.horizon);
  CountBucket& b = BucketFor(&c.buckets, s.bucket);
  b.count = Plus(b.count, s.weight);
}
bool ReadFrom(const CountBucketsCell& c, const Params& p, absl::Time now, int32_t, Value* out) {
  const uint32_t horizon = p.Horizon(now);
  int64_t total = 0;
  for (const CountBucket& b : c.buckets) {
    if (b.bucket >= horizon) total += b.count;
  }
  *out = Value::Int(total);
  return true;
}

bool Contributes(const NumberBucketsCell*, const Params&, const Placed& s) {
  return s.has_number && InWindow(s);
}
void AddTo(NumberBucketsCell& c, const Params& p, const Placed& s) {
  Prune(&c.buckets, s.horizon);
  NumberBucket& b = BucketFor(&c.buckets, s.bucket);
  b.number = b.count == 0 ? s.number : Combine(p.function, b.number, s.number);
  b.count = Plus(b.count, s.weight);
}
bool ReadFrom(const NumberBucketsCell& c, const Params& p, absl::Time now, int32_t, Value* out) {
  const uint32_t horizon = p.Horizon(now);
  bool any = false;
  double value = 0;
  for (const NumberBucket& b : c.buckets) {
    if (b.bucket < horizon) continue;
    value = any ? Combine(p.function, value, b.number) : b.number;
    any = true;
  }
  // A sum of nothing is 0; a smallest or largest of nothing is absent.
  if (!any && p.function != v1::Behavior::SUM) return false;
  *out = Value::Double(value);
  return true;
}

template <bool kNumbers, typename Buckets>
void EncodeBuckets(const Buckets& buckets, v1::SnapshotBehaviorCell* out) {
  for (const auto& b : buckets) {
    out->add_buckets(b.bucket);
    out->add_bucket_counts(b.count);
  }
  if constexpr (kNumbers) {
    for (const auto& b : buckets) out->add_bucket_numbers(b.number);
  }
}

// Checks the bucket lists of `in`: ascending, each bucket counted, no more
// than a window holds.
absl::Status CheckBuckets(const v1::SnapshotBehaviorCell& in, const Params& p, bool numbers) {
  const int n = in.buckets_size();
  if (n == 0 || n > p.window_buckets + 1 || in.bucket_counts_size() != n ||
      in.bucket_numbers_size() != (numbers ? n : 0)) {
    return BadCell(p.name, "bucket lists out of shape");
  }
  for (int i = 0; i < n; ++i) {
    if ((i > 0 && in.buckets(i) <= in.buckets(i - 1)) || in.bucket_counts(i) <= 0 ||
        in.bucket_counts(i) > UINT32_MAX || (numbers && !std::isfinite(in.bucket_numbers(i)))) {
      return BadCell(p.name, "bucket out of range");
    }
  }
  return absl::OkStatus();
}

void Encode(const CountBucketsCell& c, const Params&, v1::SnapshotBehaviorCell* out) {
  EncodeBuckets<false>(c.buckets, out);
}
absl::Status Decode(const v1::SnapshotBehaviorCell& in, const Params& p, CountBucketsCell* c) {
  if (absl::Status s = CheckBuckets(in, p, false); !s.ok()) return s;
  for (int i = 0; i < in.buckets_size(); ++i) {
    c->buckets.push_back({in.buckets(i), static_cast<uint32_t>(in.bucket_counts(i))});
  }
  return absl::OkStatus();
}
size_t HeapBytes(const CountBucketsCell& c) {
  return c.buckets.size() > 2 ? c.buckets.capacity() * sizeof(CountBucket) : 0;
}

void Encode(const NumberBucketsCell& c, const Params&, v1::SnapshotBehaviorCell* out) {
  EncodeBuckets<true>(c.buckets, out);
}
absl::Status Decode(const v1::SnapshotBehaviorCell& in, const Params& p, NumberBucketsCell* c) {
  if (absl::Status s = CheckBuckets(in, p, true); !s.ok()) return s;
  for (int i = 0; i < in.buckets_size(); ++i) {
    c->buckets.push_back({in.buckets(i), static_cast<uint32_t>(in.bucket_counts(i)),
                          in.bucket_numbers(i)});
  }
  return absl::OkStatus();
}
size_t HeapBytes(const NumberBucketsCell& c) {
  return c.buckets.size() > 1 ? c.buckets.capacity() * sizeof(NumberBucket) : 0;
}

// DISTINCT_COUNT: value hashes, ascending, each with the last bucket it
// was seen in (windowed; 0 otherwise).
struct DistinctEntry {
  uint64_t hash;
  uint32_t bucket;
};
struct DistinctCell {
  std::vector<DistinctEntry> values;
};

bool Contributes(const DistinctCell*, const Params& p, const Placed& s) {
  return s.has_hash && (!p.windowed || InWindow(s));
}
void AddTo(DistinctCell& c, const Params& p, const Placed& s) {
  const uint32_t bucket = s.bucket;
  auto it = std::lower_bound(c.values.begin(), c.values.end(), s.hash,
                             [](const DistinctEntry& e, uint64_t h) { return e.hash < h; });
  if (it != c.values.end() && it->hash == s.hash) {
    it->bucket = std::max(it->bucket, bucket);
    return;
  }
  if (c.values.size() >= static_cast<size_t>(p.distinct_limit)) {
    if (!p.windowed) return;  // All time: the count stays at the limit.
    // Windowed: values that left the window go first; if none has, the one
    // seen longest ago (then the smallest hash) makes room, and the count,
    // at the limit, stays there.
    const uint32_t horizon = s.horizon;
    c.values.erase(std::remove_if(c.values.begin(), c.values.end(),
                                  [horizon](const DistinctEntry& e) { return e.bucket < horizon; }),
                   c.values.end());
    if (c.values.size() >= static_cast<size_t>(p.distinct_limit)) {
      auto oldest = std::min_element(c.values.begin(), c.values.end(),
                                     [](const DistinctEntry& a, const DistinctEntry& b) {
                                       return a.bucket < b.bucket;
                                     });
      c.values.erase(oldest);
    }
    it = std::lower_bound(c.values.begin(), c.values.end(), s.hash,
                          [](const DistinctEntry& e, uint64_t h) { return e.hash < h; });
  }
  c.values.insert(it, DistinctEntry{s.hash, bucket});
}
bool ReadFrom(const DistinctCell& c, const Params& p, absl::Time now, int32_t, Value* out) {
  if (!p.windowed) {
    *out = Value::Int(static_cast<int64_t>(c.values.size()));
    return true;
  }
  const uint32_t horizon = p.Horizon(now);
  int64_t n = 0;
  for (const DistinctEntry& e : c.values) n += e.bucket >= horizon;
  *out = Value::Int(n);
  return true;
}
void Encode(const DistinctCell& c, const Params& p, v1::SnapshotBehaviorCell* out) {
  for (const DistinctEntry& e : c.values) out->add_hashes(e.hash);
  if (p.windowed) {
    for (const DistinctEntry& e : c.values) out->add_hash_buckets(e.bucket);
  }
}
absl::Status Decode(const v1::SnapshotBehaviorCell& in, const Params& p, DistinctCell* c) {
  const int n = in.hashes_size();
  if (n == 0 || n > p.distinct_limit || in.hash_buckets_size() != (p.windowed ? n : 0)) {
    return BadCell(p.name, "distinct values out of shape");
  }
  for (int i = 0; i < n; ++i) {
    if (i > 0 && in.hashes(i) <= in.hashes(i - 1)) return BadCell(p.name, "values not in order");
    c->values.push_back({in.hashes(i), p.windowed ? in.hash_buckets(i) : 0});
  }
  return absl::OkStatus();
}
size_t HeapBytes(const DistinctCell& c) { return c.values.capacity() * sizeof(DistinctEntry); }

// ACTIVE_DAYS and streaks: the latest active local day, the 64 days before
// it (bit i: day last_day - i - 1), the run of active days ending at
// last_day, the longest run and the number of active days.
struct DayCell {
  int32_t last_day = 0;
  int32_t run = 0;
  int32_t longest = 0;
  int32_t days = 0;
  uint64_t earlier = 0;
};

bool DayActive(const DayCell& c, int64_t day) {
  if (day == c.last_day) return true;
  const int64_t i = static_cast<int64_t>(c.last_day) - day - 1;
  return i >= 0 && i < 64 && ((c.earlier >> i) & 1) != 0;
}

bool Contributes(const DayCell* c, const Params&, const Placed& s) {
  // Days older than the record reaches are not counted (see the header).
  return c == nullptr || s.day >= static_cast<int64_t>(c->last_day) - 64;
}
void AddTo(DayCell& c, const Params&, const Placed& s) {
  const int32_t day = s.day;
  if (c.days == 0) {
    c.last_day = day;
    c.run = c.longest = c.days = 1;
    return;
  }
  if (DayActive(c, day)) return;
  ++c.days;
  if (day > c.last_day) {
    const int64_t shift = static_cast<int64_t>(day) - c.last_day;
    c.earlier = shift >= 64 ? 0 : c.earlier << shift;
    if (shift <= 64) c.earlier |= uint64_t{1} << (shift - 1);
    c.run = shift == 1 ? c.run + 1 : 1;
    c.last_day = day;
    c.longest = std::max(c.longest, c.run);
    return;
  }
  // A late day inside the record: it may join runs.
  const int64_t bit = static_cast<int64_t>(c.last_day) - day - 1;
  c.earlier |= uint64_t{1} << bit;
  int64_t length = 1;  // The run through `day`, as far as the record shows.
  for (int64_t d = day + 1; DayActive(c, d) && d <= c.last_day; ++d) ++length;
  for (int64_t d = day - 1; DayActive(c, d); --d) ++length;
  if (static_cast<int64_t>(c.run) == bit + 1) {
    // It joined the run ending at last_day; past the record's reach the
    // run may be longer still, so keep what was known.
    c.run = static_cast<int32_t>(std::max<int64_t>(c.run, length));
  }
  c.longest = static_cast<int32_t>(std::max<int64_t>(c.longest, length));
}
bool ReadFrom(const DayCell& c, const Params& p, absl::Time, int32_t today, Value* out) {
  switch (p.function) {
    case v1::Behavior::CURRENT_STREAK:
      *out = Value::Int(c.last_day >= static_cast<int64_t>(today) - 1 ? c.run : 0);
      return true;
    case v1::Behavior::LONGEST_STREAK:
      *out = Value::Int(c.longest);
      return true;
    default:
      break;
  }
  if (!p.windowed) {
    *out = Value::Int(c.days);
    return true;
  }
  int64_t n = 0;
  for (int64_t d = static_cast<int64_t>(today) - p.window_buckets + 1; d <= today; ++d) {
    n += DayActive(c, d);
  }
  *out = Value::Int(n);
  return true;
}
void Encode(const DayCell& c, const Params&, v1::SnapshotBehaviorCell* out) {
  out->set_last_day(c.last_day);
  out->set_earlier_days(c.earlier);
  out->set_run(c.run);
  out->set_longest(c.longest);
  out->set_days(c.days);
}
absl::Status Decode(const v1::SnapshotBehaviorCell& in, const Params& p, DayCell* c) {
  // Local days of inputs in [1970, 2200), a day either side for zones.
  const int32_t last_day = LastLocalDay();
  if (in.last_day() < -1 || in.last_day() > last_day || in.run() < 1 ||
      in.longest() < in.run() || in.days() < 1 || in.days() > last_day + 2 ||
      in.longest() > in.days() || in.run() > in.days()) {
    return BadCell(p.name, "day record out of range");
  }
  c->last_day = in.last_day();
  c->earlier = in.earlier_days();
  c->run = in.run();
  c->longest = in.longest();
  c->days = static_cast<int32_t>(in.days());
  return absl::OkStatus();
}
size_t HeapBytes(const DayCell&) { return 0; }

// HOUR_OF_WEEK: a count per local hour of the week, Monday 00:00 first.
struct HourCell {
  uint16_t counts[kHoursPerWeek] = {};
};

constexpr int64_t kMaxHourCount = 65535;

bool Contributes(const HourCell*, const Params&, const Placed&) { return true; }
void AddTo(HourCell& c, const Params&, const Placed& s) {
  // Halving every hour when one would overflow keeps the profile's shape
  // and lets recent activity outweigh old (see HOUR_OF_WEEK).
  int64_t weight = s.weight;
  while (weight > kMaxHourCount - c.counts[s.hour]) {
    for (uint16_t& n : c.counts) n = static_cast<uint16_t>(n / 2);
    weight = weight / 2 + weight % 2;  // Rounded up; (weight + 1) / 2 overflows at INT64_MAX.
  }
  c.counts[s.hour] = static_cast<uint16_t>(c.counts[s.hour] + weight);
}
bool ReadFrom(const HourCell& c, const Params&, absl::Time, int32_t, Value* out) {
  int busiest = 0;
  for (int h = 1; h < kHoursPerWeek; ++h) {
    if (c.counts[h] > c.counts[busiest]) busiest = h;
  }
  if (c.counts[busiest] == 0) return false;
  *out = Value::Int(busiest);
  return true;
}
void Encode(const HourCell& c, const Params&, v1::SnapshotBehaviorCell* out) {
  for (uint16_t n : c.counts) out->add_hour_counts(n);
}
absl::Status Decode(const v1::SnapshotBehaviorCell& in, const Params& p, HourCell* c) {
  if (in.hour_counts_size() != kHoursPerWeek) {
    return BadCell(p.name, absl::StrCat("holds ", in.hour_counts_size(), " hour counts, not ",
                                        kHoursPerWeek));
  }
  bool any = false;
  for (int h = 0; h < kHoursPerWeek; ++h) {
    if (in.hour_counts(h) > kMaxHourCount) return BadCell(p.name, "hour count out of range");
    c->counts[h] = static_cast<uint16_t>(in.hour_counts(h));
    any = any || c->counts[h] != 0;
  }
  if (!any) return BadCell(p.name, "hour counts are all 0");
  return absl::OkStatus();
}
size_t HeapBytes(const HourCell&) { return 0; }

// The counts by hour of the week, for HOUR_OF_WEEK cells only.
template <typename Cell>
bool CountsByHour(const Cell&, uint32_t (&)[kHoursPerWeek]) {
  return false;
}
bool CountsByHour(const HourCell& c, uint32_t (&out)[kHoursPerWeek]) {
  std::copy(std::begin(c.counts), std::end(c.counts), std::begin(out));
  return true;
}

// ---- When a value changes with time alone ----

using DayStart = absl::FunctionRef<absl::Time(int64_t)>;

// All-time values change only with inputs.
template <typename Cell>
absl::Time NextChangeOf(const Cell&, const Params&, absl::Time, int32_t, DayStart) {
  return absl::InfiniteFuture();
}

// When `bucket`, inside the window now, leaves it: once the window's first
// bucket (Params::Horizon) is past it.
absl::Time BucketLeaves(const Params& p, uint32_t bucket) {
  return absl::FromUnixSeconds((static_cast<int64_t>(bucket) + p.window_buckets + 1) *
                               p.resolution_seconds);
}

// A window's value changes when its oldest bucket still inside leaves.
template <typename Buckets>
absl::Time OldestBucketLeaves(const Buckets& buckets, const Params& p, absl::Time now) {
  const uint32_t horizon = p.Horizon(now);
  for (const auto& b : buckets) {
    if (b.bucket >= horizon) return BucketLeaves(p, b.bucket);
  }
  return absl::InfiniteFuture();
}

absl::Time NextChangeOf(const CountBucketsCell& c, const Params& p, absl::Time now, int32_t,
                        DayStart) {
  return OldestBucketLeaves(c.buckets, p, now);
}
absl::Time NextChangeOf(const NumberBucketsCell& c, const Params& p, absl::Time now, int32_t,
                        DayStart) {
  return OldestBucketLeaves(c.buckets, p, now);
}
absl::Time NextChangeOf(const DistinctCell& c, const Params& p, absl::Time now, int32_t,
                        DayStart) {
  if (!p.windowed) return absl::InfiniteFuture();
  const uint32_t horizon = p.Horizon(now);
  uint32_t oldest = UINT32_MAX;
  for (const DistinctEntry& e : c.values) {
    if (e.bucket >= horizon) oldest = std::min(oldest, e.bucket);
  }
  return oldest == UINT32_MAX ? absl::InfiniteFuture() : BucketLeaves(p, oldest);
}
absl::Time NextChangeOf(const DayCell& c, const Params& p, absl::Time, int32_t today,
                        DayStart day_start) {
  switch (p.function) {
    case v1::Behavior::CURRENT_STREAK:
      // The run counts through the day after its last; it breaks when the
      // day after that begins.
      if (c.last_day >= static_cast<int64_t>(today) - 1) return day_start(c.last_day + int64_t{2});
      return absl::InfiniteFuture();
    case v1::Behavior::ACTIVE_DAYS:
      if (!p.windowed) return absl::InfiniteFuture();
      // The window is the local days today - W + 1 .. today: its oldest
      // active day d leaves when day d + W begins.
      for (int64_t d = static_cast<int64_t>(today) - p.window_buckets + 1; d <= today; ++d) {
        if (DayActive(c, d)) return day_start(d + p.window_buckets);
      }
      return absl::InfiniteFuture();
    default:
      return absl::InfiniteFuture();
  }
}

// ---- Merging one subject's cell into another's (Engine::MergeSubjects) ----
// The merged cell is what the two subjects' events would have made in one
// cell, counted once each, except where a cell keeps too little to tell:
// see each.

void MergeInto(CountCell& into, const CountCell& from, const Params&) {
  into.count = Plus(into.count, from.count);
}
void MergeInto(NumberCell& into, const NumberCell& from, const Params& p) {
  into.number = Combine(p.function, into.number, from.number);
  into.count = Plus(into.count, from.count);
}
void MergeInto(TimeCell& into, const TimeCell& from, const Params& p) {
  into.nanos = p.function == v1::Behavior::FIRST_TIME ? std::min(into.nanos, from.nanos)
                                                      : std::max(into.nanos, from.nanos);
}
void MergeInto(CountBucketsCell& into, const CountBucketsCell& from, const Params&) {
  for (const CountBucket& b : from.buckets) {
    CountBucket& mine = BucketFor(&into.buckets, b.bucket);
    mine.count = Plus(mine.count, int64_t{b.count});
  }
}
void MergeInto(NumberBucketsCell& into, const NumberBucketsCell& from, const Params& p) {
  for (const NumberBucket& b : from.buckets) {
    NumberBucket& mine = BucketFor(&into.buckets, b.bucket);
    mine.number = mine.count == 0 ? b.number : Combine(p.function, mine.number, b.number);
    mine.count = Plus(mine.count, int64_t{b.count});
  }
}
// Values both saw count once (the later bucket kept). Over the limit, the
// values seen longest ago go first (windowed), or the receiving subject's
// are kept and the rest dropped (all time), as adding them one by one would.
void MergeInto(DistinctCell& into, const DistinctCell& from, const Params& p) {
  std::vector<DistinctEntry> merged;
  merged.reserve(into.values.size() + from.values.size());
  size_t i = 0, j = 0;
  std::vector<bool> mine;
  while (i < into.values.size() || j < from.values.size()) {
    if (j == from.values.size() ||
        (i < into.values.size() && into.values[i].hash < from.values[j].hash)) {
      merged.push_back(into.values[i++]);
      mine.push_back(true);
    } else if (i == into.values.size() || from.values[j].hash < into.values[i].hash) {
      merged.push_back(from.values[j++]);
      mine.push_back(false);
    } else {
      merged.push_back({into.values[i].hash, std::max(into.values[i].bucket,
                                                      from.values[j].bucket)});
      mine.push_back(true);
      ++i;
      ++j;
    }
  }
  const size_t limit = static_cast<size_t>(p.distinct_limit);
  if (merged.size() > limit) {
    // Which to keep: by (bucket, receiving subject's first) from the newest.
    std::vector<size_t> order(merged.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (p.windowed && merged[a].bucket != merged[b].bucket) {
        return merged[a].bucket > merged[b].bucket;
      }
      return mine[a] && !mine[b];
    });
    std::vector<bool> keep(merged.size(), false);
    for (size_t k = 0; k < limit; ++k) keep[order[k]] = true;
    std::vector<DistinctEntry> kept;
    for (size_t k = 0; k < merged.size(); ++k) {
      if (keep[k]) kept.push_back(merged[k]);
    }
    merged = std::move(kept);
  }
  into.values = std::move(merged);
}
// The days `from` shows (its last day and the 64 before it) are added one
// by one, oldest first, as late days are; its active days past what its
// record shows are counted as days of their own, and its longest run is
// kept if longer.
void MergeInto(DayCell& into, const DayCell& from, const Params& p) {
  int32_t shown = 0;
  for (int64_t d = static_cast<int64_t>(from.last_day) - 64; d <= from.last_day; ++d) {
    if (!DayActive(from, d)) continue;
    ++shown;
    Placed s;
    s.day = static_cast<int32_t>(d);
    if (Contributes(&into, p, s)) AddTo(into, p, s);
  }
  into.days += std::max(0, from.days - shown);
  into.longest = std::max(into.longest, from.longest);
}
void MergeInto(HourCell& into, const HourCell& from, const Params& p) {
  for (int h = 0; h < kHoursPerWeek; ++h) {
    if (from.counts[h] == 0) continue;
    Placed s;
    s.hour = h;
    s.weight = from.counts[h];
    AddTo(into, p, s);
  }
}

// ---- Packed cells: the common small state, held in the index entry ----
// A subject's state is usually small: one bucket of a sliding count, one
// run of days, a count, a time. Held in the 63 low bits of the subject's
// 64-bit index entry, it is reached with the entry, with no second cache
// miss and no cell. Pack gives false when `c` does not fit; Unpack(bits)
// gives back exactly the cell that Pack(cell, &bits) saw. Cells of other
// kinds never pack, and their columns keep 32-bit entries.

template <typename Cell>
constexpr bool kPacks =
    std::is_same_v<Cell, CountCell> || std::is_same_v<Cell, NumberCell> ||
    std::is_same_v<Cell, TimeCell> || std::is_same_v<Cell, CountBucketsCell> ||
    std::is_same_v<Cell, NumberBucketsCell> || std::is_same_v<Cell, DayCell>;

constexpr uint64_t kLow31 = (uint64_t{1} << 31) - 1;

template <typename Cell>
bool Pack(const Cell&, uint64_t*) {
  return false;
}
template <typename Cell>
Cell Unpack(uint64_t) {
  return Cell();
}

// A count: always (it saturates at INT64_MAX, below 2^63).
bool Pack(const CountCell& c, uint64_t* bits) {
  if (c.count < 0) return false;
  *bits = static_cast<uint64_t>(c.count);
  return true;
}
template <>
CountCell Unpack<CountCell>(uint64_t bits) {
  return CountCell{static_cast<int64_t>(bits)};
}

// A time at or after 1970 (every input's): its Unix nanoseconds.
bool Pack(const TimeCell& c, uint64_t* bits) {
  if (!c.set || c.nanos < 0) return false;
  *bits = static_cast<uint64_t>(c.nanos);
  return true;
}
template <>
TimeCell Unpack<TimeCell>(uint64_t bits) {
  return TimeCell{static_cast<int64_t>(bits), true};
}

// One bucket below 2^31 (with 1-second buckets, until 2038): the bucket in
// bits 32-62, its count in bits 0-31.
bool Pack(const CountBucketsCell& c, uint64_t* bits) {
  if (c.buckets.size() != 1 || c.buckets[0].bucket > kLow31) return false;
  *bits = (uint64_t{c.buckets[0].bucket} << 32) | c.buckets[0].count;
  return true;
}
template <>
CountBucketsCell Unpack<CountBucketsCell>(uint64_t bits) {
  CountBucketsCell c;
  c.buckets.push_back({static_cast<uint32_t>(bits >> 32), static_cast<uint32_t>(bits)});
  return c;
}

// A number that is a whole count of hundredths below 2^32 of them in
// magnitude (a price, a quantity), exactly: those hundredths as a 33-bit
// two's complement number. -0 is not one (it would come back as 0).
constexpr int kCentsBits = 33;
bool PackCents(double number, uint64_t* bits) {
  const double scaled = number * 100;
  if (!(std::abs(scaled) < 4294967296.0) || (number == 0 && std::signbit(number))) return false;
  const int64_t cents = std::llround(scaled);
  if (static_cast<double>(cents) / 100 != number) return false;
  *bits = static_cast<uint64_t>(cents) & ((uint64_t{1} << kCentsBits) - 1);
  return true;
}
double UnpackCents(uint64_t bits) {
  // Sign-extends the 33 bits.
  const int64_t cents = static_cast<int64_t>(bits << (64 - kCentsBits)) >> (64 - kCentsBits);
  return static_cast<double>(cents) / 100;
}

// An all-time SUM, MIN or MAX whose number packs (PackCents) and whose
// count is below 2^30: the count in bits 33-62.
bool Pack(const NumberCell& c, uint64_t* bits) {
  uint64_t cents;
  if (c.count < 0 || c.count >= (int64_t{1} << 30) || !PackCents(c.number, &cents)) return false;
  *bits = (static_cast<uint64_t>(c.count) << kCentsBits) | cents;
  return true;
}
template <>
NumberCell Unpack<NumberCell>(uint64_t bits) {
  return NumberCell{UnpackCents(bits), static_cast<int64_t>(bits >> kCentsBits)};
}

// One bucket below 2^22 (with 1-hour buckets, until the year 2448) of
// fewer than 256 events, whose number packs (PackCents): the bucket in
// bits 41-62, the count in bits 33-40.
bool Pack(const NumberBucketsCell& c, uint64_t* bits) {
  uint64_t cents;
  if (c.buckets.size() != 1 || c.buckets[0].bucket >= (uint32_t{1} << 22) ||
      c.buckets[0].count >= 256 || !PackCents(c.buckets[0].number, &cents)) {
    return false;
  }
  *bits = (uint64_t{c.buckets[0].bucket} << 41) | (uint64_t{c.buckets[0].count} << kCentsBits) |
          cents;
  return true;
}
template <>
NumberBucketsCell Unpack<NumberBucketsCell>(uint64_t bits) {
  NumberBucketsCell c;
  c.buckets.push_back({static_cast<uint32_t>(bits >> 41),
                       static_cast<uint32_t>((bits >> kCentsBits) & 255), UnpackCents(bits)});
  return c;
}

// The days of a record that is one run, when each of them is active and no
// other (days == run == longest, and `earlier` shows the run's days before
// last_day): the run in bits 32-62, last_day in bits 0-31. Most subjects
// of a daily streak have been active on one day, or a few in a row.
uint64_t RunBits(int32_t run) {
  return run - 1 >= 64 ? ~uint64_t{0} : (uint64_t{1} << (run - 1)) - 1;
}
bool Pack(const DayCell& c, uint64_t* bits) {
  if (c.run < 1 || c.days != c.run || c.longest != c.run || c.earlier != RunBits(c.run)) {
    return false;
  }
  *bits = (static_cast<uint64_t>(c.run) << 32) | static_cast<uint32_t>(c.last_day);
  return true;
}
template <>
DayCell Unpack<DayCell>(uint64_t bits) {
  DayCell c;
  c.last_day = static_cast<int32_t>(static_cast<uint32_t>(bits));
  c.run = c.longest = c.days = static_cast<int32_t>((bits >> 32) & kLow31);
  c.earlier = RunBits(c.run);
  return c;
}

// ---- The column: cells found through a dense index ----

template <typename Cell>
class Column final : public BehaviorColumn {
 public:
  explicit Column(Params params) : p_(params) {}

  void Add(uint32_t subject, const Sample& added) override {
    const Placed sample(added, p_);
    Entry* entry = EntryOf(subject);
    if (entry == nullptr || *entry == 0) {
      if (!Contributes(static_cast<const Cell*>(nullptr), p_, sample)) return;
      Cell cell;
      AddTo(cell, p_, sample);
      Store(subject, std::move(cell));
      return;
    }
    if (IsPacked(*entry)) {
      Cell cell = Unpack<Cell>(*entry & kPayload);
      if (!Contributes(&cell, p_, sample)) return;
      AddTo(cell, p_, sample);
      Place(entry, std::move(cell));
      return;
    }
    Cell& cell = cells_[*entry - 1];
    if (!Contributes(&cell, p_, sample)) return;
    AddTo(cell, p_, sample);
    // Back into the entry once it fits again (a window's old buckets gone).
    if (uint64_t bits; TryPack(cell, &bits)) {
      Free(static_cast<uint32_t>(*entry - 1));
      *entry = static_cast<Entry>(kPacked | bits);
    }
  }

  bool Read(uint32_t subject, absl::Time now, int32_t today, Value* out) const override {
    Cell scratch;
    const Cell* cell = Load(subject, &scratch);
    return cell != nullptr && ReadFrom(*cell, p_, now, today, out);
  }

  absl::Time NextChange(uint32_t subject, absl::Time now, int32_t today,
                        DayStart day_start) const override {
    Cell scratch;
    const Cell* cell = Load(subject, &scratch);
    return cell == nullptr ? absl::InfiniteFuture()
                           : NextChangeOf(*cell, p_, now, today, day_start);
  }

  bool Has(uint32_t subject) const override {
    return subject < index_.size() && index_[subject] != 0;
  }

  void Prefetch(uint32_t subject) const override {
    if (subject < index_.size()) __builtin_prefetch(&index_[subject]);
  }

  bool HourCounts(uint32_t subject, uint32_t (&counts)[kHoursPerWeek]) const override {
    Cell scratch;
    const Cell* cell = Load(subject, &scratch);
    return cell != nullptr && CountsByHour(*cell, counts);
  }

  void Remove(uint32_t subject) override {
    if (Has(subject)) Take(subject);
  }

  void Merge(uint32_t from, uint32_t into) override {
    if (!Has(from) || from == into) return;
    Cell source = Take(from);
    if (Has(into)) {
      Cell target = Take(into);
      MergeInto(target, source, p_);
      Store(into, std::move(target));
    } else {
      Store(into, std::move(source));
    }
  }

  void Write(uint32_t subject, v1::SnapshotBehaviorCell* out) const override {
    Cell scratch;
    Encode(*Load(subject, &scratch), p_, out);
  }

  absl::Status Restore(uint32_t subject, const v1::SnapshotBehaviorCell& in) override {
    if (Has(subject)) return BadCell(p_.name, "a subject's cell repeats");
    Cell cell;
    if (absl::Status s = Decode(in, p_, &cell); !s.ok()) return s;
    Store(subject, std::move(cell));
    return absl::OkStatus();
  }

  int64_t subjects() const override { return holders_; }

  int64_t bytes() const override {
    size_t heap = 0;
    for (const Cell& c : cells_) heap += HeapBytes(c);
    return static_cast<int64_t>(index_.size() * sizeof(Entry) + cells_.size() * sizeof(Cell) +
                                free_.capacity() * sizeof(uint32_t) + heap);
  }

 private:
  // Per known subject: 0 when it holds no state; kPacked | bits when its
  // cell is packed in the entry (kPacks<Cell> only); else 1 + the position
  // of its cell in cells_.
  using Entry = std::conditional_t<kPacks<Cell>, uint64_t, uint32_t>;
  static constexpr uint64_t kPacked = uint64_t{1} << 63;
  static constexpr uint64_t kPayload = kPacked - 1;

  static bool IsPacked(Entry e) { return kPacks<Cell> && (uint64_t{e} & kPacked) != 0; }

  // Pack, for the kinds of cell whose entries have room for one.
  static bool TryPack(const Cell& cell, uint64_t* bits) {
    if constexpr (kPacks<Cell>) {
      return Pack(cell, bits);
    } else {
      return false;
    }
  }

  Entry* EntryOf(uint32_t subject) {
    return subject < index_.size() ? &index_[subject] : nullptr;
  }

  // `subject`'s cell: in cells_, or unpacked into *scratch; null when it
  // holds none.
  const Cell* Load(uint32_t subject, Cell* scratch) const {
    if (subject >= index_.size() || index_[subject] == 0) return nullptr;
    const Entry e = index_[subject];
    if (IsPacked(e)) {
      *scratch = Unpack<Cell>(e & kPayload);
      return scratch;
    }
    return &cells_[e - 1];
  }

  // Makes `cell` the state of `subject`, which holds none.
  void Store(uint32_t subject, Cell&& cell) {
    while (index_.size() <= subject) index_.push_back(Entry{0});
    ++holders_;
    Place(&index_[subject], std::move(cell));
  }

  // Puts `cell` in *entry, which holds nothing or a packed cell: packed
  // when it fits, else in a cell of its own.
  void Place(Entry* entry, Cell&& cell) {
    if (uint64_t bits; TryPack(cell, &bits)) {
      *entry = static_cast<Entry>(kPacked | bits);
      return;
    }
    uint32_t position;
    if (!free_.empty()) {
      position = free_.back();
      free_.pop_back();
      cells_[position] = std::move(cell);
    } else {
      position = static_cast<uint32_t>(cells_.size());
      cells_.push_back(std::move(cell));
    }
    *entry = static_cast<Entry>(position + 1);
  }

  // Removes `subject`'s state (REQUIRES: Has(subject)) and returns it.
  Cell Take(uint32_t subject) {
    Entry& e = index_[subject];
    Cell cell;
    if (IsPacked(e)) {
      cell = Unpack<Cell>(e & kPayload);
    } else {
      cell = std::move(cells_[e - 1]);
      Free(static_cast<uint32_t>(e - 1));
    }
    e = 0;
    --holders_;
    return cell;
  }

  // Empties the cell at `position` for reuse. Destroyed (freeing what it
  // held outside itself) and made anew, not assigned a fresh Cell: GCC's
  // optimiser warns, wrongly, that moving an empty InlinedVector reads its
  // uninitialised heap pointer.
  void Free(uint32_t position) {
    Cell* cell = &cells_[position];
    std::destroy_at(cell);
    ::new (static_cast<void*>(cell)) Cell();
    free_.push_back(position);
  }

  Params p_;
  ChunkedVector<Entry> index_;
  ChunkedVector<Cell> cells_;
  std::vector<uint32_t> free_;  // Cells not in use, empty, for reuse.
  int64_t holders_ = 0;         // Subjects holding state.
};

// Whether `v` is a value SUM, MIN and MAX take: a finite number.
bool IsFiniteNumber(const Value* v) {
  return v != nullptr && v->is_number() && std::isfinite(v->AsDouble());
}

// A property value's identity for DISTINCT_COUNT: equal values (an int and
// a double of the same value included) hash alike. False for values it
// does not count (lists, NaN).
bool HashValue(const Value& v, uint64_t* hash) {
  StableHasher h;
  switch (v.type()) {
    case Value::Type::kString:
      h.Add("s").Add(v.string_value());
      break;
    case Value::Type::kBool:
      h.Add(v.bool_value() ? "t" : "f");
      break;
    case Value::Type::kInt:
    case Value::Type::kDouble: {
      const double d = v.AsDouble();
      if (std::isnan(d)) return false;
      char bytes[8];
      if (v.type() == Value::Type::kInt &&
          static_cast<double>(v.int_value()) != d) {  // Beyond 2^53: the int itself.
        const int64_t i = v.int_value();
        std::memcpy(bytes, &i, sizeof bytes);
        h.Add("i").Add(absl::string_view(bytes, sizeof bytes));
        break;
      }
      const double canonical = d == 0 ? 0.0 : d;  // -0 == 0.
      std::memcpy(bytes, &canonical, sizeof bytes);
      h.Add("n").Add(absl::string_view(bytes, sizeof bytes));
      break;
    }
    case Value::Type::kTimestamp: {
      const int64_t n = ToNanos(v.timestamp_value());
      char bytes[8];
      std::memcpy(bytes, &n, sizeof bytes);
      h.Add("T").Add(absl::string_view(bytes, sizeof bytes));
      break;
    }
    default:
      return false;
  }
  *hash = h.Finish();
  return true;
}

}  // namespace

std::unique_ptr<BehaviorColumn> BehaviorColumn::Create(const BehaviorSpec& spec) {
  Params p;
  p.function = spec.function;
  p.windowed = spec.windowed;
  p.resolution_seconds = spec.resolution_seconds;
  p.window_buckets = spec.window_buckets;
  p.distinct_limit = spec.distinct_limit;
  p.name = spec.def.name();
  switch (spec.shape) {
    case BehaviorShape::kCount:
      return std::make_unique<Column<CountCell>>(p);
    case BehaviorShape::kNumber:
      return std::make_unique<Column<NumberCell>>(p);
    case BehaviorShape::kTime:
      return std::make_unique<Column<TimeCell>>(p);
    case BehaviorShape::kBuckets:
      if (spec.function == v1::Behavior::COUNT) return std::make_unique<Column<CountBucketsCell>>(p);
      return std::make_unique<Column<NumberBucketsCell>>(p);
    case BehaviorShape::kDistinct:
      return std::make_unique<Column<DistinctCell>>(p);
    case BehaviorShape::kDays:
      return std::make_unique<Column<DayCell>>(p);
    case BehaviorShape::kHours:
      return std::make_unique<Column<HourCell>>(p);
  }
  return nullptr;
}

void BehaviorStore::Declare(std::vector<BehaviorSpec> specs, absl::Time now) {
  std::vector<absl::Time> since;
  std::vector<std::unique_ptr<BehaviorColumn>> columns;
  for (const BehaviorSpec& spec : specs) {
    const int old = Find(spec.def.name());
    if (old >= 0 &&
        google::protobuf::util::MessageDifferencer::Equals(specs_[old].def, spec.def)) {
      since.push_back(since_[old]);
      columns.push_back(std::move(columns_[old]));
    } else {
      since.push_back(now);
      columns.push_back(nullptr);
    }
  }
  specs_ = std::move(specs);
  since_ = std::move(since);
  columns_ = std::move(columns);
  // Columns point at their spec for messages: made after specs_ settles.
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (columns_[i] == nullptr) columns_[i] = BehaviorColumn::Create(specs_[i]);
  }
  Index();
}

void BehaviorStore::Reset(std::vector<BehaviorSpec> specs, std::vector<absl::Time> since) {
  specs_ = std::move(specs);
  since_ = std::move(since);
  columns_.clear();
  for (const BehaviorSpec& spec : specs_) columns_.push_back(BehaviorColumn::Create(spec));
  Index();
}

void BehaviorStore::Index() {
  by_name_.clear();
  by_event_.clear();
  ++generation_;
  for (size_t i = 0; i < specs_.size(); ++i) {
    by_name_.emplace(specs_[i].def.name(), static_cast<int>(i));
    by_event_[specs_[i].def.event().event()].push_back(static_cast<int>(i));
  }
  ResolveSegments();
}

int BehaviorStore::Find(absl::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : it->second;
}

namespace {

constexpr absl::CivilDay kEpochDay(1970, 1, 1);

// The first instant of local day `day` (days since 1970-01-01) in `zone`:
// its midnight, or, when a clock change skips midnight, the change itself.
absl::Time StartOfLocalDay(int64_t day, absl::TimeZone zone) {
  const absl::TimeZone::TimeInfo info = zone.At(absl::CivilSecond(kEpochDay + day));
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}

}  // namespace

absl::TimeZone BehaviorStore::ZoneOf(const BehaviorSpec& spec, const Attributes* profile,
                                     const BehaviorReadContext& context) {
  return ZoneNamedBy(profile != nullptr ? FindSorted(*profile, spec.time_zone_attribute) : nullptr,
                     spec.default_zone, context.zones, context.unknown_zones);
}

int32_t BehaviorStore::LocalDay(const BehaviorSpec& spec, const Attributes* profile, absl::Time t,
                                const BehaviorReadContext& context) {
  return static_cast<int32_t>(LocalDayNumber(t, ZoneOf(spec, profile, context)));
}

bool BehaviorStore::TimeDependent(size_t index) const {
  return specs_[index].windowed || specs_[index].function == v1::Behavior::CURRENT_STREAK;
}

bool BehaviorStore::FallsWithTime(size_t index) const {
  const BehaviorSpec& spec = specs_[index];
  // (A windowed SUM may rise as a negative amount leaves the window, a
  // windowed MAX or MIN may become absent, and a DISTINCT_COUNT at its
  // limit is not a plain count.)
  return (spec.windowed && (spec.function == v1::Behavior::COUNT ||
                            spec.function == v1::Behavior::ACTIVE_DAYS)) ||
         spec.function == v1::Behavior::CURRENT_STREAK;
}

absl::Time BehaviorStore::NextChange(absl::string_view name, uint32_t subject,
                                     const Attributes* profile,
                                     const BehaviorReadContext& context) const {
  const int i = Find(name);
  if (i < 0) return absl::InfiniteFuture();
  return NextChangeAt(i, subject, profile, context);
}

absl::Time BehaviorStore::NextChangeAt(size_t i, uint32_t subject, const Attributes* profile,
                                       const BehaviorReadContext& context) const {
  if (subject == kNoSubject || !TimeDependent(i)) return absl::InfiniteFuture();
  const BehaviorSpec& spec = specs_[i];
  if (spec.shape != BehaviorShape::kDays) {
    return columns_[i]->NextChange(subject, context.now, 0, [](int64_t) {
      return absl::InfiniteFuture();
    });
  }
  const absl::TimeZone zone = ZoneOf(spec, profile, context);
  const int32_t today = static_cast<int32_t>(LocalDayNumber(context.now, zone));
  return columns_[i]->NextChange(subject, context.now, today,
                                 [zone](int64_t day) { return StartOfLocalDay(day, zone); });
}

void BehaviorStore::DescribeSample(const BehaviorSpec& spec,
                                   absl::FunctionRef<const Value*()> property,
                                   const Attributes* profile, const BehaviorReadContext& context,
                                   BehaviorColumn::Sample* sample) {
  switch (spec.function) {
    case v1::Behavior::SUM:
    case v1::Behavior::MIN:
    case v1::Behavior::MAX:
      if (const Value* v = property(); IsFiniteNumber(v)) {
        sample->has_number = true;
        sample->number = v->AsDouble();
      }
      break;
    case v1::Behavior::DISTINCT_COUNT:
      if (const Value* v = property()) sample->has_hash = HashValue(*v, &sample->hash);
      break;
    case v1::Behavior::ACTIVE_DAYS:
    case v1::Behavior::CURRENT_STREAK:
    case v1::Behavior::LONGEST_STREAK:
      sample->day = LocalDay(spec, profile, sample->time, context);
      break;
    case v1::Behavior::HOUR_OF_WEEK:
      sample->hour = HourOfWeek(sample->time, ZoneOf(spec, profile, context));
      break;
    default:
      break;
  }
}

int BehaviorStore::Add(const Listeners& listeners, absl::FunctionRef<uint32_t()> subject,
                       absl::string_view subject_type, const Event& event,
                       const Attributes& profile, const BehaviorReadContext& context) {
  const absl::string_view type = SubjectTypeOrDefault(subject_type);
  int counted = 0;
  for (int i : listeners) {
    const BehaviorSpec& spec = specs_[i];
    if (spec.subject_type != type) continue;
    // A behaviour covers the time since it was declared: a late event from
    // before then is not counted, as it was not had it come on time.
    if (event.time < since_[i]) continue;
    if (!spec.where.always_true()) {
      // With engine time, so that a condition such as "profile.signed_up GE
      // now_minus 30d" holds as it would in a journey (without it every
      // now_minus comparison is false); with no behaviours, which a
      // matcher may not read.
      EventBindings bindings(&profile, &event, nullptr, context.now);
      if (!spec.where.Evaluate(bindings)) continue;
    }
    BehaviorColumn::Sample sample;
    sample.time = event.time;
    sample.now = std::max(context.now, event.time);
    DescribeSample(
        spec, [&] { return FindAttribute(event.properties, spec.def.property()); }, &profile,
        context, &sample);
    columns_[i]->Add(subject(), sample);
    ++counted;
  }
  return counted;
}

absl::Status BehaviorStore::CheckSeed(int index, const BehaviorSeed& seed) const {
  const BehaviorSpec& spec = specs_[index];
  const auto bad = [&](absl::string_view field, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SeedBehavior for ", SubjectTypeOrDefault(seed.subject_type), " \"",
        Escaped(seed.subject_id), "\", behaviour ", spec.def.name(), " (",
        FunctionName(spec.function), "): ", field, " ", what));
  };
  if (SubjectTypeOrDefault(seed.subject_type) != spec.subject_type) {
    return bad("subject_type", absl::StrCat("is not the behaviour's, ", spec.subject_type));
  }
  const bool numbers = spec.function == v1::Behavior::SUM || spec.function == v1::Behavior::MIN ||
                       spec.function == v1::Behavior::MAX;
  if (!seed.value.is_null()) {
    if (!seed.history.empty()) return bad("value", "and history are both given: give one");
    if (spec.windowed || (spec.function != v1::Behavior::COUNT && !numbers)) {
      return bad("value", "cannot seed it: its value depends on times; give history instead");
    }
    if (spec.function == v1::Behavior::COUNT &&
        (seed.value.type() != Value::Type::kInt || seed.value.int_value() < 0)) {
      return bad("value", "must be an int >= 0 (a count)");
    }
    if (numbers && !IsFiniteNumber(&seed.value)) return bad("value", "must be a finite number");
    return absl::OkStatus();
  }
  if (seed.history.size() > static_cast<size_t>(kMaxBehaviorSeedEntries)) {
    return bad("history", absl::StrCat("holds ", seed.history.size(), " entries, more than ",
                                       kMaxBehaviorSeedEntries));
  }
  for (size_t i = 0; i < seed.history.size(); ++i) {
    const BehaviorSeedEntry& entry = seed.history[i];
    const std::string field = absl::StrCat("history[", i, "]");
    if (entry.time < EarliestInputTime() || entry.time >= LatestInputTime()) {
      return bad(absl::StrCat(field, ".time"), "is not set or outside [1970, 2200)");
    }
    if (entry.time > seed.time) return bad(absl::StrCat(field, ".time"), "is after the seed's time");
    if (entry.count < 1) return bad(absl::StrCat(field, ".count"), "must be at least 1");
    if (numbers && !IsFiniteNumber(&entry.value)) {
      return bad(absl::StrCat(field, ".value"), "must be a finite number");
    }
    uint64_t hash = 0;
    if (spec.function == v1::Behavior::DISTINCT_COUNT &&
        (entry.value.type() == Value::Type::kTimestamp || !HashValue(entry.value, &hash))) {
      return bad(absl::StrCat(field, ".value"), "must be a string, number or bool");
    }
    if (!numbers && spec.function != v1::Behavior::DISTINCT_COUNT && !entry.value.is_null()) {
      return bad(absl::StrCat(field, ".value"), "must be null: the function reads no property");
    }
  }
  return absl::OkStatus();
}

void BehaviorStore::Seed(int index, uint32_t subject, const BehaviorSeed& seed,
                         const Attributes& profile, const BehaviorReadContext& context) {
  const BehaviorSpec& spec = specs_[index];
  BehaviorColumn& column = *columns_[index];
  column.Remove(subject);
  BehaviorColumn::Sample sample;
  sample.now = context.now;
  if (!seed.value.is_null()) {
    sample.time = std::min(seed.time, context.now);
    if (spec.function == v1::Behavior::COUNT) {
      if (seed.value.int_value() == 0) return;  // Nothing counted: no state.
      sample.weight = seed.value.int_value();
    } else {
      sample.has_number = true;
      sample.number = seed.value.AsDouble();
    }
    column.Add(subject, sample);
    return;
  }
  // Oldest first, as events would have come: a days record and a window
  // keep what their newest entries leave in reach.
  std::vector<const BehaviorSeedEntry*> entries;
  entries.reserve(seed.history.size());
  for (const BehaviorSeedEntry& entry : seed.history) entries.push_back(&entry);
  std::stable_sort(entries.begin(), entries.end(),
                   [](const BehaviorSeedEntry* a, const BehaviorSeedEntry* b) {
                     return a->time < b->time;
                   });
  for (const BehaviorSeedEntry* entry : entries) {
    sample.time = entry->time;
    sample.weight = entry->count;
    DescribeSample(spec, [entry] { return &entry->value; }, &profile, context, &sample);
    column.Add(subject, sample);
  }
}

const Value* BehaviorStore::Read(absl::string_view name, uint32_t subject,
                                 const Attributes* profile, const BehaviorReadContext& context,
                                 Value* scratch) const {
  const int i = Find(name);
  if (i < 0) return nullptr;
  return ReadAt(i, subject, profile, context, scratch);
}

const Value* BehaviorStore::ReadAt(size_t i, uint32_t subject, const Attributes* profile,
                                   const BehaviorReadContext& context, Value* scratch) const {
  const BehaviorSpec& spec = specs_[i];
  if (subject != kNoSubject) {
    int32_t today = 0;
    if (spec.shape == BehaviorShape::kDays) today = LocalDay(spec, profile, context.now, context);
    if (columns_[i]->Read(subject, context.now, today, scratch)) return scratch;
  }
  // Nothing held: counts are 0, a sum is 0, the rest absent.
  switch (spec.function) {
    case v1::Behavior::SUM:
      *scratch = Value::Double(0);
      return scratch;
    case v1::Behavior::MIN:
    case v1::Behavior::MAX:
    case v1::Behavior::FIRST_TIME:
    case v1::Behavior::LAST_TIME:
    case v1::Behavior::HOUR_OF_WEEK:
      return nullptr;
    default:
      *scratch = Value::Int(0);
      return scratch;
  }
}

bool BehaviorStore::HourCounts(size_t index, uint32_t subject, const Attributes* profile,
                               const BehaviorReadContext& context,
                               uint32_t (&counts)[kHoursPerWeek], absl::TimeZone* zone) const {
  if (subject == kNoSubject || !columns_[index]->HourCounts(subject, counts)) return false;
  *zone = ZoneOf(specs_[index], profile, context);
  return true;
}

namespace {

// What a segment's condition reads: the subject's profile, behaviours and
// other segments, at engine time. No event, no entry.
class SegmentBindings : public EventBindings {
 public:
  SegmentBindings(const BehaviorStore* store, const Attributes* profile, uint32_t subject,
                  const BehaviorReadContext& context)
      : EventBindings(profile, nullptr, nullptr, context.now),
        store_(store),
        subject_(subject),
        context_(context) {}

 protected:
  const Value* FindBehavior(absl::string_view key, Value* scratch) const override {
    return store_->Read(key, subject_, profile(), context_, scratch);
  }
  const Value* FindSegment(absl::string_view key, Value* scratch) const override {
    return store_->ReadSegment(key, subject_, profile(), context_, scratch);
  }
  absl::Time NextChange(PathRoot root, absl::string_view key) const override {
    return store_->PathNextChange(root, key, subject_, profile(), context_);
  }
  // The store's own segments are resolved against it (ResolveSegments).
  const Value* FindResolved(PathRoot root, absl::string_view key, int32_t slot,
                            Value* scratch) const override {
    switch (root) {
      case PathRoot::kBehavior:
        return store_->ReadAt(static_cast<size_t>(slot), subject_, profile(), context_, scratch);
      case PathRoot::kSegment:
        *scratch = Value::Bool(
            store_->InSegment(static_cast<size_t>(slot), subject_, profile(), context_));
        return scratch;
      default:
        return Find(root, key, scratch);
    }
  }
  bool FallsWithTimeResolved(PathRoot root, absl::string_view /*key*/,
                             int32_t slot) const override {
    return root == PathRoot::kBehavior && store_->FallsWithTime(static_cast<size_t>(slot));
  }
  absl::Time NextChangeResolved(PathRoot root, absl::string_view key,
                                int32_t slot) const override {
    switch (root) {
      case PathRoot::kBehavior:
        return store_->NextChangeAt(static_cast<size_t>(slot), subject_, profile(), context_);
      case PathRoot::kSegment:
        return store_->SegmentNextChange(static_cast<size_t>(slot), subject_, profile(),
                                         context_);
      default:
        return NextChange(root, key);
    }
  }

 private:
  const BehaviorStore* store_;
  uint32_t subject_;
  const BehaviorReadContext& context_;
};

}  // namespace

void BehaviorStore::SetSegments(std::vector<SegmentSpec> segments) {
  segments_ = std::move(segments);
  segment_index_.clear();
  for (size_t i = 0; i < segments_.size(); ++i) {
    segment_index_.emplace(segments_[i].def.name(), static_cast<int>(i));
  }
  ResolveSegments();
}

void BehaviorStore::ResolveSegments() {
  for (SegmentSpec& segment : segments_) {
    segment.condition.ResolveDeclarations([this](const Path& path) {
      return path.root == PathRoot::kBehavior ? Find(path.key) : FindSegment(path.key);
    });
  }
  // What a subject holding nothing reads is absent, 0 or false at any
  // engine time (ReadAt with kNoSubject; a now_minus comparison is false
  // unless its left side is a timestamp), so any time will do.
  static const Attributes* const kNoProfile = new Attributes();
  const BehaviorReadContext any_time{absl::UnixEpoch(), nullptr, nullptr};
  blank_members_.assign(segments_.size(), false);
  for (size_t i = 0; i < segments_.size(); ++i) {
    blank_members_[i] = InSegment(i, kNoSubject, kNoProfile, any_time);
  }
}

absl::Time BehaviorStore::PathNextChange(PathRoot root, absl::string_view key, uint32_t subject,
                                         const Attributes* profile,
                                         const BehaviorReadContext& context) const {
  switch (root) {
    case PathRoot::kBehavior:
      return NextChange(key, subject, profile, context);
    case PathRoot::kSegment:
      return SegmentNextChange(key, subject, profile, context);
    default:
      return absl::InfiniteFuture();
  }
}

int BehaviorStore::FindSegment(absl::string_view name) const {
  auto it = segment_index_.find(name);
  return it == segment_index_.end() ? -1 : it->second;
}

const Value* BehaviorStore::ReadSegment(absl::string_view name, uint32_t subject,
                                        const Attributes* profile,
                                        const BehaviorReadContext& context,
                                        Value* scratch) const {
  const int i = FindSegment(name);
  if (i < 0) return nullptr;
  *scratch = Value::Bool(InSegment(i, subject, profile, context));
  return scratch;
}

bool BehaviorStore::InSegment(size_t index, uint32_t subject, const Attributes* profile,
                              const BehaviorReadContext& context) const {
  // Declarations are checked free of loops, so this recursion (a segment
  // reading another) ends, at most as deep as there are segments.
  const SegmentBindings bindings(this, profile, subject, context);
  return segments_[index].condition.Evaluate(bindings);
}

absl::Time BehaviorStore::SegmentNextChange(size_t index, uint32_t subject,
                                            const Attributes* profile,
                                            const BehaviorReadContext& context) const {
  const SegmentBindings bindings(this, profile, subject, context);
  return segments_[index].condition.NextChange(bindings);
}

absl::Time BehaviorStore::SegmentNextChange(absl::string_view name, uint32_t subject,
                                            const Attributes* profile,
                                            const BehaviorReadContext& context) const {
  const int i = FindSegment(name);
  return i < 0 ? absl::InfiniteFuture() : SegmentNextChange(i, subject, profile, context);
}

}  // namespace cairn::internal
