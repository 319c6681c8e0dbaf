/**
 * @rioco/sync against what a user would otherwise pick: hand-written async/await
 * equivalents (a promise queue channel, a promise mutex), async-mutex, effection and
 * effect (Queue, Semaphore). The ping-pong baseline is the core suite's floor (floor.ts:
 * the minimal generator scheduler the targets are set against); below it, an even
 * smaller one (a ring queue run synchronously, fibers that `yield` the slot itself):
 * the least any generator scheduler with a one-slot handoff can do.
 *
 * Every row runs in a fresh process (the harness's runSuite); the slow peers run fewer
 * iterations (results are per operation, so the counts do not bias the ratios).
 *
 * Ping-pong rows besides the floors: the minimal floor with blocking through `yield*` on an
 * operation object (what any typed-operation API pays), and a one-slot handoff written
 * directly on core's suspend() (what the scheduler alone costs, without @rioco/sync).
 * The first mutex table has holders that never yield, so cooperative fibers never
 * actually contend (every lock takes the fast path); the second makes them contend.
 * effection ships no mutex and its queue is unbounded: both are hand-written or noted.
 *
 * Env: BENCH_QUICK=1 (a tenth of the iterations).
 *
 * Build and run:
 *   cd tooling/bench && ../../node_modules/.bin/tsc -p tsconfig.json && node dist/suites/sync.js
 */
import { run, spawn, suspend, waitReason, yieldNow, type Operation, type Resume, type Task } from '@rioco/core';
import { channel, Mutex } from '@rioco/sync';
import { Mutex as AsyncMutex } from 'async-mutex';
import * as E from 'effect/Effect';
import * as EFiber from 'effect/Fiber';
import * as EQueue from 'effect/Queue';
import * as ESemaphore from 'effect/Semaphore';
import {
  run as erun,
  spawn as espawn,
  action as eaction,
  createQueue as ecreateQueue,
  type Operation as EOperation,
  type Task as ETask,
} from 'effection';
import { floorPingPong as coreFloorPingPong } from '../floor.js';
import { interleaved, measure, runSuite } from '../harness.js';

const QUICK = process.env.BENCH_QUICK === '1';
const scale = (n: number): number => (QUICK ? Math.max(1, Math.floor(n / 10)) : n);

// ---- the floor: a minimal generator scheduler with a one-slot handoff -------------------

interface FloorFiber {
  it: Iterator<FloorSlot, void, unknown>;
  v: unknown;
}

/** A one-slot handoff: a value, or one parked fiber waiting for it. */
class FloorSlot {
  waiter: FloorFiber | null = null;
  v: unknown = undefined;
  full = false;
}

class FloorScheduler {
  private q: (FloorFiber | undefined)[] = new Array<FloorFiber | undefined>(64).fill(undefined);
  private h = 0;
  private t = 0;
  spawn(it: Iterator<FloorSlot, void, unknown>): void {
    this.push({ it, v: undefined });
  }
  private push(f: FloorFiber): void {
    this.q[this.t] = f;
    this.t = (this.t + 1) & 63;
  }
  put(s: FloorSlot, v: unknown): void {
    const w = s.waiter;
    if (w !== null) {
      s.waiter = null;
      w.v = v;
      this.push(w);
    } else {
      s.v = v;
      s.full = true;
    }
  }
  run(): void {
    while (this.h !== this.t) {
      const f = this.q[this.h] as FloorFiber;
      this.q[this.h] = undefined;
      this.h = (this.h + 1) & 63;
      for (;;) {
        const r = f.it.next(f.v);
        if (r.done === true) break;
        const s = r.value;
        if (s.full) {
          s.full = false;
          f.v = s.v;
          continue;
        }
        s.waiter = f;
        break;
      }
    }
  }
}

function floorPingPong(n: number): void {
  const s = new FloorScheduler();
  const ping = new FloorSlot();
  const pong = new FloorSlot();
  s.spawn(
    (function* (): Generator<FloorSlot, void, unknown> {
      for (let i = 0; i < n; i++) {
        s.put(ping, i);
        yield pong;
      }
    })(),
  );
  s.spawn(
    (function* (): Generator<FloorSlot, void, unknown> {
      for (let i = 0; i < n; i++) {
        const v = yield ping;
        s.put(pong, v);
      }
    })(),
  );
  s.run();
}

