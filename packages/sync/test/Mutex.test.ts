import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  run,
  runTest,
  forEachSeed,
  spawn,
  yieldNow,
  currentFiber,
  DeadlockError,
  LockCycleError,
  InvalidArgumentError,
  type Task,
} from '@rioco/core';
import { Mutex, NotOwnerError, type MutexGuard } from '@rioco/sync';
import { SEEDS, MODEL_RUNS, Gate, settle, rng } from './helpers.js';

describe('Mutex', () => {
  it('excludes: one holder at a time, even when holders yield', () =>
    runTest(function* () {
      const m = new Mutex();
      let inside = 0;
      let max = 0;
      const tasks: Task<void>[] = [];
      for (let f = 0; f < 20; f++) {
        tasks.push(
          spawn(function* () {
            for (let i = 0; i < 10; i++) {
              using _g = yield* m.lock();
              inside++;
              max = Math.max(max, inside);
              yield* yieldNow();
              inside--;
            }
          }),
        );
      }
      for (const t of tasks) yield* t;
      expect(max).toBe(1);
      expect(m.locked).toBe(false);
    }));

  it('hands the lock over in FIFO order', () =>
    runTest(function* () {
      const m = new Mutex();
      const g = yield* m.lock();
      const order: string[] = [];
      const tasks: Task<void>[] = [];
      for (const name of ['a', 'b', 'c', 'd']) {
        tasks.push(
          spawn(function* () {
            using _g = yield* m.lock();
            order.push(name);
          }),
        );
        yield* settle(2);
      }
      g.release();
      for (const t of tasks) yield* t;
      expect(order).toEqual(['a', 'b', 'c', 'd']);
    }));

  it('no barging: a fiber that unlocks and relocks goes behind the waiters', () =>
    runTest(function* () {
      const m = new Mutex();
      const order: string[] = [];
      let g = yield* m.lock();
      const w = spawn(function* () {
        using _g = yield* m.lock();
        order.push('waiter');
      });
      yield* settle();
      g.release(); // handed to the waiter at once: it holds the lock before it even runs
      expect(m.locked).toBe(true);
      expect(m.holder).toBe(w.id);
      expect(m.tryLock()).toBeUndefined();
      g = yield* m.lock();
      order.push('me');
      g.release();
      yield* w;
      expect(order).toEqual(['waiter', 'me']);
    }));

  it('using releases on scope exit, on throw and on cancellation', () =>
    runTest(function* () {
      const m = new Mutex({ name: 'db' });
      try {
        using _g = yield* m.lock();
        throw new Error('boom');
      } catch {
        // released by `using`
      }
      expect(m.locked).toBe(false);
      const gate = new Gate();
      const t = spawn(function* () {
        using _g = yield* m.lock();
        yield* gate.wait();
      });
      yield* settle();
      expect(m.holder).toBe(t.id);
      yield* t.halt();
      expect(m.locked).toBe(false);
      expect(String(m)).toBe('Mutex(db)');
    }));

  it('guards are idempotent: releasing twice, or a stale guard, does nothing', () =>
    runTest(function* () {
      const m = new Mutex();
      const g1 = yield* m.lock();
      g1.release();
      g1.release();
      const g2 = yield* m.lock();
      g1.release(); // stale: must not unlock g2's hold
      expect(g2.held).toBe(true);
      expect(g1.held).toBe(false);
      g2[Symbol.dispose]();
      expect(m.locked).toBe(false);
    }));

  it('tryLock takes a free lock and refuses a held one', () =>
    runTest(function* () {
      const m = new Mutex();
      const g = m.tryLock();
      expect(g?.held).toBe(true);
      expect(m.tryLock()).toBeUndefined();
      g?.release();
      expect(m.tryLock()).toBeDefined();
    }));

  it('reports holder and waiters as fiber ids', () =>
    runTest(function* () {
      const m = new Mutex();
      const g = yield* m.lock();
      expect(m.holder).toBe(currentFiber()?.id);
      const a = spawn(() => m.lock());
      const b = spawn(() => m.lock());
      yield* settle();
      expect(m.waiters).toEqual([a.id, b.id]);
      g.release();
      expect(m.holder).toBe(a.id);
      expect(m.waiters).toEqual([b.id]);
      (yield* a).release();
      (yield* b).release();
      expect(m.holder).toBeUndefined();
      expect(m.waiters).toEqual([]);
    }));
});

