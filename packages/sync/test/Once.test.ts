import { describe, it, expect } from 'vitest';
import { runTest, forEachSeed, spawn, yieldNow, currentFiber, InvalidArgumentError, type Operation, type Task } from '@rioco/core';
import { Once, lazy } from '@rioco/sync';
import { SEEDS, Gate, settle, rng, catchOp } from './helpers.js';

describe('Once', () => {
  it('runs the initializer once; concurrent callers wait for its value', () =>
    runTest(function* () {
      const once = new Once<number>({ name: 'config' });
      let runs = 0;
      const gate = new Gate();
      function* init(): Operation<number> {
        runs++;
        yield* gate.wait();
        return 42;
      }
      const tasks: Task<number>[] = [];
      for (let i = 0; i < 4; i++) tasks.push(spawn(() => once.getOrInit(init)));
      yield* settle();
      expect(once.holder).toBe(tasks[0].id);
      expect(once.isSet).toBe(false);
      gate.open();
      for (const t of tasks) expect(yield* t).toBe(42);
      expect(runs).toBe(1);
      expect(once.isSet).toBe(true);
      expect(once.value).toBe(42);
      expect(once.holder).toBeUndefined();
      expect(yield* once.getOrInit(init)).toBe(42);
      expect(runs).toBe(1);
    }));

  it('a failing initializer: the error goes to its caller; the next waiter initializes', () =>
    runTest(function* () {
      const once = new Once<string>();
      const gate = new Gate();
      const failing = spawn(() =>
        catchOp(
          once.getOrInit(function* () {
            yield* gate.wait();
            throw new Error('no config');
          }),
        ),
      );
      yield* settle();
      const waiter = spawn(() =>
        once.getOrInit(function* () {
          return 'second try';
        }),
      );
      yield* settle();
      gate.open();
      expect(((yield* failing) as Error).message).toBe('no config');
      expect(yield* waiter).toBe('second try');
    }));

  it('a cancelled initializer hands the turn to the next waiter', () =>
    runTest(function* () {
      const once = new Once<string>();
      const first = spawn(() =>
        once.getOrInit(function* () {
          yield* new Gate().wait(); // never opens
          return 'never';
        }),
      );
      yield* settle();
      const second = spawn(() =>
        once.getOrInit(function* () {
          return 'from second';
        }),
      );
      yield* settle();
      yield* first.halt();
      expect(yield* second).toBe('from second');
    }));

  it('a waiter cancelled right after it got the turn passes it on', () =>
    runTest(function* () {
      const once = new Once<string>();
      const gate = new Gate();
      const first = spawn(() =>
        catchOp(
          once.getOrInit(function* () {
            yield* gate.wait();
            throw new Error('x');
          }),
        ),
      );
      yield* settle();
      const second = spawn(() => once.getOrInit(() => fail('second must not run its initializer')));
      yield* settle(2);
      const third = spawn(() =>
        once.getOrInit(function* () {
          return 'third';
        }),
      );
      yield* settle();
      gate.open();
      yield* settle(1); // first fails and hands the turn to second, which has not run yet
      expect(once.holder).toBe(second.id);
      second.cancel();
      yield* second.halt();
      yield* first;
      expect(yield* third).toBe('third');
    }));

  it('lazy computes on first get, once', () =>
    runTest(function* () {
      let runs = 0;
      const l = lazy(function* () {
        runs++;
        yield* yieldNow();
        return currentFiber()!.id;
      });
      expect(l.isSet).toBe(false);
      const a = spawn(() => l.get());
      const b = spawn(() => l.get());
      const va = yield* a;
      expect(yield* b).toBe(va);
      expect(yield* l.get()).toBe(va);
      expect(l.value).toBe(va);
      expect(l.isSet).toBe(true);
      expect(runs).toBe(1);
    }));

  it('rejects an initializer that is not a function', () => {
    expect(() => new Once<number>().getOrInit(5 as never)).toThrow(InvalidArgumentError);
    expect(() => lazy(null as never)).toThrow(InvalidArgumentError);
    expect(() => new Once(7 as never)).toThrow(InvalidArgumentError);
  });

  it('an initializer that returns no operation fails its caller with InvalidArgumentError; the next caller initializes', () =>
    runTest(function* () {
      const once = new Once<number>();
      const err = yield* catchOp(once.getOrInit((() => 5) as never));
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/must return an operation.*got number/) as string });
      expect(once.isSet).toBe(false);
      expect(once.holder).toBeUndefined();
      expect(
        yield* once.getOrInit(function* () {
          return 7;
        }),
      ).toBe(7);
    }));
});

function* fail(message: string): Operation<string> {
  throw new Error(message);
}

describe('Once under the seeded scheduler', () => {
  it('exactly one successful initialization; every caller sees it, despite failures and cancellation', () =>
    forEachSeed(SEEDS, (seed) =>
      function* () {
        const pick = rng(seed);
        const once = new Once<number>();
        let successes = 0;
        const failAt = pick(3);
        let attempts = 0;
        const tasks: Task<unknown>[] = [];
        const seen: number[] = [];
        let flaky = 0;
        for (let i = 0; i < 5; i++) {
          tasks.push(
            spawn(function* () {
              try {
                seen.push(
                  yield* once.getOrInit(function* () {
                    const n = attempts++;
                    yield* yieldNow();
                    if (n === failAt) throw new Error('flaky');
                    successes++;
                    return 100 + i;
                  }),
                );
              } catch (e) {
                if (!(e instanceof Error && e.message === 'flaky')) throw e;
                flaky++;
              }
            }),
          );
        }
        const victim = tasks[pick(5)];
        for (let k = pick(6); k > 0; k--) yield* yieldNow();
        victim.cancel();
        for (const t of tasks) {
          if (t === victim) yield* t.halt();
          else yield* t;
        }
        expect(successes).toBe(1);
        expect(once.isSet).toBe(true);
        expect(once.holder).toBeUndefined();
        // Every caller that neither failed nor was cancelled got the one value.
        expect(flaky).toBeLessThanOrEqual(1);
        expect(seen.length).toBeGreaterThanOrEqual(5 - 1 - flaky);
        expect(new Set(seen)).toEqual(new Set([once.value]));
      },
    ));
});
