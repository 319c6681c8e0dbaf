/**
 * Model-based test of Condvar together with the Mutex it is used with (fast-check).
 *
 * The reference model is a FIFO mutex (`owner` + queue `mq`), the condvar's FIFO queue
 * `cvq`, a phase per fiber, and a shared permit counter for `waitUntil` fibers:
 *
 *   lock     waiting for the mutex before its first wait (in `mq`)
 *   cv       waiting for a notification (in `cvq`, mutex released)
 *   relock   notified, re-acquiring the mutex inside wait() (in `mq`)
 *   holding  returned from wait holding the mutex (sits on a gate until told to go)
 *   cleanup  cancelled inside wait(), re-acquiring the mutex before its finally (in `mq`)
 *
 * Whenever the mutex is free, its first waiter takes it and does what its phase says:
 * enters the condvar (releasing the mutex), returns from wait, re-waits (a `waitUntil`
 * fiber whose predicate, `permits > 0`, is false), or runs its finally and unlocks.
 * notifyOne moves the head of `cvq` to `relock`; notifyAll moves all of them; a fiber
 * chosen by notifyOne and cancelled before it ran passes the notification on (docs).
 *
 * Commands: spawn a `wait` or `waitUntil` fiber, notifyOne, notifyAll, notify then
 * cancel a woken fiber before it runs, add a permit, let the fiber holding the mutex
 * after its wait go (it unlocks), cancel a live fiber, tryLock / unlock from the test,
 * unlock then cancel the fiber handed the mutex before it runs.
 *
 * Checked after every step: `waiting`, notify return values, the mutex's `holder` and
 * `waiters` (in order, which pins down the wake order), which fibers returned from
 * wait, whether each finally ran holding the mutex, and the permit count.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { runTest, spawn, currentFiber, type Task } from '@rioco/core';
import { Condvar, Mutex, type MutexGuard } from '@rioco/sync';
import { MODEL_RUNS, Gate, settle } from '../helpers.js';

type Kind = 'wait' | 'until';
type Cmd =
  | { t: 'spawn'; kind: Kind }
  | { t: 'notifyOne' }
  | { t: 'notifyAll' }
  | { t: 'notifyOneCancel' }
  | { t: 'notifyAllCancel'; j: number }
  | { t: 'permit' }
  | { t: 'finish' }
  | { t: 'cancel'; i: number }
  | { t: 'tryLock' }
  | { t: 'unlock' }
  | { t: 'unlockCancel' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<Kind>('wait', 'until').map((kind) => ({ t: 'spawn' as const, kind })) },
  { weight: 2, arbitrary: fc.constant({ t: 'notifyOne' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'notifyAll' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'notifyOneCancel' as const }) },
  { weight: 1, arbitrary: fc.nat(7).map((j) => ({ t: 'notifyAllCancel' as const, j })) },
  { weight: 1, arbitrary: fc.constant({ t: 'permit' as const }) },
  { weight: 3, arbitrary: fc.constant({ t: 'finish' as const }) },
  { weight: 2, arbitrary: fc.nat(15).map((i) => ({ t: 'cancel' as const, i })) },
  { weight: 1, arbitrary: fc.constant({ t: 'tryLock' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'unlock' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'unlockCancel' as const }) },
);

type Phase = 'lock' | 'cv' | 'relock' | 'holding' | 'cleanup' | 'done';
/** Fiber index, or -1 for the test fiber (tryLock). */
type Who = number;

class CondModel {
  owner: Who | null = null;
  mq: Who[] = [];
  cvq: Who[] = [];
  phase: Phase[] = [];
  kind: Kind[] = [];
  permits = 0;
  woke = new Set<Who>();
  /** Whether each fiber's finally ran holding the mutex (absent: it never ran). */
  finals = new Map<Who, boolean>();

