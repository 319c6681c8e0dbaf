import { describe, it, expect } from 'vitest';
import {
  run,
  runTest,
  forEachSeed,
  spawn,
  suspend,
  useScheduler,
  currentFiber,
  VirtualClock,
  DeadlockError,
  InvalidArgumentError,
  type Operation,
  type FiberInfo,
} from '@rioco/core';
import { sleep, sleepUntil, now } from '@rioco/timers';
import { codeOf } from './helpers.js';

describe('sleep and sleepUntil (virtual clock)', () => {
  it('sleeps exactly the given time, measured from when the wait starts', async () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    await runTest(
      function* () {
        const op = sleep(250); // created now, started later: time counts from yield*
        yield* sleep(100);
        seen.push(now());
        yield* op;
        seen.push(now());
        yield* op; // reusable
        seen.push(now());
        yield* sleepUntil(1_000);
        seen.push(now());
        yield* sleepUntil(10); // already passed: next turn, no time moves
        seen.push(now());
        yield* sleep(0);
        seen.push(now());
        yield* sleep(0.5);
        seen.push(now());
      },
      { clock },
    );
    expect(seen).toEqual([100, 350, 600, 1_000, 1_000, 1_000, 1_000.5]);
  });

  it('starts from the clock the runtime was given', async () => {
    const clock = new VirtualClock(5_000);
    await runTest(
      function* () {
        expect(now()).toBe(5_000);
        yield* sleepUntil(5_040);
        expect(now()).toBe(5_040);
      },
      { clock },
    );
  });

  it('equal deadlines wake in the order the sleeps started; earlier deadlines first', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    await runTest(
      function* () {
        const plan: Array<[string, number]> = [
          ['a', 30], ['b', 10], ['c', 30], ['d', 10], ['e', 20], ['f', 30], ['g', 10],
        ];
        for (const [name, ms] of plan) {
          spawn(function* () {
            yield* sleep(ms);
            order.push(`${name}@${now()}`);
          });
        }
      },
      { clock },
    );
    expect(order).toEqual(['b@10', 'd@10', 'g@10', 'e@20', 'a@30', 'c@30', 'f@30']);
  });

  it('a shared sleep value sleeps independently in each fiber that yields it', async () => {
    const clock = new VirtualClock();
    const woke: number[] = [];
    await runTest(
      function* () {
        const nap = sleep(100);
        spawn(function* () {
          yield* nap;
          woke.push(now());
        });
        yield* sleep(30);
        spawn(function* () {
          yield* nap;
          woke.push(now());
        });
      },
      { clock },
    );
    expect(woke).toEqual([100, 130]);
  });

  it('a sleeping fiber is parked on a named wait while asleep', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        const t = spawn(function* () {
          yield* sleep(1_000);
        }, { name: 'napper' });
        yield* sleep(1);
        const info = useScheduler().fibers().find((f) => f.name === 'napper');
        expect(info?.state).toBe('parked');
        expect(info?.waitingOn).toBe('timers.sleep');
        yield* t;
      },
      { clock },
    );
  });
});

describe('sleep: one value serves many fibers', () => {
  it('sleeps of a whole-millisecond duration share one operation; each fiber still waits its own time', async () => {
    // (Compared with ===: vitest would iterate an operation to print a difference.)
    expect(sleep(10) === sleep(10)).toBe(true);
    expect(sleep(60_000) === sleep(60_000)).toBe(true);
    expect(sleep(10) === sleep(10, { ref: false })).toBe(false);
    expect(sleep(2.5) === sleep(2.5)).toBe(false);
    const clock = new VirtualClock();
    const woke: string[] = [];
    await runTest(
      function* () {
        const shared = sleep(10);
        const a = spawn(function* () {
          yield* shared;
          woke.push(`a@${now()}`);
        });
        const b = spawn(function* () {
          yield* sleep(5);
          yield* shared; // started at 5: ends at 15
          woke.push(`b@${now()}`);
        });
        const c = spawn(function* () {
          yield* shared;
          woke.push('c'); // cancelled before: never
        });
        yield* sleep(1);
        c.cancel(); // cancelling one sleeper leaves the others' waits alone
        yield* a;
        yield* b;
      },
      { clock },
    );
    expect(woke).toEqual(['a@10', 'b@15']);
  });
});

describe('sleep: bad input', () => {
  it('negative, NaN, infinite or non-number durations throw INVALID_ARGUMENT at the call', async () => {
    await runTest(function* () {
      for (const bad of [-1, -0.001, NaN, Infinity, -Infinity, '10', null, undefined, 10n]) {
        expect(codeOf(() => sleep(bad as number)), String(bad)).toBe('INVALID_ARGUMENT');
      }
      for (const bad of [NaN, Infinity, -Infinity, '1', undefined]) {
        expect(codeOf(() => sleepUntil(bad as number)), String(bad)).toBe('INVALID_ARGUMENT');
      }
      expect(codeOf(() => sleep(1, 'x' as never))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => sleep(1, { ref: 'no' as never }))).toBe('INVALID_ARGUMENT');
      expect(() => sleep(Infinity)).toThrowError(InvalidArgumentError);
      expect(() => sleep(Infinity)).toThrowError(/wait on the event itself/);
      // Zero, fractions, huge finite values and negative absolute deadlines are fine.
      expect(() => sleep(0)).not.toThrow();
      expect(() => sleep(1e300)).not.toThrow();
      expect(() => sleepUntil(-5)).not.toThrow();
    });
  });

  it('now() and a sleep need a fiber', () => {
    expect(codeOf(() => now())).toBe('NO_CURRENT_FIBER');
    const op = sleep(1); // creating one is fine; running it outside a fiber is not
    expect(codeOf(() => op[Symbol.iterator]())).toBe('NO_CURRENT_FIBER');
  });
});

