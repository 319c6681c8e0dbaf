import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { runTest, forEachSeed, spawn, yieldNow, currentFiber, InvalidArgumentError, LockCycleError, type Task } from '@rioco/core';
import { Mutex, Semaphore, OverReleaseError, type Permit } from '@rioco/sync';
import { SEEDS, MODEL_RUNS, Gate, settle, rng } from './helpers.js';

describe('Semaphore', () => {
  it('limits concurrency to the permits', () =>
    runTest(function* () {
      const s = new Semaphore(3, { name: 'pool' });
      let inside = 0;
      let max = 0;
      const tasks: Task<void>[] = [];
      for (let f = 0; f < 10; f++) {
        tasks.push(
          spawn(function* () {
            using _p = yield* s.acquire();
            inside++;
            max = Math.max(max, inside);
            yield* yieldNow();
            inside--;
          }),
        );
      }
      for (const t of tasks) yield* t;
      expect(max).toBe(3);
      expect(s.available).toBe(3);
      expect(String(s)).toBe('Semaphore(pool)');
    }));

  it('is fair: a large request at the head is not overtaken by small ones', () =>
    runTest(function* () {
      const s = new Semaphore(4);
      const held = yield* s.acquire(3);
      const order: string[] = [];
      const big = spawn(function* () {
        using _p = yield* s.acquire(4);
        order.push('big');
      });
      yield* settle();
      expect(s.tryAcquire(1)).toBeUndefined(); // 1 is free, but the big request is first in line
      const small = spawn(function* () {
        using _p = yield* s.acquire(1);
        order.push('small');
      });
      yield* settle();
      expect(order).toEqual([]);
      held.release();
      yield* big;
      yield* small;
      expect(order).toEqual(['big', 'small']);
    }));

  it('partial release wakes waiters that now fit; over-release fails', () =>
    runTest(function* () {
      const s = new Semaphore(3);
      const p = yield* s.acquire(3);
      expect(p.count).toBe(3);
      const w = spawn(() => s.acquire(2));
      yield* settle();
      p.release(1);
      yield* settle();
      expect(s.waiters).toEqual([w.id]);
      p.release(1);
      const q = yield* w;
      expect(q.count).toBe(2);
      expect(() => p.release(2)).toThrow(OverReleaseError);
      expect(() => p.release(2)).toThrow(expect.objectContaining({ code: 'OVER_RELEASE' }) as Error);
      p.release(1);
      expect(p.count).toBe(0);
      p.release(); // nothing held: does nothing
      expect(() => p.release(1)).toThrow(OverReleaseError);
      q.release();
      expect(s.available).toBe(3);
    }));

  it('reports holders and waiters', () =>
    runTest(function* () {
      const s = new Semaphore(1);
      const p = yield* s.acquire();
      expect(s.holders).toEqual([currentFiber()!.id]);
      const w = spawn(() => s.acquire());
      yield* settle();
      expect(s.waiters).toEqual([w.id]);
      p.release();
      expect(s.holders).toEqual([w.id]);
      (yield* w).release();
      expect(s.holders).toEqual([]);
    }));

  it('cancellation: a waiter holds nothing after; one granted before it ran gives back', () =>
    runTest(function* () {
      const s = new Semaphore(2);
      const p = yield* s.acquire(2);
      const a = spawn(() => s.acquire(2));
      yield* settle();
      yield* a.halt();
      expect(s.waiters).toEqual([]);
      const b = spawn(() => s.acquire(1));
      yield* settle(2);
      const c = spawn(() => s.acquire(2));
      yield* settle();
      p.release(); // b granted (1), c waits for 2
      expect(s.available).toBe(1);
      b.cancel();
      yield* b.halt();
      const q = yield* c; // b's permit came back, so c fits
      expect(q.count).toBe(2);
      q.release();
      expect(s.available).toBe(2);
    }));

  it('a cancelled head request lets the smaller ones behind it in', () =>
    runTest(function* () {
      const s = new Semaphore(2);
      const p = yield* s.acquire(1);
      const big = spawn(() => s.acquire(2));
      yield* settle(2);
      const small = spawn(() => s.acquire(1));
      yield* settle();
      yield* big.halt();
      (yield* small).release();
      p.release();
      expect(s.available).toBe(2);
    }));

  it('rejects bad input', () =>
    runTest(function* () {
      for (const bad of [0, -1, 1.5, NaN, '2']) expect(() => new Semaphore(bad as number)).toThrow(InvalidArgumentError);
      const s = new Semaphore(2);
      for (const bad of [0, 3, 1.5, -1]) {
        expect(() => s.acquire(bad)).toThrow(InvalidArgumentError);
        expect(() => s.tryAcquire(bad)).toThrow(InvalidArgumentError);
      }
      const p = yield* s.acquire();
      expect(() => p.release(-1)).toThrow(InvalidArgumentError);
      expect(() => p.release(0.5)).toThrow(InvalidArgumentError);
      p.release(0);
      expect(p.count).toBe(1);
      p[Symbol.dispose]();
      expect(s.available).toBe(2);
    }));
});

