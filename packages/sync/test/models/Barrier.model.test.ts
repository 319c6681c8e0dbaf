/**
 * Model-based test of Barrier (fast-check).
 *
 * Each fiber loops: wait on its own gate (idle), then `barrier.wait()`, record the
 * result, and go back to idle, so the same fibers take part in many generations. The
 * reference model is a FIFO array of the parties parked in the current generation and a
 * generation counter:
 * - an arrival that makes `parties` trips the barrier: the arriving party is the leader
 *   (gets `true` without parking), every parked party of that generation is released
 *   with `false`, and the next generation starts empty;
 * - any other arrival parks; a party cancelled while parked withdraws its arrival, so
 *   the generation still needs `parties` live arrivals;
 * - a party cancelled after the trip released it, before it ran, stays released (the
 *   trip is not undone and the next generation is not affected).
 *
 * Commands: spawn an idle fiber, let the i-th idle fiber arrive, cancel a live fiber
 * (idle or parked), arrive from the test fiber when that trips the barrier, optionally
 * cancelling one of the parties it released before that party runs.
 *
 * Checked after every step: `waiting`, the leader flag and generation number every
 * fiber recorded for each of its arrivals (so: exactly one leader per generation, the
 * last arrival; every parked party of that generation released; nobody released early
 * or twice), and what the test's own arrivals returned.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { runTest, spawn, type Task } from '@rioco/core';
import { Barrier } from '@rioco/sync';
import { MODEL_RUNS, Gate, settle } from '../helpers.js';

type Cmd =
  | { t: 'spawn' }
  | { t: 'arrive'; i: number }
  | { t: 'cancel'; i: number }
  | { t: 'testArrive' }
  | { t: 'testArriveCancel'; j: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ t: 'spawn' as const }) },
  { weight: 6, arbitrary: fc.nat(15).map((i) => ({ t: 'arrive' as const, i })) },
  { weight: 2, arbitrary: fc.nat(15).map((i) => ({ t: 'cancel' as const, i })) },
  { weight: 1, arbitrary: fc.constant({ t: 'testArrive' as const }) },
  { weight: 2, arbitrary: fc.nat(7).map((j) => ({ t: 'testArriveCancel' as const, j })) },
);

type State = 'idle' | 'waiting' | 'dead';

class BarrierModel {
  waiting: number[] = [];
  state: State[] = [];
  gen = 0;
  /** Per fiber, one entry per completed arrival: `L<gen>` (leader) or `F<gen>`. */
  results: string[][] = [];
  constructor(readonly parties: number) {}

  spawn(): number {
    this.state.push('idle');
    this.results.push([]);
    return this.state.length - 1;
  }
  /** Would an arrival now trip the barrier? */
  trips(): boolean {
    return this.waiting.length + 1 >= this.parties;
  }
  /** Arrival of fiber `k` (-1: the test). Returns the parties released (not the leader). */
  arrive(k: number): number[] {
    if (!this.trips()) {
      this.waiting.push(k);
      this.state[k] = 'waiting';
      return [];
    }
    this.gen++;
    const released = this.waiting.splice(0);
    for (const w of released) {
      this.results[w].push(`F${this.gen}`);
      this.state[w] = 'idle';
    }
    if (k >= 0) this.results[k].push(`L${this.gen}`);
    return released;
  }
  cancel(k: number): void {
    this.waiting = this.waiting.filter((w) => w !== k);
    this.state[k] = 'dead';
  }
}

describe('Barrier model-based (fast-check)', () => {
  it('generations, leaders and withdrawals match a reference', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(cmdArb, { maxLength: 50, size: 'max' }), async (parties, cmds) => {
        await runTest(function* () {
          const b = new Barrier(parties);
          const model = new BarrierModel(parties);
          const tasks: Task<void>[] = [];
          const gates: Gate[] = []; // the gate each fiber's next arrival waits on
          const results: string[][] = [];
          let gen = 0; // bumped by each generation's leader before anyone else runs

          const ofState = (s: State): number[] => model.state.flatMap((x, k) => (x === s ? [k] : []));

          for (const cmd of cmds) {
            switch (cmd.t) {
              case 'spawn': {
                const k = model.spawn();
                gates.push(new Gate());
                results.push([]);
                tasks.push(
                  spawn(function* () {
                    for (;;) {
                      yield* gates[k].wait();
                      const leader = yield* b.wait();
                      if (leader) gen++;
                      results[k].push(`${leader ? 'L' : 'F'}${gen}`);
                    }
                  }),
                );
                break;
              }
              case 'arrive': {
                const idle = ofState('idle');
                if (idle.length === 0) break;
                const k = idle[cmd.i % idle.length];
                const g = gates[k];
                gates[k] = new Gate(); // for its next round
                g.open();
                model.arrive(k);
                break;
              }
              case 'cancel': {
                const live = [...ofState('idle'), ...ofState('waiting')].sort((x, y) => x - y);
                if (live.length === 0) break;
                const k = live[cmd.i % live.length];
                tasks[k].cancel();
                model.cancel(k);
                break;
              }
              case 'testArrive':
              case 'testArriveCancel': {
                if (!model.trips()) break; // the test fiber must not park
                const released = model.arrive(-1);
                expect(yield* b.wait()).toBe(true);
                gen++;
                if (cmd.t === 'testArriveCancel' && released.length > 0) {
                  // Cancel a released party before it runs: it was released all the same.
                  const k = released[cmd.j % released.length];
                  tasks[k].cancel();
                  model.results[k].pop();
                  model.state[k] = 'dead';
                }
                break;
              }
            }
            yield* settle();

            expect(b.waiting).toBe(model.waiting.length);
            expect(b.parties).toBe(parties);
            expect(results).toEqual(model.results);
            expect(gen).toBe(model.gen);
          }

          for (const t of tasks) yield* t.halt();
          expect(b.waiting).toBe(0);
          expect(results).toEqual(model.results);
        });
      }),
      { numRuns: MODEL_RUNS },
    );
  });
});
