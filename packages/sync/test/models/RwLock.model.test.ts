/**
 * Model-based test of RwLock (fast-check).
 *
 * The reference model is two plain arrays: `holders` (who holds the lock, each entry a
 * reader or the single writer) and `queue` (who waits, in arrival order). Its rules are
 * the documented ones, written as directly as possible:
 * - a reader gets in at once iff no writer holds the lock and nobody waits; a writer
 *   gets in at once iff nobody holds the lock and nobody waits; otherwise they queue;
 * - whenever anything changes, the head of the queue is admitted if it can be: one
 *   writer when nobody holds the lock, or every reader up to the next writer when no
 *   writer holds it (so readers queued behind a writer go in together once it leaves);
 * - a cancelled waiter leaves the queue and never holds the lock; a fiber cancelled
 *   right after it was handed the lock (before it ran) releases it at once.
 *
 * Commands: spawn a reader / a writer (each fiber holds its guard until told to
 * release), release the i-th holder from the test (synchronously), release and cancel
 * one of the fibers that release just admitted before it runs, cancel a live fiber
 * (waiting or holding), tryRead / tryWrite from the test fiber.
 *
 * Checked after every step: `readers`, `writeLocked`, `holders` (as a set of labels),
 * `waiters` (in order), each guard's `held`, and which fibers ever ran holding the lock.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { runTest, spawn, currentFiber, type Task } from '@rioco/core';
import { RwLock, type RwLockGuard } from '@rioco/sync';
import { MODEL_RUNS, Gate, settle } from '../helpers.js';

type Cmd =
  | { t: 'spawnRead' }
  | { t: 'spawnWrite' }
  | { t: 'release'; i: number }
  | { t: 'releaseCancel'; i: number; j: number }
  | { t: 'cancel'; i: number }
  | { t: 'tryRead' }
  | { t: 'tryWrite' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ t: 'spawnRead' as const }) },
  { weight: 3, arbitrary: fc.constant({ t: 'spawnWrite' as const }) },
  { weight: 4, arbitrary: fc.nat(15).map((i) => ({ t: 'release' as const, i })) },
  { weight: 2, arbitrary: fc.record({ i: fc.nat(15), j: fc.nat(7) }).map((r) => ({ t: 'releaseCancel' as const, ...r })) },
  { weight: 2, arbitrary: fc.nat(15).map((i) => ({ t: 'cancel' as const, i })) },
  { weight: 1, arbitrary: fc.constant({ t: 'tryRead' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'tryWrite' as const }) },
);

/** `f<k>`: the k-th spawned fiber; `t<n>`: the n-th guard the test fiber got with tryRead/tryWrite. */
type Label = string;
interface Entry {
  who: Label;
  write: boolean;
}

/** The reference RwLock. */
class RwModel {
  holders: Entry[] = [];
  queue: Entry[] = [];

  get writerHolds(): boolean {
    return this.holders.some((h) => h.write);
  }
  canRead(): boolean {
    return !this.writerHolds && this.queue.length === 0;
  }
  canWrite(): boolean {
    return this.holders.length === 0 && this.queue.length === 0;
  }
  /** Arrival of `e`: in at once, or queued. */
  arrive(e: Entry): void {
    if (e.write ? this.canWrite() : this.canRead()) this.holders.push(e);
    else this.queue.push(e);
  }
  /** Admit whoever can go next; returns who was admitted. */
  grant(): Label[] {
    const admitted: Label[] = [];
    for (;;) {
      const h = this.queue[0];
      if (h === undefined || this.writerHolds) break;
      if (h.write) {
        if (this.holders.length > 0) break;
        this.holders.push(this.queue.shift()!);
        admitted.push(h.who);
        break;
      }
      this.holders.push(this.queue.shift()!);
      admitted.push(h.who);
    }
    return admitted;
  }
  /** `who` leaves (releases if holding, withdraws if waiting); returns who was admitted. */
  leave(who: Label): Label[] {
    this.holders = this.holders.filter((h) => h.who !== who);
    this.queue = this.queue.filter((q) => q.who !== who);
    return this.grant();
  }
}

