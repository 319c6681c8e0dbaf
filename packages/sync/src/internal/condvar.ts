/**
 * Condvar implementation: a FIFO list of waiters, each remembering the mutex guard it
 * released.
 *
 * Invariants:
 * - a waiter is linked *before* its mutex is released, both inside register, so a
 *   notification sent by the fiber that takes the mutex next cannot be missed (no lost
 *   wakeup), and a fiber whose cancellation was pending never releases the mutex;
 * - `notifyOne` wakes the longest waiter and marks the grant as one to hand on: a waiter
 *   cancelled after it was notified, before it ran, passes the notification to the next
 *   waiter (`abandon`), so a notifyOne is never swallowed by a dying fiber;
 * - whatever happens (notified, cancelled), `wait` re-acquires the mutex before it
 *   returns or unwinds, so the caller's `finally` blocks run holding the lock again, as
 *   with pthread_cond_wait and asyncio.Condition.
 */
import { InvalidArgumentError, currentFiber, suspend, waitReason, type Instruction, type Operation, type Suspension } from '@rioco/core';
import type { Condvar as PublicCondvar } from '../Condvar.js';
import type { MutexGuard, MutexOptions } from '../Mutex.js';
import { NotOwnerError } from '../errors.js';
import { WaitList } from './list.js';
import { LockGuard, checkName } from './mutex.js';
import { Waiter, registerWaiter, type WaitOwner } from './waiter.js';
import { pinMaps } from './maps.js';

const WAIT = waitReason('condvar.wait');

export class Condvar implements PublicCondvar, WaitOwner {
  readonly name: string | undefined;
  readonly q = new WaitList<Waiter>();
  readonly susp: Suspension<unknown>;

  constructor(options?: MutexOptions) {
    this.name = checkName(options, 'Condvar');
    this.susp = suspend(registerWaiter, { reason: WAIT, target: this, internal: true }) as Suspension<unknown>;
  }

  get waiting(): number {
    return this.q.size;
  }

  wait(guard: MutexGuard): Operation<void> {
    return condWait(this, checkGuard(guard, 'wait'));
  }

  waitUntil(guard: MutexGuard, predicate: () => boolean): Operation<void> {
    const g = checkGuard(guard, 'waitUntil');
    if (typeof predicate !== 'function') throw new InvalidArgumentError('Condvar.waitUntil needs a predicate function');
    return waitUntil(this, g, predicate);
  }

  notifyOne(): boolean {
    const w = this.q.shift();
    if (w === null) return false;
    w.grant(undefined, true);
    return true;
  }

  notifyAll(): number {
    let n = 0;
    let w: Waiter | null;
    while ((w = this.q.shift()) !== null) {
      w.grant(undefined, false);
      n++;
    }
    return n;
  }

  parked(w: Waiter): void {
    const g = w.data as LockGuard;
    g.mutex.release(g);
  }

  withdraw(): void {}

  abandon(): void {
    this.notifyOne();
  }

  toString(): string {
    return `Condvar(${this.name ?? ''})`;
  }
}

/** A guard this fiber may wait with: from `mutex.lock()`, holding, held by the caller. */
function checkGuard(guard: MutexGuard, method: string): LockGuard {
  if (!(guard instanceof LockGuard)) throw new InvalidArgumentError(`Condvar.${method} needs the guard returned by mutex.lock()`);
  if (!guard.held) throw new NotOwnerError(`Condvar.${method} needs a guard that holds its mutex; this one was released`);
  const me = currentFiber();
  if (me === undefined || me.id !== guard.fiberId) {
    throw new NotOwnerError(
      `Condvar.${method}: ${guard.mutex.describe()} is held by fiber #${guard.fiberId}, not by ${me === undefined ? 'code outside fibers' : `fiber #${me.id}`}; ` +
        'only the holder may wait with its guard',
    );
  }
  return guard;
}

function* condWait(cv: Condvar, g: LockGuard): Generator<Instruction, void, unknown> {
  const w = new Waiter(cv, cv.susp, g);
  try {
    yield* w;
  } finally {
    // Relock the caller's guard, even when unwinding from cancellation.
    if (w.linked) yield* g;
  }
}

function* waitUntil(cv: Condvar, g: LockGuard, predicate: () => boolean): Generator<Instruction, void, unknown> {
  while (!predicate()) yield* cv.wait(g);
}

// Pin the map (see maps.ts).
pinMaps(new Condvar({ name: 'pinned' }));
