/**
 * A parked fiber of the simpler primitives (Condvar, Barrier, WaitGroup, Once): one
 * record per wait, linked in its owner's FIFO list until someone grants it.
 *
 * Invariants:
 * - the record is linked only between register and grant/teardown (state QUEUED);
 * - `grant(value, handOn)` is called by the owner after it unlinked the record; with
 *   `handOn` the grant carries something another waiter needs if this one is cancelled
 *   before it runs (a condvar notification, the turn to run a Once initializer): the
 *   record is GRANTED, and `return()` calls `owner.abandon` to pass it on;
 * - `owner.parked` runs in register, only when the fiber really parks (never for a fiber
 *   whose cancellation was already pending), and `owner.withdraw` exactly when a QUEUED
 *   record is cancelled, so owners can count arrivals precisely.
 */
import { currentFiber, type Instruction, type Resume, type Suspension, type Teardown } from '@rioco/core';
import { WaitList, type Node } from './list.js';
import { YIELD, parkedNow, returned, takeResumed } from './coop.js';
import { S_DONE, S_GRANTED, S_PARKING_TRIED, S_QUEUED, S_RESUMED, S_START } from './states.js';
import { busy } from './mutex.js';
import { generalize, pinMaps } from './maps.js';

export interface WaitOwner {
  readonly q: WaitList<Waiter>;
  /** The waiter was linked (its fiber parks now). */
  parked(w: Waiter): void;
  /** A linked waiter was cancelled and unlinked. */
  withdraw(w: Waiter): void;
  /** A waiter granted with `handOn` was cancelled before it ran. */
  abandon(w: Waiter): void;
}

let parking: Waiter | null = null;

export class Waiter implements Node {
  qPrev: Node | null = null;
  qNext: Node | null = null;
  list: WaitList<Node> | null = null;
  st = S_START;
  readonly owner: WaitOwner;
  readonly susp: Suspension<unknown>;
  /** Owner-specific payload (Condvar: the guard it released). */
  readonly data: unknown;
  fiberId = 0;
  /** Set once the record was linked (register ran). */
  linked = false;
  resume: Resume<unknown> | null = null;

  constructor(owner: WaitOwner, susp: Suspension<unknown>, data?: unknown) {
    this.owner = owner;
    this.susp = susp;
    this.data = data;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(token?: unknown): IteratorResult<Instruction, unknown> {
    switch (this.st) {
      case S_START:
        this.fiberId = currentFiber()?.id ?? 0;
        this.st = S_PARKING_TRIED;
        parking = this;
        return this.susp;
      case S_GRANTED:
      case S_RESUMED:
        this.st = S_DONE;
        return takeResumed(token);
      default:
        throw busy();
    }
  }

  grant(value: unknown, handOn: boolean): void {
    this.st = handOn ? S_GRANTED : S_RESUMED;
    const r = this.resume as Resume<unknown>;
    this.resume = null;
    r.ok(value);
  }

  return(value?: unknown): IteratorResult<Instruction, unknown> {
    const st = this.st;
    this.st = S_DONE;
    if (st === S_GRANTED) this.owner.abandon(this);
    else if (st === S_QUEUED) this.withdrawNow();
    return returned(value);
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
    this.withdrawNow();
  }

  private withdrawNow(): void {
    this.resume = null;
    this.owner.q.remove(this);
    this.owner.withdraw(this);
  }
}

/** The register function of every Waiter suspension. */
export function registerWaiter(resume: Resume<unknown>): Teardown | void {
  const w = parking as Waiter;
  parking = null;
  parkedNow();
  w.st = S_QUEUED;
  w.linked = true;
  w.resume = resume;
  w.owner.q.push(w);
  w.owner.parked(w);
  return w; // its cancel() undoes the wait: no closure per park
}

// Pin the map of the record (see maps.ts); its owner-specific payload may be anything.
{
  const owner: WaitOwner = { q: new WaitList<Waiter>(), parked() {}, withdraw() {}, abandon() {} };
  const w = new Waiter(owner, YIELD, 0.5);
  generalize(w, 'data');
  pinMaps(w);
}
