/**
 * Mutex implementation: an owner pointer and an intrusive FIFO list of waiting guards.
 *
 * Invariants:
 * - `owner` is the guard that holds the lock, or null; `owner === null` implies the wait
 *   list is empty (a release hands the lock to the first waiter directly, so a newcomer
 *   can never barge past a waiter);
 * - ownership changes only in `release` (handoff) and when an acquisition completes at
 *   once; the releaser sets `owner` and the guard's state before resuming it, so the
 *   handed-to fiber holds the lock from that instant;
 * - a guard cancelled while linked is unlinked by its teardown and was handed nothing; a
 *   guard handed the lock and cancelled before it ran (state GRANTED) gets `return()` at
 *   its `yield*` and releases at once, handing the lock on. So a cancelled waiter never
 *   ends up holding the lock, and a handoff is never lost.
 *
 * A guard is the lock operation, the wait-list node and the guard the user holds (one
 * allocation per lock). Its states are those of states.ts: GRANTED means "handed the
 * lock while parked, not yet running", HELD means the fiber has the guard in hand, DONE
 * means fresh or released (a released guard may lock again).
 */
import {
  currentFiber,
  InvalidArgumentError,
  suspend,
  waitReason,
  type Instruction,
  type Operation,
  type Resume,
  type Teardown,
  type Suspension,
} from '@rioco/core';
import type { Mutex as PublicMutex, MutexGuard, MutexOptions } from '../Mutex.js';
import { NotOwnerError } from '../errors.js';
import { WaitList, type Node } from './list.js';
import { guardNext, parkedNow, ready, returned, type Step } from './coop.js';
import { S_DONE, S_GRANTED, S_HELD, S_PARKING_SYNC, S_PARKING_TRIED, S_QUEUED, S_START } from './states.js';
import { pinMaps } from './maps.js';

export const LOCK = waitReason('mutex.lock');


let parking: LockGuard | null = null;

export function checkName(options: { name?: string } | undefined, what: string): string | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${what} options must be an object`);
  const name = options.name;
  if (name !== undefined && typeof name !== 'string') throw new InvalidArgumentError(`${what} option "name" must be a string`);
  return name;
}

export function busy(): InvalidArgumentError {
  return new InvalidArgumentError('this guard is already acquiring or holding its lock; call lock() again for a new one');
}

export class Mutex implements PublicMutex {
  readonly name: string | undefined;
  owner: LockGuard | null = null;
  readonly q = new WaitList<LockGuard>();
  private susp: Suspension<unknown> | null = null;

  constructor(options?: MutexOptions) {
    this.name = checkName(options, 'Mutex');
  }

  get locked(): boolean {
    return this.owner !== null;
  }

  get holder(): number | undefined {
    return this.owner === null ? undefined : this.owner.fiberId;
  }

  get waiters(): number[] {
    const out: number[] = [];
    for (let n = this.q.head; n !== null; n = n.qNext as LockGuard | null) out.push(n.fiberId);
    return out;
  }

  lock(): Operation<MutexGuard> {
    return new LockGuard(this);
  }

  tryLock(): MutexGuard | undefined {
    if (this.owner !== null) return undefined;
    const g = new LockGuard(this);
    g.fiberId = currentFiber()?.id ?? 0;
    g.st = S_HELD;
    this.owner = g;
    return g;
  }

  unlock(): void {
    const g = this.owner;
    const me = currentFiber();
    if (g === null) throw new NotOwnerError(`${this.describe()} is not locked; unlock() only releases a lock this fiber holds`);
    if (me === undefined || me.id !== g.fiberId) {
      throw new NotOwnerError(
        `${this.describe()} is held by fiber #${g.fiberId}, not by ${me === undefined ? 'code outside fibers' : `fiber #${me.id}`}; ` +
          'only the holder may unlock it (or release the guard it got)',
      );
    }
    this.release(g);
  }

  /** Release `g` if it holds the lock (idempotent), handing it to the first waiter. */
  release(g: LockGuard): void {
    if (this.owner !== g) return;
    g.st = S_DONE;
    const w = this.q.shift();
    if (w === null) {
      this.owner = null;
      return;
    }
    this.owner = w;
    w.st = S_GRANTED;
    const r = w.resume as Resume<unknown>;
    w.resume = null;
    r.ok(w);
  }

  suspension(): Suspension<unknown> {
    return (this.susp ??= suspend(registerLock, { reason: LOCK, target: this, internal: true, reuseResume: true }) as Suspension<unknown>);
  }

  describe(): string {
    return this.name === undefined ? 'the mutex' : `mutex "${this.name}"`;
  }

  toString(): string {
    return `Mutex(${this.name ?? ''})`;
  }
}

export class LockGuard implements Node, MutexGuard {
  qPrev: Node | null = null;
  qNext: Node | null = null;
  list: WaitList<Node> | null = null;
  st = S_DONE;
  readonly mutex: Mutex;
  /** The fiber that acquired (or is acquiring) the lock, for `holder` and unlock checks. */
  fiberId = 0;
  resume: Resume<unknown> | null = null;

  constructor(m: Mutex) {
    this.mutex = m;
  }

  get held(): boolean {
    return this.mutex.owner === this;
  }

  release(): void {
    this.mutex.release(this);
  }

  [Symbol.dispose](): void {
    this.mutex.release(this);
  }

  [Symbol.iterator](): this {
    // A released guard may lock again (Condvar.wait relocks the caller's guard this way).
    if (this.st !== S_DONE) throw busy();
    this.st = S_START;
    return this;
  }

  next(token?: unknown): Step<LockGuard> {
    return guardNext(this, token, busy);
  }

  attempt(): Step<LockGuard> {
    const m = this.mutex;
    if (m.owner === null) {
      m.owner = this;
      this.st = S_HELD;
      return ready(this);
    }
    return this.park(S_PARKING_TRIED);
  }

  park(st: number): Step<LockGuard> {
    this.st = st;
    parking = this;
    return this.mutex.suspension();
  }

  return(value?: unknown): IteratorResult<Instruction, LockGuard> {
    const st = this.st;
    if (st === S_GRANTED || st === S_HELD) {
      // Handed the lock, cancelled before running: pass it on.
      this.mutex.release(this);
    } else if (st === S_QUEUED) {
      this.mutex.q.remove(this);
      this.resume = null;
    }
    this.st = S_DONE;
    return returned(value as LockGuard);
  }

  throw(e: unknown): IteratorResult<Instruction, never> {
    this.return();
    throw e;
  }

  /** Teardown of a park (core calls it when the fiber is cancelled first). */
  cancel(): void {
    this.cancelWait();
  }

  cancelWait(): void {
    if (this.st !== S_QUEUED) return;
    this.st = S_DONE;
    this.mutex.q.remove(this);
    this.resume = null;
  }
}

function registerLock(resume: Resume<unknown>): Teardown | void {
  const g = parking as LockGuard;
  parking = null;
  const m = g.mutex;
  if (g.st === S_PARKING_SYNC && m.owner === null) {
    m.owner = g;
    g.st = S_GRANTED;
    resume.ok(g);
    return;
  }
  parkedNow();
  g.st = S_QUEUED;
  g.resume = resume;
  m.q.push(g);
  return g; // its cancel() undoes the wait: no closure per park
}

// Pin the maps of the hot records (see maps.ts).
{
  const m = new Mutex({ name: 'pinned' });
  pinMaps(m, new LockGuard(m));
}
