// Cart abandonment in XState v5: the peer of Cairn's
// examples/cart_abandonment/journey.textproto, run over the same event log.
//
//   node --expose-gc cart.mjs EVENTS.jsonl [--json]
//
// One actor per subject, every delay on one simulated clock that is moved to
// each event's time (firing the timers due by then, in time order) before the
// event is delivered. See README.md for what is measured.

import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { assign, createActor, raise, setup } from 'xstate';

const XSTATE_VERSION = createRequire(import.meta.url)('xstate/package.json').version;

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------
// Simulated clock. XState calls clock.setTimeout / clock.clearTimeout for
// every `after` transition; here they go into a binary heap ordered by (due
// time, scheduling order), so timers due at the same instant fire in the
// order they were set. A fired timer runs with now() equal to its due time,
// so delays it schedules in turn land exactly.

class SimulatedClock {
  #now = 0;
  #seq = 0;
  #heap = [];

  now() {
    return this.#now;
  }

  setTimeout(fn, ms) {
    const timer = { due: this.#now + ms, seq: this.#seq++, fn };
    this.#push(timer);
    return timer;
  }

  clearTimeout(timer) {
    timer.fn = null; // Dropped lazily when it reaches the top of the heap.
  }

  // Fires every timer due at or before `time`, then sets now() to `time`.
  advanceTo(time) {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0].due <= time) {
      const timer = this.#pop();
      if (timer.fn === null) continue;
      const fn = timer.fn;
      timer.fn = null;
      this.#now = timer.due;
      fn();
    }
    if (time > this.#now) this.#now = time;
  }