/**
 * The same floor, but fibers block with `yield*` on an operation object (an iterator
 * that yields the slot), which is what any typed-operation API pays for `yield*`.
 */
const FLOOR_DONE: { done: true; value: unknown } = { done: true, value: undefined };
class FloorTake {
  private parked = false;
  constructor(private readonly s: FloorSlot) {}
  [Symbol.iterator](): this {
    return this;
  }
  next(v: unknown): IteratorResult<FloorSlot, unknown> {
    if (!this.parked) {
      const s = this.s;
      if (s.full) {
        s.full = false;
        FLOOR_DONE.value = s.v;
        return FLOOR_DONE;
      }
      this.parked = true;
      return { done: false, value: s };
    }
    FLOOR_DONE.value = v;
    return FLOOR_DONE;
  }
}

function floorOpPingPong(n: number): void {
  const s = new FloorScheduler();
  const ping = new FloorSlot();
  const pong = new FloorSlot();
  s.spawn(
    (function* (): Generator<FloorSlot, void, unknown> {
      for (let i = 0; i < n; i++) {
        s.put(ping, i);
        yield* new FloorTake(pong);
      }
    })(),
  );
  s.spawn(
    (function* (): Generator<FloorSlot, void, unknown> {
      for (let i = 0; i < n; i++) {
        const v = yield* new FloorTake(ping);
        s.put(pong, v);
      }
    })(),
  );
  s.run();
}

const CORE_SLOT = waitReason('bench.slot');

/** A one-slot handoff directly on core's suspend(): what the scheduler alone costs. */
class CoreSlot<T> {
  private waiter: Resume<T> | null = null;
  private value: T | undefined;
  private has = false;
  put(v: T): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w.ok(v);
    } else {
      this.value = v;
      this.has = true;
    }
  }
  *take(): Operation<T> {
    if (this.has) {
      this.has = false;
      return this.value as T;
    }
    return yield* suspend<T>(
      (r) => {
        this.waiter = r;
      },
      { reason: CORE_SLOT, internal: true },
    );
  }
}

function corePingPong(n: number): Promise<void> {
  return run(function* () {
    const ping = new CoreSlot<number>();
    const pong = new CoreSlot<number>();
    const echo = spawn(function* () {
      for (let i = 0; i < n; i++) pong.put(yield* ping.take());
    });
    for (let i = 0; i < n; i++) {
      ping.put(i);
      yield* pong.take();
    }
    yield* echo;
  });
}

// ---- async/await equivalents ----------------------------------------------------------

/** A FIFO of callbacks with O(1) shift (arrays shift in O(n) once large). */
class Fifo<T> {
  private buf: (T | undefined)[] = new Array<T | undefined>(16).fill(undefined);
  private h = 0;
  size = 0;
  push(v: T): void {
    if (this.size === this.buf.length) {
      const next = new Array<T | undefined>(this.buf.length * 2).fill(undefined);
      for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.h + i) % this.buf.length];
      this.buf = next;
      this.h = 0;
    }
    this.buf[(this.h + this.size) % this.buf.length] = v;
    this.size++;
  }
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const v = this.buf[this.h];
    this.buf[this.h] = undefined;
    this.h = (this.h + 1) % this.buf.length;
    this.size--;
    return v;
  }
}

const RESOLVED = Promise.resolve();

/** The promise mutex people write by hand: FIFO handoff, a resolved promise when free. */
class PromiseMutex {
  private locked = false;
  private waiters = new Fifo<() => void>();
  lock(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return RESOLVED;
    }
    return new Promise<void>((r) => this.waiters.push(r));
  }
  unlock(): void {
    const w = this.waiters.shift();
    if (w !== undefined) w();
    else this.locked = false;
  }
}

