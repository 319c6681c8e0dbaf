import { describe, it, expect } from 'vitest';
import { runTest, forEachSeed, spawn, yieldNow, currentFiber, InvalidArgumentError, LockCycleError, type Task } from '@rioco/core';
import { Mutex, RwLock } from '@rioco/sync';
import { SEEDS, Gate, settle, rng } from './helpers.js';

describe('RwLock', () => {
  it('many readers at once, one writer alone', () =>
    runTest(function* () {
      const l = new RwLock({ name: 'cache' });
      const r1 = yield* l.read();
      const r2 = yield* l.read();
      expect(l.readers).toBe(2);
      expect(l.tryWrite()).toBeUndefined();
      r1.release();
      r2.release();
      const w = yield* l.write();
      expect(l.writeLocked).toBe(true);
      expect(w.write).toBe(true);
      expect(l.tryRead()).toBeUndefined();
      expect(l.holders).toEqual([currentFiber()!.id]);
      w.release();
      expect(l.tryRead()?.held).toBe(true);
      expect(String(l)).toBe('RwLock(cache)');
    }));

  it('writer-preferring: a reader arriving while a writer waits queues behind it', () =>
    runTest(function* () {
      const l = new RwLock();
      const r = yield* l.read();
      const order: string[] = [];
      const w = spawn(function* () {
        using _w = yield* l.write();
        order.push('writer');
      });
      yield* settle();
      expect(l.tryRead()).toBeUndefined(); // no barging past the waiting writer
      const late = spawn(function* () {
        using _r = yield* l.read();
        order.push('late reader');
      });
      yield* settle();
      expect(order).toEqual([]);
      r.release();
      yield* w;
      yield* late;
      expect(order).toEqual(['writer', 'late reader']);
    }));

  it('readers queued behind a writer are admitted together when it releases', () =>
    runTest(function* () {
      const l = new RwLock();
      const w = yield* l.write();
      const gate = new Gate();
      const readers: Task<void>[] = [];
      for (let i = 0; i < 3; i++) {
        readers.push(
          spawn(function* () {
            using _r = yield* l.read();
            yield* gate.wait();
          }),
        );
      }
      const w2 = spawn(function* () {
        using _w = yield* l.write();
      });
      yield* settle();
      w.release();
      yield* settle();
      expect(l.readers).toBe(3);
      expect(l.holders.sort()).toEqual(readers.map((t) => t.id).sort());
      expect(l.waiters).toEqual([w2.id]);
      gate.open();
      for (const t of readers) yield* t;
      yield* w2;
      expect(l.readers).toBe(0);
      expect(l.writeLocked).toBe(false);
    }));

  it('cancellation: a waiting writer leaves; readers it held back get in', () =>
    runTest(function* () {
      const l = new RwLock();
      const r = yield* l.read();
      const w = spawn(() => l.write());
      yield* settle();
      const r2 = spawn(() => l.read());
      yield* settle();
      expect(l.readers).toBe(1);
      yield* w.halt();
      yield* settle();
      expect(l.readers).toBe(2); // r2 admitted once the writer ahead of it left
      (yield* r2).release();
      r.release();
      expect(l.readers).toBe(0);
    }));

  it('cancellation: a writer handed the lock before it ran passes it on', () =>
    runTest(function* () {
      const l = new RwLock();
      const r = yield* l.read();
      const w = spawn(() => l.write());
      yield* settle(2);
      const r2 = spawn(() => l.read());
      yield* settle();
      r.release(); // the writer now holds the lock, but has not run
      expect(l.writeLocked).toBe(true);
      w.cancel();
      yield* w.halt();
      expect(l.writeLocked).toBe(false);
      expect(l.readers).toBe(1);
      (yield* r2).release();
    }));

  it('guards are idempotent and a guard cannot run twice at once', () =>
    runTest(function* () {
      const l = new RwLock();
      const r = yield* l.read();
      r.release();
      r.release();
      r[Symbol.dispose]();
      expect(l.readers).toBe(0);
      const w = yield* l.write();
      expect(() => (w as unknown as Iterable<unknown>)[Symbol.iterator]()).toThrow(InvalidArgumentError);
      w.release();
      expect(() => new RwLock(3 as never)).toThrow(InvalidArgumentError);
    }));
});

describe('RwLock and lockCycles', () => {
  it('a writer behind two readers, one of which waits for the writer, is a cycle: the closing wait fails', () =>
    runTest(
      function* () {
        const rw = new RwLock({ name: 'rw' });
        const m = new Mutex({ name: 'm' });
        const r1 = spawn(function* () {
          using _r = yield* rw.read();
          yield* settle();
          try {
            using _m = yield* m.lock(); // w holds m and waits for both readers, r1 among them
          } catch (e) {
            return e;
          }
        });
        const r2 = spawn(function* () {
          using _r = yield* rw.read();
          yield* settle(20);
        });
        const w = spawn(function* () {
          using _m = yield* m.lock();
          yield* yieldNow();
          using _w = yield* rw.write(); // needs r1 and r2 out
        });
        const err = yield* r1;
        expect(err).toBeInstanceOf(LockCycleError);
        expect((err as LockCycleError).cycles).toEqual([[r1.id, w.id].sort((a, b) => a - b)]);
        yield* r2;
        yield* w; // r1's read lock came back as it unwound; then r2's: the writer gets in
      },
      { lockCycles: true },
    ));
});

describe('RwLock under the seeded scheduler', () => {
  it('no writer overlaps anyone; nobody starves; nothing held at the end', () =>
    forEachSeed(SEEDS, (seed) =>
      function* () {
        const pick = rng(seed);
        const l = new RwLock();
        let readers = 0;
        let writers = 0;
        const done: string[] = [];
        const tasks: Task<void>[] = [];
        for (let f = 0; f < 6; f++) {
          const writer = f % 3 === 0;
          tasks.push(
            spawn(function* () {
              for (let i = 0; i < 3; i++) {
                using _g = writer ? yield* l.write() : yield* l.read();
                if (writer) writers++;
                else readers++;
                try {
                  expect(writers).toBeLessThanOrEqual(1);
                  if (writers === 1) expect(readers).toBe(0);
                  if (pick(2) === 0) yield* yieldNow();
                } finally {
                  if (writer) writers--;
                  else readers--;
                }
              }
              done.push(writer ? 'w' : 'r');
            }),
          );
        }
        const victim = tasks[pick(tasks.length)];
        for (let i = pick(8); i > 0; i--) yield* yieldNow();
        victim.cancel();
        for (const t of tasks) {
          if (t === victim) yield* t.halt();
          else yield* t;
        }
        expect(done.length).toBeGreaterThanOrEqual(5);
        expect(l.readers).toBe(0);
        expect(l.writeLocked).toBe(false);
        expect(l.waiters).toEqual([]);
      },
    ));
});
