/**
 * @rioco/timers against what a user would otherwise pick: node's `timers/promises`
 * setTimeout (the baseline), a hand-made setTimeout promise, effect (Effect.sleep in forked
 * fibers) and effection (sleep in spawned tasks).
 *
 * Tables:
 * - 100k concurrent sleeps of random 0–50 ms (same seeded durations for every row): total
 *   time, lateness p50/p99 (wake-up time minus start + ms), each row in its own process.
 *   effection needs ~20 s for 100k, so it runs in a separate 10k table with its own baseline.
 *   No forced GC between runs: a full GC makes V8 drop optimized code, which no running
 *   program does to itself.
 * - Memory per pending sleep, each sleep in its own fiber / task / async function (a parked
 *   fiber counts: two more rows show a parked Rioco fiber alone and a bare timer entry).
 * - Churn: start a sleep and cancel it, many times.
 *
 * Run: pnpm bench timers (or node tooling/bench/dist/suites/timers.js after a build)
 */
import { setTimeout as sleepP } from 'node:timers/promises';
import { run, spawn, suspend, useScheduler, wait, yieldNow, type Operation, type Task } from '@rioco/core';
import { sleep, timeout } from '@rioco/timers';
import { Effect, Fiber as EffectFiber, Deferred } from 'effect';
import * as effection from 'effection';
import { bytesPer, measure, median, percentile, runSuite, type RowResult } from '../harness.js';

const quick = process.env.BENCH_QUICK === '1';
const N = quick ? 20_000 : 100_000;
const N_EFFECTION = quick ? 2_000 : 10_000;
const RUNS = quick ? 3 : 5;
const RUNS_EFFECTION = quick ? 2 : 3;
const MAX_MS = 50;
const CHURN = quick ? 200_000 : 1_000_000;

/** Deterministic durations 0..MAX_MS (integers, like most setTimeout calls). */
function durations(n: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    out[i] = s % (MAX_MS + 1);
  }
  return out;
}

interface Outcome {
  totalMs: number;
  late: Float64Array;
}

type Runner = (ms: Int32Array, late: Float64Array) => Promise<unknown>;

// ---------------- concurrent sleeps ----------------

const timersPromises: Runner = (ms, late) => {
  const one = async (i: number): Promise<void> => {
    const t = performance.now();
    await sleepP(ms[i]);
    late[i] = performance.now() - t - ms[i];
  };
  const ps = new Array<Promise<void>>(ms.length);
  for (let i = 0; i < ms.length; i++) ps[i] = one(i);
  return Promise.all(ps);
};

const setTimeoutPromise: Runner = (ms, late) => {
  const one = async (i: number): Promise<void> => {
    const t = performance.now();
    await new Promise<void>((r) => setTimeout(r, ms[i]));
    late[i] = performance.now() - t - ms[i];
  };
  const ps = new Array<Promise<void>>(ms.length);
  for (let i = 0; i < ms.length; i++) ps[i] = one(i);
  return Promise.all(ps);
};

const rioco: Runner = (ms, late) =>
  run(function* () {
    const sleeper = function* (i: number): Operation<void> {
      const t = performance.now();
      yield* sleep(ms[i]);
      late[i] = performance.now() - t - ms[i];
    };
    // Children are joined by structure: the root finishes when they all have.
    for (let i = 0; i < ms.length; i++) spawn(sleeper, { args: [i] });
  });

const effect: Runner = (ms, late) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const sleeper = (i: number) =>
        Effect.gen(function* () {
          const t = performance.now();
          yield* Effect.sleep(ms[i]);
          late[i] = performance.now() - t - ms[i];
        });
      const fibers = new Array<EffectFiber.Fiber<void>>(ms.length);
      for (let i = 0; i < ms.length; i++) fibers[i] = yield* Effect.forkChild(sleeper(i));
      for (const f of fibers) yield* EffectFiber.join(f);
    }),
  );

const effectionRunner: Runner = (ms, late) =>
  effection.run(function* () {
    const sleeper = function* (i: number): effection.Operation<void> {
      const t = performance.now();
      yield* effection.sleep(ms[i]);
      late[i] = performance.now() - t - ms[i];
    };
    const tasks: effection.Task<void>[] = [];
    for (let i = 0; i < ms.length; i++) tasks.push(yield* effection.spawn(() => sleeper(i)));
    for (const t of tasks) yield* t;
  });

// ---------------- memory per pending sleep ----------------

const LONG = 60_000;

/** Resolve when `count` callbacks have been made. */
function countdown(count: number): { tick: () => void; done: Promise<void> } {
  let left = count;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return {
    tick: () => {
      if (--left === 0) resolve();
    },
    done,
  };
}

