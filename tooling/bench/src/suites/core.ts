/**
 * @rioco/core against the floor (a minimal generator scheduler), async/await, effection
 * and effect: ping-pong through a one-slot handoff, spawn+join, yield, memory per parked
 * fiber, and per-fiber cost as the tree grows.
 */
import { run, spawn, suspend, yieldNow, type Operation, type Resume, type Task } from '@rioco/core';
import * as effection from 'effection';
import { Effect, Fiber as EffectFiber, Deferred } from 'effect';
import { measure, bytesPer, runSuite } from '../harness.js';
import { floorRun, floorPingPong, parkForever, FloorScheduler, type FloorOp, type Park } from '../floor.js';


const quick = process.env.BENCH_QUICK === '1';
const N_PING = quick ? 100_000 : 500_000; // round trips (2 messages each)
const N_SPAWN = quick ? 20_000 : 100_000;
const N_YIELD = quick ? 200_000 : 1_000_000;
const N_PARK = 100_000;

// ---------------- one-slot handoffs ----------------
class RiocoSlot<T> {
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
  private readonly register = (r: Resume<T>): (() => void) => {
    this.waiter = r;
    return this.teardown;
  };
  private readonly teardown = (): void => {
    this.waiter = null;
  };
  take(): Operation<T> {
    if (this.has) {
      this.has = false;
      const v = this.value as T;
      return { *[Symbol.iterator]() { return v; } };
    }
    return suspend<T>(this.register, { internal: true });
  }
}

class PromiseSlot<T> {
  private waiter: ((v: T) => void) | null = null;
  private value: T | undefined;
  private has = false;
  put(v: T): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w(v);
    } else {
      this.value = v;
      this.has = true;
    }
  }
  take(): Promise<T> | T {
    if (this.has) {
      this.has = false;
      return this.value as T;
    }
    return new Promise<T>((r) => (this.waiter = r));
  }
}

class EffectionSlot<T> {
  private waiter: ((v: T) => void) | null = null;
  private value: T | undefined;
  private has = false;
  put(v: T): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w(v);
    } else {
      this.value = v;
      this.has = true;
    }
  }
  *take(): effection.Operation<T> {
    if (this.has) {
      this.has = false;
      return this.value as T;
    }
    return yield* effection.action<T>((resolve) => {
      this.waiter = resolve;
      return () => {
        this.waiter = null;
      };
    });
  }
}

class EffectSlot<T> {
  private waiter: ((v: T) => void) | null = null;
  private value: T | undefined;
  private has = false;
  put(v: T): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w(v);
    } else {
      this.value = v;
      this.has = true;
    }
  }
  take(): Effect.Effect<T> {
    return Effect.suspend(() => {
      if (this.has) {
        this.has = false;
        return Effect.succeed(this.value as T);
      }
      return Effect.callback<T>((resume) => {
        this.waiter = (v) => resume(Effect.succeed(v));
      });
    });
  }
}

// ---------------- ping-pong ----------------
function pingPongRioco(n: number, native = false): Promise<unknown> {
  return run(function* () {
    const ab = new RiocoSlot<number>();
    const ba = new RiocoSlot<number>();
    const b = spawn(function* () {
      for (let i = 0; i < n; i++) ba.put(yield* ab.take());
    });
    for (let i = 0; i < n; i++) {
      ab.put(i);
      yield* ba.take();
    }
    yield* b;
  }, { native });
}

async function pingPongAsync(n: number): Promise<void> {
  const ab = new PromiseSlot<number>();
  const ba = new PromiseSlot<number>();
  const b = (async () => {
    for (let i = 0; i < n; i++) ba.put(await ab.take());
  })();
  for (let i = 0; i < n; i++) {
    ab.put(i);
    await ba.take();
  }
  await b;
}

function pingPongEffection(n: number): Promise<unknown> {
  return effection.run(function* () {
    const ab = new EffectionSlot<number>();
    const ba = new EffectionSlot<number>();
    const b = yield* effection.spawn(function* () {
      for (let i = 0; i < n; i++) ba.put(yield* ab.take());
    });
    for (let i = 0; i < n; i++) {
      ab.put(i);
      yield* ba.take();
    }
    yield* b;
  });
}

