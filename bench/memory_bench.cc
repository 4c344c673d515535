// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// Memory by allocation accounting. Every operator new and delete in this
// program goes through the replacement at the end of the file, which keeps
// the live heap bytes (malloc_usable_size of each live block: what malloc
// really set aside for it, rounding included, without its 8-byte chunk
// header), the live block count, and a histogram of live blocks by size.
//
//   cairn_bench_memory [--subjects=N] [--json]
//       Synthetic, on an engine with the three benchmark journeys deployed
//       (bench/engine_bench.cc): N subjects known (UpsertProfile with no
//       attributes creates a subject and nothing else), then each enrolled
//       in a one-hour delay. bytes_per_subject and bytes_per_enrollment, and
//       what the enrollment bytes are made of.
//   cairn_bench_memory --behaviors [--subjects=N] [--spacing_ms=MS] [--json]
//       Bytes per subject per behaviour: the engine benchmarks' stream
//       (N subjects, 2 M events or two per subject, one every MS
//       milliseconds, 1 unless told) ingested with each behaviour of
//       bench/bench_setup.h declared alone, against the same ingest without
//       it (see RunBehaviors), and what Engine::BehaviorsReport says.
//   cairn_bench_memory --events=FILE [--journey=FILE] [--json]
//       The cart-abandonment journey over a JSON-lines event file (cairn
//       gen), like `cairn sim` and the XState peer (bench/peers/xstate):
//       events/s (parse + ingest + a final one-week drain, the part the peer
//       times too) and live heap bytes per subject, counted like the peer.
//
// Human-readable results go to stderr; with --json one JSON object goes to
// stdout.

#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "bench_setup.h"
#include "cairn/cairn.h"
#include "exec/engine_state.h"  // sizeof only
#include "json/event_lines.h"
#include "timer/timer_queue.h"  // sizeof only