  static #before(a, b) {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  #push(timer) {
    const heap = this.#heap;
    let i = heap.push(timer) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!SimulatedClock.#before(timer, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = timer;
  }

  #pop() {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const child = r < heap.length && SimulatedClock.#before(heap[r], heap[l]) ? r : l;
        if (!SimulatedClock.#before(heap[child], last)) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}

// ---------------------------------------------------------------------------
// Split assignment, reproducing Cairn's documented stable hash
// (include/cairn/hash.h): FNV-1a 64 over each part as its length in 8
// little-endian bytes then its UTF-8 bytes, finished with SplitMix64.

const MASK64 = (1n << 64n) - 1n;
const utf8 = new TextEncoder();

function stableHash64(parts) {
  let h = 0xcbf29ce484222325n;
  const fnv = (byte) => {
    h = ((h ^ BigInt(byte)) * 0x100000001b3n) & MASK64;
  };
  for (const part of parts) {
    const bytes = utf8.encode(part);
    let len = BigInt(bytes.length);
    for (let i = 0; i < 8; ++i, len >>= 8n) fnv(len & 0xffn);
    for (const byte of bytes) fnv(byte);
  }
  let z = (h + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

// Cairn's test vectors (tests/hash_test.cc).
if (stableHash64(['7', 'cart', 'holdout', 'user', 'u1']) !== 0x0cfb8d7f55ba4e03n) {
  throw new Error('stableHash64 does not match Cairn');
}

const SPLIT = {
  seed: '20261124',
  journeyId: 'cart_abandonment',
  nodeId: 'holdout_split',
  subjectType: 'user', // Cairn's default subject type
  variants: [
    { name: 'price_drop', weight: 90 },
    { name: 'control', weight: 10 },
  ],
};

function holdoutVariant(subjectId) {
  const total = SPLIT.variants.reduce((sum, v) => sum + v.weight, 0);
  const point = Number(
    stableHash64([SPLIT.seed, SPLIT.journeyId, SPLIT.nodeId, SPLIT.subjectType, subjectId]) %
      BigInt(total),
  );
  let cumulative = 0;
  for (const v of SPLIT.variants) {
    cumulative += v.weight;
    if (point < cumulative) return v.name;
  }
  return SPLIT.variants.at(-1).name;
}

// ---------------------------------------------------------------------------
// What the journey's side effects reach: a push sink that accepts every send
// (as `cairn sim`'s default simulated channel does) and the funnel counters.

const funnel = {
  sequencesCompleted: 0,
  sequencesCancelled: 0,
  entries: 0,
  refused: { reentry_active: 0, reentry_cooldown: 0 },
  exits: { paid: 0, no_payment_in_12h: 0 },
  goal: {
    price_drop: { reached: 0, converted: 0, expired: 0 },
    control: { reached: 0, converted: 0, expired: 0 },
  },
};

const pushSink = {
  sent: 0,
  lastMessage: null,
  send(message) {
    this.sent += 1;
    this.lastMessage = message;
    return true; // accepted
  },
};

// ---------------------------------------------------------------------------
// The journey. Three parallel regions per subject:
//   sequence  product_view then add_to_cart within 1 day of the (latest) view
//   silence   a completed sequence waits 1 day without payment, then asks to
//             enter; a payment cancels it
//   journey   eligible -> enrolled (split, push, goal) -> cooling down 1 week

const cartAbandonment = setup({
  delays: {
    absentWindow: 1 * DAY, // absent { payment } absent_within 86400 s
    goalWindow: 12 * HOUR, // goal window 43200 s
    reentryCooldown: 7 * DAY, // reentry AFTER_EXIT cooldown 604800 s
  },
  guards: {
    // The sequence window (within 86400 s) is inclusive: a cart exactly one
    // day after the view still matches, so it is checked on the events'
    // timestamps rather than with a timer that would fire first.
    cartedWithinADayOfView: ({ context, event }) => event.time - context.viewedAt <= 1 * DAY,
    inPriceDropArm: ({ context }) => context.variant === 'price_drop',
  },
  actions: {
    // A later view renews the window; the entry context starts afresh.
    rememberView: assign({
      viewedAt: ({ event }) => event.time,
      steps: ({ event }) => event.properties,
    }),
    completeSequence: raise(({ context, event }) => ({
      type: 'sequence.completed',
      entry: { ...context.steps, ...event.properties }, // later steps win
    })),
    forgetView: assign({ viewedAt: null, steps: null }),
    countSequenceCompleted: () => {
      funnel.sequencesCompleted += 1;
    },
    holdMatch: assign({ match: ({ event }) => event.entry }),
    dropMatch: assign({ match: null }),
    countSequenceCancelled: () => {
      funnel.sequencesCancelled += 1;
    },
    requestEntry: raise(({ context }) => ({ type: 'journey.enter', entry: context.match })),
    enter: assign({
      entry: ({ event }) => event.entry,
      variant: ({ context }) => holdoutVariant(context.subjectId),
    }),
    countEntry: () => {
      funnel.entries += 1;
    },
    refuseEntry: (_, params) => {
      funnel.refused[params.reason] += 1;
    },
    sendPriceDropPush: ({ context }) => {
      pushSink.send({
        channel: 'push',
        subjectId: context.subjectId,
        templateId: 'cart_price_drop',
        params: {
          product_id: String(context.entry.product_id ?? ''),
          greeting: "Hi , it's cheaper now", // no profiles in this run: first_name is empty
        },
      });
    },
    countGoal: ({ context }, params) => {
      funnel.goal[context.variant][params.outcome] += 1;
    },
    recordExit: ({ context }, params) => {
      funnel.exits[params.reason] += 1;
    },
  },
}).createMachine({
  id: 'cart_abandonment',
  type: 'parallel',
  context: ({ input }) => ({
    subjectId: input.subjectId,
    viewedAt: null, // time of the latest product_view of a partial match
    steps: null, // properties of the partial match's steps
    match: null, // entry context of a completed match awaiting silence
    entry: null, // entry context of the current enrollment
    variant: null, // split arm of the current enrollment
  }),
  states: {
    sequence: {
      initial: 'idle',
      states: {
        idle: {
          on: { product_view: { target: 'viewed', actions: 'rememberView' } },
        },
        viewed: {
          on: {
            product_view: { actions: 'rememberView' },
            add_to_cart: {
              guard: 'cartedWithinADayOfView',
              target: 'idle', // a repeat cart needs a new view
              actions: ['countSequenceCompleted', 'completeSequence', 'forgetView'],
            },
          },
        },
      },
    },

    silence: {
      initial: 'idle',
      states: {
        idle: {
          on: { 'sequence.completed': { target: 'waiting', actions: 'holdMatch' } },
        },
        // Further completions while waiting do not queue a second entry.
        waiting: {
          on: {
            payment: { target: 'idle', actions: ['countSequenceCancelled', 'dropMatch'] },
          },
          after: {
            absentWindow: { target: 'idle', actions: ['requestEntry', 'dropMatch'] },
          },
        },
      },
    },

    journey: {
      initial: 'eligible',
      states: {
        eligible: {
          on: { 'journey.enter': { target: 'enrolled', actions: ['enter', 'countEntry'] } },
        },
        enrolled: {
          on: {
            'journey.enter': {
              actions: { type: 'refuseEntry', params: { reason: 'reentry_active' } },
            },
          },
          initial: 'holdoutSplit',
          states: {
            holdoutSplit: {
              always: [
                { guard: 'inPriceDropArm', target: 'priceDropPush' },
                { target: 'paidWithin12h' },
              ],
            },
            priceDropPush: {
              entry: 'sendPriceDropPush',
              always: 'paidWithin12h',
            },
            paidWithin12h: {
              entry: { type: 'countGoal', params: { outcome: 'reached' } },
              on: {
                payment: {
                  target: 'converted',
                  actions: { type: 'countGoal', params: { outcome: 'converted' } },
                },
              },
              after: {
                goalWindow: {
                  target: 'notConverted',
                  actions: { type: 'countGoal', params: { outcome: 'expired' } },
                },
              },
            },
            converted: {
              type: 'final',
              entry: { type: 'recordExit', params: { reason: 'paid' } },
            },
            notConverted: {
              type: 'final',
              entry: { type: 'recordExit', params: { reason: 'no_payment_in_12h' } },
            },
          },
          onDone: 'coolingDown',
        },
        coolingDown: {
          on: {
            'journey.enter': {
              actions: { type: 'refuseEntry', params: { reason: 'reentry_cooldown' } },
            },
          },
          after: { reentryCooldown: 'eligible' },
        },
      },
    },
  },
});

// The events the machine listens to; the rest only move the clock.
const JOURNEY_EVENTS = new Set(['product_view', 'add_to_cart', 'payment']);

// ---------------------------------------------------------------------------
// Driver.

async function readLines(path) {
  const lines = [];
  const input = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of input) {
    if (line.trim() !== '') lines.push(line);
  }
  return lines;
}

function heapUsed() {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
}

async function main() {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const path = args.find((a) => !a.startsWith('--'));
  if (!path || typeof global.gc !== 'function') {
    console.error('usage: node --expose-gc cart.mjs EVENTS.jsonl [--json]');
    process.exit(2);
  }

  // Read the file first; the timed part is parse + dispatch + timers.
  const lines = await readLines(path);

  const clock = new SimulatedClock();
  const actors = new Map(); // subject id -> actor
  let lastTime = -Infinity;
  let badLines = 0;

  const heapBefore = heapUsed();
  const start = performance.now();
  for (const line of lines) {
    let event;
    try {
      event = JSON.parse(line);
    } catch {
      badLines += 1;
      continue;
    }
    const time = Date.parse(event.time);
    if (Number.isNaN(time) || typeof event.subject !== 'string' || event.subject === '') {
      badLines += 1;
      continue;
    }
    clock.advanceTo(time); // fire every timer due by now, in time order
    if (time > lastTime) lastTime = time;
    // The journey runs on subjects of type "user" (the default).
    if (!JOURNEY_EVENTS.has(event.name) || (event.subject_type || 'user') !== 'user') continue;
    let actor = actors.get(event.subject);
    if (actor === undefined) {
      actor = createActor(cartAbandonment, { clock, input: { subjectId: event.subject } });
      actor.start();
      actors.set(event.subject, actor);
    }
    actor.send({ type: event.name, time, properties: event.properties ?? {} });
  }
  const streamSeconds = (performance.now() - start) / 1000;

  // Heap with every actor alive and the enrollments still in flight.
  const heapInFlight = heapUsed();

  // Like `cairn sim`, run the clock a week past the last event so every
  // window closes.
  const drainStart = performance.now();
  clock.advanceTo(lastTime + 7 * DAY);
  const drainSeconds = (performance.now() - drainStart) / 1000;

  const heapAfter = heapUsed();
  const rss = process.memoryUsage().rss;

  let failed = 0;
  for (const actor of actors.values()) {
    if (actor.getSnapshot().status !== 'active') failed += 1;
  }
  if (failed > 0) throw new Error(`${failed} actors are not active`);

  // (Read after the heap readings, so the input stays alive through both.)
  const events = lines.length - badLines;
  const seconds = streamSeconds + drainSeconds;
  const subjects = actors.size;
  const result = {
    events,
    seconds,
    events_per_s: events / seconds,
    subjects,
    entries: funnel.entries,
    pushes: pushSink.sent,
    converted: funnel.exits.paid,
    not_converted: funnel.exits.no_payment_in_12h,
    heap_bytes_per_subject: Math.round((heapAfter - heapBefore) / subjects),
    rss_bytes: rss,
    // Extra detail, for comparing with `cairn sim --format json`.
    heap_bytes_per_subject_in_flight: Math.round((heapInFlight - heapBefore) / subjects),
    drain_seconds: drainSeconds,
    bad_lines: badLines,
    sequences_completed: funnel.sequencesCompleted,
    sequences_cancelled: funnel.sequencesCancelled,
    entries_refused: funnel.refused,
    goal_by_variant: funnel.goal,
    xstate_version: XSTATE_VERSION,
    node_version: process.version,
  };

  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const summary = [
    `xstate ${XSTATE_VERSION} on node ${process.version}: cart abandonment, one actor per subject`,
    `events       ${fmt(events)} in ${seconds.toFixed(3)} s (parse + dispatch + timers; ` +
      `drain ${drainSeconds.toFixed(3)} s) = ${fmt(result.events_per_s)} events/s`,
    `subjects     ${fmt(subjects)} actors, ` +
      `${fmt(result.heap_bytes_per_subject)} heap bytes each ` +
      `(${fmt(result.heap_bytes_per_subject_in_flight)} at the last event), ` +
      `rss ${(rss / 2 ** 20).toFixed(1)} MiB`,
    `sequences    ${fmt(funnel.sequencesCompleted)} completed, ` +
      `${fmt(funnel.sequencesCancelled)} cancelled by payment`,
    `entries      ${fmt(funnel.entries)} (refused: ${fmt(funnel.refused.reentry_active)} active, ` +
      `${fmt(funnel.refused.reentry_cooldown)} cooldown)`,
    `pushes       ${fmt(pushSink.sent)}`,
    `goal         ${fmt(funnel.exits.paid)} converted, ` +
      `${fmt(funnel.exits.no_payment_in_12h)} not converted`,
  ];
  for (const [variant, g] of Object.entries(funnel.goal)) {
    const rate = g.reached > 0 ? ((100 * g.converted) / g.reached).toFixed(2) : '-';
    summary.push(
      `  ${variant.padEnd(10)} ${fmt(g.reached)} reached, ${fmt(g.converted)} converted ` +
        `(${rate}%), ${fmt(g.expired)} expired`,
    );
  }
  if (json) {
    console.error(summary.join('\n'));
    console.log(JSON.stringify(result));
  } else {
    console.log(summary.join('\n'));
  }
}

await main();
