/**
 * Model-based test of WaitGroup (fast-check).
 *
 * The reference model is a counter and the list of fibers parked in `wait()`:
 * - `add(delta)` with a non-integer delta throws InvalidArgumentError and changes
 *   nothing; one that would take the counter below zero throws NegativeCountError and
 *   changes nothing; otherwise the counter moves, and reaching zero releases every
 *   parked waiter (even if the counter is raised again before they run: the wakeup
 *   happened when it reached zero);
 * - `wait()` returns at once when the counter is zero, else parks;
 * - a waiter cancelled while parked leaves nothing behind; one cancelled after it was
 *   released, before it ran, is just cancelled (nothing to hand on).
 *
 * Commands: add(delta) (including negative, invalid and below-zero deltas), done(),
 * spawn a waiter, cancel a parked waiter, "bounce" (down to zero and up again in one
 * synchronous step), reach zero then cancel one released waiter before it runs, wait
 * from the test fiber when the counter is zero.
 *
 * Checked after every step: `count`, the error each add() threw, and every fiber's
 * outcome (parked / returned, with the counter it saw on returning / cancelled).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { runTest, spawn, InvalidArgumentError, type Task } from '@rioco/core';
import { WaitGroup, NegativeCountError } from '@rioco/sync';
import { MODEL_RUNS, settle } from '../helpers.js';

type Cmd =
  | { t: 'add'; delta: number }
  | { t: 'done' }
  | { t: 'spawnWait' }
  | { t: 'cancel'; i: number }
  | { t: 'bounce'; up: number }
  | { t: 'zeroCancel'; j: number }
  | { t: 'testWait' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -3, max: 3 }).map((delta) => ({ t: 'add' as const, delta })) },
  { weight: 1, arbitrary: fc.constantFrom(0.5, -1.5, NaN, Infinity).map((delta) => ({ t: 'add' as const, delta })) },
  { weight: 3, arbitrary: fc.constant({ t: 'done' as const }) },
  { weight: 4, arbitrary: fc.constant({ t: 'spawnWait' as const }) },
  { weight: 2, arbitrary: fc.nat(15).map((i) => ({ t: 'cancel' as const, i })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((up) => ({ t: 'bounce' as const, up })) },
  { weight: 2, arbitrary: fc.nat(7).map((j) => ({ t: 'zeroCancel' as const, j })) },
  { weight: 1, arbitrary: fc.constant({ t: 'testWait' as const }) },
);

class GroupModel {
  count = 0;
  parked: number[] = [];
  /** Per fiber: 'parked', 'returned <count seen>' or 'cancelled'. */
  out: string[] = [];
  /** Released at a zero crossing but not yet run (they read the counter when they run). */
  private justReleased: number[] = [];

  /** What add(delta) throws ('invalid', 'negative'), or 'ok'. */
  add(delta: number): string {
    if (!Number.isInteger(delta)) return 'invalid';
    if (this.count + delta < 0) return 'negative';
    this.count += delta;
    if (this.count === 0) this.justReleased.push(...this.parked.splice(0));
    return 'ok';
  }
  spawnWait(): number {
    const k = this.out.length;
    this.out.push('parked');
    if (this.count === 0) this.justReleased.push(k);
    else this.parked.push(k);
    return k;
  }
  cancel(k: number): void {
    this.parked = this.parked.filter((x) => x !== k);
    this.justReleased = this.justReleased.filter((x) => x !== k);
    this.out[k] = 'cancelled';
  }
  /** The released fibers run (after the synchronous part of a step). */
  settle(): void {
    for (const k of this.justReleased.splice(0)) this.out[k] = `returned ${this.count}`;
  }
}

function tryAdd(wg: WaitGroup, delta: number): string {
  try {
    wg.add(delta);
    return 'ok';
  } catch (e) {
    if (e instanceof NegativeCountError) return 'negative';
    if (e instanceof InvalidArgumentError) return 'invalid';
    throw e;
  }
}

describe('WaitGroup model-based (fast-check)', () => {
  it('counter, errors and releases match a reference', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmdArb, { maxLength: 50, size: 'max' }), async (cmds) => {
        await runTest(function* () {
          const wg = new WaitGroup();
          const model = new GroupModel();
          const tasks: Task<void>[] = [];
          const out: string[] = [];

          for (const cmd of cmds) {
            switch (cmd.t) {
              case 'add':
                expect(tryAdd(wg, cmd.delta), `add(${cmd.delta})`).toBe(model.add(cmd.delta));
                break;
              case 'done': {
                const expected = model.add(-1);
                let got = 'ok';
                try {
                  wg.done();
                } catch (e) {
                  got = e instanceof NegativeCountError ? 'negative' : String(e);
                }
                expect(got).toBe(expected);
                break;
              }
              case 'spawnWait': {
                const k = model.spawnWait();
                out.push('parked');
                tasks.push(
                  spawn(function* () {
                    let returned = false;
                    try {
                      yield* wg.wait();
                      returned = true;
                      out[k] = `returned ${wg.count}`;
                    } finally {
                      if (!returned) out[k] = 'cancelled';
                    }
                  }),
                );
                break;
              }
              case 'cancel': {
                if (model.parked.length === 0) break;
                const k = model.parked[cmd.i % model.parked.length];
                tasks[k].cancel();
                model.cancel(k);
                break;
              }
              case 'bounce': {
                // Down to zero and straight up again: the waiters were released at zero.
                expect(tryAdd(wg, -wg.count)).toBe(model.add(-model.count));
                expect(tryAdd(wg, cmd.up)).toBe(model.add(cmd.up));
                break;
              }
              case 'zeroCancel': {
                if (model.count === 0) break;
                const released = [...model.parked];
                expect(tryAdd(wg, -model.count)).toBe(model.add(-model.count));
                if (released.length === 0) break;
                const k = released[cmd.j % released.length];
                tasks[k].cancel();
                model.cancel(k);
                break;
              }
              case 'testWait':
                if (model.count !== 0) break; // the test fiber must not park
                yield* wg.wait();
                break;
            }
            yield* settle();
            model.settle();

            expect(wg.count).toBe(model.count);
            expect(out).toEqual(model.out);
          }

          for (const t of tasks) yield* t.halt();
          for (const [k, o] of out.entries()) expect(o, `fiber ${k}`).not.toBe('parked');
        });
      }),
      { numRuns: MODEL_RUNS },
    );
  });
});