describe('Semaphore and lockCycles', () => {
  it('a wait that any of several holders can end is no cycle: nothing fails, everyone finishes', () =>
    runTest(
      function* () {
        const sem = new Semaphore(2, { name: 'pool' });
        const m = new Mutex({ name: 'm' });
        const release = new Gate();
        const x = spawn(function* () {
          using _p = yield* sem.acquire();
          yield* settle();
          using _m = yield* m.lock(); // z holds m and waits for a permit x holds, but y's will do
          return 'x';
        });
        const y = spawn(function* () {
          using _p = yield* sem.acquire();
          yield* release.wait();
          return 'y';
        });
        const z = spawn(function* () {
          using _m = yield* m.lock();
          yield* yieldNow();
          using _p = yield* sem.acquire(); // both permits are out: wait for x or y
          return 'z';
        });
        yield* settle(40); // x parks on m last
        expect(sem.holders.sort()).toEqual([x.id, y.id].sort());
        expect(m.waiters).toEqual([x.id]);
        release.open(); // y gives its permit back: z goes on, then x
        expect([yield* x, yield* y, yield* z]).toEqual(['x', 'y', 'z']);
      },
      { lockCycles: true },
    ));

  it('with a single holder the cycle is certain: the wait that closes it fails', () =>
    runTest(
      function* () {
        const sem = new Semaphore(1, { name: 'one' });
        const m = new Mutex({ name: 'm' });
        const x = spawn(function* () {
          using _p = yield* sem.acquire();
          yield* settle();
          try {
            using _m = yield* m.lock(); // closes the cycle: z holds m and waits for x's permit
          } catch (e) {
            return e;
          }
        });
        const z = spawn(function* () {
          using _m = yield* m.lock();
          yield* yieldNow();
          using _p = yield* sem.acquire();
        });
        const err = yield* x;
        expect(err).toBeInstanceOf(LockCycleError);
        expect((err as LockCycleError).cycles).toEqual([[x.id, z.id]]);
        yield* z; // x's permit came back as it unwound
      },
      { lockCycles: true },
    ));
});

