import { InvalidArgumentError } from './errors.js';

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

/** Longest delay a host `setTimeout` takes: Node turns anything longer into 1 ms. */
const MAX_HOST_DELAY = 2 ** 31 - 1;
/** `RESOLVED.then(f)` queues a microtask without the AsyncResource `queueMicrotask` makes. */
const RESOLVED = Promise.resolve();

/**
 * The default clock: `performance.now()` and one host `setTimeout`.
 *
 * @remarks
 * `arm` only records the wanted deadline; one microtask per burst of calls applies the
 * last one to the host timer. A timer added and cancelled in the same run of fibers (a
 * `timeout()` around work that finishes at once) never touches the host timer, and a
 * burst of sleeps re-arms it once, not once per new earliest deadline. Deferring to a
 * microtask is safe: no host timer can fire before the microtask queue is empty.
 *
 * The host timer may fire a little before `at` on this clock (Node's timers count whole
 * milliseconds of a cached loop time), and a far deadline is reached in steps of at most
 * 2^31-1 ms; both are harmless because the runtime re-arms for whatever is still pending
 * each time the host timer fires. A deadline less than a millisecond away is armed with
 * `setImmediate` instead (Node's shortest `setTimeout` is 1 ms of that cached time, which
 * made such a sleep wake up to 2 ms late): the loop checks again after its next poll,
 * so a sleep wakes within a fraction of a millisecond of its deadline, never before it.
 *
 * @example
 * ```ts
 * await run(main, { clock: new RealClock() }); // the default
 * ```
 * @public
 */
export class RealClock implements Clock {
  readonly virtual = false;
  /** What the host timer is set to (`handle` undefined: nothing); an Immediate below 1 ms. */
  private handle: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
  private immediate = false;
  private armedAt = Infinity;
  private armedRef = true;
  /** What the runtime asked for last; applied by `apply`. */
  private wantAt: number | null = null;
  private wantRef = true;
  private fire: (() => void) | null = null;
  private applyQueued = false;
  private readonly apply = (): void => {
    this.applyQueued = false;
    this.sync();
  };
  // One bound callback for the clock's lifetime: re-arming allocates only the host timer.
  private readonly onHostTimer = (): void => {
    // Forget the fired handle first: `fire` re-arms from inside, and must not mistake the
    // spent timer for a live one (that would leave an early wake-up with nothing armed).
    this.handle = undefined;
    this.armedAt = Infinity;
    const f = this.fire;
    if (f !== null) f();
  };

  now(): number {
    return performance.now();
  }

  arm(at: number | null, fire: () => void, ref: boolean): void {
    this.wantAt = at;
    this.wantRef = ref;
    this.fire = fire;
    if (!this.applyQueued) {
      this.applyQueued = true;
      void RESOLVED.then(this.apply);
    }
  }

  /** Make the host timer match the last request. */
  private sync(): void {
    const at = this.wantAt;
    const ref = this.wantRef;
    const h0 = this.handle;
    if (at === null) {
      if (h0 !== undefined) this.clearHost(h0);
      this.handle = undefined;
      this.armedAt = Infinity;
      this.fire = null;
      return;
    }
    if (h0 !== undefined) {
      if (at === this.armedAt) {
        if (ref !== this.armedRef) {
          this.armedRef = ref;
          if (ref) h0.ref();
          else h0.unref();
        }
        return;
      }
      this.clearHost(h0);
    }
    this.armedAt = at;
    this.armedRef = ref;
    const delay = at - performance.now();
    let h: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate>;
    if (delay < 1) {
      this.immediate = true;
      h = setImmediate(this.onHostTimer);
    } else {
      this.immediate = false;
      h = setTimeout(this.onHostTimer, delay > MAX_HOST_DELAY ? MAX_HOST_DELAY : Math.ceil(delay));
    }
    if (!ref) h.unref();
    this.handle = h;
  }

  private clearHost(h: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate>): void {
    if (this.immediate) clearImmediate(h as ReturnType<typeof setImmediate>);
    else clearTimeout(h as ReturnType<typeof setTimeout>);
  }
}

/**
 * A clock for tests: starts at `start` (default 0) and moves only when the runtime is
 * idle with timers pending, straight to the next deadline.
 *
 * @remarks
 * "Idle" means every fiber is parked and nothing but timers can wake one: while a fiber
 * waits on a promise, a socket or a callback, virtual time stands still. Due timers
 * fire in deadline order, equal deadlines in the order they were set. A deadline that
 * is not finite is never reached.
 *
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
    if (typeof start !== 'number' || !Number.isFinite(start)) {
      throw new InvalidArgumentError(`VirtualClock start must be a finite number of ms, got ${String(start)}`);
    }
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  arm(): void {
    // Nothing to arm: the runtime advances a virtual clock itself when it goes idle.
  }
  advanceTo(at: number): void {
    // Never backwards, and never to infinity: that would end time for the whole runtime.
    if (at > this.t && at !== Infinity) this.t = at;
  }
}
