import { describe, it, expect } from 'vitest';
import { runTest, forEachSeed, spawn, yieldNow, CancelledError, InvalidArgumentError, type Task } from '@rioco/core';
import { Condvar, Mutex, NotOwnerError, type MutexGuard } from '@rioco/sync';
import { SEEDS, Gate, catchOp, settle, rng } from './helpers.js';

/** A fiber that locks `m`, waits on `cv` once and logs what runs after the wait and in its finally. */
function lockAndWait(m: Mutex, cv: Condvar, log: string[]): Task<void> {
  return spawn(function* () {
    using g = yield* m.lock();
    try {
      yield* cv.wait(g);
      log.push('returned from wait');
    } finally {
      log.push(`finally held=${g.held}`);
    }
  });
}

describe('Condvar', () => {
  it('wait releases the mutex, parks, and returns holding it again', () =>
    runTest(function* () {
      const m = new Mutex();
      const cv = new Condvar({ name: 'ready' });
      let ready = false;
      const waiter = spawn(function* () {
        using g = yield* m.lock();
        while (!ready) yield* cv.wait(g);
        expect(g.held).toBe(true);
        return 'woke';
      });
      yield* settle();
      expect(m.locked).toBe(false); // released while waiting
      expect(cv.waiting).toBe(1);
      {
        using _g = yield* m.lock();
        ready = true;
        expect(cv.notifyOne()).toBe(true);
      }
      expect(yield* waiter).toBe('woke');
      expect(cv.notifyOne()).toBe(false);
      expect(String(cv)).toBe('Condvar(ready)');
    }));

  it('notifyOne wakes waiters first come first served; notifyAll wakes all', () =>
    runTest(function* () {
      const m = new Mutex();
      const cv = new Condvar();
      const woke: string[] = [];
      const tasks: Task<void>[] = [];
      for (const name of ['a', 'b', 'c', 'd']) {
        tasks.push(
          spawn(function* () {
            using g = yield* m.lock();
            yield* cv.wait(g);
            woke.push(name);
          }),
        );
        yield* settle(3);
      }
      cv.notifyOne();
      yield* settle();
      expect(woke).toEqual(['a']);
      cv.notifyOne();
      yield* settle();
      expect(woke).toEqual(['a', 'b']);
      expect(cv.notifyAll()).toBe(2);
      for (const t of tasks) yield* t;
      expect(woke).toEqual(['a', 'b', 'c', 'd']);
    }));

  it('waitUntil returns at once when the condition holds, else waits for it', () =>
    runTest(function* () {
      const m = new Mutex();
      const cv = new Condvar();
      let n = 0;
      const t = spawn(function* () {
        using g = yield* m.lock();
        yield* cv.waitUntil(g, () => n >= 3);
        return n;
      });
      for (let i = 0; i < 3; i++) {
        yield* settle();
        using _g = yield* m.lock();
        n++;
        cv.notifyAll();
      }
      expect(yield* t).toBe(3);
      using g = yield* m.lock();
      yield* cv.waitUntil(g, () => true);
      expect(g.held).toBe(true);
    }));

  it('a cancelled waiter re-acquires the mutex before its cleanup runs, then unwinds (it does not return from wait())', () =>
    runTest(function* () {
      const m = new Mutex();
      const cv = new Condvar();
      const log: string[] = [];
      const t = lockAndWait(m, cv, log);
      yield* settle();
      const mine = yield* m.lock(); // the waiter must now wait for us in its cleanup
      t.cancel();
      yield* settle();
      expect(log).toEqual([]);
      mine.release();
      yield* t.halt();
      expect(log).toEqual(['finally held=true']);
      expect(yield* catchOp(t)).toBeInstanceOf(CancelledError); // cancelled, not failed
      expect(m.locked).toBe(false);
      expect(cv.waiting).toBe(0);
    }));

  it('a waiter cancelled while it re-acquires the mutex after a notify keeps its place and runs its finally holding the lock', () =>
    runTest(function* () {
      const m = new Mutex();
      const cv = new Condvar();
      const log: string[] = [];
      const t = lockAndWait(m, cv, log);
      const behind = lockAndWait(m, cv, log);
      yield* settle(); // both wait on cv
      const mine = m.tryLock()!;
      cv.notifyOne();
      yield* settle(); // t was notified and now waits inside wait() to re-acquire m
      const other = spawn(() => m.lock()); // queues behind t
      yield* settle();
      expect(m.waiters).toEqual([t.id, other.id]);
      t.cancel();
      yield* settle();
      expect(m.waiters).toEqual([t.id, other.id]); // cancellation did not cost t its place
      mine.release();
      yield* t.halt();
      expect(log).toEqual(['finally held=true']);
      (yield* other).release();
      cv.notifyAll();
      yield* behind;
      expect(log).toEqual(['finally held=true', 'returned from wait', 'finally held=true']);
    }));

  it('a waiter cancelled after notifyOne chose it passes the notification on', () =>
    runTest(function* () {
      const m = new Mutex();
      const cv = new Condvar();
      const woke: string[] = [];
      const make = (name: string): Task<void> =>
        spawn(function* () {
          using g = yield* m.lock();
          yield* cv.wait(g);
          woke.push(name);
        });
      const a = make('a');
      yield* settle();
      const b = make('b');
      yield* settle();
      cv.notifyOne(); // chooses a
      a.cancel(); // before a runs
      yield* a.halt();
      yield* b; // b got the notification a could not use
      expect(woke).toEqual(['b']);
    }));

  it('rejects a released guard or something that is not a guard', () =>
    runTest(function* () {
      const m = new Mutex();
      const cv = new Condvar();
      const g = yield* m.lock();
      g.release();
      expect(() => cv.wait(g)).toThrow(NotOwnerError);
      expect(() => cv.wait(g)).toThrow(expect.objectContaining({ code: 'NOT_OWNER' }) as Error);
      expect(() => cv.wait({} as MutexGuard)).toThrow(InvalidArgumentError);
      const g2 = yield* m.lock();
      expect(() => cv.waitUntil(g2, 'x' as never)).toThrow(InvalidArgumentError);
      g2.release();
      // Checked even when the predicate holds already (no wait would happen).
      expect(() => cv.waitUntil(g2, () => true)).toThrow(NotOwnerError);
    }));

  it("rejects a guard another fiber holds: waiting with it would release that fiber's lock", () =>
    runTest(function* () {
      const m = new Mutex({ name: 'm' });
      const cv = new Condvar();
      let shared: MutexGuard | undefined;
      const gate = new Gate();
      const holder = spawn(function* () {
        shared = yield* m.lock();
        yield* gate.wait();
        shared.release();
      });
      yield* settle();
      const g = shared as MutexGuard;
      expect(() => cv.wait(g)).toThrow(NotOwnerError);
      expect(() => cv.wait(g)).toThrow(/held by fiber #\d+, not by fiber #\d+/);
      expect(() => cv.waitUntil(g, () => true)).toThrow(NotOwnerError);
      expect(g.held).toBe(true); // nothing was released
      expect(m.holder).toBe(holder.id);
      gate.open();
      yield* holder;
      expect(m.tryLock()).toBeDefined();
    }));
});

describe('Condvar under the seeded scheduler', () => {
  it('bounded buffer with notifyOne: no lost wakeup, every item consumed once', () =>
    forEachSeed(SEEDS, (seed) =>
      function* () {
        const pick = rng(seed);
        const m = new Mutex();
        const notEmpty = new Condvar();
        const notFull = new Condvar();
        const buf: number[] = [];
        const CAP = 1 + pick(2);
        const got: number[] = [];
        const N = 6;
        const producers: Task<void>[] = [];
        for (let p = 0; p < 2; p++) {
          producers.push(
            spawn(function* () {
              for (let i = 0; i < N; i++) {
                using g = yield* m.lock();
                while (buf.length >= CAP) yield* notFull.wait(g);
                buf.push(p * 100 + i);
                notEmpty.notifyOne();
                if (pick(2) === 0) yield* yieldNow();
              }
            }),
          );
        }
        const consumers: Task<void>[] = [];
        for (let c = 0; c < 2; c++) {
          consumers.push(
            spawn(function* () {
              for (let i = 0; i < N; i++) {
                using g = yield* m.lock();
                while (buf.length === 0) yield* notEmpty.wait(g);
                got.push(buf.shift()!);
                notFull.notifyOne();
              }
            }),
          );
        }
        for (const t of [...producers, ...consumers]) yield* t;
        expect(got.length).toBe(2 * N);
        expect(new Set(got).size).toBe(2 * N);
        expect(m.locked).toBe(false);
      },
    ));

  it('cancelled waiters never swallow a notifyOne', () =>
    forEachSeed(SEEDS, (seed) =>
      function* () {
        const pick = rng(seed);
        const m = new Mutex();
        const cv = new Condvar();
        let tokens = 0;
        let consumed = 0;
        const waiters: Task<void>[] = [];
        for (let i = 0; i < 4; i++) {
          waiters.push(
            spawn(function* () {
              using g = yield* m.lock();
              while (tokens === 0) yield* cv.wait(g);
              tokens--;
              consumed++;
            }),
          );
        }
        const victim = waiters[pick(4)];
        for (let k = 0; k < 4; k++) {
          for (let i = pick(3); i > 0; i--) yield* yieldNow();
          if (k === 1) victim.cancel();
          using _g = yield* m.lock();
          tokens++;
          cv.notifyOne();
        }
        for (const t of waiters) {
          if (t === victim) yield* t.halt();
          else yield* t;
        }
        // Three waiters consumed a token each; the victim may have consumed the fourth.
        expect(consumed).toBeGreaterThanOrEqual(3);
        expect(consumed + tokens).toBe(4);
      },
    ));
});
