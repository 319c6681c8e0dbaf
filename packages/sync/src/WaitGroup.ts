import type { Operation } from '@rioco/core';
import type { MutexOptions } from './Mutex.js';
import { WaitGroup as WaitGroupImpl } from './internal/waitgroup.js';

/**
 * A counter of outstanding work that fibers can wait on to reach zero (Go's
 * `sync.WaitGroup`). Useful when the work is not a set of child fibers (for those,
 * joining the tasks is simpler).
 *
 * @example
 * ```ts
 * const wg = new WaitGroup();
 * for (const url of urls) {
 *   wg.add();
 *   queue.trySend({ url, done: () => wg.done() });
 * }
 * yield* wg.wait(); // every request was handled
 * ```
 * @public
 */
export interface WaitGroup {
  /** The name given in the options, if any. */
  readonly name: string | undefined;
  /** The counter now. */
  readonly count: number;
  /**
   * Add `delta` (default 1, may be negative) to the counter; reaching zero wakes every
   * waiter.
   * @throws {@link NegativeCountError} (code `NEGATIVE_COUNT`) if the counter would drop
   *   below zero (nothing changes); InvalidArgumentError if `delta` is not an integer.
   */
  add(delta?: number): void;
  /** `add(-1)`. */
  done(): void;
  /**
   * Wait until the counter is zero (returns at once if it is). Cancellation leaves
   * nothing behind.
   */
  wait(): Operation<void>;
}

/**
 * Create a {@link (WaitGroup:interface)} with a counter of zero.
 * @example
 * ```ts
 * const wg = new WaitGroup();
 * wg.add(2);
 * ```
 * @public
 */
export const WaitGroup: new (options?: MutexOptions) => WaitGroup = WaitGroupImpl;