function pingPongEffect(n: number): Promise<unknown> {
  return Effect.runPromise(
    Effect.gen(function* () {
      const ab = new EffectSlot<number>();
      const ba = new EffectSlot<number>();
      const b = yield* Effect.forkChild(
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) ba.put(yield* ab.take());
        }),
      );
      for (let i = 0; i < n; i++) {
        ab.put(i);
        yield* ba.take();
      }
      yield* EffectFiber.join(b);
    }),
  );
}

// ---------------- spawn + join ----------------
function* child(i: number): Operation<number> {
  return i;
}

function spawnRiocoClosure(n: number): Promise<unknown> {
  return run(function* () {
    const ts: Task<number>[] = new Array(n);
    for (let i = 0; i < n; i++) ts[i] = spawn(function* () { return i; });
    let s = 0;
    for (let i = 0; i < n; i++) s += yield* ts[i];
    return s;
  });
}

function spawnRiocoArgs(n: number, native = false): Promise<unknown> {
  return run(function* () {
    const ts: Task<number>[] = new Array(n);
    for (let i = 0; i < n; i++) ts[i] = spawn(child(i));
    let s = 0;
    for (let i = 0; i < n; i++) s += yield* ts[i];
    return s;
  }, { native });
}

async function spawnAsync(n: number): Promise<number> {
  // A task that really yields once, as a spawned fiber does before it runs.
  const f = async (i: number) => {
    // eslint-disable-next-line @typescript-eslint/await-thenable -- the yield being measured
    await null;
    return i;
  };
  const ps: Promise<number>[] = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = f(i);
  let s = 0;
  for (let i = 0; i < n; i++) s += await ps[i];
  return s;
}

function spawnFloor(n: number): Promise<unknown> {
  return new Promise((resolve) => {
    const sched = new FloorScheduler();
    let left = n;
    let s = 0;
    for (let i = 0; i < n; i++) {
      sched.spawn(
        (function* (): FloorOp<number> {
          return i;
        })(),
        (v) => {
          s += v as number;
          if (--left === 0) resolve(s);
        },
      );
    }
  });
}

function spawnEffection(n: number): Promise<unknown> {
  return effection.run(function* () {
    const ts: effection.Task<number>[] = [];
    for (let i = 0; i < n; i++) ts.push(yield* effection.spawn(function* () { return i; }));
    let s = 0;
    for (const t of ts) s += yield* t;
    return s;
  });
}

function spawnEffect(n: number): Promise<unknown> {
  return Effect.runPromise(
    Effect.gen(function* () {
      const fs = [];
      for (let i = 0; i < n; i++) fs.push(yield* Effect.forkChild(Effect.succeed(i)));
      let s = 0;
      for (const f of fs) s += yield* EffectFiber.join(f);
      return s;
    }),
  );
}

// ---------------- yield ----------------
function yieldRioco(n: number): Promise<unknown> {
  return run(function* () {
    for (let i = 0; i < n; i++) yield* yieldNow();
  });
}
const floorYield: Park = (g, s) => s.enqueue(g, undefined);
function yieldFloor(n: number): Promise<unknown> {
  return floorRun(function* (): FloorOp<void> {
    for (let i = 0; i < n; i++) yield floorYield;
  });
}
/**
 * The floor's yield made through `yield*` on an operation object, as every typed
 * operation API (Rioco's included) must: what `yield*` delegation costs by itself.
 */
