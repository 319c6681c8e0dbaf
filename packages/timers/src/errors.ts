import { RiocoError } from '@rioco/core';

/**
 * Stable codes of the errors `@rioco/timers` raises (bad input raises core's
 * `InvalidArgumentError`, code `'INVALID_ARGUMENT'`).
 * @public
 */
export type TimersErrorCode = 'TIMEOUT' | 'INTERVAL_STOPPED' | 'INTERVAL_BUSY';

/**
 * An operation run under {@link timeout} or {@link deadline} did not finish in time. By
 * the time it is thrown the operation has been cancelled and its cleanup (`finally`
 * blocks, even ones that wait) has finished, so nothing it held is still held.
 *
 * @example
 * ```ts
 * try {
 *   yield* timeout(1_000, fetchConfig());
 * } catch (err) {
 *   if (err instanceof TimeoutError) useDefaults();
 *   else throw err;
 * }
 * ```
 * @public
 */
export class TimeoutError extends RiocoError {
  /** The deadline that passed, in milliseconds on the runtime clock (see {@link now}). */
  readonly deadline: number;
  /** The time limit given to {@link timeout}; `undefined` for {@link deadline}. */
  readonly ms: number | undefined;
  constructor(deadline: number, ms?: number) {
    super(
      'TIMEOUT',
      ms === undefined
        ? `the deadline (${deadline} ms on the runtime clock) passed before the operation finished; it was cancelled and its cleanup has run`
        : `the operation did not finish within ${ms} ms; it was cancelled and its cleanup has run`,
    );
    this.deadline = deadline;
    this.ms = ms;
  }
}

/**
 * {@link Interval.tick} was called on a stopped interval, or the interval was stopped
 * while a fiber waited for its next tick.
 * @example
 * ```ts
 * const ticker = interval(1_000);
 * ticker.stop();
 * yield* ticker.tick(); // throws IntervalStoppedError (code INTERVAL_STOPPED)
 * ```
 * @public
 */
export class IntervalStoppedError extends RiocoError {
  constructor() {
    super('INTERVAL_STOPPED', 'the interval was stopped; create a new one to keep ticking');
  }
}

/**
 * Two fibers waited for the next tick of the same {@link Interval} at once. An interval
 * has one consumer; give each fiber its own interval.
 * @example
 * ```ts
 * const ticker = interval(1_000);
 * spawn(function* () { yield* ticker.tick(); yield* ticker.tick(); });
 * spawn(function* () { yield* ticker.tick(); }); // may throw IntervalBusyError
 * ```
 * @public
 */
export class IntervalBusyError extends RiocoError {
  constructor() {
    super('INTERVAL_BUSY', 'another fiber is already waiting for the next tick of this interval; give each fiber its own interval');
  }
}