describe('Mutex cancellation', () => {
  it('a waiter cancelled while waiting never holds the lock', () =>
    runTest(function* () {
      const m = new Mutex();
      const g = yield* m.lock();
      let got = false;
      const w = spawn(function* () {
        yield* m.lock();
        got = true;
      });
      yield* settle();
      yield* w.halt();
      expect(m.waiters).toEqual([]);
      g.release();
      expect(m.locked).toBe(false);
      expect(got).toBe(false);
    }));

  it('a waiter cancelled after the lock was handed to it passes it on', () =>
    runTest(function* () {
      const m = new Mutex();
      const g = yield* m.lock();
      const first = spawn(() => m.lock());
      yield* settle(2);
      const second = spawn(() => m.lock());
      yield* settle();
      g.release(); // handed to `first`, which has not run yet
      expect(m.holder).toBe(first.id);
      first.cancel();
      yield* first.halt();
      expect(m.holder).toBe(second.id);
      (yield* second).release();
      expect(m.locked).toBe(false);
    }));

  it('the same when nobody else waits: the lock ends free', () =>
    runTest(function* () {
      const m = new Mutex();
      const g = yield* m.lock();
      const w = spawn(() => m.lock());
      yield* settle();
      g.release();
      w.cancel();
      yield* w.halt();
      expect(m.locked).toBe(false);
    }));
});

