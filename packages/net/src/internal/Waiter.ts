/**
 * A fiber parked on a socket event, with its timeout and abort signal.
 *
 * Wake-then-take: a Waiter never carries data. The socket side calls `wake()` and the
 * woken fiber takes what it needs from the socket's buffers when it runs. So bytes (or
 * a connection, or a datagram) handed to a fiber that is cancelled between its wake-up
 * and its next step stay where they were, and the next reader gets them.
 *
 * Invariants:
 * - `resume !== null` exactly while a fiber is parked here (between `register` and the
 *   first of wake / fail / teardown); every exit path goes through `clear()`, which
 *   cancels the timer and removes the abort listener, so nothing outlives the wait.
 * - The suspension is created once per Waiter (no allocation per park beyond the
 *   runtime's own resume handle); `deadline` and `signal` are set by the operation just
 *   before it yields the suspension and read by `register`.
 * - The suspension is external (a wake source): only the socket, a timer or a signal
 *   can end it.
 * - With `keepAlive` set (sockets on the native readiness path), the event loop is held
 *   from register to clear: nothing else keeps the process alive while the fiber
 *   waits on such a socket.
 */
import { suspend, type Operation, type Resume, type Scheduler, type TimerHandle, type WaitReason } from '@rioco/core';
import { AbortedError, TimeoutError } from '../errors.js';

export class Waiter {
  resume: Resume<void> | null = null;
  /** Absolute deadline on the scheduler's clock, or Infinity. Set before each park. */
  deadline = Infinity;
  /** Abort signal of the current call, if any. Set before each park. */
  signal: AbortSignal | undefined = undefined;
  scheduler: Scheduler | null = null;
  /** Describes the wait for error messages ("read from 127.0.0.1:7007"); called only on failure. */
  readonly what: () => string;
  /**
   * Unlinks the waiter from the list its owner put it in: called when a park ends other
   * than by `wake()` (cancelled, timed out, aborted, failed), after `clear()`, and by
   * BlockingOp when a call gives up before it parked. Without it an idle listener or a
   * stuck writer would keep one entry per timed-out call until the next wake-up.
   */
  onLeave: (() => void) | null = null;
  /** Held while parked (the native reactor: keeps the event loop alive). */
  keepAlive: { hold(): void; release(): void } | null = null;
  private held = false;
  private timer: TimerHandle | null = null;
  private listening: AbortSignal | null = null;
  readonly op: Operation<void>;

  constructor(reason: WaitReason, target: object, what: () => string) {
    this.what = what;
    this.op = suspend<void>(this.register, { reason, target });
  }

  get parked(): boolean {
    return this.resume !== null;
  }

  private readonly register = (resume: Resume<void>): (() => void) => {
    this.resume = resume;
    const k = this.keepAlive;
    if (k !== null) {
      this.held = true;
      k.hold();
    }
    if (this.deadline !== Infinity) {
      this.timer = (this.scheduler as Scheduler).setTimer(this.deadline, this.onTimeout);
    }
    const s = this.signal;
    if (s !== undefined) {
      this.listening = s;
      s.addEventListener('abort', this.onAbort);
    }
    return this.teardown;
  };

  private readonly teardown = (): void => {
    this.clear();
    this.onLeave?.();
  };

  private readonly onTimeout = (): void => {
    this.timer = null;
    this.fail(timeoutError(this.what()));
  };

  private readonly onAbort = (): void => {
    const s = this.listening;
    this.fail(abortedError(this.what(), s));
  };

  /** Wake the parked fiber (it re-checks its condition when it runs). */
  wake(): void {
    const r = this.resume;
    if (r === null) return;
    this.clear();
    r.ok(undefined);
  }

  /** Throw `err` at the parked fiber. */
  fail(err: unknown): void {
    const r = this.resume;
    if (r === null) return;
    this.clear();
    this.onLeave?.();
    r.fail(err);
  }

  private clear(): void {
    this.resume = null;
    if (this.held) {
      this.held = false;
      (this.keepAlive as { release(): void }).release();
    }
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    if (this.listening !== null) {
      this.listening.removeEventListener('abort', this.onAbort);
      this.listening = null;
    }
  }
}

/** Wake the first fiber of `list` still parked (dropping the ones that left); FIFO. */
export function wakeFirst(list: Waiter[]): void {
  while (list.length > 0) {
    const w = list.shift() as Waiter;
    if (w.parked) {
      w.wake();
      return;
    }
  }
}

export function timeoutError(what: string): TimeoutError {
  return new TimeoutError(`${what} timed out`);
}

export function abortedError(what: string, signal: AbortSignal | null | undefined): AbortedError {
  return new AbortedError(`${what} was aborted`, { cause: signal?.reason });
}
