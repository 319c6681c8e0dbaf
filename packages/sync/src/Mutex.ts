import type { Operation } from '@rioco/core';
import { Mutex as MutexImpl } from './internal/mutex.js';

/**
 * Options of {@link (Mutex:variable)}, {@link (RwLock:variable)} and the other locks.
 * @example
 * ```ts
 * const m = new Mutex({ name: 'accounts' }); // deadlock reports say "mutex.lock (accounts)"
 * ```
 * @public
 */
export interface MutexOptions {
  /** Shown in deadlock reports and dumps next to the wait reason (`mutex.lock (db)`). */
  name?: string;
}

/**
 * Proof of holding a {@link (Mutex:interface)}. Release it with `release()` or let `using`
 * do it.
 * @example
 * ```ts
 * const g = yield* mutex.lock();
 * try { update(); } finally { g.release(); }
 * // or: using g = yield* mutex.lock();
 * ```
 * @public
 */
export interface MutexGuard extends Disposable {
  /** The mutex this guard is for. */
  readonly mutex: Mutex;
  /** Whether this guard holds the lock now. */
  readonly held: boolean;
  /**
   * Unlock, handing the lock to the first waiter (FIFO). Idempotent: releasing a guard
   * that no longer holds the lock does nothing.
   */
  release(): void;
  /** Same as `release()`. */
  [Symbol.dispose](): void;
}

/**
 * A FIFO-fair mutual exclusion lock for fibers.
 *
 * @remarks
 * Fair: `unlock` hands the lock directly to the fiber that has waited longest, so a
 * fiber that keeps locking cannot barge past waiters (no starvation). Locking a free
 * mutex completes without parking.
 *
 * For `@rioco/debug`: a waiting fiber parks with wait reason `mutex.lock` and the mutex
 * as target; `holder` and `waiters` give fiber ids, so lock-order cycles can be found.
 *
 * @example
 * ```ts
 * const m = new Mutex({ name: 'accounts' });
 * function* transfer(): Operation<void> {
 *   using g = yield* m.lock();
 *   balance -= 10; // no other fiber runs this section at the same time
 * }
 * ```
 * @public
 */
export interface Mutex {
  /** The name given in {@link MutexOptions}, if any. */
  readonly name: string | undefined;
  /** Whether some fiber holds the lock. */
  readonly locked: boolean;
  /** Id of the fiber holding the lock (the one that acquired it), or `undefined`. */
  readonly holder: number | undefined;
  /** Ids of the fibers waiting for the lock, first in line first. */
  readonly waiters: number[];

  /**
   * Acquire the lock, waiting (FIFO) while another fiber holds it.
   *
   * @remarks
   * Cancellation: a fiber cancelled while waiting never ends up holding the lock; one
   * cancelled after the lock was handed to it, before it ran, releases it at once to the
   * next waiter. A guard held in a `using` declaration is released when cancellation
   * unwinds the scope.
   *
   * Not reentrant: locking a mutex the fiber already holds waits forever (the runtime
   * reports the deadlock).
   */
  lock(): Operation<MutexGuard>;
  /** Acquire the lock if it is free right now; `undefined` otherwise. */
  tryLock(): MutexGuard | undefined;
  /**
   * Release the lock held by the current fiber (the explicit form of `guard.release()`).
   * @throws {@link NotOwnerError} (code `NOT_OWNER`) when the mutex is not locked or
   *   another fiber holds it.
   */
  unlock(): void;
}

/**
 * Create a {@link (Mutex:interface)}: `new Mutex({ name })`.
 * @example
 * ```ts
 * const m = new Mutex();
 * using g = yield* m.lock();
 * ```
 * @public
 */
export const Mutex: new (options?: MutexOptions) => Mutex = MutexImpl;