/** A bounded MPMC promise channel (capacity 0 = rendezvous), FIFO on both sides. */
class PromiseChannel<T> {
  private buf = new Fifo<T>();
  private receivers = new Fifo<(v: T) => void>();
  private senders = new Fifo<{ v: T; resolve: () => void }>();
  constructor(private readonly cap: number) {}
  send(v: T): Promise<void> {
    const r = this.receivers.shift();
    if (r !== undefined) {
      r(v);
      return RESOLVED;
    }
    if (this.buf.size < this.cap) {
      this.buf.push(v);
      return RESOLVED;
    }
    return new Promise<void>((resolve) => this.senders.push({ v, resolve }));
  }
  recv(): Promise<T> {
    if (this.buf.size > 0) {
      const v = this.buf.shift() as T;
      const s = this.senders.shift();
      if (s !== undefined) {
        this.buf.push(s.v);
        s.resolve();
      }
      return Promise.resolve(v);
    }
    const s = this.senders.shift();
    if (s !== undefined) {
      s.resolve();
      return Promise.resolve(s.v);
    }
    return new Promise<T>((r) => this.receivers.push(r));
  }
}

/** A mutex for effection (it ships none): FIFO handoff on `action`. */
class EffectionMutex {
  private locked = false;
  private waiters = new Fifo<() => void>();
  *lock(): EOperation<void> {
    if (!this.locked) {
      this.locked = true;
      return;
    }
    yield* eaction<void>((resolve) => {
      const r = (): void => resolve();
      this.waiters.push(r);
      return () => {};
    });
  }
  unlock(): void {
    const w = this.waiters.shift();
    if (w !== undefined) w();
    else this.locked = false;
  }
}

const microtask = (): EOperation<void> =>
  eaction<void>((resolve) => {
    queueMicrotask(() => resolve());
    return () => {};
  });

// ---- ping-pong ------------------------------------------------------------------------

function riocoPingPong(n: number, cap: number): Promise<void> {
  return run(function* () {
    const ping = channel<number>(cap);
    const pong = channel<number>(cap);
    const echo = spawn(function* () {
      for (let i = 0; i < n; i++) {
        const v = yield* ping.recv();
        yield* pong.send(v);
      }
    });
    for (let i = 0; i < n; i++) {
      yield* ping.send(i);
      yield* pong.recv();
    }
    yield* echo;
  });
}

async function promisePingPong(n: number): Promise<void> {
  const ping = new PromiseChannel<number>(0);
  const pong = new PromiseChannel<number>(0);
  const echo = (async () => {
    for (let i = 0; i < n; i++) await pong.send(await ping.recv());
  })();
  for (let i = 0; i < n; i++) {
    await ping.send(i);
    await pong.recv();
  }
  await echo;
}

function effectionPingPong(n: number): Promise<void> {
  return erun(function* () {
    const ping = ecreateQueue<number, void>();
    const pong = ecreateQueue<number, void>();
    const echo: ETask<void> = yield* espawn(function* () {
      for (let i = 0; i < n; i++) {
        const r = yield* ping.next();
        pong.add(r.value as number);
      }
    });
    for (let i = 0; i < n; i++) {
      ping.add(i);
      yield* pong.next();
    }
    yield* echo;
  });
}

function effectPingPong(n: number): Promise<void> {
  return E.runPromise(
    E.gen(function* () {
      const ping = yield* EQueue.bounded<number>(1);
      const pong = yield* EQueue.bounded<number>(1);
      const echo = yield* E.forkChild(
        E.gen(function* () {
          for (let i = 0; i < n; i++) {
            const v = yield* EQueue.take(ping);
            yield* EQueue.offer(pong, v);
          }
        }),
      );
      for (let i = 0; i < n; i++) {
        yield* EQueue.offer(ping, i);
        yield* EQueue.take(pong);
      }
      yield* EFiber.join(echo);
    }),
  );
}

// ---- MPMC -----------------------------------------------------------------------------

const P = 4;
const C = 4;
const MPMC_CAP = 64;

function riocoMpmc(total: number): Promise<void> {
  const per = total / P;
  return run(function* () {
    const ch = channel<number>(MPMC_CAP);
    const tasks: Task<void>[] = [];
    for (let p = 0; p < P; p++) {
      tasks.push(
        spawn(function* () {
          for (let i = 0; i < per; i++) yield* ch.send(i);
        }),
      );
    }
    const consumers: Task<number>[] = [];
    for (let c = 0; c < C; c++) {
      consumers.push(
        spawn(function* () {
          let n = 0;
          for (;;) {
            const v = yield* ch.recvOrClosed();
            if (typeof v !== 'number') return n;
            n++;
          }
        }),
      );
    }
    for (const t of tasks) yield* t;
    ch.close();
    let got = 0;
    for (const t of consumers) got += yield* t;
    if (got !== total) throw new Error(`lost messages: ${got}/${total}`);
  });
}

