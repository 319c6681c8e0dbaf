/**
 * Semaphore implementation: a permit count, a FIFO wait list of permit requests and the
 * list of permits held now.
 *
 * Invariants:
 * - `available + (sum of remaining over held permits) === permits` at all times (each
 *   released unit goes back exactly once; a permit cannot release more than it holds);
 * - strictly FIFO: a request acquires at once only if the wait list is empty, and
 *   `grant` serves the head while it fits, stopping at the first request that does not
 *   (no barging: a large request at the head is never overtaken by small ones, so it
 *   cannot starve);
 * - as for Mutex, the releaser moves the permits to the request before resuming it; a
 *   request cancelled after it was granted (state GRANTED) gives its permits back at
 *   once in `return()`; one cancelled while queued is unlinked (and if it was the head,
 *   the requests behind it are reconsidered).
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
import type { Semaphore as PublicSemaphore, Permit as PublicPermit, SemaphoreOptions } from '../Semaphore.js';
import { OverReleaseError } from '../errors.js';
import { WaitList, type Node } from './list.js';
import { guardNext, parkedNow, ready, returned, type Step } from './coop.js';
import { S_DONE, S_GRANTED, S_HELD, S_PARKING_SYNC, S_PARKING_TRIED, S_QUEUED, S_START } from './states.js';
import { busy, checkName } from './mutex.js';
import { pinMaps } from './maps.js';

const ACQUIRE = waitReason('semaphore.acquire');


let parking: Permit | null = null;

export class Semaphore implements PublicSemaphore {
  readonly name: string | undefined;
  readonly permits: number;
  avail: number;
  readonly q = new WaitList<Permit>();
  readonly holding = new WaitList<Permit>();
  private susp: Suspension<unknown> | null = null;

  constructor(permits: number, options?: SemaphoreOptions) {
    if (typeof permits !== 'number' || !Number.isInteger(permits) || permits < 1) {
      throw new InvalidArgumentError(`a semaphore needs an integer number of permits >= 1, got ${String(permits)}`);
    }
    this.permits = permits;
    this.avail = permits;
    this.name = checkName(options, 'Semaphore');
  }

  get available(): number {
    return this.avail;
  }

  get holders(): number[] {
    const out: number[] = [];
    for (let n = this.holding.head; n !== null; n = n.qNext as Permit | null) out.push(n.fiberId);
    return out;
  }

  get waiters(): number[] {
    const out: number[] = [];
    for (let n = this.q.head; n !== null; n = n.qNext as Permit | null) out.push(n.fiberId);
    return out;
  }

  private check(n: number): void {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > this.permits) {
      throw new InvalidArgumentError(
        `acquire(n) needs an integer n from 1 to ${this.permits} (the semaphore's permits), got ${String(n)}`,
      );
    }
  }

  acquire(n = 1): Operation<PublicPermit> {
    this.check(n);
    return new Permit(this, n);
  }

  tryAcquire(n = 1): PublicPermit | undefined {
    this.check(n);
    if (this.q.head !== null || this.avail < n) return undefined;
    const p = new Permit(this, n);
    p.fiberId = currentFiber()?.id ?? 0;
    this.take(p);
    p.st = S_HELD;
    return p;
  }

  take(p: Permit): void {
    this.avail -= p.n;
    p.remaining = p.n;
    this.holding.push(p);
  }

  /** Give `k` of `p`'s permits back and serve the waiters that now fit. */
  give(p: Permit, k: number): void {
    p.remaining -= k;
    this.avail += k;
    if (p.remaining === 0) {
      this.holding.remove(p);
      p.st = S_DONE;
    }
    this.grant();
  }

  grant(): void {
    let h: Permit | null;
    while ((h = this.q.head) !== null && h.n <= this.avail) {
      this.q.shift();
      this.take(h);
      h.st = S_GRANTED;
      const r = h.resume as Resume<unknown>;
      h.resume = null;
      r.ok(h);
    }
  }

  enqueue(p: Permit, resume: Resume<unknown>): Teardown | void {
    if (p.st === S_PARKING_SYNC && this.q.head === null && this.avail >= p.n) {
      this.take(p);
      p.st = S_GRANTED;
      resume.ok(p);
      return;
    }
    parkedNow();
    p.st = S_QUEUED;
    p.resume = resume;
    this.q.push(p);
    return p; // its cancel() undoes the wait: no closure per park
  }

  suspension(): Suspension<unknown> {
    return (this.susp ??= suspend(registerAcquire, { reason: ACQUIRE, target: this, internal: true, reuseResume: true }) as Suspension<unknown>);
  }

  toString(): string {
    return `Semaphore(${this.name ?? this.permits})`;
  }
}

export class Permit implements Node, PublicPermit {
  qPrev: Node | null = null;
  qNext: Node | null = null;
  list: WaitList<Node> | null = null;
  st = S_DONE;
  readonly semaphore: Semaphore;
  readonly n: number;
  remaining = 0;
  fiberId = 0;
  resume: Resume<unknown> | null = null;

  constructor(s: Semaphore, n: number) {
    this.semaphore = s;
    this.n = n;
  }

  get count(): number {
    return this.remaining;
  }

  release(k?: number): void {
    const rem = this.remaining;
    if (k === undefined) {
      if (rem > 0) this.semaphore.give(this, rem);
      return;
    }
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0) {
      throw new InvalidArgumentError(`release(k) needs an integer k >= 0, got ${String(k)}`);
    }
    if (k > rem) {
      throw new OverReleaseError(`cannot release ${k} permit(s): this permit holds ${rem} (acquired ${this.n})`);
    }
    if (k > 0) this.semaphore.give(this, k);
  }

  [Symbol.dispose](): void {
    this.release();
  }

  [Symbol.iterator](): this {
    if (this.st !== S_DONE || this.remaining !== 0) throw busy();
    this.st = S_START;
    return this;
  }

  next(token?: unknown): Step<Permit> {
    return guardNext(this, token, busy);
  }

  attempt(): Step<Permit> {
    const s = this.semaphore;
    if (s.q.head === null && s.avail >= this.n) {
      s.take(this);
      this.st = S_HELD;
      return ready(this);
    }
    return this.park(S_PARKING_TRIED);
  }

  park(st: number): Step<Permit> {
    this.st = st;
    parking = this;
    return this.semaphore.suspension();
  }

  return(value?: unknown): IteratorResult<Instruction, Permit> {
    const st = this.st;
    if ((st === S_GRANTED || st === S_HELD) && this.remaining > 0) this.semaphore.give(this, this.remaining);
    else if (st === S_QUEUED) this.cancelWait();
    this.st = S_DONE;
    return returned(value as Permit);
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
    this.resume = null;
    const s = this.semaphore;
    const wasHead = s.q.head === this;
    s.q.remove(this);
    if (wasHead) s.grant();
  }
}

function registerAcquire(resume: Resume<unknown>): Teardown | void {
  const p = parking as Permit;
  parking = null;
  return p.semaphore.enqueue(p, resume);
}

// Pin the maps of the hot records (see maps.ts).
{
  const s = new Semaphore(1, { name: 'pinned' });
  pinMaps(s, new Permit(s, 1));
}
