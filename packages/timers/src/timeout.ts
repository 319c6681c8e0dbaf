import { InvalidArgumentError, useScheduler, type Instruction, type Operation } from '@rioco/core';
import { checkDuration, checkInstant, show } from './internal/args.js';
import { DeadlineDriver } from './internal/deadlineDriver.js';

/** What {@link timeout} and {@link deadline} bound: an operation, or a function that starts one. */
type Bounded<T> = Operation<T> | (() => Operation<T>);

class Bound<T> implements Operation<T> {
  private readonly t: number;
  private readonly relative: boolean;
  private readonly op: Bounded<T>;
  constructor(t: number, relative: boolean, op: Bounded<T>) {
    this.t = t;
    this.relative = relative;
    this.op = op;
  }
  [Symbol.iterator](): Iterator<Instruction, T, unknown> {
    const s = useScheduler();
    const at = this.relative ? s.clock.now() + this.t : this.t;
    const op = this.op;
    const started = typeof op === 'function' ? op() : op;
    if (started === null || typeof started !== 'object' || typeof started[Symbol.iterator] !== 'function') {
      throw new InvalidArgumentError(`the function given to timeout()/deadline() returned ${show(started)}, not an operation`);
    }
    return new DeadlineDriver<T>(s, at, this.relative ? this.t : undefined, started[Symbol.iterator]());
  }
}

function checkOp(what: string, op: unknown): void {
  if (typeof op === 'function') return;
  if (op !== null && typeof op === 'object' && typeof (op as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') return;
  throw new InvalidArgumentError(`${what} expects an operation (a generator object such as work(), or a generator function), got ${show(op)}`);
}

/**
 * Run `op` in the current fiber, but give up after `ms` milliseconds: the operation is
 * cancelled where it waits, its cleanup runs to the end, and then {@link TimeoutError}
 * (code `'TIMEOUT'`) is thrown.
 *
 * @remarks
 * The operation runs in the caller's fiber, not in a child: it sees the same fiber-locals
 * and `currentFiber()`, and costs one timer, not a fiber. To the operation a timeout looks
 * exactly like cancellation: `finally` blocks run (and may `yield*`, even past the
 * deadline), `catch` blocks do not see it. When TimeoutError reaches the caller, that
 * cleanup has finished: nothing the operation held is still held. Its own errors, and an
 * error its cleanup throws, propagate unchanged.
 *
 * Results at the deadline, deterministic under a `VirtualClock`: the deadline wins over
 * a result that another fiber, or a timer set after the operation first waited, produces
 * at the same instant, since timers due at an instant fire in the order they were set and
 * all before the fibers they wake run. A result already
 * delivered to the operation is never dropped: the operation then stops at its next wait
 * (or returns normally if it has none). A wait that is satisfied at once (a ready
 * channel, a free lock) still succeeds just after the deadline until the deadline's own
 * timer has fired.
 *
 * The time is measured from when the fiber starts waiting (`yield*`). If the fiber
 * itself is cancelled, the operation is cancelled with it and no TimeoutError is thrown.
 * Bounding a join (`timeout(ms, task)`) gives up the waiting, not the task: cancel the
 * task yourself if it should stop too.
 *
 * @param ms - a finite number of milliseconds, `>= 0`.
 * @param op - the operation, or a function that starts it (then the returned value can
 *   be run more than once).
 * @throws {@link TimeoutError} when the time is up; InvalidArgumentError (code
 *   `INVALID_ARGUMENT`) at the call for a bad `ms` or `op`.
 * @example
 * ```ts
 * try {
 *   const reply = yield* timeout(2_000, conn.read());
 *   handle(reply);
 * } catch (err) {
 *   if (!(err instanceof TimeoutError)) throw err;
 *   console.log('no reply in 2 s; the read was cancelled');
 * }
 * ```
 * @public
 */
export function timeout<T>(ms: number, op: Operation<T> | (() => Operation<T>)): Operation<T> {
  checkDuration('timeout(ms)', ms);
  checkOp('timeout(ms, op)', op);
  return new Bound(ms, true, op);
}

/**
 * Like {@link timeout}, with an absolute deadline on the runtime clock (see {@link now}):
 * handy to share one deadline between several steps.
 *
 * @throws {@link TimeoutError} (with `ms` undefined) when the deadline passes;
 *   InvalidArgumentError (code `INVALID_ARGUMENT`) at the call for a non-finite `at` or a
 *   bad `op`.
 * @example
 * ```ts
 * const by = now() + 5_000;          // the whole exchange gets five seconds
 * yield* deadline(by, conn.write(request));
 * const reply = yield* deadline(by, conn.read());
 * ```
 * @public
 */
export function deadline<T>(at: number, op: Operation<T> | (() => Operation<T>)): Operation<T> {
  checkInstant('deadline(at)', at);
  checkOp('deadline(at, op)', op);
  return new Bound(at, false, op);
}
