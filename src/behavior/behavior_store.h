// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// BehaviorStore: the engine's behaviours and every subject's state in them.
// Each behaviour keeps its state in a column: a dense index with an entry
// per known subject and fixed-size cells for the subjects that have state.
// Where the state is small (a count, a time, one bucket of a window, one
// run of days; a number only when it is a whole number of hundredths) it
// is kept in the subject's 64-bit index entry itself, and takes a cell
// only once it outgrows that, so the usual add or read touches one place.
// (Columns of other functions keep 32-bit entries naming cells.) Only the
// behaviours whose matcher names an event do any work for it. Values are
// computed when read, as of the engine time of the read, so that a sliding
// window slides and a streak breaks with no input at all.
//
// Rules (docs/semantics.md, "Behaviours"):
// - an event counts at its own time: a late one lands in the bucket (or
//   local day) of its time, if that is still inside the window;
// - a behaviour covers the time since it was declared: a late event older
//   than its declaration is not counted;
// - a sliding window of `last` at resolution R covers the buckets from the
//   one holding (now - last) to the one holding now;
// - DISTINCT_COUNT is exact up to its limit and then stays at the limit;
// - ACTIVE_DAYS and streaks remember the 64 local days before the latest
//   active day: a late event older than that is not counted in them;
// - HOUR_OF_WEEK counts each event in its local hour of the week, in the
//   subject's zone when it is counted, halving every hour when one would
//   pass 65535.
//
// Thread-safety: not thread-safe; owned by one engine.

#ifndef CAIRN_BEHAVIOR_BEHAVIOR_STORE_H_
#define CAIRN_BEHAVIOR_BEHAVIOR_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "behavior/behavior_spec.h"
#include "cairn/event.h"
#include "cairn/input.h"
#include "cairn/v1/snapshot.pb.h"
#include "cairn/value.h"
#include "timer/local_time.h"

namespace cairn::internal {

// One subject's state in one behaviour, for every subject: implemented per
// kind of state (behavior_store.cc).
class BehaviorColumn {
 public:
  virtual ~BehaviorColumn() = default;

  // Adds one matching event of `subject`, at `time`, applied at engine time
  // `now` (>= time). `number` and `hash` are the property's, when the
  // function reads one and the event carries a fitting value; `day` is the
  // event's local day (days functions). `weight` events are counted alike
  // (a seed's entry; 1 for an event).
  struct Sample {
    absl::Time time;
    absl::Time now;
    int64_t weight = 1;
    bool has_number = false;
    double number = 0;
    bool has_hash = false;
    uint64_t hash = 0;
    int32_t day = 0;
    int32_t hour = 0;  // HOUR_OF_WEEK: the local hour of the week.
  };
  virtual void Add(uint32_t subject, const Sample& sample) = 0;

  // The value of `subject` as of engine time `now` (`today`: the subject's
  // local day then, days functions); false when it has none.
  virtual bool Read(uint32_t subject, absl::Time now, int32_t today, Value* out) const = 0;

  // The earliest time after `now` at which Read(subject, ...) can give
  // another value with no input: a sliding window's oldest counted bucket
  // (or local day) leaving it, a current streak breaking. `today` is the
  // subject's local day at `now` and `day_start(d)` the first instant of
  // its local day d (days functions). InfiniteFuture when only inputs can
  // change the value (all-time functions, no state).
  virtual absl::Time NextChange(uint32_t subject, absl::Time now, int32_t today,
                                absl::FunctionRef<absl::Time(int64_t)> day_start) const = 0;

  // Whether `subject` holds state here.
  virtual bool Has(uint32_t subject) const = 0;

  // Starts fetching where `subject`'s state is found, to overlap that cache
  // miss with other work before an Add.
  virtual void Prefetch(uint32_t subject) const = 0;

  // HOUR_OF_WEEK: `subject`'s count of each local hour of the week, into
  // `counts`. False when it holds none, or the column is of another kind.
  virtual bool HourCounts(uint32_t subject, uint32_t (&counts)[kHoursPerWeek]) const = 0;

  // Drops `subject`'s state, if any; its cell is reused by the next subject
  // to need one.
  virtual void Remove(uint32_t subject) = 0;

  // Moves `from`'s state into `into`'s, combined with what `into` holds as
  // if one subject had done both's events (docs/semantics.md, "Merging
  // subjects"), and drops `from`'s. Nothing when `from` holds none.
  virtual void Merge(uint32_t from, uint32_t into) = 0;

  // Snapshot: writes `subject`'s state (REQUIRES: Has(subject)), and reads
  // it back, refusing a cell that this behaviour could not have written.
  virtual void Write(uint32_t subject, v1::SnapshotBehaviorCell* cell) const = 0;
  virtual absl::Status Restore(uint32_t subject, const v1::SnapshotBehaviorCell& cell) = 0;

