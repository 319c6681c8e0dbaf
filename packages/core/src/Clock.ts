/**
 * A source of time for a runtime. The scheduler keeps one timer queue per runtime and
 * asks its clock for a single host wake-up at the earliest deadline.
 *
 * @remarks
 * Two clocks ship: the real one (monotonic `performance.now()`, one host `setTimeout`)
 * and {@link VirtualClock}, whose time moves only when every fiber is parked and timers
 * are all that is pending (like Trio's autojump clock or Go's synctest), so a test of a
 * ten-minute timeout runs in milliseconds and the same way every time.
 *
 * @example
 * ```ts
 * await run(function* () { yield* sleep(600_000); }, { clock: new VirtualClock() });
 * ```
 * @public
 */
export interface Clock {
  /** `true` for a clock that only moves when the runtime is idle. */
  readonly virtual: boolean;
  /** Milliseconds, monotonic. */
  now(): number;
  /**
   * Arrange one call of `fire` at (or after) `at`, replacing the previous arrangement;
   * `null` cancels it. `ref` says whether the host wake-up keeps the process alive.
   */
  arm(at: number | null, fire: () => void, ref: boolean): void;
  /** Virtual clocks: jump to `at` (never backwards). Real clocks ignore it. */
  advanceTo?(at: number): void;
}

/**
 * The default clock: `performance.now()` and one host `setTimeout`.
 * @example
 * ```ts
 * await run(main, { clock: new RealClock() }); // the default
 * ```
 * @public
 */
export class RealClock implements Clock {
  readonly virtual = false;
  private handle: ReturnType<typeof setTimeout> | undefined;
  private armedAt = Infinity;
  private armedRef = true;

  now(): number {
    return performance.now();
  }

  arm(at: number | null, fire: () => void, ref: boolean): void {
    if (at === null) {
      if (this.handle !== undefined) clearTimeout(this.handle);
      this.handle = undefined;
      this.armedAt = Infinity;
      return;
    }
    if (this.handle !== undefined) {
      if (at === this.armedAt && ref === this.armedRef) return;
      clearTimeout(this.handle);
    }
    this.armedAt = at;
    this.armedRef = ref;
    const h = setTimeout(fire, Math.max(0, Math.ceil(at - performance.now())));
    if (!ref) h.unref();
    this.handle = h;
  }
}

/**
 * A clock for tests: starts at `start` (default 0) and moves only when the runtime is
 * idle with timers pending, straight to the next deadline.
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * await run(function* () { yield* sleep(3_600_000); }, { clock }); // returns at once
 * clock.now(); // 3600000
 * ```
 * @public
 */
export class VirtualClock implements Clock {
  readonly virtual = true;
  private t: number;
  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  arm(): void {
    // Nothing to arm: the runtime advances a virtual clock itself when it goes idle.
  }
  advanceTo(at: number): void {
    if (at > this.t) this.t = at;
  }
}
