/**
 * The driver behind timeout() and deadline(): it runs the operation in the caller's own
 * fiber (no child fiber, no extra join) by standing between the operation's iterator and
 * the `yield*` that consumes the driver, and forwarding every instruction.
 *
 * How a wait is bounded: each Suspension the operation yields is re-yielded as a wrapper
 * with the same reason, target and wake-source kind, whose `register` registers the
 * operation's own Suspension with a ParkResume proxy. The driver keeps the runtime's
 * resume (`real`) and the operation's teardown (`innerTd`). When the deadline timer fires
 * while the fiber is parked there, the driver resumes the fiber with a private token (the
 * driver itself, thrown at the suspension point, which `yield*` routes straight back to
 * this driver's `throw`) and tears the operation's wait down; then it calls `return()` on
 * the operation, forwards every wait its `finally` blocks make, and throws TimeoutError
 * only once the operation's iterator is done.
 *
 * Phases:
 *   RUN     the operation runs; its waits are interruptible by the deadline.
 *   STOP    the deadline passed: the operation's cleanup runs. Its waits are wrapped with
 *           a shield: if the fiber is cancelled meanwhile (the runtime tears our wrapper
 *           down and delivers `return()`), the operation's wait stays registered, and the
 *           driver parks the fiber again on a redirect until that wait completes, so the
 *           cleanup still runs to its end with the real result of its wait.
 *   UNWIND  the fiber itself was cancelled (our `return()`): the operation's cleanup runs
 *           with its waits forwarded unwrapped; the runtime does not cancel a fiber twice.
 *   DONE    the operation's iterator finished; the driver holds nothing.
 *
 * Invariants:
 * - `epoch` changes whenever a wrapped wait ends (resumed, torn down, interrupted); a
 *   ParkResume acts only if its epoch is current, so a late or duplicate resume from the
 *   operation's code can never leak into a later wait.
 * - `real !== null` exactly while the fiber is parked on a wrapper of ours and that park
 *   has not ended; a STOP-phase wait whose park was torn down keeps `waiting` set and its
 *   result goes to `stash` until the redirect park delivers it.
 * - The deadline timer is armed when the operation first yields (an operation that ends
 *   without waiting costs no timer), before that wait registers; it is pending only in
 *   RUN; `finish()` and `return()` cancel it.
 * - Ties: the deadline is armed before the operation's first wait, and every timer due at an
 *   instant fires before any fiber it wakes runs, so a result another fiber or a later
 *   timer produces at the deadline instant loses to the deadline. A result already handed
 *   to the operation is never dropped: the operation then stops at its next wait, or
 *   returns normally if it does not wait again. A wait that completes synchronously when
 *   registered wins even after the deadline, unless the deadline timer already fired.
 */
import {
  CancelledError,
  Suspension,
  suspend,
  type Instruction,
  type Resume,
  type Scheduler,
  type TimerHandle,
} from '@rioco/core';
import { TimeoutError } from '../errors.js';

const NEXT = 0;
const THROW = 1;
const RETURN = 2;

const RUN = 0;
const STOP = 1;
const UNWIND = 2;
const DONE = 3;

type AnyIterator = Iterator<unknown, unknown, unknown>;
/** What a registration may return (core's Teardown), or nothing. */
type Teardown = (() => void) | { cancel(): void } | void | undefined;

/** Undo a wait with whatever its registration returned. */
function runTeardown(td: Teardown): void {
  if (typeof td === 'function') td();
  else if (td !== undefined && td !== null) td.cancel();
}

class ParkResume implements Resume<unknown> {
  private readonly d: DeadlineDriver<unknown>;
  private readonly epoch: number;
  constructor(d: DeadlineDriver<unknown>, epoch: number) {
    this.d = d;
    this.epoch = epoch;
  }
  ok(value: unknown): void {
    this.d.settle(this.epoch, NEXT, value);
  }
  fail(error: unknown): void {
    this.d.settle(this.epoch, THROW, error);
  }
}