  /** Let the mutex go to its waiters until it is held or nobody waits. */
  giveMutex(): void {
    while (this.owner === null && this.mq.length > 0) {
      const k = this.mq.shift()!;
      this.owner = k;
      const ph = this.phase[k];
      if (ph === 'cleanup') {
        this.finals.set(k, true);
        this.phase[k] = 'done';
        this.owner = null;
      } else if (ph === 'lock' || ph === 'relock') {
        const mustWait = this.kind[k] === 'wait' ? ph === 'lock' : this.permits === 0;
        if (mustWait) {
          this.phase[k] = 'cv';
          this.cvq.push(k);
          this.owner = null;
        } else {
          if (this.kind[k] === 'until') this.permits--;
          this.phase[k] = 'holding';
          this.woke.add(k);
        }
      } else {
        throw new Error(`model broken: fiber ${k} in phase ${ph} queued on the mutex`);
      }
    }
  }
  spawn(kind: Kind): number {
    const k = this.phase.length;
    this.phase.push('lock');
    this.kind.push(kind);
    this.mq.push(k);
    this.giveMutex();
    return k;
  }
  /** Wake `k` (already taken off `cvq`); `cancelled`: cancelled before it ran. */
  wake(k: Who, cancelled: boolean): void {
    this.phase[k] = cancelled ? 'cleanup' : 'relock';
    this.mq.push(k);
  }
  notifyOne(): Who | undefined {
    const k = this.cvq.shift();
    if (k !== undefined) this.wake(k, false);
    this.giveMutex();
    return k;
  }
  /** Cancel fiber `k`, whatever it is doing. */
  cancel(k: Who): void {
    switch (this.phase[k]) {
      case 'lock':
        this.mq = this.mq.filter((x) => x !== k);
        this.phase[k] = 'done';
        break;
      case 'cv':
        this.cvq = this.cvq.filter((x) => x !== k);
        this.wake(k, true);
        break;
      case 'relock': // keeps its place in the mutex queue; its finally will hold the lock
        this.phase[k] = 'cleanup';
        break;
      case 'holding':
        this.owner = null;
        this.finals.set(k, true);
        this.phase[k] = 'done';
        break;
      case 'cleanup': // already unwinding: cancellation is a no-op
      case 'done':
        break;
    }
    this.giveMutex();
  }
}