describe('Mutex bad input', () => {
  it('unlock() by a fiber that does not hold it: NotOwnerError', () =>
    runTest(function* () {
      const m = new Mutex({ name: 'm1' });
      expect(() => m.unlock()).toThrow(NotOwnerError);
      expect(() => m.unlock()).toThrow(expect.objectContaining({ code: 'NOT_OWNER' }) as Error);
      const g = yield* m.lock();
      const other = spawn(function* () {
        expect(() => m.unlock()).toThrow(/held by fiber/);
      });
      yield* other;
      expect(g.held).toBe(true);
      m.unlock();
      expect(m.locked).toBe(false);
      expect(() => m.unlock()).toThrow(NotOwnerError);
    }));

  it('rejects bad options and a guard run twice at once', () =>
    runTest(function* () {
      expect(() => new Mutex('x' as never)).toThrow(InvalidArgumentError);
      expect(() => new Mutex({ name: 1 as never })).toThrow(InvalidArgumentError);
      const m = new Mutex();
      const g = yield* m.lock();
      expect(() => (g as unknown as Iterable<unknown>)[Symbol.iterator]()).toThrow(InvalidArgumentError);
      g.release();
    }));

  it('a lock-order deadlock is reported with both fibers, the mutexes they wait on and the cycle', async () => {
    const ids: number[] = [];
    const err = await run(function* () {
      const a = new Mutex({ name: 'A' });
      const b = new Mutex({ name: 'B' });
      const t1 = spawn(
        function* () {
          using _a = yield* a.lock();
          yield* yieldNow();
          using _b = yield* b.lock();
        },
        { name: 'ab' },
      );
      const t2 = spawn(
        function* () {
          using _b = yield* b.lock();
          yield* yieldNow();
          using _a = yield* a.lock();
        },
        { name: 'ba' },
      );
      ids.push(t1.id, t2.id);
      yield* t1;
      yield* t2;
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadlockError);
    const d = err as DeadlockError;
    const [ab, ba] = ids;
    expect(d.fibers).toContainEqual(expect.objectContaining({ name: 'ab', waitingOn: 'mutex.lock (B)', waitingFor: [ba] }));
    expect(d.fibers).toContainEqual(expect.objectContaining({ name: 'ba', waitingOn: 'mutex.lock (A)', waitingFor: [ab] }));
    expect(d.cycles).toEqual([[ab, ba]]);
    expect(d.message).toContain(`cycle: #${ab} ab → #${ba} ba → #${ab} ab`);
  });

  it('with lockCycles, the lock that closes a cycle fails at once and the other fiber goes on', () =>
    runTest(
      function* () {
        const a = new Mutex({ name: 'A' });
        const b = new Mutex({ name: 'B' });
        const log: string[] = [];
        let failed: unknown;
        const ab = spawn(
          function* () {
            using _a = yield* a.lock();
            yield* yieldNow();
            using _b = yield* b.lock(); // parks: ba holds B, but is not parked yet
            log.push('ab has both');
          },
          { name: 'ab' },
        );
        const ba = spawn(
          function* () {
            using _b = yield* b.lock();
            yield* yieldNow();
            try {
              using _a = yield* a.lock(); // ab holds A and waits for B: a cycle
              log.push('ba has both');
            } catch (e) {
              failed = e;
            }
            log.push('ba releases B');
          },
          { name: 'ba' },
        );
        yield* ab;
        yield* ba;
        expect(log).toEqual(['ba releases B', 'ab has both']);
        expect(failed).toBeInstanceOf(LockCycleError);
        const e = failed as LockCycleError;
        expect(e).toBeInstanceOf(DeadlockError);
        expect(e.code).toBe('DEADLOCK');
        expect(e.fibers.map((f) => [f.id, f.waitingOn])).toEqual([
          [ba.id, 'mutex.lock (A)'],
          [ab.id, 'mutex.lock (B)'],
        ]);
        expect(e.cycles).toEqual([[ab.id, ba.id]]);
        expect(e.message).toContain(`#${ba.id} ba would wait forever`);
        expect(e.message).toContain(`cycle: #${ba.id} ba → #${ab.id} ab → #${ba.id} ba`);
        // The failed wait left nothing behind: both mutexes are free, nobody is in line.
        expect([a.locked, b.locked, a.waiters, b.waiters]).toEqual([false, false, [], []]);
      },
      { lockCycles: true },
    ));

  it('with lockCycles, relocking a held mutex fails at once and leaves the mutex as it was', () =>
    runTest(
      function* () {
        const m = new Mutex({ name: 'M' });
        const g = yield* m.lock();
        const me = m.holder;
        let err: unknown;
        try {
          yield* m.lock();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(LockCycleError);
        expect((err as LockCycleError).cycles).toEqual([[me]]);
        expect([m.holder, m.waiters, g.held]).toEqual([me, [], true]);
        g.release();
        expect(m.locked).toBe(false);
        // A chain that is no cycle (the holder is not parked) still just waits.
        const g2 = yield* m.lock();
        const waiter = spawn(function* () {
          using _ = yield* m.lock();
          return 'got it';
        });
        yield* yieldNow();
        g2.release();
        expect(yield* waiter).toBe('got it');
      },
      { lockCycles: true },
    ));

  it('a fiber locking a mutex it holds is a cycle of one', async () => {
    let self = 0;
    const err = await run(function* () {
      const m = new Mutex({ name: 'M' });
      const g = yield* m.lock();
      self = m.holder as number;
      yield* m.lock(); // not reentrant: waits for itself
      g.release();
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlockError);
    expect((err as DeadlockError).cycles).toEqual([[self]]);
  });
});

describe('Mutex under the seeded scheduler', () => {
  it('mutual exclusion, FIFO handoff, no starvation, with cancellations', () =>
    forEachSeed(SEEDS, (seed) =>
      function* () {
        const pick = rng(seed);
        const m = new Mutex();
        let inside = 0;
        let completed = 0;
        const tasks: Task<void>[] = [];
        for (let f = 0; f < 6; f++) {
          tasks.push(
            spawn(function* () {
              for (let i = 0; i < 3; i++) {
                using _g = yield* m.lock();
                inside++;
                try {
                  expect(inside).toBe(1);
                  if (pick(2) === 0) yield* yieldNow();
                } finally {
                  inside--; // before `using` releases, also when cancelled here
                }
              }
              completed++;
            }),
          );
        }
        const victim = tasks[pick(6)];
        for (let i = pick(10); i > 0; i--) yield* yieldNow();
        victim.cancel();
        for (const t of tasks) {
          if (t === victim) yield* t.halt();
          else yield* t;
        }
        expect(m.locked).toBe(false);
        expect(m.waiters).toEqual([]);
        expect(completed).toBeGreaterThanOrEqual(5);
      },
    ));

  it('with lockCycles, random lock orders never deadlock the program: each cycle fails one wait where it forms', async () => {
    let cycles = 0;
    await forEachSeed(
      SEEDS,
      (seed) =>
        function* () {
          const pick = rng(seed);
          const locks = [0, 1, 2].map((i) => new Mutex({ name: `L${i}` }));
          const inside = [0, 0, 0];
          const worker = function* () {
            for (let round = 0; round < 3; round++) {
              // Two or three locks in a random order: cycles between workers are likely.
              const order = [0, 1, 2].sort(() => pick(3) - 1).slice(0, 2 + pick(2));
              const held: MutexGuard[] = [];
              try {
                for (const i of order) {
                  held.push(yield* locks[i].lock());
                  expect(++inside[i]).toBe(1);
                  yield* yieldNow();
                }
              } catch (e) {
                if (!(e instanceof LockCycleError)) throw e;
                cycles++;
              } finally {
                for (let k = held.length - 1; k >= 0; k--) {
                  inside[order[k]]--;
                  held[k].release();
                }
              }
            }
          };
          const tasks = [0, 1, 2, 3].map(() => spawn(worker));
          for (const t of tasks) yield* t; // a missed cycle would end the run in a DeadlockError
          expect(locks.map((l) => [l.locked, l.waiters.length])).toEqual([[false, 0], [false, 0], [false, 0]]);
        },
      { lockCycles: true },
    );
    expect(cycles).toBeGreaterThan(0); // the seeds did build cycles
  });

  it('waiters acquire in exactly the order they queued', async () => {
    let contended = 0;
    await forEachSeed(SEEDS, (seed) =>
      function* () {
        const m = new Mutex();
        const queuedOrder: number[] = [];
        const grantOrder: number[] = [];
        const tasks: Task<void>[] = [];
        for (let f = 0; f < 5; f++) {
          tasks.push(
            spawn(function* () {
              const me = currentFiber()!.id;
              for (let i = 0; i < 2 + (seed % 2); i++) {
                // Nothing runs between this check and the park: if it is locked, we queue last.
                const waits = m.locked;
                if (waits) queuedOrder.push(me);
                const g = yield* m.lock();
                if (waits) grantOrder.push(me);
                yield* yieldNow();
                g.release();
              }
            }),
          );
        }
        for (const t of tasks) yield* t;
        expect(grantOrder).toEqual(queuedOrder);
        if (queuedOrder.length > 0) contended++;
      },
    );
    // The order check above is only as strong as the waiting it saw.
    expect(contended).toBeGreaterThan(SEEDS / 2);
  });
});

// ---- model-based ----------------------------------------------------------------------

type MutexCmd = { t: 'spawnLock' } | { t: 'release'; k: number } | { t: 'cancel'; k: number } | { t: 'handoffCancel' } | { t: 'tryLock' };

const mutexCmd: fc.Arbitrary<MutexCmd> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ t: 'spawnLock' as const }) },
  { weight: 3, arbitrary: fc.nat(15).map((k) => ({ t: 'release' as const, k })) },
  { weight: 2, arbitrary: fc.nat(15).map((k) => ({ t: 'cancel' as const, k })) },
  { weight: 1, arbitrary: fc.constant({ t: 'handoffCancel' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'tryLock' as const }) },
);