export class DeadlineDriver<T> implements Iterator<Instruction, T, unknown> {
  private readonly s: Scheduler;
  private readonly at: number;
  private readonly ms: number | undefined;
  private it: AnyIterator | null;
  private timer: TimerHandle | null;
  private phase = RUN;
  private fired = false;
  private epoch = 0;
  private real: Resume<unknown> | null = null;
  private innerTd: Teardown = undefined;
  /** The operation's Suspension being registered (set just before the park, read by register). */
  private pending: Suspension<unknown> | null = null;
  /** The operation's Suspension of the current STOP-phase wait (for the redirect's reason). */
  private current: Suspension<unknown> | null = null;
  /** STOP: a wait of the operation's cleanup whose result has not reached it yet. */
  private waiting = false;
  private stashed = false;
  private stashMode = NEXT;
  private stashValue: unknown = undefined;
  /** The fiber was cancelled: finish the operation's cleanup, then complete the return. */
  private returning = false;
  private returnValue: unknown = undefined;
  /** A teardown of the operation's wait threw while the deadline interrupted it. */
  private tdError: unknown = undefined;
  private tdFailed = false;
  /** One result object for every wrapped instruction (`yield*` reads it at once). */
  private readonly out: { done: false; value: Instruction } = { done: false, value: undefined as unknown as Instruction };
  // Callbacks handed to the runtime, made on first use: an operation that finishes
  // without waiting costs no timer and no closure.
  private registerFn: ((resume: Resume<unknown>) => Teardown) | null = null;
  private teardownFn: (() => void) | null = null;
  private shieldFn: (() => void) | null = null;

