import { describe, it, expect } from 'vitest';
import { runTest, forEachSeed, spawn, yieldNow, InvalidArgumentError, type Task } from '@rioco/core';
import { Barrier } from '@rioco/sync';
import { SEEDS, settle, rng } from './helpers.js';

describe('Barrier', () => {
  it('releases everyone when the last party arrives; exactly one leader per round', () =>
    runTest(function* () {
      const b = new Barrier(3, { name: 'phase' });
      const log: string[] = [];
      const tasks: Task<boolean[]>[] = [];
      for (let f = 0; f < 3; f++) {
        tasks.push(
          spawn(function* () {
            const leaders: boolean[] = [];
            for (let round = 0; round < 3; round++) {
              log.push(`arrive ${round}`);
              leaders.push(yield* b.wait());
              log.push(`pass ${round}`);
            }
            return leaders;
          }),
        );
      }
      const results: boolean[][] = [];
      for (const t of tasks) results.push(yield* t);
      for (let round = 0; round < 3; round++) {
        expect(results.filter((r) => r[round]).length).toBe(1);
        // Nobody passes a round before everyone arrived at it.
        const lastArrive = log.lastIndexOf(`arrive ${round}`);
        expect(log.indexOf(`pass ${round}`)).toBeGreaterThan(lastArrive);
      }
      expect(b.waiting).toBe(0);
      expect(String(b)).toBe('Barrier(phase)');
    }));

  it('a barrier of one never waits', () =>
    runTest(function* () {
      const b = new Barrier(1);
      expect(yield* b.wait()).toBe(true);
      expect(yield* b.wait()).toBe(true);
    }));

  it('a cancelled waiter withdraws its arrival', () =>
    runTest(function* () {
      const b = new Barrier(2);
      const quitter = spawn(() => b.wait());
      yield* settle();
      expect(b.waiting).toBe(1);
      yield* quitter.halt();
      expect(b.waiting).toBe(0);
      const other = spawn(() => b.wait());
      yield* settle();
      expect(other.done).toBe(false); // still needs a second live party
      expect(yield* b.wait()).toBe(true);
      expect(yield* other).toBe(false);
    }));

  it('rejects a party count that is not an integer >= 1', () => {
    for (const bad of [0, -2, 1.5, NaN, '2']) expect(() => new Barrier(bad as number)).toThrow(InvalidArgumentError);
  });
});

describe('Barrier under the seeded scheduler', () => {
  it('rounds never mix, with a leader each round', () =>
    forEachSeed(SEEDS, (seed) =>
      function* () {
        const pick = rng(seed);
        const n = 2 + pick(3);
        const b = new Barrier(n);
        let round = 0;
        let arrived = 0;
        let leaders = 0;
        const tasks: Task<void>[] = [];
        for (let f = 0; f < n; f++) {
          tasks.push(
            spawn(function* () {
              for (let r = 0; r < 3; r++) {
                for (let i = pick(3); i > 0; i--) yield* yieldNow();
                expect(round).toBe(r);
                arrived++;
                if (arrived === n) {
                  arrived = 0;
                  round++;
                }
                if (yield* b.wait()) leaders++;
                expect(round).toBe(r + 1);
              }
            }),
          );
        }
        for (const t of tasks) yield* t;
        expect(leaders).toBe(3);
      },
    ));
});