namespace {

// ---- Allocation accounting ----

// Live blocks by usable size: exact up to kSmallLimit (in 8-byte steps);
// larger blocks are remembered one by one (there are few: container arrays).
constexpr size_t kSmallLimit = 4096;
constexpr size_t kSmallClasses = kSmallLimit / 8 + 1;
constexpr size_t kMaxLarge = 16384;

struct LargeBlock {
  void* p;
  size_t size;
};

struct Heap {
  int64_t live_bytes = 0;
  int64_t live_blocks = 0;
  int64_t allocations = 0;  // Ever.
  int64_t small_count[kSmallClasses] = {};
  LargeBlock large[kMaxLarge] = {};
  size_t large_n = 0;
  int64_t large_untracked = 0;  // Blocks that did not fit in `large`.
};
Heap g_heap;

void OnAlloc(void* p) {
  const size_t size = malloc_usable_size(p);
  g_heap.live_bytes += static_cast<int64_t>(size);
  ++g_heap.live_blocks;
  ++g_heap.allocations;
  if (size <= kSmallLimit) {
    ++g_heap.small_count[size / 8];
  } else if (g_heap.large_n < kMaxLarge) {
    g_heap.large[g_heap.large_n++] = {p, size};
  } else {
    ++g_heap.large_untracked;
  }
}

void OnFree(void* p) {
  if (p == nullptr) return;
  const size_t size = malloc_usable_size(p);
  g_heap.live_bytes -= static_cast<int64_t>(size);
  --g_heap.live_blocks;
  if (size <= kSmallLimit) {
    --g_heap.small_count[size / 8];
    return;
  }
  for (size_t i = g_heap.large_n; i-- > 0;) {
    if (g_heap.large[i].p == p) {
      g_heap.large[i] = g_heap.large[--g_heap.large_n];
      return;
    }
  }
  --g_heap.large_untracked;
}

// A copy of the accounting at one moment (static storage: taking it
// allocates nothing).
struct HeapMark {
  int64_t live_bytes;
  int64_t live_blocks;
  int64_t small_count[kSmallClasses];
  LargeBlock large[kMaxLarge];
  size_t large_n;
};

void Mark(HeapMark* m) {
  m->live_bytes = g_heap.live_bytes;
  m->live_blocks = g_heap.live_blocks;
  std::memcpy(m->small_count, g_heap.small_count, sizeof(m->small_count));
  std::memcpy(m->large, g_heap.large, sizeof(LargeBlock) * g_heap.large_n);
  m->large_n = g_heap.large_n;
}

HeapMark g_marks[4];

// What was added between two marks, per `per` units: small blocks by usable
// size, and the large blocks live at `b` that were not at `a` (an array
// grown in between shows only at its final size).
std::string Breakdown(const HeapMark& a, const HeapMark& b, double per) {
  std::string out;
  absl::StrAppendFormat(&out, "    %-34s %12s %12s\n", "blocks (usable size)", "blocks/unit",
                        "bytes/unit");
  double small_total = 0;
  for (size_t c = 0; c < kSmallClasses; ++c) {
    const int64_t d = b.small_count[c] - a.small_count[c];
    if (d == 0) continue;
    const double bytes = static_cast<double>(d) * static_cast<double>(c * 8);
    small_total += bytes;
    if (std::abs(static_cast<double>(d)) / per < 0.01) continue;  // Noise.
    absl::StrAppendFormat(&out, "    %-34s %12.3f %12.1f\n", absl::StrCat("small: ", c * 8, " B"),
                          d / per, bytes / per);
  }
  std::vector<size_t> added;
  double large_total = 0;
  for (size_t i = 0; i < b.large_n; ++i) {
    bool old = false;
    for (size_t j = 0; j < a.large_n && !old; ++j) {
      old = a.large[j].p == b.large[i].p && a.large[j].size == b.large[i].size;
    }
    if (!old) added.push_back(b.large[i].size);
  }
  // Large blocks grouped by size, largest first.
  std::sort(added.rbegin(), added.rend());
  int shown = 0;
  for (size_t k = 0; k < added.size();) {
    size_t same = k;
    while (same < added.size() && added[same] == added[k]) ++same;
    const double bytes = static_cast<double>(added[k]) * static_cast<double>(same - k);
    large_total += bytes;
    if (shown++ < 8) {
      absl::StrAppendFormat(&out, "    %-34s %12s %12.1f\n",
                            absl::StrCat("large: ", same - k, " x ", added[k], " B"), "",
                            bytes / per);
    }
    k = same;
  }
  if (shown > 8) {
    absl::StrAppendFormat(&out, "    %-34s %12s %12s\n",
                          absl::StrCat("(", shown - 8, " more sizes of large blocks)"), "", "");
  }
  absl::StrAppendFormat(&out, "    %-34s %12s %12.1f\n", "small blocks, net", "",
                        small_total / per);
  absl::StrAppendFormat(&out, "    %-34s %12s %12.1f\n", "large blocks added", "",
                        large_total / per);
  absl::StrAppendFormat(&out, "    %-34s %12s %12.1f\n", "total", "",
                        static_cast<double>(b.live_bytes - a.live_bytes) / per);
  return out;
}

int64_t MaxRssBytes() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;
}

// ---- Engine set-up (the journeys of bench/engine_bench.cc) ----

using cairn::bench::Fixture;
using cairn::bench::kCartPath;
using cairn::bench::kStart;
using cairn::bench::LoadOrDie;
using cairn::bench::NullSink;

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "unexpected: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

// A subject id of exactly `length` characters (at least 8), unique per i.
std::string SubjectId(int64_t i, size_t length) {
  std::string id = absl::StrCat("u", i);
  if (id.size() < length) id.insert(1, length - id.size(), '0');
  return id;
}

// ---- Synthetic mode ----

