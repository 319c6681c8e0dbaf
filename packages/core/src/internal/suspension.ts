/**
 * The one instruction fibers yield. A Suspension is its own iterator and its own
 * iterator-result object, and holds no per-run state, so one value can be yielded by
 * many fibers, many times, and `yield* suspend(...)` allocates exactly one object.
 *
 * Protocol with the scheduler (see runtime.ts `step`):
 * - `yield*` calls `next(undefined)`: we answer `{ done: false, value: this }` (ourself).
 * - the scheduler resumes a parked fiber with `next(RESUMED)` after storing the value
 *   in the shared DONE result; we answer with DONE.
 * - failure is delivered with `throw(err)`, cancellation with `return()`, which
 *   `yield*` forwards here.
 */
import type { WaitReason } from './waitReason.js';
import type { Resume, Teardown } from '../Scheduler.js';

/** Token the scheduler passes to `next()` to finish a suspension. */
export const RESUMED: unique symbol = Symbol('rioco.resumed');

/**
 * One reusable "done" result: `yield*` reads `done` and `value` at once and keeps
 * nothing. The scheduler stores the resume value here right before `next(RESUMED)`.
 */
export const DONE: { done: true; value: unknown } = { done: true, value: undefined };

/**
 * Opaque instruction: a request to park the running fiber.
 * @public
 */
export class Suspension<T> {
  // `done` and `value` (the iterator-result view of this object) live on the prototype:
  // two fields less on every park.
  /** @internal */ declare readonly done: false;
  /** @internal */ declare readonly value: this;
  /** @internal */ readonly register: ((resume: Resume<T>) => Teardown | void) | null;
  /** @internal */ readonly reason: WaitReason;
  /** @internal */ readonly target: object | undefined;
  /** @internal */ readonly external: boolean;
  /** @internal */ readonly reuseResume: boolean;

  /** @internal */
  constructor(
    register: ((resume: Resume<T>) => Teardown | void) | null,
    reason: WaitReason,
    target: object | undefined,
    external: boolean,
    reuseResume = false,
  ) {
    this.register = register;
    this.reason = reason;
    this.target = target;
    this.external = external;
    this.reuseResume = reuseResume;
  }

  /** @internal */
  [Symbol.iterator](): Iterator<Suspension<unknown>, T, unknown> {
    return this;
  }

  /** @internal */
  next(token?: unknown): IteratorResult<Suspension<unknown>, T> {
    if (token === RESUMED) return DONE as IteratorResult<Suspension<unknown>, T>;
    return this;
  }

  /** @internal */
  throw(error: unknown): never {
    throw error;
  }

  /** @internal */
  return(value?: unknown): IteratorResult<Suspension<unknown>, T> {
    return { done: true, value: value as T };
  }
}

Object.defineProperty(Suspension.prototype, 'done', { value: false });
Object.defineProperty(Suspension.prototype, 'value', {
  get(this: Suspension<unknown>) {
    return this;
  },
});