  // Subjects holding state, and the bytes the column holds (cells, index,
  // and what cells hold outside themselves).
  virtual int64_t subjects() const = 0;
  virtual int64_t bytes() const = 0;

  // An empty column for `spec`.
  static std::unique_ptr<BehaviorColumn> Create(const BehaviorSpec& spec);
};

// What predicates and templates read behaviours through during one step.
struct BehaviorReadContext {
  absl::Time now;
  TimeZoneCache* zones = nullptr;
  int64_t* unknown_zones = nullptr;  // Counts profile zones that did not load.
};

class BehaviorStore {
 public:
  BehaviorStore() = default;
  BehaviorStore(const BehaviorStore&) = delete;
  BehaviorStore& operator=(const BehaviorStore&) = delete;

  // Makes `specs` the declarations, at engine time `now`. A behaviour whose
  // declaration is unchanged keeps its state and its since-time; a new or
  // changed one starts empty, since `now`; one no longer declared is
  // dropped with its state.
  void Declare(std::vector<BehaviorSpec> specs, absl::Time now);

  // Replaces everything with `specs` declared at `since` (snapshot restore):
  // every column empty.
  void Reset(std::vector<BehaviorSpec> specs, std::vector<absl::Time> since);

  // No behaviour and no segment is declared.
  bool empty() const { return specs_.empty() && segments_.empty(); }
  size_t size() const { return specs_.size(); }
  const BehaviorSpec& spec(size_t i) const { return specs_[i]; }
  const std::vector<BehaviorSpec>& specs() const { return specs_; }
  absl::Time since(size_t i) const { return since_[i]; }
  BehaviorColumn& column(size_t i) { return *columns_[i]; }
  const BehaviorColumn& column(size_t i) const { return *columns_[i]; }

  // The declaration index of `name`, or -1.
  int Find(absl::string_view name) const;

  // The behaviours counting events of one name, in declaration order: what
  // Add takes. By event name, for every name some behaviour counts, as of
  // the declarations numbered generation(): the number changes with every
  // Declare and Reset, so that an engine routing events by name can tell
  // when to look again.
  using Listeners = absl::InlinedVector<int, 2>;
  const absl::flat_hash_map<std::string, Listeners>& listeners_by_event() const {
    return by_event_;
  }
  uint64_t generation() const { return generation_; }

  // Adds `event` to every behaviour of `listeners` (those of its name)
  // that counts it: the subject's type (`subject_type`, "user" when empty)
  // and its condition (read against `profile`) match. `now` is engine
  // time, at or after the event's. Returns how many behaviours counted it.
  // `subject` gives the subject's index, interning it if need be; it is
  // called only when some behaviour counts the event.
  int Add(const Listeners& listeners, absl::FunctionRef<uint32_t()> subject,
          absl::string_view subject_type, const Event& event, const Attributes& profile,
          const BehaviorReadContext& context);

  // Starts fetching the state of `subject` in each behaviour of
  // `listeners`, ahead of an Add.
  void Prefetch(const Listeners& listeners, uint32_t subject) const {
    for (int i : listeners) columns_[i]->Prefetch(subject);
  }

  // Checks a seed for behaviour `index` (cairn/input.h, BehaviorSeed):
  // InvalidArgument naming the subject, behaviour and field. The subject
  // and time are the engine's to check.
  absl::Status CheckSeed(int index, const BehaviorSeed& seed) const;

  // Replaces `subject`'s state in behaviour `index` with `seed`'s, counted
  // as of context.now. REQUIRES: CheckSeed(index, seed) is OK.
  void Seed(int index, uint32_t subject, const BehaviorSeed& seed, const Attributes& profile,
            const BehaviorReadContext& context);

  // Behaviour `name` of `subject` as of context.now: a pointer to *scratch
  // holding it, or nullptr when absent (unknown name, or a MIN, MAX, FIRST_TIME
  // or LAST_TIME with nothing seen). `subject` may be kNoSubject: the values
  // of a subject never seen.
  const Value* Read(absl::string_view name, uint32_t subject, const Attributes* profile,
                    const BehaviorReadContext& context, Value* scratch) const;
  // The same for behaviour `index` (REQUIRES: < size()).
  const Value* ReadAt(size_t index, uint32_t subject, const Attributes* profile,
                      const BehaviorReadContext& context, Value* scratch) const;

  static constexpr uint32_t kNoSubject = UINT32_MAX;

  // The earliest time after context.now at which behaviour `name` of
  // `subject` can read differently with no input (BehaviorColumn::
  // NextChange); InfiniteFuture for an unknown name or kNoSubject.
  absl::Time NextChange(absl::string_view name, uint32_t subject, const Attributes* profile,
                        const BehaviorReadContext& context) const;
  // The same for behaviour `index` (REQUIRES: < size()).
  absl::Time NextChangeAt(size_t index, uint32_t subject, const Attributes* profile,
                          const BehaviorReadContext& context) const;