int RunSynthetic(int64_t n, bool json) {
  cairn::EngineOptions options;
  options.start_time = kStart;
  const size_t kShortId = 8;  // "u0000001": fits std::string's inline buffer.
  const size_t kLongId = 36;  // A UUID's length: heap-allocated.

  // 1. Subjects known, no enrollment; 2. then one enrollment each.
  auto fixture = std::make_unique<Fixture>(options);
  Mark(&g_marks[0]);
  for (int64_t i = 0; i < n; ++i) {
    Check(fixture->engine.UpsertProfile(SubjectId(i, kShortId), {}, kStart));
  }
  Mark(&g_marks[1]);
  if (fixture->engine.stats().subjects != n) std::abort();
  cairn::Event e;
  e.name = "signup";  // Enters `reminder`, which waits one hour.
  for (int64_t i = 0; i < n; ++i) {
    e.subject_id = SubjectId(i, kShortId);
    e.time = kStart + absl::Milliseconds(i);  // 1,000 sign-ups a second.
    Check(fixture->engine.Ingest(e));
  }
  e = cairn::Event();
  Mark(&g_marks[2]);
  if (fixture->engine.stats().enrollments_in_flight != n) std::abort();
  if (fixture->engine.stats().subjects != n) std::abort();
  const double per_subject =
      static_cast<double>(g_marks[1].live_bytes - g_marks[0].live_bytes) / n;
  const double per_enrollment =
      static_cast<double>(g_marks[2].live_bytes - g_marks[1].live_bytes) / n;
  const double blocks_per_subject =
      static_cast<double>(g_marks[1].live_blocks - g_marks[0].live_blocks) / n;
  const double blocks_per_enrollment =
      static_cast<double>(g_marks[2].live_blocks - g_marks[1].live_blocks) / n;
  const std::string subject_breakdown = Breakdown(g_marks[0], g_marks[1], n);
  const std::string enrollment_breakdown = Breakdown(g_marks[1], g_marks[2], n);
  fixture.reset();

  // 3. Enrollments of subjects the engine did not know: the enrollment and
  // its subject, id string included.
  fixture = std::make_unique<Fixture>(options);
  Mark(&g_marks[0]);
  e.name = "signup";
  for (int64_t i = 0; i < n; ++i) {
    e.subject_id = SubjectId(i, kShortId);
    e.time = kStart + absl::Milliseconds(i);
    Check(fixture->engine.Ingest(e));
  }
  e = cairn::Event();
  Mark(&g_marks[1]);
  const double per_enrollment_with_subject =
      static_cast<double>(g_marks[1].live_bytes - g_marks[0].live_bytes) / n;
  fixture.reset();

  // 4. Subjects with 36-character ids (the id no longer fits inline).
  fixture = std::make_unique<Fixture>(options);
  Mark(&g_marks[0]);
  for (int64_t i = 0; i < n; ++i) {
    Check(fixture->engine.UpsertProfile(SubjectId(i, kLongId), {}, kStart));
  }
  Mark(&g_marks[1]);
  const double per_subject_long_id =
      static_cast<double>(g_marks[1].live_bytes - g_marks[0].live_bytes) / n;
  fixture.reset();

  using cairn::internal::Enrollment;
  using cairn::internal::JourneyHistory;
  using cairn::internal::SubjectState;
  using cairn::internal::Timer;
  using cairn::internal::SequenceProgress;
  using IndexSlot = uint32_t;  // The subject index holds slot numbers (exec/subject_index.h).
  std::string text;
  absl::StrAppendFormat(&text,
                        "memory at %d subjects (live heap bytes by allocation accounting; "
                        "three journeys deployed)\n",
                        n);
  absl::StrAppendFormat(&text, "  bytes_per_subject                   %8.1f  (%.2f blocks)\n",
                        per_subject, blocks_per_subject);
  absl::StrAppendFormat(&text, "  bytes_per_subject, 36-char ids      %8.1f\n",
                        per_subject_long_id);
  absl::StrAppendFormat(&text,
                        "  bytes_per_enrollment                %8.1f  (%.2f blocks; subject "
                        "already known: excludes the subject and its id)\n",
                        per_enrollment, blocks_per_enrollment);
  absl::StrAppendFormat(&text,
                        "  bytes_per_enrollment, new subject   %8.1f  (the enrollment plus its "
                        "subject, id string included)\n",
                        per_enrollment_with_subject);
  absl::StrAppendFormat(&text, "  what a subject is made of (per subject):\n%s",
                        subject_breakdown);
  absl::StrAppendFormat(&text, "  what an enrollment is made of (per enrollment):\n%s",
                        enrollment_breakdown);
  absl::StrAppendFormat(&text,
                        "  sizeof: SubjectState %d, Enrollment %d, JourneyHistory %d, Timer %d, "
                        "subject index slot %d (+1 control byte), std::string %d, "
                        "SequenceProgress %d, attribute (name, Value) %d\n",
                        sizeof(SubjectState), sizeof(Enrollment), sizeof(JourneyHistory),
                        sizeof(Timer), sizeof(IndexSlot), sizeof(std::string),
                        sizeof(SequenceProgress), sizeof(cairn::Attributes::value_type));
  absl::StrAppendFormat(&text, "  max rss %.1f MiB\n", MaxRssBytes() / 1048576.0);
  std::fputs(text.c_str(), stderr);
  if (json) {
    absl::PrintF(
        "{\"subjects\": %d, \"bytes_per_subject\": %.1f, \"blocks_per_subject\": %.3f, "
        "\"bytes_per_subject_36_char_id\": %.1f, \"bytes_per_enrollment\": %.1f, "
        "\"blocks_per_enrollment\": %.3f, \"bytes_per_enrollment_with_new_subject\": %.1f, "
        "\"sizeof_subject_state\": %d, \"sizeof_enrollment\": %d, "
        "\"sizeof_journey_history\": %d, \"sizeof_timer\": %d, \"sizeof_index_slot\": %d, "
        "\"max_rss_bytes\": %d}\n",
        n, per_subject, blocks_per_subject, per_subject_long_id, per_enrollment,
        blocks_per_enrollment, per_enrollment_with_subject, sizeof(SubjectState),
        sizeof(Enrollment), sizeof(JourneyHistory), sizeof(Timer), sizeof(IndexSlot),
        MaxRssBytes());
  }
  return 0;
}

