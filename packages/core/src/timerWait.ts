import type { Operation } from './Operation.js';
import { invalid } from './errors.js';
import { TimerWaitOp } from './internal/runtime.js';

/**
 * Options of {@link timerWait}.
 * @public
 */
export interface TimerWaitOptions {
  /** `time` is a delay in ms from when the wait starts (`yield*`), not a deadline. Default `false`. */
  relative?: boolean;
  /**
   * `false`: the pending wait does not keep the program alive (a daemon wait, see
   * {@link Scheduler.holdWakeSource}). Default `true`.
   */
  ref?: boolean;
}

/**
 * An operation that parks the fiber running it until the runtime's clock reads `time`
 * (or, with `relative`, until `time` ms after the wait starts) — the primitive
 * `@rioco/timers` builds `sleep` on, for framework authors.
 *
 * @remarks
 * A parked timer wait is one entry in the runtime's timer queue that resumes the fiber
 * itself: no closure, no resume handle, no callback. Cancelling the fiber removes the
 * entry at once. The value is stateless: one `timerWait(…)` can be run by many fibers,
 * at once or in turn. Under a {@link VirtualClock} the clock jumps to the deadline when
 * nothing else can run. Equal deadlines wake in the order their waits started.
 *
 * @example
 * ```ts
 * const tick = timerWait(100, { relative: true });
 * for (;;) { yield* tick; poll(); }
 * ```
 * @throws {@link InvalidArgumentError} for a `time` that is not a finite number (or a
 *   negative delay).
 * @public
 */
export function timerWait(time: number, options?: TimerWaitOptions): Operation<void> {
  const relative = options?.relative === true;
  if (typeof time !== 'number' || !Number.isFinite(time) || (relative && time < 0)) {
    throw invalid(`timerWait needs a finite ${relative ? 'delay >= 0' : 'deadline'} in milliseconds, got ${String(time)}`);
  }
  return new TimerWaitOp(time, relative, options?.ref !== false);
}
