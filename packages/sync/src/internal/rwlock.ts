/**
 * RwLock implementation: a reader count, a writer pointer, one FIFO wait list of guards
 * (readers and writers mixed, in arrival order) and the list of read guards held now.
 *
 * Invariants:
 * - `writer !== null` implies `readers === 0`;
 * - a reader acquires at once only if no writer holds the lock *and the wait list is
 *   empty*: a queued writer blocks every later reader, so writers never starve;
 * - when the lock becomes free (writer released, or the last reader left) `grant` admits
 *   the head of the list: one writer, or every reader up to the next writer. So a batch
 *   of readers that queued behind a writer gets in right after it, and readers never
 *   starve either; while readers hold, the head of the wait list (if any) is a writer;
 * - as for Mutex, the releaser records ownership before resuming a guard; a guard
 *   cancelled after it was granted (state GRANTED) releases at once in `return()`.
 */
import {
  currentFiber,
  suspend,
  waitReason,
  type Instruction,
  type Operation,
  type Resume,
  type Teardown,
  type Suspension,
} from '@rioco/core';
import type { RwLock as PublicRwLock, RwLockGuard } from '../RwLock.js';
import type { MutexOptions } from '../Mutex.js';
import { WaitList, type Node } from './list.js';
import { guardNext, parkedNow, ready, returned, type Step } from './coop.js';
import { S_DONE, S_GRANTED, S_HELD, S_PARKING_SYNC, S_PARKING_TRIED, S_QUEUED, S_START } from './states.js';
import { busy, checkName } from './mutex.js';
import { pinMaps } from './maps.js';

const READ = waitReason('rwlock.read');
const WRITE = waitReason('rwlock.write');


let parking: RwGuard | null = null;

/** Core's deadlock checks: every holder must release before a waiter can go on. */
const ALL_HOLDERS = Symbol.for('rioco.allHolders');

export class RwLock implements PublicRwLock {
  readonly name: string | undefined;
  readerCount = 0;
  writer: RwGuard | null = null;
  /** Read guards holding the lock now (for `holders`). */
  readonly reading = new WaitList<RwGuard>();
  readonly q = new WaitList<RwGuard>();
  private suspRead: Suspension<unknown> | null = null;
  private suspWrite: Suspension<unknown> | null = null;

  constructor(options?: MutexOptions) {
    this.name = checkName(options, 'RwLock');
  }

  get readers(): number {
    return this.readerCount;
  }

  get writeLocked(): boolean {
    return this.writer !== null;
  }

  /** A waiter needs every holder out: the writer, or all the readers (see ALL_HOLDERS). */
  get [ALL_HOLDERS](): boolean {
    return true;
  }

  get holders(): number[] {
    if (this.writer !== null) return [this.writer.fiberId];
    const out: number[] = [];
    for (let n = this.reading.head; n !== null; n = n.qNext as RwGuard | null) out.push(n.fiberId);
    return out;
  }

  get waiters(): number[] {
    const out: number[] = [];
    for (let n = this.q.head; n !== null; n = n.qNext as RwGuard | null) out.push(n.fiberId);
    return out;
  }

  read(): Operation<RwLockGuard> {
    return new RwGuard(this, false);
  }

  write(): Operation<RwLockGuard> {
    return new RwGuard(this, true);
  }

  tryRead(): RwLockGuard | undefined {
    if (!this.canAcquire(false)) return undefined;
    return this.acquireNow(new RwGuard(this, false), currentFiber()?.id ?? 0);
  }

  tryWrite(): RwLockGuard | undefined {
    if (!this.canAcquire(true)) return undefined;
    return this.acquireNow(new RwGuard(this, true), currentFiber()?.id ?? 0);
  }

  canAcquire(write: boolean): boolean {
    if (this.writer !== null || this.q.head !== null) return false;
    return !write || this.readerCount === 0;
  }

  acquireNow(g: RwGuard, fiberId: number): RwGuard {
    g.fiberId = fiberId;
    g.st = S_HELD;
    this.take(g);
    return g;
  }