describe('RwLock model-based (fast-check)', () => {
  it('holders, queue and counts match a writer-preferring FIFO reference', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmdArb, { maxLength: 40, size: 'max' }), async (cmds) => {
        await runTest(function* () {
          const l = new RwLock();
          const model = new RwModel();
          const tasks: Task<void>[] = [];
          const gates: Gate[] = [];
          const guards = new Map<Label, RwLockGuard>(); // fiber guards (once it ran) and test guards
          const label = new Map<number, Label>(); // fiber id -> label
          const ranHolding = new Set<Label>(); // what the fibers saw
          const everHeld = new Set<Label>(); // what the model says they saw
          const me = currentFiber()!.id;
          let own = 0;

          const spawnFiber = (write: boolean): void => {
            const k = tasks.length;
            const who = `f${k}`;
            const gate = new Gate();
            gates.push(gate);
            const t = spawn(function* () {
              const g = write ? yield* l.write() : yield* l.read();
              guards.set(who, g);
              ranHolding.add(who);
              try {
                yield* gate.wait();
              } finally {
                g.release();
              }
            });
            tasks.push(t);
            label.set(t.id, who);
            model.arrive({ who, write });
          };
          /** Release holder `who` from the test, synchronously; returns who got in. */
          const releaseHolder = (who: Label): Label[] => {
            const g = guards.get(who);
            if (g === undefined) throw new Error(`model broken: no guard for holder ${who}`);
            g.release();
            if (who.startsWith('f')) gates[Number(who.slice(1))].open();
            return model.leave(who);
          };
          const fiberOf = (who: Label): Task<void> => tasks[Number(who.slice(1))];
          const mapHolder = (id: number): Label => (id === me ? 'T' : (label.get(id) ?? `?${id}`));

          for (const cmd of cmds) {
            switch (cmd.t) {
              case 'spawnRead':
              case 'spawnWrite':
                spawnFiber(cmd.t === 'spawnWrite');
                break;
              case 'release': {
                if (model.holders.length === 0) break;
                releaseHolder(model.holders[cmd.i % model.holders.length].who);
                break;
              }
              case 'releaseCancel': {
                // Release, then cancel one of the fibers just handed the lock, before it runs.
                if (model.holders.length === 0) break;
                const admitted = releaseHolder(model.holders[cmd.i % model.holders.length].who);
                if (admitted.length === 0) break;
                const victim = admitted[cmd.j % admitted.length];
                fiberOf(victim).cancel();
                model.leave(victim);
                break;
              }
              case 'cancel': {
                const live = [...model.holders, ...model.queue].filter((e) => e.who.startsWith('f'));
                if (live.length === 0) break;
                const who = live[cmd.i % live.length].who;
                fiberOf(who).cancel();
                model.leave(who);
                break;
              }
              case 'tryRead':
              case 'tryWrite': {
                const write = cmd.t === 'tryWrite';
                const g = write ? l.tryWrite() : l.tryRead();
                const can = write ? model.canWrite() : model.canRead();
                expect(g !== undefined, `${cmd.t} succeeded`).toBe(can);
                if (g !== undefined) {
                  expect(g.write).toBe(write);
                  const who = `t${own++}`;
                  guards.set(who, g);
                  model.holders.push({ who, write });
                }
                break;
              }
            }
            yield* settle();
            for (const h of model.holders) if (h.who.startsWith('f')) everHeld.add(h.who);

            const readers = model.holders.filter((h) => !h.write).length;
            expect(l.readers).toBe(readers);
            expect(l.writeLocked).toBe(model.writerHolds);
            expect(l.holders.map(mapHolder).sort()).toEqual(model.holders.map((h) => (h.who.startsWith('t') ? 'T' : h.who)).sort());
            expect(l.waiters.map(mapHolder)).toEqual(model.queue.map((q) => q.who));
            expect([...ranHolding].sort()).toEqual([...everHeld].sort());
            const holding = new Set(model.holders.map((h) => h.who));
            for (const [who, g] of guards) expect(g.held, `${who}.held`).toBe(holding.has(who));
            // The structural invariants, independently of the model.
            if (l.writeLocked) expect(l.readers).toBe(0);
          }

          for (const [who, g] of guards) if (who.startsWith('t')) g.release();
          for (const g of gates) g.open();
          for (const t of tasks) yield* t.halt();
          expect(l.readers).toBe(0);
          expect(l.writeLocked).toBe(false);
          expect(l.waiters).toEqual([]);
        });
      }),
      { numRuns: MODEL_RUNS },
    );
  });
});