function memTimersPromises(n: number): Promise<() => unknown> {
  // No AbortSignal (its listeners would inflate the figure): short enough to just await.
  const ps = new Array<Promise<void>>(n);
  const one = async (): Promise<void> => {
    await sleepP(1_500);
  };
  for (let i = 0; i < n; i++) ps[i] = one();
  return Promise.resolve(() => Promise.all(ps));
}

function memSetTimeoutPromise(n: number): Promise<() => unknown> {
  const handles: ReturnType<typeof setTimeout>[] = [];
  const one = async (): Promise<void> => {
    await new Promise<void>((r) => handles.push(setTimeout(r, LONG)));
  };
  for (let i = 0; i < n; i++) void one();
  return Promise.resolve(() => {
    for (const h of handles) clearTimeout(h);
  });
}

/** Rioco: `n` fibers, each parked in `park` (a sleep, or a plain wait for the fiber's own cost). */
async function memRioco(n: number, park: () => Operation<void>): Promise<() => unknown> {
  const c = countdown(n);
  const sleeper = function* (): Operation<void> {
    c.tick();
    yield* park();
  };
  const root: Task<void> = run(function* () {
    for (let i = 0; i < n; i++) spawn(sleeper);
  });
  await c.done;
  return async () => {
    root.cancel();
    await root.then(
      () => undefined,
      () => undefined,
    );
  };
}

const PLAIN_WAIT = suspend<void>(() => {}, { reason: 'bench.park', internal: true });

/** Rioco: `n` bare timer entries set from one fiber (no fiber each): the queue's own cost. */
async function memTimerEntries(n: number): Promise<() => unknown> {
  let release!: () => void;
  const go = new Promise<void>((r) => (release = r));
  const c = countdown(1);
  const root = run(function* () {
    const s = useScheduler();
    const t0 = s.clock.now();
    const noop = (): void => {};
    const hs = [];
    for (let i = 0; i < n; i++) hs.push(s.setTimer(t0 + LONG + i, noop));
    c.tick();
    yield* wait(go);
    for (const h of hs) h.cancel();
  });
  await c.done;
  return async () => {
    release();
    await root;
  };
}

async function memEffect(n: number): Promise<() => unknown> {
  const c = countdown(n);
  const gate = Effect.runSync(Deferred.make<void>());
  const fiber = Effect.runFork(
    Effect.gen(function* () {
      for (let i = 0; i < n; i++) {
        yield* Effect.forkChild(
          Effect.gen(function* () {
            c.tick();
            yield* Effect.sleep(LONG);
          }),
        );
      }
      yield* Deferred.await(gate);
    }),
  );
  await c.done;
  return () => Effect.runPromise(EffectFiber.interrupt(fiber));
}

async function memEffection(n: number): Promise<() => unknown> {
  const c = countdown(n);
  const task = effection.run(function* () {
    for (let i = 0; i < n; i++) {
      // The task handle is not needed: halting the root halts it.
      void (yield* effection.spawn(function* () {
        c.tick();
        yield* effection.sleep(LONG);
      }));
    }
    yield* effection.suspend();
  });
  await c.done;
  return () => task.halt();
}

// ---------------- churn: start a sleep, cancel it ----------------

function churnSetTimeout(n: number): void {
  const noop = (): void => {};
  for (let i = 0; i < n; i++) clearTimeout(setTimeout(noop, 1_000));
}

async function churnTimersPromises(n: number): Promise<void> {
  const noop = (): void => {};
  let last: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < n; i++) {
    const ac = new AbortController();
    last = sleepP(1_000, undefined, { signal: ac.signal }).catch(noop);
    ac.abort();
  }
  await last;
}

function churnSetTimer(n: number): Promise<void> {
  return run(function* () {
    const s = useScheduler();
    const noop = (): void => {};
    const at = s.clock.now() + 1_000;
    for (let i = 0; i < n; i++) s.setTimer(at + (i & 1023), noop).cancel();
  });
}

/** timeout() around an operation that finishes at once: arms the deadline and cancels it. */
function churnTimeout(n: number): Promise<void> {
  const instant: Operation<number> = { *[Symbol.iterator]() { return 1; } };
  return run(function* () {
    let s = 0;
    for (let i = 0; i < n; i++) s += yield* timeout(1_000, instant);
    if (s !== n) throw new Error('lost');
  });
}

/** Child fibers that start a sleep and are cancelled (spawn + park + timer + teardown + exit). */
function churnSleepingFiber(n: number): Promise<void> {
  return run(function* () {
    const nap = sleep(1_000);
    const sleeper = function* (): Operation<void> {
      yield* nap;
    };
    const batch: Task<void>[] = new Array<Task<void>>(256);
    for (let i = 0; i < n; i += 256) {
      for (let k = 0; k < 256; k++) batch[k] = spawn(sleeper);
      yield* yieldNow(); // the children run first (FIFO) and park in their sleep
      for (let k = 255; k >= 0; k--) batch[k].cancel();
      yield* batch[0].halt();
    }
  });
}