// ---- Behaviours ----

// The engine benchmarks' stream length (bench/engine_bench.cc).
int64_t StreamEvents(int64_t subjects) { return std::max<int64_t>(2'000'000, 2 * subjects); }

// One ingest of the stream, and the live heap it added (from just before
// the first event to just after the last; the engine, its journeys and its
// declarations are made before).
struct BehaviorRun {
  int64_t bytes = 0;
  int64_t blocks = 0;
  int64_t subjects_known = 0;
  cairn::v1::BehaviorsReport report;
};

// `declared`: the one behaviour to declare, or null. `intern_for`: a name
// whose events first make their subject known through UpsertProfile(id,
// {}), as a behaviour listening to it does, or empty.
BehaviorRun IngestRun(int64_t subjects, absl::Duration spacing,
                      const cairn::v1::Behavior* declared, const std::string& intern_for) {
  cairn::EngineOptions options;
  options.start_time = kStart;
  options.dedup_window = absl::ZeroDuration();  // As the engine benchmarks run.
  auto fixture = std::make_unique<Fixture>(options);
  if (declared != nullptr) {
    cairn::v1::BehaviorSet set;
    *set.add_behaviors() = *declared;
    Check(fixture->engine.DeclareBehaviors(set));
  }
  cairn::bench::EventStream stream(static_cast<int>(subjects), StreamEvents(subjects),
                                   /*amounts=*/true, spacing);
  std::vector<cairn::Event> chunk;
  BehaviorRun run;
  while (stream.Next(&chunk)) {
    // Only the engine's growth is counted, not the chunk's events.
    Mark(&g_marks[0]);
    for (const cairn::Event& e : chunk) {
      if (!intern_for.empty() && e.name == intern_for) {
        Check(fixture->engine.UpsertProfile(e.subject_id, {}, e.time));
      }
      Check(fixture->engine.Ingest(e));
    }
    Mark(&g_marks[1]);
    run.bytes += g_marks[1].live_bytes - g_marks[0].live_bytes;
    run.blocks += g_marks[1].live_blocks - g_marks[0].live_blocks;
  }
  run.subjects_known = fixture->engine.stats().subjects;
  run.report = fixture->engine.BehaviorsReport();
  return run;
}

