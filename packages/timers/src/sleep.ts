import { timerWait, type Operation } from '@rioco/core';
import { checkDuration, checkInstant, checkRef } from './internal/args.js';

/**
 * Options of {@link sleep} and {@link sleepUntil}.
 * @public
 */
export interface SleepOptions {
  /**
   * `false`: the pending timer does not keep the program alive. A fiber parked only on
   * unref'd timers is a daemon: once the root body has finished and nothing ref'd is
   * pending, the runtime cancels it (its `finally` blocks run) instead of waiting.
   * Default `true`.
   */
  ref?: boolean;
}

/**
 * Park the current fiber for `ms` milliseconds of the runtime's clock.
 *
 * @remarks
 * The time is measured from when the fiber starts waiting (`yield*`), not from when
 * `sleep()` was called, so one `sleep(ms)` value can be reused. All sleeps of a runtime
 * share one timer queue on one host timer. Sleeps due at the same instant wake in the
 * order they started. `sleep(0)` waits for the next turn of the timer queue.
 *
 * Cancelling the fiber removes the timer at once: nothing is left pending and nothing
 * wakes later. Under a `VirtualClock` the sleep returns as soon as every other fiber is
 * parked, with the clock moved to its deadline.
 *
 * @param ms - a finite number of milliseconds, `>= 0`. `Infinity` is rejected: to wait
 *   without a time limit, wait on the event itself.
 * @throws InvalidArgumentError (code `INVALID_ARGUMENT`) at the call for a negative,
 *   `NaN` or infinite `ms`, or bad options.
 * @example
 * ```ts
 * import { run } from '@rioco/core';
 * import { sleep } from '@rioco/timers';
 * await run(function* () {
 *   yield* sleep(250);
 *   console.log('a quarter second later');
 * });
 * ```
 * @public
 */
export function sleep(ms: number, options?: SleepOptions): Operation<void> {
  const d = checkDuration('sleep(ms)', ms);
  const ref = checkRef('sleep', options);
  // A timer wait is stateless (nothing is armed until a fiber `yield*`s it), so one value
  // per duration serves every sleep of that length: most programs sleep for a handful of
  // whole-millisecond durations, and a parked sleep then costs only its timer entry.
  if (ref && Number.isInteger(d)) {
    if (d < SMALL) return (small[d] ??= timerWait(d, { relative: true }));
    let op = others.get(d);
    if (op === undefined) {
      op = timerWait(d, { relative: true });
      if (others.size < MAX_OTHERS) others.set(d, op);
    }
    return op;
  }
  return timerWait(d, { relative: true, ref });
}

/** Whole-millisecond durations below this share one operation each (an array lookup). */
const SMALL = 1_024;
const small: (Operation<void> | undefined)[] = [];
/** Longer whole durations: the first MAX_OTHERS distinct ones seen share theirs. */
const MAX_OTHERS = 256;
const others = new Map<number, Operation<void>>();

/**
 * Park the current fiber until the runtime's clock reads `deadline` (milliseconds, on
 * the clock {@link now} reads). A deadline already passed waits for the next turn of
 * the timer queue. Otherwise like {@link sleep}.
 *
 * @throws InvalidArgumentError (code `INVALID_ARGUMENT`) at the call when `deadline` is
 *   not a finite number.
 * @example
 * ```ts
 * const start = now();
 * for (let i = 1; i <= 3; i++) {
 *   yield* sleepUntil(start + i * 1_000); // no drift, however long each step took
 *   step(i);
 * }
 * ```
 * @public
 */
export function sleepUntil(deadline: number, options?: SleepOptions): Operation<void> {
  return timerWait(checkInstant('sleepUntil(deadline)', deadline), { ref: checkRef('sleepUntil', options) });
}
