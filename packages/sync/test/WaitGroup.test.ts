import { describe, it, expect } from 'vitest';
import { run, runTest, forEachSeed, spawn, yieldNow, DeadlockError, InvalidArgumentError, type Task } from '@rioco/core';
import { WaitGroup, NegativeCountError } from '@rioco/sync';
import { SEEDS, settle, rng } from './helpers.js';

describe('WaitGroup', () => {
  it('wait returns once the counter is back to zero', () =>
    runTest(function* () {
      const wg = new WaitGroup({ name: 'jobs' });
      yield* wg.wait(); // zero: returns at once
      wg.add(3);
      let done = 0;
      for (let i = 0; i < 3; i++) {
        spawn(function* () {
          for (let k = 0; k <= i; k++) yield* yieldNow();
          done++;
          wg.done();
        });
      }
      const waiters = [spawn(() => wg.wait()), spawn(() => wg.wait())];
      yield* wg.wait();
      expect(done).toBe(3);
      expect(wg.count).toBe(0);
      for (const w of waiters) yield* w;
      expect(String(wg)).toBe('WaitGroup(jobs)');
    }));

  it('the counter never goes negative', () =>
    runTest(function* () {
      const wg = new WaitGroup();
      expect(() => wg.done()).toThrow(NegativeCountError);
      expect(() => wg.done()).toThrow(expect.objectContaining({ code: 'NEGATIVE_COUNT' }) as Error);
      wg.add(2);
      expect(() => wg.add(-3)).toThrow(NegativeCountError);
      expect(wg.count).toBe(2); // unchanged by the failed call
      for (const bad of [1.5, NaN, '1']) expect(() => wg.add(bad as number)).toThrow(InvalidArgumentError);
      wg.add(-2);
      yield* wg.wait();
    }));

  it('a cancelled waiter leaves nothing behind', () =>
    runTest(function* () {
      const wg = new WaitGroup();
      wg.add();
      const w = spawn(() => wg.wait());
      let released = false;
      const other = spawn(function* () {
        yield* wg.wait();
        released = true;
      });
      yield* settle();
      yield* w.halt();
      expect(w.done).toBe(true);
      expect(released).toBe(false); // cancelling one waiter released nobody
      wg.done();
      yield* other; // the remaining waiter still wakes at zero
      expect(released).toBe(true);
      expect(wg.count).toBe(0);
    }));

  it('waiting on a group nobody will finish is reported as a deadlock', async () => {
    const err = await run(function* () {
      const wg = new WaitGroup({ name: 'never' });
      wg.add();
      yield* wg.wait();
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadlockError);
    expect((err as DeadlockError).fibers[0].waitingOn).toBe('waitgroup.wait (never)');
  });
});

describe('WaitGroup under the seeded scheduler', () => {
  it('no waiter passes before every worker is done', () =>
    forEachSeed(SEEDS, (seed) =>
      function* () {
        const pick = rng(seed);
        const wg = new WaitGroup();
        const N = 2 + pick(4);
        let finished = 0;
        wg.add(N);
        for (let i = 0; i < N; i++) {
          spawn(function* () {
            for (let k = pick(4); k > 0; k--) yield* yieldNow();
            finished++;
            wg.done();
          });
        }
        const waiters: Task<void>[] = [];
        for (let i = 0; i < 2; i++) {
          waiters.push(
            spawn(function* () {
              yield* wg.wait();
              expect(finished).toBe(N);
            }),
          );
        }
        for (const w of waiters) yield* w;
      },
    ));
});
