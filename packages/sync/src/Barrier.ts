import type { Operation } from '@rioco/core';
import type { MutexOptions } from './Mutex.js';
import { Barrier as BarrierImpl } from './internal/barrier.js';

/**
 * A reusable barrier: fibers calling `wait()` park until `parties` of them have arrived,
 * then all continue, and the barrier is ready for the next round.
 *
 * @example
 * ```ts
 * const b = new Barrier(3);
 * for (let i = 0; i < 3; i++) spawn(function* () {
 *   yield* loadPart(i);
 *   const leader = yield* b.wait(); // exactly one of the three gets true
 *   if (leader) console.log('all parts loaded');
 * });
 * ```
 * @public
 */
export interface Barrier {
  /** The name given in the options, if any. */
  readonly name: string | undefined;
  /** How many fibers each round waits for. */
  readonly parties: number;
  /** Fibers parked in the current round. */
  readonly waiting: number;
  /**
   * Arrive and wait for the others of this round. Returns `true` for exactly one fiber
   * per round (the last to arrive, which does not wait), `false` for the others.
   *
   * @remarks
   * Cancellation: a fiber cancelled while waiting withdraws its arrival, so the round
   * still needs `parties` live fibers.
   */
  wait(): Operation<boolean>;
}

/**
 * Create a {@link (Barrier:interface)} for `parties` fibers.
 * @example
 * ```ts
 * const b = new Barrier(2);
 * ```
 * @throws InvalidArgumentError unless `parties` is an integer `>= 1`.
 * @public
 */
export const Barrier: new (parties: number, options?: MutexOptions) => Barrier = BarrierImpl;
