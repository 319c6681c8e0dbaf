import type { Operation } from '@rioco/core';
import { Semaphore as SemaphoreImpl } from './internal/semaphore.js';

/**
 * Options of {@link (Semaphore:variable)}.
 * @example
 * ```ts
 * const pool = new Semaphore(8, { name: 'db-pool' });
 * ```
 * @public
 */
export interface SemaphoreOptions {
  /** Shown in deadlock reports and dumps (`semaphore.acquire (db-pool)`). */
  name?: string;
}

/**
 * Permits held from a {@link (Semaphore:interface)}. Give them back with `release()` or
 * `using`.
 * @example
 * ```ts
 * const p = yield* sem.acquire(3);
 * p.release(1); // give one back early
 * p.release();  // and the other two
 * ```
 * @public
 */
export interface Permit extends Disposable {
  /** The semaphore the permits come from. */
  readonly semaphore: Semaphore;
  /** How many permits this holds now (what it acquired, minus partial releases). */
  readonly count: number;
  /**
   * Give back `k` permits (default: all it still holds), waking waiters that now fit,
   * first in line first. Releasing with nothing held and no `k` does nothing.
   * @throws {@link OverReleaseError} (code `OVER_RELEASE`) when `k` exceeds `count`;
   *   InvalidArgumentError when `k` is not an integer `>= 0`.
   */
  release(k?: number): void;
  /** Same as `release()`. */
  [Symbol.dispose](): void;
}

/**
 * A fair counting semaphore: at most `permits` units are held at any time.
 *
 * @remarks
 * Strictly first come, first served: a request for n permits waits until n are free and
 * every earlier request was served, so a large request is never starved by small ones.
 * Acquiring when permits are free and nobody waits completes without parking.
 *
 * For `@rioco/debug`: waits park with reason `semaphore.acquire` and the semaphore as
 * target; `holders` and `waiters` give fiber ids.
 *
 * @example
 * ```ts
 * const pool = new Semaphore(4, { name: 'db-pool' });
 * function* query(sql: string): Operation<Row[]> {
 *   using p = yield* pool.acquire();
 *   return yield* db.run(sql); // at most 4 at a time
 * }
 * ```
 * @public
 */
export interface Semaphore {
  /** The name given in {@link SemaphoreOptions}, if any. */
  readonly name: string | undefined;
  /** Total permits. */
  readonly permits: number;
  /** Permits free now. */
  readonly available: number;
  /** Ids of the fibers holding permits (one entry per held {@link Permit}). */
  readonly holders: number[];
  /** Ids of the fibers waiting, first in line first. */
  readonly waiters: number[];

  /**
   * Acquire `n` permits (default 1), waiting in line until they are free.
   *
   * @remarks
   * Cancellation: a fiber cancelled while waiting holds nothing afterwards; one cancelled
   * after its permits were granted, before it ran, gives them back at once.
   * @throws InvalidArgumentError unless `n` is an integer from 1 to `permits`.
   */
  acquire(n?: number): Operation<Permit>;
  /** Acquire `n` permits if they are free and nobody waits; `undefined` otherwise. */
  tryAcquire(n?: number): Permit | undefined;
}

/**
 * Create a {@link (Semaphore:interface)} with `permits` units: `new Semaphore(4)`.
 * @example
 * ```ts
 * const sem = new Semaphore(2);
 * using p = yield* sem.acquire();
 * ```
 * @throws InvalidArgumentError unless `permits` is an integer `>= 1`.
 * @public
 */
export const Semaphore: new (permits: number, options?: SemaphoreOptions) => Semaphore = SemaphoreImpl;