  constructor(s: Scheduler, at: number, ms: number | undefined, it: AnyIterator) {
    this.s = s;
    this.at = at;
    this.ms = ms;
    this.it = it;
    this.timer = null;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(value?: unknown): IteratorResult<Instruction, T> {
    if (this.phase === STOP) this.delivered();
    return this.step(NEXT, value);
  }

  throw(error: unknown): IteratorResult<Instruction, T> {
    if (error === this && this.phase === RUN) {
      // Our deadline interrupted the wait: stop the operation where it is parked.
      this.phase = STOP;
      return this.step(RETURN, undefined);
    }
    if (this.phase === STOP) this.delivered();
    return this.step(THROW, error);
  }

  return(value?: unknown): IteratorResult<Instruction, T> {
    this.cancelTimer();
    if (this.phase === DONE) return { done: true, value: value as T };
    this.returning = true;
    this.returnValue = value;
    if (this.phase === STOP) {
      if (this.waiting) {
        // The cleanup's wait is still registered (or its result is stashed): park again
        // until it completes, so the cleanup goes on with its real result.
        const c = this.current as Suspension<unknown>;
        const redirect = (resume: Resume<unknown>): Teardown => this.redirect(resume);
        this.out.value = suspend(redirect, { reason: c.reason, target: c.target, internal: !c.external }) as Instruction;
        return this.out;
      }
      // Parked on a yieldNow of the cleanup: just go on with it.
      return this.step(NEXT, undefined);
    }
    this.phase = UNWIND;
    return this.step(RETURN, value);
  }

  /** Called by a ParkResume: the operation's wait completed. */
  settle(epoch: number, mode: number, value: unknown): void {
    if (epoch !== this.epoch) return;
    this.epoch++;
    this.innerTd = undefined;
    const real = this.real;
    this.real = null;
    if (this.phase === STOP) {
      this.stashed = true;
      this.stashMode = mode;
      this.stashValue = value;
    }
    if (real === null) return; // orphaned shielded wait: the redirect picks the stash up
    if (mode === NEXT) real.ok(value);
    else real.fail(value);
  }

  // ---- internals ----------------------------------------------------------------------

  private step(mode: number, arg: unknown): IteratorResult<Instruction, T> {
    const it = this.it as AnyIterator;
    let r: IteratorResult<unknown, unknown>;
    try {
      if (mode === NEXT) r = it.next(arg);
      else if (mode === THROW) {
        if (typeof it.throw !== 'function') throw arg;
        r = it.throw(arg);
      } else r = typeof it.return === 'function' ? it.return(arg) : { done: true, value: arg };
    } catch (e) {
      const stopped = this.phase === STOP && !this.returning;
      this.finish();
      // An operation whose cleanup had to wait may end its unwinding by throwing
      // CancelledError (see Condvar.wait): from a stop of ours, that is the timeout.
      if (stopped && e instanceof CancelledError && !this.tdFailed) throw new TimeoutError(this.at, this.ms);
      throw e;
    }
    if (r.done === true) {
      const timedOut = this.phase === STOP;
      this.finish();
      if (this.returning) return { done: true, value: this.returnValue as T };
      if (this.tdFailed) throw this.tdError;
      if (timedOut) throw new TimeoutError(this.at, this.ms);
      return r as IteratorResult<Instruction, T>;
    }
    return this.forward(r);
  }

  private forward(r: IteratorYieldResult<unknown>): IteratorResult<Instruction, T> {
    const instr = r.value;
    if (this.returning || this.phase === UNWIND) return r as IteratorResult<Instruction, T>;
    if (this.phase === RUN && this.timer === null && !this.fired) {
      // The operation is about to wait (or yield): now the deadline needs its timer,
      // armed before the wait registers so it is older than any timer the wait sets.
      this.timer = this.s.setTimer(this.at, () => this.fire());
    }
    if (this.phase === RUN && this.fired) {
      // The deadline fired while the fiber was running: stop at this wait, unregistered.
      this.phase = STOP;
      return this.step(RETURN, undefined);
    }
    if (!(instr instanceof Suspension) || instr.register === null) {
      // yieldNow (or a bad yield, which the runtime rejects): nothing to bound.
      return r as IteratorResult<Instruction, T>;
    }
    this.pending = instr;
    this.out.value = suspend((this.registerFn ??= (resume) => this.register(resume)), {
      reason: instr.reason,
      target: instr.target,
      internal: !instr.external,
    }) as Instruction;
    return this.out;
  }

  private register(resume: Resume<unknown>): Teardown {
    const instr = this.pending as Suspension<unknown>;
    this.pending = null;
    const epoch = ++this.epoch;
    this.real = resume;
    let td: Teardown;
    try {
      td = (instr.register as (r: Resume<unknown>) => Teardown)(new ParkResume(this, epoch));
    } catch (e) {
      if (this.epoch === epoch) {
        this.epoch++;
        this.real = null;
      }
      throw e;
    }
    if (this.epoch !== epoch) return undefined; // completed synchronously: it wins
    this.innerTd = td;
    if (this.phase === STOP) {
      this.current = instr;
      this.waiting = true;
      this.stashed = false;
      return (this.shieldFn ??= () => this.shield());
    }
    if (this.s.clock.now() >= this.at) {
      // It would block and the deadline has passed (its timer has not fired yet).
      this.interrupt();
      return undefined;
    }
    return (this.teardownFn ??= () => this.teardown());
  }

  /** The runtime tore our wrapper down (RUN: the fiber is cancelled): drop the operation's wait. */
  private teardown(): void {
    this.epoch++;
    this.real = null;
    const td = this.innerTd;
    this.innerTd = undefined;
    runTeardown(td);
  }

  /** STOP: the fiber is cancelled while the cleanup waits; keep that wait, lose only our park. */
  private shield(): void {
    this.real = null;
  }

  /** STOP, after `return()`: the fiber parks here until the cleanup's wait completes. */
  private redirect(resume: Resume<unknown>): Teardown {
    if (this.stashed) {
      const mode = this.stashMode;
      const value = this.stashValue;
      this.delivered();
      if (mode === NEXT) resume.ok(value);
      else resume.fail(value);
      return undefined;
    }
    this.real = resume;
    return (this.shieldFn ??= () => this.shield());
  }

  /** The cleanup's wait result reached the operation (through the runtime's resume slot). */
  private delivered(): void {
    this.waiting = false;
    this.stashed = false;
    this.stashValue = undefined;
  }

  private fire(): void {
    this.timer = null;
    this.fired = true;
    if (this.phase === RUN && this.real !== null) this.interrupt();
  }

  /** Wake the fiber with our token and tear the operation's wait down. */
  private interrupt(): void {
    const real = this.real as Resume<unknown>;
    this.real = null;
    this.epoch++;
    this.fired = true;
    this.cancelTimer();
    const td = this.innerTd;
    this.innerTd = undefined;
    real.fail(this);
    if (td !== undefined && td !== null) {
      try {
        runTeardown(td);
      } catch (e) {
        if (!this.tdFailed) {
          this.tdFailed = true;
          this.tdError = e;
        }
      }
    }
  }

  private cancelTimer(): void {
    const t = this.timer;
    if (t !== null) {
      this.timer = null;
      t.cancel();
    }
  }

  private finish(): void {
    this.cancelTimer();
    this.phase = DONE;
    this.it = null;
    this.real = null;
    this.innerTd = undefined;
    this.current = null;
    this.stashValue = undefined;
  }
}