  // The activity profile of `subject` in HOUR_OF_WEEK behaviour `index`:
  // its count of each local hour of the week, and the zone those hours are
  // local to for it now (`profile`'s, else the behaviour's default). False
  // when it has none (kNoSubject included).
  bool HourCounts(size_t index, uint32_t subject, const Attributes* profile,
                  const BehaviorReadContext& context, uint32_t (&counts)[kHoursPerWeek],
                  absl::TimeZone* zone) const;

  // Whether behaviour `index`'s value can change with time alone (a
  // sliding window, a current streak).
  bool TimeDependent(size_t index) const;
  // Whether time alone can only make it fall, and it is never absent: a
  // COUNT or ACTIVE_DAYS over a sliding window, a CURRENT_STREAK.
  bool FallsWithTime(size_t index) const;

  // Makes `segments` the declared segments. They hold no state: whether a
  // subject is in one is computed from its profile and behaviours when read.
  void SetSegments(std::vector<SegmentSpec> segments);
  const std::vector<SegmentSpec>& segments() const { return segments_; }

  // Whether `subject` (kNoSubject: one never seen, with `profile`) meets
  // segment `name` as of context.now: *scratch set to a bool and returned,
  // or nullptr when no such segment is declared.
  const Value* ReadSegment(absl::string_view name, uint32_t subject, const Attributes* profile,
                           const BehaviorReadContext& context, Value* scratch) const;
  // The same for segment `index` (REQUIRES: < segments().size()).
  bool InSegment(size_t index, uint32_t subject, const Attributes* profile,
                 const BehaviorReadContext& context) const;

  // Whether a subject holding nothing (no profile attribute, no state in
  // any behaviour) is in segment `index` (REQUIRES: < segments().size()).
  // No passing of time changes that answer: everything such a subject's
  // condition reads is absent, 0 or false at any time.
  bool InSegmentWhenBlank(size_t index) const { return blank_members_[index]; }

  // The earliest time after context.now at which segment `index`'s answer
  // for `subject` can change with no input (CompiledPredicate::NextChange).
  absl::Time SegmentNextChange(size_t index, uint32_t subject, const Attributes* profile,
                               const BehaviorReadContext& context) const;
  // The same by name; InfiniteFuture when no such segment is declared.
  absl::Time SegmentNextChange(absl::string_view name, uint32_t subject,
                               const Attributes* profile,
                               const BehaviorReadContext& context) const;

  // The index of segment `name`, or -1.
  int FindSegment(absl::string_view name) const;

  // NextChange for a behavior.* path, SegmentNextChange for a segment.*
  // path; InfiniteFuture for any other root (only inputs change those).
  // What every binding that reads behaviours answers Bindings::NextChange
  // with.
  absl::Time PathNextChange(PathRoot root, absl::string_view key, uint32_t subject,
                            const Attributes* profile, const BehaviorReadContext& context) const;

 private:
  // The subject's zone for behaviour `spec`.
  static absl::TimeZone ZoneOf(const BehaviorSpec& spec, const Attributes* profile,
                               const BehaviorReadContext& context);
  // The local day of `t` in the subject's zone for behaviour `spec`.
  static int32_t LocalDay(const BehaviorSpec& spec, const Attributes* profile, absl::Time t,
                          const BehaviorReadContext& context);
  // Fills in what `spec`'s function reads about a sample at sample->time:
  // the number (SUM, MIN, MAX) or hash (DISTINCT_COUNT) of the value
  // `property` gives, when it fits, or the local day (days functions). For
  // an event and a seed's entry alike.
  static void DescribeSample(const BehaviorSpec& spec, absl::FunctionRef<const Value*()> property,
                             const Attributes* profile, const BehaviorReadContext& context,
                             BehaviorColumn::Sample* sample);
  // Rebuilds the name and event indexes, and resolves the segments' reads
  // again (ResolveSegments).
  void Index();
  // Resolves the behavior.* and segment.* reads of every segment's
  // condition to the current declarations' indexes
  // (CompiledPredicate::ResolveDeclarations), so that checking a segment
  // looks up no name. Run whenever the behaviours or segments change.
  void ResolveSegments();

  std::vector<BehaviorSpec> specs_;
  std::vector<absl::Time> since_;
  std::vector<std::unique_ptr<BehaviorColumn>> columns_;
  absl::flat_hash_map<std::string, int> by_name_;
  // Event name -> the behaviours counting it, in declaration order.
  absl::flat_hash_map<std::string, Listeners> by_event_;
  uint64_t generation_ = 0;  // Of the declarations: see generation().
  std::vector<SegmentSpec> segments_;
  absl::flat_hash_map<std::string, int> segment_index_;
  std::vector<bool> blank_members_;  // InSegmentWhenBlank, by segment.
};

}  // namespace cairn::internal

#endif  // CAIRN_BEHAVIOR_BEHAVIOR_STORE_H_
