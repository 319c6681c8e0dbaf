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
import { CancelledError, InvalidArgumentError, currentFiber, suspend, waitReason, type Instruction, type Operation, type Resume, type Suspension } from '@rioco/core';
import type { Condvar as PublicCondvar } from '../Condvar.js';
import type { MutexGuard, MutexOptions } from '../Mutex.js';
import { NotOwnerError } from '../errors.js';
import { WaitList } from './list.js';
import { LOCK, LockGuard, checkName } from './mutex.js';
import { Waiter, registerWaiter, type WaitOwner } from './waiter.js';
import { pinMaps } from './maps.js';
import { returned } from './coop.js';
import { S_HELD, S_QUEUED } from './states.js';

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
  let cancelled = true; // unless the wait ends normally or throws: a return() reached it
  try {
    yield* w;
    cancelled = false;
  } catch (e) {
    cancelled = false;
    throw e;
  } finally {
    // Relock the caller's guard, even when unwinding from cancellation.
    if (w.linked) yield* new Relock(g, cancelled);
  }
}

/**
 * Re-acquire a guard's mutex for Condvar.wait, whatever happens meanwhile.
 *
 * Cancellation cannot stop it, nor cost it its place: its wait has no teardown, and a
 * `return()` that arrives while it is queued parks again on the same queue entry with
 * the fiber's new resume handle. When the relock had to wait as part of a
 * cancellation, it ends by throwing CancelledError: JavaScript turns a pending return
 * into a normal completion at the first `yield*` whose delegate parked, so without the
 * throw the caller of `wait` would go on as if notified. (Core counts a cancelled fiber
 * that ends with CancelledError as cancelled.) A relock that completes at once leaves
 * the return to unwind as usual.
 */
class Relock {
  private readonly g: LockGuard;
  /** Relocking for a cancellation (or a cancellation arrived while relocking). */
  private cancelling: boolean;
  /** The fiber is parked on `susp` (the guard is queued, or was just handed the mutex). */
  private parked = false;
  /** What the fiber parks on (made on the first park: a relock usually completes at once). */
  private wait: Suspension<unknown> | null = null;

  constructor(g: LockGuard, cancelling: boolean) {
    this.g = g;
    this.cancelling = cancelling;
  }

  private get susp(): Suspension<unknown> {
    return (this.wait ??= suspend((resume) => this.register(resume), { reason: LOCK, target: this.g.mutex, internal: true }) as Suspension<unknown>);
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<Instruction, void> {
    const g = this.g;
    if (!this.parked) {
      const m = g.mutex;
      if (m.owner === null) {
        m.owner = g;
        g.st = S_HELD;
        return returned(undefined);
      }
      this.parked = true;
      return this.susp;
    }
    // Resumed: the mutex was handed over.
    this.parked = false;
    g.st = S_HELD;
    if (this.cancelling) throw new CancelledError('the fiber was cancelled in Condvar.wait (after it re-acquired the mutex)');
    return returned(undefined);
  }

  return(value?: unknown): IteratorResult<Instruction, void> {
    this.cancelling = true;
    if (!this.parked) return returned(value as void);
    const g = this.g;
    if (g.mutex.owner === g) {
      // Handed the mutex before the fiber ran: keep it (its finally blocks run holding it).
      this.parked = false;
      g.st = S_HELD;
      return returned(value as void);
    }
    return this.susp; // still queued: wait on, with the fiber's new resume handle
  }

  throw(e: unknown): IteratorResult<Instruction, never> {
    // Nothing fails a mutex wait; if something throws into it, leave the queue cleanly.
    const g = this.g;
    if (g.mutex.owner === g) g.st = S_HELD;
    else g.cancelWait();
    this.parked = false;
    throw e;
  }

  private register(resume: Resume<unknown>): void {
    const g = this.g;
    const m = g.mutex;
    if (m.owner === g || m.owner === null) {
      // Handed over while the fiber's previous park was being cancelled, or free again.
      m.owner = g;
      resume.ok(undefined);
      return;
    }
    g.resume = resume;
    if (g.st !== S_QUEUED) {
      g.st = S_QUEUED;
      m.q.push(g);
    }
    // No teardown: cancelling this wait keeps the queue entry (see return()).
  }
}

function* waitUntil(cv: Condvar, g: LockGuard, predicate: () => boolean): Generator<Instruction, void, unknown> {
  while (!predicate()) yield* cv.wait(g);
}

// Pin the map (see maps.ts).
pinMaps(new Condvar({ name: 'pinned' }));