// For each behaviour of BenchBehaviors(), declared alone: the live heap
// after ingesting the stream, minus the live heap after the same ingest
// without it, per subject holding state in it. A behaviour makes known the
// subjects of the events it counts; so that this figure is the behaviour's
// state alone, the run without it makes the same subjects known at the
// same moments (UpsertProfile with no attributes just before each event the
// behaviour listens to, which gives every subject the same index as with
// the behaviour; the check below holds it to that). What those subjects
// cost, in the engine and not in the behaviour, is reported apart: the
// plain run against the interning one.
int RunBehaviors(int64_t n, absl::Duration spacing, bool json) {
  const cairn::v1::BehaviorSet set = cairn::bench::BenchBehaviors();
  const BehaviorRun plain = IngestRun(n, spacing, nullptr, "");
  std::string text;
  std::string json_rows;
  absl::StrAppendFormat(&text,
                        "behaviours at %d subjects, %d events %s apart (live heap bytes by "
                        "allocation accounting; three journeys deployed; each behaviour "
                        "declared alone)\n",
                        n, StreamEvents(n), absl::FormatDuration(spacing));
  absl::StrAppendFormat(&text, "  %-14s %10s %10s %10s %12s %12s %14s\n", "behaviour",
                        "subjects", "B/subject", "blocks/s.", "report B/s.", "new subjects",
                        "B/new subject");
  for (const cairn::v1::Behavior& b : set.behaviors()) {
    const BehaviorRun with = IngestRun(n, spacing, &b, "");
    const BehaviorRun same_subjects = IngestRun(n, spacing, nullptr, b.event().event());
    if (with.subjects_known != same_subjects.subjects_known) {
      std::fprintf(stderr, "%s: %lld subjects known with it, %lld without\n", b.name().c_str(),
                   static_cast<long long>(with.subjects_known),
                   static_cast<long long>(same_subjects.subjects_known));
      std::abort();
    }
    const cairn::v1::BehaviorReport& r = with.report.behaviors(0);
    const double holders = static_cast<double>(r.subjects());
    if (holders == 0) std::abort();
    const double per_subject = static_cast<double>(with.bytes - same_subjects.bytes) / holders;
    const double blocks = static_cast<double>(with.blocks - same_subjects.blocks) / holders;
    const double report_per_subject = static_cast<double>(r.bytes()) / holders;
    const int64_t made_known = same_subjects.subjects_known - plain.subjects_known;
    const double per_made_known =
        made_known > 0 ? static_cast<double>(same_subjects.bytes - plain.bytes) / made_known : 0;
    absl::StrAppendFormat(&text, "  %-14s %10d %10.1f %10.3f %12.1f %12d %14.1f\n", b.name(),
                          r.subjects(), per_subject, blocks, report_per_subject, made_known,
                          per_made_known);
    absl::StrAppendFormat(&json_rows,
                          "%s\"%s\": {\"function\": \"%s\", \"event\": \"%s\", "
                          "\"window\": \"%s\", \"subjects\": %d, \"bytes_per_subject\": %.2f, "
                          "\"blocks_per_subject\": %.4f, \"report_bytes\": %d, "
                          "\"report_bytes_per_subject\": %.2f, \"subjects_made_known\": %d, "
                          "\"bytes_per_subject_made_known\": %.1f}",
                          json_rows.empty() ? "" : ", ", b.name(), r.function(), r.event(),
                          r.window(), r.subjects(), per_subject, blocks, r.bytes(),
                          report_per_subject, made_known, per_made_known);
  }
  absl::StrAppendFormat(&text,
                        "  (B/subject: what the behaviour adds, per subject holding state in it; "
                        "report: Engine::BehaviorsReport's bytes / subjects; new subjects: "
                        "subjects only the behaviour made known, and what each costs the "
                        "engine outside the behaviour)\n  subjects known without behaviours: %d; "
                        "max rss %.1f MiB\n",
                        plain.subjects_known, MaxRssBytes() / 1048576.0);
  std::fputs(text.c_str(), stderr);
  if (json) {
    absl::PrintF(
        "{\"subjects\": %d, \"events\": %d, \"spacing_ms\": %d, "
        "\"subjects_known_without\": %d, \"behaviors\": {%s}, \"max_rss_bytes\": %d}\n",
        n, StreamEvents(n), absl::ToInt64Milliseconds(spacing), plain.subjects_known, json_rows,
        MaxRssBytes());
  }
  return 0;
}

// ---- File mode ----