describe('Condvar model-based (fast-check)', () => {
  it('wake order, mutex hand-offs and cancellation match a FIFO reference', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmdArb, { maxLength: 50, size: 'max' }), async (cmds) => {
        await runTest(function* () {
          const m = new Mutex();
          const cv = new Condvar();
          const model = new CondModel();
          const tasks: Task<void>[] = [];
          const gates: Gate[] = [];
          const index = new Map<number, number>(); // fiber id -> index
          const woke = new Set<number>();
          const finals = new Map<number, boolean>();
          const me = currentFiber()!.id;
          let permits = 0;
          let own: MutexGuard | undefined;

          /** Fibers the test may cancel now. */
          const cancellable = (): number[] =>
            model.phase.flatMap((p, k) => {
              if (p === 'done' || p === 'cleanup') return [];
              return [k];
            });

          for (const cmd of cmds) {
            switch (cmd.t) {
              case 'spawn': {
                const gate = new Gate();
                const kind = cmd.kind;
                const k = tasks.length;
                gates.push(gate);
                const t = spawn(function* () {
                  const g = yield* m.lock();
                  try {
                    if (kind === 'wait') yield* cv.wait(g);
                    else {
                      yield* cv.waitUntil(g, () => permits > 0);
                      permits--;
                    }
                    expect(g.held).toBe(true);
                    woke.add(k);
                    yield* gate.wait();
                  } finally {
                    finals.set(k, g.held);
                    g.release();
                  }
                });
                tasks.push(t);
                index.set(t.id, k);
                model.spawn(kind);
                break;
              }
              case 'notifyOne': {
                const expected = model.cvq.length > 0;
                expect(cv.notifyOne()).toBe(expected);
                model.notifyOne();
                break;
              }
              case 'notifyAll': {
                const woken = model.cvq.splice(0);
                expect(cv.notifyAll()).toBe(woken.length);
                for (const k of woken) model.wake(k, false);
                model.giveMutex();
                break;
              }
              case 'notifyOneCancel': {
                // The chosen waiter dies before it runs: the notification goes to the next one.
                const k = model.cvq.shift();
                expect(cv.notifyOne()).toBe(k !== undefined);
                if (k === undefined) break;
                tasks[k].cancel();
                model.wake(k, true);
                model.notifyOne();
                break;
              }
              case 'notifyAllCancel': {
                const woken = model.cvq.splice(0);
                expect(cv.notifyAll()).toBe(woken.length);
                if (woken.length === 0) break;
                const victim = woken[cmd.j % woken.length];
                tasks[victim].cancel();
                for (const k of woken) model.wake(k, k === victim); // notifyAll hands nothing on
                model.giveMutex();
                break;
              }
              case 'permit':
                permits++;
                model.permits++;
                break;
              case 'finish': {
                // The fiber holding the mutex after its wait leaves normally (unlocking).
                const k = model.owner;
                if (k === null || k < 0) break;
                gates[k].open();
                model.owner = null;
                model.finals.set(k, true);
                model.phase[k] = 'done';
                model.giveMutex();
                break;
              }
              case 'cancel': {
                const ks = cancellable();
                if (ks.length === 0) break;
                const k = ks[cmd.i % ks.length];
                tasks[k].cancel();
                model.cancel(k);
                break;
              }
              case 'tryLock': {
                const g = m.tryLock();
                expect(g !== undefined).toBe(model.owner === null);
                if (g !== undefined) {
                  if (own !== undefined) throw new Error('model broken: test holds the mutex twice');
                  own = g;
                  model.owner = -1;
                }
                break;
              }
              case 'unlock':
              case 'unlockCancel': {
                if (own === undefined) break;
                own.release();
                own = undefined;
                model.owner = null;
                const next = model.mq[0];
                if (cmd.t === 'unlockCancel' && next !== undefined) {
                  // Cancel the fiber the mutex was just handed to, before it runs.
                  expect(m.holder).toBe(tasks[next].id);
                  tasks[next].cancel();
                  const ph = model.phase[next];
                  if (ph === 'lock') {
                    model.mq.shift(); // a cancelled lock waiter passes the lock on
                    model.phase[next] = 'done';
                  } else if (ph === 'relock') {
                    model.phase[next] = 'cleanup'; // keeps the lock it was handed; its finally holds it
                  } // 'cleanup': already unwinding, the cancel does nothing
                }
                model.giveMutex();
                break;
              }
            }
            yield* settle(40);

            expect(cv.waiting).toBe(model.cvq.length);
            const holder = m.holder;
            expect(holder === undefined ? null : holder === me ? -1 : index.get(holder)).toBe(model.owner);
            expect(m.waiters.map((id) => index.get(id))).toEqual(model.mq);
            expect([...woke].sort()).toEqual([...model.woke].sort());
            expect(new Map([...finals].sort())).toEqual(new Map([...model.finals].sort()));
            expect(permits).toBe(model.permits);
            if (model.owner === -1 && own === undefined) throw new Error('model broken');
          }

          // Wind down without cancelling anyone: every fiber is woken, passes its gate and
          // unlocks.
          own?.release();
          permits += tasks.length;
          for (const g of gates) g.open();
          for (let round = 0; round < 2 * tasks.length + 2 && !tasks.every((t) => t.done); round++) {
            cv.notifyAll();
            yield* settle(40);
          }
          for (const t of tasks) expect(t.done).toBe(true);
          expect(m.locked).toBe(false);
          expect(cv.waiting).toBe(0);
        });
      }),
      { numRuns: MODEL_RUNS },
    );
  });
});