function churnEffect(n: number): Promise<void> {
  return Effect.runPromise(
    Effect.gen(function* () {
      for (let i = 0; i < n; i++) {
        const f = yield* Effect.forkChild(Effect.sleep(1_000));
        yield* EffectFiber.interrupt(f);
      }
    }),
  );
}

// ---------------- main ----------------
/** Runs of `fn` over the seeded durations (after a warm-up run): total time and lateness. */
function sleepRow(n: number, fn: Runner, runs: number): () => Promise<RowResult> {
  return async () => {
    const ms = durations(n, 42);
    await fn(ms, new Float64Array(n)); // warm-up
    const outcomes: Outcome[] = [];
    for (let k = 0; k < runs; k++) {
      const late = new Float64Array(n);
      const t0 = performance.now();
      await fn(ms, late);
      outcomes.push({ totalMs: performance.now() - t0, late });
    }
    const all = outcomes.map((o) => Array.from(o.late));
    return {
      value: median(outcomes.map((o) => o.totalMs)),
      extra: {
        'late p50': `${median(all.map((l) => percentile(l, 50))).toFixed(2)} ms`,
        'late p99': `${median(all.map((l) => percentile(l, 99))).toFixed(2)} ms`,
        'late max': `${median(all.map((l) => percentile(l, 100))).toFixed(1)} ms`,
      },
    };
  };
}

const ns = 'ns/op';

await runSuite(`# @rioco/timers — N=${N} sleeps of 0–${MAX_MS} ms`, [
  {
    title: `${N / 1000}k concurrent sleeps, random 0–${MAX_MS} ms: total time`,
    unit: 'ms',
    baseline: 'timers/promises setTimeout',
    rows: [
      { name: 'timers/promises setTimeout', measure: sleepRow(N, timersPromises, RUNS) },
      { name: 'setTimeout promise', measure: sleepRow(N, setTimeoutPromise, RUNS) },
      { name: 'rioco sleep (fiber each)', measure: sleepRow(N, rioco, RUNS) },
      { name: 'effect Effect.sleep (forked)', measure: sleepRow(N, effect, RUNS) },
    ],
  },
  {
    title: `${N_EFFECTION / 1000}k concurrent sleeps (effection is too slow for ${N / 1000}k): total time`,
    unit: 'ms',
    baseline: 'timers/promises setTimeout',
    rows: [
      { name: 'timers/promises setTimeout', measure: sleepRow(N_EFFECTION, timersPromises, RUNS_EFFECTION) },
      { name: 'rioco sleep (fiber each)', measure: sleepRow(N_EFFECTION, rioco, RUNS_EFFECTION) },
      { name: 'effection sleep (spawned)', measure: sleepRow(N_EFFECTION, effectionRunner, RUNS_EFFECTION) },
    ],
  },
  {
    title: 'memory per pending sleep (heap bytes)',
    unit: 'B',
    baseline: 'timers/promises in async fn',
    exposeGc: true,
    rows: [
      { name: 'timers/promises in async fn', measure: () => bytesPer(memTimersPromises, N) },
      { name: 'setTimeout promise in async fn', measure: () => bytesPer(memSetTimeoutPromise, N) },
      { name: 'rioco sleep, fiber each', measure: () => bytesPer((n) => memRioco(n, () => sleep(LONG)), N) },
      { name: 'rioco parked fiber alone (no sleep)', measure: () => bytesPer((n) => memRioco(n, () => PLAIN_WAIT), N) },
      { name: 'rioco bare timer entry (no fiber)', measure: () => bytesPer(memTimerEntries, N) },
      { name: 'effect sleep, forked fiber each', measure: () => bytesPer(memEffect, N) },
      { name: `effection sleep, task each (${N_EFFECTION / 1000}k)`, measure: () => bytesPer(memEffection, N_EFFECTION) },
    ],
  },
  {
    title: `sleep/cancel churn (${CHURN / 1e6}M starts, fewer where marked)`,
    unit: ns,
    baseline: 'setTimeout + clearTimeout',
    rows: [
      { name: 'setTimeout + clearTimeout', measure: () => measure(churnSetTimeout, CHURN) },
      { name: 'timers/promises + AbortController (50k)', measure: () => measure(churnTimersPromises, CHURN / 20, { runs: 5 }) },
      { name: 'rioco setTimer + cancel (the queue)', measure: () => measure(churnSetTimer, CHURN) },
      { name: 'rioco timeout() around an instant op', measure: () => measure(churnTimeout, CHURN) },
      { name: 'rioco sleeping child fiber, cancelled', measure: () => measure(churnSleepingFiber, CHURN / 4, { runs: 5 }) },
      { name: 'effect fork(sleep) + interrupt (100k)', measure: () => measure(churnEffect, CHURN / 10, { runs: 5 }) },
    ],
  },
]);