async function promiseMpmc(total: number): Promise<void> {
  const per = total / P;
  const ch = new PromiseChannel<number>(MPMC_CAP);
  const DONE = -1;
  const producers = Array.from({ length: P }, async () => {
    for (let i = 0; i < per; i++) await ch.send(i);
  });
  const consumers = Array.from({ length: C }, async () => {
    let n = 0;
    while ((await ch.recv()) !== DONE) n++;
    return n;
  });
  await Promise.all(producers);
  for (let c = 0; c < C; c++) await ch.send(DONE);
  const got = (await Promise.all(consumers)).reduce((a, b) => a + b, 0);
  if (got !== total) throw new Error(`lost messages: ${got}/${total}`);
}

function effectMpmc(total: number): Promise<void> {
  const per = total / P;
  return E.runPromise(
    E.gen(function* () {
      const q = yield* EQueue.bounded<number>(MPMC_CAP);
      const producers = [];
      for (let p = 0; p < P; p++) {
        producers.push(
          yield* E.forkChild(
            E.gen(function* () {
              for (let i = 0; i < per; i++) yield* EQueue.offer(q, i);
            }),
          ),
        );
      }
      const consumers = [];
      for (let c = 0; c < C; c++) {
        consumers.push(
          yield* E.forkChild(
            E.gen(function* () {
              let n = 0;
              while ((yield* EQueue.take(q)) !== -1) n++;
              return n;
            }),
          ),
        );
      }
      yield* EFiber.joinAll(producers);
      for (let c = 0; c < C; c++) yield* EQueue.offer(q, -1);
      const counts = yield* EFiber.joinAll(consumers);
      const got = counts.reduce((a, b) => a + b, 0);
      if (got !== total) throw new Error(`lost messages: ${got}/${total}`);
    }),
  );
}

/** effection's queue is unbounded (no backpressure): producers never wait. */
function effectionMpmc(total: number): Promise<void> {
  const per = total / P;
  return erun(function* () {
    const q = ecreateQueue<number, void>();
    const consumers: ETask<number>[] = [];
    for (let c = 0; c < C; c++) {
      consumers.push(
        yield* espawn(function* () {
          let n = 0;
          for (;;) {
            const r = yield* q.next();
            if (r.done === true || r.value === -1) return n;
            n++;
          }
        }),
      );
    }
    const producers: ETask<void>[] = [];
    for (let p = 0; p < P; p++) {
      producers.push(
        yield* espawn(function* () {
          for (let i = 0; i < per; i++) {
            q.add(i);
            if ((i & 63) === 63) yield* microtask();
          }
        }),
      );
    }
    for (const t of producers) yield* t;
    for (let c = 0; c < C; c++) q.add(-1);
    let got = 0;
    for (const t of consumers) got += yield* t;
    if (got !== total) throw new Error(`lost messages: ${got}/${total}`);
  });
}

// ---- mutex contention ----------------------------------------------------------------

const FIBERS = 1000;
const INCS = 100;
const LOCKS = FIBERS * INCS;

function riocoMutex(holdersYield: boolean, useUsing: boolean): Promise<void> {
  return run(function* () {
    const m = new Mutex();
    let count = 0;
    function* worker(): Operation<void> {
      for (let i = 0; i < INCS; i++) {
        if (useUsing) {
          using _g = yield* m.lock();
          if (holdersYield) yield* yieldNow();
          count++;
        } else {
          const g = yield* m.lock();
          if (holdersYield) yield* yieldNow();
          count++;
          g.release();
        }
      }
    }
    const tasks: Task<void>[] = [];
    for (let f = 0; f < FIBERS; f++) tasks.push(spawn(worker));
    for (const t of tasks) yield* t;
    if (count !== LOCKS) throw new Error(`mutual exclusion broken: ${count}`);
  });
}