bool IsBlank(absl::string_view line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

int RunFile(const std::string& events_path, const std::string& journey_path, bool json) {
  // Read the whole file first (not timed, and alive in every heap reading,
  // like the peer's).
  std::vector<std::string> lines;
  {
    std::ifstream in(events_path);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", events_path.c_str());
      return 1;
    }
    std::string line;
    while (std::getline(in, line)) {
      if (!IsBlank(line)) lines.push_back(line);
    }
  }
  const cairn::v1::Journey journey = LoadOrDie(journey_path);

  // The peer's subject count: one actor per subject (of type "user") with a
  // product_view, add_to_cart or payment; and the first event's time.
  // Also times ParseEventLine alone, to tell parsing from the engine.
  int64_t peer_subjects = 0;
  absl::Time start = absl::InfinitePast();
  double parse_s = 0;
  {
    absl::flat_hash_set<std::string> seen;
    for (const std::string& line : lines) {
      const auto p0 = std::chrono::steady_clock::now();
      absl::StatusOr<cairn::Event> e = cairn::json::ParseEventLine(line);
      parse_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count();
      if (!e.ok()) continue;
      if (start == absl::InfinitePast()) start = e->time;
      if (e->name != "product_view" && e->name != "add_to_cart" && e->name != "payment") continue;
      if (!e->subject_type.empty() && e->subject_type != "user") continue;
      seen.insert(e->subject_id);
    }
    peer_subjects = static_cast<int64_t>(seen.size());
  }
  if (start == absl::InfinitePast()) start = absl::UnixEpoch();

  // As `cairn sim` runs it: default options, the journey's channel accepting
  // every send, and the file's times trusted as the clock (the simulator
  // moves engine time to each event; an unbounded max_input_lead does the
  // same without a call per event).
  cairn::EngineOptions options;
  options.start_time = start;
  options.max_input_lead = absl::InfiniteDuration();
  NullSink sink;
  auto engine = std::make_unique<cairn::Engine>(options);
  Check(engine->RegisterChannel("push", &sink));
  Check(engine->Deploy(journey));

  Mark(&g_marks[0]);
  int64_t bad = 0;
  absl::Time last = start;
  const auto t0 = std::chrono::steady_clock::now();
  for (const std::string& line : lines) {
    absl::StatusOr<cairn::Event> e = cairn::json::ParseEventLine(line);
    if (!e.ok()) {
      ++bad;
      continue;
    }
    last = std::max(last, e->time);
    (void)engine->Ingest(*e);  // Rejections are counted in stats().
  }
  const auto t1 = std::chrono::steady_clock::now();
  Mark(&g_marks[1]);  // In flight, at the last event.
  Check(engine->AdvanceTo(last + absl::Hours(24 * 7)));
  const auto t2 = std::chrono::steady_clock::now();
  Mark(&g_marks[2]);

  const cairn::EngineStats stats = engine->stats();
  absl::StatusOr<cairn::v1::JourneyReport> report = engine->Report(journey.id());
  Check(report.status());
  int64_t entered = 0, paid = 0, not_paid = 0;
  for (const cairn::v1::VersionReport& v : report->versions()) {
    entered += v.entered();
    for (const cairn::v1::ReasonCount& r : v.exits()) {
      if (r.reason() == "paid") paid += r.count();
      if (r.reason() == "no_payment_in_12h") not_paid += r.count();
    }
  }

  const int64_t events = static_cast<int64_t>(lines.size()) - bad;
  const double stream_s = std::chrono::duration<double>(t1 - t0).count();
  const double drain_s = std::chrono::duration<double>(t2 - t1).count();
  const double seconds = stream_s + drain_s;
  const double grown = static_cast<double>(g_marks[2].live_bytes - g_marks[0].live_bytes);
  const double grown_in_flight =
      static_cast<double>(g_marks[1].live_bytes - g_marks[0].live_bytes);
  const double per_subject = peer_subjects > 0 ? grown / peer_subjects : 0;
  const double per_subject_in_flight = peer_subjects > 0 ? grown_in_flight / peer_subjects : 0;
  const double per_known = stats.subjects > 0 ? grown / stats.subjects : 0;

  std::string text;
  absl::StrAppendFormat(&text, "cairn engine: %s over %s\n", journey.id(), events_path);
  absl::StrAppendFormat(&text,
                        "  events       %d in %.3f s (parse + ingest + one-week drain; drain "
                        "%.3f s) = %.0f events/s\n",
                        events, seconds, drain_s, events / seconds);
  absl::StrAppendFormat(&text,
                        "  subjects     %d with a journey event (the peer's actors), %d known "
                        "to the engine\n",
                        peer_subjects, stats.subjects);
  absl::StrAppendFormat(&text,
                        "  heap         %.1f bytes per subject at the end (%.1f at the last "
                        "event), %.1f per known subject; max rss %.1f MiB\n",
                        per_subject, per_subject_in_flight, per_known,
                        MaxRssBytes() / 1048576.0);
  absl::StrAppendFormat(&text,
                        "  funnel       %d entries, %d pushes, %d paid, %d not paid, %d in "
                        "flight\n",
                        entered, stats.messages_sent, paid, not_paid,
                        stats.enrollments_in_flight);
  absl::StrAppendFormat(&text,
                        "  parsing      ParseEventLine alone: %.3f s (%.0f lines/s); engine "
                        "alone about %.0f events/s\n",
                        parse_s, events / parse_s, events / std::max(seconds - parse_s, 1e-9));
  if (peer_subjects > 0) {
    absl::StrAppendFormat(&text, "  what the heap holds at the end (per subject):\n%s",
                          Breakdown(g_marks[0], g_marks[2], static_cast<double>(peer_subjects)));
  }
  std::fputs(text.c_str(), stderr);
  if (json) {
    absl::PrintF(
        "{\"events\": %d, \"seconds\": %.6f, \"drain_seconds\": %.6f, \"events_per_s\": %.1f, "
        "\"subjects\": %d, \"subjects_known\": %d, \"heap_bytes_per_subject\": %.1f, "
        "\"heap_bytes_per_subject_in_flight\": %.1f, \"heap_bytes_per_known_subject\": %.1f, "
        "\"entries\": %d, \"pushes\": %d, \"converted\": %d, \"not_converted\": %d, "
        "\"bad_lines\": %d, \"parse_seconds\": %.6f, \"max_rss_bytes\": %d}\n",
        events, seconds, drain_s, events / seconds, peer_subjects, stats.subjects, per_subject,
        per_subject_in_flight, per_known, entered, stats.messages_sent, paid, not_paid, bad,
        parse_s, MaxRssBytes());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t subjects = 1'000'000;
  std::string events_path;
  std::string journey_path = kCartPath;
  bool json = false;
  bool behaviors = false;
  int64_t spacing_ms = 1;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    absl::string_view value = arg;
    if (arg == "--json") {
      json = true;
    } else if (arg == "--behaviors") {
      behaviors = true;
    } else if (absl::ConsumePrefix(&value, "--spacing_ms=")) {
      if (!absl::SimpleAtoi(value, &spacing_ms) || spacing_ms <= 0) {
        std::fprintf(stderr, "bad --spacing_ms\n");
        return 2;
      }
    } else if (absl::ConsumePrefix(&value, "--subjects=")) {
      if (!absl::SimpleAtoi(value, &subjects) || subjects <= 0) {
        std::fprintf(stderr, "bad --subjects\n");
        return 2;
      }
    } else if (absl::ConsumePrefix(&value, "--events=")) {
      events_path = std::string(value);
    } else if (absl::ConsumePrefix(&value, "--journey=")) {
      journey_path = std::string(value);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--subjects=N] [--json]\n"
                   "       %s --behaviors [--subjects=N] [--spacing_ms=MS] [--json]\n"
                   "       %s --events=FILE.jsonl [--journey=FILE] [--json]\n",
                   argv[0], argv[0], argv[0]);
      return 2;
    }
  }
  if (behaviors) return RunBehaviors(subjects, absl::Milliseconds(spacing_ms), json);
  return events_path.empty() ? RunSynthetic(subjects, json)
                             : RunFile(events_path, journey_path, json);
}