describe('Semaphore under the seeded scheduler', () => {
  it('never over-committed, FIFO grants, nobody starves, all permits back at the end', async () => {
    let contended = 0;
    await forEachSeed(SEEDS, (seed) =>
      function* () {
        const pick = rng(seed);
        const s = new Semaphore(4);
        let used = 0;
        // FIFO check: a ticket per wait; when a waiter gets in, nobody with an earlier
        // ticket may still be waiting (several may be granted at once and run in any order).
        const tickets = new Map<number, number>();
        let nextTicket = 0;
        let done = 0;
        const tasks: Task<void>[] = [];
        for (let f = 0; f < 6; f++) {
          const n = 1 + pick(4);
          tasks.push(
            spawn(function* () {
              const me = currentFiber()!.id;
              for (let i = 0; i < 2; i++) {
                // Nothing runs between the check and the park: if it must wait, it queues last.
                const waits = s.waiters.length > 0 || s.available < n;
                const ticket = nextTicket++;
                if (waits) tickets.set(me, ticket);
                using _p = yield* s.acquire(n);
                if (waits) for (const id of s.waiters) expect(tickets.get(id)).toBeGreaterThan(ticket);
                used += n;
                try {
                  expect(used).toBeLessThanOrEqual(4);
                  yield* yieldNow();
                } finally {
                  used -= n;
                }
              }
              done++;
            }),
          );
        }
        for (const t of tasks) yield* t;
        expect(done).toBe(6);
        expect(s.available).toBe(4);
        if (tickets.size > 0) contended++;
      },
    );
    // The FIFO check above is only as strong as the waiting it saw.
    expect(contended).toBeGreaterThan(SEEDS / 2);
  });
});

type SemCmd = { t: 'spawn'; n: number } | { t: 'release'; k: number; amount: number } | { t: 'cancel'; k: number };

const semCmd: fc.Arbitrary<SemCmd> = fc.oneof(
  fc.integer({ min: 1, max: 4 }).map((n) => ({ t: 'spawn' as const, n })),
  fc.record({ k: fc.nat(12), amount: fc.integer({ min: 0, max: 4 }) }).map((r) => ({ t: 'release' as const, ...r })),
  fc.nat(12).map((k) => ({ t: 'cancel' as const, k })),
);

describe('Semaphore model-based (fast-check)', () => {
  it('available permits, holders and the queue match a strict-FIFO reference', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(semCmd, { maxLength: 40 }), async (cmds) => {
        await runTest(function* () {
          const s = new Semaphore(4);
          let avail = 4;
          const queue: { k: number; n: number }[] = [];
          const holding = new Map<number, number>(); // task index -> permits held
          const permits = new Map<number, Permit>();
          const tasks: Task<void>[] = [];
          const gates: Gate[] = [];
          const grant = (): void => {
            while (queue.length > 0 && queue[0].n <= avail) {
              const h = queue.shift()!;
              avail -= h.n;
              holding.set(h.k, h.n);
            }
          };
          for (const cmd of cmds) {
            switch (cmd.t) {
              case 'spawn': {
                const k = tasks.length;
                const gate = new Gate();
                gates.push(gate);
                tasks.push(
                  spawn(function* () {
                    const p = yield* s.acquire(cmd.n);
                    permits.set(k, p);
                    try {
                      yield* gate.wait();
                    } finally {
                      p.release();
                    }
                  }),
                );
                queue.push({ k, n: cmd.n });
                grant();
                break;
              }
              case 'release': {
                const p = permits.get(cmd.k);
                const held = holding.get(cmd.k);
                if (p === undefined || held === undefined) break;
                if (cmd.amount > held) {
                  expect(() => p.release(cmd.amount)).toThrow(OverReleaseError);
                  break;
                }
                p.release(cmd.amount);
                avail += cmd.amount;
                if (held - cmd.amount === 0) holding.delete(cmd.k);
                else holding.set(cmd.k, held - cmd.amount);
                grant();
                break;
              }
              case 'cancel': {
                const t = tasks[cmd.k];
                if (t === undefined || t.done) break;
                t.cancel();
                const qi = queue.findIndex((q) => q.k === cmd.k);
                if (qi >= 0) queue.splice(qi, 1);
                avail += holding.get(cmd.k) ?? 0;
                holding.delete(cmd.k);
                grant();
                break;
              }
            }
            yield* settle();
            expect(s.available).toBe(avail);
            expect(s.waiters).toEqual(queue.map((q) => tasks[q.k].id));
            expect(s.holders.sort()).toEqual([...holding.keys()].map((k) => tasks[k].id).sort());
          }
          for (const g of gates) g.open();
          for (const t of tasks) yield* t.halt();
          expect(s.available).toBe(4);
        });
      }),
      { numRuns: MODEL_RUNS },
    );
  });
});