async function promiseMutex(holdersYield: boolean): Promise<void> {
  const m = new PromiseMutex();
  let count = 0;
  const worker = async (): Promise<void> => {
    for (let i = 0; i < INCS; i++) {
      await m.lock();
      if (holdersYield) await RESOLVED; // one microtask turn, like `await null`
      count++;
      m.unlock();
    }
  };
  await Promise.all(Array.from({ length: FIBERS }, worker));
  if (count !== LOCKS) throw new Error(`mutual exclusion broken: ${count}`);
}

async function asyncMutex(holdersYield: boolean): Promise<void> {
  const m = new AsyncMutex();
  let count = 0;
  const worker = async (): Promise<void> => {
    for (let i = 0; i < INCS; i++) {
      const release = await m.acquire();
      if (holdersYield) await RESOLVED; // one microtask turn, like `await null`
      count++;
      release();
    }
  };
  await Promise.all(Array.from({ length: FIBERS }, worker));
  if (count !== LOCKS) throw new Error(`mutual exclusion broken: ${count}`);
}

function effectMutex(holdersYield: boolean): Promise<void> {
  return E.runPromise(
    E.gen(function* () {
      const sem = yield* ESemaphore.make(1);
      let count = 0;
      const section = holdersYield
        ? E.andThen(E.yieldNow, E.sync(() => void count++))
        : E.sync(() => void count++);
      const guarded = ESemaphore.withPermits(sem, 1)(section);
      const worker = E.gen(function* () {
        for (let i = 0; i < INCS; i++) yield* guarded;
      });
      const fibers = [];
      for (let f = 0; f < FIBERS; f++) fibers.push(yield* E.forkChild(worker));
      yield* EFiber.joinAll(fibers);
      if (count !== LOCKS) throw new Error(`mutual exclusion broken: ${count}`);
    }),
  );
}

function effectionMutex(holdersYield: boolean): Promise<void> {
  return erun(function* () {
    const m = new EffectionMutex();
    let count = 0;
    function* worker(): EOperation<void> {
      for (let i = 0; i < INCS; i++) {
        yield* m.lock();
        if (holdersYield) yield* microtask();
        count++;
        m.unlock();
      }
    }
    const tasks: ETask<void>[] = [];
    for (let f = 0; f < FIBERS; f++) tasks.push(yield* espawn(worker));
    for (const t of tasks) yield* t;
    if (count !== LOCKS) throw new Error(`mutual exclusion broken: ${count}`);
  });
}

// ---- main -----------------------------------------------------------------------------

/** A row's measurement (in the row's own process). */
function row(fn: (n: number) => unknown, n: number, options?: { runs?: number; warmup?: number }): () => Promise<number> {
  return () => measure(fn, n, options);
}

const N = scale(200_000);
/** Iterations of one interleaved run: short, so neighbouring runs see the same machine. */
const NP = scale(50_000);
const M = scale(400_000);
/**
 * Messages of one interleaved MPMC run (as many as the MPMC table's), and round trips of
 * one ping-pong run against effect and effection.
 */
const NM = M;
const NE = scale(10_000);
const slow = { runs: 3, warmup: 1 };