describe('Mutex model-based (fast-check)', () => {
  it('owner and queue match a FIFO reference model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutexCmd, { maxLength: 40 }), async (cmds) => {
        await runTest(function* () {
          const m = new Mutex();
          // Reference: the owner (a task index, or -1 for the test's own tryLock) and a FIFO.
          let owner: number | null = null;
          const queue: number[] = [];
          const tasks: Task<void>[] = [];
          const gates: Gate[] = [];
          const ids = new Map<number, number>(); // fiber id -> task index
          let own: MutexGuard | undefined;
          const releaseModel = (): void => {
            owner = queue.length > 0 ? queue.shift()! : null;
          };
          for (const cmd of cmds) {
            switch (cmd.t) {
              case 'spawnLock': {
                const k = tasks.length;
                const gate = new Gate();
                gates.push(gate);
                const t = spawn(function* () {
                  using _g = yield* m.lock();
                  yield* gate.wait();
                });
                tasks.push(t);
                ids.set(t.id, k);
                if (owner === null) owner = k;
                else queue.push(k);
                break;
              }
              case 'release': {
                if (owner === null || owner < 0 || cmd.k !== owner) break;
                gates[cmd.k].open();
                releaseModel();
                break;
              }
              case 'cancel': {
                const t = tasks[cmd.k];
                if (t === undefined || t.done) break;
                t.cancel();
                if (owner === cmd.k) releaseModel();
                else if (queue.includes(cmd.k)) queue.splice(queue.indexOf(cmd.k), 1);
                break;
              }
              case 'handoffCancel': {
                // Release the test's own lock to the first waiter and cancel it before it runs.
                if (own === undefined || queue.length === 0) break;
                const next = queue[0];
                own.release();
                own = undefined;
                expect(m.holder).toBe(tasks[next].id);
                tasks[next].cancel();
                queue.shift();
                releaseModel();
                break;
              }
              case 'tryLock': {
                const g = m.tryLock();
                expect(g !== undefined).toBe(owner === null);
                if (g !== undefined) {
                  if (own !== undefined) throw new Error('model broken');
                  own = g;
                  owner = -1;
                }
                break;
              }
            }
            yield* settle();
            const holder = m.holder;
            const holderIdx = holder === undefined ? null : holder === currentFiber()!.id ? -1 : ids.get(holder);
            expect(holderIdx).toBe(owner);
            expect(m.waiters.map((id) => ids.get(id))).toEqual(queue);
            if (owner === -1 && own === undefined) throw new Error('model broken');
          }
          own?.release();
          for (const g of gates) g.open();
          for (const t of tasks) yield* t.halt();
          expect(m.locked).toBe(false);
        });
      }),
      { numRuns: MODEL_RUNS },
    );
  });
});
