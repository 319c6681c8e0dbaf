import {
  InvalidArgumentError,
  suspend,
  useScheduler,
  type Operation,
  type Resume,
  type Scheduler,
  type TimerHandle,
} from '@rioco/core';
import { checkDuration, checkInstant, checkRef, show } from './internal/args.js';
import { TICK } from './internal/reasons.js';
import { IntervalBusyError, IntervalStoppedError } from './errors.js';

/**
 * What an {@link Interval} does when ticks were missed because the consumer was busy
 * (the model is tokio's `MissedTickBehavior`). With period `p`, ticks scheduled at
 * 0, p, 2p, … and a consumer that asks for a tick at time `now`, late:
 *
 * - `'burst'` (default): deliver the missed ticks back to back until caught up; the
 *   schedule stays `start + k·p`.
 * - `'delay'`: deliver one late tick now, then restart the schedule from now:
 *   the next ticks are at `now + p`, `now + 2p`, …
 * - `'skip'`: deliver one late tick now, drop the others, and go on with the next
 *   multiple of `p` after now (the schedule stays on `start + k·p`).
 *
 * A tick counts as missed when it is asked for more than 5 ms after it was due (real
 * clock: host timers are that imprecise) or at all after it was due (virtual clock,
 * where timers fire exactly).
 * @public
 */
export type MissedTickBehavior = 'burst' | 'delay' | 'skip';

/**
 * Options of {@link interval}.
 * @public
 */
export interface IntervalOptions {
  /** What to do about missed ticks. Default `'burst'`. */
  missedTick?: MissedTickBehavior;
  /** Time of the first tick on the runtime clock (see {@link now}). Default: now, so the first tick is immediate. */
  start?: number;
  /** `false`: a fiber waiting for a tick does not keep the program alive (see {@link SleepOptions.ref}). Default `true`. */
  ref?: boolean;
}

/** Lateness a real clock's tick may have before it counts as missed (tokio uses 5 ms too). */
const REAL_TOLERANCE_MS = 5;

/**
 * A periodic ticker made by {@link interval}. One fiber consumes it with
 * `yield* ticker.tick()`.
 *
 * @remarks
 * An interval arms a timer only while a fiber waits in `tick()`, so an interval that is
 * dropped without `stop()` leaves nothing behind. `stop()` (or `using`, through
 * `Symbol.dispose`) ends it: a fiber waiting in `tick()` gets
 * {@link IntervalStoppedError}, and so does every later `tick()`. Cancelling the waiting
 * fiber removes its timer; the interval itself stays usable.
 *
 * @example
 * ```ts
 * using ticker = interval(1_000, { missedTick: 'skip' });
 * for (;;) {
 *   yield* ticker.tick();
 *   yield* reportMetrics(); // if this takes 2.5 s, the next tick is on the next whole second
 * }
 * ```
 * @public
 */
export class Interval implements Disposable {
  /** The period in milliseconds. */
  readonly period: number;
  /** The missed-tick behaviour. */
  readonly missedTick: MissedTickBehavior;
  private readonly s: Scheduler;
  private readonly ref: boolean;
  private readonly tolerance: number;
  /** Ticks are at `base + k * period` (multiplied out each time: no drift from adding). */
  private base: number;
  private k = 0;
  private isStopped = false;
  private waiter: Resume<number> | null = null;
  private timer: TimerHandle | null = null;
  private readonly op: Operation<number>;
  private readonly fireFn = (): void => this.fire();
  private readonly teardownFn = (): void => this.teardown();

  /** @internal Use {@link interval}. */
  constructor(s: Scheduler, period: number, missedTick: MissedTickBehavior, start: number, ref: boolean) {
    this.s = s;
    this.period = period;
    this.missedTick = missedTick;
    this.base = start;
    this.ref = ref;
    this.tolerance = s.clock.virtual ? 0 : REAL_TOLERANCE_MS;
    // One Suspension for the interval's lifetime: a tick allocates nothing of its own.
    this.op = suspend<number>((resume) => this.register(resume), { reason: TICK, target: this, internal: true });
  }

  /** Whether {@link Interval.stop} was called. */
  get stopped(): boolean {
    return this.isStopped;
  }