const FLOOR_DONE = { done: true as const, value: undefined };
const FLOOR_YIELD_STEP = { done: false as const, value: floorYield };
const floorYieldOp = {
  pending: false,
  [Symbol.iterator]() {
    this.pending = true;
    return this;
  },
  next(): IteratorResult<Park, void> {
    if (this.pending) {
      this.pending = false;
      return FLOOR_YIELD_STEP;
    }
    return FLOOR_DONE;
  },
};
function yieldFloorOp(n: number): Promise<unknown> {
  return floorRun(function* (): FloorOp<void> {
    for (let i = 0; i < n; i++) yield* floorYieldOp;
  });
}
async function yieldAwait(n: number): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/await-thenable -- the yield being measured
  for (let i = 0; i < n; i++) await null;
}
function yieldEffection(n: number): Promise<unknown> {
  return effection.run(function* () {
    for (let i = 0; i < n; i++) yield* effection.sleep(0);
  });
}
function yieldEffect(n: number): Promise<unknown> {
  return Effect.runPromise(
    Effect.gen(function* () {
      for (let i = 0; i < n; i++) yield* Effect.yieldNow;
    }),
  );
}

// ---------------- parked memory ----------------
async function parkedRioco(n: number): Promise<() => unknown> {
  const resumes: Resume<void>[] = [];
  let ready!: () => void;
  const started = new Promise<void>((r) => (ready = r));
  const root = run(function* () {
    for (let i = 0; i < n; i++) {
      spawn(function* () {
        yield* suspend<void>((r) => { resumes.push(r); });
      });
    }
    ready();
  });
  await started;
  while (resumes.length < n) await new Promise((r) => setImmediate(r));
  return async () => {
    for (const r of resumes) r.ok();
    await root;
  };
}
function* parkedGen(resumes: Resume<void>[]): Operation<void> {
  yield* suspend<void>((r) => {
    resumes.push(r);
  });
}
async function parkedRiocoGen(n: number): Promise<() => unknown> {
  const resumes: Resume<void>[] = [];
  let ready!: () => void;
  const started = new Promise<void>((r) => (ready = r));
  const root = run(function* () {
    for (let i = 0; i < n; i++) spawn(parkedGen(resumes));
    ready();
  });
  await started;
  while (resumes.length < n) await new Promise((r) => setImmediate(r));
  return async () => {
    for (const r of resumes) r.ok();
    await root;
  };
}
async function parkedFloor(n: number): Promise<() => unknown> {
  const s = new FloorScheduler();
  const gens: FloorOp<void>[] = [];
  for (let i = 0; i < n; i++) {
    const g = (function* (): FloorOp<void> { yield parkForever; })();
    gens.push(g);
    s.spawn(g);
  }
  await new Promise((r) => setImmediate(r));
  return () => gens.length;
}
// eslint-disable-next-line @typescript-eslint/require-await -- same signature as the other rows
async function parkedAsync(n: number): Promise<() => unknown> {
  const resolves: (() => void)[] = [];
  const ps: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    ps.push((async () => { await new Promise<void>((r) => resolves.push(r)); })());
  }
  return async () => {
    for (const r of resolves) r();
    await Promise.all(ps);
  };
}
async function parkedEffect(n: number): Promise<() => unknown> {
  const d = Effect.runSync(Deferred.make<void>());
  const fibers = [];
  for (let i = 0; i < n; i++) fibers.push(Effect.runFork(Deferred.await(d)));
  await new Promise((r) => setImmediate(r));
  return async () => {
    Effect.runSync(Deferred.succeed(d, undefined));
    await new Promise((r) => setImmediate(r));
    return fibers.length;
  };
}
async function parkedEffection(n: number): Promise<() => unknown> {
  const w = effection.withResolvers<void>();
  const task = effection.run(function* () {
    for (let i = 0; i < n; i++) void (yield* effection.spawn(function* () { yield* w.operation; }));
    yield* effection.suspend();
  });
  void task.catch(() => {}); // halted on release: the rejection is expected
  await new Promise((r) => setImmediate(r));
  return async () => {
    await task.halt();
  };
}

const bytes = (hold: (n: number) => Promise<() => unknown>, n: number) => () => bytesPer(hold, n);

