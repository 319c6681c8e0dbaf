/**
 * The shape of every blocking call: try to complete now; if it cannot, park on a
 * Waiter and try again when woken. Written as a hand-rolled iterator instead of a
 * generator so the common case (data already buffered, kernel accepted the write)
 * completes inside `yield*` without parking and without allocating a generator.
 *
 * Protocol (what `yield*` does with us):
 * - `[Symbol.iterator]()` starts one run: the deadline is fixed here, the signal checked.
 * - `next()` calls `attempt()`; a value other than NOT_READY ends the run. NOT_READY
 *   parks: we answer with the Waiter's suspension, which is its own iterator result
 *   (`{ done: false, value: itself }`), so a park allocates nothing here.
 * - the runtime resumes us with `next(token)`: we attempt again (and may park again,
 *   keeping the original deadline). `throw(err)` (timeout, abort, socket error) and
 *   `return()` (cancellation) end the run; the Waiter has already cleaned up.
 *
 * Invariant: `attempt()` is the only place that consumes anything, and it runs only
 * while the fiber is running, so a cancelled or failed wait never consumed a byte.
 *
 * Cooperative budget: calls that complete without parking are counted across all
 * fibers of the thread; every COOP_BUDGET-th one first yields to the scheduler (before
 * it takes effect, so cancellation at that point leaves nothing behind). A fiber that
 * reads from a stream that always has data still lets others run. Parking resets the
 * count.
 */
import { useScheduler, yieldNow, type Instruction, type Operation, type Scheduler } from '@rioco/core';
import { InvalidArgumentError } from '@rioco/core';
import type { WaitOptions } from '../WaitOptions.js';
import { abortedError, timeoutError, type Waiter } from './Waiter.js';

/** Returned by `attempt()` when the call cannot complete yet. */
export const NOT_READY: unique symbol = Symbol('rioco.net.notReady');
export type NotReady = typeof NOT_READY;

const DONE_UNDEFINED: Readonly<{ done: true; value: undefined }> = Object.freeze({ done: true, value: undefined });

/** Calls completed without parking between forced yields (tokio's budget is 128 too). */
export const COOP_BUDGET = 128;
let coop = COOP_BUDGET;
/**
 * A call about to complete without an operation record (a fast path) takes one unit of
 * the budget here; false when the budget is spent: the caller takes the slow path, whose
 * first `next()` yields.
 */
export function takeBudget(): boolean {
  if (coop > 1) {
    coop--;
    return true;
  }
  return false;
}

/** What a fast path returns from `[Symbol.iterator]()`: an iterator already done. */
export const COMPLETED: Iterator<Instruction, undefined, unknown> & Operation<undefined> = Object.freeze({
  next: () => DONE_UNDEFINED,
  [Symbol.iterator]() {
    return COMPLETED;
  },
});

/** Core's yield instruction: a Suspension is its own iterator result. */
const YIELD = yieldNow() as unknown as IteratorResult<Instruction, never>;

export abstract class BlockingOp<T> implements Operation<T>, Iterator<Instruction, T, unknown> {
  protected readonly options: WaitOptions | undefined;
  private deadline = Infinity;
  private scheduler: Scheduler | null = null;
  private res: { done: true; value: unknown } | null = null;
  /** The run has gone past its budget check. */
  private entered = false;

  constructor(options: WaitOptions | undefined) {
    if (options !== undefined) checkWaitOptions(options);
    this.options = options;
  }

  /** Complete now (return the value), or say NOT_READY. May throw the call's error. */
  protected abstract attempt(): T | NotReady;
  /** The Waiter to park on; called after `attempt()` said NOT_READY. */
  protected abstract waiter(): Waiter;
  /** Describes the call for error messages. */
  protected abstract what(): string;
  /**
   * The run ends without completing (timeout, abort, socket error, cancellation): undo
   * whatever `attempt()` started (destroy a half-open socket, pass a wake-up on).
   */
  protected abandon(): void {}
  /**
   * A run starts: reset per-run state. A hook instead of overriding
   * `[Symbol.iterator]`, whose `super[Symbol.iterator]()` is a keyed super access that
   * V8 runs through the runtime (measured on the write path of every message).
   */
  protected reset(): void {}

  [Symbol.iterator](): Iterator<Instruction, T, unknown> {
    const o = this.options;
    this.deadline = Infinity;
    this.entered = false;
    if (o !== undefined) {
      if (o.signal?.aborted) throw abortedError(this.what(), o.signal);
      if (o.timeout !== undefined && o.timeout !== Infinity) {
        const s = (this.scheduler = useScheduler());
        this.deadline = s.clock.now() + o.timeout;
      }
    }
    this.reset();
    return this;
  }

  next(): IteratorResult<Instruction, T> {
    if (!this.entered) {
      this.entered = true;
      if (--coop === 0) {
        coop = COOP_BUDGET;
        return YIELD; // the scheduler resumes us with next(): the attempt comes then
      }
    }
    const v = this.attempt();
    if (v !== NOT_READY) {
      // `yield*` reads `done` and `value` at once and keeps neither: void results share
      // one object, and an op reuses its own (the per-stream read op runs many times).
      if (v === undefined) return DONE_UNDEFINED as IteratorResult<Instruction, T>;
      const res = (this.res ??= { done: true, value: undefined });
      res.value = v;
      return res as IteratorResult<Instruction, T>;
    }
    if (this.res !== null) this.res.value = undefined; // a parked op must not pin the previous chunk
    const w = this.waiter();
    const o = this.options;
    w.deadline = this.deadline;
    if (o === undefined) {
      w.signal = undefined;
    } else {
      w.signal = o.signal;
      if (this.deadline !== Infinity) {
        const s = this.scheduler as Scheduler;
        if (this.deadline <= s.clock.now()) {
          w.onLeave?.(); // it was put in its list by waiter(), and never parked
          this.abandon();
          throw timeoutError(this.what());
        }
        w.scheduler = s;
      }
    }
    coop = COOP_BUDGET; // the fiber gives the CPU away
    // A Suspension is its own iterator result: `{ done: false, value: itself }`.
    return w.op as unknown as IteratorResult<Instruction, T>;
  }

  throw(err: unknown): IteratorResult<Instruction, T> {
    this.abandon();
    throw err;
  }

  return(value?: unknown): IteratorResult<Instruction, T> {
    this.abandon();
    return { done: true, value: value as T };
  }
}

/** Validate a WaitOptions object at the call (bad input fails before anything happens). */
export function checkWaitOptions(o: WaitOptions): void {
  if (o === null || typeof o !== 'object') throw new InvalidArgumentError('options must be an object');
  const t = o.timeout;
  if (t !== undefined && (typeof t !== 'number' || Number.isNaN(t) || t < 0)) {
    throw new InvalidArgumentError(`timeout must be a number of milliseconds >= 0, got ${String(t)}`);
  }
  const s = o.signal;
  if (s !== undefined && (s === null || typeof s !== 'object' || typeof s.addEventListener !== 'function')) {
    throw new InvalidArgumentError('signal must be an AbortSignal');
  }
}