  /**
   * Wait for the next tick and return the time it was scheduled for (on the runtime
   * clock; a late tick returns its scheduled time, not the time it was delivered). A tick
   * already due returns at once (still a scheduling point of the fiber).
   * @throws {@link IntervalStoppedError} after `stop()`; {@link IntervalBusyError} when
   *   another fiber is already waiting on this interval; RiocoError `NO_CURRENT_FIBER`
   *   outside a fiber.
   * @example
   * ```ts
   * const at = yield* ticker.tick();
   * ```
   */
  tick(): Operation<number> {
    return this.op;
  }

  /**
   * Stop the interval: a fiber waiting in `tick()` fails with
   * {@link IntervalStoppedError}, as does every later `tick()`. Idempotent.
   * @example
   * ```ts
   * ticker.stop();
   * ```
   */
  stop(): void {
    if (this.isStopped) return;
    this.isStopped = true;
    const w = this.waiter;
    if (w !== null) {
      this.teardown();
      w.fail(new IntervalStoppedError());
    }
  }

  /** Same as {@link Interval.stop}, for `using`. */
  [Symbol.dispose](): void {
    this.stop();
  }

  private register(resume: Resume<number>): (() => void) | undefined {
    if (this.isStopped) {
      resume.fail(new IntervalStoppedError());
      return undefined;
    }
    if (this.waiter !== null) {
      resume.fail(new IntervalBusyError());
      return undefined;
    }
    const next = this.base + this.k * this.period;
    if (this.s.clock.now() >= next) {
      resume.ok(this.advance());
      return undefined;
    }
    this.waiter = resume;
    this.timer = this.s.setTimer(next, this.fireFn, this.ref ? undefined : { ref: false });
    return this.teardownFn;
  }

  private fire(): void {
    const w = this.waiter as Resume<number>;
    this.waiter = null;
    this.timer = null;
    w.ok(this.advance());
  }

  private teardown(): void {
    this.waiter = null;
    const t = this.timer;
    this.timer = null;
    if (t !== null) t.cancel();
  }

  /** Deliver the due tick: return its scheduled time and move the schedule on. */
  private advance(): number {
    const p = this.period;
    const due = this.base + this.k * p;
    const now = this.s.clock.now();
    if (now <= due + this.tolerance || this.missedTick === 'burst') {
      this.k++;
    } else if (this.missedTick === 'delay') {
      this.base = now;
      this.k = 1;
    } else {
      // skip: the first tick of the schedule strictly after now.
      this.k = Math.floor((now - this.base) / p) + 1;
    }
    return due;
  }
}

/**
 * A periodic ticker with period `ms`: `yield* ticker.tick()` returns at `start`,
 * `start + ms`, `start + 2·ms`, … (the first tick is immediate by default). Unlike
 * `sleep(ms)` in a loop, the time the consumer spends between ticks counts, so ticks do
 * not drift; {@link MissedTickBehavior} says what happens when the consumer falls
 * behind.
 *
 * @param ms - the period: a finite number of milliseconds, `> 0`.
 * @throws InvalidArgumentError (code `INVALID_ARGUMENT`) for a period that is not a
 *   positive finite number, or bad options; RiocoError `NO_CURRENT_FIBER` outside a fiber.
 * @example
 * ```ts
 * import { interval } from '@rioco/timers';
 * using ticker = interval(100);
 * for (let i = 0; i < 10; i++) {
 *   yield* ticker.tick();
 *   sample();
 * }
 * ```
 * @public
 */
export function interval(ms: number, options?: IntervalOptions): Interval {
  checkDuration('interval(ms)', ms);
  if (ms === 0) throw new InvalidArgumentError('interval(ms): the period must be > 0 ms');
  const ref = checkRef('interval', options);
  const missedTick = options?.missedTick ?? 'burst';
  if (missedTick !== 'burst' && missedTick !== 'delay' && missedTick !== 'skip') {
    throw new InvalidArgumentError(`interval option "missedTick" must be 'burst', 'delay' or 'skip', got ${show(missedTick)}`);
  }
  const s = useScheduler();
  const start = options?.start === undefined ? s.clock.now() : checkInstant('interval option "start"', options.start);
  return new Interval(s, ms, missedTick, start, ref);
}