await runSuite('# @rioco/core', [
  {
    title: `memory per parked fiber (${N_PARK} parked)`,
    unit: 'B',
    baseline: 'floor',
    exposeGc: true,
    rows: [
      { name: 'floor', measure: bytes(parkedFloor, N_PARK) },
      { name: 'rioco spawn(function*)', measure: bytes(parkedRioco, N_PARK) },
      { name: 'rioco spawn(gen(i))', measure: bytes(parkedRiocoGen, N_PARK) },
      { name: 'async/await', measure: bytes(parkedAsync, N_PARK) },
      { name: 'effect', measure: bytes(parkedEffect, N_PARK) },
      { name: 'effection (10k)', measure: bytes(parkedEffection, 10_000) },
    ],
  },
  {
    // Per round trip = 2 messages.
    title: `ping-pong round trip through a one-slot handoff (${N_PING} round trips)`,
    unit: 'ns',
    baseline: 'floor',
    rows: [
      { name: 'floor', measure: () => measure(floorPingPong, N_PING) },
      { name: 'rioco', measure: () => measure((n) => pingPongRioco(n), N_PING) },
      { name: 'rioco (native table)', measure: () => measure((n) => pingPongRioco(n, true), N_PING) },
      { name: 'async/await', measure: () => measure(pingPongAsync, N_PING) },
      { name: 'effection', measure: () => measure(pingPongEffection, N_PING / 20, { runs: 3 }) },
      { name: 'effect', measure: () => measure(pingPongEffect, N_PING / 20, { runs: 3 }) },
    ],
  },
  {
    title: `spawn + join (${N_SPAWN} fibers)`,
    unit: 'ns',
    baseline: 'async/await',
    rows: [
      { name: 'async/await', measure: () => measure(spawnAsync, N_SPAWN) },
      { name: 'floor', measure: () => measure(spawnFloor, N_SPAWN) },
      { name: 'rioco spawn(gen(i))', measure: () => measure((n) => spawnRiocoArgs(n), N_SPAWN) },
      { name: 'rioco spawn(gen(i)), native table', measure: () => measure((n) => spawnRiocoArgs(n, true), N_SPAWN) },
      { name: 'rioco spawn(function*)', measure: () => measure(spawnRiocoClosure, N_SPAWN) },
      { name: 'effect', measure: () => measure(spawnEffect, N_SPAWN, { runs: 3 }) },
      { name: 'effection (2k)', measure: () => measure(spawnEffection, 2_000, { runs: 3 }) },
    ],
  },
  {
    title: `yield (${N_YIELD})`,
    unit: 'ns',
    baseline: 'floor',
    rows: [
      { name: 'floor', measure: () => measure(yieldFloor, N_YIELD) },
      { name: 'floor, yield* operation', measure: () => measure(yieldFloorOp, N_YIELD) },
      { name: 'rioco yieldNow', measure: () => measure(yieldRioco, N_YIELD) },
      { name: 'await null', measure: () => measure(yieldAwait, N_YIELD) },
      { name: 'effection sleep(0)', measure: () => measure(yieldEffection, N_YIELD / 500, { runs: 3, warmup: 1 }) },
      { name: 'effect yieldNow', measure: () => measure(yieldEffect, N_YIELD / 10, { runs: 3 }) },
    ],
  },
  {
    // All fibers of a size are alive at once; async/await beside each size shows what the
    // machine itself (caches, GC of that many live objects) adds as the count grows.
    title: 'per-fiber cost as the tree grows (spawn(gen(i)) + join, all alive at once)',
    unit: 'ns',
    baseline: 'rioco spawn+join 1000',
    rows: (quick ? [1_000, 10_000, 100_000] : [1_000, 10_000, 100_000, 1_000_000]).flatMap((n) => {
      // The same number of fibers per run for every size, so warm-up is alike.
      const opts = { runs: n >= 1_000_000 ? 3 : 7, warmup: Math.max(2, 1_000_000 / n) };
      return [
        { name: `rioco spawn+join ${n}`, measure: () => measure((k) => spawnRiocoArgs(k), n, opts) },
        { name: `async/await ${n}`, measure: () => measure(spawnAsync, n, opts) },
      ];
    }),
  },
]);
