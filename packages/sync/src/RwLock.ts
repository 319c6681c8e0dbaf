import type { Operation } from '@rioco/core';
import type { MutexOptions } from './Mutex.js';
import { RwLock as RwLockImpl } from './internal/rwlock.js';

/**
 * Proof of holding a {@link (RwLock:interface)} for reading or writing. Release it with
 * `release()` or `using`.
 * @example
 * ```ts
 * using r = yield* lock.read();
 * console.log(r.write); // false
 * ```
 * @public
 */
export interface RwLockGuard extends Disposable {
  /** The lock this guard is for. */
  readonly lock: RwLock;
  /** `true` for a write guard, `false` for a read guard. */
  readonly write: boolean;
  /** Whether this guard holds the lock now. */
  readonly held: boolean;
  /** Release (idempotent), admitting the next writer or the next batch of readers. */
  release(): void;
  /** Same as `release()`. */
  [Symbol.dispose](): void;
}

/**
 * A reader-writer lock for fibers: many readers or one writer.
 *
 * @remarks
 * Writer-preferring without starving anyone: a reader that arrives while a writer waits
 * queues behind that writer (so a stream of readers cannot starve writers), and the
 * readers queued behind a writer are admitted together as soon as it releases (so
 * writers cannot starve readers either). Acquiring a free lock completes without parking.
 * Read locks are not recursive: a fiber that holds a read guard and asks for another can
 * wait forever behind a queued writer (as with Go's `RWMutex`); the runtime then reports
 * the deadlock.
 *
 * For `@rioco/debug`: waits park with reason `rwlock.read` / `rwlock.write` and the lock
 * as target; `holders` and `waiters` give fiber ids.
 *
 * @example
 * ```ts
 * const cache = new RwLock({ name: 'cache' });
 * function* lookup(k: string): Operation<string | undefined> {
 *   using r = yield* cache.read();
 *   return table.get(k);
 * }
 * function* store(k: string, v: string): Operation<void> {
 *   using w = yield* cache.write();
 *   table.set(k, v);
 * }
 * ```
 * @public
 */
export interface RwLock {
  /** The name given in the options, if any. */
  readonly name: string | undefined;
  /** Number of read guards holding the lock now. */
  readonly readers: number;
  /** Whether a writer holds the lock. */
  readonly writeLocked: boolean;
  /** Ids of the fibers holding the lock: every reader, or the writer. */
  readonly holders: number[];
  /** Ids of the fibers waiting, first in line first. */
  readonly waiters: number[];

  /**
   * Acquire for reading; waits while a writer holds the lock or is waiting for it.
   *
   * @remarks
   * Cancellation: a fiber cancelled while waiting never ends up holding the lock; one
   * cancelled after it was admitted, before it ran, releases at once.
   */
  read(): Operation<RwLockGuard>;
  /**
   * Acquire for writing; waits while anyone holds the lock or an earlier waiter is queued.
   * Same cancellation guarantee as {@link (RwLock:interface).read}.
   */
  write(): Operation<RwLockGuard>;
  /** Acquire for reading if that is possible right now; `undefined` otherwise. */
  tryRead(): RwLockGuard | undefined;
  /** Acquire for writing if that is possible right now; `undefined` otherwise. */
  tryWrite(): RwLockGuard | undefined;
}

/**
 * Create a {@link (RwLock:interface)}: `new RwLock({ name })`.
 * @example
 * ```ts
 * const lock = new RwLock();
 * using r = yield* lock.read();
 * ```
 * @public
 */
export const RwLock: new (options?: MutexOptions) => RwLock = RwLockImpl;
