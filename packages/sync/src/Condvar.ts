import type { Operation } from '@rioco/core';
import type { MutexGuard, MutexOptions } from './Mutex.js';
import { Condvar as CondvarImpl } from './internal/condvar.js';

/**
 * A condition variable: fibers holding a {@link (Mutex:interface)} wait for a condition
 * other fibers signal.
 *
 * @remarks
 * `wait(guard)` releases the guard's mutex and parks in one step (no notification sent
 * in between can be missed), and re-acquires the mutex before it returns. Waiters are
 * woken first come, first served. As everywhere, check the condition in a loop (or use
 * {@link (Condvar:interface).waitUntil}): another fiber may change it between the notification and
 * the moment the woken fiber holds the mutex again.
 *
 * @example
 * ```ts
 * const m = new Mutex();
 * const nonEmpty = new Condvar();
 * function* take(): Operation<Job> {
 *   using g = yield* m.lock();
 *   yield* nonEmpty.waitUntil(g, () => queue.length > 0);
 *   return queue.shift()!;
 * }
 * function* put(j: Job): Operation<void> {
 *   using g = yield* m.lock();
 *   queue.push(j);
 *   nonEmpty.notifyOne();
 * }
 * ```
 * @public
 */
export interface Condvar {
  /** The name given in the options, if any. */
  readonly name: string | undefined;
  /** Number of fibers waiting now. */
  readonly waiting: number;

  /**
   * Release `guard`'s mutex, wait for a notification, then lock the mutex again (same
   * guard) and return.
   *
   * @remarks
   * Cancellation: a cancelled waiter still re-acquires the mutex before cancellation
   * unwinds further, so its `finally` blocks (and `using` disposal) run holding the
   * lock, as with pthread_cond_wait; one already queued for the mutex keeps its place.
   * When it had to wait for the mutex, `wait` then unwinds by throwing `CancelledError`
   * (code `CANCELLED`; a `catch` around it sees it and should rethrow it), so the code
   * after `wait` never runs in a cancelled fiber. A waiter cancelled after `notifyOne`
   * chose it, before it ran, passes the notification to the next waiter, so none is
   * lost.
   * @throws {@link NotOwnerError} (code `NOT_OWNER`) unless `guard` holds its mutex for
   *   the calling fiber (a released guard, or one another fiber holds); InvalidArgumentError
   *   if it is not a guard from `mutex.lock()`.
   */
  wait(guard: MutexGuard): Operation<void>;
  /**
   * Wait (as {@link (Condvar:interface).wait}) until `predicate()` is true; returns at once
   * if it is. `guard` is checked as for `wait` either way.
   */
  waitUntil(guard: MutexGuard, predicate: () => boolean): Operation<void>;
  /** Wake the longest-waiting fiber; `false` if none was waiting. */
  notifyOne(): boolean;
  /** Wake every waiting fiber; returns how many. */
  notifyAll(): number;
}

/**
 * Create a {@link (Condvar:interface)}: `new Condvar()`.
 * @example
 * ```ts
 * const ready = new Condvar({ name: 'ready' });
 * ready.notifyAll();
 * ```
 * @public
 */
export const Condvar: new (options?: MutexOptions) => Condvar = CondvarImpl;