// ---- Global operator new/delete replacement: accounts every block ----
//
// Single-threaded program: the accounting is not synchronised. (GCC cannot
// see that the new and delete it pairs are these, hence the pragma.)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

void* Allocate(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p != nullptr) OnAlloc(p);
  return p;
}

void* AllocateAligned(std::size_t size, std::align_val_t align) {
  const std::size_t a = std::max(static_cast<std::size_t>(align), sizeof(void*));
  void* p = std::aligned_alloc(a, (std::max<std::size_t>(size, 1) + a - 1) / a * a);
  if (p != nullptr) OnAlloc(p);
  return p;
}

void Free(void* p) {
  OnFree(p);
  std::free(p);
}

}  // namespace

void* operator new(std::size_t size) {
  if (void* p = Allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = Allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return Allocate(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return Allocate(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  if (void* p = AllocateAligned(size, align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
  if (void* p = AllocateAligned(size, align)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return AllocateAligned(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return AllocateAligned(size, align);
}
void operator delete(void* p) noexcept { Free(p); }
void operator delete[](void* p) noexcept { Free(p); }
void operator delete(void* p, std::size_t) noexcept { Free(p); }
void operator delete[](void* p, std::size_t) noexcept { Free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { Free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { Free(p); }
void operator delete(void* p, std::align_val_t) noexcept { Free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { Free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { Free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { Free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { Free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { Free(p); }