describe('sleep: cancellation', () => {
  it('cancelling a sleeping fiber removes its timer at once: time does not move to it', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        const t = spawn(function* () {
          try {
            yield* sleep(3_600_000);
            log.push('woke');
          } finally {
            log.push(`cleanup@${now()}`);
          }
        });
        yield* sleep(5);
        t.cancel();
        yield* t.halt();
        log.push(`halted@${now()}`);
      },
      { clock },
    );
    expect(log).toEqual(['cleanup@5', 'halted@5']);
    // runTest's leak check passed: no timer pending; and the clock never went near 1 h.
    expect(clock.now()).toBe(5);
  });

  it('a cancelled sleep never resumes anything later: a cleanup wait is not cut short by the old deadline', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        const t = spawn(function* () {
          try {
            yield* sleep(100);
          } finally {
            // If the cancelled timer still fired at 100 and resumed this fiber, this
            // cleanup sleep would end at 100 instead of 10 + 200.
            yield* sleep(200);
            log.push(`cleanup done@${now()}`);
          }
        });
        yield* sleep(10);
        yield* t.halt();
      },
      { clock },
    );
    expect(log).toEqual(['cleanup done@210']);
  });

  it('many fibers cancelled mid-sleep leave no timer behind (runTest leak check)', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        const tasks = [];
        for (let i = 0; i < 1_000; i++) tasks.push(spawn(function* () { yield* sleep(1_000 + i); }));
        yield* sleep(500);
        for (const t of tasks) t.cancel();
        for (const t of tasks) yield* t.halt();
        expect(now()).toBe(500);
      },
      { clock },
    );
  });
});

describe('sleep and deadlock detection', () => {
  it('a pending sleep is a wake source: no deadlock is reported before it fires', async () => {
    const clock = new VirtualClock();
    let reportedAt = -1;
    const err = await run(
      function* () {
        spawn(function* () {
          yield* sleep(1_000);
        });
        yield* suspend<void>(() => {}, { reason: 'nobody will wake me', internal: true });
      },
      { clock, hooks: { exit: () => { reportedAt = clock.now(); } } },
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadlockError);
    expect(reportedAt).toBe(1_000);
  });
});

describe('sleep under the seeded scheduler', () => {
  // Fibers woken at the same instant run in a random order under the seeded scheduler
  // (that is its job), so the order checked is the order the timers resumed them, which
  // the runtime's `wake` hook reports.
  const woken: number[] = [];
  const hooks = { wake: (f: FiberInfo) => void woken.push(f.id) };

  it('wakes in (deadline, start) order under any interleaving, and time moves only between instants', async () => {
    await forEachSeed(
      200,
      (seed) =>
        function* (): Operation<void> {
          woken.length = 0;
          const started: number[] = [];
          const deadline = new Map<number, number>();
          const ranAt: Array<[number, number]> = [];
          const tasks = [];
          for (let i = 0; i < 12; i++) {
            const ms = ((i * 7 + seed) % 4) * 10; // several equal deadlines
            tasks.push(
              spawn(function* () {
                const id = currentFiber()!.id;
                deadline.set(id, now() + ms);
                started.push(id);
                yield* sleep(ms);
                ranAt.push([id, now()]);
              }),
            );
          }
          for (const t of tasks) yield* t;
          const expected = [...started].sort((a, b) => deadline.get(a)! - deadline.get(b)! || started.indexOf(a) - started.indexOf(b));
          // Each sleeper is woken exactly once, by its timer (the root's joins are not sleepers).
          expect(woken.filter((id) => deadline.has(id))).toEqual(expected);
          for (const [id, t] of ranAt) expect(t).toBe(deadline.get(id));
        },
      { clock: new VirtualClock(), hooks },
    );
  });
});

describe('sleep on the real clock', () => {
  it('sleeps at least the given time', async () => {
    await runTest(function* () {
      const t0 = performance.now();
      yield* sleep(15);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
    });
  });

  it('many concurrent sleeps on one host timer: none wakes early', async () => {
    const woke: Array<{ at: number; woke: number }> = [];
    await runTest(function* () {
      for (let i = 0; i < 300; i++) {
        const ms = (i * 37) % 25;
        spawn(function* () {
          const at = now() + ms; // read before sleep reads the clock: a lower bound
          yield* sleep(ms);
          woke.push({ at, woke: now() });
        });
      }
    });
    expect(woke).toHaveLength(300);
    for (const w of woke) expect(w.woke).toBeGreaterThanOrEqual(w.at);
  });

  it('many concurrent sleepUntil wake in deadline order, equal deadlines in start order', async () => {
    const woke: Array<{ i: number; at: number }> = [];
    await runTest(function* () {
      const t0 = now();
      for (let i = 0; i < 300; i++) {
        const at = t0 + ((i * 37) % 25) + (i % 3 === 0 ? 0 : 0.25);
        spawn(function* () {
          yield* sleepUntil(at);
          expect(now()).toBeGreaterThanOrEqual(at);
          woke.push({ i, at });
        });
      }
    });
    const expected = [...woke].sort((a, b) => a.at - b.at || a.i - b.i);
    expect(woke).toEqual(expected);
  });
});
