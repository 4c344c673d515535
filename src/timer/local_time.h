// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Local wall-clock arithmetic for delays "until 09:00 on weekdays" in a
// subject's time zone, with deterministic handling of daylight-saving
// transitions:
//   - a local time that does not exist (skipped by a spring-forward jump)
//     resolves to the instant of the jump, i.e. as soon as the wall clock
//     passes it;
//   - a local time that happens twice (fall-back overlap) resolves to its
//     first occurrence.
// and the loading of zones by name, where the name comes from untrusted data
// (a profile attribute, a journey's settings): absl::LoadTimeZone treats a
// name as a path under the zoneinfo directory, so only well-formed IANA
// names may reach it.
//
// Thread-safety: the functions are pure (LoadZone is safe to call from any
// thread); a TimeZoneCache is not thread-safe.

#ifndef CAIRN_TIMER_LOCAL_TIME_H_
#define CAIRN_TIMER_LOCAL_TIME_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cairn/value.h"

namespace cairn::internal {

// The instant a local civil time denotes in `tz`, by the rules above.
absl::Time ResolveLocal(const absl::CivilSecond& local, absl::TimeZone tz);

// The first instant at or after `now` whose local time in `tz` is
// hour:minute on an allowed weekday. `weekday_mask` has bit 0 for Monday ...
// bit 6 for Sunday; 0 allows every day.
// REQUIRES: 0 <= hour <= 23, 0 <= minute <= 59.
absl::Time NextLocalTime(absl::Time now, absl::TimeZone tz, int hour, int minute,
                         uint8_t weekday_mask);

// The instant of `hour`:`minute` on local `day` in `tz`, by the rules above.
absl::Time AtLocal(absl::CivilDay day, int hour, int minute, absl::TimeZone tz);

// `text` as a date written exactly "YYYY-MM-DD", as absl::FormatCivilTime
// writes it back, so a year from 1000 to 9999 (absl alone also takes
// shorter fields, a sign, spaces and year 0, and rolls 1990-02-29 into
// March: all are refused here).
std::optional<absl::CivilDay> ParseDate(absl::string_view text);

// The calendar date `v` holds: a "YYYY-MM-DD" string (a date with no zone,
// taken as it is), or a timestamp or RFC 3339 string (its date in `tz`).
// nullopt for anything else, and for years outside 1..9999.
std::optional<absl::CivilDay> CalendarDateOf(const Value& v, absl::TimeZone tz);

// What 29 February means in a year without one.
enum class LeapDayRule { kFebruary28, kMarch1 };

// The first instant after `after` that is `days_before` days before the
// anniversary of `date` (its month and day, in `date`'s year or a later
// one) at `hour`:`minute` in `tz`. Each year is computed from the calendar,
// so repeated calls never drift. InfiniteFuture() if none lies before year
// 10000. REQUIRES: 0 <= days_before <= 365, a valid hour and minute.
absl::Time NextAnniversary(absl::Time after, absl::TimeZone tz, absl::CivilDay date,
                           int days_before, int hour, int minute, LeapDayRule leap_day);

// The bit of `day` in a weekday mask: 0 for Monday ... 6 for Sunday.
int WeekdayBit(absl::Weekday day);

// The local day of `t` in `tz`, as days since 1970-01-01: what
// absl::ToCivilDay(t, tz) - CivilDay(1970, 1, 1) gives. In UTC, the zone most
// behaviours count days in, it is a division, without the zone's
// transition lookup (half of a daily streak's cost per event).
int64_t LocalDayNumber(absl::Time t, absl::TimeZone tz);

// The last local day, as days since 1970-01-01, that an input time can fall
// on in any zone: 2200-01-01 (day 84006), the day east of UTC of an input
// late on 2199-12-31 (every input is before LatestInputTime()). Snapshot
// readers refuse stored days past it.
int32_t LastLocalDay();

// Local opening hours on chosen weekdays: open from `opens` to `closes`
// (minutes after local midnight); when `closes` < `opens` the window runs
// past midnight into the next day. `weekday_mask` (bit 0 Monday ... bit 6
// Sunday; 0 every day) names the days on which it opens.
struct LocalWindow {
  int opens = 0;
  int closes = 0;
  uint8_t weekday_mask = 0;
};

// Whether local time `local` lies inside `window`. A window that closes
// when it opens covers no minute.
bool InsideLocalWindow(const absl::CivilSecond& local, const LocalWindow& window);

// nullopt when `now` lies inside `window` in `tz`; else the instant it
// next opens. REQUIRES: opens != closes, both in [0, 1440).
std::optional<absl::Time> NextOpening(absl::Time now, absl::TimeZone tz,
                                      const LocalWindow& window);

// Hours in a week: the hours of an activity profile (HOUR_OF_WEEK).
inline constexpr int kHoursPerWeek = 168;

// The local hour of the week of `t` in `tz`: 0 for Monday 00:00-01:00 to
// 167 for Sunday 23:00-24:00.
int HourOfWeek(absl::Time t, absl::TimeZone tz);

// The best time for a subject whose activity by local hour of the week in
// `tz` is `counts`: among `now` (the hour in progress) and the starts of the
// local hours after it up to `last` inclusive, the one whose hour has the
// highest count, the earliest on a tie; nullopt when every one of those
// hours has count 0. A skipped hour (a spring-forward gap) is not a
// candidate; a repeated one is, at its first occurrence.
// REQUIRES: last - now is at most a few weeks (one step per hour).
std::optional<absl::Time> BusiestHourStart(const uint32_t (&counts)[kHoursPerWeek], absl::TimeZone tz,
                            absl::Time now, absl::Time last);

// The longest zone name accepted. The longest IANA name is 32 characters
// ("America/Argentina/ComodRivadavia"); the slack is for future names.
inline constexpr size_t kMaxTimeZoneNameLength = 64;

// True if `name` has the shape of an IANA zone name: 1 to
// kMaxTimeZoneNameLength characters, components separated by single '/',
// each starting with an ASCII letter and holding only ASCII letters, digits,
// '_', '+' and '-' ("UTC", "Etc/GMT+5", "America/Argentina/Buenos_Aires").
// So no absolute path, no "." or ".." component, no "file:" prefix. Says
// nothing about whether such a zone exists.
bool IsWellFormedTimeZoneName(absl::string_view name);

// The zone `name` names, or nullopt if the name is not well-formed (then
// nothing is read from the filesystem), is "localtime" (the host's zone,
// which would make a journey depend on the machine), or names no zone file
// in the zone database ($TZDIR, else /usr/share/zoneinfo; "UTC" needs
// none). Unknown names are refused before absl sees them: absl would keep
// each in a table for the life of the process.
std::optional<absl::TimeZone> LoadZone(absl::string_view name);

// Loads the zone a declaration names (a journey's or a behaviour's
// default_time_zone) into *zone. Returns "" when it loads, else what is
// wrong with the name, for a problem report.
std::string LoadDeclaredZone(absl::string_view name, absl::TimeZone* zone);

// Zones loaded by name, for lookups repeated per subject. Holds at most
// `capacity` zones, the first distinct ones that loaded: a zone beyond the
// bound is loaded again on every lookup instead (absl keeps its own table of
// loaded zones, so that costs a lookup there, not a file read). Names that do
// not load are not held, so that no input can fill the cache with garbage.
// What Find returns never depends on what is cached, only on the name.
class TimeZoneCache {
 public:
  // More than the IANA database's ~600 names (with links): a real
  // population of subjects never reaches it.
  static constexpr size_t kDefaultCapacity = 1024;

  explicit TimeZoneCache(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // LoadZone(name), cached.
  std::optional<absl::TimeZone> Find(absl::string_view name);

  // The number of zones held; at most the capacity.
  size_t size() const { return zones_.size(); }

 private:
  size_t capacity_;
  absl::flat_hash_map<std::string, absl::TimeZone> zones_;
};

// The zone a subject's profile names in its zone attribute (`name`, null
// when the profile has none), looked up through `cache`: `fallback` when the
// attribute is absent, and also when it is not a string naming a known zone,
// which is then counted in *unknown_zones (when not null).
absl::TimeZone ZoneNamedBy(const Value* name, absl::TimeZone fallback, TimeZoneCache* cache,
                           int64_t* unknown_zones);

}  // namespace cairn::internal

#endif  // CAIRN_TIMER_LOCAL_TIME_H_