  private take(g: RwGuard): void {
    if (g.write) {
      this.writer = g;
    } else {
      this.readerCount++;
      this.reading.push(g);
    }
  }

  /** Release `g` if it holds the lock (idempotent), then admit whoever can go next. */
  release(g: RwGuard): void {
    if (g.write) {
      if (this.writer !== g) return;
      this.writer = null;
    } else {
      if (!this.reading.remove(g)) return;
      this.readerCount--;
    }
    g.st = S_DONE;
    this.grant();
  }

  grant(): void {
    if (this.writer !== null) return;
    let h = this.q.head;
    if (h === null) return;
    if (h.write) {
      if (this.readerCount > 0) return;
      this.q.shift();
      this.handTo(h);
      return;
    }
    while (h !== null && !h.write) {
      this.q.shift();
      this.handTo(h);
      h = this.q.head;
    }
  }

  private handTo(g: RwGuard): void {
    this.take(g);
    g.st = S_GRANTED;
    const r = g.resume as Resume<unknown>;
    g.resume = null;
    r.ok(g);
  }

  /** Register side of a parked guard: acquire if allowed now (seeded scheduler), else queue. */
  enqueue(g: RwGuard, resume: Resume<unknown>): Teardown | void {
    if (g.st === S_PARKING_SYNC && this.canAcquire(g.write)) {
      this.take(g);
      g.st = S_GRANTED;
      resume.ok(g);
      return;
    }
    parkedNow();
    g.st = S_QUEUED;
    g.resume = resume;
    this.q.push(g);
    return g; // its cancel() undoes the wait: no closure per park
  }

  suspension(write: boolean): Suspension<unknown> {
    if (write) return (this.suspWrite ??= suspend(registerRw, { reason: WRITE, target: this, internal: true, reuseResume: true }) as Suspension<unknown>);
    return (this.suspRead ??= suspend(registerRw, { reason: READ, target: this, internal: true, reuseResume: true }) as Suspension<unknown>);
  }

  toString(): string {
    return `RwLock(${this.name ?? ''})`;
  }
}

export class RwGuard implements Node, RwLockGuard {
  qPrev: Node | null = null;
  qNext: Node | null = null;
  list: WaitList<Node> | null = null;
  st = S_DONE;
  readonly lock: RwLock;
  readonly write: boolean;
  fiberId = 0;
  resume: Resume<unknown> | null = null;

  constructor(lock: RwLock, write: boolean) {
    this.lock = lock;
    this.write = write;
  }

  get held(): boolean {
    return this.st === S_HELD || this.st === S_GRANTED;
  }

  release(): void {
    this.lock.release(this);
  }

  [Symbol.dispose](): void {
    this.lock.release(this);
  }

  [Symbol.iterator](): this {
    if (this.st !== S_DONE) throw busy();
    this.st = S_START;
    return this;
  }

  next(token?: unknown): Step<RwGuard> {
    return guardNext(this, token, busy);
  }

  attempt(): Step<RwGuard> {
    const l = this.lock;
    if (l.canAcquire(this.write)) return ready(l.acquireNow(this, this.fiberId));
    return this.park(S_PARKING_TRIED);
  }

  park(st: number): Step<RwGuard> {
    this.st = st;
    parking = this;
    return this.lock.suspension(this.write);
  }

  return(value?: unknown): IteratorResult<Instruction, RwGuard> {
    const st = this.st;
    if (st === S_GRANTED || st === S_HELD) this.lock.release(this);
    else if (st === S_QUEUED) this.cancelWait();
    this.st = S_DONE;
    return returned(value as RwGuard);
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
    const l = this.lock;
    const wasHead = l.q.head === this;
    l.q.remove(this);
    // A writer that left the head of the line may have been all that kept readers out.
    if (wasHead && this.write) l.grant();
  }
}

function registerRw(resume: Resume<unknown>): Teardown | void {
  const g = parking as RwGuard;
  parking = null;
  return g.lock.enqueue(g, resume);
}

// Pin the maps of the hot records (see maps.ts).
{
  const l = new RwLock({ name: 'pinned' });
  pinMaps(l, new RwGuard(l, false));
}
