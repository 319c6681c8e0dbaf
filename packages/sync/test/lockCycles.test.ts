/**
 * `run(body, { lockCycles: true })` against the same program without it, seed by seed.
 * The check does not change the schedule (it draws nothing from the seed), so both runs
 * are the same interleaving until the first LockCycleError. A reported cycle must be a
 * real deadlock: whenever the run without the check completes, the run with it must
 * complete too, with no LockCycleError. Semaphores with several permits make waits that
 * any of several holders can end, the case where a cycle in the wait-for graph is not
 * yet a deadlock.
 */
import { describe, it, expect } from 'vitest';
import { DeadlockError, LockCycleError, runTest, spawn, yieldNow, type Operation } from '@rioco/core';
import { Mutex, RwLock, Semaphore } from '@rioco/sync';
import { SEEDS, rng } from './helpers.js';

type Outcome = { kind: 'ok'; cycles: number } | { kind: 'deadlock' };

function program(seed: number, failures: { n: number }): () => Operation<void> {
  return function* () {
    const pick = rng(seed);
    const m = [new Mutex({ name: 'm0' }), new Mutex({ name: 'm1' })];
    const sem = new Semaphore(2, { name: 'sem' });
    const rw = new RwLock({ name: 'rw' });
    // Each step takes one resource and returns what releases it.
    const take: (() => Operation<{ release(): void }>)[] = [
      () => m[0].lock(),
      () => m[1].lock(),
      () => sem.acquire(1 + pick(2)),
      () => (pick(2) === 0 ? rw.read() : rw.write()),
    ];
    const worker = function* (): Operation<void> {
      for (let round = 0; round < 3; round++) {
        const first = pick(4);
        const second = (first + 1 + pick(3)) % 4;
        const held: { release(): void }[] = [];
        try {
          for (const r of [first, second]) {
            held.push(yield* take[r]());
            for (let i = pick(3); i > 0; i--) yield* yieldNow();
          }
        } catch (e) {
          if (!(e instanceof LockCycleError)) throw e;
          failures.n++;
        } finally {
          for (let k = held.length - 1; k >= 0; k--) held[k].release();
        }
      }
    };
    const tasks = [0, 1, 2, 3].map(() => spawn(worker));
    for (const t of tasks) yield* t;
  };
}

async function outcome(seed: number, lockCycles: boolean): Promise<Outcome> {
  const failures = { n: 0 };
  try {
    await runTest(program(seed, failures), { seed, lockCycles });
    return { kind: 'ok', cycles: failures.n };
  } catch (e) {
    if (e instanceof DeadlockError) return { kind: 'deadlock' };
    throw e;
  }
}

describe('lockCycles against the same seeds without it', () => {
  it('reports only real deadlocks, and turns some deadlocks into one failed wait', async () => {
    const tally = { completedBoth: 0, deadlockedOff: 0, rescued: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const off = await outcome(seed, false);
      const on = await outcome(seed, true);
      if (off.kind === 'ok') {
        // A LockCycleError here would be a false report: this interleaving completes.
        expect({ seed, on }).toEqual({ seed, on: { kind: 'ok', cycles: 0 } });
        tally.completedBoth++;
      } else {
        tally.deadlockedOff++;
        if (on.kind === 'ok' && on.cycles > 0) tally.rescued++;
      }
    }
    // The seeds exercised both kinds of schedule, and the check broke real cycles.
    expect(tally.completedBoth).toBeGreaterThan(0);
    expect(tally.deadlockedOff).toBeGreaterThan(0);
    expect(tally.rescued).toBeGreaterThan(0);
  });
});