await runSuite(`# @rioco/sync${QUICK ? ' (BENCH_QUICK)' : ''}`, [
  {
    title: 'channel ping-pong (per round trip)',
    unit: 'ns/op',
    baseline: 'core ping-pong floor (floor.ts)',
    rows: [
      { name: 'core ping-pong floor (floor.ts)', measure: row((n) => coreFloorPingPong(n), N) },
      { name: 'minimal floor (ring queue, no yield*)', measure: row((n) => floorPingPong(n), N) },
      { name: 'minimal floor, blocking via yield* operation', measure: row((n) => floorOpPingPong(n), N) },
      { name: 'rioco channel(0)', measure: row((n) => riocoPingPong(n, 0), N) },
      { name: 'rioco channel(1)', measure: row((n) => riocoPingPong(n, 1), N) },
      { name: 'rioco core suspend() slot (no sync)', measure: row((n) => corePingPong(n), N) },
      { name: 'async/await promise channel', measure: row((n) => promisePingPong(n), N) },
      { name: 'effection queue', measure: row((n) => effectionPingPong(n), scale(20_000), { runs: 5 }) },
      { name: 'effect Queue.bounded(1)', measure: row((n) => effectPingPong(n), scale(20_000), { runs: 5 }) },
    ],
  },
  {
    // The same rows against the same floor, but each measured in one process with the
    // floor, run for run (see harness.ts `interleaved`): the ratio to trust on a machine
    // whose speed drifts.
    title: 'channel ping-pong, interleaved with the floor in one process (median ratio of neighbouring runs)',
    unit: 'x floor',
    baseline: 'core ping-pong floor (floor.ts), against itself',
    rows: [
      { name: 'core ping-pong floor (floor.ts), against itself', measure: () => interleaved((n) => coreFloorPingPong(n), (n) => coreFloorPingPong(n), NP) },
      { name: 'rioco channel(0)', measure: () => interleaved((n) => riocoPingPong(n, 0), (n) => coreFloorPingPong(n), NP) },
      { name: 'rioco channel(1)', measure: () => interleaved((n) => riocoPingPong(n, 1), (n) => coreFloorPingPong(n), NP) },
      { name: 'rioco core suspend() slot (no sync)', measure: () => interleaved((n) => corePingPong(n), (n) => coreFloorPingPong(n), NP) },
    ],
  },
  {
    title: `MPMC ${P} producers x ${C} consumers (per message)`,
    unit: 'ns/op',
    baseline: 'async/await promise channel(64)',
    rows: [
      { name: 'async/await promise channel(64)', measure: row((n) => promiseMpmc(n), M) },
      { name: 'rioco channel(64)', measure: row((n) => riocoMpmc(n), M) },
      { name: 'effection queue (unbounded)', measure: row((n) => effectionMpmc(n), scale(40_000), { runs: 5 }) },
      { name: 'effect Queue.bounded(64)', measure: row((n) => effectMpmc(n), scale(40_000), { runs: 5 }) },
    ],
  },
  {
    // Each peer against Rioco in one process, run for run (see harness.ts `interleaved`):
    // the times Rioco's time a peer takes for the same work, on the same machine state.
    // The rows above compare medians of runs seconds apart; these hold while the VM's
    // speed drifts.
    title: 'effect and effection against rioco, interleaved in one process (median ratio of neighbouring runs)',
    unit: 'x rioco',
    baseline: 'rioco channel(64) MPMC, against itself',
    rows: [
      { name: 'rioco channel(64) MPMC, against itself', measure: () => interleaved((n) => riocoMpmc(n), (n) => riocoMpmc(n), NM) },
      { name: 'MPMC: effection queue (unbounded)', measure: () => interleaved((n) => effectionMpmc(n), (n) => riocoMpmc(n), NM) },
      { name: 'MPMC: effect Queue.bounded(64)', measure: () => interleaved((n) => effectMpmc(n), (n) => riocoMpmc(n), NM) },
      { name: 'ping-pong: effection queue', measure: () => interleaved((n) => effectionPingPong(n), (n) => riocoPingPong(n, 0), NE) },
      { name: 'ping-pong: effect Queue.bounded(1)', measure: () => interleaved((n) => effectPingPong(n), (n) => riocoPingPong(n, 0), NE) },
      { name: 'mutex: effection (hand-written mutex)', measure: () => interleaved(() => effectionMutex(false), () => riocoMutex(false, false), LOCKS, 15) },
      { name: 'mutex: effect Semaphore(1)', measure: () => interleaved(() => effectMutex(false), () => riocoMutex(false, false), LOCKS, 15) },
    ],
  },
  ...[false, true].map((holdersYield) => ({
    title: `mutex, ${FIBERS} fibers x ${INCS} increments${holdersYield ? ', holders yield while holding' : ''} (per lock/unlock)`,
    unit: 'ns/op',
    baseline: 'async/await promise mutex',
    rows: [
      { name: 'async/await promise mutex', measure: row(() => promiseMutex(holdersYield), LOCKS) },
      { name: 'rioco Mutex', measure: row(() => riocoMutex(holdersYield, false), LOCKS) },
      { name: 'rioco Mutex (using)', measure: row(() => riocoMutex(holdersYield, true), LOCKS) },
      { name: 'async-mutex', measure: row(() => asyncMutex(holdersYield), LOCKS, slow) },
      { name: 'effection (hand-written mutex)', measure: row(() => effectionMutex(holdersYield), LOCKS, slow) },
      { name: 'effect Semaphore(1)', measure: row(() => effectMutex(holdersYield), LOCKS, slow) },
    ],
  })),
]);
