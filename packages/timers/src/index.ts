/**
 * Timers for Rioco fibers: {@link sleep}, {@link sleepUntil}, {@link timeout},
 * {@link deadline}, periodic {@link interval}s and the runtime clock ({@link now}).
 *
 * @remarks
 * Every runtime keeps one timer queue on one host timer (in `@rioco/core`, so sibling
 * packages share it); this package is the API over it. All waits are cancelled, with
 * nothing left pending, when their fiber is cancelled. Under the `VirtualClock` of
 * `@rioco/core` time moves only when every fiber is parked and timers are all that is
 * pending, so a test of a ten-minute timeout runs in milliseconds, the same way every
 * time.
 *
 * @packageDocumentation
 */
export { sleep, sleepUntil, type SleepOptions } from './sleep.js';
export { timeout, deadline } from './timeout.js';
export { interval, Interval, type IntervalOptions, type MissedTickBehavior } from './Interval.js';
export { now } from './now.js';
export { TimeoutError, IntervalStoppedError, IntervalBusyError, type TimersErrorCode } from './errors.js';
